"""Per window and per group of each sensitive column: records, predicted positives, and the score
counted on the estimator's edges — out of core, from DuckDB or Spark alike.

Fairness in production needs, for every window, each group's selection rate (predicted positives
over records, whether or not outcomes arrived) and, to estimate the group's confusion counts
before the outcomes arrive, the group's aggregate of the score on the edges of
:class:`~.estimated.Estimator` (a ``GROUP BY window, group, cell``). The result is the size of
windows × groups × edges, never the log: DuckDB streams Arrow batches of the four columns it
needs, and numpy adds each batch's counts per (window, group, cell), as :mod:`.scan` does for drift.

Group labels are the evaluation's (:func:`~modelgov.analysis.fairness.group_labels`): missing values
form ``(missing)`` and whole-number floats are written without ``.0``, so a production group and an
evaluation group of the same value carry the same name.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import duckdb
import numpy as np
import pandas as pd

from modelgov import feature_names
from modelgov.analysis.fairness import MISSING_GROUP, _label
from modelgov.lookalikes import lookalike_problem
from modelgov.text_safety import visible

from .aggregates import NumericAggregate, WindowSpec
from .logsource import (
    ScanError,
    _schema,
    calendar_span,
    connect,
    define_log,
    define_windows,
    describe,
    from_us,
    q,
    read_error,
    resolve_files,
    table_format,
    timestamp_problem,
)
from .numeric_cells import Locator
from .scan import BATCH_ROWS, MEMORY_LIMIT, Paths

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

#: More distinct values than this in a sensitive column are not groups (an id, a free-text field):
#: the feature is reported as not measured rather than charted as hundreds of groups, and is counted
#: no further once a batch shows it (its counts would grow with every value). The evaluation's bound.
MAX_GROUPS = feature_names.MAX_GROUPS


@dataclass
class GroupCounts:
    """One sensitive column in one window: per group (in :attr:`labels` order) its records, the
    records with a prediction, the predicted positives, and (with edges) its score cells."""

    labels: list[str] = field(default_factory=list)
    rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    decided: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    positives: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    #: (groups, 2m + 2): between[0], at[0], …, between[m], missing — as :mod:`.scan` interleaves them
    cells: np.ndarray | None = None
    sums: np.ndarray | None = None  # (groups, m + 1): the sum of the scores in each between cell

    def grow(self, groups: int, width: int | None) -> None:
        extra = groups - len(self.labels)
        if extra <= 0:
            return
        self.rows, self.decided, self.positives = (
            np.pad(a, (0, extra)) for a in (self.rows, self.decided, self.positives)
        )
        if width is not None:
            if self.cells is None:
                self.cells = np.zeros((0, width), np.int64)
                self.sums = np.zeros((0, width // 2), np.float64)
            self.cells = np.pad(self.cells, ((0, extra), (0, 0)))
            self.sums = np.pad(self.sums, ((0, extra), (0, 0)))

    def score(self, group: int) -> NumericAggregate | None:
        """The group's aggregate of the score on the edges it was counted on."""
        if self.cells is None or self.sums is None:
            return None
        row = self.cells[group]
        m = (len(row) - 2) // 2
        return NumericAggregate(
            missing=int(row[-1]),
            between=row[0 : 2 * m + 1 : 2].copy(),
            at=row[1 : 2 * m : 2].copy(),
            between_sum=self.sums[group].copy(),
        )


@dataclass
class GroupWindow:
    start: dt.datetime
    end: dt.datetime
    rows: int
    features: dict[str, GroupCounts] = field(default_factory=dict)


def log_columns(paths: Paths) -> list[str]:
    """The columns every file of the log has (a sensitive feature is measured only where present)."""
    files = resolve_files(paths)
    con = duckdb.connect()
    try:
        by_format: dict[str, list[Path]] = {}
        for path in files:
            by_format.setdefault(table_format(path), []).append(path)
        found = [set(_schema(con, fmt, group)) for fmt, group in by_format.items()]
    except duckdb.Error as exc:
        raise read_error(exc, files) from None
    finally:
        con.close()
    common = set.intersection(*found) if found else set()
    return sorted(common)


def _positive(values: pd.Series, positive_label: object) -> tuple[np.ndarray, np.ndarray]:
    """(has a prediction, is the positive label), comparing numbers as numbers and anything else as
    text — as the evaluation reads a prediction (:func:`~modelgov.analysis.evaluation.prepare_arrays`)."""
    present = values.notna().to_numpy()
    numeric_label = isinstance(positive_label, int | float) and not isinstance(positive_label, bool)
    if numeric_label and pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        positive = values.to_numpy() == positive_label
    else:
        positive = (values.astype(str) == str(positive_label)).to_numpy()
    return present, positive & present


class _Labeller:
    """Global group indices of one sensitive column, stable across batches. Once it has seen more
    than :data:`MAX_GROUPS` groups it is ``too_many``: its index is dropped and the column counted no
    further, so a column with a value per record costs one batch, not the log."""

    def __init__(self, column: str):
        self.column = column
        self.index: dict[str, int] = {}
        self.too_many = False

    def overflows(self) -> bool:
        """Whether the groups seen so far are too many (and, the first time, forget them)."""
        if not self.too_many and len(self.index) > MAX_GROUPS:
            self.too_many, self.index = True, {}
        return self.too_many

    def codes(self, values: pd.Series) -> np.ndarray:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        names = [_label(u) for u in uniques] + [MISSING_GROUP]
        for name in names[:-1] if (codes >= 0).all() else names:
            self.index.setdefault(name, len(self.index))
        lookup = np.array([self.index.get(name, -1) for name in names], dtype=np.int64)
        return lookup[np.where(codes < 0, len(uniques), codes)]


def scan_groups(
    paths: Paths,
    *,
    timestamp: str,
    window: WindowSpec,
    groups: Sequence[str],
    prediction: str | None,
    positive_label: object,
    score: str | None = None,
    edges: np.ndarray | None = None,
    threshold: float | None = None,
    memory_limit: str = MEMORY_LIMIT,
    threads: int | None = None,
    batch_rows: int = BATCH_ROWS,
) -> list[GroupWindow]:
    """Per window (the windows of :func:`.scan.scan_windows`, empty ones included) and per sensitive
    column in ``groups``: each group's records, predictions and predicted positives, and with
    ``score`` and ``edges`` its score counted on the edges. A record is predicted positive when its
    ``prediction`` is ``positive_label``; without a prediction column, when its score is at least
    ``threshold``. Columns with more than :data:`MAX_GROUPS` values are dropped from the result
    (the caller says so)."""
    files = resolve_files(paths)
    columns: dict[str, str] = {c: "raw" for c in groups}
    if prediction:
        columns[prediction] = "raw"
    if score:
        columns.setdefault(score, "numeric")
    if prediction is None and (score is None or threshold is None):
        raise ValueError("a selection rate needs the prediction column, or the score and the decision threshold")
    locator = Locator(np.asarray(edges, dtype="float64")) if score and edges is not None else None
    width = 2 * len(locator.edges) + 2 if locator is not None else None
    labellers = {c: _Labeller(c) for c in groups}
    states: dict[int, dict[str, GroupCounts]] = {}
    totals: dict[int, list[int]] = {}  # key → [rows, first µs, last µs]
    with tempfile.TemporaryDirectory(prefix="modelgov-scan-") as spill:
        con = connect(memory_limit, threads, Path(spill))
        try:
            define_log(con, files, timestamp, columns)  # type: ignore[arg-type]
            define_windows(con, window, timestamp, ties=[c for c in (prediction, score) if c])
            wanted = ["__w", "__t", *(q(c) for c in groups)]
            wanted += [q(prediction) if prediction else "NULL", q(score) if score else "NULL"]
            reader = con.sql(f"SELECT {', '.join(wanted)} FROM wlog").to_arrow_reader(batch_rows)
            for batch in reader:
                if batch.num_rows == 0:
                    continue
                if batch.column(0).null_count:
                    raise timestamp_problem(con, timestamp)
                _add_batch(batch, groups, labellers, states, totals, prediction, positive_label, locator, threshold)
        except duckdb.Error as exc:
            raise read_error(exc, files) from None
        finally:
            con.close()
    refuse_lookalike_groups(labellers, describe(files))
    return _windows(states, totals, window, groups, labellers, width)


def refuse_lookalike_groups(labellers: dict[str, _Labeller], where: str) -> None:
    """Refuse a log's sensitive column whose groups look alike (:func:`modelgov.lookalikes.lookalike_problem`),
    naming ``where`` (the log's files) and the column, whichever engine counted it; a column with too
    many values to be groups is left to the caller."""
    for column, labeller in labellers.items():
        if labeller.too_many:
            continue
        problem = lookalike_problem(name for name in labeller.index if name != MISSING_GROUP)
        if problem:
            raise ScanError(f"{where}: column {visible(column, keep='')!r}: {problem}")


def _add_batch(batch, groups, labellers, states, totals, prediction, positive_label, locator, threshold) -> None:
    w = batch.column(0).to_numpy()
    t = batch.column(1).to_numpy()
    keys, inverse = np.unique(w, return_inverse=True)
    k = len(keys)
    n_groups = len(groups)
    x = None
    if batch.column(3 + n_groups).null_count < batch.num_rows:
        x = batch.column(3 + n_groups).to_numpy(zero_copy_only=False).astype("float64")
    if prediction:
        decided, positive = _positive(batch.column(2 + n_groups).to_pandas(), positive_label)
    else:
        assert x is not None and threshold is not None
        decided = np.isfinite(x)
        positive = decided & (x >= threshold)
    sizes = np.bincount(inverse, minlength=k)
    order = np.argsort(inverse, kind="stable")
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    firsts, lasts = np.minimum.reduceat(t[order], starts), np.maximum.reduceat(t[order], starts)
    for key, size, first, last in zip(keys, sizes, firsts, lasts, strict=True):
        entry = totals.setdefault(int(key), [0, int(first), int(last)])
        entry[0] += int(size)
        entry[1], entry[2] = min(entry[1], int(first)), max(entry[2], int(last))
    cell = None
    if locator is not None and x is not None:
        m = len(locator.edges)
        finite = np.isfinite(x)
        index = locator.left(np.where(finite, x, 0.0))
        cell = 2 * index + (locator.padded[index] == x)
        cell[~finite] = 2 * m + 1
        clean = np.where(finite, x, 0.0)
    for i, column in enumerate(groups):
        if labellers[column].too_many:
            continue
        codes = labellers[column].codes(batch.column(2 + i).to_pandas())
        if labellers[column].overflows():
            for found in states.values():
                found.pop(column, None)
            continue
        g = len(labellers[column].index)
        combined = inverse * g + codes
        rows = np.bincount(combined, minlength=k * g).reshape(k, g)
        has = np.bincount(combined, weights=decided, minlength=k * g).reshape(k, g)
        pos = np.bincount(combined, weights=positive, minlength=k * g).reshape(k, g)
        cells = sums = None
        width = None
        if cell is not None and locator is not None:
            width = 2 * len(locator.edges) + 2
            flat = combined * width + cell
            cells = np.bincount(flat, minlength=k * g * width).reshape(k, g, width)
            sums = np.bincount(flat, weights=clean, minlength=k * g * width).reshape(k, g, width)[:, :, 0:-1:2]
        elif locator is not None:
            width = 2 * len(locator.edges) + 2
            cells = np.zeros((k, g, width), np.int64)
            cells[..., -1] = rows  # no score in this batch: every record's score is missing
            sums = np.zeros((k, g, width // 2))
        for j, key in enumerate(keys):
            state = states.setdefault(int(key), {}).setdefault(column, GroupCounts())
            state.grow(g, width)
            state.labels = list(labellers[column].index)
            state.rows += rows[j].astype(np.int64)
            state.decided += has[j].astype(np.int64)
            state.positives += pos[j].astype(np.int64)
            if cells is not None and state.cells is not None and state.sums is not None:
                state.cells += cells[j].astype(np.int64)
                state.sums += sums[j]


def _windows(states, totals, window: WindowSpec, groups, labellers, width) -> list[GroupWindow]:
    """The windows in order, calendar gaps included; every window's counts cover every group seen
    in the log (zeros where a group had no record), and columns with too many groups dropped."""
    if not totals:
        return []
    too_many = {c for c in groups if labellers[c].overflows()}

    def finish(key: int, start: dt.datetime, end: dt.datetime) -> GroupWindow:
        found = states.get(key, {})
        total = totals.get(key, [0])[0]
        out = GroupWindow(start=start, end=end, rows=total)
        for column in groups:
            if column in too_many:
                continue
            state = found.get(column, GroupCounts())
            state.grow(len(labellers[column].index), width)
            state.labels = list(labellers[column].index)
            out.features[column] = state
        return out

    if window.kind == "rows":
        return [finish(k, from_us(v[1]), from_us(v[2] + 1)) for k, v in sorted(totals.items())]
    return [finish(*span) for span in calendar_span(window.kind, min(totals), max(totals))]


# --------------------------------------------------------------------------- Spark


def scan_groups_spark(
    log: DataFrame,
    *,
    timestamp: str,
    window: WindowSpec,
    groups: Sequence[str],
    prediction: str | None,
    positive_label: object,
    score: str | None = None,
    edges: np.ndarray | None = None,
    threshold: float | None = None,
) -> list[GroupWindow]:
    """What :func:`scan_groups` returns, computed by Spark: one ``GROUP BY window, group,
    predicted`` for the counts and one ``GROUP BY window, group, cell`` per sensitive column for the
    score (cells as :func:`.spark_scan._numeric` finds them); only the counts reach the driver."""
    from pyspark.ml.feature import Bucketizer
    from pyspark.sql import functions as F

    from .logsource import ScanError
    from .spark_scan import _framed, refuse_nested

    if window.kind not in ("day", "week", "month"):
        raise ScanError("row-count windows need the embedded engine; the Spark engine cuts calendar windows")
    if prediction is None and (score is None or threshold is None):
        raise ValueError("a selection rate needs the prediction column, or the score and the decision threshold")
    wanted = [c for c in (timestamp, prediction, score, *groups) if c]
    if missing := [c for c in wanted if c not in log.columns]:
        raise ScanError(f"log: no column {', '.join(map(repr, missing))} (columns: {', '.join(log.columns)})")
    refuse_nested(log, [c for c in (prediction, score, *groups) if c])
    framed = _framed(log, timestamp, window)
    totals = {int(r[0]): [int(r[1]), 0, 0] for r in framed.groupBy("__w").count().collect()}
    if not totals:
        return []
    x = F.col(score).cast("double") if score else None
    finite = (x.isNotNull() & ~F.isnan(x) & (F.abs(x) != float("inf"))) if x is not None else None
    labellers = {c: _Labeller(c) for c in groups}
    states: dict[int, dict[str, GroupCounts]] = {}
    width = 2 * len(edges) + 2 if score and edges is not None else None
    for column in groups:
        if framed.select(column).distinct().limit(MAX_GROUPS + 1).count() > MAX_GROUPS:
            labellers[column].too_many = True  # not collected: a row per window and value would reach the driver
            continue
        # the prediction's values are collected distinct per (window, group), then read as the
        # embedded engine reads them, so both engines decide "positive" alike
        keyed = framed.select(
            "__w",
            F.col(column).alias("__g"),
            (F.col(prediction) if prediction else F.lit(None)).alias("__p"),
            (F.when(finite, x) if x is not None else F.lit(None).cast("double")).alias("__x"),
        )
        if prediction:
            counted = keyed.groupBy("__w", "__g", "__p").count().collect()
        else:
            decided = F.col("__x").isNotNull()
            counted = (
                keyed.groupBy("__w", "__g")
                .agg(
                    F.count("*").alias("n"),
                    F.count(F.when(decided, 1)).alias("d"),
                    F.count(F.when(decided & (F.col("__x") >= F.lit(float(threshold))), 1)).alias("p"),
                )
                .collect()
            )
        values = pd.Series([r[1] for r in counted], dtype=object)
        codes = labellers[column].codes(values) if len(values) else np.zeros(0, np.int64)
        for row, code in zip(counted, codes, strict=True):
            state = states.setdefault(int(row[0]), {}).setdefault(column, GroupCounts())
            state.grow(len(labellers[column].index), width)
            if prediction:
                n = int(row[3])
                has, pos = _positive(pd.Series([row[2]]), positive_label)
                state.rows[code] += n
                state.decided[code] += n * int(has[0])
                state.positives[code] += n * int(pos[0])
            else:
                state.rows[code] += int(row[2])
                state.decided[code] += int(row[3])
                state.positives[code] += int(row[4])
        if width is None or x is None:
            continue
        present = keyed.filter(F.col("__x").isNotNull())
        buckets = Bucketizer(
            splits=[-float("inf"), *np.asarray(edges, float).tolist(), float("inf")], inputCol="__x", outputCol="__b"
        ).transform(present.withColumn("__x", F.when(F.col("__x") == 0, F.lit(0.0)).otherwise(F.col("__x"))))
        b = F.col("__b").cast("int")
        edge_array = F.array(*[F.lit(float(e)) for e in np.asarray(edges, float)])
        exact = (b >= 1) & (F.element_at(edge_array, F.greatest(b, F.lit(1))) == F.col("__x"))
        cells = buckets.withColumn("__cell", F.when(exact, 2 * (b - 1) + 1).otherwise(2 * b))
        grouped = cells.groupBy("__w", "__g", "__cell").agg(F.count("*"), F.sum("__x")).collect()
        missing = keyed.filter(F.col("__x").isNull()).groupBy("__w", "__g").count().collect()
        for rows, is_missing in ((grouped, False), (missing, True)):
            values = pd.Series([r[1] for r in rows], dtype=object)
            codes = labellers[column].codes(values) if len(values) else np.zeros(0, np.int64)
            for row, code in zip(rows, codes, strict=True):
                state = states.setdefault(int(row[0]), {}).setdefault(column, GroupCounts())
                state.grow(len(labellers[column].index), width)
                assert state.cells is not None and state.sums is not None
                if is_missing:
                    state.cells[code, -1] += int(row[2])
                    continue
                cell = int(row[2])
                state.cells[code, cell] += int(row[3])
                if cell % 2 == 0:
                    state.sums[code, cell // 2] += float(row[4])
    refuse_lookalike_groups(labellers, "log")
    return _windows(states, totals, window, groups, labellers, width)
