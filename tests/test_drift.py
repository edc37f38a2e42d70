"""Drift statistics from window aggregates equal scipy's on the raw samples, and Evidently's verdicts.

Aggregates are built here from raw arrays by a helper that follows the contract in
``monitoring/aggregates.py`` directly (``np.searchsorted``), independently of ``monitoring/scan.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial.distance import jensenshannon

from modelgov.monitoring import drift, numeric_window
from modelgov.monitoring.aggregates import CategoricalAggregate, NumericAggregate, NumericPlan
from modelgov.monitoring.drift import dataset_drift, feature_drift, plan_feature
from modelgov.monitoring.reference import profile_reference
from shared_builds import SHARED_DATA

ROOT = Path(__file__).resolve().parents[1]
BIKE = SHARED_DATA / "bike_hour.csv"


# --------------------------------------------------------------------------- aggregates from raw arrays


def numeric_aggregate(values, edges: np.ndarray) -> NumericAggregate:
    """The contract: between[0] = #(x < e0), at[i] = #(x == ei), between[i] = #(e(i-1) < x < ei),
    between[m] = #(x > e(m-1)); NaN and ±inf are missing."""
    x = np.asarray(values, dtype="float64")
    finite = np.isfinite(x)
    v = x[finite]
    m = len(edges)
    left = np.searchsorted(edges, v, side="left")
    right = np.searchsorted(edges, v, side="right")
    on_edge = right > left
    return NumericAggregate(
        missing=int((~finite).sum()),
        between=np.bincount(left[~on_edge], minlength=m + 1).astype("int64"),
        at=np.bincount(left[on_edge], minlength=m).astype("int64"),
        between_sum=np.bincount(left[~on_edge], weights=v[~on_edge], minlength=m + 1),
        minimum=float(v.min()) if len(v) else None,
        maximum=float(v.max()) if len(v) else None,
    )


def categorical_aggregate(values) -> CategoricalAggregate:
    s = pd.Series(values, dtype="object")
    counts = s.dropna().map(str).value_counts()
    return CategoricalAggregate(missing=int(s.isna().sum()), counts={k: int(c) for k, c in counts.items()})


def run(reference: pd.Series, current, **plan_args) -> drift.FeatureDrift:
    plan = plan_feature(reference, **plan_args)
    if isinstance(plan.aggregate, NumericPlan):
        agg = numeric_aggregate(current, plan.aggregate.edges)
    else:
        agg = categorical_aggregate(current)
    return feature_drift(plan, reference, agg)


RNG = np.random.default_rng(20240611)  # module-level cases only


@pytest.fixture
def rng() -> np.random.Generator:
    """A fresh generator per test, so a test's data do not depend on which tests ran before it."""
    return np.random.default_rng(7)


# --------------------------------------------------------------------------- KS


KS_CASES = {
    "continuous": (RNG.normal(0, 1, 800), RNG.normal(0.15, 1.1, 500)),
    "ties": (np.round(RNG.normal(0, 2, 700)), np.round(RNG.normal(0.3, 2, 400))),
    "outside and between reference values": (
        RNG.integers(0, 50, 900).astype(float),
        RNG.uniform(-10, 60, 600),
    ),
    "large window": (RNG.normal(0, 1, 900), RNG.normal(0.02, 1, 25_000)),
    "large window with ties": (np.round(RNG.normal(0, 3, 950)), np.round(RNG.normal(0, 3, 40_000), 1)),
}


@pytest.mark.parametrize("case", list(KS_CASES))
def test_ks_equals_scipy_on_the_raw_samples(case: str) -> None:
    ref, cur = KS_CASES[case]
    result = run(pd.Series(ref, name="x"), cur)
    expected = stats.ks_2samp(ref, cur)
    assert result.method == "ks" and result.error_bound == 0
    assert result.statistic == expected.statistic
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-12, abs=1e-300)
    assert result.drifted == (expected.pvalue <= 0.05)


@pytest.mark.filterwarnings("ignore:ks_2samp. Exact calculation unsuccessful:RuntimeWarning")  # scipy, both sides
@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.integers(-5, 5).map(float), min_size=1, max_size=60),
    st.lists(st.floats(-8, 8, allow_nan=False).map(lambda x: round(x, 1)), min_size=1, max_size=60),
)
def test_ks_is_exact_for_any_small_samples(ref: list[float], cur: list[float]) -> None:
    result = run(pd.Series(ref, name="x"), cur, method="ks")
    expected = stats.ks_2samp(ref, cur)
    assert result.statistic == expected.statistic
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-12, abs=1e-300)


@pytest.mark.parametrize("case", ["large window", "large window with ties"])
def test_ks_on_large_windows_uses_scipys_asymptotic_formula_on_the_exact_statistic(case, monkeypatch) -> None:
    ref, cur = KS_CASES[case]
    scipys, rebuilt = stats.ks_2samp, []
    monkeypatch.setattr(numeric_window.stats, "ks_2samp", lambda *a: rebuilt.append(a) or scipys(*a))
    result = run(pd.Series(ref, name="x"), cur)
    assert not rebuilt  # the window was not rebuilt value by value
    expected = scipys(ref, cur)  # > 10,000 values: scipy's 'auto' is 'asymp'
    assert (result.statistic, result.p_value) == (expected.statistic, expected.pvalue)


@pytest.mark.filterwarnings("ignore:ks_2samp. Exact calculation unsuccessful:RuntimeWarning")
@pytest.mark.parametrize(
    ("ref_size", "window_size", "rebuilt"), [(10_000, 10_000, True), (10_001, 500, False), (500, 10_001, False)]
)
def test_ks_rebuilds_the_window_exactly_while_scipy_may_be_exact(ref_size, window_size, rebuilt, monkeypatch) -> None:
    rng = np.random.default_rng(ref_size + window_size)
    ref, cur = np.round(rng.normal(0, 1, ref_size), 2), np.round(rng.normal(0.05, 1, window_size), 2)
    scipys, calls = stats.ks_2samp, []
    monkeypatch.setattr(numeric_window.stats, "ks_2samp", lambda *a: calls.append(a) or scipys(*a))
    result = run(pd.Series(ref, name="x"), cur, method="ks")
    assert bool(calls) == rebuilt
    expected = scipys(ref, cur)
    assert (result.statistic, result.p_value) == (expected.statistic, expected.pvalue)


@pytest.mark.parametrize("case", ["between the reference's values", "rounded normals"])
def test_ks_without_rebuilding_reads_the_statistic_at_the_windows_values_too(case: str) -> None:
    """D's largest gap can sit at a window value that is no reference value (here every window value
    is odd, every reference value even): reading the ECDFs only at the reference's values misses it."""
    rng = np.random.default_rng(3)
    if case == "between the reference's values":
        ref, cur = 2.0 * rng.integers(0, 3000, 20_000), 2.0 * rng.integers(0, 3000, 15_000) + 1
    else:
        ref, cur = np.round(rng.normal(0, 1, 20_000), 1), np.round(rng.normal(0.1, 1, 15_000), 2)
    result = run(pd.Series(ref, name="x"), cur, method="ks")
    expected = stats.ks_2samp(ref, cur)
    assert (result.statistic, result.p_value) == (expected.statistic, expected.pvalue)


@settings(max_examples=60, deadline=None)
@given(
    st.integers(50, 12_000),
    st.integers(10_001, 30_000),
    st.integers(0, 3),
    st.booleans(),
    st.integers(0, 2**32 - 1),
)
def test_ks_without_rebuilding_the_window_is_scipys_to_the_bit(
    ref_size: int, window_size: int, decimals: int, swap: bool, seed: int
) -> None:
    """Either sample the larger (scipy is then asymptotic), values rounded to make ties: the weighted
    path's statistic and p-value are the ones ``ks_2samp`` gives on the raw samples, bit for bit."""
    rng = np.random.default_rng(seed)
    if swap:
        ref_size, window_size = window_size, ref_size
    ref = np.round(rng.normal(0, 1, ref_size), decimals)
    cur = np.round(rng.normal(rng.uniform(-0.2, 0.2), rng.uniform(0.8, 1.2), window_size), decimals)
    result = run(pd.Series(ref, name="x"), cur, method="ks")
    expected = stats.ks_2samp(ref, cur)
    assert (result.statistic, result.p_value) == (expected.statistic, expected.pvalue)


def test_ks_with_many_distinct_reference_values_is_approximate_within_its_bound(rng: np.random.Generator) -> None:
    ref, cur = rng.normal(0, 1, 20_000), rng.normal(0.05, 1, 3000)
    result = run(pd.Series(ref, name="x"), cur, method="ks")
    expected = stats.ks_2samp(ref, cur)
    assert result.error_bound > 0
    assert abs(result.statistic - expected.statistic) <= result.error_bound


# --------------------------------------------------------------------------- chi-square, z, Jensen–Shannon


def evidently_chisquare(ref: pd.Series, cur: pd.Series):
    """chisquare_stattest.py: f_exp = reference count × n_cur / n_ref over the union of values."""
    keys = sorted(set(ref.dropna()) | set(cur.dropna()))
    r, c = ref.value_counts(), cur.value_counts()
    f_exp = [r.get(k, 0) * len(cur) / len(ref) for k in keys]
    f_obs = [c.get(k, 0) for k in keys]
    with np.errstate(divide="ignore"):
        return stats.chisquare(f_obs, f_exp)


def test_chisquare_equals_scipy_with_evidentlys_expected_frequencies(rng: np.random.Generator) -> None:
    ref = pd.Series(rng.choice(list("abcd"), 600, p=[0.4, 0.3, 0.2, 0.1]), name="grade")
    cur = pd.Series(rng.choice(list("abcd"), 300, p=[0.35, 0.3, 0.2, 0.15]))
    result = run(ref, cur)
    expected = evidently_chisquare(ref, cur)
    assert result.method == "chisquare"
    assert result.statistic == pytest.approx(expected.statistic, rel=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-10)
    assert result.new_categories == {}


def test_a_category_the_reference_never_had_makes_chisquare_infinite_and_is_listed(rng: np.random.Generator) -> None:
    ref = pd.Series(rng.choice(list("abc"), 500), name="grade")
    cur = pd.Series(list(rng.choice(list("abc"), 200)) + ["z"] * 7 + [None] * 3)
    result = run(ref, cur)
    assert result.method == "chisquare"
    assert result.statistic == np.inf and result.p_value == 0 and result.drifted
    assert result.new_categories == {"z": 7}
    assert result.missing_rate == pytest.approx(3 / 210)


def test_numeric_columns_with_three_to_five_values_use_chisquare_on_the_values(rng: np.random.Generator) -> None:
    ref = rng.choice([1.0, 2.0, 3.0, 4.0], 700)
    cur = rng.choice([1.0, 2.0, 3.0, 4.0], 400, p=[0.3, 0.3, 0.2, 0.2])
    result = run(pd.Series(ref, name="rooms"), cur)
    expected = evidently_chisquare(pd.Series(ref), pd.Series(cur))
    assert result.method == "chisquare"
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-10)


def textbook_z(ref: np.ndarray, cur: np.ndarray, first) -> float:
    """Two-proportion z-test, pooled variance, two-sided, of the share of values other than ``first``."""
    n1, n2 = len(ref), len(cur)
    p1, p2 = np.mean(ref != first), np.mean(cur != first)
    pooled = (p1 * n1 + p2 * n2) / (n1 + n2)
    z = (p1 - p2) / np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    return 2 * (1 - stats.norm.cdf(abs(z)))


@pytest.mark.parametrize("values", [["no", "yes"], [0.0, 1.0]])
def test_two_valued_features_use_the_two_proportion_z_test(values, rng: np.random.Generator) -> None:
    ref = np.array(rng.choice(values, 800, p=[0.7, 0.3]))
    cur = np.array(rng.choice(values, 300, p=[0.62, 0.38]))
    result = run(pd.Series(ref, name="flag"), cur)
    assert result.method == "z"
    assert result.p_value == pytest.approx(textbook_z(ref, cur, sorted(values)[0]), rel=1e-9)


def test_z_test_of_one_shared_value_is_one() -> None:
    result = run(pd.Series(["a"] * 50, name="flag"), ["a"] * 20)
    assert result.method == "z" and result.p_value == 1.0 and not result.drifted


def test_jensenshannon_equals_scipy_on_evidentlys_value_shares(rng: np.random.Generator) -> None:
    ref = pd.Series(rng.choice(list("abcdef"), 5000, p=[0.3, 0.2, 0.2, 0.1, 0.1, 0.1]), name="region")
    cur = pd.Series(rng.choice(list("abcdefg"), 900, p=[0.2, 0.2, 0.2, 0.1, 0.1, 0.1, 0.1]))
    keys = sorted(set(ref) | set(cur))
    expected = jensenshannon(
        [(ref == k).mean() for k in keys],
        [(cur == k).mean() for k in keys],  # natural log: base=None
    )
    result = run(ref, cur)
    assert result.method == "jensenshannon"
    assert result.statistic == pytest.approx(expected, rel=1e-12)
    assert result.drifted == (expected >= 0.1)
    assert result.new_categories == {"g": int((cur == "g").sum())}


def test_numeric_jensenshannon_with_many_values_uses_evidentlys_sturges_bins(rng: np.random.Generator) -> None:
    ref = np.round(rng.normal(10, 3, 3000), 1)
    cur = rng.choice(ref, 800)  # values the reference has: the window's points are exact
    combined = np.concatenate([ref, cur])
    bins = np.histogram_bin_edges(combined, bins="sturges")
    expected = jensenshannon(np.histogram(ref, bins)[0] / len(ref), np.histogram(cur, bins)[0] / len(cur))
    result = run(pd.Series(ref, name="x"), cur, method="jensenshannon")
    assert result.statistic == pytest.approx(expected, rel=1e-9)


# --------------------------------------------------------------------------- Wasserstein


def test_wasserstein_is_exact_when_every_reference_value_is_an_edge(rng: np.random.Generator) -> None:
    ref = np.round(rng.gamma(2.0, 2.0, 4000), 2)
    cur = np.round(rng.gamma(2.2, 2.0, 1500), 3)  # many values between reference values
    result = run(pd.Series(ref, name="x"), cur)
    expected = stats.wasserstein_distance(ref, cur) / np.std(ref)
    assert result.method == "wasserstein"
    assert abs(result.statistic - expected) <= result.error_bound + 1e-12
    assert result.statistic == pytest.approx(expected, rel=1e-3)


WASSERSTEIN_CASES = {
    "lognormal, small shift": (RNG.lognormal(3, 0.8, 60_000), RNG.lognormal(3.05, 0.8, 20_000)),
    "normal, no drift": (RNG.normal(50, 10, 100_000), RNG.normal(50, 10, 10_000)),
    "exponential, heavy window": (RNG.exponential(5, 30_000), RNG.exponential(6, 200_000)),
}


@pytest.mark.parametrize("case", list(WASSERSTEIN_CASES))
def test_wasserstein_on_quantile_edges_is_within_1e3_relative_of_scipy(case: str) -> None:
    ref, cur = WASSERSTEIN_CASES[case]
    result = run(pd.Series(ref, name="x"), cur)
    expected = stats.wasserstein_distance(ref, cur) / np.std(ref)
    assert result.method == "wasserstein"
    assert abs(result.statistic - expected) <= result.error_bound + 1e-12
    assert abs(result.statistic - expected) / expected < 1e-3


def scipy_merged(ref: np.ndarray, runs, per_value, others, other_weights) -> float:
    """What :func:`numeric_window.merged_distance` claims to be, built point by point for scipy."""
    ref_weights = np.repeat(per_value, np.diff(runs.starts))
    values = np.concatenate([others, ref])
    weights = np.concatenate([other_weights, ref_weights])
    return stats.wasserstein_distance(ref, values[weights > 0], None, weights[weights > 0])


@settings(max_examples=300, deadline=None)
@given(
    ref=st.lists(st.integers(0, 30), min_size=1, max_size=60),
    edges=st.lists(st.integers(-2, 32), min_size=1, max_size=6, unique=True),
    run_weights=st.lists(st.sampled_from([0.0, 0.25, 1.0, 3.0]), min_size=13, max_size=13),
    others=st.lists(st.tuples(st.integers(-4, 34), st.sampled_from([0.5, 1.0, 7.0])), max_size=8),
)
def test_merged_distance_equals_scipy_on_the_points_it_stands_for(ref, edges, run_weights, others) -> None:
    """Ties between points and reference values, points before, after and between every value, runs
    without values and runs without weight: the closed form per segment is scipy's sum over gaps."""
    ref = np.sort(np.asarray(ref, dtype="float64"))
    edges = np.sort(np.asarray(edges, dtype="float64"))
    runs = numeric_window.reference_runs(ref, edges)
    per_value = np.asarray(run_weights[: 2 * len(edges) + 1], dtype="float64")
    points = np.asarray(sorted(o[0] for o in others), dtype="float64") + 0.0
    weights = np.asarray([o[1] for o in sorted(others)], dtype="float64")
    if weights.sum() + np.dot(per_value, np.diff(runs.starts)) == 0:
        return
    got = numeric_window.merged_distance(ref, runs, per_value, points, weights)
    assert got == pytest.approx(scipy_merged(ref, runs, per_value, points, weights), rel=1e-9, abs=1e-12)


def test_merged_distance_on_a_million_values_equals_scipy(rng: np.random.Generator) -> None:
    """At the size a large reference has, with quantile edges and window weight on most runs."""
    ref = np.sort(rng.lognormal(2, 0.7, 1_000_000))
    edges = np.unique(np.quantile(ref, np.linspace(0.001, 0.999, 999)))
    runs = numeric_window.reference_runs(ref, edges)
    per_value = rng.uniform(0, 2, 2 * len(edges) + 1)
    per_value[1::2] = 0.0
    per_value[rng.random(len(per_value)) < 0.1] = 0.0
    points = np.sort(np.concatenate([edges[::3], rng.lognormal(2.1, 0.7, 500)]))
    weights = rng.integers(1, 50, len(points)).astype("float64")
    got = numeric_window.merged_distance(ref, runs, per_value, points, weights)
    assert got == pytest.approx(scipy_merged(ref, runs, per_value, points, weights), rel=1e-9)


def test_merged_distance_keeps_full_precision_over_long_runs_of_ties(rng: np.random.Generator) -> None:
    """A reference rounded to two decimals (runs of equal values) and a shifted window: the closed
    form is within 1e-13 of an 80-bit computation, and at least as close as scipy's float64 sum."""
    ref = np.sort(np.round(rng.beta(2, 5, 20_000), 2) + 100.0)  # far from 0: cancellation would show
    edges = np.unique(ref)[::3]
    runs = numeric_window.reference_runs(ref, edges)
    per_value = rng.uniform(0.5, 1.5, 2 * len(edges) + 1)
    points = np.sort(np.round(rng.beta(2.3, 5, 300), 3) + 100.0)
    weights = np.ones(len(points))
    got = numeric_window.merged_distance(ref, runs, per_value, points, weights)
    wide = np.longdouble
    at = np.searchsorted(ref, points, "left")
    merged = np.insert(ref.astype(wide), at, points.astype(wide))
    ref_cdf = np.cumsum(np.insert(np.ones(len(ref), dtype=np.int64), at, 0))[:-1].astype(wide) / wide(len(ref))
    mass = np.cumsum(np.insert(np.repeat(per_value, runs.lengths).astype(wide), at, weights.astype(wide)))
    exact = float(np.sum(np.abs(ref_cdf - mass[:-1] / mass[-1]) * np.diff(merged)))
    assert abs(got - exact) / exact < 1e-13
    assert abs(got - exact) <= abs(scipy_merged(ref, runs, per_value, points, weights) - exact)


ADULT = SHARED_DATA


def test_wasserstein_within_1e3_relative_on_adult_fnlwgt() -> None:
    """Real data with more than 5,000 distinct values and a long right tail (UCI Adult ``fnlwgt``)."""
    if not (ADULT / "adult.data").exists() or not (ADULT / "adult.test").exists():
        pytest.skip(f"UCI Adult data not found in {ADULT}")
    names = ["age", "workclass", "fnlwgt", "education", "education_num", "marital", "occupation"]
    names += ["relationship", "race", "sex", "capital_gain", "capital_loss", "hours", "country", "income"]
    train = pd.read_csv(ADULT / "adult.data", names=names, skipinitialspace=True)
    test = pd.read_csv(ADULT / "adult.test", names=names, skipinitialspace=True, skiprows=1)
    pairs = {
        "train → test": (train.fnlwgt, test.fnlwgt),
        "men → women": (train.fnlwgt[train.sex == "Male"], test.fnlwgt[test.sex == "Female"]),
        "≤50K → >50K": (train.fnlwgt[train.income == "<=50K"], test.fnlwgt[test.income == ">50K."]),
    }
    for name, (ref, cur) in pairs.items():
        result = run(ref.astype(float).rename("fnlwgt"), cur.to_numpy(float))
        expected = stats.wasserstein_distance(ref, cur) / np.std(ref)
        assert result.error_bound > 0, name  # quantile edges: approximate
        assert abs(result.statistic - expected) <= result.error_bound, name
        assert abs(result.statistic - expected) / expected < 1e-3, name


def test_constant_reference_makes_normed_wasserstein_undefined_but_keeps_evidentlys_verdict() -> None:
    ref = pd.Series([5.0] * 2000, name="x")
    window = np.linspace(4, 6, 301)  # includes 5.0
    result = run(ref, window, method="wasserstein")
    assert result.statistic is None and result.drifted
    assert "undefined" in result.note
    assert result.range_violations == 300  # only 5.0 itself is inside [5, 5]
    # Under the default rule the aggregates show 1 + 2 cells + 2 (outer sums) = 5 distinct values at
    # least, so Jensen–Shannon on values, and the note says the count is uncertain.
    default = run(ref, window)
    assert default.method == "jensenshannon" and default.drifted
    assert "5 to 301 distinct values" in default.note


# --------------------------------------------------------------------------- PSI


def direct_decile_psi(ref: np.ndarray, cur: np.ndarray) -> float:
    deciles = np.unique(np.quantile(ref, np.linspace(0.1, 0.9, 9)))
    bins = np.concatenate([[-np.inf], deciles, [np.inf]])
    r = pd.Series(pd.cut(ref, bins, right=True)).value_counts(sort=False).to_numpy() / len(ref)
    c = pd.Series(pd.cut(cur, bins, right=True)).value_counts(sort=False).to_numpy() / len(cur)
    r, c = np.where(r == 0, 1e-4, r), np.where(c == 0, 1e-4, c)
    return float(np.sum((r - c) * np.log(r / c)))


@pytest.mark.parametrize(
    ("shift", "band"),
    [(0.0, "none"), (0.4, "moderate"), (1.2, "major")],
)
def test_psi_equals_a_direct_decile_computation(shift: float, band: str, rng: np.random.Generator) -> None:
    ref = rng.normal(0, 1, 6000)
    cur = rng.normal(shift, 1, 2000)
    result = run(pd.Series(ref, name="x"), cur)
    assert result.psi == pytest.approx(direct_decile_psi(ref, cur), rel=1e-12)
    assert result.psi_band == band


def test_psi_with_tied_deciles_and_an_empty_bin(rng: np.random.Generator) -> None:
    ref = np.concatenate([np.zeros(500), rng.integers(1, 4, 500)]).astype(float)
    cur = np.concatenate([np.zeros(10), np.full(190, 3.0)])
    result = run(pd.Series(ref, name="x"), cur)
    assert result.psi == pytest.approx(direct_decile_psi(ref, cur), rel=1e-12)


# --------------------------------------------------------------------------- rule, overrides, edge cases


@pytest.mark.parametrize(
    ("rows", "values", "kind", "method"),
    [
        (1000, np.arange(6.0), "numeric", "ks"),
        (1000, np.arange(5.0), "numeric", "chisquare"),
        (1000, np.arange(3.0), "numeric", "chisquare"),
        (1000, np.arange(2.0), "numeric", "z"),
        (1000, np.array(list("abc")), "categorical", "chisquare"),
        (1000, np.array([f"c{i}" for i in range(30)]), "categorical", "chisquare"),
        (1000, np.array(list("ab")), "categorical", "z"),
        (1001, np.arange(6.0), "numeric", "wasserstein"),
        (1001, np.arange(5.0), "numeric", "jensenshannon"),
        (1001, np.arange(2.0), "numeric", "jensenshannon"),
        (1001, np.array(list("ab")), "categorical", "jensenshannon"),
        (1001, np.array([f"c{i}" for i in range(30)]), "categorical", "jensenshannon"),
    ],
)
def test_each_branch_of_evidentlys_default_rule(rows, values, kind, method) -> None:
    reference = pd.Series(np.resize(values, rows), name="f")
    plan = plan_feature(reference)
    assert (plan.kind, plan.method, plan.rule) == (kind, method, True)
    result = run(reference, np.resize(values, 300))
    assert result.method == method
    assert result.threshold == {"ks": 0.05, "chisquare": 0.05, "z": 0.05}.get(method, 0.1)


def test_the_rule_counts_reference_and_window_values_together() -> None:
    reference = pd.Series(np.resize([0.0, 1.0], 800), name="f")  # 2 values: z on the reference alone
    assert plan_feature(reference).method == "z"
    assert run(reference, np.resize([0.0, 1.0, 2.0], 300)).method == "chisquare"  # 3 values together
    # Values off the reference's: -2 and -1 (the sum shows two below the minimum), 0.25, the decile
    # edge 0.5, 0.75, 2 and 3: at least 2 + 7 values together.
    spread = run(reference, np.resize([-2.0, -1.0, 0.25, 0.5, 0.75, 2.0, 3.0, 0.0, 1.0], 300))
    assert spread.method == "ks" and spread.note is None
    # 50 values between 0 and 1 fall in only two cells: the aggregates prove 4 distinct values, and
    # the note says Evidently (counting 50) would have chosen KS.
    unsure = run(reference, np.linspace(0, 1, 50))
    assert unsure.method == "chisquare" and "distinct values" in unsure.note


def test_integer_kinds_are_inferred_as_evidently_does() -> None:
    assert plan_feature(pd.Series(np.arange(100) % 10, name="f")).kind == "categorical"
    assert plan_feature(pd.Series(np.arange(100) % 11, name="f")).kind == "numeric"
    assert plan_feature(pd.Series([0.5, 1.5], name="f")).kind == "numeric"
    assert plan_feature(pd.Series([True, False], name="f")).kind == "categorical"


def test_per_feature_override_of_method_and_threshold(rng: np.random.Generator) -> None:
    ref, cur = rng.normal(0, 1, 3000), rng.normal(0.3, 1, 1000)
    psi = run(pd.Series(ref, name="x"), cur, method="psi", threshold=0.2)
    assert (psi.method, psi.threshold, psi.p_value) == ("psi", 0.2, None)
    assert psi.statistic == psi.psi and psi.drifted == (psi.psi >= 0.2)
    ks = run(pd.Series(ref, name="x"), cur, threshold=0.2)  # threshold only: the rule's method
    assert (ks.method, ks.threshold) == ("wasserstein", 0.2)
    with pytest.raises(ValueError, match="numeric"):
        plan_feature(pd.Series(list("abc"), name="c"), method="ks")
    with pytest.raises(ValueError, match="unknown drift method"):
        plan_feature(pd.Series([1.0, 2.0], name="x"), method="t-test")


def test_empty_and_all_missing_windows_have_no_verdict(rng: np.random.Generator) -> None:
    reference = pd.Series(rng.normal(0, 1, 500), name="x")
    empty = run(reference, [])
    assert (empty.statistic, empty.drifted, empty.evaluated, empty.count) == (None, False, False, 0)
    assert "no rows" in empty.note and empty.missing_rate is None
    missing = run(reference, [np.nan] * 5)
    assert missing.missing_rate == 1.0 and "all 5 values are missing" in missing.note
    no_reference = run(pd.Series([np.nan] * 10, name="x"), [1.0, 2.0])
    assert not no_reference.evaluated and "reference has no values" in no_reference.note
    categorical = run(pd.Series(list("abc"), name="c"), [None, None])
    assert not categorical.evaluated and categorical.missing_rate == 1.0


def test_numeric_range_violations_and_missing_rate(rng: np.random.Generator) -> None:
    reference = pd.Series(rng.uniform(0, 10, 400), name="x")
    low, high = reference.min(), reference.max()
    result = run(reference, [low, high, low - 1, high + 0.5, high + 3, 5.0, np.nan, np.inf])
    assert result.range_violations == 3
    assert result.missing_rate == pytest.approx(2 / 8)


def test_numeric_categories_match_whatever_text_the_log_uses() -> None:
    reference = pd.Series([1, 2, 3] * 100, name="level")
    plan = plan_feature(reference)
    agg = CategoricalAggregate(missing=0, counts={"1.0": 50, "1": 50, "2": 100, "3": 100, "4": 2})
    result = feature_drift(plan, reference, agg)
    assert result.new_categories == {"4": 2}


def test_dataset_drift_is_the_share_of_evaluated_features(rng: np.random.Generator) -> None:
    reference = pd.Series(rng.normal(0, 1, 500), name="x")
    same, shifted, empty = (
        run(reference, rng.normal(0, 1, 300)),
        run(reference, rng.normal(2, 1, 300)),
        run(reference, []),
    )
    assert not same.drifted and shifted.drifted
    both = dataset_drift([same, shifted, empty])
    assert (both.share, both.drifted, both.evaluated, both.drifted_features) == (0.5, True, 2, ["x"])
    assert not dataset_drift([same, shifted], share=0.6).drifted
    assert dataset_drift([empty]).share is None


# --------------------------------------------------------------------------- Bike Sharing


BIKE_NUMERIC = ["temp", "atemp", "hum", "windspeed", "cnt", "casual", "registered", "hr"]
BIKE_CATEGORICAL = ["season", "weathersit", "holiday", "workingday", "weekday"]


@pytest.fixture(scope="module")
def bike() -> pd.DataFrame:
    if not BIKE.exists():
        pytest.skip(f"Bike Sharing data not found at {BIKE} (UCI bike_hour.csv, shared data folder)")
    return pd.read_csv(BIKE)


def bike_month_drift(reference: pd.DataFrame, current: pd.DataFrame) -> dict[str, drift.FeatureDrift]:
    out = {}
    for column in BIKE_NUMERIC + BIKE_CATEGORICAL:
        profile = profile_reference(reference[column], column=column)
        plan = plan_feature(profile)
        if plan.kind == "numeric":
            agg = numeric_aggregate(current[column], plan.aggregate.edges)
        else:
            agg = categorical_aggregate(current[column].tolist())
        out[column] = feature_drift(plan, profile, agg)
    return out


def test_bike_sharing_2012_months_against_2011(bike: pd.DataFrame) -> None:
    reference = bike[bike.yr == 0]
    months = {m: bike[(bike.yr == 1) & (bike.mnth == m)] for m in range(1, 13)}
    results = {m: bike_month_drift(reference, current) for m, current in months.items()}
    for m, current in months.items():
        for column, result in results[m].items():
            assert result.kind == ("numeric" if column in BIKE_NUMERIC else "categorical")
            assert result.method == ("wasserstein" if column in BIKE_NUMERIC else "jensenshannon")
            if result.method == "wasserstein":
                ref = reference[column].to_numpy(float)
                expected = stats.wasserstein_distance(ref, current[column].to_numpy(float)) / np.std(ref)
                assert result.statistic == pytest.approx(expected, rel=1e-9, abs=1e-12)
    drifted = {column: [m for m in months if results[m][column].drifted] for column in BIKE_NUMERIC}
    # Demand grew ~65% from 2011 to 2012 (mean cnt 144 → 235): cnt drifts in nearly every month.
    assert len(drifted["cnt"]) >= 10, drifted["cnt"]
    assert len(drifted["registered"]) >= 10, drifted["registered"]
    # One month is one season: temperature drifts against a whole year in every month.
    assert drifted["temp"] == list(range(1, 13))
    # Hours of the day are spread evenly in every month: no drift.
    assert drifted["hr"] == []
    # Each month holds one or two seasons against a year of four: season drifts every month.
    assert all(results[m]["season"].drifted for m in months)


# --------------------------------------------------------------------------- agreement with Evidently


def test_verdicts_agree_with_evidently_on_bike_sharing(bike: pd.DataFrame, tmp_path: Path) -> None:
    python = os.environ.get("MODELGOV_EVIDENTLY_PYTHON")
    if not python:
        pytest.skip(
            "set MODELGOV_EVIDENTLY_PYTHON to a python with evidently==0.7.23 and pandas<3 "
            '(python3 -m venv /tmp/evenv && /tmp/evenv/bin/pip install "evidently==0.7.23" "pandas<3")'
        )
    scenarios = {
        "2011 as reference (Wasserstein, Jensen–Shannon)": bike[bike.yr == 0],
        "December 2011 as reference (KS, chi-square, z)": bike[(bike.yr == 0) & (bike.mnth == 12)],
    }
    columns = BIKE_NUMERIC + BIKE_CATEGORICAL
    months = {m: bike[(bike.yr == 1) & (bike.mnth == m)] for m in range(1, 13)}
    paths = []
    for m, current in months.items():
        paths.append(tmp_path / f"2012-{m:02d}.csv")
        current[columns].to_csv(paths[-1], index=False)
    for name, reference in scenarios.items():
        reference_path = tmp_path / "reference.csv"
        reference[columns].to_csv(reference_path, index=False)
        completed = subprocess.run(
            [
                python,
                str(ROOT / "benchmarks" / "evidently_agreement.py"),
                "--reference",
                str(reference_path),
                "--numerical",
                ",".join(BIKE_NUMERIC),
                "--categorical",
                ",".join(BIKE_CATEGORICAL),
                *map(str, paths),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        assert completed.returncode == 0, completed.stderr[-3000:]
        evidently = json.loads(completed.stdout)["results"]
        for m, path in zip(months, paths, strict=True):
            ours = bike_month_drift(reference, months[m])
            theirs = evidently[str(path)]
            for column in columns:
                mine, other = ours[column], theirs["columns"][column]
                where = f"{name}, 2012-{m:02d}, {column}"
                assert mine.method == other["method"], where
                assert mine.drifted == other["drifted"], where
                assert mine.score == pytest.approx(other["score"], rel=1e-6, abs=1e-12), where
            assert dataset_drift(list(ours.values())).share == pytest.approx(theirs["share"]), name


if __name__ == "__main__":  # pragma: no cover
    sys.exit(pytest.main([__file__, "-q"]))
