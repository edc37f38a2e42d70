"""A regression model's summaries of its groups: how far apart their errors are.

A regression model has no confusion counts, so the classification summaries of :mod:`.disparity`
do not apply. It gets two, each between groups only and each the largest group value of one figure
minus the smallest (fairlearn's ``MetricFrame.difference(method="between_groups")``): the mean
absolute error, how large the errors are, and the mean error, which way they go. They follow the
classification summaries' rules (groups too small are left out and listed, the groups behind a value
are named, the interval comes from resampling), and add the two named groups' own difference over
the same resamples, since the interval of the largest of several gaps cannot include 0. The card
(:func:`~modelgov.analysis.fairness.fairness_by_group`) and fairness in production
(:mod:`modelgov.monitoring.production_fairness_regression`) compute them with the same function.
"""

from __future__ import annotations

import numpy as np

from modelgov.analysis.disparity import GAP_INTERVAL_NOTE, SummaryRules
from modelgov.analysis.resampling import ROW_METHOD, Resampling, percentile_interval
from modelgov.manifest import Disparity, ExcludedGroup

#: A regression model's summaries of its groups (:func:`regression_gap`), at evaluation and in
#: production: name → (label, description, the group figure it spreads, that figure in words).
REGRESSION_GAPS = {
    "mae_difference": (
        "Mean absolute error difference",
        "Gap in mean absolute error between the group the model errs most on and the group it errs least on "
        "(0 means every group's typical error is the same size).",
        "mae",
        "mean absolute error",
    ),
    "mean_error_difference": (
        "Mean error difference",
        "Gap in mean error (prediction − actual) between the group predicted furthest above (or least below) its "
        "outcomes and the group predicted furthest below (or least above) them. 0 means no group is placed "
        "above or below the others on average; the second group is the one a ranking by the prediction puts "
        "lowest against its outcomes, on average.",
        "mean_error",
        "mean error (prediction − actual)",
    ),
}


def regression_gap(
    name: str,
    labels: list[str],
    sizes: np.ndarray,
    values: np.ndarray,
    samples: np.ndarray | None,
    rules: SummaryRules,
    resampling: Resampling,
    *,
    unit: str = "records with outcomes",
) -> Disparity:
    """One of a regression model's summaries of its groups (:data:`REGRESSION_GAPS`): the largest
    group value of its figure minus the smallest, over the groups with at least ``rules.min_size``
    records (all of them without ``exclude_small``) and a finite value, the two groups named, the
    others listed as left out with why. ``samples`` (resamples × groups, :attr:`~modelgov.analysis.disparity.GroupStatistics.samples`)
    give its interval, with the same groups in every resample, and the two named groups' own
    difference over the same resamples (``difference_interval``), which, unlike the gap's, can
    include 0. ``unit`` names what a group's size counts: a log's records with outcomes, or an
    evaluation's rows."""
    label, description, figure, words = REGRESSION_GAPS[name]
    enough = sizes >= rules.min_size if rules.exclude_small else np.ones(len(sizes), dtype=bool)
    finite = np.isfinite(values)
    kept = enough & finite
    excluded = []
    for i, group in enumerate(labels):
        reasons = []
        if not enough[i]:
            # every figure of a group rests on all its records: its size, not a figure's, so a group left
            # out of both gaps reads once, not once per gap
            reasons.append(f"{int(sizes[i]):,} {unit}, fewer than {rules.min_size:,}")
        if not finite[i]:
            reasons.append("its errors are too large to add up (values near the largest number a float holds)")
        if reasons:
            excluded.append(ExcludedGroup(group=group, reason=" and ".join(reasons)))
    base = dict(name=name, label=label, method="between_groups", description=description, excluded=excluded)
    if kept.sum() < 2:
        which = f"have enough {unit} and a finite error" if rules.exclude_small else "have a finite error"
        return Disparity(**base, value=None, note=f"undefined: fewer than two groups {which}")
    positions = np.flatnonzero(kept)
    high = int(positions[np.argmax(values[positions])])
    low = int(positions[np.argmin(values[positions])])
    if high == low:  # every group alike: name two of them, not one twice
        low = int(next(i for i in positions if i != high))
    value = float(values[high] - values[low])
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
            note = GAP_INTERVAL_NOTE
    return Disparity(
        **base,
        value=value,
        interval=interval,
        difference_interval=between,
        note=note,
        rate=figure,
        rate_label=words,
        groups=[labels[high], labels[low]],
        group_rates=[float(values[high]), float(values[low])],
    )


def regression_gaps(
    labels: list[str],
    sizes: np.ndarray,
    point: dict[str, np.ndarray],
    samples: dict[str, np.ndarray],
    rules: SummaryRules,
    resampling: Resampling,
    *,
    unit: str = "records with outcomes",
) -> list[Disparity]:
    """Every summary of :data:`REGRESSION_GAPS`, from each group's point values and the resamples of
    its figures (:attr:`~modelgov.analysis.disparity.GroupStatistics.samples`, whose last column is
    all rows)."""
    return [
        regression_gap(
            name,
            labels,
            sizes,
            np.asarray(point[figure], float),
            samples.get(figure)[:, : len(labels)] if samples.get(figure) is not None else None,
            rules,
            resampling,
            unit=unit,
        )
        for name, (_, _, figure, _) in REGRESSION_GAPS.items()
    ]
