"""Feature kinds for drift: declared per feature in version.yml or inferred from the reference by one
rule, honoured by the drift tests and the scan, checked against the methods by ``validate`` with
file and line, and written by ``init`` as the build will use them."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from scipy import stats
from scipy.spatial.distance import jensenshannon

from modelgov.errors import Problem, WorkspaceError
from modelgov.monitoring.aggregates import CategoricalAggregate
from modelgov.monitoring.drift import feature_drift, plan_feature
from modelgov.monitoring.reference import infer_kind, profile_reference
from modelgov.workspace.load import load_workspace
from modelgov.workspace.monitoring_schema import DriftSettings
from shared_builds import SHARED_DATA
from workspace_factory import holdout_table, write_workspace

BIKE_DAY = SHARED_DATA / "bike_day.csv"
VERSION = "models/loans/versions/1.0/version.yml"
TODAY = dt.date(2026, 11, 24)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(11)


# --------------------------------------------------------------------------- the key


def test_a_feature_takes_a_kind_beside_its_method_and_threshold() -> None:
    settings = DriftSettings.model_validate(
        {
            "features": {
                "season": {"kind": "categorical"},
                "temp": {"kind": "numeric", "method": "ks", "threshold": 0.01},
            }
        }
    )
    assert settings.features["season"].kind == "categorical" and settings.features["season"].method is None
    assert (settings.features["temp"].kind, settings.features["temp"].method) == ("numeric", "ks")
    with pytest.raises(ValidationError, match="'numeric' or 'categorical'"):
        DriftSettings.model_validate({"features": {"season": {"kind": "ordinal"}}})
    with pytest.raises(ValidationError, match="kind"):  # a kind belongs to one feature, not to the default
        DriftSettings.model_validate({"default": {"kind": "categorical"}})


# --------------------------------------------------------------------------- drift with a declared kind


def log_text(values: np.ndarray) -> CategoricalAggregate:
    """A window's counts as the scan gives them for a float column cast to text: ``3.0``, not ``3``."""
    return CategoricalAggregate(missing=0, counts={str(float(v)): int(n) for v, n in Counter(values.tolist()).items()})


def test_declared_categorical_codes_get_evidentlys_chisquare_on_a_small_reference(rng: np.random.Generator) -> None:
    """Twelve month codes: integers with more than ten values are inferred numeric (KS); declared
    categorical, they are what Evidently tests with ``categorical_columns=[...]``: chi-square over the
    union of values, expected frequencies the reference's counts scaled to the window."""
    reference = pd.Series(rng.integers(1, 13, 800), name="month")
    current = np.concatenate([rng.integers(1, 13, 260), np.full(40, 12)])
    inferred = plan_feature(reference)
    assert (inferred.kind, inferred.method, inferred.declared) == ("numeric", "ks", False)
    plan = plan_feature(reference, kind="categorical")
    assert (plan.kind, plan.method, plan.declared) == ("categorical", "chisquare", True)

    result = feature_drift(plan, reference, log_text(current))
    keys = sorted(set(reference) | set(current))
    f_obs = [int((current == k).sum()) for k in keys]
    f_exp = [int((reference == k).sum()) * len(current) / len(reference) for k in keys]
    expected = stats.chisquare(f_obs, f_exp)
    assert (result.kind, result.kind_declared, result.method) == ("categorical", True, "chisquare")
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-10)
    assert result.drifted == (expected.pvalue < 0.05)
    assert result.new_categories == {}  # "12.0" in the log is the reference's 12


def test_declared_categorical_codes_get_evidentlys_jensenshannon_on_a_large_reference(
    rng: np.random.Generator,
) -> None:
    reference = pd.Series(rng.choice([1, 2, 3, 4], 3000, p=[0.4, 0.3, 0.2, 0.1]), name="season")
    current = rng.choice([1, 2, 3, 4, 5], 700, p=[0.1, 0.2, 0.3, 0.3, 0.1])  # 5: a code never seen
    plan = plan_feature(reference, kind="categorical")
    result = feature_drift(plan, reference, log_text(current))
    keys = sorted(set(reference) | set(current))
    expected = jensenshannon([(reference == k).mean() for k in keys], [(current == k).mean() for k in keys])
    assert (result.method, result.kind_declared) == ("jensenshannon", True)
    assert result.statistic == pytest.approx(expected, rel=1e-12)
    assert result.drifted == (expected >= 0.1)
    assert result.new_categories == {"5": int((current == 5).sum())}


def test_declared_numeric_codes_are_numbers_and_text_cannot_be() -> None:
    codes = pd.Series([1, 2, 3, 4] * 50, name="season")
    assert infer_kind(codes) == "categorical"
    plan = plan_feature(codes, kind="numeric")
    assert (plan.kind, plan.declared, plan.method) == ("numeric", True, "chisquare")  # ≤ 5 values: on the values
    with pytest.raises(ValueError, match=r"column 'grade' holds values that are not numbers \('low', 'high'\)"):
        profile_reference(pd.Series(["low", "high", None], name="grade"), "numeric")
    with pytest.raises(ValueError, match="true/false values"):
        profile_reference(pd.Series([True, False], name="flag"), "numeric")
    with pytest.raises(ValueError, match="season is categorical; ks compares numbers in order"):
        plan_feature(codes, kind="categorical", method="ks")


# --------------------------------------------------------------------------- validate: file and line


MONITORING = """\
monitoring:
  logs: logs/*.csv
  timestamp: ts
  prediction: predicted
  score: score
  features: [income, age, sex, rooms]
  reference: holdout
"""


def monitored(root: Path, drift: str = "", *, score: bool = True) -> Path:
    """The factory's workspace with ``rooms`` (codes 1–4) in the holdout and two weekly logs."""
    rng = np.random.default_rng(3)
    table = holdout_table().assign(rooms=lambda t: rng.choice([1, 2, 3, 4], len(t), p=[0.4, 0.3, 0.2, 0.1]))
    ws = write_workspace(root, table=table)
    (ws / "logs").mkdir()
    for week, day in enumerate(["2026-08-03T10:00:00Z", "2026-08-10T10:00:00Z"]):
        log = table.drop(columns="defaulted").sample(len(table), replace=True, random_state=week).assign(ts=day)
        if week:  # the second week: older applicants, more rooms
            log = log.assign(age=log["age"] + 15, rooms=rng.choice([1, 2, 3, 4], len(log), p=[0.1, 0.2, 0.3, 0.4]))
        log.to_csv(ws / "logs" / f"week-{week}.csv", index=False)
    text = MONITORING if score else MONITORING.replace("  score: score\n", "")
    (ws / VERSION).write_text((ws / VERSION).read_text() + text + drift)
    return ws


def problems_of(root: Path) -> list[Problem]:
    with pytest.raises(WorkspaceError) as info:
        load_workspace(root)
    return info.value.problems


def line_of(root: Path, text: str) -> int:
    lines = (root / VERSION).read_text().splitlines()
    return next(number for number, line in enumerate(lines, 1) if line.strip() == text)


def test_ks_on_a_declared_categorical_is_reported_at_the_methods_line(tmp_path: Path) -> None:
    ws = monitored(
        tmp_path / "ws", "  drift:\n    features:\n      rooms:\n        kind: categorical\n        method: ks\n"
    )
    [problem] = problems_of(ws)
    assert (problem.file, problem.line, problem.key) == (
        VERSION,
        line_of(ws, "method: ks"),
        "monitoring.drift.features.rooms.method",
    )
    assert f"'rooms' is declared categorical (line {line_of(ws, 'kind: categorical')})" in problem.message
    assert "ks compares numbers in order" in problem.message and "chisquare, z, jensenshannon or psi" in problem.message
    assert str(problem).startswith(f"{VERSION}:{problem.line}: monitoring.drift.features.rooms.method: ")


def test_ks_on_a_column_inferred_categorical_names_the_reference_and_the_rule(tmp_path: Path) -> None:
    ws = monitored(tmp_path / "ws", "  drift:\n    features:\n      rooms:\n        method: ks\n")
    [problem] = problems_of(ws)
    assert (problem.line, problem.key) == (line_of(ws, "method: ks"), "monitoring.drift.features.rooms.method")
    assert "'rooms' is categorical as inferred from data/holdout.csv (whole numbers, 4 distinct values" in (
        problem.message
    )
    assert "declare `kind: numeric` if its values are quantities" in problem.message
    # declaring the codes numeric is the way out the message offers, and it loads
    text = (ws / VERSION).read_text().replace("      rooms:\n", "      rooms:\n        kind: numeric\n")
    (ws / VERSION).write_text(text)
    assert load_workspace(ws).models["loans"].versions["1.0"].spec.monitoring.drift.features["rooms"].kind == "numeric"


def test_a_default_method_is_checked_against_every_feature_and_the_output(tmp_path: Path) -> None:
    ws = monitored(tmp_path / "ws", "  drift:\n    default:\n      method: wasserstein\n", score=False)
    problems = problems_of(ws)
    line = line_of(ws, "method: wasserstein")
    assert {(p.line, p.key) for p in problems} == {(line, "monitoring.drift.default.method")}
    named = sorted(re.match(r"(.+?) is categorical", p.message).group(1) for p in problems)
    assert named == ["'rooms'", "'sex'", "the model's output 'predicted'"]
    output = next(p for p in problems if "output" in p.message)
    assert "declare" not in output.message  # the output's kind cannot be declared


def test_a_declared_numeric_column_of_text_is_reported_at_its_kind(tmp_path: Path) -> None:
    ws = monitored(
        tmp_path / "ws", "  drift:\n    features:\n      sex: {kind: numeric}\n      rooms_count: {kind: categorical}\n"
    )
    problems = {p.key: p for p in problems_of(ws)}
    text = problems["monitoring.drift.features.sex.kind"]
    assert text.line == line_of(ws, "sex: {kind: numeric}")
    assert re.search(r"column 'sex' of data/holdout\.csv \(the reference\) holds values that are not numbers "
                     r"\('[FM]', '[FM]'\)", text.message)  # fmt: skip
    assert "declare it categorical" in text.message
    unknown = problems["monitoring.drift.features.rooms_count"]
    assert "'rooms_count' is not one of monitoring.features; did you mean 'rooms'?" in unknown.message


def test_a_reference_too_large_to_read_when_validating_is_checked_by_the_build(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from modelgov.assemble import build_manifest
    from modelgov.workspace import load

    ws = monitored(tmp_path / "ws", "  drift:\n    features:\n      sex: {kind: numeric}\n")
    monkeypatch.setattr(load, "KIND_CHECK_MAX_BYTES", 0)
    workspace = load_workspace(ws)  # nothing read, nothing reported
    with pytest.raises(WorkspaceError) as info:
        build_manifest(workspace, as_of=TODAY)
    [problem] = [p for p in info.value.problems if p.key == "monitoring"]
    assert problem.file == VERSION
    assert "monitoring.drift.features.sex.kind declares 'sex' numeric, but column 'sex' of data/holdout.csv" in (
        problem.message
    )


# --------------------------------------------------------------------------- the build honours the kinds


def test_declared_kinds_reach_the_scan_the_tests_the_manifest_and_the_page(tmp_path: Path) -> None:
    """Through DuckDB's scan of CSV logs: ``age`` (62 integer values, inferred numeric) declared
    categorical is tested with chi-square over its values, as Evidently would with
    ``categorical_columns=["age"]``; ``rooms`` (four codes, inferred categorical) declared numeric."""
    from modelgov.assemble import build_manifest
    from modelgov.render.pages import render_pages

    drift = "  drift:\n    features:\n      age: {kind: categorical}\n      rooms: {kind: numeric}\n"
    ws = monitored(tmp_path / "ws", drift)
    built = build_manifest(load_workspace(ws), as_of=TODAY)
    report = built.models[0].versions[0].drift
    assert report is not None and [w.rows for w in report.windows] == [400, 400]
    reference = pd.read_csv(ws / "data" / "holdout.csv")
    for window, path in zip(report.windows, ["week-0.csv", "week-1.csv"], strict=True):
        features = {f.feature: f for f in window.features}
        assert {name: (f.kind, f.kind_source) for name, f in features.items()} == {
            "income": ("numeric", "inferred"),
            "age": ("categorical", "declared"),
            "sex": ("categorical", "inferred"),
            "rooms": ("numeric", "declared"),
        }
        current = pd.read_csv(ws / "logs" / path)["age"]
        keys = sorted(set(reference["age"]) | set(current))
        counts, reference_counts = current.value_counts(), reference["age"].value_counts()
        f_exp = [reference_counts.get(k, 0) * len(current) / len(reference) for k in keys]
        with np.errstate(divide="ignore"):
            expected = stats.chisquare([counts.get(k, 0) for k in keys], f_exp)
        assert features["age"].method == "chisquare"
        assert features["age"].statistic == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    older = next(f for f in report.windows[1].features if f.feature == "age")
    assert older.drifted and older.new_categories  # ages above the reference's oldest are new values
    assert report.windows[0].prediction is not None and report.windows[0].prediction.kind_source == "inferred"

    page = next(p for p in render_pages(built) if p.path.endswith("1.0/monitoring.md")).markdown
    rows = {line.split("|")[1].strip(): line for line in page.splitlines() if line.startswith("| <code>")}
    assert "| categorical (declared) |" in rows["<code>age</code>"]
    assert "| numeric (inferred) |" in rows["<code>income</code>"]


# --------------------------------------------------------------------------- init writes the build's kinds


BIKE_FEATURES = ["season", "mnth", "holiday", "weekday", "workingday", "weathersit", "temp", "atemp", "hum",
                 "windspeed"]  # fmt: skip
BIKE_KINDS = {"season": "categorical", "holiday": "categorical", "weekday": "categorical",
              "workingday": "categorical", "weathersit": "categorical", "mnth": "numeric", "temp": "numeric",
              "atemp": "numeric", "hum": "numeric", "windspeed": "numeric"}  # fmt: skip


@pytest.fixture(scope="module")
def bike_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """2011 as the evaluation (a demand forecast by season and working day), 2012 as the log."""
    if not BIKE_DAY.is_file():
        pytest.skip(f"Bike Sharing data not found at {BIKE_DAY} (UCI bike_day.csv in the shared data folder)")
    day = pd.read_csv(BIKE_DAY)
    forecast = day[day.yr == 0].groupby(["season", "workingday"])["cnt"].mean().round()
    day["predicted"] = [forecast[key] for key in zip(day["season"], day["workingday"], strict=True)]
    folder = tmp_path_factory.mktemp("bike")
    day[day.yr == 0][[*BIKE_FEATURES, "cnt", "predicted"]].to_csv(folder / "bike-2011.csv", index=False)
    log = day[day.yr == 1].assign(scored_at=lambda d: d["dteday"] + "T12:00:00Z")
    log[["scored_at", *BIKE_FEATURES, "predicted"]].to_csv(folder / "scoring-2012.csv", index=False)
    return folder / "bike-2011.csv", folder / "scoring-2012.csv"


def test_init_on_bike_sharing_writes_the_kinds_the_build_uses(
    bike_files: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from modelgov.assemble import build_manifest
    from modelgov.cli import main

    evaluation, log = bike_files
    root = tmp_path / "ws"
    code = main(["init", str(root), "--eval", str(evaluation), "--label", "cnt", "--prediction", "predicted",
                 "--log", str(log), "--timestamp", "scored_at", "--name", "Bike demand"])  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "as categorical: season, holiday, weekday, workingday, weathersit; numeric: mnth, temp" in printed
    version = root / "models/bike-demand/versions/1.0/version.yml"
    spec = load_workspace(root).models["bike-demand"].versions["1.0"].spec
    assert spec.monitoring is not None
    assert {name: test.kind for name, test in spec.monitoring.drift.features.items()} == BIKE_KINDS
    assert '"season": {kind: categorical}   # whole numbers, 4 distinct values (at most 10)' in version.read_text()

    def kinds(built) -> set[tuple[str, str, str]]:
        report = built.models[0].versions[0].drift
        assert report is not None and len(report.windows) >= 52
        return {(f.feature, f.kind, f.kind_source) for w in report.windows if w.rows for f in w.features}

    declared = kinds(build_manifest(load_workspace(root), as_of=TODAY))
    assert declared == {(name, kind, "declared") for name, kind in BIKE_KINDS.items()}
    # without the written kinds, the build infers the same ones: init and drift share one rule
    text = version.read_text()
    version.write_text(text[: text.index("  drift:\n")])
    inferred = kinds(build_manifest(load_workspace(root), as_of=TODAY))
    assert inferred == {(name, kind, "inferred") for name, kind in BIKE_KINDS.items()}
