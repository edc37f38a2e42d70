"""A/B tests: each statistic against an independent computation, and simulated experiments with known
effects.

* the sample-ratio-mismatch test equals scipy's chi-square, the power equals statsmodels', the
  fixed-horizon test of rates equals statsmodels' two-proportion z-test, the posterior equals a
  Monte Carlo estimate;
* the DuckDB scan's per-arm, per-window statistics equal pandas on the raw log;
* a true effect of the minimum detectable size is detected at the horizon with the planned power,
  an A/A test is not (at α), also when the sequential analysis is read after every window, while
  reading a fixed-horizon test every window is not safe;
* a planted sample-ratio mismatch is flagged;
* a bandit's inverse-propensity weights recover a known effect an unweighted comparison misses, and
  a log whose split moved without propensities is refused;
* bad settings and logs are reported with file, line and key or column.
"""

from __future__ import annotations

import datetime as dt
import math
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError
from scipy import stats
from tests.workspace_factory import edit, write_workspace

from modelgov import manifest
from modelgov.analysis import ab_test as ab
from modelgov.analysis.experiment_report import Plan, report
from modelgov.errors import WorkspaceError
from modelgov.monitoring.experiment_scan import ExperimentColumns, MetricSpec, scan_experiment
from modelgov.monitoring.kpi_definitions import KpiSpec, Measure
from modelgov.monitoring.logsource import ScanError
from modelgov.workspace.experiment_schema import Experiment
from modelgov.workspace.load import load_workspace

START = pd.Timestamp("2026-09-07")


def plan(**changes) -> Plan:
    settings = {
        "name": "test",
        "challenger": "B",
        "champion": "A",
        "design": "fixed",
        "allocation": "fixed",
        "weighted": False,
        "split": 0.5,
        "window": "day",
        "mde": 0.02,
        "alpha": 0.05,
        "power": 0.8,
        "sample_size": 20_000,
        "end": None,
        "baseline": None,
        "sd": None,
        "mixing": None,
        "metric": "Converted",
        "metric_description": None,
        "kind": "rate",
        "unit": "percent",
        "direction": "higher",
    }
    return Plan(**{**settings, **changes})


def write_log(
    folder: Path,
    *,
    n: int = 12_000,
    rates: tuple[float, float] = (0.62, 0.60),
    split: float = 0.5,
    days: int = 14,
    seed: int = 3,
    outcome_share: float = 1.0,
) -> tuple[Path, Path, pd.DataFrame, pd.DataFrame]:
    """A log of ``n`` requests over ``days`` days split at random (challenger ``B``), with a rate
    (``converted``) in the outcomes for the first ``outcome_share`` of them and an amount in the log."""
    rng = np.random.default_rng(seed)
    moment = START + pd.to_timedelta(np.sort(rng.uniform(0, days * 86400, n)), unit="s")
    arm = np.where(rng.random(n) < split, "B", "A")
    converted = (rng.random(n) < np.where(arm == "B", rates[0], rates[1])).astype(int)
    log = pd.DataFrame(
        {
            "ts": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "rid": [f"r{i:06d}" for i in range(n)],
            "arm": arm,
            "amount": np.round(rng.gamma(2.0, 20.0, n), 2),
        }
    )
    known = rng.random(n) < outcome_share
    outcomes = pd.DataFrame({"rid": log["rid"][known], "converted": converted[known]})
    log_path, outcomes_path = folder / "log.csv", folder / "outcomes.csv"
    log.to_csv(log_path, index=False)
    outcomes.to_csv(outcomes_path, index=False)
    return log_path, outcomes_path, log, outcomes


COLUMNS = ExperimentColumns(timestamp="ts", id="rid", arm="arm", challenger="B", champion="A")
RATE = MetricSpec("rate", "converted", "outcomes")


def scan(log_path: Path, outcomes_path: Path, **kw):
    return scan_experiment(
        [log_path], kw.pop("columns", COLUMNS), kw.pop("metric", RATE), window="day", outcomes=[outcomes_path],
        outcomes_id="rid", **kw,
    )  # fmt: skip


# --------------------------------------------------------------------------- formulas against libraries


def test_srm_equals_scipy_chisquare() -> None:
    for counts, split in [((5_100, 4_900), 0.5), ((3_000, 7_200), 0.3), ((10, 12), 0.5)]:
        found = ab.srm(*counts, split)
        total = sum(counts)
        expected = stats.chisquare(counts, [total * split, total * (1 - split)])
        assert found.statistic == pytest.approx(expected.statistic, rel=1e-12)
        assert found.p_value == pytest.approx(expected.pvalue, rel=1e-10)
    assert ab.srm(5_100, 4_900, 0.5).mismatch is False and ab.srm(5_300, 4_700, 0.5).mismatch is True


def test_allocation_drift_equals_scipy_contingency() -> None:
    table = [(120, 118), (150, 90), (80, 160)]
    statistic, p = ab.allocation_drift(table)  # type: ignore[misc]
    expected = stats.chi2_contingency(np.array(table), correction=False)
    assert statistic == pytest.approx(expected[0]) and p == pytest.approx(expected[1])


@pytest.mark.parametrize(("baseline", "mde", "split", "total"), [(0.6, 0.02, 0.5, 20_000), (0.1, -0.01, 0.3, 30_000)])
def test_power_of_rates_equals_statsmodels(baseline: float, mde: float, split: float, total: int) -> None:
    from statsmodels.stats.proportion import power_proportions_2indep

    found = ab.power("rate", total=total, split=split, mde=mde, alpha=0.05, baseline=baseline)
    nobs1 = total * split
    expected = power_proportions_2indep(
        mde, baseline, nobs1, ratio=(1 - split) / split, alpha=0.05, return_results=False
    )
    assert found == pytest.approx(expected, rel=1e-12)


def test_power_of_means_equals_statsmodels() -> None:
    from statsmodels.stats.power import NormalIndPower

    found = ab.power("mean", total=1_000, split=0.4, mde=0.3, alpha=0.05, baseline=0.0, sd=2.0)
    assert found == pytest.approx(NormalIndPower().power(0.15, 400, 0.05, ratio=1.5), rel=1e-12)


def test_required_sample_size_is_the_smallest_that_reaches_the_power() -> None:
    settings = {"split": 0.5, "mde": 0.02, "alpha": 0.05, "baseline": 0.6}
    needed = ab.required_total("rate", target=0.8, **settings)
    assert ab.power("rate", total=needed, **settings) >= 0.8 > ab.power("rate", total=needed - 1, **settings)


def test_fixed_test_of_rates_equals_the_two_proportion_z_test() -> None:
    first, second = ab.Moments(1_000, 620, 620), ab.Moments(1_000, 580, 580)
    found = ab.fixed_test(
        ab.plain_estimate(first, "rate"), ab.plain_estimate(second, "rate"), 0.05, pooled=first + second
    )  # type: ignore[arg-type]
    from statsmodels.stats.proportion import proportions_ztest

    z, p = proportions_ztest([620, 580], [1_000, 1_000])
    assert found.statistic == pytest.approx(z) and found.p_value == pytest.approx(p)
    se = math.sqrt(0.62 * 0.38 / 1_000 + 0.58 * 0.42 / 1_000)
    assert (found.low, found.high) == pytest.approx((0.04 - 1.959964 * se, 0.04 + 1.959964 * se), rel=1e-6)


def test_posterior_probability_equals_monte_carlo() -> None:
    rng = np.random.default_rng(11)
    for successes, n in [((620, 600), (1_000, 1_000)), ((9, 4), (20, 18))]:
        found = ab.prob_better_beta(successes, n, higher=True)
        first = rng.beta(1 + successes[0], 1 + n[0] - successes[0], 2_000_000)
        second = rng.beta(1 + successes[1], 1 + n[1] - successes[1], 2_000_000)
        assert found == pytest.approx((first > second).mean(), abs=0.002)
        assert ab.prob_better_beta(successes, n, higher=False) == pytest.approx(1 - found)
    assert ab.prob_better_normal(0.01, 0.01, higher=True) == pytest.approx(stats.norm.cdf(1.0))


def test_msprt_matches_the_published_formula() -> None:
    """Johari et al. (2022), eq. 11: with n per arm and variance σ², Λ = √(2σ²/(2σ² + nτ²)) ·
    exp(n²τ²δ²/(4σ²(2σ² + nτ²)))."""
    sigma2, n, tau, delta = 0.24, 5_000, 0.02, 0.015
    (look,) = ab.msprt([delta], [2 * sigma2 / n], tau, 0.05)
    expected = math.sqrt(2 * sigma2 / (2 * sigma2 + n * tau**2)) * math.exp(
        n**2 * tau**2 * delta**2 / (4 * sigma2 * (2 * sigma2 + n * tau**2))
    )
    assert look.likelihood_ratio == pytest.approx(expected, rel=1e-12)
    assert look.p_value == pytest.approx(min(1.0, 1 / expected))

    # the confidence sequence holds exactly the differences θ the test of "the difference is θ" would
    # not reject at 1/α = 20: the test of θ is the test of zero on δ̂ − θ
    def ratio(theta: float) -> float:
        return ab.msprt([delta - theta], [2 * sigma2 / n], tau, 0.05)[0].likelihood_ratio

    assert ratio(look.high - 1e-7) < 20 < ratio(look.high + 1e-7)
    assert ratio(look.low + 1e-7) < 20 < ratio(look.low - 1e-7)


# --------------------------------------------------------------------------- the scan against pandas


def test_scan_per_arm_and_window_equals_pandas(tmp_path: Path) -> None:
    log_path, outcomes_path, log, outcomes = write_log(tmp_path, outcome_share=0.7)
    kpi = KpiSpec("amount", Measure("mean", ("amount",)), "log", "higher", 0.0)
    found = scan(log_path, outcomes_path, kpis=[kpi])
    joined = log.merge(outcomes, on="rid", how="left")
    joined["day"] = pd.to_datetime(joined["ts"]).dt.floor("D")
    assert [w.start.date() for w in found.windows] == sorted(joined["day"].dt.date.unique())
    for window in found.windows:
        day = joined[joined["day"].dt.date == window.start.date()]
        for arm, value in (("challenger", "B"), ("champion", "A")):
            rows = day[day["arm"] == value]
            got = window.arms[arm]  # type: ignore[index]
            values = rows["converted"].dropna()
            assert got.requests == len(rows)
            assert got.matched == rows["converted"].notna().sum()
            assert got.metric.n == len(values) and got.metric.total == pytest.approx(values.sum())
            assert got.metric.w == len(values)  # no propensities: every weight is 1
    for arm, value in (("challenger", "B"), ("champion", "A")):
        amounts = log.loc[log["arm"] == value, "amount"]
        statistics = found.kpi_totals["amount"][0 if arm == "challenger" else 1]
        assert statistics.n == len(amounts) and statistics.total == pytest.approx(amounts.sum())
        assert statistics.variance == pytest.approx(amounts.var(ddof=1), rel=1e-9)


def test_negative_values_of_a_mean_count_in_the_metric_and_the_kpis(tmp_path: Path) -> None:
    """A mean metric or KPI can be negative (a profit, a change in balance): every value counts, and
    only a rate refuses what is neither true nor false. (A rate's marker for such a value is
    negative, and the mean's values were filtered by it too: a profit of -10 was left out, and
    counted nowhere.)"""
    log_path, outcomes_path, log, _ = write_log(tmp_path, n=2_000)
    log["amount"] = log["amount"] - 40.0  # about a third below zero
    log.to_csv(log_path, index=False)
    mean_kpi = KpiSpec("amount", Measure("mean", ("amount",)), "log", "higher", 0.0)
    total_kpi = KpiSpec("amount_total", Measure("sum", ("amount",)), "log", "higher", 0.0)
    found = scan(log_path, outcomes_path, metric=MetricSpec("mean", "amount", "log"), kpis=[mean_kpi, total_kpi])
    assert (log["amount"] < 0).mean() > 0.2
    for index, value in enumerate(("B", "A")):
        amounts = log.loc[log["arm"] == value, "amount"]
        arm = "challenger" if value == "B" else "champion"
        metric = [w.arms[arm].metric for w in found.windows if arm in w.arms]
        assert sum(m.n for m in metric) == len(amounts)
        assert sum(m.total for m in metric) == pytest.approx(amounts.sum(), rel=1e-12)
        for name in ("amount", "amount_total"):
            statistics = found.kpi_totals[name][index]
            assert statistics.n == len(amounts) and statistics.total == pytest.approx(amounts.sum(), rel=1e-12)


def test_the_report_equals_an_independent_computation(tmp_path: Path) -> None:
    log_path, outcomes_path, log, outcomes = write_log(tmp_path, outcome_share=0.8)
    found = report(scan(log_path, outcomes_path), plan(sample_size=50_000), log=[], outcomes=None)
    joined = log.merge(outcomes, on="rid")
    b, a = (joined.loc[joined["arm"] == v, "converted"] for v in ("B", "A"))
    assert found.arms[0].metric.value == pytest.approx(b.mean()) and found.arms[1].metric.value == pytest.approx(
        a.mean()
    )
    wilson = proportion_confint_wilson(b.sum(), len(b))
    assert (found.arms[0].metric.interval.low, found.arms[0].metric.interval.high) == pytest.approx(wilson)
    assert found.difference.delta == pytest.approx(b.mean() - a.mean())
    se = math.sqrt(b.mean() * (1 - b.mean()) / len(b) + a.mean() * (1 - a.mean()) / len(a))
    assert found.difference.stderr == pytest.approx(se)
    srm = stats.chisquare([(log["arm"] == "B").sum(), (log["arm"] == "A").sum()])
    assert found.srm.p_value == pytest.approx(srm.pvalue)
    assert found.status == "running" and found.fixed is None  # short of the horizon: no fixed-horizon result
    assert found.horizon.records == len(joined) and not found.horizon.at_horizon
    # at the horizon the fixed-horizon test is computed, on the records up to the window that reached it
    reached = report(scan(log_path, outcomes_path), plan(sample_size=len(joined) // 2), log=[], outcomes=None)
    assert reached.status == "at horizon" and reached.fixed is not None
    assert len(joined) // 2 <= reached.fixed.difference.records < len(joined)


def proportion_confint_wilson(successes: int, n: int) -> tuple[float, float]:
    from statsmodels.stats.proportion import proportion_confint

    return proportion_confint(successes, n, alpha=0.05, method="wilson")


def test_a_planted_sample_ratio_mismatch_is_flagged(tmp_path: Path) -> None:
    log_path, outcomes_path, _, _ = write_log(tmp_path, split=0.53)
    found = report(scan(log_path, outcomes_path), plan(), log=[], outcomes=None)
    assert found.srm is not None and found.srm.mismatch and found.srm.p_value < 0.001
    healthy = write_log(tmp_path, split=0.5, seed=4)
    assert not report(scan(*healthy[:2]), plan(), log=[], outcomes=None).srm.mismatch  # type: ignore[union-attr]


def test_bad_log_values_are_refused_naming_the_column(tmp_path: Path) -> None:
    log_path, outcomes_path, log, _ = write_log(tmp_path, n=200)
    log.loc[5, "arm"] = "C"
    log.to_csv(log_path, index=False)
    with pytest.raises(ScanError, match=r"log.csv: column 'arm' holds 'C' in 1 request"):
        scan(log_path, outcomes_path)
    log.loc[5, "arm"] = "A"
    log.loc[7, "rid"] = log.loc[8, "rid"]
    log.to_csv(log_path, index=False)
    with pytest.raises(ScanError, match=r"request id 'r000008' \(column 'rid'\) appears 2 times"):
        scan(log_path, outcomes_path)
    log.loc[7, "rid"] = "r000007"
    log["p"] = 0.5
    log.loc[9, "p"] = 0.0
    log.to_csv(log_path, index=False)
    weighted = ExperimentColumns("ts", "rid", "arm", "B", "A", propensity="p")
    with pytest.raises(ScanError, match=r"column 'p' holds '0.0' \(1 request\(s\)\); a propensity is the probability"):
        scan(log_path, outcomes_path, columns=weighted)
    # the rules are reported in the order above, whatever else is broken: an id missing twice comes
    # before the propensity, an arm missing before both
    log.loc[[3, 4], "rid"] = None
    log.to_csv(log_path, index=False)
    with pytest.raises(ScanError, match=r"log.csv: column 'rid' is empty in 2 request\(s\)"):
        scan(log_path, outcomes_path, columns=weighted)
    log.loc[6, "arm"] = None
    log.to_csv(log_path, index=False)
    with pytest.raises(ScanError, match=r"log.csv: column 'arm' holds an empty value in 1 request"):
        scan(log_path, outcomes_path, columns=weighted)
    log["p"] = log["p"].astype(object)
    log.loc[9, "p"] = "abc"  # not a number: found only once the arm and the id hold
    log.to_csv(log_path, index=False)
    with pytest.raises(ScanError, match=r"log.csv: column 'arm' holds an empty value in 1 request"):
        scan(log_path, outcomes_path, columns=weighted)


# --------------------------------------------------------------------------- simulated experiments


def _rates(rng: np.random.Generator, sims: int, n: int, p: tuple[float, float]) -> np.ndarray:
    return np.stack([rng.binomial(n, p[0], sims), rng.binomial(n, p[1], sims)], axis=1)


def test_a_true_effect_is_detected_at_the_horizon_with_the_planned_power() -> None:
    """400 experiments planned for 80% power at the minimum detectable effect, read once at the
    horizon: the detection rate is 0.80 within 0.06 (three binomial standard errors)."""
    rng = np.random.default_rng(2026)
    baseline, mde = 0.30, 0.03
    total = ab.required_total("rate", split=0.5, mde=mde, alpha=0.05, target=0.8, baseline=baseline)
    n = total // 2 + 1
    counts = _rates(rng, 400, n, (baseline + mde, baseline))
    detected = 0
    for b, a in counts:
        first, second = ab.Moments(n, b, b), ab.Moments(n, a, a)
        test = ab.fixed_test(
            ab.plain_estimate(first, "rate"), ab.plain_estimate(second, "rate"), 0.05, pooled=first + second
        )  # type: ignore[arg-type]
        detected += test.p_value < 0.05
    assert abs(detected / 400 - 0.8) < 0.06


def _looks(rng: np.random.Generator, sims: int, windows: int, per_window: int, p: float) -> np.ndarray:
    """Cumulative successes per window of two arms with the same rate: shape (sims, windows, 2)."""
    daily = rng.binomial(per_window, p, size=(sims, windows, 2))
    return np.cumsum(daily, axis=1)


@pytest.mark.slow
def test_an_aa_test_is_not_detected_at_alpha_even_when_the_sequential_analysis_is_read_every_window() -> None:
    """400 A/A experiments, 30 windows each. Read once at the horizon, the fixed-horizon test rejects
    at about α; read after every window it rejects far more often (peeking); the always-valid
    sequential analysis, read after every window, stays at or below α (within two standard errors)."""
    rng = np.random.default_rng(7)
    sims, windows, per_window, p, alpha = 400, 30, 300, 0.3, 0.05
    cumulative = _looks(rng, sims, windows, per_window, p)
    once = peeking = sequential = 0
    for run in cumulative:
        deltas, variances, peeked = [], [], False
        for k, (b, a) in enumerate(run, start=1):
            n = per_window * k
            first, second = ab.Moments(n, b, b), ab.Moments(n, a, a)
            estimates = ab.plain_estimate(first, "rate"), ab.plain_estimate(second, "rate")
            test = ab.fixed_test(*estimates, alpha, pooled=first + second)  # type: ignore[arg-type]
            peeked = peeked or test.p_value < alpha
            deltas.append(test.delta)
            variances.append(test.stderr**2)
        once += test.p_value < alpha
        peeking += peeked
        sequential += ab.msprt(deltas, variances, 0.02, alpha)[-1].p_value <= alpha
    error = 2 * math.sqrt(alpha * (1 - alpha) / sims)
    assert abs(once / sims - alpha) < 2 * error
    assert peeking / sims > 2 * alpha  # why the page warns against peeking
    assert sequential / sims <= alpha + error


@pytest.mark.slow
def test_the_sequential_analysis_detects_a_true_effect() -> None:
    rng = np.random.default_rng(8)
    sims, windows, per_window = 200, 30, 300
    daily = np.stack(
        [rng.binomial(per_window, 0.33, (sims, windows)), rng.binomial(per_window, 0.30, (sims, windows))], axis=2
    )
    cumulative = np.cumsum(daily, axis=1)
    found = 0
    for run in cumulative:
        n = per_window * np.arange(1, windows + 1)
        b, a = run[:, 0] / n, run[:, 1] / n
        variances = b * (1 - b) / n + a * (1 - a) / n
        found += ab.msprt(list(b - a), list(variances), 0.03, 0.05)[-1].p_value <= 0.05
    assert found / sims > 0.8


def _bandit(rng: np.random.Generator, n: int, effect: float) -> pd.DataFrame:
    """Requests over 10 days; the challenger's share grows from 20% to 80% while the metric itself
    rises over time for both arms (a seasonal lift): an unweighted comparison credits the challenger
    with the lift. The propensity is the probability of the arm that served the request."""
    day = np.sort(rng.integers(0, 10, n))
    share = 0.2 + 0.6 * day / 9
    arm = np.where(rng.random(n) < share, "B", "A")
    propensity = np.where(arm == "B", share, 1 - share)
    rate = 0.2 + 0.03 * day + np.where(arm == "B", effect, 0.0)
    moment = START + pd.to_timedelta(day, unit="D") + pd.to_timedelta(rng.integers(0, 86_400, n), unit="s")
    return pd.DataFrame(
        {
            "ts": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "rid": [f"r{i:06d}" for i in range(n)],
            "arm": arm,
            "p": np.round(propensity, 6),
            "converted": (rng.random(n) < rate).astype(int),
        }
    )


@pytest.mark.slow
def test_a_bandit_is_compared_with_inverse_propensity_weights_without_bias(tmp_path: Path) -> None:
    """With a known effect of +0.02, the weighted difference averages 0.02 over 40 simulated bandits
    (within three standard errors of that mean) and its 95% interval covers it in most of them,
    while the unweighted difference is biased by the moving split."""
    rng = np.random.default_rng(5)
    columns = ExperimentColumns("ts", "rid", "arm", "B", "A", propensity="p")
    metric = MetricSpec("rate", "converted", "log")
    weighted, plain, covered = [], [], 0
    for i in range(40):
        frame = _bandit(rng, 6_000, 0.02)
        path = tmp_path / f"bandit-{i}.csv"
        frame.to_csv(path, index=False)
        found = report(
            scan_experiment([path], columns, metric, window="day"),
            plan(allocation="adaptive", weighted=True),
            log=[],
            outcomes=None,
        )
        assert found.status == "running" and found.srm is None and found.allocation_check.moved  # type: ignore[union-attr]
        weighted.append(found.difference.delta)  # type: ignore[union-attr]
        covered += found.difference.interval.low <= 0.02 <= found.difference.interval.high  # type: ignore[union-attr]
        means = frame.groupby("arm")["converted"].mean()
        plain.append(means["B"] - means["A"])
    spread = np.std(weighted, ddof=1) / math.sqrt(len(weighted))
    assert abs(np.mean(weighted) - 0.02) < 3 * spread
    assert np.mean(plain) - 0.02 > 5 * spread  # the unweighted comparison credits the challenger with the lift
    assert covered / 40 > 0.8


def test_a_moving_split_without_propensities_is_refused(tmp_path: Path) -> None:
    frame = _bandit(np.random.default_rng(1), 6_000, 0.0).drop(columns="p")
    path = tmp_path / "moved.csv"
    frame.to_csv(path, index=False)
    found = report(
        scan_experiment([path], COLUMNS, MetricSpec("rate", "converted", "log"), window="day"),
        plan(),
        log=[],
        outcomes=None,
    )
    assert found.status == "refused" and "no propensity is logged" in (found.refusal or "")
    assert found.difference is None and found.sequential is None and found.posterior is None
    assert all(arm.metric is None for arm in found.arms)


def test_an_adaptive_allocation_needs_propensities() -> None:
    settings = {
        "name": "bandit",
        "log": "log.csv",
        "timestamp": "ts",
        "id": "rid",
        "arm": "arm",
        "champion": "1.0",
        "split": 0.5,
        "allocation": "adaptive",
        "design": {"type": "sequential", "minimum_detectable_effect": 0.02},
        "metric": {"aggregation": "rate", "column": "converted", "direction": "higher"},
    }
    with pytest.raises(ValidationError, match="log each request's probability of its arm"):
        Experiment.model_validate(settings)
    assert Experiment.model_validate({**settings, "propensity": "p"}).propensity == "p"


# --------------------------------------------------------------------------- through the workspace


EXPERIMENT = """\
experiment:
  name: Approval A/B test
  log: data/ab-log.csv
  timestamp: ts
  id: rid
  arm: arm
  champion: "1.0"
  split: 0.5
  design:
    type: fixed
    sample_size: 9000
    minimum_detectable_effect: 0.03
  metric:
    aggregation: rate
    column: converted
    table: outcomes
    direction: higher
    title: Converted
  outcomes:
    data: data/ab-outcomes.csv
    id: rid
"""


def _with_experiment(root: Path) -> Path:
    write_workspace(root)
    version = root / "models/loans/versions/1.1"
    version.mkdir(parents=True)
    text = (root / "models/loans/versions/1.0/version.yml").read_text(encoding="utf-8")
    text = text.replace("status: production", "status: candidate").replace("summary: First version.", "summary: B.")
    (version / "version.yml").write_text(text + textwrap.dedent(EXPERIMENT), encoding="utf-8")
    log = write_log(root / "data", n=6_000, outcome_share=0.9)
    log[0].rename(root / "data/ab-log.csv")
    log[1].rename(root / "data/ab-outcomes.csv")
    return root


def _arms_as_versions(root: Path) -> None:
    log = pd.read_csv(root / "data/ab-log.csv")
    log["arm"] = log["arm"].map({"B": "1.1", "A": "1.0"})
    log.to_csv(root / "data/ab-log.csv", index=False)


def test_the_build_puts_the_test_in_the_manifest(tmp_path: Path) -> None:
    from modelgov.assemble import build_manifest
    from modelgov.policy.evidence_index import evidence_index

    root = _with_experiment(tmp_path / "ws")
    _arms_as_versions(root)
    built = build_manifest(load_workspace(root))
    model = built.model("loans")
    version = next(v for v in model.versions if v.version == "1.1")
    test = version.experiment
    assert test is not None and test.champion == "1.0" and test.status == "running"
    assert [a.version for a in test.arms] == ["1.1", "1.0"] and test.log[0].path == "data/ab-log.csv"
    evidence = evidence_index(model, version, dt.date(2026, 10, 1))
    assert evidence["experiment.at_horizon"].value is False
    assert evidence["experiment.delta"].value == pytest.approx(test.difference.delta)  # type: ignore[union-attr]
    assert "experiment.fixed.p_value" not in evidence  # no fixed-horizon verdict before the horizon
    assert evidence["experiment.srm_p_value"].page == "models/loans/1.1/ab-test.html#design-checks"


@pytest.mark.parametrize(
    ("old", "new", "key", "message"),
    [
        ('champion: "1.0"', 'champion: "0.9"', "experiment.champion", "'0.9' is not a version of loans"),
        ("  arm: arm\n", "  arm: branch\n", "experiment.arm", "column 'branch' is not in data/ab-log.csv"),
        ("    column: converted", "    column: convertd", "experiment.metric.column", "did you mean 'converted'"),
        ("    sample_size: 9000\n", "", "experiment.design", "a fixed-horizon test needs its horizon"),
    ],
)
def test_bad_settings_name_the_file_line_and_key(tmp_path: Path, old: str, new: str, key: str, message: str) -> None:
    root = _with_experiment(tmp_path / "ws")
    edit(root, "models/loans/versions/1.1/version.yml", old, new)
    with pytest.raises(WorkspaceError) as caught:
        load_workspace(root)
    found = [str(p) for p in caught.value.problems]
    assert any(p.startswith("models/loans/versions/1.1/version.yml:") and key in p and message in p for p in found), (
        found
    )


def test_the_cookbook_recipe_reads_the_test(tmp_path: Path) -> None:
    """The cookbook's A/B test policy on a running fixed-horizon test: the design rules are evaluated,
    the fixed-horizon rule waits for the horizon, the sequential rule may be read now."""
    import re

    from modelgov.assemble import build_manifest

    root = _with_experiment(tmp_path / "ws")
    _arms_as_versions(root)
    cookbook = (Path(__file__).resolve().parents[1] / "docs" / "policy-cookbook.md").read_text(encoding="utf-8")
    recipe = re.search(r"```yaml\n# policies/ab-test.yml\n(.*?)```", cookbook, flags=re.S)
    assert recipe is not None
    (root / "policies").mkdir()
    (root / "policies/ab-test.yml").write_text(recipe.group(1), encoding="utf-8")
    built = build_manifest(load_workspace(root), as_of=dt.date(2026, 10, 1))
    outcomes = {r.rule: r.outcome for r in built.governance.results if r.policy == "ab-test" and r.version == "1.1"}
    assert outcomes["no-sample-ratio-mismatch"] == "pass"
    assert outcomes["planned-power"] == "pass"  # about 8,300 records detect 3 points from 60% at 80% power
    assert outcomes["not-worse-at-horizon"] == "not-applicable"  # short of the horizon: no verdict on a peek
    assert outcomes["not-worse-sequentially"] == "pass"  # the log's true effect is +2 points


@pytest.mark.parametrize("outside", ["../ab-log.csv", "/etc/passwd"])
def test_an_experiment_log_outside_the_workspace_is_refused(tmp_path: Path, outside: str) -> None:
    """Only files inside the workspace: a pull request cannot point the A/B analysis at a file
    elsewhere on the CI machine."""
    root = _with_experiment(tmp_path / "ws")
    (root.parent / "ab-log.csv").write_text((root / "data/ab-log.csv").read_text(), encoding="utf-8")
    edit(root, "models/loans/versions/1.1/version.yml", "  log: data/ab-log.csv", f"  log: {outside!r}")
    with pytest.raises(WorkspaceError) as caught:
        load_workspace(root)
    found = [str(p) for p in caught.value.problems]
    assert any(p.startswith("models/loans/versions/1.1/version.yml:") and "experiment" in p for p in found), found


# --------------------------------------------------------------------------- the KPIs per arm, as the page words them


def _kpi(**changes) -> manifest.Kpi:
    settings = {"name": "k", "title": "K", "description": "d", "aggregation": "mean", "columns": ["x"],
                "table": "log", "direction": "higher", "target": 0.0}  # fmt: skip
    return manifest.Kpi(**{**settings, **changes})


def item_of(difference: float) -> manifest.AbKpi:
    return manifest.AbKpi(name="k", difference=difference)


def test_each_arms_kpi_is_shown_in_its_own_unit_with_its_records() -> None:
    from modelgov.render import experiment_views as views

    profit = _kpi(unit="currency", symbol="€")
    value = manifest.KpiValue(
        value=-12.5, interval=manifest.KpiInterval(low=-20.0, high=-5.0, level=0.95), count=40, missing=10
    )
    assert views.kpi_in_arm(profit, value) == "−€12.50 (−€20.00 – −€5.00)"
    plain = _kpi(decimals=1)
    assert views.kpi_in_arm(plain, value.model_copy(update={"interval": None})) == "−12.5"
    assert views.kpi_difference(plain, item_of(0.0)) == "0.0" and views.kpi_difference(plain, item_of(-0.25)) == "−0.2"
    # always "n of N": the records with a value of those in scope
    empty = manifest.KpiValue(value=None, count=0, missing=257)
    assert views.kpi_records(value, empty) == "40 of 50 · 0 of 257"
    assert views.kpi_in_arm(plain, empty) == "no value" and views.kpi_in_arm(plain, None) == "no value yet"
    item = manifest.AbKpi(
        name="k", challenger=value, champion=value, difference=-3.25,
        difference_interval=manifest.KpiInterval(low=-7.0, high=0.5, level=0.95),
    )  # fmt: skip
    assert views.kpi_difference(profit, item) == "−€3.25 (−€7.00 to +€0.50)"
    share = _kpi(aggregation="rate", unit="percent")
    rate = item.model_copy(update={"difference": -0.0311, "difference_interval": manifest.KpiInterval(
        low=-0.1352, high=0.073, level=0.95)})  # fmt: skip
    assert views.kpi_difference(share, rate) == "−3.11 points (−13.52 to +7.30 points)"


def test_a_total_is_shown_per_arm_but_not_compared(tmp_path: Path) -> None:
    """An arm's total grows with its share of the requests: with a 30/70 split the larger arm's total
    would win whatever each request brings, so a sum KPI gets each arm's value and no verdict."""
    from modelgov.analysis.experiment_report import TOTAL_NOT_COMPARED

    log_path, outcomes_path, log, _ = write_log(tmp_path, split=0.3)
    kpi = KpiSpec("amount_total", Measure("sum", ("amount",)), "log", "higher", 0.0)
    found = report(scan(log_path, outcomes_path, kpis=[kpi]), plan(split=0.3), log=[], outcomes=None, kpis=[kpi])
    (item,) = found.kpis
    assert item.challenger.value == pytest.approx(log.loc[log["arm"] == "B", "amount"].sum())
    assert item.champion.value == pytest.approx(log.loc[log["arm"] == "A", "amount"].sum())
    assert item.difference is None and item.verdict is None and item.not_compared == TOTAL_NOT_COMPARED
