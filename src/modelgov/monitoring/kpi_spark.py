"""Business KPIs' per-window statistics computed by Apache Spark, for logs that live on a cluster.

The twin of :mod:`.kpi_scan`: the same measures, the same true/false and missing text, and rows of
the same layout (:mod:`.kpi_definitions`), so :func:`kpi_windows_spark` returns what
:func:`.kpi_scan.kpi_windows` returns for the same log (a test compares them). PySpark is imported
only when the Spark engine is selected.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from .aggregates import WindowSpec
from .kpi_definitions import (
    FALSE_TEXT,
    MISSING_TEXT,
    TRUE_TEXT,
    KpiSpec,
    KpiWindowStats,
    Measure,
    assemble,
    invalid_rates,
    measures_of,
    not_a_rate,
)
from .logsource import ScanError

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame


def kpi_windows_spark(
    log: DataFrame,
    specs: Sequence[KpiSpec],
    *,
    timestamp: str,
    window: WindowSpec,
    truth: DataFrame | None = None,
    truth_name: str = "the outcomes",
    log_id: str | None = None,
    truth_id: str | None = None,
) -> list[KpiWindowStats]:
    """What :func:`.kpi_scan.kpi_windows` returns, computed by Spark (calendar windows only): one ``groupBy``
    of the log (left-joined with the distinct outcome rows by id) with the same aggregates; only
    windows × KPIs numbers reach the driver."""
    from pyspark.sql import functions as F

    from .spark_scan import _framed

    if window.kind not in ("day", "week", "month"):
        raise ScanError("row-count windows need the embedded engine; the Spark engine cuts calendar windows")
    measures = measures_of(specs)
    on_outcomes = any(table == "outcomes" for table in measures.values())
    log_needed = [timestamp, *(c for m, t in measures.items() if t == "log" for c in m.columns)]
    if on_outcomes:
        if truth is None or log_id is None or truth_id is None:
            raise ValueError("a KPI on the outcomes needs monitoring.id and monitoring.ground_truth")
        log_needed.append(log_id)
    if missing := [c for c in dict.fromkeys(log_needed) if c not in log.columns]:
        raise ScanError(f"log: no column {', '.join(map(repr, missing))} (columns: {', '.join(log.columns)})")
    framed = _framed(log, timestamp, window).withColumn("__t", F.unix_micros(_moment(log, timestamp)))
    records = framed
    if on_outcomes:
        assert truth is not None and truth_id is not None and log_id is not None
        wanted = [c for m, t in measures.items() if t == "outcomes" for c in m.columns]
        if missing := [c for c in dict.fromkeys([truth_id, *wanted]) if c not in truth.columns]:
            raise ScanError(
                f"{truth_name}: no column {', '.join(map(repr, missing))} (columns: {', '.join(truth.columns)})"
            )
        picked = list(dict.fromkeys(wanted))
        outcomes = (
            truth.select(F.col(truth_id).alias("__id"), *(F.col(c).alias(f"__o_{c}") for c in picked))
            .filter(F.col("__id").isNotNull())
            .distinct()
        )
        conflicts = outcomes.groupBy("__id").count().filter(F.col("count") > 1)
        example = conflicts.limit(1).collect()
        if example:
            raise ScanError(
                f"{truth_name}: {conflicts.count()} id(s) in column {truth_id!r} have different values in "
                f"{', '.join(map(repr, picked))} (e.g. {example[0][0]!r}); a KPI counts one outcome row per id"
            )
        same = dict(log.dtypes)[log_id] == dict(truth.dtypes)[truth_id]
        key = F.col(log_id) if same else F.col(log_id).cast("string")
        right = outcomes if same else outcomes.withColumn("__id", F.col("__id").cast("string"))
        records = framed.withColumn("__key", key).join(right, F.col("__key") == right["__id"], "left")
    matched = F.col("__id").isNotNull() if on_outcomes else F.lit(True)
    columns = ["__w", "__t", matched.alias("__matched")]
    names: dict[tuple[int, int], str] = {}
    for i, (measure, table) in enumerate(measures.items()):
        for j, column in enumerate(measure.columns):
            source = F.col(column) if table == "log" else F.col(f"__o_{column}")
            names[(i, j)] = f"__m{i}_{j}"
            value = _rate_spark(source) if measure.aggregation == "rate" else _numeric_spark(source)
            columns.append(value.alias(names[(i, j)]))
    values = records.select(*columns)
    aggregates = [F.count(F.lit(1)), F.count(F.when(F.col("__matched"), 1)), F.min("__t"), F.max("__t")]
    for i, (measure, table) in enumerate(measures.items()):
        scope = F.col("__matched") if table == "outcomes" else F.lit(True)
        aggregates += _aggregates_spark(measure, [names[(i, j)] for j in range(len(measure.columns))], scope)
    rows = [tuple(r) for r in values.groupBy("__w").agg(*aggregates).orderBy("__w").collect()]
    if (bad := invalid_rates(rows, list(measures))) is not None:
        measure, table = list(measures.items())[bad]
        name = names[(bad, 0)]
        source = measure.columns[0] if table == "log" else f"__o_{measure.columns[0]}"
        found = records.select(F.col(source).cast("string"), _rate_spark(F.col(source)).alias(name))
        example = found.filter(F.col(name) == -1.0).limit(1).collect()
        where = "log" if table == "log" else truth_name
        raise not_a_rate(where, measure.columns[0], example[0][0] if example else None)
    return assemble(rows, list(measures), window, on_outcomes)


def _moment(log: DataFrame, timestamp: str) -> Column:
    from pyspark.sql import functions as F

    stamp = F.col(timestamp)
    return F.to_timestamp(stamp) if dict(log.dtypes)[timestamp] == "string" else stamp.cast("timestamp")


def _rate_spark(column: Column) -> Column:
    from pyspark.sql import functions as F

    text = F.lower(F.trim(column.cast("string")))
    return (
        F.when(column.isNull() | text.isin(*MISSING_TEXT), F.lit(None).cast("double"))
        .when(text.isin(*TRUE_TEXT), F.lit(1.0))
        .when(text.isin(*FALSE_TEXT), F.lit(0.0))
        .otherwise(F.lit(-1.0))
    )


def _numeric_spark(column: Column) -> Column:
    from pyspark.sql import functions as F

    x = column.cast("double")
    return F.when(x.isNotNull() & ~F.isnan(x) & (F.abs(x) != float("inf")), x)


def _aggregates_spark(measure: Measure, names: list[str], matched: Column) -> list[Column]:
    from pyspark.sql import functions as F

    if measure.aggregation == "rate":
        (x,) = names
        valid = F.col(x) >= 0
        return [
            F.count(F.when(valid, 1)),
            F.count(F.when(matched & F.col(x).isNull(), 1)),
            F.sum(F.when(valid, F.col(x))),
            F.max(F.lit(None).cast("double")),
            F.count(F.when(F.col(x) < 0, 1)),
        ]
    if measure.aggregation != "ratio":
        (x,) = names
        return [
            F.count(x),
            F.count(F.when(matched & F.col(x).isNull(), 1)),
            F.sum(x),
            F.var_samp(x),
        ]
    y, x = names
    both = F.col(y).isNotNull() & F.col(x).isNotNull()
    return [
        F.count(F.when(both, 1)),
        F.count(F.when(matched & ~both, 1)),
        F.sum(F.when(both, F.col(y))),
        F.var_samp(F.when(both, F.col(y))),
        F.sum(F.when(both, F.col(x))),
        F.var_samp(F.when(both, F.col(x))),
        F.covar_samp(y, x),
    ]
