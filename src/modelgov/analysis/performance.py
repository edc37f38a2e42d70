"""Headline performance metrics of one evaluation run, computed with scikit-learn.

Pure functions: arrays in, :class:`modelgov.manifest.Performance` out. A metric that is undefined for
the data (ROC AUC with one class, precision with no predicted positives) is reported as ``None``
with a note, never as a number scikit-learn substituted.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable

import numpy as np
from sklearn import metrics as skm
from sklearn.exceptions import UndefinedMetricWarning

from modelgov.manifest import Metric, Performance

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

#: The metric the site uses to compare versions at a glance, per task.
HEADLINE_METRIC = {
    "binary_classification": "roc_auc",
    "multiclass_classification": "balanced_accuracy",
    "regression": "r2",
}


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


def binary_performance(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    y_score: np.ndarray | None,
    *,
    threshold: float | None,
    positive_label: str,
) -> Performance:
    """Metrics for a binary classifier. ``y_true``/``y_pred`` are 0/1 arrays (1 = positive class)."""
    both_classes = len(np.unique(y_true)) == 2
    one_class = "undefined: the evaluation labels contain only one class"
    no_score = "undefined: the evaluation run declares no score column"
    values: dict[str, tuple[float | None, str | None]] = {
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
    else:
        values["roc_auc"] = (
            _safe(lambda: skm.roc_auc_score(y_true, y_score), one_class) if both_classes else (None, one_class)
        )
        values["average_precision"] = (
            _safe(lambda: skm.average_precision_score(y_true, y_score), one_class)
            if both_classes
            else (None, one_class)
        )
        values["log_loss"] = _safe(lambda: skm.log_loss(y_true, y_score, labels=[0, 1]), "")
        values["brier"] = _safe(lambda: skm.brier_score_loss(y_true, y_score, pos_label=1), "")
    return Performance(
        task="binary_classification",
        rows=len(y_true),
        metrics=_metrics(BINARY_METRICS, values),
        threshold=threshold,
        positive_label=positive_label,
    )


def multiclass_performance(y_true: np.ndarray, y_pred: np.ndarray) -> Performance:
    """Metrics for a multiclass classifier from its predicted classes."""
    values = {
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
    return Performance(task="multiclass_classification", rows=len(y_true), metrics=_metrics(MULTICLASS_METRICS, values))


def regression_performance(y_true: np.ndarray, y_pred: np.ndarray) -> Performance:
    """Error metrics for a regressor."""
    constant = "undefined: the evaluation labels are constant"
    values = {
        "mae": _safe(lambda: skm.mean_absolute_error(y_true, y_pred), ""),
        "rmse": _safe(lambda: skm.root_mean_squared_error(y_true, y_pred), ""),
        "r2": _safe(lambda: skm.r2_score(y_true, y_pred), constant) if len(np.unique(y_true)) > 1 else (None, constant),
        "mean_error": _safe(lambda: float(np.mean(y_pred - y_true)), ""),
    }
    return Performance(task="regression", rows=len(y_true), metrics=_metrics(REGRESSION_METRICS, values))


def _metrics(
    spec: tuple[tuple[str, str, bool, str], ...], values: dict[str, tuple[float | None, str | None]]
) -> list[Metric]:
    return [
        Metric(
            name=key,
            label=label,
            value=values[key][0],
            note=values[key][1] or None,
            higher_is_better=better,
            description=description,
        )
        for key, label, better, description in spec
    ]
