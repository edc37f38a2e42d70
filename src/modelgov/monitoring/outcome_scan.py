"""The log joined with its late ground truth by id, one window at a time, out of core.

Performance in production needs each window's labelled records themselves (the metrics and their
bootstrap are computed on rows), not aggregates, so this scan is a different shape from
:mod:`.scan`'s: DuckDB joins the log with the distinct outcome rows and sorts the result by window
(spilling to disk as it must), and Python reads it as Arrow batches, holding one window's labelled
records at a time (:func:`scan_outcomes`). It also accounts for every ground-truth row
(:class:`OutcomeCoverage`): used, incomplete, repeated or matching no record.
"""

from __future__ import annotations

import datetime as dt
import itertools
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from .aggregates import WindowSpec
from .logsource import (
    Role,
    ScanError,
    calendar_span,
    connect,
    define_log,
    define_windows,
    describe,
    from_us,
    q,
    read_error,
    resolve_files,
    timestamp_problem,
)
from .scan import BATCH_ROWS, MEMORY_LIMIT, Paths


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
    windows as :func:`.scan.scan_windows`, gaps included, except that records tied at a ``rows`` window's
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
