"""Evidence paths of a version's comparisons with the live version and with its previous one.

``comparison.live.roc_auc.delta`` (``.ci_low``, ``.ci_high``; ``.joint_low``, ``.joint_high``: its part of
the band that covers every metric's delta at once), ``comparison.previous.roc_auc.abs_delta``,
``comparison.live.fairness.sex.demographic_parity_ratio.delta``,
``comparison.live.fairness.sex.groups.F.selection_rate.delta``, ``comparison.live.version``…

A delta is this version minus the other, on the same evaluation rows, and its interval is the paired
bootstrap interval of that difference (:mod:`modelgov.analysis.comparison`). That is what a
champion–challenger gate needs: "not worse than the champion by more than 0.01" is a bound on the
difference, ``comparison.live.roc_auc.delta.ci_low >= -0.01``, which two separate intervals cannot
give. ``abs_delta`` is the size of a change in either direction, for rules that ask a person to look
at any large change, better or worse.

A version compared with the live version on several datasets is read on the comparison of its
primary evaluation (the one every other evidence path reads), else its most recent one.
"""

from __future__ import annotations

from collections.abc import Callable

from modelgov import manifest
from modelgov.feature_names import group_segment, policy_key
from modelgov.text_safety import quoted_name

RELATIONS = ("live", "previous")
_CI = ("", ".ci_low", ".ci_high")
_CHANGE = (*(f".delta{ci}" for ci in _CI), ".abs_delta")

#: A metric best at a value (a mean error): the change in its distance from that value, what its verdict reads.
_DISTANCE = ("", ".ci_low", ".ci_high", ".joint_low", ".joint_high")

#: The grammar's comparison paths (see :data:`modelgov.policy.paths.TEMPLATES`).
TEMPLATES: tuple[str, ...] = tuple(
    path
    for relation in RELATIONS
    for path in (
        f"comparison.{relation}.version",
        f"comparison.{relation}.rows",
        f"comparison.{relation}.dataset",
        *(f"comparison.{relation}.<metric>{change}" for change in _CHANGE),
        f"comparison.{relation}.<metric>.delta.joint_low",
        f"comparison.{relation}.<metric>.delta.joint_high",
        *(f"comparison.{relation}.<metric>.distance{end}" for end in _DISTANCE),
        *(f"comparison.{relation}.fairness.<feature>.<disparity>{change}" for change in _CHANGE),
        *(f"comparison.{relation}.fairness.<feature>.to_overall.<disparity>{change}" for change in _CHANGE),
        *(f"comparison.{relation}.fairness.<feature>.groups.<group>.<rate>{change}" for change in _CHANGE),
    )
)


def chosen_comparison(
    model: manifest.Model, version: manifest.ModelVersion, relation: str, primary: str | None
) -> manifest.Comparison | None:
    """The comparison a relation's paths read: the primary evaluation's, else the most recent run's.
    The comparison with the live version is the one recorded as such, or, when the previous version
    is the live one (a retrain of the champion), the comparison with the previous version."""
    found = [c for c in version.comparisons if c.relation == relation]
    if not found and relation == "live":
        live = {v.version for v in model.versions if v.status == "production" and v.version != version.version}
        found = [c for c in version.comparisons if c.relation == "previous" and c.other_version in live]
    if not found:
        return None
    return next((c for c in found if c.evaluation == primary), found[0])


def comparison_evidence(
    put: Callable[..., None],
    model: manifest.Model,
    version: manifest.ModelVersion,
    primary: str | None,
    page: str,
) -> None:
    """Every comparison path of one version."""
    for relation in RELATIONS:
        comparison = chosen_comparison(model, version, relation, primary)
        if comparison is None:
            continue
        base = f"comparison.{relation}"
        other = comparison.other_version
        against = f"against {other} on {comparison.rows:,} paired rows of {comparison.dataset}"
        put(f"{base}.version", comparison.other_version, page, against)
        put(f"{base}.rows", comparison.rows, page, against)
        put(f"{base}.dataset", comparison.dataset, page, against)
        for delta in comparison.deltas:
            detail = f"{delta.label}: {_pair(delta.this, delta.other, other)}, on {comparison.rows:,} paired rows"
            _change(put, f"{base}.{delta.name}", delta.delta, delta.interval, page, detail)
            joint = delta.joint_interval
            put(f"{base}.{delta.name}.delta.joint_low", joint.low if joint else None, page, detail)
            put(f"{base}.{delta.name}.delta.joint_high", joint.high if joint else None, page, detail)
            if delta.best_value is not None:  # below zero: this version is nearer the metric's best value
                near, band = delta.distance_interval, delta.distance_joint_interval
                ends = (delta.distance, near and near.low, near and near.high, band and band.low, band and band.high)
                for end, value in zip(_DISTANCE, ends, strict=True):
                    put(f"{base}.{delta.name}.distance{end}", value, page, detail)
        for feature in comparison.fairness:
            key = policy_key(feature.feature)
            parts = feature.feature.count("+") + 1  # an intersection (a+b): its groups are parts joined by " × "
            for item in feature.disparities:
                where = "" if item.method == "between_groups" else ".to_overall"
                detail = (
                    f"{item.label}: {_pair(item.this, item.other, other)}{_behind(item, parts)}, on the paired rows"
                )
                _change(put, f"{base}.fairness.{key}{where}.{item.name}", item.delta, item.interval, page, detail)
            for group in feature.groups:
                named = quoted_name(group.group, parts=parts)
                detail = (
                    f"{named}, {group.rate}: {_pair(group.this, group.other, other)}, on {group.count:,} paired rows"
                )
                path = f"{base}.fairness.{key}.groups.{group_segment(group.group)}.{group.rate}"
                _change(put, path, group.delta, group.interval, page, detail)


def _change(put, path: str, delta, interval: manifest.Interval | None, page: str, detail: str) -> None:
    put(f"{path}.delta", delta, page, detail)
    put(f"{path}.delta.ci_low", interval.low if interval else None, page, detail)
    put(f"{path}.delta.ci_high", interval.high if interval else None, page, detail)
    put(f"{path}.abs_delta", abs(delta) if delta is not None else None, page, detail)


def _pair(this: float | None, other: float | None, other_version: str) -> str:
    def shown(value: float | None) -> str:
        return "undefined" if value is None else f"{value:.3f}"

    return f"{shown(this)} in this version, {shown(other)} in {other_version}"


def _behind(item: manifest.DisparityDelta, parts: int = 1) -> str:
    """The groups behind each value, when they changed: the gap is now between other groups."""

    def named(group: str) -> str:
        return quoted_name(group, parts=parts)

    now = " and ".join(map(named, item.this_groups))
    if not item.this_groups or set(item.this_groups) == set(item.other_groups):
        return f" ({now})" if now else ""
    before = " and ".join(map(named, item.other_groups)) or "none"
    return f" (between {now}; before, {before})"
