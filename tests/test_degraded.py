"""The build and the check say which analyses ran degraded, and --fail-on-degraded makes them fail."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hostile_corpus import model_file, pickle_payload, with_policy
from modelgov import degraded
from modelgov.analysis.explain import NO_MODEL_FILE
from modelgov.analysis.shapley import NOT_INSTALLED
from modelgov.assemble import build_manifest
from modelgov.cli import main
from modelgov.workspace.load import load_workspace
from workspace_factory import write_workspace

PICKLE_LINE = (
    "note  loans 1.0  explainability: models/loans/versions/1.0/model.pkl was not loaded: it is a pickle-based "
    "file (.pkl), and loading a pickle runs whatever code its author put in it; "
    "see models/loans/1.0/explainability.html"
)
PASSING_POLICY = """\
    id: house
    title: House rules
    rules:
      - id: rows
        title: Evaluated on some rows
        evidence: evaluation.rows
        require: {">=": 1}
    """


def _workspace(tmp_path: Path, *, pickle: bool) -> Path:
    ws = write_workspace(tmp_path / "ws")
    with_policy(PASSING_POLICY)(ws)
    if pickle:
        model_file("model.pkl", pickle_payload)(ws)  # trust_pickle is false: refused, never unpickled
    return ws


def _check(ws: Path, results: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["check", str(ws), "--results", str(results), *extra])
    return code, capsys.readouterr().out


def test_check_prints_a_refused_pickle_after_the_summary_and_lists_it_in_the_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = _workspace(tmp_path, pickle=True)
    results = tmp_path / "results.json"
    code, out = _check(ws, results, capsys)
    assert code == 0  # the policies pass; a degraded analysis alone does not fail by default
    assert PICKLE_LINE in out.splitlines()
    assert out.index("PASSED") < out.index(PICKLE_LINE) < out.index("Results:")
    [entry] = json.loads(results.read_text())["degraded"]
    assert entry["model"] == "loans" and entry["version"] == "1.0" and entry["analysis"] == "explainability"
    assert entry["page"] == "models/loans/1.0/explainability.html"
    assert "trust_pickle: true" in entry["detail"]  # the whole note, with what to do about it

    code, out = _check(ws, results, capsys, "-q")
    assert code == 0 and "note  " not in out  # quiet: the JSON still has it
    assert json.loads(results.read_text())["degraded"] == [entry]

    code, out = _check(ws, results, capsys, "-q", "--fail-on-degraded")
    assert code == 1
    assert PICKLE_LINE in out  # a failure is printed even with -q
    assert "FAILED: 1 degraded analysis and --fail-on-degraded (exit code 1)" in out


def test_build_fails_on_a_degraded_analysis_with_the_flag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = _workspace(tmp_path, pickle=True)
    site = tmp_path / "site"
    assert main(["build", str(ws), "-o", str(site), "-q", "--no-cache", "-j", "1", "--fail-on-degraded"]) == 1
    assert PICKLE_LINE in capsys.readouterr().out
    assert [d["analysis"] for d in json.loads((site / "policy-results.json").read_text())["degraded"]] == [
        "explainability"
    ]
    assert (site / "models/loans/1.0/explainability.html").is_file()  # the page the line points at


def test_a_clean_workspace_prints_no_note_and_passes_with_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = _workspace(tmp_path, pickle=False)
    results = tmp_path / "results.json"
    code, out = _check(ws, results, capsys, "--fail-on-degraded")
    assert code == 0
    assert "note  " not in out and "FAILED" not in out
    assert json.loads(results.read_text())["degraded"] == []


def test_shap_absent_is_degraded_an_undeclared_model_is_not_and_names_are_escaped(tmp_path: Path) -> None:
    built = build_manifest(load_workspace(_workspace(tmp_path, pickle=True)))
    model = built.models[0]
    version = model.versions[0]
    run = version.evaluations[0]
    explained = run.explainability
    assert explained is not None

    def with_notes(notes: list[str], *, declared: bool = True, model_id: str = "loans"):
        new_run = run.model_copy(
            update={
                "explainability": explained.model_copy(update={"notes": notes, **({} if declared else {"model": None})})
            }
        )
        new_version = version.model_copy(update={"evaluations": [new_run]})
        return built.model_copy(
            update={"models": [model.model_copy(update={"id": model_id, "versions": [new_version]})]}
        )

    shap_missing = with_notes(
        [NOT_INSTALLED, "Partial dependence is shown for the first inputs listed, as importance could not rank them."]
    )
    [found] = degraded.degradations(shap_missing)
    assert found.reason == NOT_INSTALLED

    no_model = f"Permutation importance, partial dependence and SHAP values need the model, which is not available: {NO_MODEL_FILE}."
    assert degraded.degradations(with_notes([no_model], declared=False)) == []

    hostile = with_notes([NOT_INSTALLED], model_id="lo\x1b[2Jans\u202e")
    [line] = degraded.lines(degraded.degradations(hostile))
    assert "\x1b" not in line and "\u202e" not in line
    assert line.startswith("note  lo\\x1b[2Jans\\u202e 1.0  explainability: SHAP values not computed")


def test_ground_truth_rows_left_out_are_a_degraded_line_and_a_note_on_the_page(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Outcomes for ids the log never scored, and rows without an outcome, are counted, printed and shown."""
    import pandas as pd

    from test_monitoring_reference import workspace

    root, log = workspace(tmp_path, "holdout")
    outcomes = log[["request", "defaulted"]]
    extra = pd.DataFrame({"request": ["never-scored-1", "never-scored-2", None], "defaulted": [1, 0, 1]})
    pd.concat([outcomes, outcomes.head(5), extra]).to_csv(root / "logs" / "outcomes.csv", index=False)
    with_policy(PASSING_POLICY)(root)
    built = build_manifest(load_workspace(root))
    accounted = built.models[0].versions[0].drift.outcomes
    assert (accounted.rows, accounted.used, accounted.repeated, accounted.incomplete, accounted.unmatched) == (
        len(log) + 8,
        len(log),
        5,
        1,
        2,
    )
    (found,) = degraded.degradations(built)
    assert found.analysis == "performance over time"
    assert found.reason == (
        f"3 of {len(log) + 8:,} ground-truth rows left out (2 name an id no scoring record has; 1 has no id or no outcome)"
    )
    from modelgov.build import render_manifest

    render_manifest(built, tmp_path / "site")
    page = (tmp_path / "site" / "models" / "loans" / "1.0" / "monitoring.html").read_text()
    assert "3 ground-truth rows were left out" in page and "Where the outcomes went." in page
    assert "2 named an id that no scoring record" in page
    code, out = _check(root, tmp_path / "r.json", capsys, "--fail-on-degraded")
    assert code == 1 and "note  loans 1.0  performance over time: 3 of" in out
    assert json.loads((tmp_path / "r.json").read_text())["degraded"][0]["analysis"] == "performance over time"


def test_ground_truth_that_matches_no_record_is_said_plainly(tmp_path: Path) -> None:
    """Outcomes arrived but under another id format: the page says none matched, not "none arrived"."""
    from modelgov.build import render_manifest
    from test_monitoring_reference import workspace

    root, log = workspace(tmp_path, "holdout")
    outcomes = log[["request", "defaulted"]].assign(request=lambda f: "id-" + f["request"])
    outcomes.to_csv(root / "logs" / "outcomes.csv", index=False)
    built = build_manifest(load_workspace(root))
    assert built.models[0].versions[0].drift.outcomes.used == 0
    render_manifest(built, tmp_path / "site")
    page = " ".join((tmp_path / "site" / "models" / "loans" / "1.0" / "monitoring.html").read_text().split())
    assert f"None of the {len(log):,} ground-truth rows matched a scoring record" in page
    assert "no outcomes have arrived" not in page.lower()


def test_an_outcome_that_is_not_a_number_names_the_outcome_file_and_its_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The window's table calls the outcome ``label``: the error must name the workspace's own file and
    column, as every other bad input is named, not the scoring log or the version file."""
    from test_monitoring_reference import workspace

    root, log = workspace(tmp_path, "holdout")
    outcomes = log[["request", "defaulted"]].astype({"defaulted": object})
    outcomes.iloc[3, 1] = "maybe"
    outcomes.to_csv(root / "logs" / "outcomes.csv", index=False)
    assert main(["build", str(root), "-o", str(tmp_path / "site"), "--no-cache", "-q"]) == 2
    err = capsys.readouterr().err
    assert "logs/outcomes.csv: column 'defaulted':" in err and "'maybe'" in err
    assert "whose outcome arrived" in err and "Traceback" not in err
    assert not (tmp_path / "site").exists()
