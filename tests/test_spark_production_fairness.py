"""The Spark engine gives the embedded DuckDB engine's per-window group counts for fairness in
production, and carries the sensitive columns through the outcome join alike (PySpark and Java 17+
needed; skipped with the reason otherwise)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from modelgov.monitoring.aggregates import WindowSpec
from modelgov.monitoring.group_scan import scan_groups
from modelgov.monitoring.outcome_scan import scan_outcomes
from spark_support import require_spark

require_spark()

from modelgov.monitoring.group_scan import scan_groups_spark  # noqa: E402
from modelgov.monitoring.spark_scan import read_log, scan_outcomes_spark  # noqa: E402

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    rng = np.random.default_rng(4)
    n = 3000
    week = rng.choice([0, 1, 3], size=n)  # week 2 is empty
    stamps = pd.Timestamp("2026-08-03T00:00:00Z") + pd.to_timedelta(
        week * 7 * 86400 + rng.integers(0, 7 * 86400, n), "s"
    )
    score = rng.random(n).round(2)
    score[:5] = np.nan
    log = pd.DataFrame({"ts": stamps, "id": np.arange(n), "sex": rng.choice(["F", "M", None], size=n, p=[0.5, 0.45, 0.05]),
                        "prediction": (rng.random(n) < 0.3).astype(int), "score": score})  # fmt: skip
    folder = tmp_path_factory.mktemp("spark-pf")
    log.to_parquet(folder / "log.parquet")
    pd.DataFrame({"id": np.arange(0, n, 2), "y": rng.integers(0, 2, len(range(0, n, 2)))}).to_parquet(
        folder / "truth.parquet"
    )
    return folder


def test_group_counts_are_the_same(spark, files) -> None:
    edges = np.array([0.25, 0.5, 0.75])
    options = dict(timestamp="ts", window=WindowSpec("week"), groups=["sex"], prediction="prediction",
                   positive_label=1, score="score", edges=edges)  # fmt: skip
    duck = scan_groups(files / "log.parquet", **options)
    lit = scan_groups_spark(read_log(spark, [str(files / "log.parquet")]), **options)
    assert [(w.start, w.rows) for w in duck] == [(w.start, w.rows) for w in lit]
    for a, b in zip(duck, lit, strict=True):
        if not a.rows:
            continue
        x, y = a.features["sex"], b.features["sex"]
        order = [y.labels.index(label) for label in x.labels]
        assert np.array_equal(x.rows, y.rows[order])
        assert np.array_equal(x.positives, y.positives[order])
        assert np.array_equal(x.cells, y.cells[order])
        assert np.allclose(x.sums, y.sums[order])


def test_the_outcome_join_carries_the_groups(spark, files) -> None:
    duck = list(scan_outcomes(files / "log.parquet", timestamp="ts", window=WindowSpec("week"), log_id="id",
                              truth=files / "truth.parquet", truth_id="id", truth_label="y", prediction="prediction",
                              groups=["sex"]))  # fmt: skip
    lit = list(scan_outcomes_spark(read_log(spark, [str(files / "log.parquet")]),
                                   read_log(spark, [str(files / "truth.parquet")]), truth_name="truth",
                                   timestamp="ts", window=WindowSpec("week"), log_id="id", truth_id="id",
                                   truth_label="y", prediction="prediction", groups=["sex"]))  # fmt: skip
    for a, b in zip(duck, lit, strict=True):
        key = lambda w: sorted(zip(map(str, w.groups["sex"]), w.labels.tolist(), w.predictions.tolist(), strict=True))  # noqa: E731
        assert key(a) == key(b)


def test_a_column_with_more_than_100_values_is_left_out_alike(spark, files, tmp_path) -> None:
    """Spark collected a row per window and value of such a column to the driver; it now counts its
    distinct values (at most 101) first, and leaves it out as the embedded engine does."""
    log = pd.read_parquet(files / "log.parquet")
    log.assign(code=log["id"].astype(str)).to_parquet(tmp_path / "log.parquet")
    options = dict(timestamp="ts", window=WindowSpec("week"), groups=["sex", "code"], prediction="prediction",
                   positive_label=1)  # fmt: skip
    duck = scan_groups(tmp_path / "log.parquet", **options)
    lit = scan_groups_spark(read_log(spark, [str(tmp_path / "log.parquet")]), **options)
    assert [sorted(w.features) for w in duck] == [sorted(w.features) for w in lit] == [["sex"]] * len(duck)


def test_a_respelt_group_and_a_column_of_lists_are_refused_alike(spark, files, tmp_path) -> None:
    """Both engines judge one log alike: groups that look alike are refused by Spark as by DuckDB,
    and so is a sensitive column of lists (Spark grouped its text, or failed as 'unhashable')."""
    from modelgov.monitoring.logsource import ScanError

    log = pd.read_parquet(files / "log.parquet")
    respelt = log.copy()
    respelt.loc[respelt.index[respelt["sex"] == "F"][:20], "sex"] = "F\u200b"
    respelt.to_parquet(tmp_path / "respelt.parquet")
    options = dict(timestamp="ts", window=WindowSpec("week"), groups=["sex"], prediction="prediction",
                   positive_label=1)  # fmt: skip
    for scan in (
        lambda: scan_groups(tmp_path / "respelt.parquet", **options),
        lambda: scan_groups_spark(read_log(spark, [str(tmp_path / "respelt.parquet")]), **options),
    ):
        with pytest.raises(ScanError, match=r"column 'sex': 1 set\(s\) of groups look alike"):
            scan()
    log.assign(sex=[[v] for v in log["sex"]]).to_parquet(tmp_path / "lists.parquet")
    with pytest.raises(ScanError, match="column 'sex' holds lists or objects"):
        scan_groups_spark(read_log(spark, [str(tmp_path / "lists.parquet")]), **options)


def test_the_outcome_join_refuses_columns_of_lists_alike(spark, files, tmp_path) -> None:
    """The embedded engine refuses a log or outcome column of lists when it defines the log; the
    Spark engine's outcome join does too, naming the table and the column."""
    from modelgov.monitoring.logsource import ScanError

    truth = pd.read_parquet(files / "truth.parquet")
    truth.assign(y=[[v] for v in truth["y"]]).to_parquet(tmp_path / "truth.parquet")
    with pytest.raises(ScanError, match="truth: column 'y' holds lists or objects"):
        list(scan_outcomes_spark(read_log(spark, [str(files / "log.parquet")]),
                                 read_log(spark, [str(tmp_path / "truth.parquet")]), truth_name="truth",
                                 timestamp="ts", window=WindowSpec("week"), log_id="id", truth_id="id",
                                 truth_label="y", prediction="prediction", groups=["sex"]))  # fmt: skip
