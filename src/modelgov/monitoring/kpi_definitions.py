"""What a business KPI is, and the per-window statistics both engines reduce a log to.

The card's ``business.kpis`` become :class:`KpiSpec` (:func:`spec_of`); each engine (DuckDB in
:mod:`.kpi_scan`, Spark in :mod:`.kpi_spark`) reduces the log by one ``GROUP BY`` to rows of the same
layout — ``(window key, rows, matched, first µs, last µs, per-measure aggregates…)`` — which
:func:`assemble` reads back as :class:`KpiWindowStats`. The layout lives here, once, so the two
engines cannot drift apart; :mod:`.kpis` turns the statistics into values, intervals and verdicts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from .aggregates import WindowSpec
from .logsource import ScanError, calendar_span, from_us

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


def measures_of(specs: Sequence[KpiSpec]) -> dict[Measure, Literal["log", "outcomes"]]:
    out: dict[Measure, Literal["log", "outcomes"]] = {}
    for spec in specs:
        for measure in spec.measures:
            out.setdefault(measure, spec.table)
    return out


def not_a_rate(where: str, column: str, text: str | None) -> ScanError:
    shown = "a value" if text is None else repr(text if len(text) <= 40 else text[:37] + "...")
    return ScanError(
        f"{where}: column {column!r} holds {shown} that is not true or false; a rate counts the share of true "
        "values, so the column holds 1/0 or true/false (empty when unknown)"
    )


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


def invalid_rates(rows: list[tuple], measures: list[Measure]) -> int | None:
    """The index of the first rate measure with a value that is not true or false, if any."""
    position = 5  # key, rows, matched, first, last
    for index, measure in enumerate(measures):
        if measure.aggregation == "rate" and any(row[position + 4] for row in rows):
            return index
        position += _width(measure)
    return None


def assemble(rows: list[tuple], measures: list[Measure], window: WindowSpec, on_outcomes: bool) -> list[KpiWindowStats]:
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
