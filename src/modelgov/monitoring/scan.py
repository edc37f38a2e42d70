"""Aggregate scoring logs window by window, out of core: the producer of :mod:`.aggregates`.

DuckDB reads the files where they are (:mod:`.logsource` defines the views) and computes each
record's window; the log is then reduced in two passes, Python holding one batch of records and the
running counts (the size of the result: windows × features × edges), never the log:

* **Numeric features**: DuckDB streams Arrow record batches of ``BATCH_ROWS`` records; numpy puts
  each value in its cell (a binary search on the edges, :class:`_Locator`) and ``bincount`` adds the
  counts and sums per window, two features at a time on two threads. Binning 10M rows × 25 features
  × ~1,000 edges on 2 cores took 9.7 s this way with plain ``np.searchsorted``, 19.5 s with the same
  binary search unrolled in SQL (and grouped after an UNPIVOT), and 9.3 s per *million* rows with an
  ASOF join of the unpivoted log onto the edges; :class:`_Locator` brings the whole benchmark
  (``benchmarks/scan_benchmark.py``, categorical pass included) from 10.7 s to 4.5 s.
* **Categorical features**: counted in SQL (``GROUPING SETS``), because the number of distinct
  values is not bounded the way edges are; DuckDB's aggregate spills to disk, and only the
  :data:`~.aggregates.MAX_CATEGORIES` most frequent values per window come back, the rest as
  :data:`~.aggregates.OTHER`.

Missing means NULL, NaN or ±inf, as in the reference profile (and Evidently).
"""

from __future__ import annotations

import datetime as dt
import itertools
import os
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
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
from .logsource import (
    MAX_LOG_LINE_BYTES,
    Role,
    ScanError,
    calendar_span,
    connect,
    define_log,
    define_windows,
    describe,
    from_us,
    lit,
    next_start,
    q,
    read_error,
    resolve_files,
    timestamp_problem,
    to_us,
)

__all__ = [
    "BATCH_ROWS",
    "LogWindow",
    "OutcomeCoverage",
    "OutcomeWindow",
    "ScanError",
    "read_window",
    "scan_outcomes",
    "scan_windows",
    "window_start",
]

#: DuckDB's working memory before it spills to disk. Scans stream, so more buys no speed: on a
#: 1M-record, 26-column Parquet log 512 MB gave the same time as 1 GB and a 130 MB lower peak.
MEMORY_LIMIT = "512MB"

#: Records per Arrow batch. Peak memory grows with it (8 bytes × (numeric features + 2) per record,
#: plus numpy's temporaries for two features at a time): on the 10M-row benchmark, 65,536 / 131,072 /
#: 262,144 / 1,048,576 gave 714 / 870 / 1,056 / 1,616 MB peak RSS in 4.6 / 4.0 / 4.5 / 5.7 s.
BATCH_ROWS = 131_072

Paths = Sequence[Path | str] | Path | str


def _workers(threads: int | None) -> int:
    return max(1, threads or os.cpu_count() or 1)


# --------------------------------------------------------------------------- numeric cells


class _Locator:
    """``np.searchsorted(edges, x, 'left')`` for finite ``x``, about twice as fast on edges spread
    over their range (quantiles of most features): a lookup table over ``PER_EDGE × len(edges)``
    equal-width cells of [e_0, e_(m-1)] gives, for each value, a range of a few candidate positions,
    resolved by ``STEPS`` comparisons; values whose range is wider fall back to ``searchsorted``.

    The table is widened by one cell on each side, so rounding in ``(x - e_0) × scale`` (far below a
    cell's width, which is checked) cannot put a value outside its range. Where most edges sit in a
    few cells (heavy tails: lognormal, an outlier edge), the table would not help, and plain
    ``searchsorted`` is used. Non-finite values get an arbitrary position; callers mask them."""

    PER_EDGE = 16
    STEPS = 2
    MIN_EDGES = 16

    def __init__(self, edges: np.ndarray):
        self.edges = np.asarray(edges, dtype="float64")
        m = len(self.edges)
        self.padded = np.concatenate([self.edges, np.full(self.STEPS + 1, np.inf)])
        self.table = False
        if m <= self.MIN_EDGES:
            return
        lo, hi = float(self.edges[0]), float(self.edges[-1])
        cells = self.PER_EDGE * m
        width = (hi - lo) / cells
        if not (np.isfinite(width) and width > 2.0**-40 * max(abs(lo), abs(hi))):
            return
        grid = lo + np.arange(cells + 1) * width
        lut = np.concatenate([np.searchsorted(self.edges, grid, "left"), [m, m]])
        g = np.arange(cells)
        self.low = lut[np.maximum(g - 1, 0)].astype(np.intp)
        self.high = lut[np.minimum(g + 2, cells + 1)].astype(np.intp)
        self.origin, self.scale, self.last = lo, 1.0 / width, cells - 1
        own = self._cell(self.edges)
        self.table = bool(np.mean(self.high[own] - self.low[own] > self.STEPS) < 0.1)

    def _cell(self, x: np.ndarray) -> np.ndarray:
        return np.fmin(np.fmax((x - self.origin) * self.scale, 0.0), self.last).astype(np.intp)

    def left(self, x: np.ndarray) -> np.ndarray:
        if not self.table:
            return np.searchsorted(self.edges, x, "left")
        cell = self._cell(x)
        low = self.low[cell]
        index = low.copy()
        for k in range(self.STEPS):
            index += self.padded[low + k] < x
        far = np.flatnonzero(self.high[cell] - low > self.STEPS)
        if len(far):
            index[far] = np.searchsorted(self.edges, x[far], "left")
        return index


@dataclass
class _Numeric:
    """Running counts of one feature in one window: interleaved cells (between[0], at[0], between[1],
    …, between[m]) and a last slot for missing values, and the sums of the between cells. Kept the
    size of the result (3m + 3 numbers), since every window's counts stay until the log is read."""

    counts: np.ndarray
    sums: np.ndarray
    low: float = np.inf
    high: float = -np.inf

    def aggregate(self) -> NumericAggregate:
        m = len(self.sums) - 1
        finite = self.low <= self.high
        return NumericAggregate(
            missing=int(self.counts[-1]),
            between=self.counts[0 : 2 * m + 1 : 2].copy(),
            at=self.counts[1 : 2 * m : 2].copy(),
            between_sum=self.sums,
            minimum=float(self.low) if finite else None,
            maximum=float(self.high) if finite else None,
        )


@dataclass
class _Window:
    rows: int = 0
    first: int = np.iinfo(np.int64).max  # timestamps, epoch µs
    last: int = np.iinfo(np.int64).min
    numeric: dict[str, _Numeric] = field(default_factory=dict)


def _cells(x: np.ndarray, locator: _Locator, inverse: np.ndarray | None, keys: int, groups) -> tuple:
    """Counts per (window, cell) of one batch of one feature, sums per (window, between cell), and
    the minimum and maximum finite value per window."""
    m = len(locator.edges)
    width = 2 * m + 2
    finite = np.isfinite(x)
    index = locator.left(x)
    cell = 2 * index + (locator.padded[index] == x)
    cell[~finite] = width - 1
    if inverse is not None:
        cell += inverse * width
    counts = np.bincount(cell, minlength=keys * width).reshape(keys, width)
    sums = np.bincount(cell, weights=np.where(finite, x, 0.0), minlength=keys * width).reshape(keys, width)[:, 0:-1:2]
    clean = np.where(finite, x, np.nan)
    if groups is None:
        low, high = np.fmin.reduce(clean, keepdims=True), np.fmax.reduce(clean, keepdims=True)
    else:
        order, starts = groups
        clean = clean[order]
        low, high = np.fmin.reduceat(clean, starts), np.fmax.reduceat(clean, starts)
    return counts, sums, low, high


def _stream(
    con: duckdb.DuckDBPyConnection, plans: Sequence[NumericPlan], workers: int, batch_rows: int
) -> tuple[dict[int, _Window], bool]:
    """One pass over ``wlog``: rows, first/last timestamp and numeric cells per window key. Stops at
    the first record without a window (returns ``True``: a timestamp problem)."""
    locators = {p.column: _Locator(p.edges) for p in plans}
    columns = ", ".join(["__w", "__t", *(q(p.column) for p in plans)])
    reader = con.sql(f"SELECT {columns} FROM wlog").to_arrow_reader(batch_rows)
    windows: dict[int, _Window] = {}
    with ThreadPoolExecutor(max_workers=workers) if workers > 1 and len(plans) > 1 else _Inline() as pool:
        for batch in reader:
            if batch.num_rows == 0:
                continue
            if batch.column(0).null_count:
                return windows, True
            w = batch.column(0).to_numpy()
            t = batch.column(1).to_numpy()
            if w[0] == w[-1] and (w == w[0]).all():
                keys, inverse, groups = w[:1], None, None
                sizes = np.array([len(w)])
                firsts, lasts = t.min(keepdims=True), t.max(keepdims=True)
            else:
                keys, inverse = np.unique(w, return_inverse=True)
                order = np.argsort(inverse, kind="stable")
                sizes = np.bincount(inverse, minlength=len(keys))
                starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
                groups = (order, starts)
                firsts, lasts = np.minimum.reduceat(t[order], starts), np.maximum.reduceat(t[order], starts)
            states = [windows.setdefault(int(k), _Window()) for k in keys]
            for state, size, first, last in zip(states, sizes, firsts, lasts, strict=True):
                state.rows += int(size)
                state.first, state.last = min(state.first, int(first)), max(state.last, int(last))

            def work(i: int, batch=batch, inverse=inverse, keys=keys, groups=groups):
                plan = plans[i]
                x = batch.column(i + 2).to_numpy(zero_copy_only=False).astype("float64", copy=False)
                return _cells(x, locators[plan.column], inverse, len(keys), groups)

            for plan, (counts, sums, low, high) in zip(plans, pool.map(work, range(len(plans))), strict=True):
                for j, state in enumerate(states):
                    acc = state.numeric.get(plan.column)
                    if acc is None:
                        acc = state.numeric[plan.column] = _Numeric(
                            np.zeros(counts.shape[1], "int64"), np.zeros(sums.shape[1])
                        )
                    acc.counts += counts[j]
                    acc.sums += sums[j]
                    if not np.isnan(low[j]):
                        acc.low, acc.high = min(acc.low, float(low[j])), max(acc.high, float(high[j]))
    return windows, False


class _Inline:
    """A stand-in for a thread pool when one thread will do."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def map(self, fn, items):
        return map(fn, items)


# --------------------------------------------------------------------------- categorical counts


def _categories(
    con: duckdb.DuckDBPyConnection, plans: Sequence[CategoricalPlan]
) -> dict[int, dict[str, CategoricalAggregate]]:
    """Window key → column → counts of the most frequent values (ties broken by the text), the rest
    folded into :data:`OTHER`; one pass over the log for all categorical columns."""
    names = [q(p.column) for p in plans]
    k = len(names)
    sets = ", ".join(f"(__w, {name})" for name in names)
    gid = {(2**k - 1) - 2 ** (k - 1 - i): i for i in range(k)}  # grouping(): 1 bits for columns left out
    feature = " ".join(f"WHEN {g} THEN {i}" for g, i in gid.items())
    value = " ".join(f"WHEN {g} THEN {names[i]}" for g, i in gid.items())
    rows = con.execute(
        f"""
        WITH g AS (SELECT __w, grouping({", ".join(names)}) AS gid, {", ".join(names)}, count(*) AS n
                   FROM wlog GROUP BY GROUPING SETS ({sets})),
        l AS (SELECT __w, CASE gid {feature} END AS f, CASE gid {value} END AS v, n FROM g),
        r AS (SELECT *, row_number() OVER (PARTITION BY __w, f ORDER BY n DESC, v) AS rank FROM l WHERE v IS NOT NULL)
        SELECT __w, f, CASE WHEN rank <= {MAX_CATEGORIES} THEN v ELSE {lit(OTHER)} END AS v, sum(n) FROM r GROUP BY ALL
        UNION ALL SELECT __w, f, NULL, n FROM l WHERE v IS NULL
        """
    ).fetchall()
    out: dict[int, dict[str, CategoricalAggregate]] = {}
    for key, f, text, n in rows:
        if key is None:
            continue
        if text is not None and len(text) > MAX_LOG_LINE_BYTES:
            raise _long_value(con, plans[f].column)
        agg = out.setdefault(key, {}).setdefault(plans[f].column, CategoricalAggregate(missing=0))
        if text is None:
            agg.missing += int(n)
        else:
            agg.counts[text] = agg.counts.get(text, 0) + int(n)
    return out


def _long_value(con: duckdb.DuckDBPyConnection, column: str) -> ScanError:
    """A category longer than a CSV log's whole line may be: the same bound for every format, so a
    Parquet or JSON log cannot put a multi-megabyte label on the drift pages (a small Parquet file
    can repeat one such value on every row). Names the first file that holds one."""
    found = con.execute(f"SELECT __file FROM wlog WHERE strlen({q(column)}) > {MAX_LOG_LINE_BYTES} LIMIT 1").fetchone()
    where = found[0] if found else "the log"
    return ScanError(
        f"{where}: column {column!r} holds a value longer than {MAX_LOG_LINE_BYTES:,} bytes, the limit for one "
        "value of a log; a category is a short label"
    )


# --------------------------------------------------------------------------- public API


def scan_windows(
    paths: Paths,
    *,
    timestamp: str,
    window: WindowSpec,
    numeric: Sequence[NumericPlan],
    categorical: Sequence[CategoricalPlan],
    memory_limit: str = MEMORY_LIMIT,
    threads: int | None = None,
    batch_rows: int = BATCH_ROWS,
) -> list[WindowAggregate]:
    """Per-window aggregates of a log (files, folders or a glob), sorted by start.

    Calendar windows run from the first record's window to the last one's, empty ones included (rows
    0, no aggregates) so that a gap in logging shows; ``rows`` windows start at their first record's
    timestamp and end 1 µs after their last. Memory is DuckDB's ``memory_limit`` (it spills beyond)
    plus one batch of ``batch_rows`` records and the aggregates themselves (windows × features ×
    edges), never the log. ``threads`` (default: every core) applies to DuckDB and to the numpy work.

    Raises :class:`ScanError` (a message naming the file and column, no traceback in the CLI) for
    missing files or columns, timestamps that are empty or not date-times, and values that do not
    convert (text in a numeric CSV column).
    """
    files = resolve_files(paths)
    columns: dict[str, Role] = {p.column: "numeric" for p in numeric}
    for plan in categorical:
        if plan.column in columns:
            raise ValueError(f"column {plan.column!r} is planned both as numeric and as categorical")
        columns[plan.column] = "text"
    if timestamp in columns:
        raise ValueError(f"the timestamp column {timestamp!r} cannot also be a feature")
    with tempfile.TemporaryDirectory(prefix="modelgov-scan-") as spill:
        con = connect(memory_limit, threads, Path(spill))
        try:
            define_log(con, files, timestamp, columns)
            define_windows(con, window, timestamp, ties=list(columns))
            windows, untimed = _stream(con, numeric, _workers(threads), batch_rows)
            if untimed:
                raise timestamp_problem(con, timestamp)
            categories = _categories(con, categorical) if categorical and windows else {}
        except duckdb.Error as exc:
            raise read_error(exc, files) from None
        finally:
            con.close()
    if not windows:
        return []

    def aggregate(key: int, start: dt.datetime, end: dt.datetime) -> WindowAggregate:
        state = windows.pop(key, None)  # freed as it is copied out: the peak is the result, not twice it
        if state is None:
            return WindowAggregate(start=start, end=end, rows=0)
        return WindowAggregate(
            start=start,
            end=end,
            rows=state.rows,
            numeric={name: acc.aggregate() for name, acc in state.numeric.items()},
            categorical=categories.get(key, {}),
        )

    if window.kind == "rows":
        spans = [(k, from_us(s.first), from_us(s.last + 1)) for k, s in sorted(windows.items())]
        return [aggregate(*span) for span in spans]
    return [aggregate(*span) for span in calendar_span(window.kind, min(windows), max(windows))]


def window_start(kind: str, day: dt.date) -> dt.datetime:
    """Start (UTC) of the calendar window holding ``day``: the day, its week's Monday, its month's 1st."""
    if kind == "week":
        day = day - dt.timedelta(days=day.weekday())
    elif kind == "month":
        day = day.replace(day=1)
    elif kind != "day":
        raise ValueError(f"a date names a calendar window (day, week or month), not a {kind!r} window")
    return dt.datetime.combine(day, dt.time(), tzinfo=dt.UTC)


@dataclass(frozen=True)
class LogWindow:
    """The records of one window, read whole: a reference small enough to hold (one window)."""

    start: dt.datetime
    end: dt.datetime
    frame: pd.DataFrame


def read_window(
    paths: Paths,
    *,
    timestamp: str,
    window: WindowSpec,
    columns: Sequence[str],
    which: int | dt.date,
    memory_limit: str = MEMORY_LIMIT,
    threads: int | None = None,
) -> LogWindow:
    """The ``columns`` of every record in one window of a log, with the types the files give them.

    ``which`` is the window's number (1 = the first window holding a record; calendar windows count
    empty ones too, as :func:`scan_windows` lists them) or, for calendar windows, a date inside it.
    Only that window is materialised; the rest of the log is streamed past by DuckDB.
    """
    files = resolve_files(paths)
    wanted = [c for c in dict.fromkeys(columns) if c != timestamp]
    with tempfile.TemporaryDirectory(prefix="modelgov-scan-") as spill:
        con = connect(memory_limit, threads, Path(spill))
        try:
            define_log(con, files, timestamp, {c: "raw" for c in wanted})
            count = define_windows(con, window, timestamp, ties=wanted)
            if window.kind == "rows":
                if not isinstance(which, int):
                    raise ScanError(f"{describe(files)}: with row-count windows, name a window by its number")
                key, total = which - 1, count
            else:
                first, last = con.execute("SELECT min(__w), max(__w) FROM wlog").fetchone()
                if first is None:
                    raise ScanError(f"{describe(files)}: the log holds no record, so it has no window {which}")
                spans = calendar_span(window.kind, first, last)
                total = len(spans)
                if isinstance(which, int):
                    key = spans[which - 1][0] if which <= total else -1
                else:
                    key = to_us(window_start(window.kind, which))
                    if not first <= key <= last:
                        raise ScanError(
                            f"{describe(files)}: no record in the {window.kind} of {which.isoformat()}; the log runs "
                            f"from {from_us(first):%Y-%m-%d} to {from_us(last):%Y-%m-%d}"
                        )
            if isinstance(which, int) and not 1 <= which <= total:
                raise ScanError(f"{describe(files)}: the log has {total} {window.kind} windows, so no window {which}")
            selected = ", ".join(q(c) for c in wanted)
            frame = con.execute(f"SELECT {selected}, __t FROM wlog WHERE __w = ? ORDER BY __t", [key]).df()
        except duckdb.Error as exc:
            raise read_error(exc, files) from None
        finally:
            con.close()
    if frame.empty:
        raise ScanError(f"{describe(files)}: window {which} holds no records, so it cannot be the reference")
    times = frame.pop("__t")
    if window.kind == "rows":
        start, end = from_us(int(times.iloc[0])), from_us(int(times.iloc[-1]) + 1)
    else:
        start = from_us(key)
        end = next_start(window.kind, start)
    return LogWindow(start=start, end=end, frame=frame)


@dataclass
class OutcomeWindow:
    """One window's scored records that have an outcome, as parallel arrays in no particular order."""

    start: dt.datetime  # inclusive, UTC
    end: dt.datetime  # exclusive, UTC
    rows: int  # scored records in the window
    labels: np.ndarray  # observed outcomes
    predictions: np.ndarray | None  # None when no prediction column was given
    scores: np.ndarray | None  # None when no score column was given
    unlabelled: int  # records whose outcome has not arrived (no matching id, or a missing label)
    #: column → its values on the labelled records, for the ``groups`` asked of :func:`scan_outcomes`
    groups: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass
class OutcomeCoverage:
    """What became of the ground-truth table's rows. Each is used once or counted here with its reason,
    so no outcome is dropped without the report saying so."""

    rows: int = 0  # rows of the ground-truth table(s)
    incomplete: int = 0  # rows without an id or without an outcome
    repeated: int = 0  # rows repeating an id already listed with the same outcome (counted once)
    unmatched: int = 0  # ids with an outcome that match no scoring record of the log

    @property
    def used(self) -> int:
        """Distinct ids whose outcome joined a scoring record."""
        return self.rows - self.incomplete - self.repeated - self.unmatched


def scan_outcomes(
    paths: Paths,
    *,
    timestamp: str,
    window: WindowSpec,
    log_id: str,
    truth: Paths,
    truth_id: str,
    truth_label: str,
    prediction: str | None = None,
    score: str | None = None,
    memory_limit: str = MEMORY_LIMIT,
    threads: int | None = None,
    batch_rows: int = BATCH_ROWS,
    coverage: OutcomeCoverage | None = None,
    groups: Sequence[str] = (),
) -> Iterator[OutcomeWindow]:
    """The log joined with late ground truth by id, one window at a time, in window order (the same
    windows as :func:`scan_windows`, gaps included, except that records tied at a ``rows`` window's
    boundary are ordered by these columns rather than the features). ``coverage``, when given, is
    filled with what became of the ground truth's rows before the first window is yielded.

    DuckDB joins and sorts by window out of core; Python holds one window's labelled records (three
    arrays of that length) at a time, so memory is bounded by the largest window, not the log. The
    same outcome listed twice for an id is counted once; different outcomes for one id are an error.
    ``groups`` (sensitive columns) are carried along, as they are in the files, into
    :attr:`OutcomeWindow.groups`: fairness in production is measured on the same labelled records.
    """
    files, truth_files = resolve_files(paths), resolve_files(truth)
    columns: dict[str, Role] = {log_id: "raw"}
    if prediction:
        columns.setdefault(prediction, "raw")
    if score:
        columns.setdefault(score, "numeric")
    ties = list(columns)  # the sensitive columns do not change how records tied at a boundary are ordered
    for column in groups:
        columns.setdefault(column, "raw")
    with tempfile.TemporaryDirectory(prefix="modelgov-scan-") as spill:
        con = connect(memory_limit, threads, Path(spill))
        try:
            log_types = define_log(con, files, timestamp, columns)
            truth_types = define_log(con, truth_files, None, {truth_id: "raw", truth_label: "raw"}, view="truth")
            _check_truth(con, truth_files, truth_id, truth_label)
            define_windows(con, window, timestamp, ties=ties)
            same_type = log_types[log_id] == truth_types[truth_id]
            if coverage is not None:
                _count_coverage(con, coverage, log_id, truth_id, truth_label, same_type)
            join = _joined(log_id, truth_id, truth_label, prediction, score, same_type, groups)
            yield from _outcome_windows(con, join, window, timestamp, batch_rows, groups)
        except duckdb.Error as exc:
            raise read_error(exc, files) from None
        finally:
            con.close()


def _check_truth(con: duckdb.DuckDBPyConnection, files: list[Path], key: str, label: str) -> None:
    conflict = con.execute(
        f"""SELECT {q(key)}, count(*) OVER () FROM truth WHERE {q(key)} IS NOT NULL AND {q(label)} IS NOT NULL
            GROUP BY {q(key)} HAVING count(DISTINCT {q(label)}) > 1 LIMIT 1"""
    ).fetchone()
    if conflict:
        raise ScanError(
            f"{describe(files)}: {conflict[1]} id(s) in column {key!r} have"
            f" different outcomes in {label!r} (e.g. {conflict[0]!r}); keep one outcome per id"
        )


def _count_coverage(
    con: duckdb.DuckDBPyConnection, coverage: OutcomeCoverage, log_id: str, truth_id: str, label: str, same_type: bool
) -> None:
    """Fill ``coverage``: two aggregate queries, out of core like the join itself."""
    key, value = q(truth_id), q(label)
    rows, incomplete, usable = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE {key} IS NULL OR {value} IS NULL),"
        f" count(DISTINCT {key}) FILTER (WHERE {key} IS NOT NULL AND {value} IS NOT NULL) FROM truth"
    ).fetchall()[0]
    on = f"l.{q(log_id)} = o.__id" if same_type else f"CAST(l.{q(log_id)} AS VARCHAR) = CAST(o.__id AS VARCHAR)"
    (matched,) = con.execute(
        f"SELECT count(*) FROM (SELECT DISTINCT {key} AS __id FROM truth WHERE {key} IS NOT NULL AND {value} IS NOT NULL)"
        f" o WHERE EXISTS (SELECT 1 FROM wlog l WHERE {on})"
    ).fetchall()[0]
    coverage.rows, coverage.incomplete = int(rows), int(incomplete)
    coverage.repeated = int(rows) - int(incomplete) - int(usable)
    coverage.unmatched = int(usable) - int(matched)


def _joined(log_id, truth_id, truth_label, prediction, score, same_type: bool, groups: Sequence[str] = ()) -> str:
    """The log with each record's outcome (NULL when none), sorted by window: the sort is DuckDB's,
    out of core, and it is what lets Python see one window at a time."""
    log_key, truth_key = f"l.{q(log_id)}", "o.__id"
    on = f"{log_key} = {truth_key}" if same_type else f"CAST({log_key} AS VARCHAR) = CAST({truth_key} AS VARCHAR)"
    prediction_sql, score_sql = (f"l.{q(c)}" if c else "NULL" for c in (prediction, score))
    outcomes = (
        f"SELECT DISTINCT {q(truth_id)} AS __id, {q(truth_label)} AS __label FROM truth"
        f" WHERE {q(truth_id)} IS NOT NULL AND {q(truth_label)} IS NOT NULL"
    )
    carried = "".join(f", l.{q(column)}" for column in groups)
    return (
        f"SELECT l.__w, l.__t, o.__label, {prediction_sql} AS __prediction, {score_sql} AS __score{carried}"
        f" FROM wlog l LEFT JOIN ({outcomes}) o ON {on} ORDER BY l.__w NULLS FIRST"
    )


@dataclass
class _Pending:
    key: int
    rows: int = 0
    unlabelled: int = 0
    first: int = np.iinfo(np.int64).max
    last: int = np.iinfo(np.int64).min
    parts: list[pa.RecordBatch] = field(default_factory=list)


def _outcome_windows(
    con: duckdb.DuckDBPyConnection,
    query: str,
    window: WindowSpec,
    timestamp: str,
    batch_rows: int,
    groups: Sequence[str] = (),
) -> Iterator[OutcomeWindow]:
    reader = con.sql(query).to_arrow_reader(batch_rows)
    schema = reader.schema
    has_prediction = not pa.types.is_null(schema.field(3).type)
    has_score = not pa.types.is_null(schema.field(4).type)

    def finish(pending: _Pending) -> OutcomeWindow:
        table = pa.Table.from_batches(pending.parts, schema=schema)
        arrays = [table.column(i).to_numpy() for i in (2, 3, 4)]
        if window.kind == "rows":
            start, end = from_us(pending.first), from_us(pending.last + 1)
        else:
            _, start, end = calendar_span(window.kind, pending.key, pending.key)[0]
        return OutcomeWindow(
            start=start,
            end=end,
            rows=pending.rows,
            labels=arrays[0],
            predictions=arrays[1] if has_prediction else None,
            scores=arrays[2] if has_score else None,
            unlabelled=pending.unlabelled,
            groups={c: table.column(5 + i).to_numpy(zero_copy_only=False) for i, c in enumerate(groups)},
        )

    def empty(start: dt.datetime, end: dt.datetime) -> OutcomeWindow:
        blank = pa.Table.from_batches([], schema=schema)
        arrays = [blank.column(i).to_numpy() for i in (2, 3, 4)]
        return OutcomeWindow(start, end, 0, arrays[0], arrays[1] if has_prediction else None,
                             arrays[2] if has_score else None, 0,
                             {c: blank.column(5 + i).to_numpy(zero_copy_only=False) for i, c in enumerate(groups)})  # fmt: skip

    pending: _Pending | None = None
    for batch in reader:
        if batch.num_rows == 0:
            continue
        if batch.column(0).null_count:
            raise timestamp_problem(con, timestamp)
        w, t = batch.column(0).to_numpy(), batch.column(1).to_numpy()
        cuts = [0, *(np.flatnonzero(np.diff(w)) + 1).tolist(), len(w)]
        for lo, hi in itertools.pairwise(cuts):
            key = int(w[lo])
            if pending is not None and key != pending.key:
                yield finish(pending)
                if window.kind != "rows":
                    for _, start, end in calendar_span(window.kind, pending.key, key)[1:-1]:
                        yield empty(start, end)
                pending = None
            if pending is None:
                pending = _Pending(key)
            part = batch.slice(lo, hi - lo)
            labelled = part.filter(part.column(2).is_valid())
            pending.rows += part.num_rows
            pending.unlabelled += part.num_rows - labelled.num_rows
            pending.first = min(pending.first, int(t[lo:hi].min()))
            pending.last = max(pending.last, int(t[lo:hi].max()))
            if labelled.num_rows:
                pending.parts.append(labelled)
    if pending is not None:
        yield finish(pending)
