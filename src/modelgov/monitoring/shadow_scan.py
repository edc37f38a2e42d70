"""A shadow log's sufficient statistics, out of core: one DuckDB ``GROUP BY GROUPING SETS`` over the
requests (each window, the whole log, each sensitive column's groups) and one ranking query for
DeLong's components of ROC AUC on the labelled requests.

Each request carries two decisions, the champion's and the challenger's (1 positive, 0 negative,
NULL undecided), both scores and, once it has arrived, its outcome. What a grouping needs is a few
counts — the 2 × 2 table of the two decisions, the 2 × 2 × 2 table of outcome × champion ×
challenger — and the mean and variance of the paired score difference, so the result is the size of
windows + groups, never the log. With the champion's outputs in a log of their own, the two logs are
joined on the request id (an inner join; shadow requests without a champion record are counted and
left out), and outcomes are joined on the same id.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np

from modelgov.analysis.fairness import MISSING_GROUP, _label
from modelgov.analysis.paired_tests import DelongComponents
from modelgov.lookalikes import lookalike_problem
from modelgov.text_safety import visible

from .aggregates import WindowSpec
from .group_scan import MAX_GROUPS
from .logsource import (
    ScanError,
    calendar_span,
    connect,
    define_log,
    define_windows,
    describe,
    from_us,
    lit,
    q,
    read_error,
    resolve_files,
    timestamp_problem,
)
from .scan import MEMORY_LIMIT, Paths


@dataclass(frozen=True)
class Side:
    """How one side's decision is read: its prediction column, or its score at or above a threshold."""

    prediction: str | None = None
    score: str | None = None
    threshold: float | None = None


@dataclass
class Cells:
    """What one grouping of requests adds up to (see the module docstring)."""

    requests: int = 0
    decided: int = 0
    both_positive: int = 0
    challenger_only: int = 0
    champion_only: int = 0
    scored: int = 0
    champion_mean: float | None = None
    challenger_mean: float | None = None
    diff_mean: float | None = None
    diff_var: float | None = None
    labelled: int = 0
    #: [outcome][champion decision][challenger decision], over the labelled decided requests
    outcomes: np.ndarray = field(default_factory=lambda: np.zeros((2, 2, 2), np.int64))

    def merged(self, other: Cells) -> Cells:
        """The two groupings as one (two raw values with the same group name), means and variances pooled."""

        def pool(n1, m1, n2, m2):
            if n1 + n2 == 0:
                return None
            return ((m1 or 0.0) * n1 + (m2 or 0.0) * n2) / (n1 + n2)

        n1, n2 = self.scored, other.scored
        mean = pool(n1, self.diff_mean, n2, other.diff_mean)
        var = None
        if n1 + n2 >= 2 and mean is not None:
            squares = 0.0
            for n, m, v in ((n1, self.diff_mean, self.diff_var), (n2, other.diff_mean, other.diff_var)):
                if n:
                    squares += (n - 1) * (v or 0.0) + n * ((m or 0.0) - mean) ** 2
            var = squares / (n1 + n2 - 1)
        return Cells(
            requests=self.requests + other.requests,
            decided=self.decided + other.decided,
            both_positive=self.both_positive + other.both_positive,
            challenger_only=self.challenger_only + other.challenger_only,
            champion_only=self.champion_only + other.champion_only,
            scored=n1 + n2,
            champion_mean=pool(n1, self.champion_mean, n2, other.champion_mean),
            challenger_mean=pool(n1, self.challenger_mean, n2, other.challenger_mean),
            diff_mean=mean,
            diff_var=var,
            labelled=self.labelled + other.labelled,
            outcomes=self.outcomes + other.outcomes,
        )


@dataclass
class ShadowWindowCells:
    start: dt.datetime
    end: dt.datetime
    cells: Cells


@dataclass
class ShadowScan:
    overall: Cells
    windows: list[ShadowWindowCells]
    groups: dict[str, dict[str, Cells]]
    too_many_groups: list[str]
    unmatched: int | None
    delong: DelongComponents | None


def _matches(column: str, positive_label: object) -> str:
    """SQL: 1 when ``column`` is the positive label (numbers compared as numbers, anything else as
    text, as :func:`~modelgov.monitoring.group_scan._positive` does), 0 otherwise, NULL when missing."""
    if isinstance(positive_label, bool):
        test = f"lower(CAST({column} AS VARCHAR)) = {lit(str(positive_label).lower())}"
    elif isinstance(positive_label, int | float):
        test = f"TRY_CAST({column} AS DOUBLE) = {float(positive_label)!r}"
    else:
        test = f"CAST({column} AS VARCHAR) = {lit(str(positive_label))}"
    return f"CASE WHEN {column} IS NULL THEN NULL WHEN {test} THEN 1 ELSE 0 END"


def _decision(side: Side, alias: str, positive_label: object) -> str:
    if side.prediction is not None:
        return _matches(f"{alias}.{q(side.prediction)}", positive_label)
    assert side.score is not None and side.threshold is not None
    column = f"{alias}.{q(side.score)}"
    return f"CASE WHEN {column} IS NULL THEN NULL WHEN {column} >= {float(side.threshold)!r} THEN 1 ELSE 0 END"


def _check_unique(con: duckdb.DuckDBPyConnection, view: str, key: str, files: list[Path], what: str) -> None:
    found = con.execute(
        f"SELECT {q(key)}, count(*) OVER () FROM {view} WHERE {q(key)} IS NOT NULL"
        f" GROUP BY {q(key)} HAVING count(*) > 1 LIMIT 1"
    ).fetchone()
    if found:
        raise ScanError(
            f"{describe(files)}: {found[1]} request id(s) in column {key!r} appear more than once (e.g. {found[0]!r});"
            f" {what} needs one record per request"
        )


def scan_shadow(
    paths: Paths,
    *,
    timestamp: str,
    window: WindowSpec,
    challenger: Side,
    champion: Side,
    positive_label: object,
    request_id: str | None = None,
    champion_logs: Paths | None = None,
    sensitive: Sequence[str] = (),
    truth: Paths | None = None,
    truth_id: str | None = None,
    truth_label: str | None = None,
    memory_limit: str = MEMORY_LIMIT,
    threads: int | None = None,
) -> ShadowScan:
    """Scan the shadow log (and the champion's log and the outcomes, when given) once for the counts
    of every window, the whole log and each group, and once more for ROC AUC's components."""
    files = resolve_files(paths)
    champion_files = resolve_files(champion_logs) if champion_logs is not None else None
    truth_files = resolve_files(truth) if truth is not None else None
    if (champion_files or truth_files) and not request_id:
        raise ValueError("a second log or outcomes are joined on the request id: name the id column")
    columns: dict[str, str] = {}
    if request_id:
        columns[request_id] = "raw"
    sides = [challenger] if champion_files else [challenger, champion]
    for side in sides:
        if side.prediction:
            columns.setdefault(side.prediction, "raw")
        if side.score:
            columns[side.score] = "numeric"
    for column in sensitive:
        columns.setdefault(column, "raw")
    with tempfile.TemporaryDirectory(prefix="modelgov-shadow-") as spill:
        con = connect(memory_limit, threads, Path(spill))
        try:
            types = define_log(con, files, timestamp, columns)  # type: ignore[arg-type]
            define_windows(con, window, timestamp, ties=[c for c in columns if c not in sensitive])
            if request_id and (champion_files or truth_files):
                _check_unique(con, "log", request_id, files, "joining the champion's log and the outcomes")
            champion_alias = "l"
            joins = ""
            unmatched = None
            if champion_files is not None:
                wanted = {request_id: "raw"}
                if champion.prediction:
                    wanted[champion.prediction] = "raw"
                if champion.score:
                    wanted[champion.score] = "numeric"
                champ_types = define_log(con, champion_files, None, wanted, view="champ")  # type: ignore[arg-type]
                _check_unique(con, "champ", request_id, champion_files, "the champion's log")  # type: ignore[arg-type]
                on = _on("l", "c", request_id, request_id, types, champ_types)  # type: ignore[arg-type]
                joins += f" JOIN champ c ON {on}"
                champion_alias = "c"
                (unmatched,) = con.execute(
                    f"SELECT count(*) FROM wlog l WHERE NOT EXISTS (SELECT 1 FROM champ c WHERE {on})"
                ).fetchone()
            label_sql = "NULL"
            if truth_files is not None:
                assert truth_id and truth_label
                truth_types = define_log(con, truth_files, None, {truth_id: "raw", truth_label: "raw"}, view="truth")
                conflict = con.execute(
                    f"SELECT {q(truth_id)}, count(*) OVER () FROM truth WHERE {q(truth_id)} IS NOT NULL"
                    f" AND {q(truth_label)} IS NOT NULL GROUP BY {q(truth_id)}"
                    f" HAVING count(DISTINCT {q(truth_label)}) > 1 LIMIT 1"
                ).fetchone()
                if conflict:
                    raise ScanError(
                        f"{describe(truth_files)}: {conflict[1]} id(s) in column {truth_id!r} have different"
                        f" outcomes in {truth_label!r} (e.g. {conflict[0]!r}); keep one outcome per request"
                    )
                outcomes = (
                    f"SELECT DISTINCT {q(truth_id)} AS __id, {q(truth_label)} AS __label FROM truth"
                    f" WHERE {q(truth_id)} IS NOT NULL AND {q(truth_label)} IS NOT NULL"
                )
                on = _on("l", "o", request_id, "__id", types, {"__id": truth_types[truth_id]})  # type: ignore[arg-type]
                joins += f" LEFT JOIN ({outcomes}) o ON {on}"
                label_sql = _matches("o.__label", positive_label)
            score_ch = f"l.{q(challenger.score)}" if challenger.score else "NULL"
            score_cp = f"{champion_alias}.{q(champion.score)}" if champion.score else "NULL"

            def pairs(columns: Sequence[str]) -> None:
                carried = "".join(f", l.{q(c)} AS __g{i}" for i, c in enumerate(columns))
                con.execute(
                    "CREATE OR REPLACE TEMP VIEW pairs AS SELECT l.__w, l.__t,"
                    f" {_decision(challenger, 'l', positive_label)} AS __ch,"
                    f" {_decision(champion, champion_alias, positive_label)} AS __cp,"
                    f" CAST({score_ch} AS DOUBLE) AS __sch, CAST({score_cp} AS DOUBLE) AS __scp,"
                    f" {label_sql} AS __y{carried} FROM wlog l{joins}"
                )

            pairs(sensitive)
            wide = _far_too_many(con, sensitive)
            grouped = [c for c in sensitive if c not in wide]
            if wide:
                pairs(grouped)
            rows = _aggregate(con, len(grouped))
            if any(all(row[: 1 + len(grouped)]) and row[-1] for row in rows):
                raise timestamp_problem(con, timestamp)
            delong = _delong(con) if truth_files is not None and challenger.score and champion.score else None
        except duckdb.Error as exc:
            raise read_error(exc, files) from None
        finally:
            con.close()
    scan = _assemble(rows, window, grouped, unmatched, delong)
    scan.too_many_groups = [c for c in sensitive if c in wide or c in scan.too_many_groups]
    for column, by_group in scan.groups.items():  # as the evaluation and production fairness refuse them
        problem = lookalike_problem(name for name in by_group if name != MISSING_GROUP)
        if problem:
            raise ScanError(f"{describe(files)}: column {visible(column, keep='')!r}: {problem}")
    return scan


def _far_too_many(con: duckdb.DuckDBPyConnection, sensitive: Sequence[str]) -> set[str]:
    """The sensitive columns whose estimated distinct values are far more than :data:`MAX_GROUPS`
    (twice: HyperLogLog is off by a few percent), left out of the grouping: grouped, a column with a
    value per request would bring back a row of counts per request. One pass, in bounded memory; the
    count of those kept is checked exactly on their groups (:func:`_assemble`)."""
    if not sensitive:
        return set()
    counts = con.execute(
        "SELECT " + ", ".join(f"approx_count_distinct(__g{i})" for i in range(len(sensitive))) + " FROM pairs"
    ).fetchone()
    assert counts is not None
    return {column for column, count in zip(sensitive, counts, strict=True) if count > 2 * MAX_GROUPS}


def _on(left: str, right: str, left_key: str, right_key: str, left_types: dict, right_types: dict) -> str:
    a, b = f"{left}.{q(left_key)}", f"{right}.{q(right_key)}"
    if left_types.get(left_key) == right_types.get(right_key):
        return f"{a} = {b}"
    return f"CAST({a} AS VARCHAR) = CAST({b} AS VARCHAR)"


_DECIDED = "__ch IS NOT NULL AND __cp IS NOT NULL"
_SCORED = "__sch IS NOT NULL AND __scp IS NOT NULL"


#: Scores within this bound are summed exactly (as DECIMAL(38, 16): at most 1e6 × rows, far below
#: its 1e22), so a mean or variance is the same whatever order DuckDB's threads add the rows in and a
#: rebuild gives the same bytes; a group holding a larger score falls back to floating-point sums.
EXACT_BOUND = 1e6
_EXACT = "DECIMAL(38, 16)"


def _exact_sum(expression: str, where: str) -> str:
    return (
        f"CAST(sum(CASE WHEN abs({expression}) <= {EXACT_BOUND} THEN CAST({expression} AS {_EXACT}) END)"
        f" FILTER (WHERE {where}) AS DOUBLE)"
    )


def _mean(value: str, where: str) -> str:
    """The mean of ``value`` over the rows ``where`` holds: an exact sum divided once."""
    exact = f"{_exact_sum(value, where)} / count(*) FILTER (WHERE {where})"
    return (
        f"CASE WHEN max(abs({value})) FILTER (WHERE {where}) <= {EXACT_BOUND} THEN {exact}"
        f" ELSE avg({value}) FILTER (WHERE {where}) END"
    )


def _variance(value: str, where: str) -> str:
    """The sample variance of ``value`` from exact sums of the values and of their squares (each
    square rounded once, row by row); NULL with fewer than two rows, as ``var_samp``."""
    n = f"count(*) FILTER (WHERE {where})"
    total, squares = _exact_sum(value, where), _exact_sum(f"({value}) * ({value})", where)
    exact = f"CASE WHEN {n} > 1 THEN ({squares} - {total} * {total} / {n}) / ({n} - 1) END"
    return (
        f"CASE WHEN max(abs({value})) FILTER (WHERE {where}) <= {EXACT_BOUND} THEN greatest({exact}, 0)"
        f" ELSE var_samp({value}) FILTER (WHERE {where}) END"
    )


def _aggregate(con: duckdb.DuckDBPyConnection, groups: int) -> list[tuple]:
    keys = ["__w", *(f"__g{i}" for i in range(groups))]
    sets = ", ".join(["(__w)", "()", *(f"(__g{i})" for i in range(groups))])
    cells = ", ".join(
        f"count(*) FILTER (WHERE {_DECIDED} AND __y = {y} AND __cp = {p} AND __ch = {c})"
        for y in (0, 1)
        for p in (0, 1)
        for c in (0, 1)
    )
    query = f"""
        SELECT {", ".join(f"GROUPING({k})" for k in keys)}, {", ".join(keys)},
            count(*), count(*) FILTER (WHERE {_DECIDED}),
            count(*) FILTER (WHERE __ch = 1 AND __cp = 1),
            count(*) FILTER (WHERE __ch = 1 AND __cp = 0),
            count(*) FILTER (WHERE __ch = 0 AND __cp = 1),
            count(*) FILTER (WHERE {_SCORED}),
            {_mean("__scp", _SCORED)}, {_mean("__sch", _SCORED)},
            {_mean("__sch - __scp", _SCORED)}, {_variance("__sch - __scp", _SCORED)},
            count(*) FILTER (WHERE {_DECIDED} AND __y IS NOT NULL),
            {cells},
            min(__t), max(__t), count(*) FILTER (WHERE __t IS NULL)
        FROM pairs GROUP BY GROUPING SETS ({sets})"""
    return con.execute(query).fetchall()


def _cells(values: Sequence) -> Cells:
    (n, decided, a, b, c, scored, cp_mean, ch_mean, diff_mean, diff_var, labelled, *outcomes) = values
    return Cells(
        requests=int(n),
        decided=int(decided),
        both_positive=int(a),
        challenger_only=int(b),
        champion_only=int(c),
        scored=int(scored),
        champion_mean=cp_mean,
        challenger_mean=ch_mean,
        diff_mean=diff_mean,
        diff_var=diff_var,
        labelled=int(labelled),
        outcomes=np.array(outcomes, dtype=np.int64).reshape(2, 2, 2),
    )


def _assemble(rows, window: WindowSpec, sensitive: Sequence[str], unmatched, delong) -> ShadowScan:
    keys = 1 + len(sensitive)
    overall = Cells()
    by_window: dict[int, tuple[Cells, int, int]] = {}
    groups: dict[str, dict[str, Cells]] = {c: {} for c in sensitive}
    for row in rows:
        flags, values, rest = row[:keys], row[keys : 2 * keys], row[2 * keys :]
        stats, (first, last, _) = rest[:-3], rest[-3:]
        cells = _cells(stats)
        if all(flags):
            overall = cells
        elif not flags[0]:
            if values[0] is not None:
                by_window[int(values[0])] = (cells, int(first), int(last))
        else:
            index = flags[1:].index(0)
            value = values[1 + index]
            name = MISSING_GROUP if value is None else _label(value)
            found = groups[sensitive[index]]
            found[name] = found[name].merged(cells) if name in found else cells
    too_many = [c for c in sensitive if len(groups[c]) > MAX_GROUPS]
    for column in too_many:
        del groups[column]
    windows: list[ShadowWindowCells] = []
    if by_window:
        if window.kind == "rows":
            windows = [
                ShadowWindowCells(from_us(first), from_us(last + 1), cells)
                for _, (cells, first, last) in sorted(by_window.items())
            ]
        else:
            for key, start, end in calendar_span(window.kind, min(by_window), max(by_window)):
                windows.append(ShadowWindowCells(start, end, by_window.get(key, (Cells(),))[0]))
    return ShadowScan(overall, windows, groups, too_many, unmatched, delong)


def _delong(con: duckdb.DuckDBPyConnection) -> DelongComponents | None:
    """DeLong's components from two rankings of the labelled requests with both scores: for each
    positive, the share of negatives scored below it (ties one half), and for each negative the share
    of positives above it — by window functions over the scores, which DuckDB sorts out of core."""
    query = f"""
        WITH lab AS (SELECT __y AS y, __scp AS a, __sch AS b FROM pairs WHERE __y IS NOT NULL AND {_SCORED}),
        tot AS (SELECT sum(y) AS m, count(*) - sum(y) AS n FROM lab),
        ranked AS (
            SELECT y,
                sum(1 - y) OVER (ORDER BY a RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS neg_le_a,
                sum(1 - y) OVER (PARTITION BY a) AS neg_eq_a,
                sum(y) OVER (ORDER BY a RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS pos_le_a,
                sum(y) OVER (PARTITION BY a) AS pos_eq_a,
                sum(1 - y) OVER (ORDER BY b RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS neg_le_b,
                sum(1 - y) OVER (PARTITION BY b) AS neg_eq_b,
                sum(y) OVER (ORDER BY b RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS pos_le_b,
                sum(y) OVER (PARTITION BY b) AS pos_eq_b
            FROM lab),
        parts AS (
            -- twice each component's numerator: whole numbers (ties count one half), so every sum
            -- below is exact and the same whatever order DuckDB's threads add the rows in
            SELECT y,
                CASE WHEN y = 1 THEN CAST(2 * neg_le_a - neg_eq_a AS HUGEINT) END AS pa,
                CASE WHEN y = 1 THEN CAST(2 * neg_le_b - neg_eq_b AS HUGEINT) END AS pb,
                CASE WHEN y = 0 THEN CAST(2 * (tot.m - pos_le_a) + pos_eq_a AS HUGEINT) END AS qa,
                CASE WHEN y = 0 THEN CAST(2 * (tot.m - pos_le_b) + pos_eq_b AS HUGEINT) END AS qb
            FROM ranked, tot WHERE tot.m > 0 AND tot.n > 0)
        SELECT count(pa), count(qa), sum(pa), sum(pb), sum(pa * pa), sum(pb * pb), sum(pa * pb),
            sum(qa), sum(qb), sum(qa * qa), sum(qb * qb), sum(qa * qb)
        FROM parts"""
    row = con.execute(query).fetchone()
    if row is None or row[0] < 2 or row[1] < 2:
        return None
    m, n, pa, pb, paa, pbb, pab, qa, qb, qaa, qbb, qab = (int(v) for v in row)
    # V10 = p / 2n over the m positives, V01 = q / 2m over the n negatives: means, sample variances
    # and the covariance from the exact integer sums, divided once (correctly rounded)
    positive_scale, negative_scale = m * (m - 1) * (2 * n) ** 2, n * (n - 1) * (2 * m) ** 2
    return DelongComponents(
        m,
        n,
        pa / (2 * n * m),
        pb / (2 * n * m),
        (m * paa - pa * pa) / positive_scale,
        (m * pbb - pb * pb) / positive_scale,
        (m * pab - pa * pb) / positive_scale,
        (n * qaa - qa * qa) / negative_scale,
        (n * qbb - qb * qb) / negative_scale,
        (n * qab - qa * qb) / negative_scale,
    )


__all__ = ["Cells", "ShadowScan", "Side", "scan_shadow"]
