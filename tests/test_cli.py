"""The command line: exit codes, messages without tracebacks, and output-folder safety."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from modelgov.build import check_output_dir
from modelgov.cli import main
from modelgov.errors import OutputPathError
from workspace_factory import edit, write_workspace

REPO = Path(__file__).resolve().parents[1]


def test_validate_reports_a_valid_workspace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = write_workspace(tmp_path / "ws")
    assert main(["validate", str(ws)]) == 0
    assert "valid (1 models, 1 versions, 2 datasets)" in capsys.readouterr().out


def test_invalid_workspace_exits_2_with_every_problem_and_no_traceback(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws")
    edit(ws, "models/loans/model.yml", "risk_tier: high", "risk_tier: hgh")
    edit(ws, "models/loans/versions/1.0/version.yml", "status: production", "status: live")
    done = subprocess.run(
        [sys.executable, "-m", "modelgov", "validate", str(ws)], capture_output=True, text=True, check=False
    )
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "the workspace has 2 problems:" in done.stderr
    assert "models/loans/model.yml:7: risk_tier: unknown risk tier 'hgh'; did you mean 'high'?" in done.stderr
    assert "models/loans/versions/1.0/version.yml:2: status:" in done.stderr


def test_missing_workspace_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(tmp_path / "nope")]) == 2
    assert "workspace folder does not exist" in capsys.readouterr().err


def test_output_must_not_contain_the_workspace(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws")
    for bad in (ws, tmp_path, ws / "models" / "site", ws / "datasets"):
        with pytest.raises(OutputPathError):
            check_output_dir(ws, bad)
    check_output_dir(ws, tmp_path / "site")  # a sibling is fine
    check_output_dir(ws, ws / "site")  # so is a plain folder inside the workspace


def test_a_non_empty_folder_that_is_not_a_site_is_never_replaced(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws")
    precious = tmp_path / "documents"
    precious.mkdir()
    (precious / "thesis.tex").write_text("years of work")
    with pytest.raises(OutputPathError, match="refusing to replace it"):
        check_output_dir(ws, precious)
    assert main(["build", str(ws), "-o", str(precious), "-q"]) == 2
    assert (precious / "thesis.tex").read_text() == "years of work"


def test_the_committed_minimal_example_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(REPO / "examples" / "minimal")]) == 0


def test_a_copied_manifest_does_not_make_a_folder_replaceable(tmp_path: Path) -> None:
    ws = write_workspace(tmp_path / "ws")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    (downloads / "manifest.json").write_text('{"schema_version": "1.1", "generator": {"name": "modelgov"}}')
    (downloads / "thesis.docx").write_text("years of work")
    with pytest.raises(OutputPathError, match="not a site modelgov built"):
        check_output_dir(ws, downloads)


def test_an_internal_error_is_reported_without_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = write_workspace(tmp_path / "ws")

    def broken(*args, **kwargs):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr("modelgov.workspace.load.load_workspace", broken)
    assert main(["validate", str(ws)]) == 3
    err = capsys.readouterr().err
    assert "internal error: ZeroDivisionError: boom" in err and "Traceback" not in err


def _killed() -> None:
    """Run in a worker: the death the OOM killer deals."""
    import os
    import signal

    os.kill(os.getpid(), signal.SIGKILL)


def test_a_killed_worker_is_reported_as_such_not_as_a_bug(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A worker process (--jobs) killed by a signal or the OOM killer breaks its pool: the message says
    what happened and what to do, not that modelgov has a bug."""
    import os

    from modelgov.processes import worker_pool

    def build_whose_worker_is_killed(*args, **kwargs):
        with worker_pool(1) as pool:
            assert pool.submit(os.getpid).result() != os.getpid()  # the pool works …
            pool.submit(_killed).result()  # … until its worker is killed
        raise AssertionError("the pool survived its worker's death")

    monkeypatch.setattr("modelgov.cli.run", build_whose_worker_is_killed)
    assert main(["validate", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert "a worker process of the build stopped before finishing its task" in err and "--jobs 1" in err
    assert "bug" not in err and "Traceback" not in err


def test_a_workers_own_error_is_an_internal_error_with_its_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A worker that raised an error the pool could not send back (its traceback arrives as the cause)
    is a bug to report, not a killed process."""
    from concurrent.futures.process import BrokenProcessPool

    def worker_failed(*args, **kwargs):
        cause = RuntimeError('\n"""\nTraceback (most recent call last):\n  ...\nValueError: half-built result\n"""')
        raise BrokenProcessPool("A task has failed to un-serialize.") from cause

    monkeypatch.setattr("modelgov.cli.run", worker_failed)
    assert main(["validate", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert "internal error" in err and "in a worker process" in err and "half-built result" in err
    assert "stopped before finishing its task" not in err


def test_a_workers_error_quoting_the_workspace_cannot_repaint_the_ci_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A worker's error can quote what the workspace says (a column name): its escape sequences are
    shown, not obeyed, as in every other error."""
    from concurrent.futures.process import BrokenProcessPool

    def worker_failed(*args, **kwargs):
        raise BrokenProcessPool("A task has failed to un-serialize.") from KeyError("\x1b[2J\x1b[Hcolumn")

    monkeypatch.setattr("modelgov.cli.run", worker_failed)
    assert main(["validate", str(tmp_path)]) == 3
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\\x1b[2J" in err


def test_building_the_parser_imports_nothing_heavy() -> None:
    """`modelgov --help` and a mistyped command answer at once: building the parser imports no
    NumPy, pandas, Arrow, YAML, manifest models or audit log (each command's handler imports what it
    needs when it runs). In a new interpreter, so that what other tests imported does not count."""
    probe = (
        "import sys; import modelgov.cli_parser as p; p.build_parser(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'numpy', 'pandas', 'pyarrow', 'yaml'} "
        "or m.startswith(('modelgov.manifest', 'modelgov.audit', 'modelgov.workspace'))))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]", done.stdout


def test_every_command_that_refuses_pickles_also_refuses_the_workspaces_code() -> None:
    from modelgov.cli_parser import build_parser

    parser = build_parser()
    commands = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction").choices
    options = {name: {o for a in command._actions for o in a.option_strings} for name, command in commands.items()}
    refusing = sorted(name for name, given in options.items() if "--refuse-pickle" in given)
    assert refusing == ["build", "check", "dossier", "export", "serve"]
    assert all("--refuse-workspace-code" in options[name] and "--require-pack" in options[name] for name in refusing)


def test_a_rule_of_a_pinned_pack_is_waived_only_by_a_signed_waiver(tmp_path: Path) -> None:
    """A pull request kept the pinned pack listed and waived its rule in waivers.yml: unsigned, the
    waiver no longer counts once the CI pins the pack (without the pin it does, as before)."""
    ws = write_workspace(tmp_path / "ws")
    edit(ws, "governance.yml", "description:", "policies:\n  packs: [baseline]\ndescription:")
    edit(ws, "models/loans/versions/1.0/approvals.yml", "decision: approved", "decision: rejected")
    (ws / "waivers.yml").write_text(
        "waivers:\n  - {id: W-1, policy: baseline, rule: model-risk-sign-off, models: [loans], reason: Not yet.,"
        " approved_by: Someone, ticket: T-1, granted: 2026-01-01, expires: 2026-06-01}\n",
        encoding="utf-8",
    )

    def outcome(*extra: str) -> tuple[int, str, str]:
        out = tmp_path / "results.json"
        code = main(
            ["check", str(ws), "--no-cache", "-j", "1", "-q", "--as-of", "2026-03-01", "--results", str(out), *extra]
        )
        results = json.loads(out.read_text())
        rule = next(r for r in results["results"] if r["rule"] == "model-risk-sign-off")
        return code, rule["outcome"], results["waivers"][0]["state"] if "waivers" in results else ""

    assert outcome() == (0, "waived", "active")
    assert outcome("--require-pack", "baseline") == (1, "fail", "not accepted")


def test_check_refuses_a_workspace_without_a_pack_the_ci_requires(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = write_workspace(tmp_path / "ws")
    assert main(["check", str(ws), "--no-cache", "--require-pack", "baseline", "--require-pack", "sr-11-7"]) == 2
    err = capsys.readouterr().err
    assert "governance.yml:1: policies.packs: this run requires pack 'baseline'" in err
    assert "this run requires pack 'sr-11-7'" in err


def _trusting_templates(tmp_path: Path) -> Path:
    ws = write_workspace(tmp_path / "ws")
    (ws / "governance.yml").write_text((ws / "governance.yml").read_text() + "trust_templates: true\n")
    (ws / "templates").mkdir()
    return ws


def test_serve_refuses_the_workspaces_templates_when_told(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelgov.serve import ServeSession

    built: list[bool] = []
    monkeypatch.setattr(ServeSession, "run", lambda session, ready=None: built.append(session.build()))
    ws = _trusting_templates(tmp_path)
    assert main(["serve", str(ws), "-o", str(tmp_path / "site"), "--refuse-workspace-code"]) == 0
    out = capsys.readouterr().out
    assert built == [False] and "Build failed" in out
    assert "governance.yml:4: trust_templates: this build refuses the workspace's templates" in out


def test_the_dossier_command_refuses_the_workspaces_templates_when_told(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = _trusting_templates(tmp_path)
    args = ["dossier", str(ws), "loans", "1.0", "-o", str(tmp_path / "d.pdf"), "--refuse-workspace-code"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "governance.yml:4: trust_templates:" in err and "--refuse-workspace-code" in err
    assert not (tmp_path / "d.pdf").exists()
