"""Drift of one feature (or the score) in one window against the reference, from window aggregates.

Users know drift from Evidently, so the default test, its threshold and the direction of the
comparison are Evidently's, verified in the source of evidently 0.7.23 (not its documentation):

* ``legacy/calculations/stattests/registry.py`` lines 137–160, ``_get_default_stattest``. With
  ``n_values = pd.concat([reference_data, current_data]).nunique()`` (distinct non-missing values of
  reference *and* window together) and the reference's non-missing row count:

  =====================  ===========================================  ================================
  reference rows         numeric                                      categorical
  =====================  ===========================================  ================================
  ≤ 1000                 ``n_values`` > 5: KS; 3–5: chi-square;       > 2: chi-square; ≤ 2: z-test
                         ≤ 2: z-test
  > 1000                 ``n_values`` > 5: Wasserstein / std(ref);    Jensen–Shannon
                         ≤ 5: Jensen–Shannon
  =====================  ===========================================  ================================

* Verdicts: KS drifts at ``p_value <= threshold`` (``ks_stattest.py`` line 50, default 0.05),
  chi-square and z at ``p_value < threshold`` (lines 47 and 92, default 0.05 from ``StatTest``),
  Wasserstein, Jensen–Shannon and PSI at ``value >= threshold`` (default 0.1).
* Wasserstein is ``stats.wasserstein_distance(ref, cur) / max(float(np.std(ref)), 0.001)``
  (``wasserstein_distance_norm.py`` line 50): the population standard deviation, floored.
* Chi-square: ``chisquare(f_obs, f_exp)`` with ``f_exp`` = reference count × n_cur / n_ref over the
  union of both samples' values (``chisquare_stattest.py`` lines 43–46), so a value the reference
  never had makes the statistic infinite and p 0.
* z: pooled two-proportion z-test of "not the smallest value" (``z_stattest.py`` lines 77–92);
  p = 1 when both samples hold the same single value.
* Jensen–Shannon: ``scipy.spatial.distance.jensenshannon`` (natural log) on shares of each value of
  the union; a numeric column with more than 20 distinct reference values is binned instead on
  Sturges' edges over both samples (``utils.py`` ``get_binned_data`` lines 16–43).
* NaN and ±inf are dropped from both samples first (``legacy/calculations/data_drift.py`` 140, 149);
  dataset drift is ``share_drifted_columns >= drift_share`` (same file, line 405).

PSI is always reported beside the test, in the textbook form rather than Evidently's (which bins on
Sturges' edges or 30 quantiles): ten reference-decile bins, Σ (ref − cur) · ln(ref / cur), an empty
bin's share replaced by :data:`PSI_EPSILON`; below 0.1 "none", 0.1–0.25 "moderate", from 0.25 "major".

A window is only known through its aggregates (:mod:`.aggregates`). KS is exact when every distinct
reference value is an edge; Wasserstein is exact in each cell where the two ECDFs do not cross, and
its error is bounded elsewhere (see :mod:`.numeric_window`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

from .aggregates import OTHER, CategoricalAggregate, CategoricalPlan, NumericAggregate, NumericPlan
from .numeric_window import ks as _ks
from .numeric_window import sturges_js as _sturges_js
from .numeric_window import wasserstein as _wasserstein
from .numeric_window import window_cells as _cells
from .reference import (
    Kind,
    ReferenceProfile,
    canonical_text,
    kind_mismatch,
    numeric_edges,
    profile_reference,
    run_firsts,
    sorted_unique,
)

Method = Literal["ks", "wasserstein", "chisquare", "z", "jensenshannon", "psi"]
PsiBand = Literal["none", "moderate", "major"]

METHODS: tuple[str, ...] = ("ks", "wasserstein", "chisquare", "z", "jensenshannon", "psi")
DEFAULT_THRESHOLDS = {"ks": 0.05, "chisquare": 0.05, "z": 0.05, "wasserstein": 0.1, "jensenshannon": 0.1, "psi": 0.1}
TESTS = frozenset({"ks", "chisquare", "z"})  # p-values; the rest are distances
SMALL_REFERENCE_ROWS = 1000
PSI_EPSILON = 1e-4  # share given to an empty PSI bin (either side), so ln(ref/cur) stays finite
PSI_MODERATE, PSI_MAJOR = 0.1, 0.25
WASSERSTEIN_MIN_NORM = 0.001  # Evidently's floor on the reference standard deviation
JS_BINNING_DISTINCT = 20  # Evidently bins numeric Jensen–Shannon above this many reference values


@dataclass(frozen=True)
class FeaturePlan:
    """How one feature is tested, decided once from the reference."""

    column: str
    kind: Kind
    method: str  # from the reference alone; with ``rule`` re-checked per window on reference ∪ window values
    rule: bool  # True: Evidently's default rule chose the method; False: the workspace chose it
    threshold: float | None  # None: the method's default
    aggregate: NumericPlan | CategoricalPlan
    exact: bool  # numeric: every distinct reference value is an edge (KS exact)
    reference_rows: int
    reference_distinct: int
    declared: bool = False  # the workspace declared the kind; otherwise it was inferred from the reference


@dataclass(frozen=True)
class FeatureDrift:
    feature: str
    kind: Kind
    method: str
    statistic: float | None  # KS D, chi² statistic, z, normed Wasserstein, JS distance or PSI
    p_value: float | None  # tests only
    threshold: float
    drifted: bool
    count: int  # non-missing values in the window
    evaluated: bool  # False when the window or reference had no values: no verdict
    missing_rate: float | None = None
    psi: float | None = None
    psi_band: PsiBand | None = None
    range_violations: int | None = None  # numeric: values outside the reference's [min, max]
    new_categories: dict[str, int] = field(default_factory=dict)  # categorical: unseen values → rows
    error_bound: float | None = None  # bound on |statistic − its value on the raw window|; 0 when exact
    note: str | None = None
    kind_declared: bool = False  # the workspace declared ``kind``; otherwise it was inferred

    @property
    def score(self) -> float | None:
        """Evidently's ``drift_score``: the p-value of a test, the statistic of a distance."""
        return self.p_value if self.method in TESTS else self.statistic


@dataclass(frozen=True)
class DatasetDrift:
    share: float | None  # share of evaluated features that drifted; None when none was evaluated
    drifted: bool
    drifted_features: list[str]
    evaluated: int


def default_method(kind: Kind, reference_rows: int, n_values: int) -> str:
    """Evidently's ``_get_default_stattest`` (see the module docstring for the source)."""
    if reference_rows <= SMALL_REFERENCE_ROWS:
        if kind == "numeric" and n_values > 5:
            return "ks"
        return "chisquare" if n_values > 2 else "z"
    if kind == "numeric" and n_values > 5:
        return "wasserstein"
    return "jensenshannon"


def plan_feature(
    reference: pd.Series | ReferenceProfile,
    *,
    kind: Kind | None = None,
    method: str | None = None,
    threshold: float | None = None,
    column: str | None = None,
) -> FeaturePlan:
    """Choose the test (Evidently's default rule unless ``method`` overrides it) and the aggregation.

    ``kind`` is the kind the workspace declared; without it, the kind is inferred from the reference
    (:func:`.reference.infer_kind`). The rule also counts the window's values, which are not known yet: the plan's ``method`` counts
    the reference alone and :func:`feature_drift` re-checks it on each window. ``ks`` and
    ``wasserstein`` need order, so they are refused for categorical features (as Evidently does);
    chi-square, z and Jensen–Shannon treat a numeric feature's values as categories, as its default
    rule does for numeric columns with few values."""
    profile = reference if isinstance(reference, ReferenceProfile) else profile_reference(reference, kind, column)
    if kind is not None and profile.kind != kind:
        raise ValueError(f"{profile.column}: reference profiled as {profile.kind}, asked for {kind}")
    if method is not None and method not in METHODS:
        raise ValueError(f"{profile.column}: unknown drift method {method!r} (one of {', '.join(METHODS)})")
    if (mismatch := kind_mismatch(method, profile.kind)) is not None:
        raise ValueError(f"{profile.column} is categorical; {mismatch}")
    if threshold is not None and not threshold > 0:
        raise ValueError(f"{profile.column}: the drift threshold must be positive, got {threshold}")
    exact = True
    if profile.kind == "numeric":
        edges, exact = numeric_edges(profile)
        aggregate: NumericPlan | CategoricalPlan = NumericPlan(profile.column, edges)
    else:
        aggregate = CategoricalPlan(profile.column)
    return FeaturePlan(
        column=profile.column,
        kind=profile.kind,
        method=method or default_method(profile.kind, profile.rows, profile.distinct),
        rule=method is None,
        threshold=threshold,
        aggregate=aggregate,
        exact=exact,
        reference_rows=profile.rows,
        reference_distinct=profile.distinct,
        declared=kind is not None,
    )


def psi_band(psi: float) -> PsiBand:
    return "none" if psi < PSI_MODERATE else "moderate" if psi < PSI_MAJOR else "major"


def population_stability_index(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """Σ (r − c) · ln(r / c) over shares, an empty bin's share replaced by :data:`PSI_EPSILON`."""
    r = reference_counts / reference_counts.sum()
    c = current_counts / current_counts.sum()
    r = np.where(r == 0, PSI_EPSILON, r)
    c = np.where(c == 0, PSI_EPSILON, c)
    return float(np.sum((r - c) * np.log(r / c)))


def feature_drift(
    plan: FeaturePlan,
    reference: pd.Series | ReferenceProfile,
    agg: NumericAggregate | CategoricalAggregate,
) -> FeatureDrift:
    """Test one window of one feature. Pass the :class:`ReferenceProfile` (``profile_reference``)
    when testing many windows, so the reference is sorted once."""
    profile = (
        reference if isinstance(reference, ReferenceProfile) else profile_reference(reference, plan.kind, plan.column)
    )
    if profile.kind != plan.kind:
        raise ValueError(f"{plan.column}: the plan is {plan.kind} but the reference profile is {profile.kind}")
    expected = NumericAggregate if plan.kind == "numeric" else CategoricalAggregate
    if not isinstance(agg, expected):
        raise TypeError(f"{plan.column}: a {plan.kind} plan needs a {expected.__name__}, got {type(agg).__name__}")
    count = agg.count
    seen = count + agg.missing
    missing_rate = agg.missing / seen if seen else None
    if profile.rows == 0 or count == 0:
        if profile.rows == 0:
            why = "the reference has no values for this feature"
        elif agg.missing:
            why = f"all {agg.missing} values are missing in this window"
        else:
            why = "no rows in this window"
        return FeatureDrift(
            feature=plan.column,
            kind=plan.kind,
            kind_declared=plan.declared,
            method=plan.method,
            statistic=None,
            p_value=None,
            threshold=plan.threshold or DEFAULT_THRESHOLDS[plan.method],
            drifted=False,
            count=count,
            evaluated=False,
            missing_rate=missing_rate,
            note=f"undefined: {why}",
        )
    if plan.kind == "numeric":
        assert isinstance(agg, NumericAggregate) and isinstance(plan.aggregate, NumericPlan)
        result = _numeric_drift(plan, profile, agg)
    else:
        assert isinstance(agg, CategoricalAggregate)
        result = _categorical_drift(plan, profile, agg)
    return FeatureDrift(
        feature=plan.column,
        kind=plan.kind,
        kind_declared=plan.declared,
        count=count,
        missing_rate=missing_rate,
        **result,
    )


def resolve_method(plan: FeaturePlan, n_values: int) -> tuple[str, float]:
    """The plan's method, or the default rule's choice once the window's values are counted too."""
    method = default_method(plan.kind, plan.reference_rows, n_values) if plan.rule else plan.method
    return method, plan.threshold or DEFAULT_THRESHOLDS[method]


def count_test(method: str, keys: list, reference: np.ndarray, current: np.ndarray) -> tuple[float, float | None]:
    """Chi-square, z or Jensen–Shannon on counts of the same ``keys`` (sorted: z takes the first)."""
    n_ref, n_cur = reference.sum(), current.sum()
    if method == "chisquare":
        with np.errstate(divide="ignore", invalid="ignore"):
            result = stats.chisquare(current, reference * (n_cur / n_ref))
        return float(result.statistic), float(result.pvalue)
    if method == "z":
        if len(keys) == 1:
            return 0.0, 1.0
        x_ref, x_cur = n_ref - reference[0], n_cur - current[0]
        pooled = (x_ref + x_cur) / (n_ref + n_cur)
        z = (x_ref / n_ref - x_cur / n_cur) / np.sqrt(pooled * (1 - pooled) * (1 / n_ref + 1 / n_cur))
        return float(z), float(2 * stats.norm.sf(abs(z)))
    if method == "jensenshannon":
        return float(jensenshannon(reference / n_ref, current / n_cur)), None
    raise ValueError(f"{method} is not a test on counts")


def verdict(method: str, statistic: float | None, p_value: float | None, threshold: float) -> bool:
    """Evidently's comparison for each method (module docstring)."""
    if method == "ks":
        return p_value is not None and p_value <= threshold
    if method in TESTS:
        return p_value is not None and p_value < threshold
    return statistic is not None and statistic >= threshold


def _sort_key(numeric_keys: bool):
    def key(text: str) -> tuple:
        if numeric_keys:
            try:
                return (0, float(text), "")
            except ValueError:
                pass
        return (1, 0.0, text)

    return key


def _categorical_drift(plan: FeaturePlan, profile: ReferenceProfile, agg: CategoricalAggregate) -> dict:
    current: dict[str, int] = {}
    for text, rows in agg.counts.items():
        if rows > 0:
            key = canonical_text(str(text), profile.numeric_keys)
            current[key] = current.get(key, 0) + int(rows)
    keys = sorted(set(profile.categories) | set(current), key=_sort_key(profile.numeric_keys))
    ref_counts = np.array([profile.categories.get(k, 0) for k in keys], dtype="float64")
    cur_counts = np.array([current.get(k, 0) for k in keys], dtype="float64")
    method, threshold = resolve_method(plan, len(keys))
    psi = population_stability_index(ref_counts, cur_counts)
    if method == "psi":
        statistic, p_value = psi, None
    else:
        statistic, p_value = count_test(method, keys, ref_counts, cur_counts)
    new = {k: current[k] for k in keys if k not in profile.categories}
    note = None
    if OTHER in new:
        note = f"{OTHER!r} holds the rows of values beyond the window's most frequent categories"
    return {
        "method": method,
        "statistic": statistic,
        "p_value": p_value,
        "threshold": threshold,
        "drifted": verdict(method, statistic, p_value, threshold),
        "evaluated": True,
        "psi": psi,
        "psi_band": psi_band(psi),
        "new_categories": new,
        "error_bound": 0.0,
        "note": note,
    }


def dataset_drift(features: list[FeatureDrift], share: float = 0.5) -> DatasetDrift:
    """Evidently's dataset drift: drifted when at least ``share`` of the features drift. Features
    without a verdict (empty window, empty reference) are left out of the share, where Evidently
    would stop with an error."""
    evaluated = [f for f in features if f.evaluated]
    drifted = [f.feature for f in evaluated if f.drifted]
    if not evaluated:
        return DatasetDrift(share=None, drifted=False, drifted_features=[], evaluated=0)
    fraction = len(drifted) / len(evaluated)
    return DatasetDrift(share=fraction, drifted=fraction >= share, drifted_features=drifted, evaluated=len(evaluated))


# --------------------------------------------------------------------------- numeric windows


def _numeric_drift(plan: FeaturePlan, profile: ReferenceProfile, agg: NumericAggregate) -> dict:
    assert isinstance(plan.aggregate, NumericPlan)
    edges, ref, n = plan.aggregate.edges, profile.values, agg.count
    cells = _cells(edges, agg, ref)
    notes: list[str] = []

    # Distinct values of reference and window together, as the default rule counts them. Only ≤ 5
    # matters, and then every reference value is an edge: each window value off the edges is new, but
    # the aggregates only show how many cells hold such values, not how many distinct values each cell
    # holds (an outer cell shows two when its sum is not count × the window's minimum or maximum). The
    # rule takes this lower bound; when the upper bound (every such value distinct) crosses 5, a note
    # says so.
    n_values = profile.distinct
    if profile.distinct <= 5:
        new_points = np.isin(cells.points, run_firsts(ref), invert=True)  # isin would sort all of ref
        n_values += int(new_points.sum())
        for i, extreme in ((0, agg.minimum), (-1, agg.maximum)):
            b, total = int(cells.between[i]), float(agg.between_sum[i])
            if b >= 2 and extreme is not None and not np.isclose(total, b * extreme, rtol=1e-9, atol=0):
                n_values += 1
        at_most = profile.distinct + int(cells.weights[new_points].sum())
        if plan.rule and n_values <= 5 < at_most:
            notes.append(
                f"reference and window hold {n_values} to {at_most} distinct values; the default rule"
                f" counted {n_values} (the aggregates cannot tell repeated new values from distinct ones)"
            )
    method, threshold = resolve_method(plan, n_values)

    deciles = profile.deciles
    ref_bins = np.diff(np.concatenate([[0], np.searchsorted(ref, deciles, "right"), [len(ref)]]))
    below_or_at = cells.before[1:]
    cur_bins = np.diff(np.concatenate([[0], below_or_at[np.searchsorted(edges, deciles)], [n]]))
    psi = population_stability_index(ref_bins.astype("float64"), cur_bins.astype("float64"))

    p_value: float | None = None
    bound: float | None = 0.0
    if method == "ks":
        statistic, p_value, bound = _ks(ref, cells, n)
        drifted = verdict(method, statistic, p_value, threshold)
    elif method == "wasserstein":
        distance, raw_bound = _wasserstein(ref, edges, cells, n)
        norm = max(float(profile.std or 0.0), WASSERSTEIN_MIN_NORM)
        statistic, bound = distance / norm, raw_bound / norm
        drifted = verdict(method, statistic, None, threshold)
        if not profile.std:
            statistic, bound = None, None
            notes.append(
                "normed Wasserstein undefined: the reference is constant (std 0); the verdict divides by"
                f" {WASSERSTEIN_MIN_NORM} as Evidently does"
            )
        elif profile.std < WASSERSTEIN_MIN_NORM:
            notes.append(f"reference std {profile.std:.3g} < {WASSERSTEIN_MIN_NORM}: divided by {WASSERSTEIN_MIN_NORM}")
    elif method == "psi":
        statistic = psi
        drifted = verdict(method, statistic, None, threshold)
    elif method == "jensenshannon" and profile.distinct > JS_BINNING_DISTINCT:
        statistic, bound = _sturges_js(ref, cells, n, agg), None
        drifted = verdict(method, statistic, None, threshold)
        notes.append("approximate: the window is binned on Sturges' edges from its per-interval means")
    else:  # chi-square, z or Jensen–Shannon on the values as categories
        ref_values, ref_counts = sorted_unique(ref, return_counts=True)
        keys = np.union1d(ref_values, cells.points)
        reference = np.zeros(len(keys))
        reference[np.searchsorted(keys, ref_values)] = ref_counts
        current = np.zeros(len(keys))
        np.add.at(current, np.searchsorted(keys, cells.points), cells.weights)
        statistic, p_value = count_test(method, list(keys), reference, current)
        drifted = verdict(method, statistic, p_value, threshold)
        if (cells.between > 1).any():
            bound = None
            notes.append("values the reference never had are grouped per interval between reference values")
    if bound:
        notes.append(f"approximate from binned aggregates: |error of the statistic| ≤ {bound:.3g}")
    return {
        "method": method,
        "statistic": statistic,
        "p_value": p_value,
        "threshold": threshold,
        "drifted": bool(drifted),
        "evaluated": True,
        "psi": psi,
        "psi_band": psi_band(psi),
        "range_violations": int(cells.between[0] + cells.between[-1]),
        "error_bound": bound,
        "note": "; ".join(notes) or None,
    }
