"""An A/B test's log reduced, out of core, to each arm's sufficient statistics per window.

One DuckDB ``GROUP BY arm, window`` over the experiment log (left-joined to its outcomes by id when
the metric or a KPI reads them) returns, per arm and window: the requests, those with an outcome
row, and the additive statistics of the primary metric (n, Σy, Σy² and, with inverse-propensity
weights w, Σw, Σwy, Σw², Σw²y, Σw²y²) and of each KPI of the card. Memory holds arms × windows ×
statistics, never the log; being sums, the statistics cumulate over windows into the sequential
analysis' looks without a second pass. The reading of the files (types, timestamps, windows, rates
as true/false) is the monitoring scan's (:mod:`.logsource`, :mod:`.kpi_scan`), so a log means the same
to both. The sums are compensated (``fsum``, Kahan–Babuška), so they hardly depend on the order in
which DuckDB's threads add the records: a plain floating-point sum can differ in its last digits
from one run to the next, and the site must be rebuilt byte for byte.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import duckdb

from modelgov.analysis.ab_test import Moments

from .aggregates import WindowSpec
from .kpi_definitions import KpiSpec, Statistics
from .kpi_scan import check_unique, numeric_sql, rate_sql
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
from .scan import MEMORY_LIMIT, Paths

Arm = Literal["challenger", "champion"]
_NUMERIC_TYPES = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                  "UBIGINT", "FLOAT", "DOUBLE", "REAL", "BOOLEAN")  # fmt: skip


@dataclass(frozen=True)
class MetricSpec:
    """How a request's primary metric is read: ``rate`` (1/0 of ``column``), ``mean`` (of ``column``)
    or ``accuracy`` (the log's ``column`` equals the outcomes' ``label``)."""

    kind: Literal["rate", "mean", "accuracy"]
    column: str
    table: Literal["log", "outcomes"]
    label: str | None = None


@dataclass(frozen=True)
class ExperimentColumns:
    timestamp: str
    id: str
    arm: str
    challenger: str  # the arm column's value for each arm
    champion: str
    propensity: str | None = None


@dataclass
class ArmWindow:
    """One arm in one window."""

    requests: int = 0
    matched: int = 0  # requests with an outcome row (0 when nothing reads the outcomes)
    metric: Moments = field(default_factory=Moments)
    kpis: dict[str, Statistics] = field(default_factory=dict)  # additive: total_sq in variance's place


@dataclass
class ScanWindow:
    start: dt.datetime
    end: dt.datetime
    arms: dict[Arm, ArmWindow]


@dataclass
class ExperimentScan:
    windows: list[ScanWindow]
    first: dt.datetime | None
    last: dt.datetime | None
    reads_outcomes: bool
    #: per KPI measured: (challenger, champion) statistics over the whole log, as kpis.measure reads them
    kpi_totals: dict[str, tuple[Statistics, Statistics]] = field(default_factory=dict)

    def total(self, arm: Arm) -> ArmWindow:
        out = ArmWindow()
        for window in self.windows:
            found = window.arms[arm]
            out.requests += found.requests
            out.matched += found.matched
            out.metric = out.metric + found.metric
        return out


def scan_experiment(
    logs: Paths,
    columns: ExperimentColumns,
    metric: MetricSpec,
    *,
    window: Literal["day", "week"],
    kpis: Sequence[KpiSpec] = (),
    outcomes: Paths | None = None,
    outcomes_id: str | None = None,
    memory_limit: str = MEMORY_LIMIT,
    threads: int | None = None,
) -> ExperimentScan:
    """Each arm's statistics per ``window`` (calendar, UTC; empty windows included, in order). Raises
    :class:`ScanError` naming the file and column for a missing column, an arm value that is neither
    arm's, a duplicated request id, a propensity outside (0, 1], a rate that is not true/false, or an
    outcome id with two different rows."""
    files = resolve_files(logs)
    log_columns: dict[str, Role] = {columns.id: "raw", columns.arm: "text"}
    truth_columns: dict[str, Role] = {}
    if columns.propensity:
        log_columns[columns.propensity] = "numeric"
    metric_role: Role = "raw" if metric.kind in ("rate", "accuracy") else "numeric"
    (log_columns if metric.table == "log" else truth_columns)[metric.column] = metric_role
    if metric.kind == "accuracy":
        assert metric.label is not None
        truth_columns[metric.label] = "raw"
    for kpi in kpis:
        target = log_columns if kpi.table == "log" else truth_columns
        for column in kpi.measure.columns:
            target.setdefault(column, "raw" if kpi.measure.aggregation == "rate" else "numeric")
    on_outcomes = bool(truth_columns)
    if on_outcomes and (outcomes is None or outcomes_id is None):
        raise ValueError("the metric reads the outcomes: the experiment needs its outcome table")
    with tempfile.TemporaryDirectory(prefix="modelgov-experiment-") as spill:
        con = connect(memory_limit, threads, Path(spill))
        try:
            types = define_log(con, files, columns.timestamp, log_columns)
            join = ""
            truth_types: dict[str, str] = {}
            if on_outcomes:
                assert outcomes is not None and outcomes_id is not None
                truth_files = resolve_files(outcomes)
                truth_types = define_log(con, truth_files, None, {outcomes_id: "raw", **truth_columns}, view="truth")
                check_unique(con, truth_files, outcomes_id, list(truth_columns))
                same = types[columns.id] == truth_types[outcomes_id]
                left = f"l.{q(columns.id)}"
                on = f"{left} = o.__id" if same else f"CAST({left} AS VARCHAR) = CAST(o.__id AS VARCHAR)"
                picked = ", ".join(q(c) for c in truth_columns)
                join = (
                    f" LEFT JOIN (SELECT DISTINCT {q(outcomes_id)} AS __id, {picked} FROM truth"
                    f" WHERE {q(outcomes_id)} IS NOT NULL) o ON {on}"
                )
            define_windows(con, WindowSpec(kind=window), columns.timestamp, ties=[])
            _check_log(con, files, columns)
            y = _metric_sql(metric, types, truth_types)
            weight = f"1.0 / l.{q(columns.propensity)}" if columns.propensity else "1.0"
            arm = f"CASE l.{q(columns.arm)} WHEN ? THEN 'challenger' ELSE 'champion' END"
            values = [f"{y} AS __y", f"{weight} AS __wt"]
            for i, kpi in enumerate(kpis):
                prefix = "l." if kpi.table == "log" else "o."
                for j, column in enumerate(kpi.measure.columns):
                    expr = f"{prefix}{q(column)}"
                    sql = rate_sql(expr) if kpi.measure.aggregation == "rate" else numeric_sql(expr)
                    values.append(f"{sql} AS __k{i}_{j}")
            matched = "o.__id IS NOT NULL" if on_outcomes else "false"
            inner = (
                f"SELECT l.__w, l.__t, {arm} AS __arm, {matched} AS __matched, {', '.join(values)} FROM wlog l{join}"
            )
            # a rate's -1.0 marks a value that is neither true nor false: refused below, never counted; a
            # mean's (and accuracy's) values are counted whatever their sign
            valid = "__y IS NOT NULL AND __y >= 0" if metric.kind == "rate" else "__y IS NOT NULL"
            aggregates = [
                "count(*)",
                "count(*) FILTER (WHERE __matched)",
                "min(__t)",
                "max(__t)",
                f"count(*) FILTER (WHERE {valid})",
                f"fsum(__y) FILTER (WHERE {valid})",
                f"fsum(__y * __y) FILTER (WHERE {valid})",
                f"fsum(__wt) FILTER (WHERE {valid})",
                f"fsum(__wt * __y) FILTER (WHERE {valid})",
                f"fsum(__wt * __wt) FILTER (WHERE {valid})",
                f"fsum(__wt * __wt * __y) FILTER (WHERE {valid})",
                f"fsum(__wt * __wt * __y * __y) FILTER (WHERE {valid})",
                "count(*) FILTER (WHERE __y < 0)" if metric.kind == "rate" else "0",
            ]
            for i, kpi in enumerate(kpis):
                aggregates += _kpi_aggregates(kpi, i)
            rows = con.execute(
                f"SELECT __w, __arm, {', '.join(aggregates)} FROM ({inner}) GROUP BY __w, __arm ORDER BY __w, __arm",
                [columns.challenger],
            ).fetchall()
            if any(r[0] is None for r in rows):
                raise timestamp_problem(con, columns.timestamp)
            if any(r[14] for r in rows):
                where = describe(files) if metric.table == "log" else describe(resolve_files(outcomes))  # type: ignore[arg-type]
                raise ScanError(
                    f"{where}: column {metric.column!r} holds a value that is not true or false; a rate counts the "
                    "share of true values, so the column holds 1/0 or true/false (empty when unknown)"
                )
            for i, kpi in enumerate(kpis):
                if kpi.measure.aggregation == "rate" and any(r[_kpi_offset(kpis, i) + 3] for r in rows):
                    raise ScanError(
                        f"KPI {kpi.name!r}: column {kpi.measure.columns[0]!r} of the experiment's "
                        f"{'log' if kpi.table == 'log' else 'outcomes'} holds a value that is not true or false"
                    )
        except duckdb.Error as exc:
            raise read_error(exc, files) from None
        finally:
            con.close()
    return _assemble(rows, kpis, window, on_outcomes)


def _metric_sql(metric: MetricSpec, types: dict[str, str], truth_types: dict[str, str]) -> str:
    prefix = "l." if metric.table == "log" else "o."
    expr = f"{prefix}{q(metric.column)}"
    if metric.kind == "rate":
        return rate_sql(expr)
    if metric.kind == "mean":
        return numeric_sql(expr)
    assert metric.label is not None
    label = f"o.{q(metric.label)}"
    numeric = types.get(metric.column, "").split("(")[0] in _NUMERIC_TYPES and (
        truth_types.get(metric.label, "").split("(")[0] in _NUMERIC_TYPES
    )
    left, right = (
        (f"CAST({expr} AS DOUBLE)", f"CAST({label} AS DOUBLE)")
        if numeric
        else (f"trim(CAST({expr} AS VARCHAR))", f"trim(CAST({label} AS VARCHAR))")
    )
    return f"CASE WHEN {expr} IS NULL OR {label} IS NULL THEN NULL WHEN {left} = {right} THEN 1.0 ELSE 0.0 END"


def _check_log(con: duckdb.DuckDBPyConnection, files: list[Path], columns: ExperimentColumns) -> None:
    """Every request's arm is one of the two, its id is there and unique, and its propensity (when
    logged) a probability above zero: a request outside these would be counted wrongly.

    One pass over the log counts the requests whose arm or id is missing or wrong (a rule found
    broken is looked at again for the message's example), a second looks for an id seen twice, and
    a third, when a propensity is logged, checks it: the propensity is read as a number, and a text
    that is not one is an error of its own, so it is read only once the other rules hold, as before."""
    arm, ident = q(columns.arm), q(columns.id)
    off_arm = f"{arm} IS NULL OR {arm} NOT IN (?, ?)"
    broken = con.execute(
        f"SELECT count(*) FILTER (WHERE {off_arm}), count(*) FILTER (WHERE {ident} IS NULL) FROM log",
        [columns.challenger, columns.champion],
    ).fetchone()
    assert broken is not None
    if broken[0]:
        found = con.execute(
            f"SELECT {arm}, count(*) FROM log WHERE {off_arm} GROUP BY {arm} LIMIT 1",
            [columns.challenger, columns.champion],
        ).fetchone()
        assert found is not None
        shown = "an empty value" if found[0] is None else repr(found[0])
        raise ScanError(
            f"{describe(files)}: column {columns.arm!r} holds {shown} in {found[1]:,} request(s); each request is "
            f"served by {columns.challenger!r} (this version) or {columns.champion!r} (the champion)"
        )
    if broken[1]:
        raise ScanError(f"{describe(files)}: column {columns.id!r} is empty in {broken[1]:,} request(s)")
    twice = con.execute(f"SELECT {ident}, count(*) FROM log GROUP BY {ident} HAVING count(*) > 1 LIMIT 1").fetchone()
    if twice:
        raise ScanError(
            f"{describe(files)}: request id {twice[0]!r} (column {columns.id!r}) appears {twice[1]} times; each "
            "request is one record, or it would count twice in its arm"
        )
    if columns.propensity:
        p = q(columns.propensity)
        bad = con.execute(
            f"SELECT CAST({p} AS VARCHAR), count(*) OVER () FROM log WHERE {p} IS NULL OR NOT isfinite({p})"
            f" OR {p} <= 0 OR {p} > 1 LIMIT 1"
        ).fetchone()
        if bad:
            shown = "an empty value" if bad[0] is None else repr(bad[0])
            raise ScanError(
                f"{describe(files)}: column {columns.propensity!r} holds {shown} ({bad[1]:,} request(s)); a "
                "propensity is the probability (above 0, at most 1) that the request was sent to the arm that "
                "served it, and every request needs one for the inverse-propensity weights"
            )


def _kpi_aggregates(kpi: KpiSpec, index: int) -> list[str]:
    """n, missing, Σy, Σy² (rate and mean, plus the invalid-rate count) or n, missing, Σy, Σy², Σx,
    Σx², Σxy (ratio), over the records in scope (with an outcome row, for a KPI on the outcomes)."""
    scope = "__matched" if kpi.table == "outcomes" else "true"
    if kpi.measure.aggregation != "ratio":
        x = f"__k{index}_0"
        # a rate's -1.0 marks a value that is neither true nor false (refused); a mean's or a sum's
        # values count whatever their sign (a profit, a change in balance)
        rate = kpi.measure.aggregation == "rate"
        ok = f"{x} IS NOT NULL AND {x} >= 0" if rate else f"{x} IS NOT NULL"
        return [
            f"count(*) FILTER (WHERE {ok})",
            f"count(*) FILTER (WHERE {scope} AND {x} IS NULL)",
            f"fsum({x}) FILTER (WHERE {ok})",
            f"count(*) FILTER (WHERE {x} < 0)" if rate else "0",
            f"fsum({x} * {x}) FILTER (WHERE {ok})",
        ]
    y, x = f"__k{index}_0", f"__k{index}_1"
    both = f"{y} IS NOT NULL AND {x} IS NOT NULL"
    return [
        f"count(*) FILTER (WHERE {both})",
        f"count(*) FILTER (WHERE {scope} AND NOT ({both}))",
        f"fsum({y}) FILTER (WHERE {both})",
        "0",
        f"fsum({y} * {y}) FILTER (WHERE {both})",
        f"fsum({x}) FILTER (WHERE {both})",
        f"fsum({x} * {x}) FILTER (WHERE {both})",
        f"fsum({y} * {x}) FILTER (WHERE {both})",
    ]


def _kpi_width(kpi: KpiSpec) -> int:
    return 8 if kpi.measure.aggregation == "ratio" else 5


def _kpi_offset(kpis: Sequence[KpiSpec], index: int) -> int:
    return 15 + sum(_kpi_width(k) for k in kpis[:index])


def _f(value: object) -> float:
    return 0.0 if value is None else float(value)  # type: ignore[arg-type]


def _assemble(rows: list[tuple], kpis: Sequence[KpiSpec], window: str, on_outcomes: bool) -> ExperimentScan:
    by_key: dict[int, dict[Arm, ArmWindow]] = {}
    first = last = None
    sums: dict[str, dict[Arm, list[float]]] = {k.name: {"challenger": [], "champion": []} for k in kpis}
    for row in rows:
        key, arm = int(row[0]), row[1]
        requests, matched, t0, t1 = row[2:6]
        n, s, s2, w, wy, w2, w2y, w2y2 = row[6:14]
        first = t0 if first is None else min(first, t0)
        last = t1 if last is None else max(last, t1)
        found = ArmWindow(
            int(requests),
            int(matched),
            Moments(int(n), _f(s), _f(s2), _f(w), _f(wy), _f(w2), _f(w2y), _f(w2y2)),
        )
        by_key.setdefault(key, {"challenger": ArmWindow(), "champion": ArmWindow()})[arm] = found
        for i, kpi in enumerate(kpis):
            offset = _kpi_offset(kpis, i)
            part = [_f(v) for v in row[offset : offset + _kpi_width(kpi)]]
            totals = sums[kpi.name][arm]
            sums[kpi.name][arm] = part if not totals else [a + b for a, b in zip(totals, part, strict=True)]
    windows: list[ScanWindow] = []
    if by_key:
        for key, start, end in calendar_span(window, min(by_key), max(by_key)):
            arms = by_key.get(key, {"challenger": ArmWindow(), "champion": ArmWindow()})
            windows.append(ScanWindow(start, end, arms))
    totals = {
        kpi.name: (_statistics(kpi, sums[kpi.name]["challenger"]), _statistics(kpi, sums[kpi.name]["champion"]))
        for kpi in kpis
    }
    return ExperimentScan(
        windows,
        from_us(first) if first is not None else None,
        from_us(last + 1) if last is not None else None,
        on_outcomes,
        totals,
    )


def _statistics(kpi: KpiSpec, values: list[float]) -> Statistics:
    """Additive sums as the :class:`~.kpi_definitions.Statistics` :func:`~.kpis.measure` reads: s² =
    (Σy² − (Σy)²/n)/(n − 1) and s_xy = (Σxy − ΣyΣx/n)/(n − 1)."""
    if not values:
        return Statistics(0, 0, 0.0)
    n, missing, total, _, total_sq, *rest = values
    n = int(n)

    def variance(sq: float, a: float, b: float) -> float | None:
        return None if n < 2 else (sq - a * b / n) / (n - 1)

    if kpi.measure.aggregation != "ratio":
        return Statistics(n, int(missing), total, variance(total_sq, total, total))
    total_x, total_x_sq, total_xy = rest
    return Statistics(
        n,
        int(missing),
        total,
        variance(total_sq, total, total),
        total_x,
        variance(total_x_sq, total_x, total_x),
        variance(total_xy, total, total_x),
    )


__all__ = ["ArmWindow", "ExperimentColumns", "ExperimentScan", "MetricSpec", "ScanWindow", "scan_experiment"]
