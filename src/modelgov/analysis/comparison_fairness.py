"""Compare two versions' group rates and disparity summaries on the same rows, with paired intervals.

A retrained model can be better overall and worse for one group, or widen a gap between groups
while every headline metric improves. So each sensitive feature's group rates and disparity
summaries are compared the way the metrics are (:mod:`.comparison`): on the paired rows, grouped by
this version's labels (which the other version's rows must share), and every bootstrap resample
draws the *same* rows for both versions, so the interval is of the difference itself and the
sampling noise the two share cancels.

A rate needs only each row's group and its confusion cell in each version, so a row is one of
(groups × 4 × 4) joint cells, and drawing rows with replacement draws the joint counts from a
multinomial (as :mod:`.resampling` does for one version's group rates): the resamples cost one
multinomial draw over a few dozen cells whatever the number of rows, and both versions' counts in a
resample come from the same drawn rows.

Which groups enter a disparity summary follows the evaluation's rule (:mod:`.disparity`: enough
people behind every rate it uses). Both versions are scored on the same rows and the summaries use
rates whose denominators depend only on the labels (rows, actual positives, actual negatives), so
the same groups enter both versions' summaries, and the same groups enter every resample.
"""

from __future__ import annotations

import numpy as np

from modelgov.analysis.comparison import Pairing, RunArrays
from modelgov.analysis.disparity import (
    DENOMINATOR_WORDS,
    DISPARITIES,
    METHODS,
    RATE_KEYS,
    RATE_NAMES,
    confusion_cells,
    defining_groups,
    denominators,
    disparity_values,
    rates,
)
from modelgov.analysis.fairness import _group_order
from modelgov.analysis.resampling import Resampling, cell_counts, percentile_interval
from modelgov.manifest import DisparityDelta, ExcludedGroup, FairnessDelta, GroupRateDelta

PAIRED_CELLS = "paired percentile bootstrap over rows (multinomial draw of the paired confusion counts)"

#: The rates compared per group (precision is left out: its denominator differs between versions).
COMPARED_RATES = tuple(rate for rate in RATE_KEYS if rate != "precision")


class GroupsDiffer(Exception):
    """The two runs group the paired rows differently; the message says why."""


def fairness_deltas(
    this: RunArrays,
    other: RunArrays,
    pairing: Pairing,
    *,
    resampling: Resampling,
    min_group_size: int,
    exclude_small: bool = True,
) -> list[FairnessDelta]:
    """Every sensitive feature's group-rate and disparity deltas (this − other), binary classification."""
    if not this.groups:
        return []
    y_true = this.y_true[pairing.this_rows]
    a_pred = np.asarray(this.y_pred)[pairing.this_rows]
    b_pred = np.asarray(other.y_pred)[pairing.other_rows]
    out = []
    for key, labels in this.groups.items():
        mine = np.asarray(labels, dtype=object)[pairing.this_rows]
        theirs = None if not other.groups or key not in other.groups else other.groups[key]
        if theirs is not None and not np.array_equal(mine, np.asarray(theirs, dtype=object)[pairing.other_rows]):
            raise GroupsDiffer(f"the paired rows of {key} belong to different groups in the two tables")
        out.append(_feature(key, mine, y_true, a_pred, b_pred, resampling, min_group_size, exclude_small))
    return out


def _feature(key, labels, y_true, a_pred, b_pred, resampling, min_group_size, exclude_small) -> FairnessDelta:
    ordered = sorted(set(labels.tolist()), key=_group_order)
    index = {name: i for i, name in enumerate(ordered)}
    codes = np.fromiter((index[v] for v in labels), dtype=np.int64, count=len(labels))
    size = len(ordered)
    cells_a = confusion_cells(codes, size, y_true, a_pred)
    cells_b = confusion_cells(codes, size, y_true, b_pred)
    rates_a, rates_b = rates(cells_a), rates(cells_b)
    overall_a, overall_b = rates(cells_a.sum(axis=0, keepdims=True)), rates(cells_b.sum(axis=0, keepdims=True))
    sizes = denominators(cells_a)  # of the rates compared, equal for both versions (labels only)
    enough = {rate: sizes[rate] >= min_group_size for rate in RATE_KEYS}
    keep = enough if exclude_small else {rate: np.ones(size, dtype=bool) for rate in RATE_KEYS}
    counted = {
        name: np.logical_and.reduce(
            [keep[r] & np.isfinite(rates_a[r]) & np.isfinite(rates_b[r]) for r in DISPARITIES[name][2]]
        )
        for name in DISPARITIES
    }

    def summaries(group_rates, overall):
        return {
            (name, method): disparity_values(_masked(group_rates, counted[name]), overall, [name])[name, method]
            for name in DISPARITIES
            for method in METHODS
        }

    point_a, point_b = summaries(rates_a, overall_a), summaries(rates_b, overall_b)
    samples: dict = {}
    if resampling.enabled:
        # each row's (group, this version's cell, the other's cell): resampling rows draws these joint
        # counts from a multinomial, exactly, so the resamples cost the same at any row count
        joint = np.bincount(codes * 16 + _cell(y_true, a_pred) * 4 + _cell(y_true, b_pred), minlength=size * 16)
        drawn = cell_counts(joint.astype(np.float64), resampling).reshape(-1, size, 4, 4)
        drawn_a, drawn_b = drawn.sum(axis=3), drawn.sum(axis=2)
        ra, rb = rates(drawn_a), rates(drawn_b)
        oa, ob = rates(drawn_a.sum(axis=1, keepdims=True)), rates(drawn_b.sum(axis=1, keepdims=True))
        for rate in COMPARED_RATES:
            samples["rate", rate] = ra[rate] - rb[rate]
        sa, sb = summaries(ra, oa), summaries(rb, ob)
        for item in sa:
            samples["disparity", item] = sa[item] - sb[item]

    groups = []
    for i, name in enumerate(ordered):
        for rate in COMPARED_RATES:
            x, y = _finite(rates_a[rate][i]), _finite(rates_b[rate][i])
            delta = x - y if x is not None and y is not None else None
            interval = None
            if samples and delta is not None:
                interval = percentile_interval(samples["rate", rate][:, i], resampling, PAIRED_CELLS)
            groups.append(
                GroupRateDelta(
                    group=str(name), rate=rate, count=int(sizes["base_rate"][i]), this=x, other=y, delta=delta,
                    interval=interval,
                )
            )  # fmt: skip

    disparities = []
    for name, (label, _, _, _) in DISPARITIES.items():
        kept_a, kept_b = _masked(rates_a, counted[name]), _masked(rates_b, counted[name])
        for method in METHODS:
            x, y = _finite(point_a[name, method]), _finite(point_b[name, method])
            delta = x - y if x is not None and y is not None else None
            interval = None
            if samples and delta is not None:
                interval = percentile_interval(samples["disparity", (name, method)], resampling, PAIRED_CELLS)
            behind_a = defining_groups(kept_a, overall_a, name, method) if x is not None else None
            behind_b = defining_groups(kept_b, overall_b, name, method) if y is not None else None
            disparities.append(
                DisparityDelta(
                    name=name,
                    label=label,
                    method=method,
                    this=x,
                    other=y,
                    delta=delta,
                    interval=interval,
                    this_groups=[str(ordered[g]) for g in behind_a[1]] if behind_a else [],
                    other_groups=[str(ordered[g]) for g in behind_b[1]] if behind_b else [],
                    rate=behind_a[0] if behind_a else None,
                )
            )
    return FairnessDelta(
        feature=key, groups=groups, disparities=disparities, excluded=_left_out(ordered, sizes, keep, min_group_size)
    )


def _cell(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Each row's confusion cell in :mod:`.disparity`'s order (TP, FP, FN, TN)."""
    y, p = np.asarray(y_true) == 1, np.asarray(y_pred) == 1
    return np.where(y & p, 0, np.where(~y & p, 1, np.where(y & ~p, 2, 3))).astype(np.int64)


def _masked(group_rates: dict[str, np.ndarray], keep: np.ndarray) -> dict[str, np.ndarray]:
    return {rate: np.where(keep, values, np.nan) for rate, values in group_rates.items()}


def _left_out(ordered: list, sizes: dict, keep: dict, min_group_size: int) -> list[ExcludedGroup]:
    """Groups with too few people behind a rate the summaries use (the same for both versions)."""
    out = []
    for i, name in enumerate(ordered):
        small = [rate for rate in ("selection_rate", "tpr", "fpr") if not keep[rate][i]]
        if small:
            reasons = " and ".join(
                f"{int(sizes[r][i]):,} {DENOMINATOR_WORDS[r]} behind the {RATE_NAMES[r]}" for r in small
            )
            out.append(ExcludedGroup(group=str(name), reason=f"{reasons}, fewer than {min_group_size:,}"))
    return out


def _finite(value) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None
