"""What every export format takes from the manifest: the version's headline metrics and groups."""

from __future__ import annotations

from dataclasses import dataclass

from modelgov import manifest as m
from modelgov.render.caveat_views import named
from modelgov.text_safety import quoted_name, visible

__all__ = ["Gap", "HeadlineMetric", "gaps", "group_slice", "headline_metrics", "pick_versions", "unwritten"]


def group_slice(feature: str, group: str, *, parts: int = 1) -> str:
    """``sex=F``; ``sex="F (0.5) and sex=M"`` when a name is more than one word (:func:`quoted_name`);
    ``sex × age_band=F × 18-29`` for an intersection."""
    return f"{quoted_name(feature, parts=parts)}={quoted_name(group, parts=parts)}"


def _parts(result: m.FairnessResult) -> int:
    """How many features a result's groups combine: 1, or an intersection's count."""
    return max(1, len(result.features))


@dataclass(frozen=True)
class HeadlineMetric:
    run: m.EvaluationRun
    name: str  # machine name, e.g. roc_auc
    label: str  # reader's name, e.g. ROC AUC
    value: float
    low: float | None
    high: float | None
    level: float | None
    slice: str | None = None  # "sex=F" for a group's metric
    rests_on: int | None = None  # a group's metric: the people its rate rests on (the group's rows, its positives …)
    few: bool = False  # a group's metric: rests on fewer than min_group_size people (or the group is small)
    min_group_size: int | None = None

    @property
    def scope(self) -> str:
        """The rows the value is measured on, with the evaluation they belong to: ``holdout: all rows``,
        ``holdout: sex=F``. A version may have several evaluations, and a metric that does not say
        which one it comes from cannot be traced to its evidence. Workspace text in it (the run's id,
        a group's name) has its hidden characters shown as escapes, as on the site."""
        return visible(f"{quoted_name(self.run.id)}: {self.slice or 'all rows'}", keep="")


def headline_metrics(version: m.ModelVersion, *, groups: bool = True) -> list[HeadlineMetric]:
    """Every evaluation's overall metrics with their intervals, then (``groups``) each group's."""
    found: list[HeadlineMetric] = []
    for run in version.evaluations:
        for metric in run.performance.metrics:
            if metric.value is None:
                continue
            interval = metric.interval
            found.append(
                HeadlineMetric(
                    run, metric.name, metric.label, float(metric.value),
                    interval.low if interval else None, interval.high if interval else None,
                    interval.level if interval else None,
                )
            )  # fmt: skip
        if not groups:
            continue
        for result in run.fairness:
            for group in result.groups:
                for name, value in group.metrics.items():
                    if value is None:
                        continue
                    interval = group.intervals.get(name) if group.intervals else None
                    found.append(
                        HeadlineMetric(
                            run, name, result.metric_labels.get(name, name), float(value),
                            interval.low if interval else None, interval.high if interval else None,
                            interval.level if interval else None, slice=group_slice(result.feature, group.group, parts=_parts(result)),
                            rests_on=group.denominators.get(name, group.count),
                            few=group.small or name in group.few, min_group_size=result.min_group_size,
                        )
                    )  # fmt: skip
    return found


@dataclass(frozen=True)
class Gap:
    """A one-number summary of how far apart a feature's groups are (a fairlearn disparity), with
    the groups that define it: the figure a reviewer looks for first, and the one a group table
    alone does not give."""

    run: m.EvaluationRun
    feature: str
    name: str  # machine name, e.g. demographic_parity_ratio
    label: str
    value: float
    low: float | None
    high: float | None
    level: float | None
    between: str  # the groups behind it with their rates, e.g. "between sex=F (0.12) and sex=M (0.22)"
    parts: int = 1  # the features its groups combine: 2 for an intersection sex × age_band

    @property
    def scope(self) -> str:
        return visible(
            f"{quoted_name(self.run.id)}: {quoted_name(self.feature, parts=self.parts)}, {self.between}",
            keep="",
        )


def _between(feature: str, disparity: m.Disparity, parts: int) -> str:
    """The groups behind a disparity with their rates, and the groups left out of it and why."""
    groups, rates = disparity.groups, disparity.group_rates

    def rate(i: int) -> str:
        return f" ({rates[i]:.3g})" if i < len(rates) else ""

    shown = [f"{group_slice(feature, group, parts=parts)}{rate(i)}" for i, group in enumerate(groups)]
    if disparity.method == "to_overall":
        said = (
            f"of {shown[0]} to all rows{rate(len(groups))}"
            if shown
            else "of a group to all rows (which one not recorded)"
        )
    else:
        said = f"between {' and '.join(shown)}" if shown else "between groups (which ones not recorded)"
    if disparity.rate_label:
        said += f", by {disparity.rate_label}"
    if disparity.excluded:
        left = [f"{group_slice(feature, e.group, parts=parts)} ({e.reason})" for e in disparity.excluded]
        said += f"; {len(left):,} group(s) left out: {named(left)}"
    return said


def gaps(version: m.ModelVersion) -> list[Gap]:
    """Every evaluation's disparities with a value, feature by feature, in the manifest's order."""
    found = []
    for run in version.evaluations:
        for result in run.fairness:
            for disparity in result.disparities:
                if disparity.value is None:
                    continue
                interval = disparity.interval
                found.append(
                    Gap(
                        run, result.feature, disparity.name, disparity.label, float(disparity.value),
                        interval.low if interval else None, interval.high if interval else None,
                        interval.level if interval else None,
                        _between(result.feature, disparity, _parts(result)), _parts(result),
                    )
                )  # fmt: skip
    return found


def pick_versions(
    manifest: m.Manifest, model_id: str | None = None, version: str | None = None
) -> list[tuple[m.Model, m.ModelVersion]]:
    """The (model, version) pairs to export: all, one model's, or one version."""
    chosen = []
    for model in manifest.models:
        if model_id is not None and model.id != model_id:
            continue
        for candidate in model.versions:
            if version is None or candidate.version == version:
                chosen.append((model, candidate))
    return chosen


def unwritten(model: m.Model, version: m.ModelVersion) -> list[str]:
    """Card fields, the version summary and the algorithm that still hold a placeholder: an export
    carries them as written, so the command says which."""
    from modelgov.policy.placeholders import is_placeholder

    fields = [(f"card.{name}", value) for name, value in model.card.model_dump().items() if isinstance(value, str)]
    fields += [("owner.name", model.owner.name), ("owner.email", model.owner.email or "")]
    fields += [("summary", version.summary), ("training.algorithm", version.training.algorithm)]
    return [name for name, value in fields if value and is_placeholder(value)]
