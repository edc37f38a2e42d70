"""A shadow test's report: the scan's counts (:mod:`.shadow_scan`) as statements with intervals.

Per window, overall and per group: agreement (Wilson), the change in the positive-decision rate
(Newcombe's paired interval, McNemar's mid-p test) and in the mean score (paired t). Between groups:
the gap in decision-change rates between the groups changed most and least (Newcombe's hybrid
interval for independent groups, and the same at the Bonferroni level over every pair of groups,
since the pair is picked as the extreme one; small groups left out as the evaluation leaves them out
of disparities). On the labelled requests: paired deltas of accuracy, recall, false positive rate and
precision with percentile intervals from a multinomial bootstrap of the 2 × 2 × 2 table (the
project's cell-count bootstrap, :func:`~modelgov.analysis.resampling.cell_counts`), McNemar's mid-p
test for accuracy, and DeLong's test for ROC AUC.

Why DeLong and not the paired row bootstrap the evaluation comparison uses: a bootstrap of ROC AUC
resamples rows, so it needs every labelled request's two scores in memory, while DeLong's variance
needs only the means, variances and covariance of each request's ranking components, which DuckDB
computes out of core; on the large samples a shadow log gives, the two agree (a test checks it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from modelgov import manifest
from modelgov.analysis import paired_tests as pt
from modelgov.analysis.resampling import Resampling, cell_counts, percentile_interval, safe_divide
from modelgov.feature_names import MAX_GROUPS

from .shadow_scan import Cells, ShadowScan

WILSON = "Wilson score interval"
NEWCOMBE_PAIRED = "Newcombe's score interval for paired proportions (method 10)"
NEWCOMBE_INDEPENDENT = "Newcombe's hybrid score interval for independent proportions"
PAIRED_T = "Student's t interval of the paired differences"
DELONG = "DeLong's paired test (normal interval)"
CELL_BOOTSTRAP = "paired percentile bootstrap over the labelled requests (multinomial draw of outcome × decisions)"


@dataclass(frozen=True)
class ShadowSettings:
    champion: str
    window_label: str
    positive_label: object
    decided_by: dict[str, str]
    level: float
    min_group_size: int
    exclude_small_groups: bool
    resampling: Resampling
    logs: list[manifest.FileRef]


def _interval(bounds: tuple[float, float] | None, level: float, method: str) -> manifest.Interval | None:
    if bounds is None:
        return None
    return manifest.Interval(low=float(bounds[0]), high=float(bounds[1]), level=level, resamples=0, method=method)


def comparison_fields(cells: Cells, level: float, min_group_size: int) -> dict:
    """One grouping's :class:`~modelgov.manifest.ShadowComparison` fields."""
    n = cells.decided
    a, b, c = cells.both_positive, cells.challenger_only, cells.champion_only
    d = n - a - b - c
    agree = n - b - c
    out: dict = {
        "requests": cells.requests,
        "decided": n,
        "both_positive": a,
        "challenger_only": b,
        "champion_only": c,
        "scored": cells.scored,
        "labelled": cells.labelled,
        "small": n < min_group_size,
    }
    if n:
        out |= {
            "agreement": agree / n,
            "agreement_interval": _interval(pt.wilson(agree, n, level), level, WILSON),
            "champion_rate": (a + c) / n,
            "challenger_rate": (a + b) / n,
            "decision_rate_delta": (b - c) / n,
            "decision_rate_delta_interval": _interval(pt.newcombe_paired(a, b, c, d, level), level, NEWCOMBE_PAIRED),
            "decision_rate_p": pt.mcnemar_mid_p(b, c),
        }
    if cells.scored:
        out |= {
            "champion_mean_score": cells.champion_mean,
            "challenger_mean_score": cells.challenger_mean,
            "mean_score_delta": cells.diff_mean,
            "mean_score_delta_interval": _interval(
                pt.paired_t(cells.scored, cells.diff_mean, cells.diff_var, level), level, PAIRED_T
            ),
        }
    return out


def _feature(feature: str, groups: dict[str, Cells], settings: ShadowSettings) -> manifest.ShadowFeature:
    level = settings.level
    rows = [
        manifest.ShadowGroup(group=name, **comparison_fields(cells, level, settings.min_group_size))
        for name, cells in sorted(groups.items(), key=lambda item: (-item[1].decided, item[0]))
    ]
    eligible = [g for g in rows if g.decided and not (g.small and settings.exclude_small_groups)]
    if len(eligible) < 2:
        small = [g.group for g in rows if g.small]
        note = "fewer than two groups with decisions"
        if small and settings.exclude_small_groups:
            note = (
                f"fewer than two groups of at least {settings.min_group_size:,} decided requests "
                f"({', '.join(small)} too small)"
            )
        return manifest.ShadowFeature(feature=feature, groups=rows, note=note)
    high = max(eligible, key=lambda g: (g.change_rate, g.group))
    low = min(eligible, key=lambda g: (g.change_rate, g.group))
    changes = {g.group: g.challenger_only + g.champion_only for g in eligible}
    bounds = pt.newcombe_independent(changes[high.group], high.decided, changes[low.group], low.decided, level)
    # the pair is the most extreme of every pair of groups, so its own 95 % interval excludes zero by
    # chance more often than one time in twenty; the interval that covers all pairs at once does not
    pairs = len(eligible) * (len(eligible) - 1) // 2
    joint_level = 1 - (1 - level) / pairs
    joint = pt.newcombe_independent(changes[high.group], high.decided, changes[low.group], low.decided, joint_level)
    joint_interval = _interval(joint, level, f"{NEWCOMBE_INDEPENDENT}, Bonferroni over {pairs} pairs of groups")
    gap = manifest.ShadowGap(
        high_group=high.group,
        low_group=low.group,
        high_rate=float(high.change_rate),  # type: ignore[arg-type]
        low_rate=float(low.change_rate),  # type: ignore[arg-type]
        value=float(high.change_rate - low.change_rate),  # type: ignore[operator]
        interval=_interval(bounds, level, NEWCOMBE_INDEPENDENT),
        pairs=pairs,
        joint_interval=joint_interval,
    )
    return manifest.ShadowFeature(feature=feature, groups=rows, max_change_gap=gap)


def _side_cells(t: np.ndarray, side: str) -> tuple[np.ndarray, ...]:
    """(tp, fp, fn, tn) of one side from tables shaped (..., outcome, champion, challenger)."""
    # summing out the other side leaves (..., outcome, this side's decision)
    by = t.sum(axis=-1) if side == "champion" else t.sum(axis=-2)
    return by[..., 1, 1], by[..., 0, 1], by[..., 1, 0], by[..., 0, 0]


#: name → (label, higher is better, metric from (tp, fp, fn, tn))
METRICS: dict[str, tuple[str, bool, Callable[..., np.ndarray]]] = {
    "accuracy": ("Accuracy", True, lambda tp, fp, fn, tn: safe_divide(tp + tn, tp + fp + fn + tn)),
    "recall": ("Recall (true positive rate)", True, lambda tp, fp, fn, tn: safe_divide(tp, tp + fn)),
    "false_positive_rate": ("False positive rate", False, lambda tp, fp, fn, tn: safe_divide(fp, fp + tn)),
    "precision": ("Precision", True, lambda tp, fp, fn, tn: safe_divide(tp, tp + fp)),
}


def metric_values(t: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """name → (champion, challenger) for tables shaped (..., 2, 2, 2)."""
    champion, challenger = _side_cells(t, "champion"), _side_cells(t, "challenger")
    return {name: (fn(*champion), fn(*challenger)) for name, (_, _, fn) in METRICS.items()}


def _finite(value) -> float | None:
    value = float(value)
    return value if np.isfinite(value) else None


def outcome_deltas(
    cells: Cells, delong: pt.DelongComponents | None, resampling: Resampling, windows: list[str]
) -> manifest.ShadowOutcomes | None:
    """Paired metric deltas on the labelled requests; None before any outcome arrives."""
    table = cells.outcomes
    labelled = int(table.sum())
    if labelled == 0:
        return None
    points = metric_values(table.astype(float))
    samples = metric_values(cell_counts(table, resampling)) if resampling.enabled else None
    b = int(table[1, 0, 1] + table[0, 1, 0])  # challenger right, champion wrong
    c = int(table[1, 1, 0] + table[0, 0, 1])
    metrics = []
    for name, (label, higher, _) in METRICS.items():
        champion, challenger = (_finite(v) for v in points[name])
        delta = None if champion is None or challenger is None else challenger - champion
        interval = None
        if samples is not None and delta is not None:
            drawn = samples[name][1] - samples[name][0]
            interval = percentile_interval(drawn, resampling, CELL_BOOTSTRAP)
        p_value, test = (pt.mcnemar_mid_p(b, c), "McNemar mid-p") if name == "accuracy" else (None, None)
        metrics.append(
            manifest.ShadowMetricDelta(
                name=name,
                label=label,
                champion=champion,
                challenger=challenger,
                delta=delta,
                interval=interval,
                p_value=p_value,
                test=test,
                higher_is_better=higher,
            )
        )
    result = pt.delong(delong, resampling.level) if delong is not None else None
    if result is not None:
        metrics.append(
            manifest.ShadowMetricDelta(
                name="roc_auc",
                label="ROC AUC",
                champion=result.auc_a,
                challenger=result.auc_b,
                delta=result.delta,
                interval=_interval(result.interval, resampling.level, DELONG),
                p_value=result.p_value,
                test="DeLong",
            )
        )
    return manifest.ShadowOutcomes(
        labelled=labelled,
        positives=int(table[1].sum()),
        challenger_right_champion_wrong=b,
        champion_right_challenger_wrong=c,
        metrics=metrics,
        windows=windows,
    )


def shadow_report(scan: ShadowScan, settings: ShadowSettings) -> manifest.ShadowReport:
    level, size = settings.level, settings.min_group_size
    windows = [
        manifest.ShadowWindow(
            start=w.start.isoformat(), end=w.end.isoformat(), **comparison_fields(w.cells, level, size)
        )
        for w in scan.windows
    ]
    features = [_feature(name, groups, settings) for name, groups in scan.groups.items()]
    features += [
        manifest.ShadowFeature(feature=name, note=f"more than {MAX_GROUPS} distinct values: not a grouping column")
        for name in scan.too_many_groups
    ]
    labelled_windows = [w.start for w in windows if w.labelled]
    return manifest.ShadowReport(
        champion=settings.champion,
        logs=settings.logs,
        window=settings.window_label,
        positive_label=str(settings.positive_label),
        decided_by=settings.decided_by,
        level=level,
        min_group_size=size,
        unmatched=scan.unmatched,
        overall=manifest.ShadowComparison(**comparison_fields(scan.overall, level, size)),
        windows=windows,
        features=features,
        outcomes=outcome_deltas(scan.overall, scan.delong, settings.resampling, labelled_windows),
    )
