"""The three references a workspace can choose, built end to end on a small workspace.

Logs: six weeks from Monday 2026-08-03, with ``income`` shifted up by 40 % from week 4. Each test
builds the manifest and checks the drift statistics against scipy on the same records, so the
reference really is what the workspace named (the evaluation table, another table, or a window).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from modelgov.assemble import build_manifest
from modelgov.errors import WorkspaceError
from modelgov.workspace.load import load_workspace
from workspace_factory import edit, holdout_table, write_workspace

VERSION = "models/loans/versions/1.0/version.yml"
MONDAY = pd.Timestamp("2026-08-03", tz="UTC")
WEEKS = 6
DRIFT_WEEK = 4


def log_table(seed: int = 11, per_week: int = 300) -> pd.DataFrame:
    frames = []
    for week in range(WEEKS):
        table = holdout_table(seed=seed + week, rows=per_week)
        if week + 1 >= DRIFT_WEEK:
            table["income"] = (table["income"] * 1.4).round(2)
        seconds = np.sort(np.random.default_rng(week).integers(0, 7 * 86_400, per_week))
        table["ts"] = (MONDAY + pd.Timedelta(weeks=week) + pd.to_timedelta(seconds, unit="s")).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        )
        table["request"] = [f"r{week}-{i}" for i in range(per_week)]
        frames.append(table)
    return pd.concat(frames, ignore_index=True)


def workspace(tmp_path: Path, reference: str) -> tuple[Path, pd.DataFrame]:
    root = write_workspace(tmp_path / "ws")
    log = log_table()
    (root / "logs").mkdir()
    log.drop(columns=["defaulted"]).to_csv(root / "logs" / "scoring.csv", index=False)
    log[["request", "defaulted"]].to_csv(root / "logs" / "outcomes.csv", index=False)
    sample = holdout_table(seed=99, rows=1500)[["income", "age"]]  # a training sample: no score column
    sample.to_csv(root / "data" / "train-sample.csv", index=False)
    monitoring = f"""\
monitoring:
  logs: logs/scoring.csv
  timestamp: ts
  id: request
  prediction: predicted
  score: score
  features: [income, age]
  ground_truth: {{data: logs/outcomes.csv, id: request, label: defaulted}}
  reference: {reference}
"""
    (root / VERSION).write_text((root / VERSION).read_text() + monitoring)
    return root, log


def report_for(root: Path):
    built = build_manifest(load_workspace(root))
    return built.models[0].versions[0].drift


def week_rows(log: pd.DataFrame, week: int) -> pd.DataFrame:
    start = MONDAY + pd.Timedelta(weeks=week - 1)
    ts = pd.to_datetime(log["ts"], utc=True)
    return log[(ts >= start) & (ts < start + pd.Timedelta(weeks=1))]


def test_an_evaluation_reference_is_the_default_and_uses_its_metrics(tmp_path: Path) -> None:
    root, log = workspace(tmp_path, "holdout")
    report = report_for(root)
    assert (report.reference_kind, report.reference, report.reference_rows) == ("evaluation", "holdout", 400)
    assert report.reference_file.path == "data/holdout.csv"
    assert report.first_drift == "2026-08-24T00:00:00Z"  # week 4
    holdout = pd.read_csv(root / "data" / "holdout.csv")
    for week, window in enumerate(report.windows, start=1):
        income = next(f for f in window.features if f.feature == "income")
        assert income.method == "ks"  # a reference of 400 rows: Evidently's rule picks KS
        want = stats.ks_2samp(holdout["income"], week_rows(log, week)["income"]).pvalue
        assert income.statistic == pytest.approx(want, rel=1e-6, abs=1e-12)
        assert window.prediction is not None and window.prediction.feature == "(prediction)"


def test_a_table_reference_without_the_output_compares_the_inputs_only(tmp_path: Path) -> None:
    root, log = workspace(tmp_path, "{data: data/train-sample.csv, description: 2025 training sample}")
    report = report_for(root)
    assert report.reference_kind == "data" and report.reference == "data/train-sample.csv"
    assert report.reference_description == "2025 training sample"
    assert report.reference_rows == 1500 and report.reference_file.sha256
    assert report.reference_performance == []  # a table without outcomes is no performance baseline
    sample = pd.read_csv(root / "data" / "train-sample.csv")
    for week, window in enumerate(report.windows, start=1):
        assert window.prediction is None
        income = next(f for f in window.features if f.feature == "income")
        assert income.method == "wasserstein"  # more than 1,000 reference rows
        current = week_rows(log, week)["income"]
        want = stats.wasserstein_distance(sample["income"], current) / np.std(sample["income"], ddof=1)
        assert income.statistic == pytest.approx(want, abs=1e-3)
        assert income.drifted == (week >= DRIFT_WEEK)
    assert report.windows[-1].performance  # outcomes still give performance over time


def test_a_window_reference_compares_the_log_with_its_own_first_week(tmp_path: Path) -> None:
    root, log = workspace(tmp_path, "{window: 1}")
    report = report_for(root)
    first = report.windows[0]
    assert (report.reference_kind, report.reference) == ("window", "2026-08-03T00:00:00Z")
    assert report.reference_file is None and report.reference_rows == first.rows == 300
    assert report.reference_performance == first.performance and first.performance
    assert not first.dataset_drift
    assert all(f.statistic == pytest.approx(1.0) for f in first.features if f.method in ("ks", "chisquare"))
    reference = week_rows(log, 1)
    for week, window in enumerate(report.windows, start=1):
        income = next(f for f in window.features if f.feature == "income")
        want = stats.ks_2samp(reference["income"], week_rows(log, week)["income"]).pvalue
        assert income.statistic == pytest.approx(want, rel=1e-6, abs=1e-12)
    assert report.first_drift == "2026-08-24T00:00:00Z"
    # the same window named by a date inside it
    edit(root, VERSION, "reference: {window: 1}", "reference: {window: 2026-08-06}")
    assert report_for(root).reference == report.reference


def test_a_window_beyond_the_log_is_a_clear_error(tmp_path: Path) -> None:
    root, _ = workspace(tmp_path, "{window: 9}")
    with pytest.raises(WorkspaceError) as caught:
        build_manifest(load_workspace(root))
    text = str(caught.value)
    assert "logs/scoring.csv" in text and "the log has 6 week windows, so no window 9" in text


def test_row_windows_sharing_one_timestamp_keep_their_own_performance(tmp_path: Path) -> None:
    """900 records with one timestamp, windows of 300: three windows with the same start and end,
    each with its own outcomes. Their accuracies, weighted by rows, add up to the log's."""
    root, log = workspace(tmp_path, "holdout")
    log = log.iloc[:900].assign(ts="2026-08-03T09:00:00Z")
    log.drop(columns=["defaulted"]).to_csv(root / "logs" / "scoring.csv", index=False)
    edit(root, VERSION, "  reference: holdout", "  reference: holdout\n  window: {rows: 300}")
    report = report_for(root)
    assert [w.rows for w in report.windows] == [300, 300, 300]
    assert len({(w.start, w.end) for w in report.windows}) == 1
    correct = sum(
        next(m.value for m in w.performance if m.name == "accuracy") * w.labelled_rows for w in report.windows
    )
    assert correct == pytest.approx(int((log["predicted"] == log["defaulted"]).sum()))
