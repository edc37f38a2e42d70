"""The Spark engine gives exactly the embedded DuckDB engine's aggregates on the same log.

Runs Spark in local mode (PySpark and Java 17+ needed; skipped with the reason otherwise). The log
has what makes the definitions matter: values exactly on edges, NaN, ±inf and NULL, an empty week
between two busy ones, timestamps with offsets, and a categorical feature with more distinct values
in one week than are kept (so the folding into "(other)" and its tie-break are compared too).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from modelgov.manifest import MonitoringReport
from modelgov.monitoring.aggregates import MAX_CATEGORIES, OTHER, CategoricalPlan, NumericPlan, WindowSpec
from modelgov.monitoring.scan import scan_windows
from spark_support import require_spark

require_spark()

from modelgov.monitoring.spark_scan import (  # noqa: E402
    read_log,
    scan_outcomes_spark,
    scan_windows_spark,
)

pytestmark = [pytest.mark.spark, pytest.mark.slow]

EDGES = np.array([-1.0, 0.0, 0.5, 1.0, 2.5])


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rng = np.random.default_rng(3)
    n = 6000
    weeks = rng.choice([0, 1, 3], size=n)  # week 2 is empty
    seconds = rng.integers(0, 7 * 86400, n)
    base = pd.Timestamp("2026-08-03T00:00:00Z")
    stamps = base + pd.to_timedelta(weeks * 7 * 86400 + seconds, unit="s")
    x = rng.normal(0.5, 1.0, n).round(1)  # rounding gives -0.0 too, which must count as the edge 0.0
    x[:7] = -0.0
    on_edge = rng.random(n) < 0.15
    x[on_edge] = rng.choice(EDGES, size=int(on_edge.sum()))
    x[rng.random(n) < 0.03] = np.nan
    x[rng.random(n) < 0.01] = np.inf
    x[rng.random(n) < 0.01] = -np.inf
    category = rng.choice(["a", "b", "c"], size=n).astype(object)
    crowded = weeks == 1
    category[crowded] = [f"v{i % (MAX_CATEGORIES + 60):04d}" for i in range(int(crowded.sum()))]
    category[rng.random(n) < 0.02] = None
    frame = pd.DataFrame(
        {
            # text with offsets for half the records: the same instants, written another way
            "ts": [
                (s.tz_convert("Europe/Berlin").isoformat() if i % 2 else s.strftime("%Y-%m-%dT%H:%M:%SZ"))
                for i, s in enumerate(stamps)
            ],
            "x": x,
            "k": rng.integers(0, 4, n).astype(float),
            "category": category,
        }
    )
    frame.loc[frame.index % 97 == 0, "k"] = None
    path = tmp_path_factory.mktemp("spark") / "log.parquet"
    frame.to_parquet(path, index=False)
    return path


def test_spark_and_duckdb_give_the_same_aggregates(spark, log: Path) -> None:
    plans = {
        "numeric": [NumericPlan("x", EDGES), NumericPlan("k", np.array([0.0, 1.0, 2.0, 3.0]))],
        "categorical": [CategoricalPlan("category")],
    }
    embedded = scan_windows(log, timestamp="ts", window=WindowSpec("week"), **plans)
    distributed = scan_windows_spark(read_log(spark, [str(log)]), timestamp="ts", window=WindowSpec("week"), **plans)

    assert [(w.start, w.end, w.rows) for w in distributed] == [(w.start, w.end, w.rows) for w in embedded]
    assert [w.rows for w in embedded][2] == 0 and len(embedded) == 4  # the empty week is kept
    for ours, theirs in zip(distributed, embedded, strict=True):
        assert ours.numeric.keys() == theirs.numeric.keys()
        for name, agg in ours.numeric.items():
            other = theirs.numeric[name]
            assert agg.missing == other.missing, name
            np.testing.assert_array_equal(agg.between, other.between, err_msg=name)
            np.testing.assert_array_equal(agg.at, other.at, err_msg=name)
            np.testing.assert_allclose(agg.between_sum, other.between_sum, rtol=1e-12, atol=1e-9, err_msg=name)
            assert (agg.minimum, agg.maximum) == (other.minimum, other.maximum), name
        for name, agg in ours.categorical.items():
            other = theirs.categorical[name]
            assert (agg.missing, agg.counts) == (other.missing, other.counts), name
    crowded = distributed[1].categorical["category"].counts
    assert len(crowded) == MAX_CATEGORIES + 1 and OTHER in crowded


def test_row_windows_are_left_to_the_embedded_engine(spark, log: Path) -> None:
    from modelgov.monitoring.logsource import ScanError

    with pytest.raises(ScanError, match="row-count windows need the embedded engine"):
        scan_windows_spark(
            read_log(spark, [str(log)]), timestamp="ts", window=WindowSpec("rows", rows=100), numeric=[], categorical=[]
        )


def outcome_tables(folder: Path, *, truth_ids_as_text: bool) -> tuple[Path, Path]:
    """A log with ids over four weeks (the third empty) and late outcomes for some of them: a
    duplicate outcome row, an outcome with no label, ids that never scored."""
    rng = np.random.default_rng(11)
    n = 3000
    weeks = rng.choice([0, 1, 3], size=n)
    stamps = pd.Timestamp("2026-08-03T00:00:00Z") + pd.to_timedelta(weeks * 7 * 86400 + rng.integers(0, 604800, n), "s")
    log = pd.DataFrame(
        {
            "ts": stamps.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "rid": np.arange(n),
            "predicted": rng.integers(0, 2, n),
            "score": rng.random(n).round(6),
        }
    )
    known = rng.choice(n, size=n // 2, replace=False)
    truth = pd.DataFrame({"rid": known, "outcome": rng.integers(0, 2, len(known)).astype(float)})
    truth.loc[truth.index[:40], "outcome"] = np.nan  # arrived without a label: still pending
    truth = pd.concat([truth, truth.iloc[50:60], pd.DataFrame({"rid": [n + 5, n + 6], "outcome": [1.0, 0.0]})])
    if truth_ids_as_text:
        truth["rid"] = truth["rid"].astype(str)
    log_path, truth_path = folder / "log.parquet", folder / "truth.parquet"
    log.to_parquet(log_path, index=False)
    truth.to_parquet(truth_path, index=False)
    return log_path, truth_path


@pytest.mark.parametrize("truth_ids_as_text", [False, True])
def test_spark_and_duckdb_join_the_same_outcomes(spark, tmp_path: Path, truth_ids_as_text: bool) -> None:
    from modelgov.monitoring.outcome_scan import scan_outcomes

    log, truth = outcome_tables(tmp_path, truth_ids_as_text=truth_ids_as_text)
    settings = {"timestamp": "ts", "window": WindowSpec("week"), "log_id": "rid", "truth_id": "rid",
                "truth_label": "outcome", "prediction": "predicted", "score": "score"}  # fmt: skip
    from modelgov.monitoring.outcome_scan import OutcomeCoverage

    mine, theirs = OutcomeCoverage(), OutcomeCoverage()
    embedded = list(scan_outcomes(log, truth=truth, coverage=mine, **settings))
    distributed = list(
        scan_outcomes_spark(
            read_log(spark, [str(log)]), read_log(spark, [str(truth)]), truth_name="truth", coverage=theirs, **settings
        )
    )
    assert mine == theirs and (mine.rows, mine.incomplete, mine.repeated, mine.unmatched) == (1512, 40, 10, 2)
    assert [(w.start, w.end, w.rows, w.unlabelled) for w in distributed] == [
        (w.start, w.end, w.rows, w.unlabelled) for w in embedded
    ]
    assert embedded[2].rows == 0 and sum(len(w.labels) for w in embedded) > 1000
    for ours, theirs in zip(distributed, embedded, strict=True):
        # records come in no particular order: compare them as sorted (label, prediction, score) rows
        def rows(w):
            return sorted(zip(w.labels.tolist(), w.predictions.tolist(), w.scores.tolist(), strict=True))

        assert rows(ours) == rows(theirs)
        assert ours.labels.dtype == theirs.labels.dtype and ours.scores.dtype == theirs.scores.dtype


def test_conflicting_outcomes_are_refused_by_spark_as_by_duckdb(spark, tmp_path: Path) -> None:
    from modelgov.monitoring.logsource import ScanError

    log, truth = outcome_tables(tmp_path, truth_ids_as_text=False)
    table = pd.read_parquet(truth)
    pd.concat([table, table.dropna().head(3).assign(outcome=lambda t: 1 - t["outcome"])]).to_parquet(truth)
    with pytest.raises(ScanError, match=r"truth: 3 id\(s\) in column 'rid' have different outcomes in 'outcome'"):
        list(
            scan_outcomes_spark(
                read_log(spark, [str(log)]),
                read_log(spark, [str(truth)]),
                truth_name="truth",
                timestamp="ts",
                window=WindowSpec("week"),
                log_id="rid",
                truth_id="rid",
                truth_label="outcome",
            )
        )


def monitored_workspace(root: Path, *, logs: str = "logs/") -> Path:
    """The factory workspace with three weeks of logs (the holdout, inputs shifted week by week)
    and late outcomes for the first two weeks."""
    from workspace_factory import write_workspace

    ws = write_workspace(root)
    (ws / "logs").mkdir()
    holdout = pd.read_csv(ws / "data" / "holdout.csv")
    outcomes = []
    for week, day in enumerate(["2026-08-03T10:00:00Z", "2026-08-10T10:00:00Z", "2026-08-24T10:00:00Z"]):
        shifted = holdout.assign(ts=day, income=holdout["income"] * (1 + 0.2 * week), rid=holdout.index + 1000 * week)
        shifted.drop(columns="defaulted").to_parquet(ws / "logs" / f"week-{week}.parquet", index=False)
        if week < 2:
            outcomes.append(shifted[["rid", "defaulted"]])
    pd.concat(outcomes).to_csv(ws / "data" / "outcomes.csv", index=False)
    version = ws / "models/loans/versions/1.0/version.yml"
    version.write_text(
        version.read_text() + f"monitoring:\n  logs: {logs}\n  timestamp: ts\n  id: rid\n  prediction: predicted\n"
        "  score: score\n  features: [income, age]\n  reference: holdout\n"
        "  ground_truth:\n    data: data/outcomes.csv\n    id: rid\n    label: defaulted\n"
    )
    return ws


def use_spark(ws: Path) -> None:
    """Choose the Spark engine in governance.yml. The workspace may set only settings that cannot load
    code, so the web UI stays off through the module's session (the ``spark`` fixture), which the
    build's session reuses."""
    governance = ws / "governance.yml"
    governance.write_text(
        governance.read_text()
        + "monitoring:\n  engine: spark\n  master: local[2]\n  conf:\n    spark.sql.shuffle.partitions: '4'\n"
    )


@pytest.fixture(scope="module")
def drift_by_engine(spark, tmp_path_factory: pytest.TempPathFactory) -> dict[str, MonitoringReport]:
    """The drift report of :func:`monitored_workspace` built by each engine (``embedded``, ``spark``),
    its logs named by their paths in the workspace. Read only."""
    from modelgov.assemble import build_manifest
    from modelgov.workspace.load import load_workspace

    ws = monitored_workspace(tmp_path_factory.mktemp("spark-build") / "ws")
    embedded = build_manifest(load_workspace(ws)).models[0].versions[0].drift
    use_spark(ws)
    return {"embedded": embedded, "spark": build_manifest(load_workspace(ws)).models[0].versions[0].drift}


def test_a_workspace_set_to_the_spark_engine_builds_the_same_drift_report(drift_by_engine) -> None:
    embedded, distributed = drift_by_engine["embedded"], drift_by_engine["spark"]
    assert distributed is not None and [w.rows for w in distributed.windows] == [400, 400, 0, 400]
    # performance over time from the late outcomes: two labelled weeks, then pending ones
    assert [w.labelled_rows for w in distributed.windows] == [400, 400, 0, 0]
    assert distributed.windows[0].performance
    assert distributed.model_dump_json() == embedded.model_dump_json()


def test_logs_given_as_a_uri_are_read_where_they_are_and_identified_by_their_listing(
    drift_by_engine, tmp_path: Path
) -> None:
    from modelgov.assemble import build_manifest
    from modelgov.cache import AnalysisCache
    from modelgov.workspace.load import load_workspace

    remote = monitored_workspace(tmp_path / "remote")
    use_spark(remote)
    uri = (remote / "logs").resolve().as_uri() + "/"
    version_file = remote / "models/loans/versions/1.0/version.yml"
    version_file.write_text(version_file.read_text().replace("logs: logs/", f"logs: {uri}"))
    cache = AnalysisCache(tmp_path / "cache")
    built = build_manifest(load_workspace(remote), cache=cache)
    by_uri = built.models[0].versions[0]

    # the report Spark made of the same logs named by their paths in the workspace
    assert by_uri.drift is not None and by_uri.drift.model_dump_json() == drift_by_engine["spark"].model_dump_json()
    logs = by_uri.monitoring.logs
    assert [ref.path.rsplit("/", 1)[-1] for ref in logs] == ["week-0.parquet", "week-1.parquet", "week-2.parquet"]
    assert all(ref.identity == "listing" and ref.path.startswith("file:") for ref in logs)
    assert all(ref.bytes == (remote / "logs" / ref.path.rsplit("/", 1)[-1]).stat().st_size for ref in logs)
    assert {ref.path for ref in logs} <= {ref.path for ref in built.inputs}
    assert all(ref.identity == "content" for ref in built.inputs if not ref.path.startswith("file:"))

    # unchanged objects: the drift report comes from the cache; a rewritten object is a new identity
    again = build_manifest(load_workspace(remote), cache=AnalysisCache(tmp_path / "cache"))
    assert again.models[0].versions[0].monitoring.logs == logs
    week = remote / "logs" / "week-2.parquet"
    pd.read_parquet(week).assign(age=lambda t: t["age"] + 1).to_parquet(week, index=False)
    os.utime(week, ns=(week.stat().st_atime_ns, week.stat().st_mtime_ns + 5_000_000_000))
    changed = build_manifest(load_workspace(remote), cache=AnalysisCache(tmp_path / "cache"))
    refs = changed.models[0].versions[0].monitoring.logs
    assert [r.sha256 for r in refs][:2] == [r.sha256 for r in logs][:2] and refs[2].sha256 != logs[2].sha256
    assert changed.models[0].versions[0].drift != by_uri.drift


@pytest.mark.usefixtures("spark")
def test_a_uri_that_names_no_log_is_a_clear_problem(tmp_path: Path) -> None:
    from modelgov.assemble import build_manifest
    from modelgov.errors import WorkspaceError
    from modelgov.workspace.load import load_workspace

    ws = monitored_workspace(tmp_path / "ws")
    use_spark(ws)
    (ws / "empty").mkdir()
    uri = (ws / "empty").resolve().as_uri() + "/"
    version_file = ws / "models/loans/versions/1.0/version.yml"
    version_file.write_text(version_file.read_text().replace("logs: logs/", f"logs: {uri}"))
    with pytest.raises(WorkspaceError) as failed:
        build_manifest(load_workspace(ws))
    assert f"monitoring.logs: no table file (Parquet, CSV or JSON Lines) found at {uri}" in str(failed.value)
