"""What a performance estimate is, the metric arithmetic both estimators share, and its check.

The estimators of :mod:`.estimation` (from a window's rows, or from its cells of the score) give an
:class:`Estimate` of the same metrics, computed by the same functions from expected or realized
confusion counts (:func:`ratios`) and tie groups of scores (:func:`auc`), so the two routes agree
to rounding. :func:`disagreement` is the check against the outcomes once they arrive: a realized
value outside the estimate's interval is evidence that ``P(y | x)`` has changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from modelgov.analysis.resampling import Resampling, percentile_interval, safe_divide
from modelgov.manifest import Interval

METRICS = ("accuracy", "precision", "recall", "f1", "roc_auc")


@dataclass(frozen=True)
class MetricEstimate:
    """One estimated metric: ``value`` is ``None`` when undefined, and ``note`` says why."""

    value: float | None
    interval: Interval | None = None
    note: str | None = None

    @property
    def low(self) -> float | None:
        return self.interval.low if self.interval else None

    @property
    def high(self) -> float | None:
        return self.interval.high if self.interval else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": self.value,
            "low": self.low,
            "high": self.high,
            "interval": self.interval.model_dump() if self.interval else None,
            "note": self.note,
        }


@dataclass(frozen=True)
class Estimate:
    """A window's estimated performance.

    ``expected`` holds the expected confusion counts (``tp``, ``fp``, ``fn``, ``tn``) and the
    expected number of positives; ``roc_auc_resolution`` (windows known by cells only) bounds how
    far the row-level ROC AUC estimate can lie above the one given (see :func:`.estimation.estimate_cells`)."""

    rows: int
    missing: int
    expected: dict[str, float]
    metrics: dict[str, MetricEstimate]
    calibration: str
    source: Literal["rows", "cells"]
    roc_auc_resolution: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "missing": self.missing,
            "expected": dict(self.expected),
            "metrics": {name: metric.to_dict() for name, metric in self.metrics.items()},
            "calibration": self.calibration,
            "source": self.source,
            "roc_auc_resolution": self.roc_auc_resolution,
        }


def disagreement(estimate: Estimate, metric: str, realized: float | None) -> bool | None:
    """Whether a realized value lies outside the estimate's interval: the sign that ``P(y | x)`` is
    no longer what the reference showed. ``None`` when either side is undefined or has no interval."""
    entry = estimate.metrics[metric]
    if realized is None or not np.isfinite(realized) or entry.low is None or entry.high is None:
        return None
    return bool(realized < entry.low or realized > entry.high)


def ratios(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, tn: np.ndarray) -> dict[str, np.ndarray]:
    """Accuracy, precision, recall and F1 from (expected or realized) confusion counts; NaN where
    undefined. F1 as NannyML writes it: TP / (TP + (FP + FN) / 2)."""
    return {
        "accuracy": safe_divide(tp + tn, tp + fp + fn + tn),
        "precision": safe_divide(tp, tp + fp),
        "recall": safe_divide(tp, tp + fn),
        "f1": safe_divide(tp, tp + 0.5 * (fp + fn)),
    }


def auc(positives: np.ndarray, negatives: np.ndarray) -> np.ndarray:
    """ROC AUC from the positives and negatives of each tie group, groups in *descending* score
    order along the last axis: P(score of a positive > score of a negative) + ½ P(tie), which is the
    trapezoidal area scikit-learn computes. Counts may be expected (fractional) counts."""
    above = np.cumsum(positives, axis=-1) - positives  # positives scored strictly higher
    pairs = np.sum(negatives * (above + 0.5 * positives), axis=-1)
    return safe_divide(pairs, positives.sum(axis=-1) * negatives.sum(axis=-1))


def tie_groups(scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The order that sorts ``scores`` descending, and the start and size of each run of equal
    scores in that order."""
    order = np.argsort(-scores, kind="stable")
    ranked = scores[order]
    n = len(ranked)
    starts = np.flatnonzero(np.r_[True, ranked[1:] != ranked[:-1]]) if n else np.zeros(0, np.int64)
    return order, starts, np.diff(np.r_[starts, n])


def grouped_auc(p: np.ndarray, starts: np.ndarray, sizes: np.ndarray) -> float:
    group_p = np.add.reduceat(p, starts) if len(p) else np.zeros(0)
    return float(auc(group_p, sizes - group_p))


def expected_roc_auc(scores: np.ndarray, probabilities: np.ndarray) -> float:
    """NannyML's estimated ROC AUC: the area under the curve of expected true positive rate
    ``Σ_{s ≥ t} p / Σ p`` against expected false positive rate ``Σ_{s ≥ t} (1 − p) / Σ (1 − p)``
    over every distinct score ``t`` (trapezoids; tied scores are one step, i.e. half credit, as
    scikit-learn counts them). Equivalently

        Σ_{i, j} p_i (1 − p_j) ([s_i > s_j] + ½ [s_i = s_j]) / (Σ p · Σ (1 − p)),

    pairs of a row with itself included, as in NannyML (they pull the value towards ½ by O(1/n)).
    With ``probabilities`` the outcomes it is scikit-learn's ``roc_auc_score``. NaN when Σp or
    Σ(1 − p) is 0."""
    scores = np.asarray(scores, dtype=float)
    order, starts, sizes = tie_groups(scores)
    return grouped_auc(np.asarray(probabilities, dtype=float)[order], starts, sizes)


def undefined_notes(predicted: float, expected_positives: float, expected_negatives: float) -> dict[str, str]:
    notes = {}
    if predicted == 0:
        notes["precision"] = "no predicted positives"
    if expected_positives == 0:
        notes["recall"] = "no positives expected: every calibrated probability is 0"
    if predicted == 0 and expected_positives == 0:
        notes["f1"] = "no predicted positives and no positives expected"
    if expected_positives == 0 or expected_negatives == 0:
        notes["roc_auc"] = "one class expected: every calibrated probability is 0, or every one is 1"
    return notes


def assemble_metrics(
    point: dict[str, float],
    samples: dict[str, np.ndarray] | None,
    notes: dict[str, str],
    resampling: Resampling,
    method: str,
    widen_auc: float = 0.0,
) -> dict[str, MetricEstimate]:
    metrics = {}
    for name in METRICS:
        value = point[name]
        if not np.isfinite(value):
            metrics[name] = MetricEstimate(None, None, notes.get(name, "undefined"))
            continue
        interval = None
        if samples is not None:
            interval = percentile_interval(samples[name], resampling, method)
            if name == "roc_auc" and widen_auc and interval.high is not None:
                interval = interval.model_copy(update={"high": min(1.0, interval.high + widen_auc)})
        metrics[name] = MetricEstimate(float(value), interval)
    return metrics


def expected_counts(tp: float, fp: float, fn: float, tn: float) -> dict[str, float]:
    return {"tp": float(tp), "fp": float(fp), "fn": float(fn), "tn": float(tn), "positives": float(tp + fn)}
