"""The Spark engine gives exactly the embedded DuckDB engine's aggregates on the same log.

Runs Spark in local mode (PySpark and Java 17+ needed; skipped with the reason otherwise). The log
has what makes the definitions matter: values exactly on edges, NaN, ±inf and NULL, an empty week
between two busy ones, timestamps with offsets, and a categorical feature with more distinct values
in one week than are kept (so the folding into "(other)" and its tie-break are compared too).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from modelgov.monitoring.aggregates import MAX_CATEGORIES, OTHER, CategoricalPlan, NumericPlan, WindowSpec
from modelgov.monitoring.scan import scan_windows

pyspark = pytest.importorskip("pyspark", reason="the Spark engine tests need PySpark: pip install 'modelgov[spark]'")
if shutil.which("java") is None:
    pytest.skip("the Spark engine tests need Java 17+ on the PATH", allow_module_level=True)

from modelgov.monitoring.spark_scan import read_log, scan_windows_spark, spark_session  # noqa: E402

pytestmark = [pytest.mark.spark, pytest.mark.slow]

EDGES = np.array([-1.0, 0.0, 0.5, 1.0, 2.5])


@pytest.fixture(scope="module")
def spark():
    session = spark_session("local[2]", {"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "4"})
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


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


def test_a_workspace_set_to_the_spark_engine_builds_the_same_drift_report(tmp_path: Path) -> None:
    from modelgov.assemble import build_manifest
    from modelgov.workspace.load import load_workspace
    from workspace_factory import write_workspace

    ws = write_workspace(tmp_path / "ws")
    (ws / "logs").mkdir()
    holdout = pd.read_csv(ws / "data" / "holdout.csv")
    for week, day in enumerate(["2026-08-03T10:00:00Z", "2026-08-10T10:00:00Z", "2026-08-24T10:00:00Z"]):
        shifted = holdout.assign(ts=day, income=holdout["income"] * (1 + 0.2 * week))
        shifted.to_parquet(ws / "logs" / f"week-{week}.parquet", index=False)
    version = ws / "models/loans/versions/1.0/version.yml"
    version.write_text(
        version.read_text() + "monitoring:\n  logs: logs/\n  timestamp: ts\n  prediction: predicted\n"
        "  score: score\n  features: [income, age]\n  reference: holdout\n"
    )
    embedded = build_manifest(load_workspace(ws)).models[0].versions[0].drift

    governance = ws / "governance.yml"
    governance.write_text(
        governance.read_text()
        + "monitoring:\n  engine: spark\n  master: local[2]\n  conf:\n    spark.ui.enabled: 'false'\n"
    )
    distributed = build_manifest(load_workspace(ws)).models[0].versions[0].drift
    assert distributed is not None and [w.rows for w in distributed.windows] == [400, 400, 0, 400]
    assert distributed.model_dump_json() == embedded.model_dump_json()
