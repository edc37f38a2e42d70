"""Group rates from confusion counts: their intervals, and the disparity summaries built on them.

Every classification rate a fairness table shows is a ratio of per-group confusion counts
(TP, FP, FN, TN), so the point values, the bootstrap resamples (a multinomial draw of the counts,
see :mod:`.resampling`) and the disparity summaries all come from one (group × 4) table. That is
what makes 1,000 resamples of every rate cheap on a million rows.

Disparity summaries follow fairlearn's definitions (``demographic_parity_difference`` and
``_ratio``, ``equalized_odds_difference`` and ``_ratio`` with ``agg="worst_case"``,
``equal_opportunity_difference``; ``method="between_groups"`` or ``"to_overall"``) with one
difference: a group whose rate is undefined (TPR of a group with no positives) is left out, and the
summary says so, instead of entering as 0.0. A ratio whose denominator is zero is undefined.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from modelgov.analysis.resampling import (
    CELL_METHOD,
    ROW_METHOD,
    Resampling,
    cell_counts,
    percentile_interval,
    row_weights,
    safe_divide,
)
from modelgov.manifest import Disparity, Interval

TP, FP, FN, TN = range(4)

RATE_KEYS = ("base_rate", "selection_rate", "accuracy", "tpr", "fpr", "fnr", "precision")

#: name → (label, description, rates it uses, kind)
DISPARITIES = {
    "demographic_parity_difference": (
        "Demographic parity difference",
        "Gap in selection rate (0 means every group is selected equally often).",
        ("selection_rate",),
        "difference",
    ),
    "demographic_parity_ratio": (
        "Demographic parity ratio",
        "Lower selection rate divided by the higher one (1 means equal; the four-fifths rule asks for at least 0.8).",
        ("selection_rate",),
        "ratio",
    ),
    "equalized_odds_difference": (
        "Equalized odds difference",
        "The larger of the gaps in true positive rate and in false positive rate.",
        ("tpr", "fpr"),
        "difference",
    ),
    "equalized_odds_ratio": (
        "Equalized odds ratio",
        "The smaller of the ratios of true positive rates and of false positive rates.",
        ("tpr", "fpr"),
        "ratio",
    ),
    "equal_opportunity_difference": (
        "Equal opportunity difference",
        "Gap in true positive rate: how much more often truly positive cases are flagged in one group.",
        ("tpr",),
        "difference",
    ),
}
METHODS = ("between_groups", "to_overall")


@dataclass
class GroupStatistics:
    group_intervals: list[dict[str, Interval]]
    overall_intervals: dict[str, Interval] = field(default_factory=dict)
    disparities: list[Disparity] = field(default_factory=list)


def confusion_cells(codes: np.ndarray, groups: int, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """(groups, 4) counts of TP, FP, FN, TN; ``codes`` are group indices 0..groups-1 per row."""
    y = np.asarray(y_true) == 1
    p = np.asarray(y_pred) == 1
    cell = np.where(y & p, TP, np.where(~y & p, FP, np.where(y & ~p, FN, TN)))
    return np.bincount(codes * 4 + cell, minlength=groups * 4).reshape(groups, 4).astype(np.float64)


def rates(cells: np.ndarray) -> dict[str, np.ndarray]:
    """Every group rate from counts of shape (..., 4); NaN where a rate is undefined."""
    tp, fp, fn, tn = (cells[..., i] for i in range(4))
    total = tp + fp + fn + tn
    return {
        "base_rate": safe_divide(tp + fn, total),
        "selection_rate": safe_divide(tp + fp, total),
        "accuracy": safe_divide(tp + tn, total),
        "tpr": safe_divide(tp, tp + fn),
        "fpr": safe_divide(fp, fp + tn),
        "fnr": safe_divide(fn, fn + tp),
        "precision": safe_divide(tp, tp + fp),
    }


def _spread(group: np.ndarray, overall: np.ndarray, kind: str, method: str) -> np.ndarray:
    """Difference or ratio over the defined groups (last axis); NaN if fewer than two are defined."""
    defined = np.isfinite(group)
    enough = defined.sum(axis=-1) >= (2 if method == "between_groups" else 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        if method == "between_groups":
            high = np.nanmax(np.where(defined, group, -np.inf), axis=-1)
            low = np.nanmin(np.where(defined, group, np.inf), axis=-1)
            value = high - low if kind == "difference" else safe_divide(low, high)
        else:
            if kind == "difference":
                value = np.nanmax(np.where(defined, np.abs(group - overall), -np.inf), axis=-1)
            else:
                pair_ratio = safe_divide(np.minimum(group, overall), np.maximum(group, overall))
                value = np.nanmin(np.where(np.isfinite(pair_ratio), pair_ratio, np.inf), axis=-1)
                value = np.where(np.isfinite(pair_ratio).any(axis=-1), value, np.nan)
    return np.where(enough & np.isfinite(value), value, np.nan)


def disparity_values(group_rates: dict[str, np.ndarray], overall_rates: dict[str, np.ndarray]) -> dict:
    """(name, method) → values, for arrays of shape (..., groups) and overall (..., 1)."""
    out = {}
    for name, (_, _, used, kind) in DISPARITIES.items():
        for method in METHODS:
            parts = [_spread(group_rates[rate], overall_rates[rate], kind, method) for rate in used]
            if len(parts) == 1:
                out[name, method] = parts[0]
            elif kind == "difference":
                out[name, method] = np.maximum(parts[0], parts[1])  # NaN if either is undefined
            else:
                out[name, method] = np.minimum(parts[0], parts[1])
    return out


def classification_statistics(cells: np.ndarray, resampling: Resampling) -> GroupStatistics:
    """Group and overall rate intervals and disparity summaries from (groups, 4) confusion counts."""
    groups = len(cells)
    point_rates = rates(cells)
    overall_point = rates(cells.sum(axis=0, keepdims=True))
    points = disparity_values(point_rates, overall_point)

    stats = GroupStatistics(group_intervals=[{} for _ in range(groups)])
    samples: dict = {}
    if resampling.enabled:
        drawn = cell_counts(cells, resampling)  # (B, groups, 4)
        sampled_rates = rates(drawn)
        sampled_overall = rates(drawn.sum(axis=1, keepdims=True))
        for key in RATE_KEYS:
            for index in range(groups):
                if np.isfinite(point_rates[key][index]):
                    stats.group_intervals[index][key] = percentile_interval(
                        sampled_rates[key][:, index], resampling, CELL_METHOD
                    )
            if np.isfinite(overall_point[key][0]):
                stats.overall_intervals[key] = percentile_interval(sampled_overall[key][:, 0], resampling, CELL_METHOD)
        samples = disparity_values(sampled_rates, sampled_overall)

    for name, (label, description, used, _) in DISPARITIES.items():
        excluded = sorted({index for rate in used for index in np.flatnonzero(~np.isfinite(point_rates[rate]))})
        for method in METHODS:
            value = float(points[name, method])
            note = None
            if not np.isfinite(value):
                note = "undefined: fewer than two groups have a defined rate, or a ratio's denominator is zero"
            elif excluded:
                note = f"leaves out {len(excluded)} group(s) where {' or '.join(used)} is undefined"
            stats.disparities.append(
                Disparity(
                    name=name,
                    label=label,
                    method=method,
                    value=value if np.isfinite(value) else None,
                    note=note,
                    interval=percentile_interval(samples[name, method], resampling, CELL_METHOD)
                    if samples and np.isfinite(value)
                    else None,
                    description=description,
                )
            )
    return stats


def regression_statistics(
    codes: np.ndarray, groups: int, y_true: np.ndarray, y_pred: np.ndarray, resampling: Resampling
) -> GroupStatistics:
    """Intervals of each group's mean label, mean prediction, MAE and RMSE (rows resampled)."""
    stats = GroupStatistics(group_intervals=[{} for _ in range(groups)])
    if not resampling.enabled or len(codes) == 0:
        return stats
    y = np.asarray(y_true, dtype=float)
    yhat = np.asarray(y_pred, dtype=float)
    error = yhat - y
    members = np.zeros((len(codes), groups + 1))
    members[np.arange(len(codes)), codes] = 1.0
    members[:, groups] = 1.0  # the last column is "all rows"
    collected: dict[str, list[np.ndarray]] = {key: [] for key in ("mean_label", "mean_prediction", "mae", "rmse")}
    for weights in row_weights(len(codes), resampling):
        size = weights @ members
        collected["mean_label"].append(safe_divide(weights @ (members * y[:, None]), size))
        collected["mean_prediction"].append(safe_divide(weights @ (members * yhat[:, None]), size))
        collected["mae"].append(safe_divide(weights @ (members * np.abs(error)[:, None]), size))
        collected["rmse"].append(np.sqrt(safe_divide(weights @ (members * (error**2)[:, None]), size)))
    for key, parts in collected.items():
        values = np.concatenate(parts)
        for index in range(groups):
            stats.group_intervals[index][key] = percentile_interval(values[:, index], resampling, ROW_METHOD)
        stats.overall_intervals[key] = percentile_interval(values[:, groups], resampling, ROW_METHOD)
    return stats
