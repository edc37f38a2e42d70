"""Business KPIs per monitoring window: the card's ``business.kpis`` measured on a version's log.

A KPI is a column of the production log, or of the outcome table joined to it by id, aggregated per
window (mean, sum, rate, or the ratio of two columns' sums). Each window is reduced by one
``GROUP BY`` to its sufficient statistics, so memory holds windows × KPIs numbers, never the log:

* mean and sum: n, Σx and the sample variance s² (computed by the engine's one-pass, numerically
  stable aggregate; s² = (Σx² − (Σx)²/n)/(n − 1));
* rate: n and the number of true values;
* ratio of sums: n (records with both columns), Σy, Σx, s²_y, s²_x and the sample covariance s_xy.

The intervals are then closed-form (:func:`measure`): Student's t for a mean or a sum, Wilson's score
interval for a rate, the delta method for a ratio. DuckDB computes the statistics here; the Spark
engine's twin (:func:`kpi_windows_spark`) gives the same numbers for logs that live on a cluster.
"""

from __future__ import annotations

import math
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import duckdb
from scipy import stats

from modelgov import manifest

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
from .scan import MEMORY_LIMIT, Paths

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame

    from .report import MonitoringInputs

#: Fewer values than this in a window, and the page says the window is small (its interval is wide
#: and rests on a normal approximation that may not hold yet).
SMALL_WINDOW = 30

#: Text a rate column may hold, and what it means (compared in lower case, trimmed).
TRUE_TEXT = ("1", "1.0", "true", "t", "yes", "y")
FALSE_TEXT = ("0", "0.0", "false", "f", "no", "n")
#: Text read as missing in a rate column, as NaN is in a numeric one.
MISSING_TEXT = ("nan",)


@dataclass(frozen=True)
class Measure:
    """One aggregated quantity: a KPI or its baseline."""

    aggregation: Literal["mean", "sum", "rate", "ratio"]
    columns: tuple[str, ...]  # (column,) or (numerator, denominator)


@dataclass(frozen=True)
class KpiSpec:
    """What the report needs of one KPI of the card."""

    name: str
    measure: Measure
    table: Literal["log", "outcomes"]
    direction: Literal["higher", "lower"]
    target: float
    baseline: Measure | None = None  # measured from columns of the same table
    baseline_value: float | None = None  # or a fixed figure

    @property
    def measures(self) -> list[Measure]:
        return [self.measure, *([self.baseline] if self.baseline is not None else [])]


def spec_of(kpi) -> KpiSpec:
    """A :class:`KpiSpec` from the card's :class:`~modelgov.workspace.kpi_schema.Kpi`."""
    definition = kpi.definition
    baseline = None
    if kpi.baseline is not None and kpi.baseline.column is not None:
        columns = (kpi.baseline.column,)
        if definition.aggregation == "ratio":
            columns = (kpi.baseline.column, kpi.baseline.denominator or definition.denominator)
        baseline = Measure(definition.aggregation, columns)
    return KpiSpec(
        name=kpi.name,
        measure=Measure(definition.aggregation, definition.columns),
        table=definition.table,
        direction=kpi.direction,
        target=kpi.target,
        baseline=baseline,
        baseline_value=kpi.baseline.value if kpi.baseline is not None else None,
    )


# --------------------------------------------------------------------------- sufficient statistics


@dataclass(frozen=True)
class Statistics:
    """One measure in one window. For mean, sum and rate: ``n`` values, their sum and sample variance;
    for a ratio also the denominator's sum and variance and the covariance (``total`` is Σ numerator,
    ``total_x`` Σ denominator)."""

    n: int
    missing: int
    total: float = 0.0
    variance: float | None = None
    total_x: float = 0.0
    variance_x: float | None = None
    covariance: float | None = None


@dataclass
class KpiWindowStats:
    start: object  # datetime, UTC
    end: object
    rows: int
    matched: int | None  # records with an outcome row (None when no KPI reads the outcomes)
    measures: dict[Measure, Statistics] = field(default_factory=dict)


def _measures(specs: Sequence[KpiSpec]) -> dict[Measure, Literal["log", "outcomes"]]:
    out: dict[Measure, Literal["log", "outcomes"]] = {}
    for spec in specs:
        for measure in spec.measures:
            out.setdefault(measure, spec.table)
    return out


def _rate_sql(expr: str) -> str:
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


def _numeric_sql(expr: str) -> str:
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
    measures = _measures(specs)
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
                _check_unique(con, truth_files, truth_id, list(truth_columns))
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
                    sql = _rate_sql(expr) if measure.aggregation == "rate" else _numeric_sql(expr)
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
            if (bad := _invalid_rates(rows, list(measures))) is not None:
                _refuse_rate(con, inner, measures, names, files, truth, bad)
        except duckdb.Error as exc:
            raise read_error(exc, files) from None
        finally:
            con.close()
    return _assemble(rows, list(measures), window, on_outcomes)


def _check_unique(con: duckdb.DuckDBPyConnection, files: list[Path], key: str, columns: list[str]) -> None:
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
    raise _not_a_rate(where, column, bad[0] if bad else None)


def _not_a_rate(where: str, column: str, text: str | None) -> ScanError:
    shown = "a value" if text is None else repr(text if len(text) <= 40 else text[:37] + "...")
    return ScanError(
        f"{where}: column {column!r} holds {shown} that is not true or false; a rate counts the share of true "
        "values, so the column holds 1/0 or true/false (empty when unknown)"
    )


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


def _statistics(measure: Measure, values: Sequence) -> Statistics:
    def f(v) -> float | None:
        return None if v is None else float(v)

    if measure.aggregation == "rate":
        n, missing, total, _, _ = values
        return Statistics(int(n), int(missing), f(total) or 0.0)
    if measure.aggregation != "ratio":
        n, missing, total, variance = values
        return Statistics(int(n), int(missing), f(total) or 0.0, f(variance))
    n, missing, total, variance, total_x, variance_x, covariance = values
    return Statistics(
        int(n), int(missing), f(total) or 0.0, f(variance), f(total_x) or 0.0, f(variance_x), f(covariance)
    )


def _width(measure: Measure) -> int:
    return {"rate": 5, "ratio": 7}.get(measure.aggregation, 4)


def _invalid_rates(rows: list[tuple], measures: list[Measure]) -> int | None:
    """The index of the first rate measure with a value that is not true or false, if any."""
    position = 5  # key, rows, matched, first, last
    for index, measure in enumerate(measures):
        if measure.aggregation == "rate" and any(row[position + 4] for row in rows):
            return index
        position += _width(measure)
    return None


def _assemble(
    rows: list[tuple], measures: list[Measure], window: WindowSpec, on_outcomes: bool
) -> list[KpiWindowStats]:
    """Rows of ``(key, rows, matched, first µs, last µs, per-measure aggregates…)`` as windows, gaps
    included for calendar windows."""
    by_key: dict[int, KpiWindowStats] = {}
    for row in rows:
        key, count, matched, first, last, *rest = row
        state = KpiWindowStats(from_us(first), from_us(last + 1), int(count), int(matched) if on_outcomes else None)
        position = 0
        for measure in measures:
            width = _width(measure)
            state.measures[measure] = _statistics(measure, rest[position : position + width])
            position += width
        by_key[int(key)] = state
    if not by_key:
        return []
    if window.kind == "rows":
        return [by_key[k] for k in sorted(by_key)]
    out = []
    for key, start, end in calendar_span(window.kind, min(by_key), max(by_key)):
        found = by_key.get(key)
        if found is None:
            out.append(KpiWindowStats(start, end, 0, 0 if on_outcomes else None))
        else:
            found.start, found.end = start, end
            out.append(found)
    return out


# --------------------------------------------------------------------------- the Spark twin


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
    """What :func:`kpi_windows` returns, computed by Spark (calendar windows only): one ``groupBy``
    of the log (left-joined with the distinct outcome rows by id) with the same aggregates; only
    windows × KPIs numbers reach the driver."""
    from pyspark.sql import functions as F

    from .spark_scan import _framed

    if window.kind not in ("day", "week", "month"):
        raise ScanError("row-count windows need the embedded engine; the Spark engine cuts calendar windows")
    measures = _measures(specs)
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
    if (bad := _invalid_rates(rows, list(measures))) is not None:
        measure, table = list(measures.items())[bad]
        name = names[(bad, 0)]
        source = measure.columns[0] if table == "log" else f"__o_{measure.columns[0]}"
        found = records.select(F.col(source).cast("string"), _rate_spark(F.col(source)).alias(name))
        example = found.filter(F.col(name) == -1.0).limit(1).collect()
        where = "log" if table == "log" else truth_name
        raise _not_a_rate(where, measure.columns[0], example[0][0] if example else None)
    return _assemble(rows, list(measures), window, on_outcomes)


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


# --------------------------------------------------------------------------- values and intervals


METHODS = {
    "mean": "the mean of the window's values, with Student's t interval (x̄ ± t·s/√n)",
    "sum": "the sum of the window's values, with Student's t interval of n times the mean (Σx ± t·s·√n)",
    "rate": "the share of the window's records that are true, with Wilson's score interval",
    "ratio": "the sum of the numerator divided by the sum of the denominator, with a delta-method interval",
}


def measure(aggregation: str, s: Statistics, level: float) -> manifest.KpiValue:
    """The value of one measure in one window, its standard error and its interval (formulas in
    docs/methods.md). The interval is None with too few values: one (mean, sum, ratio) or none."""
    n = s.n
    if n == 0:
        return manifest.KpiValue(value=None, count=0, missing=s.missing)
    z = float(stats.norm.ppf(0.5 + level / 2))
    interval: tuple[float, float] | None = None
    stderr: float | None = None
    if aggregation in ("mean", "sum"):
        mean = s.total / n
        value = mean if aggregation == "mean" else s.total
        if n >= 2 and s.variance is not None:
            sd = math.sqrt(max(s.variance, 0.0))
            se_mean = sd / math.sqrt(n)
            t = float(stats.t.ppf(0.5 + level / 2, n - 1))
            scale = 1.0 if aggregation == "mean" else float(n)
            stderr = se_mean * scale
            interval = ((mean - t * se_mean) * scale, (mean + t * se_mean) * scale)
    elif aggregation == "rate":
        p = s.total / n
        value = p
        stderr = math.sqrt(p * (1 - p) / n)
        interval = wilson(s.total, n, z)
    else:
        if s.total_x == 0:
            return manifest.KpiValue(value=None, count=n, missing=s.missing)
        ratio = s.total / s.total_x
        value = ratio
        if n >= 2 and None not in (s.variance, s.variance_x, s.covariance):
            mean_x = s.total_x / n
            spread = s.variance - 2 * ratio * s.covariance + ratio**2 * s.variance_x  # type: ignore[operator]
            stderr = math.sqrt(max(spread, 0.0) / n) / abs(mean_x)
            interval = (ratio - z * stderr, ratio + z * stderr)
    return manifest.KpiValue(
        value=value,
        interval=manifest.KpiInterval(low=interval[0], high=interval[1], level=level) if interval else None,
        stderr=stderr,
        count=n,
        missing=s.missing,
    )


def wilson(successes: float, n: int, z: float) -> tuple[float, float]:
    """Wilson's score interval for a proportion: the p whose score test at level z does not reject."""
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


def meets(value: float | None, spec: KpiSpec) -> bool | None:
    if value is None:
        return None
    return value >= spec.target if spec.direction == "higher" else value <= spec.target


def compare(
    kpi: manifest.KpiValue, baseline: manifest.KpiValue | float | None, spec: KpiSpec, level: float
) -> tuple[float | None, manifest.KpiInterval | None, str | None]:
    """KPI minus baseline, its interval, and whether it is clearly better, worse or neither.

    Against a measured baseline the two are taken as independent samples (the baseline's column is
    filled on the records the old process handled): se = √(se_k² + se_b²). Records the two share make
    the true spread smaller, so the interval is then conservative. Against a fixed value, only the
    KPI's own error counts."""
    if kpi.value is None or baseline is None:
        return None, None, None
    if isinstance(baseline, manifest.KpiValue):
        if baseline.value is None:
            return None, None, None
        difference = kpi.value - baseline.value
        errors = [kpi.stderr, baseline.stderr]
    else:
        difference = kpi.value - baseline
        errors = [kpi.stderr]
    if any(e is None for e in errors):
        return difference, None, None
    se = math.sqrt(sum(e * e for e in errors))  # type: ignore[operator]
    z = float(stats.norm.ppf(0.5 + level / 2))
    low, high = difference - z * se, difference + z * se
    interval = manifest.KpiInterval(low=low, high=high, level=level)
    if low <= 0 <= high:
        return difference, interval, "no clear difference"
    improved = difference > 0 if spec.direction == "higher" else difference < 0
    return difference, interval, "better" if improved else "worse"


def kpi_series(
    specs: Sequence[KpiSpec],
    windows: Sequence[KpiWindowStats],
    report_windows: Sequence[manifest.DriftWindow],
    level: float,
) -> list[manifest.KpiSeries]:
    """The KPIs of the report, window by window (the report's windows: a gap stays a gap)."""
    if len(windows) != len(report_windows) and any(w.rows for w in windows):
        raise ValueError(
            f"the KPI scan found {len(windows)} windows where the drift scan found {len(report_windows)}; "
            "the log changed while it was read"
        )
    out = []
    for spec in specs:
        rows: list[manifest.KpiWindow] = []
        for index, report_window in enumerate(report_windows):
            found = windows[index] if index < len(windows) else None
            rows.append(_window(spec, found, report_window, level))
        measured = [w for w in rows if w.kpi is not None and w.kpi.value is not None]
        latest = measured[-1] if measured else None
        missing_run = 0
        for w in reversed(measured):
            if w.meets_target:
                break
            missing_run += 1
        baseline_method = None
        if spec.baseline is not None:
            baseline_method = (
                "the baseline's column aggregated the same way; the difference's interval treats the two as "
                "independent samples (conservative when they share records)"
            )
        elif spec.baseline_value is not None:
            baseline_method = "a fixed value; the difference's interval is the KPI's own"
        out.append(
            manifest.KpiSeries(
                name=spec.name,
                method=METHODS[spec.measure.aggregation] + f", {level:.0%} level",
                baseline_method=baseline_method,
                windows=rows,
                latest=latest.start if latest else None,
                latest_value=latest.kpi.value if latest and latest.kpi else None,
                meets_target=latest.meets_target if latest else None,
                windows_missing_target=missing_run,
            )
        )
    return out


def _window(
    spec: KpiSpec, found: KpiWindowStats | None, report_window: manifest.DriftWindow, level: float
) -> manifest.KpiWindow:
    common = {"start": report_window.start, "end": report_window.end, "rows": report_window.rows}
    outcome_rows = found.matched if found is not None and spec.table == "outcomes" else None
    if spec.table == "outcomes" and outcome_rows is None:
        outcome_rows = 0
    if found is None or found.rows == 0:
        return manifest.KpiWindow(**common, outcome_rows=outcome_rows, status="no records")
    if spec.table == "outcomes" and not found.matched:
        return manifest.KpiWindow(**common, outcome_rows=0, status="no outcomes yet")
    kpi = measure(spec.measure.aggregation, found.measures[spec.measure], level)
    baseline = None
    if spec.baseline is not None:
        baseline = measure(spec.baseline.aggregation, found.measures[spec.baseline], level)
    if kpi.value is None:
        return manifest.KpiWindow(**common, outcome_rows=outcome_rows, status="no values", kpi=kpi, baseline=baseline)
    against = baseline if baseline is not None else spec.baseline_value
    difference, interval, verdict = compare(kpi, against, spec, level)
    return manifest.KpiWindow(
        **common,
        outcome_rows=outcome_rows,
        status="measured",
        kpi=kpi,
        baseline=baseline,
        meets_target=meets(kpi.value, spec),
        against_baseline=verdict,  # type: ignore[arg-type]
        difference=difference,
        difference_interval=interval,
    )


def report_kpis(inputs: MonitoringInputs, report_windows: Sequence[manifest.DriftWindow]) -> list[manifest.KpiSeries]:
    """The KPIs of ``inputs.kpis`` over the report's windows, from the configured engine."""
    specs = list(inputs.kpis)
    if not specs:
        return []
    settings = {
        "timestamp": inputs.timestamp,
        "window": inputs.window,
        "log_id": inputs.log_id,
        "truth_id": inputs.truth_id,
    }
    if inputs.spark is None:
        windows = kpi_windows(inputs.logs, specs, truth=inputs.truth, **settings)
    else:
        from .spark_scan import read_log, spark_session

        session = spark_session(inputs.spark.master, inputs.spark.conf)
        needed = inputs.truth is not None and any(s.table == "outcomes" for s in specs)
        windows = kpi_windows_spark(
            read_log(session, [str(p) for p in inputs.logs]),
            specs,
            truth=read_log(session, [str(inputs.truth)]) if needed else None,
            truth_name=str(inputs.truth),
            **settings,
        )
    return kpi_series(specs, windows, report_windows, inputs.resampling.level)
