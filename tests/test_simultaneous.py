"""The band that covers every metric's delta at once (bootstrap sup-t), checked against a
simulation with known truth, against Bonferroni's bound, and on a real comparison."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from modelgov.analysis.comparison import RunArrays, metric_deltas, pair_rows
from modelgov.analysis.resampling import Resampling
from modelgov.analysis.simultaneous import sup_t_band, sup_t_critical
from modelgov.manifest import Interval, MetricDelta
from modelgov.render.views import comparison_tally, holds_jointly, joint_verdict

LEVEL = 0.95


def _correlated(k: int, rho: float, draws: int, rng: np.random.Generator) -> np.ndarray:
    cov = np.full((k, k), rho) + (1 - rho) * np.eye(k)
    return rng.multivariate_normal(np.zeros(k), cov, size=draws)


def test_critical_value_matches_the_known_quantile_of_the_largest_of_k_normals() -> None:
    """For k independent standard normal 'resamples', c is the quantile q with P(max|Z_i| ≤ q) = 0.95,
    i.e. (2Φ(q) − 1)^k = 0.95 — known in closed form."""
    rng = np.random.default_rng(0)
    k = 9
    draws = rng.standard_normal((200_000, k))
    samples = {f"m{i}": draws[:, i] for i in range(k)}
    critical, errors = sup_t_critical(samples, dict.fromkeys(samples, 0.0), LEVEL)
    expected = stats.norm.ppf((1 + LEVEL ** (1 / k)) / 2)
    assert critical == pytest.approx(expected, abs=0.02)
    assert all(se == pytest.approx(1.0, abs=0.01) for se in errors.values())


def test_correlated_metrics_need_less_than_bonferroni_and_more_than_one_at_a_time() -> None:
    rng = np.random.default_rng(1)
    k = 9
    draws = _correlated(k, 0.8, 50_000, rng)
    critical, _ = sup_t_critical({f"m{i}": draws[:, i] for i in range(k)}, {f"m{i}": 0.0 for i in range(k)}, LEVEL)
    one_at_a_time = stats.norm.ppf(1 - (1 - LEVEL) / 2)
    bonferroni = stats.norm.ppf(1 - (1 - LEVEL) / (2 * k))
    assert one_at_a_time < critical < bonferroni


def test_the_band_covers_every_true_difference_together_about_95_percent_of_the_time() -> None:
    """Known truth: nine correlated estimates around true values of zero, each study bootstrapped by a
    parametric resample of its own estimate. Per-metric 95 % intervals all cover together far less
    often than 95 %; the joint band does about 95 %."""
    rng = np.random.default_rng(2)
    k, studies, resamples = 9, 600, 1000
    cov = np.full((k, k), 0.3) + 0.7 * np.eye(k)
    joint_covers = separate_covers = 0
    for _ in range(studies):
        estimate = rng.multivariate_normal(np.zeros(k), cov)
        boot = estimate + rng.multivariate_normal(np.zeros(k), cov, size=resamples)
        samples = {f"m{i}": boot[:, i] for i in range(k)}
        band = sup_t_band(samples, {f"m{i}": estimate[i] for i in range(k)}, LEVEL)
        joint_covers += all(low <= 0 <= high for low, high in band.values())
        low, high = np.percentile(boot, [2.5, 97.5], axis=0)  # each covers its true value 95 % of the time
        separate_covers += bool(np.all((low <= 0) & (high >= 0)))
    assert joint_covers / studies == pytest.approx(0.95, abs=0.03)
    assert separate_covers / studies < 0.8


def test_a_metric_without_spread_gets_a_zero_width_band_and_undefined_resamples_are_left_out() -> None:
    rng = np.random.default_rng(3)
    varying = rng.standard_normal(1000)
    sometimes = rng.standard_normal(1000)
    sometimes[:100] = np.nan
    band = sup_t_band(
        {"same": np.zeros(1000), "varying": varying, "sometimes": sometimes, "rare": np.full(1000, np.nan)},
        {"same": 0.0, "varying": 0.1, "sometimes": -0.2, "rare": 0.5},
        LEVEL,
    )
    assert band["same"] == (0.0, 0.0)
    assert "rare" not in band, "a metric defined in too few resamples gets no band"
    assert band["varying"][0] < 0.1 < band["varying"][1]
    assert band["sometimes"][0] < -0.2 < band["sometimes"][1]


def _models(n: int, seed: int, gain: float):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    signal = rng.normal(0, 1, n)
    old = 1 / (1 + np.exp(-(1.0 * (2 * y - 1) + signal)))
    new = 1 / (1 + np.exp(-((1.0 + gain) * (2 * y - 1) + signal + rng.normal(0, 0.05, n))))
    return RunArrays(y, (new >= 0.5).astype(int), new), RunArrays(y, (old >= 0.5).astype(int), old)


def test_every_delta_of_a_comparison_carries_its_part_of_the_band() -> None:
    new, old = _models(3000, 4, 0.4)
    deltas = metric_deltas(
        new, old, pair_rows(new, old, row_id=None), task="binary_classification", resampling=Resampling(500)
    )
    assert len(deltas) == 9
    for delta in deltas:
        joint = delta.joint_interval
        assert joint is not None and joint.level == LEVEL and joint.resamples == 500
        assert "9 metrics together" in joint.method
        assert joint.low <= delta.delta <= joint.high
        # the joint band is wider than the metric's own interval (both at 95 %)
        assert joint.high - joint.low >= 0.9 * (delta.interval.high - delta.interval.low)
    auc = next(d for d in deltas if d.name == "roc_auc")
    assert holds_jointly(auc) is True, "a large, real improvement holds when the nine are judged together"


def _delta(low: float, high: float, joint_low: float, joint_high: float, higher_is_better: bool = True) -> MetricDelta:
    interval = Interval(low=low, high=high, level=0.95, resamples=1000, method="m")
    joint = Interval(low=joint_low, high=joint_high, level=0.95, resamples=1000, method="j")
    return MetricDelta(
        name="x",
        label="X",
        this=1,
        other=1,
        delta=(low + high) / 2,
        interval=interval,
        higher_is_better=higher_is_better,
        joint_interval=joint,
    )


def test_the_cards_words_follow_the_band() -> None:
    assert joint_verdict(_delta(0.01, 0.03, 0.005, 0.035)) == "holds"
    assert joint_verdict(_delta(0.001, 0.03, -0.004, 0.035)) == "may be chance"
    assert joint_verdict(_delta(-0.03, -0.001, -0.035, 0.002, higher_is_better=False)) == "may be chance"
    assert joint_verdict(_delta(-0.03, -0.01, -0.035, -0.005, higher_is_better=False)) == "holds"
    assert joint_verdict(_delta(-0.01, 0.01, -0.02, 0.02)) == "", "no verdict to judge"
    older = _delta(0.01, 0.03, 0, 0).model_copy(update={"joint_interval": None})
    assert holds_jointly(older) is None, "a manifest written before the band: nothing is claimed"


class _Comparison:
    def __init__(self, deltas):
        self.deltas = deltas


def test_the_tally_counts_what_holds_together() -> None:
    tally = comparison_tally(
        _Comparison(
            [_delta(0.01, 0.03, 0.005, 0.035), _delta(0.001, 0.03, -0.004, 0.035), _delta(-0.01, 0.01, -0.02, 0.02)]
        )
    )
    assert (tally["better"], tally["no clear difference"]) == (2, 1)
    assert (tally["judged jointly"], tally["hold jointly"]) == (2, 1)
