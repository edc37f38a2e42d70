"""Fairness in production for a regression model: in every window, each group's errors on the
records whose outcome arrived, and the gap between the group the model errs most on and the one it
errs least on.

A regression model has no selection rate and no confusion counts, so of the three bases of
:mod:`.production_fairness` only *realized* applies, and nothing can be estimated before the outcomes
arrive. Each group's figures are the evaluation's group table
(:data:`~modelgov.analysis.fairness.REGRESSION_GROUP_METRICS`: mean actual value, mean prediction,
mean absolute error, root mean squared error) with the evaluation's row bootstrap for their
intervals (:func:`~modelgov.analysis.disparity.regression_statistics`). The summary,
``mae_difference``, is the largest group MAE minus the smallest, and ``mean_error_difference`` the
same for the mean error (:mod:`modelgov.analysis.regression_gaps`), the two groups named; as for a
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
from modelgov.analysis.regression_gaps import regression_gaps
from modelgov.analysis.resampling import Resampling

#: Each group's figures: the evaluation's group table (its mean error among them).
FIGURES = tuple(REGRESSION_GROUP_METRICS)


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
        disparities=regression_gaps(ordered, sizes, point, stats.samples, rules, resampling),
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
    return out


def _finite(value: float) -> float | None:
    number = float(value)
    return number if np.isfinite(number) else None
