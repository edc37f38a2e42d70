"""Headline metrics as weighted sums, evaluated for a whole batch of bootstrap resamples at once.

Each function takes row multiplicities ``weights`` of shape (resamples, n) — see
:func:`.resampling.row_weights` — and returns one array of shape (resamples,) per metric. With
``weights`` all ones they equal scikit-learn's values (the tests check this), so an interval and the
point estimate it surrounds are the same metric.

ROC AUC and average precision are computed on the distinct score levels, sorted once, with ties
handled as scikit-learn does (a tie between a positive and a negative counts one half for AUC; AP
steps at each distinct score).
"""

from __future__ import annotations

import numpy as np

from modelgov.analysis.resampling import safe_divide

Arrays = dict[str, np.ndarray]


def binary(y_true: np.ndarray, y_pred: np.ndarray, y_score: np.ndarray | None, weights: np.ndarray) -> Arrays:
    """Binary-classification metrics (1 = positive) for every resample in ``weights``."""
    y = np.asarray(y_true) == 1
    p = np.asarray(y_pred) == 1
    tp = weights @ (y & p)
    fp = weights @ (~y & p)
    fn = weights @ (y & ~p)
    tn = weights @ (~y & ~p)
    total = tp + fp + fn + tn
    tpr = safe_divide(tp, tp + fn)
    tnr = safe_divide(tn, tn + fp)
    out: Arrays = {
        "accuracy": safe_divide(tp + tn, total),
        "balanced_accuracy": (tpr + tnr) / 2,
        "precision": safe_divide(tp, tp + fp),
        "recall": tpr,
        "f1": safe_divide(2 * tp, 2 * tp + fp + fn),
    }
    if y_score is not None:
        score = np.asarray(y_score, dtype=float)
        out["roc_auc"], out["average_precision"] = _ranking_metrics(y, score, weights)
        eps = np.finfo(score.dtype).eps
        clipped = np.clip(score, eps, 1 - eps)
        losses = -(y * np.log(clipped) + (~y) * np.log(1 - clipped))
        out["log_loss"] = safe_divide(weights @ losses, total)
        out["brier"] = safe_divide(weights @ (score - y) ** 2, total)
    return out


def _ranking_metrics(y: np.ndarray, score: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    order = np.argsort(score, kind="mergesort")
    sorted_scores = score[order]
    starts = np.flatnonzero(np.r_[True, sorted_scores[1:] != sorted_scores[:-1]])
    positive = np.add.reduceat(weights[:, order] * y[order], starts, axis=1)  # (B, levels), ascending score
    negative = np.add.reduceat(weights[:, order] * ~y[order], starts, axis=1)
    total_pos = positive.sum(axis=1)
    total_neg = negative.sum(axis=1)

    negatives_below = np.cumsum(negative, axis=1) - negative
    auc = safe_divide((positive * (negatives_below + 0.5 * negative)).sum(axis=1), total_pos * total_neg)

    # average precision: thresholds from the highest score down
    tp_cum = np.cumsum(positive[:, ::-1], axis=1)
    fp_cum = np.cumsum(negative[:, ::-1], axis=1)
    precision = safe_divide(tp_cum, tp_cum + fp_cum)
    step = positive[:, ::-1]
    ap = safe_divide(np.nansum(step * precision, axis=1), total_pos)
    return auc, ap


def regression(y_true: np.ndarray, y_pred: np.ndarray, weights: np.ndarray) -> Arrays:
    """Regression metrics for every resample in ``weights``."""
    y = np.asarray(y_true, dtype=float)
    error = np.asarray(y_pred, dtype=float) - y
    total = weights.sum(axis=1)
    sse = weights @ error**2
    sst = weights @ y**2 - safe_divide((weights @ y) ** 2, total)
    return {
        "mae": safe_divide(weights @ np.abs(error), total),
        "rmse": np.sqrt(safe_divide(sse, total)),
        "r2": 1 - safe_divide(sse, np.where(sst > 1e-12 * np.maximum(1.0, np.abs(weights @ y**2)), sst, 0)),
        "mean_error": safe_divide(weights @ error, total),
    }


def multiclass(y_true: np.ndarray, y_pred: np.ndarray, weights: np.ndarray) -> Arrays:
    """Accuracy for every resample (macro averages are reported without intervals)."""
    correct = np.asarray(y_true) == np.asarray(y_pred)
    return {"accuracy": safe_divide(weights @ correct, weights.sum(axis=1))}
