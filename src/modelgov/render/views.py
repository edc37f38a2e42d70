"""Facts the pages show that are read off the manifest, not computed from data.

Rendering never analyses anything; these helpers only select and count (the live status of a
model, its newest evaluation date, which metric is the headline one) so the templates stay plain.
Each one is named for what a reviewer sees, and each rule is stated in its docstring so the page
can explain it.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelgov.manifest import EvaluationRun, Manifest, Metric, Model, ModelVersion, RiskTier

__all__ = [
    "HEADLINE_PREFERENCE",
    "Counts",
    "InventoryRow",
    "counts",
    "headline_metric",
    "highest_tier",
    "inventory",
    "last_evaluation",
    "metric_names",
    "metric_value",
    "tier_of",
]

#: The headline metric of a version is the first of these its latest evaluation has, by task;
#: otherwise the first metric the evaluation lists.
HEADLINE_PREFERENCE: dict[str, tuple[str, ...]] = {
    "binary_classification": ("roc_auc", "pr_auc", "f1", "accuracy"),
    "multiclass_classification": ("balanced_accuracy", "accuracy", "f1_macro"),
    "regression": ("mae", "rmse", "r2"),
}


def tier_of(manifest: Manifest, model: Model) -> RiskTier:
    """The model's risk tier; a tier the manifest does not describe is shown by its id."""
    for tier in manifest.risk_tiers:
        if tier.id == model.risk_tier:
            return tier
    return RiskTier(id=model.risk_tier, title=model.risk_tier)


def highest_tier(manifest: Manifest) -> RiskTier | None:
    """The highest risk tier: ``governance.yml`` lists tiers from lowest to highest risk."""
    return manifest.risk_tiers[-1] if manifest.risk_tiers else None


def metric_value(version: ModelVersion, name: str) -> tuple[EvaluationRun, Metric] | None:
    """A version's value of metric ``name``: from the most recent evaluation run where it is
    defined, else (undefined) from the most recent run that lists it; None if no run lists it.

    A run without a score column cannot give ROC AUC; the version's ROC AUC is then the one from
    its latest run that could, and the page names that run next to the number.
    """
    runs = sorted(version.evaluations, key=lambda run: (run.date, run.id), reverse=True)
    listed = [(run, m) for run in runs for m in run.performance.metrics if m.name == name]
    for run, metric in listed:
        if metric.value is not None:
            return run, metric
    return listed[0] if listed else None


def metric_names(version: ModelVersion) -> list[tuple[str, str, bool]]:
    """(name, label, higher_is_better) of every metric in any of the version's runs, newest run first."""
    names: dict[str, tuple[str, str, bool]] = {}
    for run in sorted(version.evaluations, key=lambda run: (run.date, run.id), reverse=True):
        for metric in run.performance.metrics:
            names.setdefault(metric.name, (metric.name, metric.label, metric.higher_is_better))
    return list(names.values())


def headline_metric(model: Model, version: ModelVersion) -> tuple[EvaluationRun, Metric] | None:
    """The version's headline metric (see :data:`HEADLINE_PREFERENCE` and :func:`metric_value`)."""
    listed = [name for name, _, _ in metric_names(version)]
    if not listed:
        return None
    preferred = [name for name in HEADLINE_PREFERENCE.get(model.task, ()) if name in listed] or listed[:1]
    found = [metric_value(version, name) for name in preferred]
    defined = [pair for pair in found if pair is not None and pair[1].value is not None]
    return (defined or found)[0]


def last_evaluation(model: Model) -> EvaluationRun | None:
    """The most recent evaluation run over all of the model's versions."""
    runs = [run for version in model.versions for run in version.evaluations]
    return max(runs, key=lambda run: (run.date, run.id)) if runs else None


def live_or_newest(model: Model) -> ModelVersion | None:
    """The live version if there is one, else the newest version (whose status then shows)."""
    for version in model.versions:
        if version.version == model.live_version:
            return version
    return model.versions[0] if model.versions else None


@dataclass(frozen=True)
class Counts:
    models: int
    versions: int
    in_production: int
    high_risk: int


def counts(manifest: Manifest) -> Counts:
    """The numbers at the top of the home page; ``in_production`` counts models with a live version."""
    return Counts(
        models=len(manifest.models),
        versions=sum(len(model.versions) for model in manifest.models),
        in_production=sum(1 for model in manifest.models if model.live_version),
        high_risk=sum(1 for model in manifest.models if model.risk_tier == getattr(highest_tier(manifest), "id", None)),
    )


@dataclass(frozen=True)
class InventoryRow:
    model: Model
    tier: RiskTier
    shown_version: ModelVersion | None
    is_live: bool
    last_evaluation: EvaluationRun | None


def inventory(manifest: Manifest) -> list[InventoryRow]:
    """One row per model, in manifest order."""
    rows = []
    for model in manifest.models:
        shown = live_or_newest(model)
        rows.append(
            InventoryRow(
                model=model,
                tier=tier_of(manifest, model),
                shown_version=shown,
                is_live=shown is not None and shown.version == model.live_version,
                last_evaluation=last_evaluation(model),
            )
        )
    return rows
