"""What tests share across a test run: folders built once (by the first pytest-xdist worker that
asks, the others waiting for it), and the bundled example built once. The fixtures are in conftest.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
from filelock import FileLock

#: The real public datasets beside the checkout (``../shared/data``; for a git worktree one level
#: deeper, its parent's). Tests that need a file there skip, naming it, when it is absent.
SHARED_DATA = next(
    (p / "shared" / "data" for p in Path(__file__).resolve().parents[1:4] if (p / "shared" / "data").is_dir()),
    Path(__file__).resolve().parents[1] / "shared" / "data",
)

#: Set on a session's config when any collected test was deselected (``-k``, ``-m``, ``--lf``,
#: ``--sw``, ``--deselect`` or a plugin; tests/conftest.py): its items are then not the whole suite.
DESELECTED = pytest.StashKey[bool]()

# --------------------------------------------------------------------------------------------------
# Built once per session, shared by every test that only reads it
# --------------------------------------------------------------------------------------------------


def shared_folder(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[Path], None]) -> Path:
    """A folder made once per test run by ``make(folder)``, however many pytest-xdist workers ask
    for it: the first one makes it under a file lock, the others wait for it and reuse it. It lives
    beside the workers' own temporary folders (the run's base folder, which xdist shares), and is
    for reading only: a test that changes what is in it changes it for every other test."""
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # …/pytest-N/popen-gw0 → …/pytest-N, the same for every worker
    folder, done = root / f"shared-{name}", root / f"shared-{name}.done"
    with FileLock(str(root / f"shared-{name}.lock")):
        if not done.is_file():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            make(folder)
            done.touch()
    return folder


#: Build time of the shared demo site (2026-01-01T00:00:00Z), as the reproducibility tests use.
DEMO_EPOCH = "1767225600"
#: The shared demo's analysis-cache secret: a test that wants the demo's analyses without computing
#: them again sets it with the cache folder (:meth:`DemoBuild.cache_env`).
DEMO_CACHE_KEY = "modelgov-tests-shared-demo-analysis-cache-key-0123456789abcdef"


@dataclass(frozen=True)
class DemoBuild:
    """The bundled example (``modelgov.demo`` with its seed) built as ``modelgov demo`` builds it:
    ``modelgov build WORKSPACE -o SITE --as-of AS_OF --dossiers production`` at :data:`DEMO_EPOCH`, with its analysis
    cache kept in ``cache_dir``. Read only: copy what a test changes."""

    workspace: Path
    site: Path
    cache_dir: Path

    def cache_env(self) -> dict[str, str]:
        """Environment variables under which a build reads (and writes) this demo's analysis cache:
        a build of the demo workspace, or of a copy, then reuses every analysis instead of computing it."""
        return {"MODELGOV_CACHE_DIR": str(self.cache_dir), "MODELGOV_CACHE_KEY": DEMO_CACHE_KEY}


def demo_workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled example's workspace (``modelgov.demo`` with its seed), generated once per test run
    (about 6 s: it trains the demo's models) for every test that reads it. Read only."""
    from modelgov.demo import generate_workspace

    folder = shared_folder(tmp_path_factory, "demo-workspace", lambda into: generate_workspace(into / "workspace"))
    return folder / "workspace"


def build_demo(folder: Path, workspace: Path) -> None:
    """The shared demo build (:class:`DemoBuild`) into ``folder``, from a copy of ``workspace``."""
    from modelgov.demo.policies import AS_OF

    shutil.copytree(workspace, folder / "workspace")
    env = {**os.environ, "SOURCE_DATE_EPOCH": DEMO_EPOCH, **DemoBuild(folder, folder, folder / "cache").cache_env()}
    command = [sys.executable, "-m", "modelgov", "build", str(folder / "workspace"), "-o", str(folder / "site")]
    command += ["--dossiers", "production"]  # as `modelgov demo` does
    # in this process: analysis workers would each import the analysis stack and contend for the same
    # two cores (on the development machine, 35 s more CPU for the same wall time), while the other
    # pytest-xdist worker has tests of its own to run
    command += ["--jobs", "1"]
    done = subprocess.run(
        [*command, "--as-of", AS_OF.isoformat(), "--quiet"], env=env, capture_output=True, text=True, timeout=900
    )
    # the demo's policies block its credit candidate on purpose: the build writes the site and exits 1
    assert done.returncode in (0, 1) and (folder / "site" / "manifest.json").is_file(), done.stdout + done.stderr
