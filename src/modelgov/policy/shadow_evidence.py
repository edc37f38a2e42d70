"""Evidence paths of a version's shadow test: ``shadow.agreement``, ``shadow.decision_rate_delta``,
``shadow.groups.<feature>.max_change_gap``, ``shadow.metrics.<metric>.delta`` and the rest, each
with ``.ci_low`` / ``.ci_high`` where the page shows an interval.

The facts come from the manifest's :class:`~modelgov.manifest.ShadowReport` (the whole test, not one
window), so a policy reads the figures the shadow page states. A version without a shadow test has
none of these paths (a rule on them reports its ``missing`` outcome); a metric delta exists once
outcomes have arrived.
"""

from __future__ import annotations

from collections.abc import Callable

from modelgov import manifest
from modelgov.feature_names import group_segment, policy_key

_CI = ("", ".ci_low", ".ci_high")

#: The grammar's shadow paths (see :data:`modelgov.policy.paths.TEMPLATES`).
TEMPLATES: tuple[str, ...] = (
    "shadow.champion",
    "shadow.requests",
    "shadow.decided",
    "shadow.labelled",
    *(
        f"shadow.{name}{ci}"
        for name in ("agreement", "change_rate", "decision_rate_delta", "mean_score_delta")
        for ci in _CI
    ),
    "shadow.decision_rate_p",
    *(f"shadow.groups.<feature>.max_change_gap{ci}" for ci in _CI),
    "shadow.groups.<feature>.max_change_gap.joint_low",
    "shadow.groups.<feature>.max_change_gap.joint_high",
    *(f"shadow.groups.<feature>.<group>.change_rate{ci}" for ci in _CI),
    *(f"shadow.groups.<feature>.<group>.decision_rate_delta{ci}" for ci in _CI),
    "shadow.groups.<feature>.<group>.count",
    *(f"shadow.metrics.<metric>.delta{ci}" for ci in _CI),
    "shadow.metrics.<metric>.champion",
    "shadow.metrics.<metric>.challenger",
    "shadow.metrics.<metric>.p_value",
)


def _bounds(interval: manifest.Interval | None, flip: bool = False) -> tuple[float | None, float | None]:
    if interval is None:
        return None, None
    if flip and interval.low is not None and interval.high is not None:  # change rate = 1 − agreement
        return 1 - interval.high, 1 - interval.low
    return interval.low, interval.high


def shadow_evidence(put: Callable[..., None], version: manifest.ModelVersion, page: str) -> None:
    """Every shadow path of one version."""
    report = version.shadow
    if report is None:
        return
    summary, groups, outcomes = f"{page}#summary", f"{page}#by-group", f"{page}#once-outcomes-arrive"
    overall = report.overall

    def with_ci(path: str, value, bounds: tuple[float | None, float | None], where: str, detail: str | None = None):
        put(path, value, where, detail)
        put(f"{path}.ci_low", bounds[0], where, detail)
        put(f"{path}.ci_high", bounds[1], where, detail)

    detail = f"challenger {version.version} beside champion {report.champion}, {overall.decided:,} requests"
    put("shadow.champion", report.champion, summary)
    put("shadow.requests", overall.requests, summary)
    put("shadow.decided", overall.decided, summary)
    put("shadow.labelled", overall.labelled, summary)
    with_ci("shadow.agreement", overall.agreement, _bounds(overall.agreement_interval), summary, detail)
    with_ci("shadow.change_rate", overall.change_rate, _bounds(overall.agreement_interval, True), summary, detail)
    with_ci(
        "shadow.decision_rate_delta",
        overall.decision_rate_delta,
        _bounds(overall.decision_rate_delta_interval),
        summary,
        detail,
    )
    put("shadow.decision_rate_p", overall.decision_rate_p, summary, detail)
    with_ci(
        "shadow.mean_score_delta", overall.mean_score_delta, _bounds(overall.mean_score_delta_interval), summary, detail
    )
    for feature in report.features:
        base = f"shadow.groups.{policy_key(feature.feature)}"
        gap = feature.max_change_gap
        if gap is not None:
            gap_detail = (
                f"{gap.high_group} {gap.high_rate:.1%} of decisions changed against {gap.low_group} {gap.low_rate:.1%}"
            )
            with_ci(f"{base}.max_change_gap", gap.value, _bounds(gap.interval), groups, gap_detail)
            joint = _bounds(gap.joint_interval)
            put(f"{base}.max_change_gap.joint_low", joint[0], groups, gap_detail)
            put(f"{base}.max_change_gap.joint_high", joint[1], groups, gap_detail)
        for group in feature.groups:
            name = f"{base}.{group_segment(group.group)}"
            put(f"{name}.count", group.decided, groups)
            with_ci(f"{name}.change_rate", group.change_rate, _bounds(group.agreement_interval, True), groups)
            with_ci(
                f"{name}.decision_rate_delta",
                group.decision_rate_delta,
                _bounds(group.decision_rate_delta_interval),
                groups,
            )
    if report.outcomes is not None:
        labelled = f"on {report.outcomes.labelled:,} requests whose outcome arrived"
        for metric in report.outcomes.metrics:
            base = f"shadow.metrics.{metric.name}"
            with_ci(f"{base}.delta", metric.delta, _bounds(metric.interval), outcomes, labelled)
            put(f"{base}.champion", metric.champion, outcomes, labelled)
            put(f"{base}.challenger", metric.challenger, outcomes, labelled)
            put(f"{base}.p_value", metric.p_value, outcomes, labelled)
