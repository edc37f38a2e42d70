"""A build stopped part-way — cancelled (SIGTERM) or killed outright (SIGKILL) — never leaves a half site.

The build runs as a real process, as CI runs it; the signal arrives while the site is being rendered
into its staging folder, the one moment a half-written site could exist.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workspace_factory import write_workspace

pytestmark = [pytest.mark.slow, pytest.mark.skipif(os.name != "posix", reason="POSIX signals")]


def tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def build_command(ws: Path, out: Path) -> list[str]:
    return [sys.executable, "-m", "modelgov", "build", str(ws), "--out", str(out)]


def start_and_signal_while_rendering(ws: Path, out: Path, signum: int) -> subprocess.Popen[str]:
    """Start a build and send ``signum`` once it is rendering (the workspace makes that take seconds)."""
    process = subprocess.Popen(build_command(ws, out), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    for line in process.stderr:  # progress lines
        if "Rendering site" in line:
            break
    else:
        pytest.fail(f"the build ended before rendering: {process.communicate()}")
    time.sleep(0.5)
    assert process.poll() is None, "the build finished before it could be interrupted"
    process.send_signal(signum)
    return process


REPO = Path(__file__).resolve().parents[1]


def slow_to_render(ws: Path) -> None:
    """A workspace template override (an ordinary feature) whose rendering takes seconds, so the
    signal surely arrives while the staging folder is being written."""
    home = (REPO / "site_templates" / "home.md.j2").read_text(encoding="utf-8")
    (ws / "templates").mkdir()
    spin = "{% for i in range(100000) %}{% for j in range(5000) %}{% endfor %}{% endfor %}"
    (ws / "templates" / "home.md.j2").write_text(spin + home, encoding="utf-8")
    governance = ws / "governance.yml"
    governance.write_text(governance.read_text() + "trust_templates: true\n")


@pytest.fixture
def built(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    ws = write_workspace(tmp_path / "ws")
    out = tmp_path / "site"
    subprocess.run(build_command(ws, out), check=True, capture_output=True)
    slow_to_render(ws)
    (ws / "models/loans/model.yml").write_text(
        (ws / "models/loans/model.yml").read_text().replace("Predicts loan default.", "Predicts loan default v2."),
        encoding="utf-8",
    )
    return ws, out, tree_digest(out)


def test_sigterm_while_rendering_leaves_the_previous_site_untouched(built) -> None:
    ws, out, before = built
    process = start_and_signal_while_rendering(ws, out, signal.SIGTERM)
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130, err
    assert "interrupted; the previous output was left untouched" in err
    assert "Traceback" not in err
    assert tree_digest(out) == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["site", "ws"]


def test_a_build_killed_outright_is_cleaned_up_by_the_next_one(built) -> None:
    ws, out, before = built
    process = start_and_signal_while_rendering(ws, out, signal.SIGKILL)
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert tree_digest(out) == before  # the published site is still the previous one
    leftovers = [p for p in out.parent.iterdir() if ".building-" in p.name]
    (leftovers[0] if leftovers else out.parent / ".site.building-999999999").mkdir(exist_ok=True)

    (ws / "templates" / "home.md.j2").unlink()
    done = subprocess.run(build_command(ws, out), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.parent.iterdir()) == ["site", "ws"]
    assert "Predicts loan default v2." in (out / "models/loans/1.0/index.html").read_text(encoding="utf-8")


def test_a_site_left_mid_swap_is_put_back(tmp_path: Path) -> None:
    """Killed between moving the old site aside and moving the new one in: the next build restores it."""
    ws = write_workspace(tmp_path / "ws")
    out = tmp_path / "site"
    subprocess.run(build_command(ws, out), check=True, capture_output=True)
    before = tree_digest(out)
    out.rename(tmp_path / ".site.old-999999999")  # a process id that cannot exist
    (ws / "governance.yml").write_text("title: [broken\n", encoding="utf-8")  # and this build fails
    failed = subprocess.run(build_command(ws, out), capture_output=True, text=True)
    assert failed.returncode == 2
    assert tree_digest(out) == before
