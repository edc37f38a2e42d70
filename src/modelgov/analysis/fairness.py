"""Per-group metrics for each sensitive feature and intersection.

Classification rates come from the per-group confusion counts (:mod:`.disparity`): the same
numbers as fairlearn's ``MetricFrame`` (the tests check it, on COMPAS and Adult too) at a fraction
of the cost — MetricFrame took 18.7 s for eight rates on 1M rows here, the counts take well under
a second (docs/performance.md). Regression errors need the rows and use ``MetricFrame``.

Two deliberate departures from fairlearn's defaults, both so a page never shows a misleading number:

* fairlearn raises on missing sensitive values; here they form their own group, ``(missing)``,
  because dropping them would hide exactly the records a reviewer should ask about;
* fairlearn's rate metrics return 0.0 when a rate is undefined (TPR of a group with no positives);
  here the result stores ``None`` ("undefined").

Groups smaller than ``min_group_size`` are kept and flagged ``small``, never dropped; each rate
also records the people it rests on (its denominator) and is flagged ``few`` below the minimum,
and the disparity summaries leave such groups out by default (:mod:`.disparity`). A group the
card expects but the data lacks is listed as ``absent``. Intersections (``sex × age_band``) are
groups of combined values; combinations that never occur are simply not groups.

Intervals and disparity summaries come from :mod:`.disparity`, which works on confusion counts.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, count

from modelgov.analysis import disparity
from modelgov.analysis.regression_gaps import regression_gaps
from modelgov.analysis.resampling import DEFAULT_RESAMPLING, Resampling
from modelgov.feature_names import INTERSECTION, page_name
from modelgov.manifest import FairnessResult, GroupComparison, GroupMetrics

MISSING_GROUP = "(missing)"

Array = np.ndarray


def mean_label(y_true: Array, y_pred: Array) -> float:
    return float(np.mean(y_true))


def mean_prediction(y_true: Array, y_pred: Array) -> float:
    return float(np.mean(y_pred))


def mean_error(y_true: Array, y_pred: Array) -> float:
    return float(np.mean(np.asarray(y_pred) - np.asarray(y_true)))


def mean_absolute_error(y_true: Array, y_pred: Array) -> float:
    return float(np.mean(np.abs(np.asarray(y_pred) - np.asarray(y_true))))


def root_mean_squared_error(y_true: Array, y_pred: Array) -> float:
    return float(np.sqrt(np.mean((np.asarray(y_pred) - np.asarray(y_true)) ** 2)))


#: key → (label, description), in display order; computed from confusion counts (:mod:`.disparity`).
CLASSIFICATION_GROUP_METRICS: dict[str, tuple[str, str]] = {
    "base_rate": ("Base rate (actual positives)", "Share of the group that is truly positive."),
    "selection_rate": ("Selection rate (predicted positives)", "Share of the group the model flags as positive."),
    "accuracy": ("Accuracy", "Share of the group's cases the model gets right."),
    "tpr": ("True positive rate", "Of the group's truly positive cases, the share the model flags."),
    "fpr": ("False positive rate", "Of the group's truly negative cases, the share the model wrongly flags."),
    "fnr": ("False negative rate", "Of the group's truly positive cases, the share the model misses."),
    "precision": ("Precision", "Of the group's cases the model flags, the share that really are positive."),
}
#: key → (label, callable for MetricFrame, description), in display order.
REGRESSION_GROUP_METRICS: dict[str, tuple[str, Callable[[Array, Array], float], str]] = {
    "mean_label": ("Mean actual value", mean_label, "Average of the true target in the group."),
    "mean_prediction": ("Mean predicted value", mean_prediction, "Average of the model's predictions in the group."),
    "mean_error": (
        "Mean error (prediction − actual)",
        mean_error,
        "Which way the model errs in the group: below 0 it predicts too low for it, on average.",
    ),
    "mae": ("Mean absolute error", mean_absolute_error, "Average size of the error in the group."),
    "rmse": (
        "Root mean squared error",
        root_mean_squared_error,
        "Typical size of the error in the group; large errors weigh more than in MAE.",
    ),
}


def _label(value: object) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def group_labels(values: pd.Series) -> pd.Series:
    """Sensitive values as display strings; missing values become :data:`MISSING_GROUP`.

    Whole-number floats (``2.0``, common after a CSV round-trip with gaps) are shown as ``2``.
    Only the distinct values are formatted, so a million rows cost one factorisation.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    names = np.array([_label(v) for v in uniques] + [MISSING_GROUP], dtype=object)
    return pd.Series(names[codes], index=values.index, name=values.name, dtype=object)


def combined_labels(frame: pd.DataFrame, features: list[str]) -> pd.Series:
    """One label per row for an intersection, e.g. ``F × 30-44`` (missing parts stay visible). A value
    that itself holds `` × `` is quoted (``"F × 18-29" × 30-44``): joined bare, it and the value beside
    it could spell another pair's label, and two groups of people would be measured as one."""
    parts = [_unambiguous(group_labels(frame[feature].reset_index(drop=True))) for feature in features]
    combined = parts[0]
    for part in parts[1:]:
        combined = combined + INTERSECTION + part
    return combined.rename(page_name(features))


def _unambiguous(labels: pd.Series) -> pd.Series:
    joined = labels.str.contains(INTERSECTION, regex=False)
    if not joined.any():
        return labels
    quoted = '"' + labels.str.replace("\\", "\\\\", regex=False).str.replace('"', '\\"', regex=False) + '"'
    return labels.where(~joined, quoted)


def fairness_by_group(
    feature: str,
    sensitive: pd.Series,
    y_true: Array,
    y_pred: Array,
    *,
    classification: bool,
    min_group_size: int,
    features: list[str] | None = None,
    expected_groups: list[str] | None = None,
    exclude_small_groups: bool = True,
    reference_group: str | None = None,
    pairs: list[tuple[str, str]] | None = None,
    resampling: Resampling = DEFAULT_RESAMPLING,
) -> FairnessResult:
    """Per-group metrics of one sensitive feature or intersection (classification: 0/1 arrays).

    ``sensitive`` holds the raw values of a single feature, or the labels from
    :func:`combined_labels` for an intersection (then ``features`` names its parts).
    ``reference_group`` and ``pairs`` name groups to compare directly (classification only).
    """
    features = features or [feature]
    groups = sensitive.reset_index(drop=True)
    if len(features) == 1:
        groups = group_labels(groups)
    ordered = sorted(pd.unique(groups), key=_group_order)
    codes = pd.Categorical(groups, categories=ordered).codes.astype(np.int64)
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    sizes = np.bincount(codes, minlength=len(ordered))
    wanted = _named_pairs(reference_group, pairs or [], ordered, sizes)
    if classification:
        rules = disparity.SummaryRules(
            min_size=min_group_size,
            exclude_small=exclude_small_groups,
            pairs=tuple((ordered.index(a), ordered.index(b)) for a, b in wanted if a in ordered and b in ordered),
        )
        point, overall, stats, spec = _classification(codes, ordered, y_true, y_pred, resampling, rules)
    else:
        point, overall, stats, spec = _regression(groups.rename(feature), codes, ordered, y_true, y_pred, resampling)
        # a regression model's summaries of its groups, the same as fairness in production reports
        rules = disparity.SummaryRules(min_size=min_group_size, exclude_small=exclude_small_groups)
        sizes = point["count"].astype(int)
        labels = [str(g) for g in ordered]
        stats.disparities = regression_gaps(labels, sizes, point, stats.samples, rules, resampling, unit="rows")

    rows = []
    for index, group in enumerate(ordered):
        n = int(point["count"][index])
        rows.append(
            GroupMetrics(
                group=str(group),
                count=n,
                small=n < min_group_size,
                denominators=stats.denominators[index] if stats.denominators else {key: n for key in spec},
                few=stats.few[index] if stats.few else ([*spec] if n < min_group_size else []),
                metrics={key: _finite(point[key][index]) for key in spec},
                intervals=stats.group_intervals[index],
                values=_parts(str(group), features),
            )
        )
    for group in expected_groups or []:
        if group not in ordered:
            rows.append(
                GroupMetrics(group=group, count=0, small=True, absent=True, metrics={key: None for key in spec})
            )
    return FairnessResult(
        feature=feature,
        features=features,
        metric_labels={key: entry[0] for key, entry in spec.items()},
        metric_descriptions={key: entry[-1] for key, entry in spec.items()},
        overall={"count": float(len(y_true)), **{key: _finite(overall[key]) for key in spec}},
        overall_intervals=stats.overall_intervals,
        groups=rows,
        min_group_size=min_group_size,
        exclude_small_groups=exclude_small_groups,
        disparities=stats.disparities,
        comparisons=_in_order(wanted, stats.comparisons, ordered),
    )


#: Groups compared with a reference group at most (the largest); the rest are counted in a note.
MAX_REFERENCE_PAIRS = 50


def _named_pairs(
    reference: str | None, pairs: list[tuple[str, str]], present: list, sizes: np.ndarray
) -> list[tuple[str, str]]:
    """(group, reference) pairs to compare: present groups against ``reference`` (the
    :data:`MAX_REFERENCE_PAIRS` largest, in the groups' order), then the named pairs, each once.
    Groups are matched by their displayed label."""
    wanted: list[tuple[str, str]] = []
    if reference is not None:
        others = [
            (int(n), i) for i, (group, n) in enumerate(zip(present, sizes, strict=True)) if str(group) != reference
        ]
        largest = sorted(i for _, i in sorted(others, key=lambda item: -item[0])[:MAX_REFERENCE_PAIRS])
        wanted += [(str(present[i]), reference) for i in largest]
        if len(others) > MAX_REFERENCE_PAIRS:
            wanted.append((f"({len(others) - MAX_REFERENCE_PAIRS:,} smaller groups)", reference))
        if reference not in present:
            wanted = [("(every group)", reference)]
    for pair in pairs:
        if (pair[0], pair[1]) not in wanted:
            wanted.append((pair[0], pair[1]))
    return wanted


def _in_order(wanted: list[tuple[str, str]], computed: list[GroupComparison], present: list) -> list[GroupComparison]:
    """The computed comparisons in the order asked for, with a note for each pair naming a group
    the data lacks (never silently dropped)."""
    by_pair = {(c.group, c.reference): c for c in computed}
    out = []
    for group, reference in wanted:
        if (group, reference) in by_pair:
            out.append(by_pair[group, reference])
            continue
        if group.startswith("(") and group.endswith("smaller groups)"):
            out.append(
                GroupComparison(
                    group=group,
                    reference=reference,
                    disparities=[],
                    note=f"not compared: only the {MAX_REFERENCE_PAIRS} largest groups are compared with a reference "
                    "group; name the pairs that matter in `pairs`",
                )
            )
            continue
        missing = [name for name in (group, reference) if name not in present and name != "(every group)"]
        out.append(
            GroupComparison(
                group=group,
                reference=reference,
                disparities=[],
                note=f"not compared: {' and '.join(repr(m) for m in missing)} "
                f"{'is' if len(missing) == 1 else 'are'} not a group in this evaluation data"
                if missing
                else "not compared: comparisons need a binary classification",
            )
        )
    return out


def _classification(
    codes: Array, ordered: list, y_true: Array, y_pred: Array, resampling: Resampling, rules: disparity.SummaryRules
):
    """Every rate from the (group × confusion cell) counts: exact, and fast at any row count."""
    cells = disparity.confusion_cells(codes, len(ordered), y_true, y_pred)
    point = {**disparity.rates(cells), "count": cells.sum(axis=1)}
    overall = {key: values[0] for key, values in disparity.rates(cells.sum(axis=0, keepdims=True)).items()}
    stats = disparity.classification_statistics(cells, resampling, [str(g) for g in ordered], rules)
    return point, overall, stats, CLASSIFICATION_GROUP_METRICS


def _regression(groups: pd.Series, codes: Array, ordered: list, y_true: Array, y_pred: Array, resampling: Resampling):
    """Error metrics per group with fairlearn's MetricFrame (they need the rows, not counts)."""
    spec = REGRESSION_GROUP_METRICS
    frame = MetricFrame(
        metrics={"count": count, **{key: fn for key, (_, fn, _) in spec.items()}},
        y_true=y_true,
        y_pred=y_pred,
        sensitive_features=groups,
    )
    by_group = frame.by_group.loc[ordered]
    point = {key: by_group[key].to_numpy(dtype=float) for key in ["count", *spec]}
    overall = {key: float(frame.overall[key]) for key in spec}
    stats = disparity.regression_statistics(codes, len(ordered), y_true, y_pred, resampling)
    return point, overall, stats, spec


def _parts(label: str, features: list[str]) -> dict[str, str]:
    """An intersection group's value of each feature; empty when a value itself contains " × " and
    the label cannot be split unambiguously (the page then shows the whole label)."""
    parts = label.split(INTERSECTION)
    return dict(zip(features, parts, strict=True)) if len(features) > 1 and len(parts) == len(features) else {}


def _group_order(group: str) -> tuple:
    """Numbers in numeric order (2 before 10), missing values last, everything else as text. A label
    that reads as NaN ("NAN", "+nan") is text: NaN compares with nothing, and a sort key holding it
    would leave the order to the order the groups were met in, which a set makes vary between runs."""
    try:
        number = float(group)
    except ValueError:
        return (MISSING_GROUP in group, 1, 0.0, group)
    if math.isnan(number):
        return (MISSING_GROUP in group, 1, 0.0, group)
    return (MISSING_GROUP in group, 0, number, group)


def _finite(value: object) -> float | None:
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None
