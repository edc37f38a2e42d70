"""What the card's comparison section says about the groups: which gaps moved, between which
groups, and which groups' rates changed clearly.

A gap's verdict follows the metric verdicts' rule (:func:`.views.delta_verdict`): *narrower* or
*wider* only when the paired interval of the difference lies on one side of zero, in the direction
that makes the groups closer (a difference falls, a ratio rises towards 1).
"""

from __future__ import annotations

from dataclasses import dataclass

from modelgov.manifest import Comparison, DisparityDelta, FairnessDelta, GroupRateDelta
from modelgov.render.views import Verdict
from modelgov.text_safety import quoted_name

#: The group rates the card's table shows (the others are in the manifest and the evidence paths).
SHOWN_RATES = ("selection_rate", "tpr", "fpr")
RATE_HEADERS = {"selection_rate": "Selection rate", "tpr": "True positive rate", "fpr": "False positive rate"}


def gap_verdict(item: DisparityDelta) -> Verdict:
    """``better`` (the gap narrowed), ``worse`` (it widened), ``no clear difference`` or ``cannot tell``."""
    if item.delta is None:
        return Verdict("cannot tell", "undefined in one of the versions")
    interval = item.interval
    if interval is None or interval.low is None or interval.high is None:
        return Verdict("cannot tell", "no interval")
    narrower_when_positive = item.name.endswith("_ratio")  # a ratio nearer 1, a difference nearer 0
    if interval.low > 0:
        return Verdict("better", "narrower") if narrower_when_positive else Verdict("worse", "wider")
    if interval.high < 0:
        return Verdict("worse", "wider") if narrower_when_positive else Verdict("better", "narrower")
    return Verdict("no clear difference")


def rate_changed(item: GroupRateDelta | None) -> bool:
    """The group's rate moved clearly: its paired interval excludes zero."""
    if item is None or item.interval is None or item.interval.low is None or item.interval.high is None:
        return False
    return item.interval.low > 0 or item.interval.high < 0


@dataclass(frozen=True)
class GroupRow:
    group: str
    count: int
    rates: dict[str, GroupRateDelta | None]

    @property
    def changed(self) -> list[str]:
        return [rate for rate, item in self.rates.items() if rate_changed(item)]


@dataclass(frozen=True)
class FeatureChanges:
    """One sensitive feature of a comparison, as the card shows it."""

    feature: FairnessDelta
    gaps: list[tuple[DisparityDelta, Verdict]]
    groups: list[GroupRow]

    @property
    def moved(self) -> list[tuple[DisparityDelta, Verdict]]:
        return [(item, verdict) for item, verdict in self.gaps if verdict.word in ("better", "worse")]


def fairness_changes(comparison: Comparison) -> list[FeatureChanges]:
    """Each feature's between-groups gaps with their verdicts, and each group's shown rates."""
    out = []
    for feature in comparison.fairness:
        gaps = [(item, gap_verdict(item)) for item in feature.disparities if item.method == "between_groups"]
        by_group: dict[str, dict[str, GroupRateDelta]] = {}
        counts: dict[str, int] = {}
        for item in feature.groups:
            by_group.setdefault(item.group, {})[item.rate] = item
            counts[item.group] = item.count
        rows = [
            GroupRow(group, counts[group], {r: rates.get(r) for r in SHOWN_RATES}) for group, rates in by_group.items()
        ]
        out.append(FeatureChanges(feature, gaps, rows))
    return out


def behind_text(item: DisparityDelta, other_version: str, parts: int = 1) -> str:
    """The groups behind each version's value, in words; the change of groups is named. ``parts``:
    the features the groups combine (an intersection's groups are parts joined by " × ")."""
    now = " and ".join(quoted_name(group, parts=parts) for group in item.this_groups)
    before = " and ".join(quoted_name(group, parts=parts) for group in item.other_groups)
    if not now and not before:
        return "—"
    if set(item.this_groups) == set(item.other_groups):
        return now
    return f"{now or 'none'} (in {other_version}: {before or 'none'})"
