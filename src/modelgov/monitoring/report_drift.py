"""The drift part of a monitoring report: each compared column planned on the reference, each
window's aggregates tested against it, and the latest window's distributions beside the reference's.

:mod:`.report` runs the report; this module holds what it does column by column. A column's kind and
test are fixed once, on the reference (:func:`plan_column`); the scan counts each numeric column on
the union of the edges every baseline needs (:func:`scan_plans`: one scan serves each period of a
seasonal reference), and each window is tested on its own baseline's edges (:func:`window_drift`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from modelgov import manifest
from modelgov.monitoring import drift as drift_tests
from modelgov.monitoring.aggregates import (
    CategoricalAggregate,
    CategoricalPlan,
    NumericAggregate,
    NumericPlan,
    WindowAggregate,
    coarsen,
)
from modelgov.monitoring.reference import (
    Kind,
    ReferenceProfile,
    canonical_text,
    kind_mismatch,
    kind_reason,
    not_numbers,
    profile_reference,
)
from modelgov.monitoring.reference_columns import ReadColumn
from modelgov.monitoring.report_inputs import PREDICTION, Reference
from modelgov.monitoring.seasonal import Seasonal


@dataclass(frozen=True)
class Baseline:
    """What a window is compared with: each compared column's profile and plan, from every reference
    row, or (seasonal reference) from the rows of one period."""

    period: str | None  # "March", "Q1"; None: the whole reference
    rows: int
    profiles: dict[str, ReferenceProfile] = field(default_factory=dict)
    plans: dict[str, drift_tests.FeaturePlan] = field(default_factory=dict)


def plan_column(
    feature: str,
    values: pd.Series,
    column: str,
    log_column: str,
    declared: Kind | None,
    method: str | None,
    threshold: float | None,
    reference: Reference,
    *,
    read: ReadColumn | None = None,
) -> tuple[ReferenceProfile, drift_tests.FeaturePlan]:
    """Profile one reference column in the kind the workspace declared (else the inferred one) and plan
    its test. A kind the data or the method contradicts is reported with the reference's file and
    the key that asked for it (the loader reports the same with its line, where it could read the
    reference). ``read``: ``values`` as :func:`.reference_columns.read_ahead` gave them, with the
    kind it found and the values it sorted."""
    where = reference.file.path if reference.file else f"the reference window starting {reference.name}"
    key = f"monitoring.drift.features.{feature}.kind"
    if declared == "numeric" and (why := not_numbers(values)) is not None:
        raise ValueError(
            f"{key} declares {feature!r} numeric, but column {column!r} of {where} holds {why}; "
            "declare it categorical, or correct the data"
        )
    if read is not None:
        assert read.values is values
        profile = profile_reference(values, read.kind, column=log_column, ordered=read.ordered)
    else:
        profile = profile_reference(values, declared, column=log_column)
    if (mismatch := kind_mismatch(method, profile.kind, declarable=feature != PREDICTION)) is not None:
        label = f"the model's output {column!r}" if feature == PREDICTION else f"feature {feature!r}"
        origin = f"as {key} declares" if declared else f"as inferred from {where} ({kind_reason(values)})"
        raise ValueError(f"monitoring.drift: {label} is categorical {origin}; {mismatch}")
    return profile, drift_tests.plan_feature(profile, kind=declared, method=method, threshold=threshold)


def drifting_since(windows: list[manifest.DriftWindow]) -> str | None:
    """Start of the unbroken run of drifted windows that reaches the latest window with records
    (empty windows neither break nor start it); None when the latest window did not drift.

    A single drifted window weeks ago followed by calm ones is noise a reviewer can see in the
    heatmap; "drifting since" answers the question that matters: is it drifting now, and since when.
    """
    filled = [w for w in windows if w.rows > 0]
    if not filled or not filled[-1].drifted:
        return None
    start = filled[-1]
    for window in reversed(filled):
        if not window.drifted:
            break
        start = window
    return start.start


def scan_plans(
    plans: dict[str, drift_tests.FeaturePlan], each: Iterable[dict[str, drift_tests.FeaturePlan]]
) -> dict[str, NumericPlan | CategoricalPlan]:
    """Column → what the scan counts: for a numeric column, the union of the edges every baseline
    plans for it (one scan serves each period of a seasonal reference; :func:`.aggregates.coarsen`
    gives each its own cells back)."""
    scanned: dict[str, NumericPlan | CategoricalPlan] = {}
    for feature, plan in plans.items():
        if plan.kind == "categorical":
            scanned[plan.column] = CategoricalPlan(plan.column)
            continue
        edges = [p[feature].aggregate.edges for p in each if feature in p]  # type: ignore[union-attr]
        union = np.unique(np.concatenate(edges)) if edges else np.empty(0)
        scanned[plan.column] = NumericPlan(plan.column, union.astype("float64"))
    return scanned


def _aggregate(
    plan: drift_tests.FeaturePlan, window: WindowAggregate, scanned: NumericPlan | CategoricalPlan
) -> NumericAggregate | CategoricalAggregate:
    """The window's aggregate of ``plan``'s column, on ``plan``'s own edges."""
    column = plan.column
    if plan.kind == "categorical":
        return window.categorical.get(column) or CategoricalAggregate(missing=0)
    found = window.numeric.get(column)
    if found is None:  # an empty window carries no aggregates
        return _empty(plan)
    assert isinstance(scanned, NumericPlan) and isinstance(plan.aggregate, NumericPlan)
    return coarsen(found, scanned.edges, plan.aggregate.edges)


def window_drift(
    baseline: Baseline,
    feature: str,
    whole: drift_tests.FeaturePlan,
    window: WindowAggregate,
    scanned: NumericPlan | CategoricalPlan,
) -> drift_tests.FeatureDrift:
    plan = baseline.plans.get(feature)
    if plan is None:  # a seasonal reference without rows in this window's period: no verdict
        found = (window.numeric if whole.kind == "numeric" else window.categorical).get(whole.column)
        count, missing = (found.count, found.missing) if found is not None else (0, 0)
        return drift_tests.FeatureDrift(
            feature=whole.column,
            kind=whole.kind,
            method=whole.method,
            statistic=None,
            p_value=None,
            threshold=whole.threshold or drift_tests.DEFAULT_THRESHOLDS[whole.method],
            drifted=False,
            count=count,
            evaluated=False,
            missing_rate=missing / (count + missing) if count + missing else None,
            note=f"undefined: the reference has no rows in {baseline.period}",
        )
    return drift_tests.feature_drift(plan, baseline.profiles[feature], _aggregate(plan, window, scanned))


def reference_times(reference: Reference, seasonal: Seasonal | None) -> pd.Series | None:
    """Each reference row's time, when the table has a time column; a seasonal reference needs one
    for every row."""
    if reference.times is None:
        if seasonal:
            raise ValueError(
                f"{reference.where}: a seasonal reference needs each row's time; name its column with "
                "monitoring.reference.timestamp"
            )
        return None
    times = reference.times()
    if times is not None and seasonal and times.isna().any():
        empty = np.flatnonzero(times.isna().to_numpy())
        raise ValueError(
            f"{reference.where}: column {reference.timestamp!r} is empty on {len(empty):,} row(s) (the first: row "
            f"{empty[0] + 1}); a seasonal reference places every row in its {seasonal}"
        )
    return times


def latest_distributions(
    features: list[str],
    baseline: Baseline,
    window: WindowAggregate,
    scanned: dict[str, NumericPlan | CategoricalPlan],
) -> list[manifest.Distribution]:
    """Reference against the latest window with records, feature by feature (none when a seasonal
    reference has no rows in its period)."""
    out = []
    for feature in features:
        plan = baseline.plans.get(feature)
        if plan is None:
            continue
        aggregate = _aggregate(plan, window, scanned[plan.column])
        out.append(_distribution(feature, plan, baseline.profiles[feature], aggregate))
    return out


def _empty(plan: drift_tests.FeaturePlan) -> NumericAggregate | CategoricalAggregate:
    if plan.kind == "categorical":
        return CategoricalAggregate(missing=0)
    edges = plan.aggregate.edges  # type: ignore[union-attr]
    return NumericAggregate(
        missing=0,
        between=np.zeros(len(edges) + 1, dtype=np.int64),
        at=np.zeros(len(edges), dtype=np.int64),
        between_sum=np.zeros(len(edges) + 1),
    )


def to_manifest(result: drift_tests.FeatureDrift, name: str | None = None) -> manifest.FeatureDrift:
    return manifest.FeatureDrift(
        feature=name or result.feature,
        kind=result.kind,
        method=result.method,
        statistic=result.score,
        threshold=result.threshold,
        drifted=result.drifted,
        rows=result.count,
        missing_rate=result.missing_rate,
        psi=result.psi,
        psi_band=result.psi_band,
        range_violations=result.range_violations,
        new_categories=dict(result.new_categories),
        note=result.note,
        kind_source="declared" if result.kind_declared else "inferred",
    )


def _distribution(
    feature: str,
    plan: drift_tests.FeaturePlan,
    profile: ReferenceProfile,
    aggregate: NumericAggregate | CategoricalAggregate,
) -> manifest.Distribution:
    """Reference against the latest window: reference deciles for numeric features, values otherwise."""
    if isinstance(aggregate, CategoricalAggregate):
        current: dict[str, int] = {}
        for text, rows in aggregate.counts.items():
            key = canonical_text(str(text), profile.numeric_keys)
            current[key] = current.get(key, 0) + int(rows)
        keys = sorted(set(profile.categories) | set(current))
        ref_total = sum(profile.categories.values()) or 1
        cur_total = sum(current.values()) or 1
        return manifest.Distribution(
            feature=feature,
            kind="categorical",
            bins=keys,
            reference_share=[profile.categories.get(k, 0) / ref_total for k in keys],
            current_share=[current.get(k, 0) / cur_total for k in keys],
        )
    edges = plan.aggregate.edges  # type: ignore[union-attr]
    deciles = profile.deciles
    ref_cum = np.searchsorted(profile.values, deciles, side="right")
    at_or_below = np.cumsum(aggregate.between[:-1]) + np.cumsum(aggregate.at)  # values <= edges[i]
    cur_cum = at_or_below[np.searchsorted(edges, deciles)]
    ref_counts = np.diff(np.concatenate([[0], ref_cum, [len(profile.values)]]))
    cur_counts = np.diff(np.concatenate([[0], cur_cum, [aggregate.count]]))
    bounds = [profile.minimum, *deciles.tolist(), profile.maximum]
    labels = [f"{_short(a)} – {_short(b)}" for a, b in itertools.pairwise(bounds)]
    return manifest.Distribution(
        feature=feature,
        kind="numeric",
        bins=labels,
        reference_share=(ref_counts / max(len(profile.values), 1)).tolist(),
        current_share=(cur_counts / max(aggregate.count, 1)).tolist(),
    )


def _short(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
