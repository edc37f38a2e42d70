"""Performance of one evaluation run: headline metrics with bootstrap intervals, and the curves.

Pure functions: arrays in, :class:`modelgov.manifest.Performance` out. Point values come from
scikit-learn; intervals from the same metrics as counts and sums over drawn rows (:mod:`.weighted`) over
bootstrap resamples. A metric that is undefined for the data (ROC AUC with one class, precision
with no predicted positives) is reported as ``None`` with a note, never as a number scikit-learn
substituted.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
from sklearn import metrics as skm
from sklearn.exceptions import UndefinedMetricWarning

from modelgov.analysis import weighted
from modelgov.analysis.resampling import (
    DEFAULT_RESAMPLING,
    ROW_METHOD,
    Resampling,
    percentile_interval,
    row_draws,
)
from modelgov.manifest import (
    Calibration,
    CalibrationBin,
    ConfusionMatrix,
    Curve,
    Histogram,
    Interval,
    Metric,
    Performance,
)
from modelgov.manifest.base import BEST_VALUES

#: Curves are thinned to at most this many points: enough to draw, small enough for the manifest.
MAX_CURVE_POINTS = 200
CALIBRATION_BINS = 10
SCATTER_SAMPLE = 1000

#: (key, label, higher_is_better, description) in display order.
BINARY_METRICS = (
    ("accuracy", "Accuracy", True, "Share of all cases the model gets right at the decision threshold."),
    (
        "balanced_accuracy",
        "Balanced accuracy",
        True,
        "Average of the recall of each class, so a rare class counts as much as a common one.",
    ),
    ("precision", "Precision", True, "Of the cases the model flags, the share that really are positive."),
    (
        "recall",
        "Recall (true positive rate)",
        True,
        "Of the truly positive cases, the share the model flags.",
    ),
    ("f1", "F1 score", True, "Balance of precision and recall (their harmonic mean)."),
    (
        "roc_auc",
        "ROC AUC",
        True,
        "How well the score ranks positive cases above negative ones: 0.5 is no better than chance, 1 is perfect.",
    ),
    (
        "average_precision",
        "PR AUC (average precision)",
        True,
        "Precision averaged over all thresholds of the score; its chance level is the share of positive cases.",
    ),
    ("log_loss", "Log loss", False, "Penalty for confident wrong probabilities."),
    ("brier", "Brier score", False, "Mean squared difference between the predicted probability and the outcome."),
)
MULTICLASS_METRICS = (
    ("accuracy", "Accuracy", True, "Share of all cases the model classifies correctly."),
    (
        "balanced_accuracy",
        "Balanced accuracy",
        True,
        "Average of the recall of each class, so a rare class counts as much as a common one.",
    ),
    ("precision_macro", "Precision (macro average)", True, "Precision computed for each class, then averaged."),
    ("recall_macro", "Recall (macro average)", True, "Recall computed for each class, then averaged."),
    ("f1_macro", "F1 score (macro average)", True, "F1 computed for each class, then averaged."),
)
REGRESSION_METRICS = (
    ("mae", "Mean absolute error", False, "Average size of the error, in the units of the target."),
    (
        "rmse",
        "Root mean squared error",
        False,
        "Typical size of the error, in the units of the target; large errors weigh more than in MAE.",
    ),
    (
        "r2",
        "R² (coefficient of determination)",
        True,
        "Share of the variation in the target the model explains: 1 is perfect, 0 is no better than the average.",
    ),
    (
        "mean_error",
        "Mean error (prediction − actual)",
        False,
        "Average of prediction minus actual: below zero the model predicts too low, above zero too high.",
    ),
)


def _safe(compute: Callable[[], float], undefined_note: str) -> tuple[float | None, str | None]:
    """Run a scikit-learn metric; NaN, inf or an 'ill-defined' warning means undefined."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", UndefinedMetricWarning)
        try:
            value = float(compute())
        except (ValueError, UndefinedMetricWarning):
            return None, undefined_note
    if not math.isfinite(value):
        return None, undefined_note
    return value, None


Values = dict[str, tuple[float | None, str | None]]


def _binary_values(y_true: np.ndarray, y_pred: np.ndarray, y_score: np.ndarray | None) -> Values:
    both_classes = len(np.unique(y_true)) == 2
    one_class = "undefined: the evaluation labels contain only one class"
    no_score = "undefined: the evaluation run declares no score column"
    values: Values = {
        "accuracy": _safe(lambda: skm.accuracy_score(y_true, y_pred), ""),
        "balanced_accuracy": _safe(lambda: skm.balanced_accuracy_score(y_true, y_pred), one_class)
        if both_classes
        else (None, one_class),
        "precision": _safe(
            lambda: skm.precision_score(y_true, y_pred, zero_division=np.nan),
            "undefined: the model predicted no positives",
        ),
        "recall": _safe(
            lambda: skm.recall_score(y_true, y_pred, zero_division=np.nan),
            "undefined: the evaluation labels contain no positives",
        ),
        "f1": _safe(
            lambda: skm.f1_score(y_true, y_pred, zero_division=np.nan),
            "undefined: no positives predicted or present",
        ),
    }
    if y_score is None:
        for key in ("roc_auc", "average_precision", "log_loss", "brier"):
            values[key] = (None, no_score)
        return values
    values["roc_auc"] = (
        _safe(lambda: skm.roc_auc_score(y_true, y_score), one_class) if both_classes else (None, one_class)
    )
    values["average_precision"] = (
        _safe(lambda: skm.average_precision_score(y_true, y_score), one_class) if both_classes else (None, one_class)
    )
    values["log_loss"] = _safe(lambda: skm.log_loss(y_true, y_score, labels=[0, 1]), "")
    values["brier"] = _safe(lambda: skm.brier_score_loss(y_true, y_score, pos_label=1), "")
    return values


def bootstrap_samples(arrays_of: Callable[[np.ndarray], dict[str, np.ndarray]], n: int, resampling: Resampling):
    """Concatenate per-metric resample values over the batches of :func:`row_draws`."""
    collected: dict[str, list[np.ndarray]] = {}
    for draws in row_draws(n, resampling):
        for key, values in arrays_of(draws).items():
            collected.setdefault(key, []).append(values)
    return {key: np.concatenate(parts) for key, parts in collected.items()}


def _intervals(
    values: Values, arrays_of: Callable[[np.ndarray], dict[str, np.ndarray]], n: int, resampling: Resampling
) -> dict[str, Interval]:
    if not resampling.enabled or n == 0:
        return {}
    samples = bootstrap_samples(arrays_of, n, resampling)
    return {
        key: percentile_interval(samples[key], resampling, ROW_METHOD)
        for key in samples
        if key in values and values[key][0] is not None
    }


def binary_performance(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    y_score: np.ndarray | None,
    *,
    threshold: float | None,
    positive_label: str,
    resampling: Resampling = DEFAULT_RESAMPLING,
) -> Performance:
    """Metrics and curves for a binary classifier. ``y_true``/``y_pred`` are 0/1 arrays (1 = positive)."""
    values = _binary_values(y_true, y_pred, y_score)
    intervals = _intervals(values, lambda w: weighted.binary(y_true, y_pred, y_score, w), len(y_true), resampling)
    both_classes = len(np.unique(y_true)) == 2
    return Performance(
        task="binary_classification",
        rows=len(y_true),
        metrics=_metrics(BINARY_METRICS, values, intervals),
        threshold=threshold,
        positive_label=positive_label,
        confusion_matrix=ConfusionMatrix(
            labels=["negative", f"positive ({positive_label})"],
            counts=skm.confusion_matrix(y_true, y_pred, labels=[0, 1]).tolist(),
        ),
        roc_curve=roc_curve(y_true, y_score) if y_score is not None and both_classes else None,
        pr_curve=pr_curve(y_true, y_score) if y_score is not None and both_classes else None,
        calibration=calibration(y_true, y_score) if y_score is not None else None,
    )


def multiclass_performance(
    y_true: np.ndarray, y_pred: np.ndarray, resampling: Resampling = DEFAULT_RESAMPLING
) -> Performance:
    """Metrics for a multiclass classifier from its predicted classes."""
    values: Values = {
        "accuracy": _safe(lambda: skm.accuracy_score(y_true, y_pred), ""),
        "balanced_accuracy": _safe(lambda: skm.balanced_accuracy_score(y_true, y_pred), ""),
        "precision_macro": _safe(
            lambda: skm.precision_score(y_true, y_pred, average="macro", zero_division=np.nan),
            "undefined: a class was never predicted",
        ),
        "recall_macro": _safe(
            lambda: skm.recall_score(y_true, y_pred, average="macro", zero_division=np.nan),
            "undefined: a class never occurs in the labels",
        ),
        "f1_macro": _safe(
            lambda: skm.f1_score(y_true, y_pred, average="macro", zero_division=np.nan),
            "undefined: a class was never predicted or never occurs",
        ),
    }
    intervals = _intervals(values, lambda w: weighted.multiclass(y_true, y_pred, w), len(y_true), resampling)
    labels = sorted(set(np.asarray(y_true).tolist()) | set(np.asarray(y_pred).tolist()), key=str)
    return Performance(
        task="multiclass_classification",
        rows=len(y_true),
        metrics=_metrics(MULTICLASS_METRICS, values, intervals),
        confusion_matrix=ConfusionMatrix(
            labels=[str(label) for label in labels],
            counts=skm.confusion_matrix(y_true, y_pred, labels=labels).tolist(),
        ),
    )


def regression_performance(
    y_true: np.ndarray, y_pred: np.ndarray, resampling: Resampling = DEFAULT_RESAMPLING
) -> Performance:
    """Error metrics, residual histogram and a predicted-vs-actual sample for a regressor."""
    constant = "undefined: the evaluation labels are constant"
    values: Values = {
        "mae": _safe(lambda: skm.mean_absolute_error(y_true, y_pred), ""),
        "rmse": _safe(lambda: skm.root_mean_squared_error(y_true, y_pred), ""),
        "r2": _safe(lambda: skm.r2_score(y_true, y_pred), constant) if len(np.unique(y_true)) > 1 else (None, constant),
        "mean_error": _safe(lambda: float(np.mean(y_pred - y_true)), ""),
    }
    intervals = _intervals(values, lambda w: weighted.regression(y_true, y_pred, w), len(y_true), resampling)
    residuals = np.asarray(y_pred, dtype=float) - np.asarray(y_true, dtype=float)
    edges = np.histogram_bin_edges(residuals, bins="auto")
    if len(edges) > 41:
        edges = np.histogram_bin_edges(residuals, bins=40)
    counts, edges = np.histogram(residuals, bins=edges)
    rng = np.random.default_rng(resampling.seed)
    sample = np.sort(rng.choice(len(y_true), size=min(SCATTER_SAMPLE, len(y_true)), replace=False))
    return Performance(
        task="regression",
        rows=len(y_true),
        metrics=_metrics(REGRESSION_METRICS, values, intervals),
        residuals=Histogram(edges=[float(e) for e in edges], counts=[int(c) for c in counts]),
        predicted_vs_actual=Curve(
            x=[float(v) for v in np.asarray(y_true, dtype=float)[sample]],
            y=[float(v) for v in np.asarray(y_pred, dtype=float)[sample]],
        ),
    )


def _thin(indices_count: int) -> np.ndarray:
    """Indices of at most MAX_CURVE_POINTS points spread along a curve, keeping both ends."""
    if indices_count <= MAX_CURVE_POINTS:
        return np.arange(indices_count)
    return np.unique(np.linspace(0, indices_count - 1, MAX_CURVE_POINTS).round().astype(int))


def roc_curve(y_true: np.ndarray, y_score: np.ndarray) -> Curve:
    """ROC curve (x = false positive rate, y = true positive rate); thresholds clipped to [0, 1]
    (scikit-learn's first threshold, 'flag nothing', is +inf)."""
    fpr, tpr, thresholds = skm.roc_curve(y_true, y_score)
    keep = _thin(len(fpr))
    return Curve(x=fpr[keep].tolist(), y=tpr[keep].tolist(), thresholds=np.clip(thresholds[keep], 0, 1).tolist())


def pr_curve(y_true: np.ndarray, y_score: np.ndarray) -> Curve:
    """Precision–recall curve (x = recall, y = precision), from the highest threshold down."""
    precision, recall, thresholds = skm.precision_recall_curve(y_true, y_score)
    # scikit-learn's last point (recall 0, precision 1) has no threshold: it is 'flag nothing'
    thresholds = np.r_[thresholds, 1.0]
    keep = _thin(len(recall))
    return Curve(x=recall[keep].tolist(), y=precision[keep].tolist(), thresholds=thresholds[keep].tolist())


def calibration(y_true: np.ndarray, y_score: np.ndarray, bins: int = CALIBRATION_BINS) -> Calibration:
    """Reliability curve on equal-width bins, binned as ``sklearn.calibration.calibration_curve``
    (``strategy="uniform"``), and the expected calibration error over those bins."""
    y = np.asarray(y_true, dtype=float)
    score = np.asarray(y_score, dtype=float)
    edges = np.linspace(0.0, 1.0, bins + 1)
    ids = np.searchsorted(edges[1:-1], score)
    counts = np.bincount(ids, minlength=bins)
    sums = np.bincount(ids, weights=score, minlength=bins)
    positives = np.bincount(ids, weights=y, minlength=bins)
    result = []
    ece = 0.0
    for index in range(bins):
        count = int(counts[index])
        mean_predicted = sums[index] / count if count else None
        fraction = positives[index] / count if count else None
        if count:
            ece += count / len(y) * abs(fraction - mean_predicted)
        result.append(
            CalibrationBin(
                low=float(edges[index]),
                high=float(edges[index + 1]),
                count=count,
                mean_predicted=mean_predicted,
                fraction_positive=fraction,
            )
        )
    return Calibration(bins=result, expected_calibration_error=float(ece))


def _metrics(
    spec: tuple[tuple[str, str, bool, str], ...], values: Values, intervals: dict[str, Interval]
) -> list[Metric]:
    return [
        Metric(
            name=key,
            label=label,
            value=values[key][0],
            note=values[key][1] or None,
            higher_is_better=better,
            best_value=BEST_VALUES.get(key),
            description=description,
            interval=intervals.get(key),
        )
        for key, label, better, description in spec
    ]
