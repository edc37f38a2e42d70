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

Two things fairlearn leaves to the reader are part of each summary here. It names the groups that
define it ("Other 0.210 ÷ African-American 0.588"): a number without them cannot be acted on. And
by default a group enters only the summaries whose rates it has enough people for — the minimum
applies to each rate's *denominator*, so a group of 32 with 9 actual positives counts for the
selection rate but not for the true positive rate. Otherwise the most extreme value is usually that
of the smallest group, which is chance as often as it is unfairness. Left-out groups are listed,
with their counts. Named pairs (a reference group against each other group, or pairs a workspace
lists) are summarised the same way, whatever their size, with a note when a side is small.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from modelgov.analysis.resampling import (
    CELL_METHOD,
    ROW_METHOD,
    Resampling,
    cell_counts,
    percentile_interval,
    row_draws,
    safe_divide,
)
from modelgov.manifest import Disparity, ExcludedGroup, GroupComparison, Interval

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

#: A worst-case gap (the largest of several, or |a − b|) is biased away from 0 in resamples when
#: the groups are close, so its percentile interval can miss the value: the summary then says so.
GAP_INTERVAL_NOTE = (
    "the interval leaves out the value: when the groups are close, the largest gap in a resample "
    "is larger than in the data; compare the groups' own intervals instead"
)


#: rate → what its denominator counts, in a reader's words.
DENOMINATOR_WORDS = {
    "base_rate": "rows",
    "selection_rate": "rows",
    "accuracy": "rows",
    "tpr": "actual positives",
    "fnr": "actual positives",
    "fpr": "actual negatives",
    "precision": "predicted positives",
}
RATE_NAMES = {
    "base_rate": "base rate",
    "selection_rate": "selection rate",
    "accuracy": "accuracy",
    "tpr": "true positive rate",
    "fpr": "false positive rate",
    "fnr": "false negative rate",
    "precision": "precision",
}


@dataclass
class GroupStatistics:
    group_intervals: list[dict[str, Interval]]
    overall_intervals: dict[str, Interval] = field(default_factory=dict)
    disparities: list[Disparity] = field(default_factory=list)
    denominators: list[dict[str, int]] = field(default_factory=list)
    few: list[list[str]] = field(default_factory=list)
    comparisons: list[GroupComparison] = field(default_factory=list)
    #: a regression's per-resample group values (resamples × (groups + 1), the last column all rows),
    #: for a summary drawn from the same resamples (:mod:`modelgov.monitoring.production_fairness_regression`)
    samples: dict[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class SummaryRules:
    """Which groups enter the disparity summaries, and which pairs are compared by name.

    ``min_size`` applies to each rate's denominator (:func:`denominators`): with ``exclude_small``
    a group enters a summary only if every rate the summary uses rests on at least that many people.
    ``pairs`` are (group, reference) indices, compared whatever their size (the comparison says
    when a side is small).
    """

    min_size: int = 1
    exclude_small: bool = True
    pairs: tuple[tuple[int, int], ...] = ()


def confusion_cells(codes: np.ndarray, groups: int, y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """(groups, 4) counts of TP, FP, FN, TN; ``codes`` are group indices 0..groups-1 per row."""
    y = np.asarray(y_true) == 1
    p = np.asarray(y_pred) == 1
    cell = np.where(y & p, TP, np.where(~y & p, FP, np.where(y & ~p, FN, TN)))
    return np.bincount(codes * 4 + cell, minlength=groups * 4).reshape(groups, 4).astype(np.float64)


def denominators(cells: np.ndarray) -> dict[str, np.ndarray]:
    """The number of people each rate rests on, from counts of shape (..., 4)."""
    tp, fp, fn, tn = (cells[..., i] for i in range(4))
    total = tp + fp + fn + tn
    return {
        "base_rate": total,
        "selection_rate": total,
        "accuracy": total,
        "tpr": tp + fn,
        "fpr": fp + tn,
        "fnr": tp + fn,
        "precision": tp + fp,
    }


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


def disparity_values(
    group_rates: dict[str, np.ndarray], overall_rates: dict[str, np.ndarray], names: Iterable[str] | None = None
) -> dict:
    """(name, method) → values, for arrays of shape (..., groups) and overall (..., 1).

    ``names`` limits the work to those disparities (all by default): a caller that needs one
    summary over a thousand resamples should not pay for every other one."""
    out = {}
    for name in DISPARITIES if names is None else names:
        _, _, used, kind = DISPARITIES[name]
        for method in METHODS:
            parts = [_spread(group_rates[rate], overall_rates[rate], kind, method) for rate in used]
            if len(parts) == 1:
                out[name, method] = parts[0]
            elif kind == "difference":
                out[name, method] = np.maximum(parts[0], parts[1])  # NaN if either is undefined
            else:
                out[name, method] = np.minimum(parts[0], parts[1])
    return out


def defining_groups(
    group_rates: dict[str, np.ndarray], overall_rates: dict[str, np.ndarray], name: str, method: str
) -> tuple[str, list[int], list[float]] | None:
    """(rate, group indices, their rates) that produce one point value of :func:`disparity_values`.

    Between groups, a difference is the highest minus the lowest rate and a ratio the lowest over
    the highest, so the two groups are the arg-max and arg-min; against all rows, the group whose
    rate is furthest from the overall rate. For equalized odds, whichever of TPR and FPR gives the
    reported value (TPR on a tie). None when the value is undefined.
    """
    _, _, used, kind = DISPARITIES[name]
    candidates = []
    for rate in used:
        values = np.asarray(group_rates[rate], dtype=float)
        overall = float(np.asarray(overall_rates[rate]).reshape(-1)[0])
        defined = np.flatnonzero(np.isfinite(values))
        spread = float(_spread(values, np.array([overall]), kind, method))
        if not np.isfinite(spread) or not len(defined):
            return None  # equalized odds is undefined when either part is
        if method == "between_groups":
            high = int(defined[np.argmax(values[defined])])
            low = int(defined[np.argmin(values[defined])])
            if low == high:  # every group has the same rate: name two of them, not one twice
                low = int(next(i for i in defined if i != high))
            order = [high, low] if kind == "difference" else [low, high]
            candidates.append((spread, rate, order, [float(values[i]) for i in order]))
        else:
            gaps = np.abs(values[defined] - overall)
            if kind == "ratio":
                with np.errstate(invalid="ignore", divide="ignore"):
                    lows, highs = np.minimum(values[defined], overall), np.maximum(values[defined], overall)
                    gaps = -np.where(highs > 0, lows / np.where(highs > 0, highs, 1), np.nan)
                gaps = np.where(np.isfinite(gaps), gaps, -np.inf)
            index = int(defined[np.argmax(gaps)])
            candidates.append((spread, rate, [index], [float(values[index]), overall]))
    spread, rate, order, shown = (max if kind == "difference" else min)(candidates, key=lambda c: c[0])
    return rate, order, shown


def _masked(group_rates: dict[str, np.ndarray], keep: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Rates with the left-out groups set to NaN (the mask broadcasts over resamples)."""
    return {key: np.where(keep[key], values, np.nan) for key, values in group_rates.items()}


def classification_statistics(
    cells: np.ndarray,
    resampling: Resampling,
    labels: list[str] | None = None,
    rules: SummaryRules | None = None,
    *,
    rates_wanted: Iterable[str] | None = None,
    measures: Iterable[str] | None = None,
) -> GroupStatistics:
    """Group and overall rate intervals, each rate's denominator, and the disparity summaries
    (with the groups behind each, and those left out) from (groups, 4) confusion counts.

    ``rates_wanted`` and ``measures`` limit the intervals and the summaries to those rates and
    disparities (all by default), in their usual order: a caller that reports a few of them, as
    fairness in production does for every window, should not pay for the others. Each interval and
    summary is computed alone from the same draws, so what is computed is the same either way."""
    rules = rules or SummaryRules()
    interval_keys = RATE_KEYS if rates_wanted is None else _known(rates_wanted, RATE_KEYS, "rate")
    names = tuple(DISPARITIES) if measures is None else _known(measures, tuple(DISPARITIES), "disparity summary")
    groups = len(cells)
    labels = labels or [str(i) for i in range(groups)]
    point_rates = rates(cells)
    overall_point = rates(cells.sum(axis=0, keepdims=True))
    sizes = denominators(cells)
    enough = {key: sizes[key] >= rules.min_size for key in RATE_KEYS}
    keep = enough if rules.exclude_small else {key: np.ones(groups, dtype=bool) for key in RATE_KEYS}

    stats = GroupStatistics(
        group_intervals=[{} for _ in range(groups)],
        denominators=[{key: int(sizes[key][i]) for key in RATE_KEYS} for i in range(groups)],
        few=[[key for key in RATE_KEYS if not enough[key][i]] for i in range(groups)],
    )
    sampled_rates = sampled_overall = None
    if resampling.enabled:
        drawn = cell_counts(cells, resampling)  # (B, groups, 4)
        sampled_rates = rates(drawn)
        sampled_overall = rates(drawn.sum(axis=1, keepdims=True))
        for key in interval_keys:
            for index in range(groups):
                if np.isfinite(point_rates[key][index]):
                    stats.group_intervals[index][key] = percentile_interval(
                        sampled_rates[key][:, index], resampling, CELL_METHOD
                    )
            if np.isfinite(overall_point[key][0]):
                stats.overall_intervals[key] = percentile_interval(sampled_overall[key][:, 0], resampling, CELL_METHOD)

    def left_out(used: tuple[str, ...]) -> list[ExcludedGroup]:
        out = []
        for index in range(groups):
            reasons = []
            for rate in used:
                if not keep[rate][index]:
                    count = int(sizes[rate][index])
                    reasons.append(f"{count:,} {DENOMINATOR_WORDS[rate]} behind the {RATE_NAMES[rate]}")
                elif not np.isfinite(point_rates[rate][index]):
                    reasons.append(f"{RATE_NAMES[rate]} undefined: no {DENOMINATOR_WORDS[rate]}")
            if reasons:
                small = any(not keep[rate][index] for rate in used)
                rule = f", fewer than {rules.min_size:,}" if small else ""
                out.append(ExcludedGroup(group=labels[index], reason=" and ".join(dict.fromkeys(reasons)) + rule))
        return out

    def summarised(used: tuple[str, ...]) -> np.ndarray:
        """The groups a summary over ``used`` counts: enough people behind, and a defined value of,
        *every* rate it uses (equalized odds drops a group for both parts, never for one)."""
        return np.logical_and.reduce([keep[rate] & np.isfinite(point_rates[rate]) for rate in used])

    stats.disparities = _summaries(
        point_rates, overall_point, sampled_rates, sampled_overall, resampling, labels, left_out, summarised, names
    )
    for group, reference in rules.pairs:
        pick = [group, reference]
        pair_points = {key: values[pick] for key, values in point_rates.items()}
        pair_samples = {key: values[:, pick] for key, values in sampled_rates.items()} if sampled_rates else None
        few = [
            f"{labels[i]}: {int(sizes[rate][i]):,} {DENOMINATOR_WORDS[rate]} behind the {RATE_NAMES[rate]}"
            for i in pick
            for rate in ("selection_rate", "tpr", "fpr")
            if not enough[rate][i]
        ]
        note = f"fewer than {rules.min_size:,} people behind a rate ({'; '.join(few)}): read with care" if few else None
        stats.comparisons.append(
            GroupComparison(
                group=labels[group],
                reference=labels[reference],
                disparities=[
                    d
                    for d in _summaries(
                        pair_points,
                        overall_point,
                        pair_samples,
                        sampled_overall,
                        resampling,
                        [labels[i] for i in pick],
                        lambda used: [],
                        lambda used: np.ones(2, dtype=bool),
                        names,
                    )
                    if d.method == "between_groups"
                ],
                note=note,
            )
        )
    return stats


def _known(wanted: Iterable[str], every: tuple[str, ...], what: str) -> tuple[str, ...]:
    """Those of ``every`` that are ``wanted``, in ``every``'s order; a name not in it is a mistake
    (a typo, or one string where a list of names belongs), not something to leave out quietly."""
    if isinstance(wanted, str):
        raise TypeError(f"expected {what} names, got the text {wanted!r}")
    chosen = set(wanted)
    if unknown := sorted(chosen.difference(every)):
        raise ValueError(f"unknown {what} name(s): {', '.join(unknown)}")
    return tuple(name for name in every if name in chosen)


def _summaries(
    points, overall, samples, sampled_overall, resampling, labels, left_out, counted, names
) -> list[Disparity]:
    """The disparity summaries ``names`` (in :data:`DISPARITIES`' order) over the groups
    ``counted(used)`` keeps for each, with the groups behind each value and intervals where resampled
    (the same groups in every resample)."""
    out = []
    for name in names:
        label, description, used, _ = DISPARITIES[name]
        excluded = left_out(used)
        keep = counted(used)
        kept = _masked(points, dict.fromkeys(points, keep))
        values = disparity_values(kept, overall, [name])
        drawn = (
            disparity_values(_masked(samples, dict.fromkeys(samples, keep)), sampled_overall, [name]) if samples else {}
        )
        for method in METHODS:
            value = float(values[name, method])
            defined = np.isfinite(value)
            behind = defining_groups(kept, overall, name, method) if defined else None
            interval = percentile_interval(drawn[name, method], resampling, CELL_METHOD) if drawn and defined else None
            note = None
            if not defined:
                note = "undefined: fewer than two groups have a defined rate, or a ratio's denominator is zero"
            elif interval is not None and interval.low is not None and not interval.low <= value <= interval.high:
                # a worst-case gap (the largest of several, or |a − b|) is biased away from 0 in
                # resamples when the groups are close: the percentile interval can miss the value
                note = GAP_INTERVAL_NOTE
            out.append(
                Disparity(
                    name=name,
                    label=label,
                    method=method,
                    value=value if defined else None,
                    note=note,
                    interval=interval,
                    description=description,
                    rate=behind[0] if behind else None,
                    rate_label=RATE_NAMES[behind[0]] if behind else None,
                    groups=[labels[i] for i in behind[1]] if behind else [],
                    group_rates=behind[2] if behind else [],
                    excluded=excluded,
                )
            )
    return out


def regression_statistics(
    codes: np.ndarray, groups: int, y_true: np.ndarray, y_pred: np.ndarray, resampling: Resampling
) -> GroupStatistics:
    """Intervals of each group's mean label, mean prediction, mean error, MAE and RMSE (rows resampled)."""
    stats = GroupStatistics(group_intervals=[{} for _ in range(groups)])
    if not resampling.enabled or len(codes) == 0:
        return stats
    y = np.asarray(y_true, dtype=float)
    yhat = np.asarray(y_pred, dtype=float)
    error = yhat - y
    codes = np.asarray(codes, dtype=np.int64)
    columns = groups + 1  # the last column is "all rows"

    def sums(values: np.ndarray | None, draws: np.ndarray) -> np.ndarray:
        """(batch, groups + 1): per resample, the sum of ``values`` (or the count) over each group's drawn rows."""
        batch = len(draws)
        picked = (codes[draws] + (np.arange(batch, dtype=np.int64) * columns)[:, None]).ravel()
        weights = None if values is None else values[draws].ravel()
        out = np.bincount(picked, weights=weights, minlength=batch * columns).reshape(batch, columns)
        out[:, groups] = out[:, :groups].sum(axis=1)
        return out

    collected: dict[str, list[np.ndarray]] = {
        key: [] for key in ("mean_label", "mean_prediction", "mean_error", "mae", "rmse")
    }
    for draws in row_draws(len(codes), resampling):
        size = sums(None, draws)
        with np.errstate(over="ignore", invalid="ignore"):  # values near the float limit give inf: undefined
            collected["mean_label"].append(safe_divide(sums(y, draws), size))
            collected["mean_prediction"].append(safe_divide(sums(yhat, draws), size))
            collected["mean_error"].append(safe_divide(sums(error, draws), size))
            collected["mae"].append(safe_divide(sums(np.abs(error), draws), size))
            collected["rmse"].append(np.sqrt(safe_divide(sums(error**2, draws), size)))
    for key, parts in collected.items():
        values = stats.samples[key] = np.concatenate(parts)
        for index in range(groups):
            stats.group_intervals[index][key] = percentile_interval(values[:, index], resampling, ROW_METHOD)
        stats.overall_intervals[key] = percentile_interval(values[:, groups], resampling, ROW_METHOD)
    return stats
