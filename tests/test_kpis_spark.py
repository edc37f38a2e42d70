"""The Spark engine measures the business KPIs exactly as the embedded DuckDB engine does.

Runs Spark in local mode (PySpark and Java 17+ needed; skipped with the reason otherwise), on the
log of tests/test_kpis.py: missing and infinite values, an empty week, a rate column and a baseline
column filled on half the records, outcomes joined by id (as numbers and as text) with a repeated row.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from modelgov.monitoring.aggregates import WindowSpec
from modelgov.monitoring.kpi_scan import kpi_windows
from spark_support import require_spark
from test_kpis import SPECS, simulated_log

require_spark()

from modelgov.monitoring.kpi_spark import kpi_windows_spark  # noqa: E402
from modelgov.monitoring.logsource import ScanError  # noqa: E402
from modelgov.monitoring.spark_scan import read_log  # noqa: E402

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.mark.parametrize("text_ids", [False, True])
def test_spark_and_duckdb_give_the_same_kpi_statistics(spark, tmp_path: Path, text_ids: bool) -> None:
    log, truth = simulated_log(tmp_path, text_ids=text_ids)
    settings = {"timestamp": "ts", "window": WindowSpec("week"), "log_id": "rid", "truth_id": "rid"}
    embedded = kpi_windows(log, SPECS, truth=truth, **settings)
    distributed = kpi_windows_spark(
        read_log(spark, [str(log)]), SPECS, truth=read_log(spark, [str(truth)]), truth_name="truth", **settings
    )
    assert [(w.start, w.end, w.rows, w.matched) for w in distributed] == [
        (w.start, w.end, w.rows, w.matched) for w in embedded
    ]
    assert embedded[2].rows == 0  # the empty week is kept by both
    for ours, theirs in zip(distributed, embedded, strict=True):
        assert ours.measures.keys() == theirs.measures.keys()
        for key, mine in ours.measures.items():
            other = theirs.measures[key]
            assert (mine.n, mine.missing) == (other.n, other.missing), key
            for name in ("total", "variance", "total_x", "variance_x", "covariance"):
                a, b = getattr(mine, name), getattr(other, name)
                assert (a is None) == (b is None), (key, name)
                if a is not None:
                    assert a == pytest.approx(b, rel=1e-9, abs=1e-9), (key, name)


def test_a_bad_rate_value_is_refused_by_spark_as_by_duckdb(spark, tmp_path: Path) -> None:
    import pandas as pd

    log, _ = simulated_log(tmp_path)
    frame = pd.read_parquet(log)
    frame["flag"] = frame["flag"].map({True: "1", False: "0"})
    frame.loc[3, "flag"] = "2"
    frame.to_parquet(log, index=False)
    with pytest.raises(ScanError, match="column 'flag' holds '2' that is not true or false"):
        kpi_windows_spark(read_log(spark, [str(log)]), SPECS[2:3], timestamp="ts", window=WindowSpec("week"))
    with pytest.raises(ScanError, match="column 'flag' holds '2' that is not true or false"):
        kpi_windows(log, SPECS[2:3], timestamp="ts", window=WindowSpec("week"))


def test_the_reports_kpis_are_the_same_from_either_engine(spark, tmp_path: Path) -> None:
    """Through the report's entry point (engine chosen by the inputs), the series are equal."""
    from modelgov import manifest
    from modelgov.monitoring.kpis import report_kpis
    from modelgov.monitoring.report_inputs import MonitoringInputs, SparkEngine

    log, truth = simulated_log(tmp_path)
    common = {
        "logs": [log], "timestamp": "ts", "features": [], "log_output": "amount", "reference_output": None,
        "window": WindowSpec("week"), "window_label": "week", "overrides": {}, "dataset_share": 0.5,
        "log_id": "rid", "truth": truth, "truth_id": "rid", "truth_label": "loss", "kpis": tuple(SPECS),
    }  # fmt: skip
    windows = kpi_windows(log, SPECS, timestamp="ts", window=WindowSpec("week"), log_id="rid", truth=truth,
                          truth_id="rid")  # fmt: skip
    report_windows = [
        manifest.DriftWindow(start=f"{w.start:%Y-%m-%dT%H:%M:%SZ}", end=f"{w.end:%Y-%m-%dT%H:%M:%SZ}", rows=w.rows,
                             share_drifted=None, dataset_drift=False)
        for w in windows
    ]  # fmt: skip
    embedded = report_kpis(MonitoringInputs(**common), report_windows)
    distributed = report_kpis(MonitoringInputs(**common, spark=SparkEngine("local[2]", {})), report_windows)
    assert [s.name for s in distributed] == [s.name for s in embedded]
    for ours, theirs in zip(distributed, embedded, strict=True):
        assert (ours.latest, ours.meets_target, ours.windows_missing_target) == (
            theirs.latest,
            theirs.meets_target,
            theirs.windows_missing_target,
        )
        for a, b in zip(ours.windows, theirs.windows, strict=True):
            assert a.status == b.status
            if a.kpi is not None:
                assert a.kpi.value == pytest.approx(b.kpi.value, rel=1e-9)
                assert a.kpi.count == b.kpi.count
