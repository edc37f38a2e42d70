"""What the "Fairness in production" section of a monitoring page shows, from the manifest alone.

Per sensitive feature: each measure's series over the windows on its basis (selection rates for
demographic parity; realized where outcomes arrived and estimated from the scores for the
outcome-based measures), the latest gap in words with the groups behind it, the groups left out
as too small, and the threshold a policy sets for the measure — a production rule
(``production_fairness.…``) first, else the evaluation's (``fairness.…``), so a reader sees the
standard the version is held to.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from modelgov.feature_names import policy_key
from modelgov.manifest import Disparity, FairnessSnapshot, Manifest, Model, ModelVersion, ProductionFairness
from modelgov.render import monitoring_views as mv

#: (measure, basis order) charted, in order: parity from every record, the others from outcomes.
CHARTED = (
    ("demographic_parity_ratio", ("selection",)),
    ("demographic_parity_difference", ("selection",)),
    ("equal_opportunity_difference", ("realized", "estimated")),
    ("equalized_odds_difference", ("realized", "estimated")),
    ("mae_difference", ("realized",)),  # a regression model's groups (only where outcomes arrived)
    ("mean_error_difference", ("realized",)),
)
BASIS_WORDS = {
    "selection": "from every scored record",
    "realized": "realized, where outcomes arrived",
    "estimated": "estimated from the scores",
}
_REQUIREMENT = re.compile(r"(>=|<=|==|>|<)\s*(-?[0-9.]+(?:e-?[0-9]+)?)\s*$")


@dataclass(frozen=True)
class Point:
    index: int  # the window's position on the monitoring page's time axis
    label: str
    basis: str
    item: Disparity
    rows: int  # records the value rests on

    @property
    def excluded(self) -> list[str]:
        return [f"{e.group} ({e.reason})" for e in self.item.excluded]


@dataclass(frozen=True)
class Threshold:
    operator: str
    value: float
    source: str  # the rule's evidence path
    production: bool  # a production rule (else the evaluation's)


@dataclass
class MeasureView:
    name: str
    label: str
    description: str | None
    series: dict[str, list[Point]] = field(default_factory=dict)  # basis → points
    threshold: Threshold | None = None

    @property
    def latest(self) -> Point | None:
        """The latest window's value, on its best basis (realized before estimated)."""
        points = [p for basis in ("selection", "realized", "estimated") for p in self.series.get(basis, [])]
        return max(
            points, key=lambda p: (p.index, -["selection", "realized", "estimated"].index(p.basis)), default=None
        )


@dataclass
class FeatureView:
    result: ProductionFairness
    measures: list[MeasureView]
    windows: int  # windows with a value on any basis
    realized_windows: int
    estimated_only: int  # windows with an estimate but no outcome yet
    left_out: list[str]  # groups ever left out of a latest summary, with why (the latest window's words)
    #: the latest window with outcomes: (its label, its realized snapshot), for a regression model's group table
    latest_realized: tuple[str, FairnessSnapshot] | None = None

    @property
    def error_directions(self) -> tuple[list[tuple[str, float]], list[tuple[str, float]]] | None:
        """A regression model's latest window with outcomes: the groups that enter the gap (enough
        records, a defined mean error) whose predictions run below their outcomes on average, and
        those whose run above, each (group, mean error), most negative first; None without such groups."""
        if self.latest_realized is None:
            return None
        snapshot = self.latest_realized[1]
        left_out = {e.group for d in snapshot.disparities for e in d.excluded}
        errors = sorted(
            (g.metrics["mean_error"], g.group)
            for g in snapshot.groups
            if g.metrics.get("mean_error") is not None and g.group not in left_out
        )
        if not errors:
            return None
        return [(g, e) for e, g in errors if e < 0], [(g, e) for e, g in errors if e >= 0]


def production_fairness_view(
    model: Model, version: ModelVersion, manifest: Manifest | None = None
) -> list[FeatureView]:
    """One entry per sensitive feature of the card (measured or not, with why)."""
    report = version.drift
    view = mv.monitoring_view(model, version)
    if report is None or view is None or not report.fairness:
        return []
    labels = {row.window.start: (row.index, row.label) for row in view.windows}
    out = []
    for result in report.fairness:
        measures = []
        counted = realized = estimated_only = 0
        latest_realized = None
        for window in result.windows:
            measured = any(getattr(window, b) for b in ("selection", "realized", "estimated"))
            # a regression model's window with records counts before its outcomes arrive, as it has no other basis
            counted += measured or (model.task == "regression" and bool(window.rows))
            realized += window.realized is not None
            estimated_only += window.realized is None and window.estimated is not None
            if window.realized is not None and window.start in labels:
                latest_realized = (labels[window.start][1], window.realized)
        for name, bases in CHARTED:
            measure = None
            for basis in bases:
                for window in result.windows:
                    snapshot: FairnessSnapshot | None = getattr(window, basis)
                    item = _between(snapshot, name) if snapshot else None
                    if item is None or window.start not in labels:
                        continue
                    if measure is None:
                        measure = MeasureView(name, item.label, item.description)
                    index, label = labels[window.start]
                    measure.series.setdefault(basis, []).append(Point(index, label, basis, item, snapshot.rows))
            if measure is not None:
                measure.threshold = policy_threshold(manifest, model, version, result.feature, name)
                measures.append(measure)
        left_out = []
        for measure in measures:
            latest = measure.latest
            if latest is not None:
                left_out += [x for x in latest.excluded if x not in left_out]
        out.append(FeatureView(result, measures, counted, realized, estimated_only, left_out, latest_realized))
    return out


def _between(snapshot: FairnessSnapshot, name: str) -> Disparity | None:
    return next((d for d in snapshot.disparities if d.name == name and d.method == "between_groups"), None)


def policy_threshold(
    manifest: Manifest | None, model: Model, version: ModelVersion, feature: str, measure: str
) -> Threshold | None:
    """The threshold a policy rule that applies to this version sets for ``measure`` of ``feature``:
    a production rule if there is one, else the evaluation's; None when no rule sets one."""
    if manifest is None or manifest.governance is None:
        return None
    key = policy_key(feature)
    found: list[Threshold] = []
    for result in manifest.governance.results:
        if result.model != model.id or result.version != version.version:
            continue
        for check in result.checks:
            parts = check.path.split(".")
            if parts[-1] != measure or len(parts) < 3 or parts[1] != key:
                continue
            production = parts[0] == "production_fairness"
            if not production and (parts[0] != "fairness" or len(parts) != 3):
                continue
            match = _REQUIREMENT.search(check.requirement)
            if match:
                found.append(Threshold(match.group(1), float(match.group(2)), check.path, production))
    found.sort(key=lambda t: not t.production)
    return found[0] if found else None


def gap_sentence(point: Point) -> str:
    """The latest gap in words, naming the groups: ``F 0.083 against M 0.112 (selection rate)``."""
    item = point.item
    rate = item.rate_label or item.rate or ""
    if len(item.groups) >= 2 and len(item.group_rates) >= 2:
        if item.name.endswith("_ratio"):
            return (
                f"{item.groups[0]}'s {rate} ({item.group_rates[0]:.3f}) is {item.value:.2f} times "
                f"{item.groups[1]}'s ({item.group_rates[1]:.3f})"
            )
        return (
            f"{item.groups[0]}'s {rate} ({item.group_rates[0]:.3f}) is {item.value:.3f} above "
            f"{item.groups[1]}'s ({item.group_rates[1]:.3f})"
        )
    return f"{item.value:.3f}" if item.value is not None else "undefined"


def threshold_text(threshold: Threshold | None) -> str:
    if threshold is None:
        return ""
    words = {">=": "at least", "<=": "at most", ">": "above", "<": "below", "==": "equal to"}[threshold.operator]
    whose = "A production policy" if threshold.production else "The policy on the evaluation"
    return f"{whose} requires {words} {threshold.value:g}"


def meets(threshold: Threshold | None, value: float | None) -> bool | None:
    if threshold is None or value is None:
        return None
    v, t = value, threshold.value
    return {">=": v >= t, "<=": v <= t, ">": v > t, "<": v < t, "==": v == t}[threshold.operator]
