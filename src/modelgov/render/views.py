"""Facts the pages show that are read off the manifest, not computed from data.

Rendering never analyses anything; these helpers only select and count (the live status of a
model, its newest evaluation date, which metric is the headline one) so the templates stay plain.
Each one is named for what a reviewer sees, and each rule is stated in its docstring so the page
can explain it.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass

from modelgov.degraded import NOT_REPRODUCED, copied_rows_note
from modelgov.manifest import (
    Comparison,
    Disparity,
    EvaluationRun,
    FairnessResult,
    Interval,
    Manifest,
    Metric,
    MetricDelta,
    Model,
    ModelVersion,
    RiskAssessment,
    RiskTier,
)
from modelgov.manifest.base import best_value_of
from modelgov.render import text
from modelgov.render.monitoring_views import DriftStatus, drift_status
from modelgov.render.risk_views import severity_order

__all__ = [
    "DISPARITY_METHODS",
    "HEADLINE_PREFERENCE",
    "Counts",
    "DisparityRow",
    "InventoryRow",
    "Verdict",
    "comparison_measures",
    "comparison_tally",
    "counts",
    "delta_verdict",
    "disparity_groups",
    "disparity_rows",
    "has_explainability",
    "has_performance_details",
    "headline_metric",
    "highest_tier",
    "interval_header",
    "interval_methods",
    "inventory",
    "joint_verdict",
    "last_evaluation",
    "left_out_groups",
    "metric_names",
    "metric_of",
    "metric_value",
    "run_has_performance_details",
    "short_metric",
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


def tier_title(manifest: Manifest, tier_id: str) -> str:
    """A tier's title by its id; an id the manifest does not describe is shown as written."""
    return next((tier.title for tier in manifest.risk_tiers if tier.id == tier_id), tier_id)


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


def metric_names(version: ModelVersion) -> list[tuple[str, str, str]]:
    """(name, label, which way it is better) of every metric in any of the version's runs, newest run
    first; the last is ``higher``, ``lower`` or ``closer to 0`` (:attr:`Metric.better`)."""
    names: dict[str, tuple[str, str, str]] = {}
    for run in sorted(version.evaluations, key=lambda run: (run.date, run.id), reverse=True):
        for metric in run.performance.metrics:
            names.setdefault(metric.name, (metric.name, metric.label, metric.better))
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
    drift: DriftStatus  # of the shown version
    risk: RiskAssessment | None = None  # the model's rated risk assessment


def inventory(manifest: Manifest) -> list[InventoryRow]:
    """One row per model, the most severe risk assessment first (ties, and models without an
    assessment after them, in manifest order); the drift status is the shown version's (see
    :func:`~modelgov.render.monitoring_views.drift_status`)."""
    rows = []
    for model in severity_order(manifest.models):
        shown = live_or_newest(model)
        rows.append(
            InventoryRow(
                model=model,
                tier=tier_of(manifest, model),
                shown_version=shown,
                is_live=shown is not None and shown.version == model.live_version,
                last_evaluation=last_evaluation(model),
                drift=drift_status(model, shown),
                risk=model.risk,
            )
        )
    return rows


# --------------------------------------------------------------------------- intervals


def _level(level: float) -> str:
    return f"{level * 100:g}%"


def interval_header(intervals: Iterable[Interval | None]) -> str:
    """Column header for a table's intervals: ``95% interval`` when they share one level."""
    levels = {interval.level for interval in intervals if interval is not None}
    return f"{_level(levels.pop())} interval" if len(levels) == 1 else "Interval"


def interval_methods(intervals: Iterable[Interval | None]) -> list[str]:
    """How a table's intervals were computed, each distinct way once, e.g.
    ``95% percentile bootstrap over rows, 1,000 resamples``."""
    seen: dict[tuple[float, str, int], None] = {}
    for interval in intervals:
        if interval is not None:
            seen.setdefault((interval.level, interval.method, interval.resamples), None)
    return [f"{_level(level)} {method}, {resamples:,} resamples" for level, method, resamples in seen]


# --------------------------------------------------------------------------- comparisons


@dataclass(frozen=True)
class Verdict:
    """What a reader should take from one metric difference between two versions.

    ``word`` is ``better``, ``worse``, ``no clear difference`` or ``cannot tell``; ``reason``
    says why when it is ``cannot tell``.
    """

    word: str
    reason: str | None = None

    @property
    def key(self) -> str:
        return self.word.replace(" ", "-")


def delta_verdict(delta: MetricDelta) -> Verdict:
    """Better or worse only when the interval of the difference excludes zero, in the direction
    the metric prefers (``higher_is_better``; for a metric best at a value, nearer it); otherwise no
    clear difference. A difference or
    interval that is undefined or missing gives ``cannot tell``, never a verdict."""
    if delta.delta is None:
        return Verdict("cannot tell", "the difference is undefined")
    interval, up_is_better = _judged_interval(delta)
    if interval is None:
        return Verdict("cannot tell", "no interval was computed")
    if interval.low is None or interval.high is None:
        return Verdict("cannot tell", "the interval is undefined")
    if interval.low > 0:
        return Verdict("better" if up_is_better else "worse")
    if interval.high < 0:
        return Verdict("worse" if up_is_better else "better")
    return Verdict("no clear difference")


def _judged_interval(delta: MetricDelta):
    """The interval a verdict reads, and whether above zero is better: the difference's, or for a
    metric best at neither end (a mean error) that of the change in distance from its best value,
    where below zero is better (nearer)."""
    if best_value_of(delta.name, delta.best_value) is not None:  # by name too: an older manifest has no field
        return delta.distance_interval, False
    return delta.interval, delta.higher_is_better


def holds_jointly(delta: MetricDelta) -> bool | None:
    """For a better or worse verdict: whether the difference also holds when every metric of the
    comparison is judged together (its part of the joint band lies on the same side of zero).
    None when the verdict is neither, or no joint band was computed (older manifests)."""
    if delta_verdict(delta).word not in ("better", "worse"):
        return None
    joint = (
        delta.joint_interval if best_value_of(delta.name, delta.best_value) is None else delta.distance_joint_interval
    )
    if joint is None or joint.low is None or joint.high is None:
        return None
    judged, _ = _judged_interval(delta)
    positive = judged is not None and judged.low is not None and judged.low > 0
    return joint.low > 0 if positive else joint.high < 0


def joint_verdict(delta: MetricDelta) -> str:
    """The card's "judged together" cell: ``holds``, ``may be chance`` or empty."""
    held = holds_jointly(delta)
    return "" if held is None else ("holds" if held else "may be chance")


def comparison_tally(comparison: Comparison) -> dict[str, int]:
    """How many metrics are better, worse, unclear, or cannot be told, in that order; then how
    many of the better or worse ones hold, and how many were judged, with all the metrics together."""
    tally = {
        "better": 0,
        "worse": 0,
        "no clear difference": 0,
        "cannot tell": 0,
        "hold jointly": 0,
        "judged jointly": 0,
    }
    for delta in comparison.deltas:
        tally[delta_verdict(delta).word] += 1
        held = holds_jointly(delta)
        if held is not None:
            tally["judged jointly"] += 1
            tally["hold jointly"] += held
    return tally


# --------------------------------------------------------------------------- fairness

#: Short column headers for group metrics, so a table of seven rates with intervals fits the page.
SHORT_METRICS = {
    "base_rate": "Base rate",
    "selection_rate": "Selection rate",
    "tpr": "TPR",
    "fpr": "FPR",
    "fnr": "FNR",
    "mean_label": "Mean actual",
    "mean_prediction": "Mean predicted",
    "mae": "MAE",
    "rmse": "RMSE",
}


def short_metric(key: str, label: str) -> str:
    """A group metric's column header: its short name, as an abbreviation whose title is the full
    name where they differ (the list under the table spells every one out)."""
    short = SHORT_METRICS.get(key)
    if short is None or short == label:
        return text.text(label)
    if label.lower().startswith(short.lower()):
        return text.text(short)
    return f'<abbr title="{html.escape(text.plain(label), quote=True)}">{text.text(short)}</abbr>'


#: Disparity methods in display order, with the column header a reader sees.
DISPARITY_METHODS = {
    "between_groups": "Largest gap between two groups",
    "to_overall": "Largest gap between a group and all rows",
}


@dataclass(frozen=True)
class DisparityRow:
    name: str
    label: str
    description: str | None
    by_method: dict[str, Disparity]

    @property
    def notes(self) -> list[str]:
        """The notes of the row's methods; one note shared by every method is given once."""
        notes = {method: item.note for method, item in self.by_method.items() if item.note}
        if not notes:
            return []
        if len(set(notes.values())) == 1 and len(notes) == len(self.by_method):
            return [next(iter(notes.values()))]
        return [f"{DISPARITY_METHODS.get(method, method)}: {note}" for method, note in notes.items()]


@dataclass(frozen=True)
class LeftOut:
    """A group some disparity summaries leave out: why, and which summaries."""

    group: str
    reasons: list[str]
    measures: list[str]
    everywhere: bool


def left_out_groups(result: FairnessResult) -> list[LeftOut]:
    """Every group any between-groups summary of ``result`` leaves out, with its reasons and the
    summaries it is missing from, in the order of the groups table."""
    measures = list(dict.fromkeys(d.label for d in result.disparities if d.method == "between_groups"))
    found: dict[str, tuple[dict[str, None], dict[str, None]]] = {}
    for item in result.disparities:
        if item.method != "between_groups":
            continue
        for excluded in item.excluded:
            reasons, where = found.setdefault(excluded.group, ({}, {}))
            reasons[excluded.reason] = None
            where[item.label] = None
    order = {group.group: index for index, group in enumerate(result.groups)}
    return [
        LeftOut(group, list(reasons), list(where), len(where) == len(measures))
        for group, (reasons, where) in sorted(found.items(), key=lambda kv: order.get(kv[0], len(order)))
    ]


def disparity_groups(item: Disparity, short: bool = False) -> str:
    """The groups that define a disparity value, as escaped HTML: ``Other 0.210 ÷ African-American
    0.588`` with the rate under it; ``short``: only which group is higher or lower (for a named pair,
    whose two groups head the row)."""
    if not item.groups or not item.group_rates:
        return ""
    rate = item.rate_label or item.rate or ""
    names = [text.text(group) for group in item.groups]  # user data: escaped for an inline Markdown position
    values = [f"{value:.3f}" for value in item.group_rates]
    sides = [f'<span class="mg-nowrap">{name} {value}</span>' for name, value in zip(names, values, strict=False)]
    difference = item.name.endswith("_difference")
    if short:
        equal = len(set(values)) == 1
        which = "equal" if equal else f"{names[0]} {'higher' if difference else 'lower'}"
        return which + (f" ({text.text(rate)})" if item.name.startswith("equalized_odds") else "")
    if item.method == "to_overall":
        shown = f'{sides[0]} vs <span class="mg-nowrap">all rows {values[-1]}</span>'
    else:
        shown = f"{sides[0]} {'−' if difference else '÷'} {sides[1]}"
    return f'{shown}<br><span class="mg-detail">{text.text(rate)}</span>'


def comparison_measures(result: FairnessResult) -> list[tuple[str, str]]:
    """(name, label) of the measures of the named comparisons, in order: from any comparison that
    has them (a pair not compared has none)."""
    for comparison in result.comparisons:
        if comparison.disparities:
            return [(item.name, item.label) for item in comparison.disparities]
    return []


def disparity_rows(result: FairnessResult) -> tuple[list[str], list[DisparityRow]]:
    """The disparity summaries as one row per measure with one column per method present, in
    the manifest's order: (methods, rows)."""
    rows: dict[str, DisparityRow] = {}
    for item in result.disparities:
        row = rows.setdefault(item.name, DisparityRow(item.name, item.label, item.description, {}))
        row.by_method.setdefault(item.method, item)
    present = {item.method for item in result.disparities}
    return [m for m in DISPARITY_METHODS if m in present], list(rows.values())


# --------------------------------------------------------------------------- detail pages


def run_has_performance_details(run: EvaluationRun) -> bool:
    """True when the run has something for the performance page: curves, a confusion matrix,
    calibration or regression diagnostics."""
    p = run.performance
    parts = (p.confusion_matrix, p.roc_curve, p.pr_curve, p.calibration, p.residuals, p.predicted_vs_actual)
    return any(part is not None for part in parts)


def has_performance_details(version: ModelVersion) -> bool:
    return any(run_has_performance_details(run) for run in version.evaluations)


def has_explainability(version: ModelVersion) -> bool:
    return any(run.explainability is not None for run in version.evaluations)


def metric_of(run: EvaluationRun, name: str) -> Metric | None:
    """The run's metric ``name``, if it lists it."""
    return next((metric for metric in run.performance.metrics if metric.name == name), None)


def copied_runs(version: ModelVersion) -> list[tuple[str, str]]:
    """(evaluation id, note) of each evaluation whose table repeats rows that no chance would make
    equal (:func:`modelgov.degraded.copied_rows_note`)."""
    return [(run.id, note) for run in version.evaluations if (note := copied_rows_note(run)) is not None]


def unreproduced_runs(version: ModelVersion) -> list[tuple[str, str]]:
    """(evaluation id, note) of each evaluation whose table the version's model file, run on it, does
    not reproduce: every figure of that evaluation comes from a table the model did not write."""
    return [
        (run.id, note)
        for run in version.evaluations
        if run.explainability is not None
        for note in run.explainability.notes
        if note.startswith(NOT_REPRODUCED)
    ]
