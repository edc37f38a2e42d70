"""Fairness in production for a regression model: in every window, each group's errors on the
records whose outcome arrived, and the gap between the group the model errs most on and the one it
errs least on.

A regression model has no selection rate and no confusion counts, so of the three bases of
:mod:`.production_fairness` only *realized* applies, and nothing can be estimated before the outcomes
arrive. Each group's figures are the evaluation's group table
(:data:`~modelgov.analysis.fairness.REGRESSION_GROUP_METRICS`: mean actual value, mean prediction,
mean absolute error, root mean squared error) with the evaluation's row bootstrap for their
intervals (:func:`~modelgov.analysis.disparity.regression_statistics`). The summary,
``mae_difference``, is the largest group MAE minus the smallest, the two groups named; as for a
classifier's summaries, a group with fewer records than the evaluation's minimum is left out of it
and listed (unless ``analysis.exclude_small_groups`` is false), and its interval is the same
summary over the same resamples, with the same groups in every resample.

Each group also gets its mean error (prediction − actual), the direction the model errs in for
it, with an interval from the same resamples. A group whose errors are too large to add up (values
near the largest number a float holds) is left out of the gap and listed with that reason, never
dropped silently. The gap of the two groups it names also gets the interval of their own difference
over the same resamples (``difference_interval``), which, unlike the gap's, can include 0.

The rows of a window arrive from the engines in no particular order, and a row bootstrap draws
positions, so each window's rows are put in one order by value first, as the window's performance
is (:func:`.report_performance.performance_by_window`): the same intervals from DuckDB and Spark,
and from any order of the log's files. Only the window's figures are kept, never its rows.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from modelgov import manifest
from modelgov.analysis import disparity
from modelgov.analysis.fairness import REGRESSION_GROUP_METRICS, _group_order
from modelgov.analysis.resampling import ROW_METHOD, Resampling, percentile_interval

#: The one summary of a regression model's groups in production.
MAE_DIFFERENCE = "mae_difference"
MAE_DIFFERENCE_LABEL = "Mean absolute error difference"
MAE_DIFFERENCE_DESCRIPTION = (
    "Gap in mean absolute error between the group the model errs most on and the group it errs least on "
    "(0 means every group's typical error is the same size)."
)
#: Each group's figures: the evaluation's group table, then the direction of its errors.
FIGURES = (*REGRESSION_GROUP_METRICS, "mean_error")
MEAN_ERROR_LABEL = "Mean error (prediction − actual)"


def _numeric(values: np.ndarray) -> np.ndarray:
    """Labels or predictions as floats. In a build the window's performance has already refused a
    value that is not a number or is infinite, on the same records; called alone, such a record is
    left out rather than counted."""
    return pd.to_numeric(pd.Series(values), errors="coerce").to_numpy(dtype=float)


def snapshot(
    names: np.ndarray,
    actual: np.ndarray,
    predicted: np.ndarray,
    rules: disparity.SummaryRules,
    resampling: Resampling,
) -> manifest.FairnessSnapshot | None:
    """The realized group errors and the MAE gap of one window's labelled records (``names``: each
    record's group label; None when no record has both a numeric outcome and a numeric prediction)."""
    names = np.asarray(names, dtype=object)
    actual, predicted = _numeric(actual), _numeric(predicted)
    usable = np.isfinite(actual) & np.isfinite(predicted)
    if not usable.any():
        return None
    names, actual, predicted = names[usable], actual[usable], predicted[usable]
    ordered = sorted({str(name) for name in names}, key=_group_order)
    index = {name: i for i, name in enumerate(ordered)}
    codes = np.array([index[str(name)] for name in names], dtype=np.int64)
    order = np.lexsort((predicted, actual, codes))  # one order whatever order the engine gave
    codes, actual, predicted = codes[order], actual[order], predicted[order]

    point = _point(codes, len(ordered), actual, predicted)
    stats = disparity.regression_statistics(codes, len(ordered), actual, predicted, resampling)
    if stats.samples:  # the mean error of each resample's drawn rows: mean prediction − mean actual
        with np.errstate(invalid="ignore", over="ignore"):
            stats.samples["mean_error"] = stats.samples["mean_prediction"] - stats.samples["mean_label"]
        for i in range(len(ordered)):
            stats.group_intervals[i]["mean_error"] = percentile_interval(
                stats.samples["mean_error"][:, i], resampling, ROW_METHOD
            )
    sizes = point["count"].astype(int)
    groups = [
        manifest.GroupMetrics(
            group=label,
            count=int(sizes[i]),
            small=bool(sizes[i] < rules.min_size),
            denominators=dict.fromkeys(FIGURES, int(sizes[i])),
            few=list(FIGURES) if sizes[i] < rules.min_size else [],
            metrics={key: _finite(point[key][i]) for key in FIGURES},
            intervals=stats.group_intervals[i],
        )
        for i, label in enumerate(ordered)
    ]
    return manifest.FairnessSnapshot(
        basis="realized",
        rows=len(codes),
        groups=groups,
        disparities=[_mae_difference(ordered, sizes, point["mae"], stats.samples.get("mae"), rules, resampling)],
    )


def _point(codes: np.ndarray, groups: int, actual: np.ndarray, predicted: np.ndarray) -> dict[str, np.ndarray]:
    """Each group's count and the evaluation's four figures on its records."""
    out: dict[str, np.ndarray] = {"count": np.bincount(codes, minlength=groups).astype(float)}
    for key in FIGURES:
        out[key] = np.full(groups, np.nan)
    bounds = np.searchsorted(codes, np.arange(groups + 1))  # codes are sorted: each group is one run
    for i in range(groups):
        y, yhat = actual[bounds[i] : bounds[i + 1]], predicted[bounds[i] : bounds[i + 1]]
        if len(y):
            with np.errstate(over="ignore", invalid="ignore"):
                for key, (_, function, _) in REGRESSION_GROUP_METRICS.items():
                    out[key][i] = function(y, yhat)
                out["mean_error"][i] = np.mean(yhat - y)
    return out


def _mae_difference(
    labels: list[str],
    sizes: np.ndarray,
    mae: np.ndarray,
    samples: np.ndarray | None,
    rules: disparity.SummaryRules,
    resampling: Resampling,
) -> manifest.Disparity:
    enough = sizes >= rules.min_size if rules.exclude_small else np.ones(len(sizes), dtype=bool)
    finite = np.isfinite(mae)
    kept = enough & finite
    excluded = []
    for i, label in enumerate(labels):
        reasons = []
        if not enough[i]:
            reasons.append(
                f"{int(sizes[i]):,} records with outcomes behind the mean absolute error, fewer than {rules.min_size:,}"
            )
        if not finite[i]:
            reasons.append("its errors are too large to add up (values near the largest number a float holds)")
        if reasons:
            excluded.append(manifest.ExcludedGroup(group=label, reason=" and ".join(reasons)))
    base = dict(
        name=MAE_DIFFERENCE,
        label=MAE_DIFFERENCE_LABEL,
        method="between_groups",
        description=MAE_DIFFERENCE_DESCRIPTION,
        excluded=excluded,
    )
    if kept.sum() < 2:
        which = "have enough records with outcomes and a finite error" if rules.exclude_small else "have a finite error"
        return manifest.Disparity(**base, value=None, note=f"undefined: fewer than two groups {which}")
    positions = np.flatnonzero(kept)
    high = int(positions[np.argmax(mae[positions])])
    low = int(positions[np.argmin(mae[positions])])
    if high == low:  # every group errs alike: name two of them, not one twice
        low = int(next(i for i in positions if i != high))
    value = float(mae[high] - mae[low])
    interval = between = note = None
    if samples is not None and len(samples):
        drawn = samples[:, positions]
        with np.errstate(invalid="ignore"):
            # the same groups in every resample; a resample that drew none of a group's records has
            # no gap (the interval's defined share says how many)
            gaps = np.where(np.isfinite(drawn).all(axis=1), drawn.max(axis=1) - drawn.min(axis=1), np.nan)
            pair = samples[:, high] - samples[:, low]
        interval = percentile_interval(gaps, resampling, ROW_METHOD)
        between = percentile_interval(pair, resampling, ROW_METHOD)
        if interval.low is not None and not interval.low <= value <= interval.high:
            note = disparity.GAP_INTERVAL_NOTE
    return manifest.Disparity(
        **base,
        value=value,
        interval=interval,
        difference_interval=between,
        note=note,
        rate="mae",
        rate_label="mean absolute error",
        groups=[labels[high], labels[low]],
        group_rates=[float(mae[high]), float(mae[low])],
    )


def _finite(value: float) -> float | None:
    number = float(value)
    return number if np.isfinite(number) else None
