"""Headline metrics of a whole batch of bootstrap resamples at once, from the rows each one drew.

Each function takes ``draws`` of shape (resamples, n) — the row indices of each resample, see
:func:`.resampling.row_draws` — and returns one array of shape (resamples,) per metric. Every metric
is a count or a sum over the drawn rows: the confusion counts are one ``bincount`` of each row's
cell over the batch, so is the count of positives and negatives at each distinct score level that
ROC AUC and average precision need, and losses are sums of the drawn rows' values. With
:func:`.resampling.identity` (every row once) they equal scikit-learn's values (the tests check this,
and each resample against scikit-learn on its repeated rows), so an interval and the point estimate
it surrounds are the same metric.

ROC AUC and average precision are computed on the distinct score levels, counted from the highest
score down (AP's precisions are summed from the lowest up), with ties handled as scikit-learn does
(a tie between a positive and a negative counts one half for AUC; AP steps at each distinct score).
"""

from __future__ import annotations

import numpy as np

from modelgov.analysis.resampling import counts, safe_divide

Arrays = dict[str, np.ndarray]

TN, FP, FN, TP = range(4)  # a row's cell is 2 · actual + predicted


def binary(y_true: np.ndarray, y_pred: np.ndarray, y_score: np.ndarray | None, draws: np.ndarray) -> Arrays:
    """Binary-classification metrics (1 = positive) for every resample in ``draws``."""
    y = np.asarray(y_true) == 1
    p = np.asarray(y_pred) == 1
    score = None if y_score is None else np.asarray(y_score, dtype=float)
    auc = ap = cells = None
    if score is not None:
        auc, ap, cells = _ranking_metrics(y, score, draws, predicted=p)
    if cells is None:
        cells = counts(2 * y.astype(np.int64) + p, draws, 4)
    tp, fp, fn, tn = cells[:, TP], cells[:, FP], cells[:, FN], cells[:, TN]
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
    if score is not None and auc is not None and ap is not None:
        out["roc_auc"], out["average_precision"] = auc, ap
        eps = np.finfo(score.dtype).eps
        clipped = np.clip(score, eps, 1 - eps)
        losses = -(y * np.log(clipped) + (~y) * np.log(1 - clipped))
        out["log_loss"] = safe_divide(losses[draws].sum(axis=1), total)
        out["brier"] = safe_divide(((score - y) ** 2)[draws].sum(axis=1), total)
    return out


#: Resamples × score levels per step of :func:`_ranking_metrics`: each of its count tables then
#: fits in a processor cache (2 MB) instead of streaming a batch's tables through memory a dozen
#: times. Each resample's values are computed alone, so the step does not change a figure.
RANKING_STEP_CELLS = 262_144


def _ranking_metrics(
    y: np.ndarray, score: np.ndarray, draws: np.ndarray, predicted: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """ROC AUC and AP of every resample, and its confusion counts (TN, FP, FN, TP) when
    ``predicted`` is the same for every row of a score level (a threshold on the score is), else
    ``None``: the counts per level already hold them, which saves a count of every drawn row."""
    levels, level_of = np.unique(score, return_inverse=True)
    size = len(levels)
    # level codes in *descending* score, negatives then positives: the counts "at or above a level"
    # that both metrics need are then running sums, one pass each
    codes = (size - 1 - level_of.astype(np.int64)) + size * y
    flagged = None if predicted is None else _predicted_levels(level_of, predicted, size)
    step = max(1, RANKING_STEP_CELLS // (2 * size))
    parts = [
        _ranking_step(counts(codes, draws[start : start + step], 2 * size), size, flagged)
        for start in range(0, len(draws), step)
    ]
    cells = None if flagged is None else np.concatenate([part[2] for part in parts])
    return np.concatenate([part[0] for part in parts]), np.concatenate([part[1] for part in parts]), cells


def _predicted_levels(level_of: np.ndarray, predicted: np.ndarray, size: int) -> np.ndarray | None:
    """1.0 for each level (highest score first) whose rows are all predicted positive, 0.0 where
    none is; ``None`` when some level holds both predictions (the prediction is not the score's)."""
    rows = np.bincount(level_of, minlength=size)
    positive = np.bincount(level_of, weights=np.asarray(predicted, dtype=float), minlength=size)
    if not np.all((positive == 0) | (positive == rows)):
        return None
    return np.ascontiguousarray((positive[::-1] > 0).astype(np.float64))


def _ranking_step(
    by_level: np.ndarray, size: int, flagged_levels: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """ROC AUC and AP of a few resamples from their (resamples, 2 · levels) counts, in place, and
    their confusion counts when ``flagged_levels`` marks the levels predicted positive.

    The levels run from the highest score down. Every count and running sum is a whole number, and
    the AUC's sums are multiples of ½ no larger than positives × negatives, so each is exact in
    floating point whatever the order it is added in while that product is below 2⁵² (a table of
    up to about 130 million rows; the evaluation limit is 20 million by default). Each level's
    precision is the same division of the same two whole numbers as when the levels ran upwards,
    and the precisions are summed in ascending order of score, as before, so that the rounding of
    that sum, and every AP, is the same to the last bit (a test holds this)."""
    negative, positive = by_level[:, :size], by_level[:, size:]  # descending score
    # predicted positives among each class: sums of whole numbers, exact in any order, so the same
    # counts as counting every drawn row's cell
    flagged_pos_rows = None if flagged_levels is None else positive @ flagged_levels
    flagged_neg_rows = None if flagged_levels is None else negative @ flagged_levels
    flagged_pos = np.cumsum(positive, axis=1)  # positives at or above each level
    flagged = negative + positive
    np.cumsum(flagged, axis=1, out=flagged)  # rows at or above each level
    total_pos, total_all = flagged_pos[:, -1].copy(), flagged[:, -1].copy()
    total_neg = total_all - total_pos

    # AUC: each negative is beaten by the positives above its level and half of those at it:
    # Σ neg·(pos_at_or_above − pos + ½ pos) = Σ neg·pos_at_or_above − ½ Σ neg·pos
    beaten = np.einsum("ij,ij->i", negative, flagged_pos)
    beaten -= 0.5 * np.einsum("ij,ij->i", positive, negative)
    auc = safe_divide(beaten, total_pos * total_neg)

    # average precision: at each level's threshold, the rows at or above it are flagged (a level
    # with none flagged has no positive: its term is 0, as 0 / 1 gives)
    np.maximum(flagged, 1, out=flagged)
    precision = np.divide(flagged_pos, flagged, out=flagged_pos)
    precision *= positive
    ap = safe_divide(np.ascontiguousarray(precision[:, ::-1]).sum(axis=1), total_pos)
    if flagged_pos_rows is None or flagged_neg_rows is None:
        return auc, ap, None
    cells = np.empty((len(by_level), 4))
    cells[:, TP], cells[:, FP] = flagged_pos_rows, flagged_neg_rows
    cells[:, FN], cells[:, TN] = total_pos - flagged_pos_rows, total_neg - flagged_neg_rows
    return auc, ap, cells


def regression(y_true: np.ndarray, y_pred: np.ndarray, draws: np.ndarray) -> Arrays:
    """Regression metrics for every resample in ``draws``."""
    y = np.asarray(y_true, dtype=float)
    error = np.asarray(y_pred, dtype=float) - y
    drawn_y, drawn_error = y[draws], error[draws]
    total = float(draws.shape[1])
    sse = (drawn_error**2).sum(axis=1)
    square_sum = (drawn_y**2).sum(axis=1)
    sst = square_sum - drawn_y.sum(axis=1) ** 2 / total if total else square_sum
    return {
        "mae": safe_divide(np.abs(drawn_error).sum(axis=1), total),
        "rmse": np.sqrt(safe_divide(sse, total)),
        "r2": 1 - safe_divide(sse, np.where(sst > 1e-12 * np.maximum(1.0, np.abs(square_sum)), sst, 0)),
        "mean_error": safe_divide(drawn_error.sum(axis=1), total),
    }


def multiclass(y_true: np.ndarray, y_pred: np.ndarray, draws: np.ndarray) -> Arrays:
    """Accuracy for every resample (macro averages are reported without intervals)."""
    correct = np.asarray(y_true) == np.asarray(y_pred)
    return {"accuracy": safe_divide(correct[draws].sum(axis=1), float(draws.shape[1]))}
