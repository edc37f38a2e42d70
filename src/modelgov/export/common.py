"""What every export format takes from the manifest: the version's headline metrics and groups."""

from __future__ import annotations

from dataclasses import dataclass

from modelgov import manifest as m

__all__ = ["HeadlineMetric", "headline_metrics", "pick_versions", "unwritten"]


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
                            interval.level if interval else None, slice=f"{result.feature}={group.group}",
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
