"""What the pages say about a model's business KPIs, read from the manifest alone.

The card defines each KPI (``model.business``); a version's monitoring report measures it window by
window (``drift.kpis``). Here the two are joined and put into words for the people who judge whether
the model does what it was built for: the value in business units, the target, the baseline the
model replaced, and — the case accuracy alone hides — a model that predicts well while its KPI does
not move.
"""

from __future__ import annotations

import math
import statistics
from dataclasses import dataclass
from typing import NamedTuple

from modelgov.manifest import Kpi, KpiSeries, KpiValue, KpiWindow, Metric, Model, ModelVersion
from modelgov.render import monitoring_views as mv

#: Fewer values than this in a window and the page calls it small (kept in step with
#: :data:`modelgov.monitoring.kpi_definitions.SMALL_WINDOW`, which render may not import).
SMALL_WINDOW = 30
#: Realized accuracy counts as "as validated" when the median over windows with outcomes is at least
#: the reference's interval low, or within this much of the reference value when it has no interval.
ACCURACY_SLACK = 0.02
#: Windows with a value needed before the page says a KPI does not move.
FLAT_MIN_WINDOWS = 3
#: The latest windows with outcomes whose median must also be as validated for the page to say the
#: model still predicts as validated (else it says since when it no longer does).
RECENT_WINDOWS = 3


def format_value(kpi: Kpi, value: float | None) -> str:
    """A value in the KPI's unit: ``5.61 %``, ``€1,234.50``, ``0.417``; ``—`` when undefined."""
    if value is None:
        return "—"
    if kpi.unit == "percent":
        decimals = 2 if kpi.decimals is None else kpi.decimals
        return f"{value * 100:,.{decimals}f} %"
    if kpi.unit == "currency":
        decimals = 2 if kpi.decimals is None else kpi.decimals
        symbol = kpi.symbol or ""
        sign = "−" if value < 0 else ""
        amount = f"{abs(value):,.{decimals}f}"
        return f"{sign}{symbol}{amount}" if len(symbol) <= 1 else f"{sign}{symbol} {amount}"
    if kpi.decimals is not None:
        shown = f"{value:,.{kpi.decimals}f}"
    else:
        shown = f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return "−" + shown[1:] if shown.startswith("-") else shown  # the minus sign the differences use


def target_text(kpi: Kpi) -> str:
    """``at most 4.00 %`` or ``at least 60.00 %``."""
    return f"{'at least' if kpi.direction == 'higher' else 'at most'} {format_value(kpi, kpi.target)}"


def interval_text(kpi: Kpi, value: KpiValue | None) -> str:
    """``4.12 % – 6.87 %``, or empty without an interval."""
    if value is None or value.interval is None or value.interval.low is None or value.interval.high is None:
        return ""
    return f"{format_value(kpi, value.interval.low)} – {format_value(kpi, value.interval.high)}"


def difference_text(kpi: Kpi, difference: float | None) -> str:
    """A difference in the KPI's unit (percentage points for a percentage), with its sign."""
    if difference is None:
        return "—"
    sign = "+" if difference > 0 else "−" if difference < 0 else ""  # no change has no sign ("±0" reads as a range)
    if kpi.unit == "percent":
        decimals = 2 if kpi.decimals is None else kpi.decimals
        return f"{sign}{abs(difference) * 100:,.{decimals}f} points"
    return sign + format_value(kpi, abs(difference)).lstrip("−")


@dataclass(frozen=True)
class KpiRow:
    row: mv.WindowRow
    window: KpiWindow

    @property
    def small(self) -> bool:
        return self.window.kpi is not None and 0 < self.window.kpi.count < SMALL_WINDOW

    @property
    def small_baseline(self) -> bool:
        """The baseline measured in this window (a column of the log) rests on few values: a verdict
        against it is as weak as one on a small window, whatever the KPI's own count."""
        return self.window.baseline is not None and 0 < self.window.baseline.count < SMALL_WINDOW


def counted_text(kpi: Kpi, window: KpiWindow) -> str:
    """How many records a window's value was computed on, against the records it could have been:
    ``computed on the 337 of the 474 records with outcomes that have every column it reads`` when only some hold the KPI's columns (a loss rate over the
    loans granted), so that this count and the log's own count of the window are not read as two
    numbers for the same thing."""
    if window.kpi is None:
        return ""
    counted = window.kpi.count
    pool, where = (window.outcome_rows, "with outcomes") if kpi.table == "outcomes" else (window.rows, "in the log")
    if pool is None or counted == pool:
        return f"computed on {counted:,} record{'s' if counted != 1 else ''}"
    # "computed on": "21 of the 150" alone reads as the count the KPI found (21 customers retained)
    return f"computed on the {counted:,} of the {pool:,} records {where} that have every column it reads"


class Accuracy(NamedTuple):
    """The model's headline realized metric when it is as good as validated over the windows with
    outcomes (its median), and whether it still is in the latest of them: a median over many weeks
    can hide the last few, and a page must not say the model predicts as validated when it no longer
    does."""

    label: str
    median: float
    reference: float | None
    bound: float  # the value the median had to reach (the reference interval's end, or the slack)
    recent: float  # the median over the latest RECENT_WINDOWS windows with outcomes
    recent_windows: int
    holds_recently: bool
    before: float | None = None  # the median over the windows with outcomes before those
    left_out: int = 0  # windows with outcomes left out: fewer than ``minimum`` records with outcomes
    minimum: int = SMALL_WINDOW


@dataclass(frozen=True)
class KpiView:
    kpi: Kpi
    series: KpiSeries
    rows: list[KpiRow]
    noun: str  # week, month, window
    kind: str  # the report's window: day, week, month or "N rows"
    accuracy: Accuracy | None  # the model's realized accuracy when it is "as validated"

    @property
    def level(self) -> float:
        """The intervals' confidence level (the workspace's ``analysis.confidence_level``)."""
        levels = [r.window.kpi.interval.level for r in self.rows if r.window.kpi and r.window.kpi.interval]
        return levels[0] if levels else 0.95

    @property
    def measured(self) -> list[KpiRow]:
        return [r for r in self.rows if r.window.status == "measured"]

    @property
    def latest(self) -> KpiRow | None:
        return self.measured[-1] if self.measured else None

    @property
    def awaiting(self) -> list[KpiRow]:
        """Windows with records whose outcomes have not arrived (KPIs on the outcomes)."""
        return [r for r in self.rows if r.window.status == "no outcomes yet"]

    @property
    def small(self) -> list[KpiRow]:
        return [r for r in self.measured if r.small]

    @property
    def missing(self) -> list[KpiRow]:
        """Measured windows that miss the target."""
        return [r for r in self.measured if r.window.meets_target is False]

    @property
    def verdict(self) -> str:
        """``meets``, ``misses`` or ``not measured`` (the latest window with a value)."""
        if self.series.meets_target is None:
            return "not measured"
        return "meets" if self.series.meets_target else "misses"

    @property
    def clearly(self) -> bool:
        """The latest value's interval lies wholly on its side of the target (not a matter of chance)."""
        latest = self.latest
        if latest is None or latest.window.kpi is None or latest.window.kpi.interval is None:
            return False
        interval = latest.window.kpi.interval
        if interval.low is None or interval.high is None:
            return False
        target = self.kpi.target
        return interval.low > target or interval.high < target

    @property
    def better_windows(self) -> list[KpiRow]:
        return [r for r in self.measured if r.window.against_baseline == "better"]

    @property
    def worse_windows(self) -> list[KpiRow]:
        return [r for r in self.measured if r.window.against_baseline == "worse"]

    @property
    def compared(self) -> list[KpiRow]:
        return [r for r in self.measured if r.window.against_baseline is not None]

    @property
    def flat(self) -> bool:
        """The KPI does not move. Against a baseline: at least :data:`FLAT_MIN_WINDOWS` windows compared,
        and clearly better in at most one in ten of them (rounded up) — with many windows, a 95 %
        interval excludes zero now and then by chance alone, so one such window proves nothing.
        Without a baseline: every measured window misses the target."""
        if self.kpi.baseline is not None:
            compared = len(self.compared)
            return compared >= FLAT_MIN_WINDOWS and len(self.better_windows) <= math.ceil(compared / 10)
        return len(self.measured) >= FLAT_MIN_WINDOWS and len(self.missing) == len(self.measured)

    @property
    def flat_while_accurate(self) -> bool:
        """The case accuracy hides: the model predicts as well as it was validated to, and the KPI
        it was built to move does not move."""
        return self.flat and self.accuracy is not None

    def phrase(self, row: KpiRow) -> str:
        return mv.window_phrase(self.kind, row.window.start)

    def summary(self) -> str:
        """One line in business words, e.g. ``Credit losses: 5.61 % in the week of 2026-10-26 (95% interval
        4.12 % – 6.87 %, computed on the 337 of the 474 records with outcomes that have every column it reads; target at most 4.00 %) — misses its target, 5 weeks in a row``:
        the interval and the count say how firmly, and a value whose interval reaches the target says so."""
        kpi = self.kpi
        latest = self.latest
        if latest is None:
            reason = (
                "no outcomes have arrived yet"
                if self.awaiting and kpi.table == "outcomes"
                else "no window holds a value yet"
            )
            return f"{kpi.title}: not measured yet, {reason} (target {target_text(kpi)})"
        value = format_value(kpi, latest.window.kpi.value if latest.window.kpi else None)
        interval = interval_text(kpi, latest.window.kpi)
        basis = ", ".join(
            ([f"{self.level:.0%} interval {interval}"] if interval else [])
            + ([counted_text(kpi, latest.window)] if latest.window.kpi else [])
        )
        basis = f"{basis}; " if basis else ""
        text = f"{kpi.title}: {value} in {self.phrase(latest)} ({basis}target {target_text(kpi)}) — "
        if self.verdict == "meets":
            text += "meets its target"
        else:
            run = self.series.windows_missing_target
            text += "misses its target"
            if run > 1:
                text += f", {run} {self.noun}s in a row"
        if interval and not self.clearly:
            text += ", though its interval reaches the target: it could lie on either side by chance"
        if self.flat_while_accurate:
            text += "; no better than " + ("its baseline" if kpi.baseline is not None else "before")
            if self.accuracy.holds_recently:
                text += " although the model predicts as validated"
            else:
                enough = f"at least {self.accuracy.minimum} outcomes" if self.accuracy.left_out else "outcomes"
                text += (
                    f" although the model predicted as validated before its latest {self.accuracy.recent_windows}"
                    f" {self.noun}s with {enough}"
                )
        return text


def _accuracy(model: Model, version: ModelVersion) -> Accuracy | None:
    """The model's headline realized metric when it is as good as validated (median over windows with
    outcomes ≥ the reference interval's low end, or the reference value less :data:`ACCURACY_SLACK`),
    with whether the latest :data:`RECENT_WINDOWS` windows with outcomes still are; None otherwise, or
    when nothing was realized.

    Only windows with at least :data:`SMALL_WINDOW` records with outcomes count: a week with a handful
    of outcomes has an accuracy of anything by chance, and one such week among the latest three could
    turn "predicts as validated" into "predicted" (or back) on its own. Each figure is a median over
    windows, so that one unusual window among them does not decide it either."""
    view = mv.monitoring_view(model, version)
    if view is None or not view.metrics:
        return None
    names = [name for name, _, _ in view.metrics]
    name = "accuracy" if "accuracy" in names else names[0]
    label, better = next((lab, b) for n, lab, b in view.metrics if n == name)
    if better not in ("higher", "lower"):  # best at a value (a mean error): no one-sided bound
        return None
    up = better == "higher"
    measured = [
        (r.metrics[name].value, r.window.labelled_rows)
        for r in view.windows
        if name in r.metrics and r.metrics[name].value is not None
    ]
    counted = [(value, rows) for value, rows in measured if rows >= SMALL_WINDOW]
    if not counted:
        return None
    values = [value for value, _ in counted]
    median = statistics.median(values)
    reference: Metric | None = view.reference_metrics.get(name)
    if reference is None or reference.value is None:
        return None
    bound = reference.value - ACCURACY_SLACK if up else reference.value + ACCURACY_SLACK
    if reference.interval is not None and reference.interval.low is not None and reference.interval.high is not None:
        bound = min(bound, reference.interval.low) if up else max(bound, reference.interval.high)
    good = median >= bound if up else median <= bound
    if not good:
        return None
    latest = values[-RECENT_WINDOWS:]
    recent = statistics.median(latest)
    holds = recent >= bound if up else recent <= bound
    earlier = values[:-RECENT_WINDOWS]
    before = statistics.median(earlier) if earlier else None
    left_out = len(measured) - len(counted)
    return Accuracy(label, median, reference.value, bound, recent, len(latest), holds, before, left_out)


def kpi_views(model: Model, version: ModelVersion) -> list[KpiView]:
    """The version's KPIs, in the card's order; empty when the card states none or the version has
    no monitoring report."""
    report = version.drift
    business = model.business
    view = mv.monitoring_view(model, version)
    if report is None or business is None or view is None or not report.kpis:
        return []
    series = {s.name: s for s in report.kpis}
    accuracy = _accuracy(model, version)
    out = []
    for kpi in business.kpis:
        found = series.get(kpi.name)
        if found is None:
            continue
        rows = [KpiRow(row, window) for row, window in zip(view.windows, found.windows, strict=False)]
        out.append(KpiView(kpi, found, rows, mv.window_noun(report.window), report.window, accuracy))
    return out


def business_line(model: Model, version: ModelVersion | None) -> list[KpiView]:
    """The KPIs of ``version`` for a one-line summary (the card, the inventory)."""
    return kpi_views(model, version) if version is not None else []


def card_version(model: Model) -> ModelVersion | None:
    """The version whose KPIs the inventory shows: the live one, else the newest with a report."""
    live = next((v for v in model.versions if v.version == model.live_version), None)
    if live is not None and live.drift is not None and live.drift.kpis:
        return live
    return next((v for v in model.versions if v.drift is not None and v.drift.kpis), None)
