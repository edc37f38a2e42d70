"""A shadow test in words a risk manager reads: what share of decisions the challenger changes, for
whom, whether that differs between groups, and how the two versions compare once outcomes arrive.

Every sentence states its interval and says what the interval allows one to conclude; group and
version names are escaped here (:func:`modelgov.render.text.text`), so templates print the
sentences as they are.
"""

from __future__ import annotations

from modelgov.manifest import (
    Interval,
    Model,
    ModelVersion,
    ShadowComparison,
    ShadowFeature,
    ShadowGap,
    ShadowMetricDelta,
    ShadowReport,
)
from modelgov.render import text
from modelgov.text_safety import quoted_name


def pct(value: float | None) -> str:
    return text.pct(value, 1)


def points(value: float | None) -> str:
    """A difference of two shares in percentage points, signed."""
    if value is None:
        return text.pct(None)
    shown = f"{value * 100:+.1f}"
    return ("0.0" if shown in ("+0.0", "-0.0") else shown) + " percentage points"


def share_interval(interval: Interval | None) -> str:
    if interval is None or interval.low is None or interval.high is None:
        return "no interval"
    return f"{interval.level * 100:g}% interval {pct(interval.low)} – {pct(interval.high)}"


def points_range(interval: Interval | None) -> str:
    """``+0.6 to +10.0``: an interval of a difference in percentage points, without its level."""
    if interval is None or interval.low is None or interval.high is None:
        return "no interval"
    low, high = (f"{v * 100:+.1f}" for v in (interval.low, interval.high))
    return f"{low} to {high}"


def points_interval(interval: Interval | None) -> str:
    if interval is None or interval.low is None or interval.high is None:
        return "no interval"
    return f"{interval.level * 100:g}% interval {points_range(interval)}"


def excludes_zero(interval: Interval | None) -> bool:
    return (
        interval is not None
        and interval.low is not None
        and interval.high is not None
        and (interval.low > 0 or interval.high < 0)
    )


def changed_sentence(report: ShadowReport) -> str:
    """The headline: the share of decisions the challenger changes, and in which direction."""
    overall = report.overall
    if not overall.decided:
        return "No request in the shadow log has a decision from both versions yet."
    changed = overall.challenger_only + overall.champion_only
    sentence = (
        f"The challenger changes **{pct(overall.change_rate)}** of decisions "
        f"({changed:,} of {overall.decided:,} requests; {share_interval(_flip(overall.agreement_interval))})."
    )
    direction = overall.decision_rate_delta or 0.0
    verb = "more" if direction > 0 else "fewer"
    if excludes_zero(overall.decision_rate_delta_interval):
        sentence += (
            f" It makes {verb} positive decisions than the champion: {pct(overall.challenger_rate)} against "
            f"{pct(overall.champion_rate)}, {points(direction)} ({points_interval(overall.decision_rate_delta_interval)})."
        )
    else:
        sentence += (
            f" Its changes go both ways about equally: positive decisions {pct(overall.challenger_rate)} against "
            f"the champion's {pct(overall.champion_rate)} ({points(direction)}, "
            f"{points_interval(overall.decision_rate_delta_interval)}, which includes no change)."
        )
    return sentence


def _flip(interval: Interval | None) -> Interval | None:
    """The interval of the change rate from the agreement's (1 − agreement)."""
    if interval is None or interval.low is None or interval.high is None:
        return interval
    return interval.model_copy(update={"low": 1 - interval.high, "high": 1 - interval.low})


def change_interval(node: ShadowComparison) -> str:
    return share_interval(_flip(node.agreement_interval))


def groups_sentence(feature: ShadowFeature) -> str:
    """ "For F 10.9 %, for M 9.0 % …", then the gap and what its interval says."""
    parts = [
        f"for {text.text(quoted_name(g.group))} {pct(g.change_rate)}" + (" (a small group)" if g.small else "")
        for g in feature.groups
        if g.decided
    ]
    sentence = (
        f"By {text.text(quoted_name(feature.feature))}, the challenger changes decisions " + ", ".join(parts) + "."
    )
    gap = feature.max_change_gap
    if gap is None:
        return sentence + f" No gap between groups is stated: {text.text(feature.note or 'too few groups')}."
    between = (
        f"between {text.text(quoted_name(gap.high_group))} ({pct(gap.high_rate)}) and {text.text(quoted_name(gap.low_group))} "
        f"({pct(gap.low_rate)}) the gap is {points(gap.value)} ({points_interval(gap.interval)}"
    )
    if gap.joint_interval is not None and gap.pairs > 1:
        between += (
            f"; allowing for its being the largest of the {gap.pairs} pairs of groups, "
            f"{points_range(gap.joint_interval)})"
        )
        if excludes_zero(gap.interval) and not excludes_zero(gap.joint_interval):
            return (
                sentence + f" The largest difference, {between}, could be chance: picked as the largest of "
                f"{gap.pairs} pairs, a gap this size is not unusual when the groups are treated alike."
            )
    else:
        between += ")"
    if is_finding(gap):
        return (
            sentence + f" **Fairness finding:** {between}, so the challenger changes decisions for "
            f"{text.text(quoted_name(gap.high_group))} more often than for {text.text(quoted_name(gap.low_group))}, beyond what chance explains."
        )
    return sentence + f" The largest difference, {between}, is within what chance explains."


def is_finding(gap: ShadowGap) -> bool:
    """The gap excludes zero by the interval that allows for its being the largest of every pair of
    groups (by its own interval in a manifest written before that interval was recorded)."""
    return excludes_zero(gap.joint_interval if gap.joint_interval is not None else gap.interval)


def group_finding(report: ShadowReport) -> list[ShadowFeature]:
    """Sensitive features whose gap in decision-change rates is a finding (see :func:`is_finding`), or
    with a group whose positive-decision rate the challenger moves beyond chance (:func:`moved_groups`)."""
    overall = report.overall.decision_rate_delta
    return [
        f for f in report.features if (f.max_change_gap and is_finding(f.max_change_gap)) or moved_groups(f, overall)
    ]


def moved_groups(feature: ShadowFeature, overall: float | None = None) -> list:
    """The groups (not small) whose positive-decision rate the challenger moves otherwise than it
    moves everyone's: the interval of the group's change excludes zero and excludes ``overall``, the
    change over all requests. How often decisions change says nothing of their direction: a challenger
    can change as many decisions for every group and still refer one group far more often. A shift of
    every group alike (approving 3 points more for everyone) is the overall change, not a group's."""
    moved = []
    for g in feature.groups:
        interval = g.decision_rate_delta_interval
        if not g.decided or g.small or g.decision_rate_delta is None or not excludes_zero(interval):
            continue
        if overall is not None and interval is not None and interval.low <= overall <= interval.high:
            continue
        moved.append(g)
    return moved


def direction_sentence(feature: ShadowFeature, overall: float | None = None) -> str:
    """Which way the challenger moves the positive decisions of each group it moves otherwise than
    everyone's (:func:`moved_groups`); empty when it is no group."""
    moved = moved_groups(feature, overall)
    if not moved:
        return ""
    parts = [
        f"for {text.text(quoted_name(g.group))} from {pct(g.champion_rate)} to {pct(g.challenger_rate)} "
        f"({points(g.decision_rate_delta)}, {points_interval(g.decision_rate_delta_interval)})"
        for g in moved
    ]
    judged = (
        " Each group is judged on its own interval: with many groups, one can come out this way by chance."
        if len([g for g in feature.groups if g.decided and not g.small]) > 2
        else ""
    )
    against = f" ({points(overall)} over all requests)" if overall is not None else ""
    return (
        f"**The challenger moves some groups' share of positive decisions otherwise than everyone's{against}**, "
        f"by {text.text(quoted_name(feature.feature))}: " + "; ".join(parts) + "." + judged
    )


def verdict(metric: ShadowMetricDelta) -> str:
    """Better, worse or no clear difference, by the interval of the delta."""
    if metric.interval is None or metric.delta is None:
        return "not known"
    if not excludes_zero(metric.interval):
        return "no clear difference"
    better = (metric.interval.low > 0) == metric.higher_is_better
    return "challenger better" if better else "challenger worse"


def metric_delta(metric: ShadowMetricDelta) -> str:
    return text.signed(metric.delta, 3)


def metric_interval(metric: ShadowMetricDelta) -> str:
    return text.interval(metric.interval, 3, differences=True)


def shadowed_by(model: Model, version: ModelVersion) -> list[ModelVersion]:
    """The versions running in shadow beside ``version`` (it is their champion)."""
    return [v for v in model.versions if v.shadow is not None and v.shadow.champion == version.version]


def champion_of(model: Model, version: ModelVersion) -> ModelVersion | None:
    if version.shadow is None:
        return None
    return next((v for v in model.versions if v.version == version.shadow.champion), None)


ASSUMPTIONS = (
    (
        "Agreement and each group's change rate",
        "Wilson score interval. Assumes requests are independent of each other; a customer who applies "
        "several times counts several times.",
    ),
    (
        "Change in the positive-decision rate",
        "Newcombe's score interval for two proportions measured on the same requests, and McNemar's mid-p test "
        "on the requests whose decision changed. Uses the pairing: both versions decided each request.",
    ),
    (
        "Change in the mean score",
        "Student's t interval of the per-request score differences. Assumes independent requests; the mean of "
        "many differences is close to normal even when the scores are not.",
    ),
    (
        "Gap between groups",
        "Newcombe's hybrid score interval for two independent proportions: the groups hold different requests. "
        "Groups with fewer decided requests than the workspace's minimum group size are shown but left out.",
    ),
    (
        "Accuracy, recall, false positive rate, precision",
        "Paired percentile bootstrap over the labelled requests (the same resampled requests for both versions), "
        "McNemar's mid-p test for accuracy. Assumes the labelled requests stand for all requests: outcomes "
        "that arrive late for some kinds of request bias the comparison.",
    ),
    (
        "ROC AUC",
        "DeLong's paired test: each request ranked by both versions, the variance of the difference from those "
        "rankings. Computed without holding the requests in memory; on large samples it agrees with the paired "
        "bootstrap the evaluation comparison uses.",
    ),
)
