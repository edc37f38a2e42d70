"""What the monitoring page says about performance estimated before the outcomes arrive.

Built from the manifest alone: the report's :class:`~modelgov.manifest.PerformanceEstimation`, each
window's estimate and its checks against the realized values.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelgov.manifest import EstimateCheck, Metric, Model, ModelVersion, PerformanceEstimation
from modelgov.render import monitoring_views as mv
from modelgov.render.estimation_charts import charted_metrics


@dataclass(frozen=True)
class EstimatedRow:
    row: mv.WindowRow
    estimates: dict[str, Metric]
    checks: dict[str, EstimateCheck]

    @property
    def disagreeing(self) -> list[str]:
        """Names of the metrics whose realized value fell outside the interval."""
        return [name for name, check in self.checks.items() if check.disagrees]


@dataclass(frozen=True)
class EstimationView:
    summary: PerformanceEstimation
    metrics: list[tuple[str, str]]  # (name, label) shown
    rows: list[EstimatedRow]  # windows with records, in order

    @property
    def latest(self) -> EstimatedRow | None:
        return next((r for r in reversed(self.rows) if r.estimates), None)

    @property
    def pending(self) -> list[EstimatedRow]:
        """Windows with an estimate and no outcomes yet: where the estimate is all there is."""
        return [r for r in self.rows if r.estimates and r.row.outcomes_pending]

    @property
    def checked(self) -> list[EstimatedRow]:
        return [r for r in self.rows if any(c.realized is not None for c in r.checks.values())]

    @property
    def disagreeing(self) -> list[EstimatedRow]:
        return [r for r in self.checked if r.disagreeing]

    @property
    def unshown_misses(self) -> list[tuple[EstimatedRow, EstimateCheck]]:
        """Realized values outside their interval in metrics the table does not show, window by window:
        the count of misses covers every estimated metric, so each one is listed where a reader can
        find it."""
        shown = {name for name, _ in self.metrics}
        return [
            (row, check)
            for row in self.checked
            for name, check in row.checks.items()
            if check.disagrees and name not in shown
        ]

    @property
    def comparisons(self) -> int:
        """Realized values set beside an interval, over every window and metric."""
        return sum(1 for r in self.checked for c in r.checks.values() if c.disagrees is not None)

    @property
    def outside(self) -> int:
        return sum(len(r.disagreeing) for r in self.checked)

    @property
    def level(self) -> float:
        found = next((c.interval.level for r in self.checked for c in r.checks.values() if c.interval), None)
        return found if found is not None else 0.95

    @property
    def by_chance(self) -> float:
        """How many comparisons would fall outside with the assumption holding: 1 − level of them."""
        return (1 - self.level) * self.comparisons

    @property
    def direction(self) -> str | None:
        """``optimistic`` when every value outside its interval fell below it (realized worse than
        estimated, for metrics where higher is better), ``pessimistic`` when every one fell above it,
        None when they go both ways or none is outside."""
        below = above = 0
        for row in self.checked:
            for check in row.checks.values():
                if check.disagrees and check.interval is not None and check.realized is not None:
                    if check.interval.low is not None and check.realized < check.interval.low:
                        below += 1
                    elif check.interval.high is not None and check.realized > check.interval.high:
                        above += 1
        if below and not above:
            return "optimistic"
        if above and not below:
            return "pessimistic"
        return None

    @property
    def outside_since(self) -> list[EstimatedRow]:
        """The unbroken run of windows with a value outside that reaches the latest window with
        outcomes: one window outside is often chance; several in a row are a change."""
        run: list[EstimatedRow] = []
        for r in reversed(self.checked):
            if not r.disagreeing:
                break
            run.insert(0, r)
        return run


def estimation_view(model: Model, version: ModelVersion) -> EstimationView | None:
    """None when the report has no word on estimation (tasks other than binary classification)."""
    view = mv.monitoring_view(model, version)
    report = version.drift
    if view is None or report is None or report.estimation is None:
        return None
    metrics = charted_metrics(model, version)
    if not metrics:
        names = {m.name: m.label for w in report.windows if w.estimated for m in w.estimated.metrics}
        metrics = list(names.items())[:2]
    rows = []
    for row in view.windows:
        if row.empty:
            continue
        estimates = {m.name: m for m in row.window.estimated.metrics} if row.window.estimated else {}
        rows.append(EstimatedRow(row, estimates, {c.name: c for c in row.window.estimate_checks}))
    return EstimationView(report.estimation, metrics, rows)


def interval_text(metric: Metric | EstimateCheck | None) -> str:
    """``0.723 – 0.804``, or empty when there is no interval."""
    interval = getattr(metric, "interval", None)
    if interval is None or interval.low is None or interval.high is None:
        return ""
    return f"{interval.low:.3f} – {interval.high:.3f}"
