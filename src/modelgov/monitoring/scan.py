"""Aggregate scoring logs window by window, out of core: the producer of :mod:`.aggregates`.

DuckDB reads the files where they are (:mod:`.logsource` defines the views) and computes each
record's window; the log is then reduced in two passes, Python holding one batch of records and the
running counts (the size of the result: windows × features × edges), never the log:

* **Numeric features** (:mod:`.numeric_cells`): DuckDB streams Arrow record batches of
  ``BATCH_ROWS`` records; numpy puts each value in its cell (a binary search on the edges,
  :class:`~.numeric_cells.Locator`) and ``bincount`` adds the counts and sums per window, two
  features at a time on two threads. Binning 10M rows × 25 features × ~1,000 edges on 2 cores took
  9.7 s this way with plain ``np.searchsorted``, 19.5 s with the same binary search unrolled in SQL
  (and grouped after an UNPIVOT), and 9.3 s per *million* rows with an ASOF join of the unpivoted
  log onto the edges; the locator brings the whole benchmark (``benchmarks/scan_benchmark.py``,
  categorical pass included) from 10.7 s to 4.5 s.
* **Categorical features**: counted in SQL here (``GROUPING SETS``), because the number of distinct
  values is not bounded the way edges are; DuckDB's aggregate spills to disk, and only the
  :data:`~.aggregates.MAX_CATEGORIES` most frequent values per window come back, the rest as
  :data:`~.aggregates.OTHER`.

This module plans the passes and places their counts in windows (:func:`scan_windows`, gaps
included), and reads one window whole (:func:`read_window`) for a reference taken from the log. The
log joined with its ground truth, window by window, is :mod:`.outcome_scan`'s.

Missing means NULL, NaN or ±inf, as in the reference profile (and Evidently).
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from .aggregates import (
    MAX_CATEGORIES,
    OTHER,
    CategoricalAggregate,
    CategoricalPlan,
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
from .numeric_cells import stream_cells

__all__ = [
    "BATCH_ROWS",
    "LogWindow",
    "ScanError",
    "read_window",
    "scan_windows",
    "window_start",
]

#: DuckDB's working memory before it spills to disk. Scans stream, so more buys no speed: on a
#: 1M-record, 26-column Parquet log 512 MB gave the same time as 1 GB and a 130 MB lower peak.
MEMORY_LIMIT = "512MB"


#: Records per Arrow batch. Peak memory grows with it (8 bytes × (numeric features + 2) per record,
#: plus numpy's temporaries for two features at a time): on the 10M-row benchmark, 65,536 / 131,072 /
#: 262,144 / 1,048,576 gave 714 / 870 / 1,056 / 1,616 MB peak RSS in 4.6 / 4.0 / 4.5 / 5.7 s. The
#: batch size is part of the figures: each batch's sums are added to the running sums, so another
#: size rounds the sums (and the drift statistics) differently in their last digits.
BATCH_ROWS = 131_072


Paths = Sequence[Path | str] | Path | str


def _workers(threads: int | None) -> int:
    return max(1, threads or os.cpu_count() or 1)


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
    edges), never the log. ``threads`` (default: every core) applies to the numpy work and to
    DuckDB's categorical pass; the numeric pass reads with one DuckDB thread, in file order.

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
            # One DuckDB thread feeds the numeric pass (numpy's threads do its work). With more, the
            # batches arrive in whichever order the threads finish, and the per-cell sums, added batch
            # by batch, came out different in their last digits from one build of a multi-row-group
            # log to the next; one thread reads the files in order, so the same log gives the same
            # figures. It also holds one thread's read buffers instead of two (a 10M-record log's
            # build: about 60 MB less at its peak) and, on 2 cores, was no slower.
            con.execute("SET threads = 1")
            windows, untimed = stream_cells(con, numeric, _workers(threads), batch_rows)
            con.execute(f"SET threads = {int(threads)}" if threads else "RESET threads")
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
