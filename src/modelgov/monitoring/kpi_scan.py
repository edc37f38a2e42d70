"""Business KPIs' per-window statistics from a log on disk, reduced by DuckDB out of core.

One ``GROUP BY`` of the log (left-joined with the outcome table by id when a KPI reads it) gives
each window's sufficient statistics (:mod:`.kpi_definitions`): memory holds windows × KPIs numbers,
never the log. Mean and sum keep n, Σx and the engine's one-pass, numerically stable sample variance
s² = (Σx² − (Σx)²/n)/(n − 1); a rate n and the number of true values; a ratio of sums n (records with
both columns), Σy, Σx, s²_y, s²_x and the sample covariance s_xy. The Spark engine's twin is
:mod:`.kpi_spark`; the value and interval of each window are :mod:`.kpis`'.
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import duckdb

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
from .logsource import (
    Role,
    ScanError,
    connect,
    define_log,
    define_windows,
    describe,
    q,
    read_error,
    resolve_files,
    timestamp_problem,
)
from .scan import MEMORY_LIMIT, Paths


def rate_sql(expr: str) -> str:
    """A rate column's value as 1.0 / 0.0, NULL when missing, and the text itself (never NULL) when it
    is neither: the caller refuses those."""
    text = f"lower(trim(CAST({expr} AS VARCHAR)))"
    trues = ", ".join(f"'{t}'" for t in TRUE_TEXT)
    falses = ", ".join(f"'{t}'" for t in FALSE_TEXT)
    missing = ", ".join(f"'{t}'" for t in MISSING_TEXT)
    return (
        f"CASE WHEN {expr} IS NULL OR {text} IN ({missing}) THEN NULL WHEN {text} IN ({trues}) THEN 1.0"
        f" WHEN {text} IN ({falses}) THEN 0.0 ELSE -1.0 END"
    )


def numeric_sql(expr: str) -> str:
    return f"CASE WHEN isfinite({expr}) THEN {expr} END"


def kpi_windows(
    paths: Paths,
    specs: Sequence[KpiSpec],
    *,
    timestamp: str,
    window: WindowSpec,
    log_id: str | None = None,
    truth: Paths | None = None,
    truth_id: str | None = None,
    memory_limit: str = MEMORY_LIMIT,
    threads: int | None = None,
) -> list[KpiWindowStats]:
    """Every window's statistics of every KPI (and baseline) in ``specs``: the same windows as
    :func:`.scan.scan_windows`, empty ones included, in order. One pass of DuckDB over the log (joined
    with the outcomes when a KPI reads them), out of core; a ``rows`` window's boundary ties are
    ordered by the columns read here. Raises :class:`ScanError` naming the file and the column for a
    missing column, a value that is not a number (mean, sum, ratio) or not true/false (rate), or an
    id with two different outcome rows."""
    measures = measures_of(specs)
    on_outcomes = any(table == "outcomes" for table in measures.values())
    if on_outcomes and (truth is None or log_id is None or truth_id is None):
        raise ValueError("a KPI on the outcomes needs monitoring.id and monitoring.ground_truth")
    files = resolve_files(paths)
    log_columns: dict[str, Role] = {}
    truth_columns: dict[str, Role] = {}
    for measure, table in measures.items():
        target = log_columns if table == "log" else truth_columns
        for column in measure.columns:
            role: Role = "raw" if measure.aggregation == "rate" else "numeric"
            if target.get(column, role) != role:
                raise ScanError(f"column {column!r} is read both as a rate (true/false) and as numbers by the KPIs")
            target[column] = role
    if on_outcomes:
        assert log_id is not None
        log_columns.setdefault(log_id, "raw")
    with tempfile.TemporaryDirectory(prefix="modelgov-kpis-") as spill:
        con = connect(memory_limit, threads, Path(spill))
        try:
            types = define_log(con, files, timestamp, log_columns)
            join = ""
            if on_outcomes:
                assert truth is not None and truth_id is not None and log_id is not None
                truth_files = resolve_files(truth)
                truth_types = define_log(con, truth_files, None, {truth_id: "raw", **truth_columns}, view="truth")
                check_unique(con, truth_files, truth_id, list(truth_columns))
                same = types[log_id] == truth_types[truth_id]
                left, right = f"l.{q(log_id)}", "o.__id"
                on = f"{left} = {right}" if same else f"CAST({left} AS VARCHAR) = CAST({right} AS VARCHAR)"
                picked = ", ".join(f"{q(c)}" for c in truth_columns)
                join = (
                    f" LEFT JOIN (SELECT DISTINCT {q(truth_id)} AS __id, {picked} FROM truth"
                    f" WHERE {q(truth_id)} IS NOT NULL) o ON {on}"
                )
            define_windows(con, window, timestamp, ties=list(log_columns))
            values, names = [], {}
            for i, (measure, table) in enumerate(measures.items()):
                prefix = "l." if table == "log" else "o."
                for j, column in enumerate(measure.columns):
                    expr = f"{prefix}{q(column)}"
                    sql = rate_sql(expr) if measure.aggregation == "rate" else numeric_sql(expr)
                    names[(i, j)] = f"__m{i}_{j}"
                    values.append(f"{sql} AS __m{i}_{j}")
            matched = "o.__id IS NOT NULL" if on_outcomes else "true"
            inner = f"SELECT l.__w, l.__t, {matched} AS __matched, {', '.join(values)} FROM wlog l{join}"
            aggregates = ["count(*)", "count(*) FILTER (WHERE __matched)", "min(__t)", "max(__t)"]
            for i, (measure, table) in enumerate(measures.items()):
                scope = "__matched" if table == "outcomes" else "true"
                aggregates += _aggregates(measure, [names[(i, j)] for j in range(len(measure.columns))], scope)
            rows = con.execute(
                f"SELECT __w, {', '.join(aggregates)} FROM ({inner}) GROUP BY __w ORDER BY __w"
            ).fetchall()
            if any(r[0] is None for r in rows):
                raise timestamp_problem(con, timestamp)
            if (bad := invalid_rates(rows, list(measures))) is not None:
                _refuse_rate(con, inner, measures, names, files, truth, bad)
        except duckdb.Error as exc:
            raise read_error(exc, files) from None
        finally:
            con.close()
    return assemble(rows, list(measures), window, on_outcomes)


def check_unique(con: duckdb.DuckDBPyConnection, files: list[Path], key: str, columns: list[str]) -> None:
    """Each id's outcome row must be one: two different rows for an id would count it twice."""
    picked = ", ".join(q(c) for c in columns)
    found = con.execute(
        f"""SELECT __id, count(*) OVER () FROM (SELECT DISTINCT {q(key)} AS __id, {picked} FROM truth
            WHERE {q(key)} IS NOT NULL) GROUP BY __id HAVING count(*) > 1 LIMIT 1"""
    ).fetchone()
    if found:
        raise ScanError(
            f"{describe(files)}: {found[1]} id(s) in column {key!r} have different values in "
            f"{', '.join(map(repr, columns))} (e.g. {found[0]!r}); a KPI counts one outcome row per id"
        )


def _refuse_rate(con, inner: str, measures, names, files: list[Path], truth, index: int) -> None:
    """A rate's column must hold true/false (1/0): the first other value is shown with its file."""
    measure, table = list(measures.items())[index]
    column = measure.columns[0]
    prefix = "l." if table == "log" else "o."
    name = names[(index, 0)]
    shown_sql = inner.replace(f" AS {name},", f" AS {name}, CAST({prefix}{q(column)} AS VARCHAR) AS __text,", 1)
    if shown_sql == inner:
        shown_sql = inner.replace(f" AS {name} ", f" AS {name}, CAST({prefix}{q(column)} AS VARCHAR) AS __text ", 1)
    bad = con.execute(f"SELECT __text FROM ({shown_sql}) WHERE {name} = -1.0 LIMIT 1").fetchone()
    where = describe(files) if table == "log" else describe(resolve_files(truth))
    raise not_a_rate(where, column, bad[0] if bad else None)


def _aggregates(measure: Measure, names: list[str], scope: str) -> list[str]:
    """The SQL aggregates of one measure; ``scope`` is the condition of the records it is taken on
    (all of them for the log, those with an outcome row for the outcomes), for its missing count."""
    if measure.aggregation == "rate":
        (x,) = names
        return [
            f"count({x}) FILTER (WHERE {x} >= 0)",
            f"count(*) FILTER (WHERE {scope} AND {x} IS NULL)",
            f"sum({x}) FILTER (WHERE {x} >= 0)",
            "NULL",
            f"count(*) FILTER (WHERE {x} < 0)",
        ]
    if measure.aggregation != "ratio":
        (x,) = names
        return [f"count({x})", f"count(*) FILTER (WHERE {scope} AND {x} IS NULL)", f"sum({x})", f"var_samp({x})"]
    y, x = names
    both = f"{y} IS NOT NULL AND {x} IS NOT NULL"
    return [
        f"count(*) FILTER (WHERE {both})",
        f"count(*) FILTER (WHERE {scope} AND NOT ({both}))",
        f"sum({y}) FILTER (WHERE {both})",
        f"var_samp({y}) FILTER (WHERE {both})",
        f"sum({x}) FILTER (WHERE {both})",
        f"var_samp({x}) FILTER (WHERE {both})",
        f"covar_samp({y}, {x})",
    ]
