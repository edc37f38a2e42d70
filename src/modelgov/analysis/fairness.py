"""Per-group metrics for each sensitive feature, computed with fairlearn's ``MetricFrame``.

Two deliberate departures from fairlearn's defaults, both so a page never shows a misleading number:

* fairlearn raises on missing sensitive values; here they form their own group, ``(missing)``,
  because dropping them would hide exactly the records a reviewer should ask about;
* fairlearn's rate metrics return 0.0 when a rate is undefined (TPR of a group with no positives);
  here the metric callables return NaN and the result stores ``None`` ("undefined").

Groups smaller than ``min_group_size`` are kept and flagged ``small``, never dropped. A group the
card expects but the data lacks is listed as ``absent``. Intersections (``sex × age_band``) are
groups of combined values; combinations that never occur are simply not groups.

Intervals and disparity summaries come from :mod:`.disparity`, which works on confusion counts.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, count, selection_rate

from modelgov.analysis import disparity
from modelgov.analysis.resampling import DEFAULT_RESAMPLING, Resampling
from modelgov.manifest import FairnessResult, GroupMetrics

MISSING_GROUP = "(missing)"
INTERSECTION = " × "

Array = np.ndarray


def _rate(numerator: Array, denominator: Array) -> float:
    """Share of ``denominator`` rows where ``numerator`` holds; NaN when no row is in the denominator."""
    total = int(denominator.sum())
    return float(numerator[denominator].mean()) if total else math.nan


def true_positive_rate(y_true: Array, y_pred: Array) -> float:
    return _rate(np.asarray(y_pred) == 1, np.asarray(y_true) == 1)


def false_positive_rate(y_true: Array, y_pred: Array) -> float:
    return _rate(np.asarray(y_pred) == 1, np.asarray(y_true) == 0)


def false_negative_rate(y_true: Array, y_pred: Array) -> float:
    return _rate(np.asarray(y_pred) == 0, np.asarray(y_true) == 1)


def precision(y_true: Array, y_pred: Array) -> float:
    return _rate(np.asarray(y_true) == 1, np.asarray(y_pred) == 1)


def base_rate(y_true: Array, y_pred: Array) -> float:
    return float(np.mean(y_true)) if len(y_true) else math.nan


def accuracy(y_true: Array, y_pred: Array) -> float:
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred))) if len(y_true) else math.nan


def mean_label(y_true: Array, y_pred: Array) -> float:
    return float(np.mean(y_true))


def mean_prediction(y_true: Array, y_pred: Array) -> float:
    return float(np.mean(y_pred))


def mean_absolute_error(y_true: Array, y_pred: Array) -> float:
    return float(np.mean(np.abs(np.asarray(y_pred) - np.asarray(y_true))))


def root_mean_squared_error(y_true: Array, y_pred: Array) -> float:
    return float(np.sqrt(np.mean((np.asarray(y_pred) - np.asarray(y_true)) ** 2)))


Metric = Callable[[Array, Array], float]

#: key → (label, callable, description), in display order.
CLASSIFICATION_GROUP_METRICS: dict[str, tuple[str, Metric, str]] = {
    "base_rate": ("Base rate (actual positives)", base_rate, "Share of the group that is truly positive."),
    "selection_rate": (
        "Selection rate (predicted positives)",
        selection_rate,
        "Share of the group the model flags as positive.",
    ),
    "accuracy": ("Accuracy", accuracy, "Share of the group's cases the model gets right."),
    "tpr": (
        "True positive rate",
        true_positive_rate,
        "Of the group's truly positive cases, the share the model flags.",
    ),
    "fpr": (
        "False positive rate",
        false_positive_rate,
        "Of the group's truly negative cases, the share the model wrongly flags.",
    ),
    "fnr": (
        "False negative rate",
        false_negative_rate,
        "Of the group's truly positive cases, the share the model misses.",
    ),
    "precision": ("Precision", precision, "Of the group's cases the model flags, the share that really are positive."),
}
REGRESSION_GROUP_METRICS: dict[str, tuple[str, Metric, str]] = {
    "mean_label": ("Mean actual value", mean_label, "Average of the true target in the group."),
    "mean_prediction": ("Mean predicted value", mean_prediction, "Average of the model's predictions in the group."),
    "mae": ("Mean absolute error", mean_absolute_error, "Average size of the error in the group."),
    "rmse": (
        "Root mean squared error",
        root_mean_squared_error,
        "Typical size of the error in the group; large errors weigh more than in MAE.",
    ),
}


def group_labels(values: pd.Series) -> pd.Series:
    """Sensitive values as display strings; missing values become :data:`MISSING_GROUP`.

    Whole-number floats (``2.0``, common after a CSV round-trip with gaps) are shown as ``2``.
    """

    def label(value: object) -> str:
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
            return MISSING_GROUP
        if isinstance(value, float) and value.is_integer():
            return str(int(value))
        return str(value)

    return pd.Series([label(v) for v in values], index=values.index, name=values.name, dtype=object)


def combined_labels(frame: pd.DataFrame, features: list[str]) -> pd.Series:
    """One label per row for an intersection, e.g. ``F × 30-44`` (missing parts stay visible)."""
    parts = [group_labels(frame[feature].reset_index(drop=True)) for feature in features]
    combined = parts[0]
    for part in parts[1:]:
        combined = combined + INTERSECTION + part
    return combined.rename(INTERSECTION.join(features))


def fairness_by_group(
    feature: str,
    sensitive: pd.Series,
    y_true: Array,
    y_pred: Array,
    *,
    classification: bool,
    min_group_size: int,
    features: list[str] | None = None,
    expected_groups: list[str] | None = None,
    resampling: Resampling = DEFAULT_RESAMPLING,
) -> FairnessResult:
    """Per-group metrics of one sensitive feature or intersection (classification: 0/1 arrays).

    ``sensitive`` holds the raw values of a single feature, or the labels from
    :func:`combined_labels` for an intersection (then ``features`` names its parts).
    """
    spec = CLASSIFICATION_GROUP_METRICS if classification else REGRESSION_GROUP_METRICS
    features = features or [feature]
    groups = sensitive.reset_index(drop=True)
    if len(features) == 1:
        groups = group_labels(groups)
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    frame = MetricFrame(
        metrics={"count": count, **{key: fn for key, (_, fn, _) in spec.items()}},
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=groups.rename(feature),
    )
    by_group = frame.by_group
    ordered = sorted(by_group.index, key=_group_order)
    codes = pd.Categorical(groups, categories=ordered).codes

    if classification:
        stats = disparity.classification_statistics(codes, len(ordered), y_true, y_pred, resampling)
    else:
        stats = disparity.regression_statistics(codes, len(ordered), y_true, y_pred, resampling)

    rows = []
    for index, group in enumerate(ordered):
        values = by_group.loc[group]
        n = int(values["count"])
        rows.append(
            GroupMetrics(
                group=str(group),
                count=n,
                small=n < min_group_size,
                metrics={key: _finite(values[key]) for key in spec},
                intervals=stats.group_intervals[index],
                values=dict(zip(features, str(group).split(INTERSECTION), strict=True)) if len(features) > 1 else {},
            )
        )
    for group in expected_groups or []:
        if group not in by_group.index:
            rows.append(
                GroupMetrics(group=group, count=0, small=True, absent=True, metrics={key: None for key in spec})
            )
    overall = frame.overall
    return FairnessResult(
        feature=feature,
        features=features,
        metric_labels={key: label for key, (label, _, _) in spec.items()},
        metric_descriptions={key: description for key, (_, _, description) in spec.items()},
        overall={"count": float(overall["count"]), **{key: _finite(overall[key]) for key in spec}},
        overall_intervals=stats.overall_intervals,
        groups=rows,
        min_group_size=min_group_size,
        disparities=stats.disparities,
    )


def _group_order(group: str) -> tuple:
    """Numbers in numeric order (2 before 10), missing values last, everything else as text."""
    try:
        return (MISSING_GROUP in group, 0, float(group), group)
    except ValueError:
        return (MISSING_GROUP in group, 1, 0.0, group)


def _finite(value: object) -> float | None:
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None
