"""The per-window aggregation of :mod:`.scan`, run on Apache Spark for logs larger than one machine.

Drift needs only the aggregates of :mod:`.aggregates` (counts on the reference's bin edges, sums,
minimum and maximum per numeric feature; value counts per categorical feature; records per window),
and those are a ``GROUP BY`` away from the raw log. This module computes exactly those aggregates
with Spark DataFrames, so the log is read where it lives (a cluster's HDFS, Parquet on S3 through
``s3a://``) and only the aggregates — windows × features × edges numbers — reach the driver. The
drift statistics then run unchanged on the result.

It follows the embedded DuckDB scan definition for definition (the tests run both on the same data):

* windows are calendar windows cut in UTC (the session time zone is set to UTC; weeks start on
  Monday); text timestamps are parsed as ISO 8601 and naive ones are UTC;
* a numeric value falls in ``between[i]`` or ``at[i]`` exactly as in the contract: Spark's
  ``Bucketizer`` with splits ``[-inf, e_0, …, e_{m-1}, +inf]`` gives the number of edges ``<= x``,
  and an equality test against that edge tells ``at`` from ``between``;
* NULL, NaN and ±inf are missing; categorical values are compared as text, the
  :data:`~.aggregates.MAX_CATEGORIES` most frequent per window kept (ties by the text) and the rest
  folded into :data:`~.aggregates.OTHER`.

Row-count windows need a global order of the log and are left to the embedded engine.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from .aggregates import (
    MAX_CATEGORIES,
    OTHER,
    CategoricalAggregate,
    CategoricalPlan,
    NumericAggregate,
    NumericPlan,
    WindowAggregate,
    WindowSpec,
)
from .logsource import ScanError, calendar_span
from .outcome_scan import OutcomeCoverage, OutcomeWindow

if TYPE_CHECKING:  # pyspark is optional: imported only when a workspace selects the Spark engine
    from pyspark.sql import DataFrame, SparkSession

_WINDOW = "__w"
_FORMATS = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".jsonl": "json", ".json": "json"}


def spark_session(master: str | None = None, conf: dict[str, str] | None = None) -> SparkSession:
    """A session for the scan: the given master (``local[*]`` when none and no cluster is configured),
    UTC as the session time zone (windows are cut in UTC), and the user's ``conf`` (e.g. S3 settings)."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise ScanError(
            "the Spark monitoring engine needs PySpark: pip install 'modelgov[spark]' (and Java 17 or newer)"
        ) from None
    builder = SparkSession.builder.appName("modelgov-monitoring")
    if master:
        builder = builder.master(master)
    for key, value in (conf or {}).items():
        builder = builder.config(key, value)
    session = builder.config("spark.sql.session.timeZone", "UTC").getOrCreate()
    session.conf.set("spark.sql.session.timeZone", "UTC")
    return session


def read_log(spark: SparkSession, paths: Sequence[str]) -> DataFrame:
    """One DataFrame over the log files or folders (Parquet, CSV with a header, or JSON Lines;
    local paths or any URI Spark's file systems know, such as ``s3a://bucket/logs/``)."""
    kinds = {_FORMATS.get(_suffix(p)) for p in paths}
    if len(kinds) != 1 or None in kinds:
        raise ScanError(f"the Spark engine reads one format at a time (Parquet, CSV or JSON Lines): {list(paths)}")
    kind = kinds.pop()
    reader = spark.read
    if kind == "csv":
        reader = reader.option("header", "true")
    return reader.format(kind).load(list(paths))


def _suffix(path: str) -> str:
    name = path.rstrip("/").rsplit("/", 1)[-1].lower()
    return "." + name.rsplit(".", 1)[-1] if "." in name else ".parquet"  # a folder: a Parquet dataset


def refuse_nested(log: DataFrame, columns: Sequence[str], name: str = "log") -> None:
    """Refuse a column that Spark reads as a list, struct or map: the embedded engine refuses it
    when the log is defined (:func:`.logsource.define_log`), and both engines must judge one log alike
    (a list's text would be compared as a value, or grouped, where one value per record is due)."""
    kinds = dict(log.dtypes)
    for column in dict.fromkeys(columns):
        kind = kinds.get(column, "")
        if kind.startswith(("array<", "struct<", "map<")):
            raise ScanError(f"{name}: column {column!r} holds lists or objects ({kind}), not single values")


def scan_windows_spark(
    log: DataFrame,
    *,
    timestamp: str,
    window: WindowSpec,
    numeric: Sequence[NumericPlan],
    categorical: Sequence[CategoricalPlan],
) -> list[WindowAggregate]:
    """The aggregates :func:`.scan.scan_windows` returns, computed by Spark on ``log``."""

    if window.kind not in ("day", "week", "month"):
        raise ScanError("row-count windows need the embedded engine; the Spark engine cuts calendar windows")
    missing_columns = [c for c in [timestamp, *(p.column for p in [*numeric, *categorical])] if c not in log.columns]
    if missing_columns:
        raise ScanError(f"log: no column {', '.join(map(repr, missing_columns))} (columns: {', '.join(log.columns)})")
    refuse_nested(log, [p.column for p in [*numeric, *categorical]])
    framed = _framed(log, timestamp, window)
    rows = {int(r[0]): int(r[1]) for r in framed.groupBy(_WINDOW).count().collect()}
    if not rows:
        return []
    # one job per feature: a record without a value is counted as the window's records less those with one
    numeric_aggs = {plan.column: _numeric(framed, plan, rows) for plan in numeric}
    categorical_aggs = {
        plan.column: _categorical(framed, plan, dict(log.dtypes)[plan.column], rows) for plan in categorical
    }

    out = []
    for key, start, end in calendar_span(window.kind, min(rows), max(rows)):
        if key not in rows:
            out.append(WindowAggregate(start=start, end=end, rows=0))
            continue
        out.append(
            WindowAggregate(
                start=start,
                end=end,
                rows=rows[key],
                numeric={
                    c: aggs.get(key) or _empty(len(p.edges))
                    for (c, aggs), p in zip(numeric_aggs.items(), numeric, strict=True)
                },
                categorical={c: aggs.get(key, CategoricalAggregate(missing=0)) for c, aggs in categorical_aggs.items()},
            )
        )
    return out


def _framed(log: DataFrame, timestamp: str, window: WindowSpec) -> DataFrame:
    """``log`` with each record's calendar window (its start, in microseconds since the epoch, UTC);
    a record without a readable timestamp is an error naming the column and the value."""
    from pyspark.sql import functions as F

    stamp = F.col(timestamp)
    kind = dict(log.dtypes)[timestamp]
    moment = F.to_timestamp(stamp) if kind == "string" else stamp.cast("timestamp")
    framed = log.withColumn(_WINDOW, F.unix_micros(F.date_trunc(window.kind, moment)))
    untimed = framed.filter(F.col(_WINDOW).isNull()).select(F.col(timestamp).cast("string")).limit(1).collect()
    if untimed:
        raw = untimed[0][0]
        detail = "is empty on some records" if raw is None else f"holds {raw!r}, which is not a date-time"
        raise ScanError(f"column {timestamp!r} {detail}; every record needs an ISO 8601 timestamp")
    return framed


def scan_outcomes_spark(
    log: DataFrame,
    truth: DataFrame,
    *,
    truth_name: str,
    timestamp: str,
    window: WindowSpec,
    log_id: str,
    truth_id: str,
    truth_label: str,
    prediction: str | None = None,
    score: str | None = None,
    coverage: OutcomeCoverage | None = None,
    groups: Sequence[str] = (),
) -> Iterator[OutcomeWindow]:
    """What :func:`.outcome_scan.scan_outcomes` yields (and fills in ``coverage``), computed by Spark: the log joined with late ground
    truth by id, one calendar window at a time, gaps included. Only the labelled records reach the
    driver, one partition at a time in window order (``toLocalIterator``), so it holds one window's
    outcomes, not the log. The same outcome listed twice for an id counts once; different outcomes
    for one id are an error, as in the embedded engine."""
    from pyspark.sql import functions as F

    if window.kind not in ("day", "week", "month"):
        raise ScanError("row-count windows need the embedded engine; the Spark engine cuts calendar windows")
    wanted = [c for c in (timestamp, log_id, prediction, score, *groups) if c]
    if missing := [c for c in wanted if c not in log.columns]:
        raise ScanError(f"log: no column {', '.join(map(repr, missing))} (columns: {', '.join(log.columns)})")
    if missing := [c for c in (truth_id, truth_label) if c not in truth.columns]:
        raise ScanError(
            f"{truth_name}: no column {', '.join(map(repr, missing))} (columns: {', '.join(truth.columns)})"
        )
    refuse_nested(log, [c for c in (log_id, prediction, score, *groups) if c])
    refuse_nested(truth, [truth_id, truth_label], name=truth_name)
    framed = _framed(log, timestamp, window)
    outcomes = (
        truth.select(F.col(truth_id).alias("__id"), F.col(truth_label).alias("__label"))
        .filter(F.col("__id").isNotNull() & F.col("__label").isNotNull())
        .distinct()
    )
    conflicts = outcomes.groupBy("__id").agg(F.count("*").alias("__n")).filter(F.col("__n") > 1)
    example = conflicts.limit(1).collect()
    if example:
        raise ScanError(
            f"{truth_name}: {conflicts.count()} id(s) in column {truth_id!r} have"
            f" different outcomes in {truth_label!r} (e.g. {example[0][0]!r}); keep one outcome per id"
        )
    same_type = dict(log.dtypes)[log_id] == dict(truth.dtypes)[truth_id]
    key = F.col(log_id) if same_type else F.col(log_id).cast("string")
    right = outcomes if same_type else outcomes.withColumn("__id", F.col("__id").cast("string"))
    records = framed.select(
        _WINDOW,
        key.alias("__key"),
        (F.col(prediction) if prediction else F.lit(None)).alias("__prediction"),
        # a CSV log's columns are text to Spark (no schema inference): the score is read as a number,
        # as DuckDB's CSV reader types it; a value that is not one becomes missing and is reported so
        (F.col(score).cast("double") if score else F.lit(None)).alias("__score"),
        *(F.col(column).alias(f"__g{i}") for i, column in enumerate(groups)),
    )
    joined = records.join(right, records["__key"] == right["__id"], "left")
    if coverage is not None:
        every = truth.select(F.col(truth_id).alias("__id"), F.col(truth_label).alias("__label"))
        counts = every.agg(
            F.count(F.lit(1)), F.count(F.when(F.col("__id").isNull() | F.col("__label").isNull(), 1))
        ).collect()[0]
        usable = outcomes.count()
        matched = right.join(records.select("__key").distinct(), right["__id"] == F.col("__key"), "left_semi").count()
        coverage.rows, coverage.incomplete = int(counts[0]), int(counts[1])
        coverage.repeated = coverage.rows - coverage.incomplete - usable
        coverage.unmatched = usable - matched
    rows = {int(r[0]): int(r[1]) for r in framed.groupBy(_WINDOW).count().collect()}
    if not rows:
        return
    carried = [f"__g{i}" for i in range(len(groups))]
    labelled = joined.filter(F.col("__label").isNotNull()).select(
        _WINDOW, "__label", "__prediction", "__score", *carried
    )
    kinds = {name: _arrow_type(labelled.schema[name].dataType) for name in ("__label", "__prediction", *carried)}
    stream = labelled.orderBy(_WINDOW).toLocalIterator()
    pending = next(stream, None)
    for key_us, start, end in calendar_span(window.kind, min(rows), max(rows)):
        labels: list = []
        predictions: list = []
        scores: list = []
        values: list[list] = [[] for _ in groups]
        while pending is not None and int(pending[0]) == key_us:
            labels.append(pending[1])
            predictions.append(pending[2])
            scores.append(pending[3])
            for i, column in enumerate(values):
                column.append(pending[4 + i])
            pending = next(stream, None)
        total = rows.get(key_us, 0)
        yield OutcomeWindow(
            start=start,
            end=end,
            rows=total,
            labels=_array(labels, kinds["__label"]),
            predictions=_array(predictions, kinds["__prediction"]) if prediction else None,
            scores=_array(scores, pa.float64()) if score else None,
            unlabelled=total - len(labels),
            groups={c: _array(values[i], kinds[carried[i]]) for i, c in enumerate(groups)},
        )


def _arrow_type(kind: object) -> pa.DataType:
    from pyspark.sql.pandas.types import to_arrow_type

    return to_arrow_type(kind)


def _array(values: list, kind: pa.DataType) -> np.ndarray:
    """As the embedded engine's arrays are: through Arrow, typed by the column (an empty window's
    labels are an empty array of the labels' type), so text is an object array."""
    return pa.array(values, type=kind).to_numpy(zero_copy_only=False)


def _empty(m: int) -> NumericAggregate:
    return NumericAggregate(
        missing=0, between=np.zeros(m + 1, np.int64), at=np.zeros(m, np.int64), between_sum=np.zeros(m + 1)
    )


def _numeric(framed: DataFrame, plan: NumericPlan, rows: dict[int, int]) -> dict[int, NumericAggregate]:
    """Window key → the feature's cells: one ``GROUP BY (window, cell)`` over the log (one pass: each
    cell's count, sum, least and greatest value). ``rows`` is each window's number of records; those
    without a finite value are the rest."""
    from pyspark.ml.feature import Bucketizer
    from pyspark.sql import functions as F

    edges = np.asarray(plan.edges, dtype="float64")
    m = len(edges)
    x = F.col(plan.column).cast("double")
    x = F.when(x == 0, F.lit(0.0)).otherwise(x)  # -0.0 is 0.0 (Bucketizer's Java search would put it below)
    finite = x.isNotNull() & ~F.isnan(x) & (F.abs(x) != float("inf"))
    values = framed.select(_WINDOW, F.when(finite, x).alias("__x"))
    present = values.filter(F.col("__x").isNotNull())
    buckets = Bucketizer(
        splits=[-float("inf"), *edges.tolist(), float("inf")], inputCol="__x", outputCol="__b"
    ).transform(present)
    b = F.col("__b").cast("int")  # the number of edges <= x
    edge_array = F.array(*[F.lit(float(e)) for e in edges])
    exact = (b >= 1) & (F.element_at(edge_array, F.greatest(b, F.lit(1))) == F.col("__x"))
    cells = buckets.withColumn("__cell", F.when(exact, 2 * (b - 1) + 1).otherwise(2 * b))
    grouped = (
        cells.groupBy(_WINDOW, "__cell")
        .agg(F.count("*").alias("n"), F.sum("__x").alias("s"), F.min("__x"), F.max("__x"))
        .collect()
    )

    out: dict[int, NumericAggregate] = {}
    present_rows: dict[int, int] = {}
    for key, cell, n, s, low, high in grouped:
        key, cell, n = int(key), int(cell), int(n)
        agg = out.setdefault(key, _empty(m))
        present_rows[key] = present_rows.get(key, 0) + n
        if cell % 2:
            agg.at[cell // 2] += n
        else:
            agg.between[cell // 2] += n
            agg.between_sum[cell // 2] += float(s)
        agg.minimum = float(low) if agg.minimum is None else min(agg.minimum, float(low))
        agg.maximum = float(high) if agg.maximum is None else max(agg.maximum, float(high))
    for key, count in rows.items():
        if count > present_rows.get(key, 0):
            out.setdefault(key, _empty(m)).missing = count - present_rows.get(key, 0)
    return out


def _categorical(
    framed: DataFrame, plan: CategoricalPlan, kind: str, rows: dict[int, int]
) -> dict[int, CategoricalAggregate]:
    """Window key → value counts: the most frequent values (ties by the text), the rest as OTHER.
    ``rows`` is each window's number of records; those without a value are the rest."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    column = F.col(plan.column)
    if kind in ("double", "float"):
        column = F.when(~F.isnan(column) & (F.abs(column) != float("inf")), column)
    text = framed.select(_WINDOW, column.cast("string").alias("__v"))
    counts = text.groupBy(_WINDOW, "__v").count()
    ranked = counts.filter(F.col("__v").isNotNull()).withColumn(
        "__rank", F.row_number().over(Window.partitionBy(_WINDOW).orderBy(F.desc("count"), F.asc("__v")))
    )
    folded = (
        ranked.withColumn("__v", F.when(F.col("__rank") <= MAX_CATEGORIES, F.col("__v")).otherwise(F.lit(OTHER)))
        .groupBy(_WINDOW, "__v")
        .agg(F.sum("count").alias("count"))
    )
    out: dict[int, CategoricalAggregate] = {}
    for key, value, n in folded.collect():
        agg = out.setdefault(int(key), CategoricalAggregate(missing=0))
        agg.counts[value] = agg.counts.get(value, 0) + int(n)
    for key, count in rows.items():
        counted = sum(out[key].counts.values()) if key in out else 0
        if count > counted:
            out.setdefault(key, CategoricalAggregate(missing=0)).missing = count - counted
    return out
