"""The statistics of an A/B test, on sufficient statistics only (no rows), so they run on what one
DuckDB ``GROUP BY`` returns and can be checked against independent computations.

The design is checked before any result is read:

* **sample-ratio mismatch** (:func:`srm`): Pearson's chi-square goodness-of-fit of the arms' request
  counts against the planned split, flagged at p < :data:`SRM_ALPHA` (0.001, the customary threshold:
  with many tests a day, a looser one would flag healthy experiments);
* **allocation over time** (:func:`allocation_drift`): a chi-square test of homogeneity of the arms'
  shares across windows; a split that moves (a bandit) biases an unweighted comparison when the
  metric also moves over time;
* **power** (:func:`power`, :func:`required_total`): the power of the test below at the planned
  sample size for the stated minimum detectable effect, and the sample size that would reach the
  stated power (the formulas of statsmodels' ``power_proportions_2indep`` and ``NormalIndPower``).

The results:

* **fixed horizon** (:func:`fixed_test`): a two-sided z-test; for rates with the pooled variance
  under the null (the classic two-proportion test), for means (and weighted estimates) Welch's
  unpooled variance; the difference's interval is the unpooled Wald interval;
* **always valid** (:func:`msprt`): the mixture sequential probability ratio test of Johari, Koomen,
  Pekelis and Walsh ("Always valid inference: continuous monitoring of A/B tests", Operations
  Research 70(3), 2022), with a normal mixture of variance τ² over the difference, on the normal
  approximation of the difference of the arms' estimates: an always-valid p-value and a confidence
  sequence that may be read after every window;
* **Bayesian** (:func:`prob_better_beta`, :func:`prob_better_normal`): the posterior probability that
  the challenger is better, under independent uniform Beta(1, 1) priors for rates, or a flat prior on
  each arm's mean with the normal approximation for means and weighted estimates.

A bandit's log (the split changes over time, each request's probability of its arm logged) is
compared with inverse-propensity weights (:func:`weighted_estimate`, the Hájek estimator).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import integrate, optimize, stats

#: Sample-ratio mismatch is flagged below this p-value.
SRM_ALPHA = 0.001
#: A split that moves across windows is flagged below this p-value (the same customary threshold).
ALLOCATION_ALPHA = 0.001


@dataclass(frozen=True)
class Moments:
    """One arm's additive statistics of the metric, over the records with a value.

    ``n``, Σy, Σy²; and with inverse-propensity weights w = 1/propensity: Σw, Σwy, Σw², Σw²y, Σw²y².
    Without propensities w = 1 and the weighted sums equal the plain ones. Being sums, they add up
    over windows, so the cumulative statistics after each window cost no second pass."""

    n: int = 0
    total: float = 0.0
    total_sq: float = 0.0
    w: float = 0.0
    wy: float = 0.0
    w2: float = 0.0
    w2y: float = 0.0
    w2y2: float = 0.0

    def __add__(self, other: Moments) -> Moments:
        return Moments(
            self.n + other.n,
            self.total + other.total,
            self.total_sq + other.total_sq,
            self.w + other.w,
            self.wy + other.wy,
            self.w2 + other.w2,
            self.w2y + other.w2y,
            self.w2y2 + other.w2y2,
        )

    @property
    def variance(self) -> float | None:
        """The sample variance s² = (Σy² − (Σy)²/n)/(n − 1), as kpis' statistics hold it."""
        if self.n < 2:
            return None
        return max(self.total_sq - self.total * self.total / self.n, 0.0) / (self.n - 1)


@dataclass(frozen=True)
class Estimate:
    """An arm's metric: its value and the standard error of the value."""

    value: float
    stderr: float
    n: int


def plain_estimate(m: Moments, kind: str) -> Estimate | None:
    """The arm's mean (a rate is the mean of 1/0) with its standard error: √(p(1 − p)/n) for a rate,
    s/√n for a mean. None without a value (or, for a mean, with fewer than two)."""
    if m.n == 0:
        return None
    mean = m.total / m.n
    if kind == "rate":
        return Estimate(mean, math.sqrt(max(mean * (1 - mean), 0.0) / m.n), m.n)
    if m.variance is None:
        return None
    return Estimate(mean, math.sqrt(m.variance / m.n), m.n)


def weighted_estimate(m: Moments) -> Estimate | None:
    """The Hájek (self-normalised inverse-propensity) estimate of the arm's mean, R = Σwy / Σw, and its
    sandwich standard error √(Σw²(y − R)²) / Σw (the delta method on the ratio of two means).

    Weighting each request by the inverse of the probability that it was sent to its arm recovers
    what the arm would have scored on the whole traffic, however the split moved; self-normalising
    keeps the estimate inside the metric's range. It assumes the logged propensities are the ones
    the assignment used, and that each is above zero (every request could have gone to either arm)."""
    if m.n < 2 or m.w <= 0:
        return None
    ratio = m.wy / m.w
    spread = m.w2y2 - 2 * ratio * m.w2y + ratio * ratio * m.w2
    return Estimate(ratio, math.sqrt(max(spread, 0.0)) / m.w, m.n)


# --------------------------------------------------------------------------- design checks


@dataclass(frozen=True)
class Srm:
    statistic: float
    p_value: float
    expected: tuple[float, float]
    mismatch: bool


def srm(challenger: int, champion: int, split: float) -> Srm:
    """Pearson's chi-square goodness of fit (1 degree of freedom) of the two arms' request counts
    against the planned share ``split`` of the challenger: Σ (observed − expected)² / expected."""
    total = challenger + champion
    expected = (total * split, total * (1 - split))
    statistic = sum((o - e) ** 2 / e for o, e in zip((challenger, champion), expected, strict=True) if e > 0)
    p_value = float(stats.chi2.sf(statistic, 1))
    return Srm(float(statistic), p_value, expected, p_value < SRM_ALPHA)


def allocation_drift(counts: Sequence[tuple[int, int]]) -> tuple[float, float] | None:
    """Chi-square test of homogeneity of the challenger's share across windows (a 2 × k table of the
    arms' counts per window, windows without requests left out): (statistic, p-value); None with
    fewer than two windows holding requests."""
    table = np.array([c for c in counts if sum(c) > 0], dtype=float)
    if len(table) < 2 or (table.sum(axis=0) == 0).any():
        return None
    expected = table.sum(axis=1, keepdims=True) * table.sum(axis=0, keepdims=True) / table.sum()
    statistic = float(((table - expected) ** 2 / expected).sum())
    return statistic, float(stats.chi2.sf(statistic, len(table) - 1))


def power(
    kind: str,
    *,
    total: float,
    split: float,
    mde: float,
    alpha: float,
    baseline: float,
    sd: float | None = None,
) -> float:
    """Power of the two-sided fixed-horizon test with ``total`` records (a share ``split`` on the
    challenger) to detect a difference of ``mde`` from the champion's ``baseline``.

    With n₁ = total·split challenger records and ratio r = n₂/n₁:

    * rate: p₂ = baseline, p₁ = p₂ + mde; σ₀ = √(p̄(1 − p̄)(1 + 1/r)) with p̄ = (p₁ + r·p₂)/(1 + r)
      (the pooled variance the test uses under the null), σ₁ = √(p₁(1 − p₁) + p₂(1 − p₂)/r);
    * mean: σ₀ = σ₁ = sd·√(1 + 1/r);

    power = Φ̄(z·σ₀/σ₁ − |mde|√n₁/σ₁) + Φ(−z·σ₀/σ₁ − |mde|√n₁/σ₁), z = Φ⁻¹(1 − α/2)."""
    n1 = total * split
    ratio = (1 - split) / split
    if n1 <= 0:
        return 0.0
    if kind == "rate":
        p2 = baseline
        p1 = p2 + mde
        if not (0 < p1 < 1 and 0 < p2 < 1):
            raise ValueError(f"baseline {p2} plus the effect {mde} is not a rate between 0 and 1")
        pooled = (p1 + ratio * p2) / (1 + ratio)
        null = math.sqrt(pooled * (1 - pooled) * (1 + 1 / ratio))
        alt = math.sqrt(p1 * (1 - p1) + p2 * (1 - p2) / ratio)
    else:
        if sd is None or sd <= 0:
            raise ValueError("the power of a test of means needs the metric's standard deviation")
        null = alt = sd * math.sqrt(1 + 1 / ratio)
    z = float(stats.norm.isf(alpha / 2))
    shift = abs(mde) * math.sqrt(n1) / alt
    return float(stats.norm.sf(z * null / alt - shift) + stats.norm.cdf(-z * null / alt - shift))


def required_total(kind: str, *, split: float, mde: float, alpha: float, target: float, **kw: float | None) -> int:
    """The smallest total number of records (both arms) whose :func:`power` reaches ``target``."""

    def short(total: float) -> float:
        return power(kind, total=total, split=split, mde=mde, alpha=alpha, **kw) - target  # type: ignore[arg-type]

    high = 16.0
    while short(high) < 0:
        high *= 2
        if high > 1e13:
            raise ValueError("no sample size reaches that power")
    found = optimize.brentq(short, 2.0, high, xtol=1e-6) if short(2.0) < 0 else 2.0
    return math.ceil(found - 1e-9)


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class Difference:
    delta: float
    stderr: float
    low: float
    high: float
    statistic: float
    p_value: float


def fixed_test(challenger: Estimate, champion: Estimate, alpha: float, *, pooled: Moments | None = None) -> Difference:
    """Challenger minus champion with the unpooled Wald interval δ ± z·√(se₁² + se₂²) at level 1 − α,
    and the two-sided z-test of δ = 0. ``pooled`` (the two arms' statistics of a rate, unweighted)
    switches the test's variance to the pooled one, p̄(1 − p̄)(1/n₁ + 1/n₂), which is the classic
    two-proportion z-test (and equals statsmodels' ``proportions_ztest``)."""
    delta = challenger.value - champion.value
    se = math.hypot(challenger.stderr, champion.stderr)
    z = float(stats.norm.isf(alpha / 2))
    test_se = se
    if pooled is not None and pooled.n:
        p = pooled.total / pooled.n
        test_se = math.sqrt(max(p * (1 - p), 0.0) * (1 / challenger.n + 1 / champion.n))
    statistic = delta / test_se if test_se > 0 else (0.0 if delta == 0 else math.copysign(math.inf, delta))
    p_value = float(2 * stats.norm.sf(abs(statistic)))
    return Difference(delta, se, delta - z * se, delta + z * se, statistic, p_value)


@dataclass(frozen=True)
class SequentialLook:
    delta: float
    low: float
    high: float
    likelihood_ratio: float
    p_value: float  # always valid: the running minimum of 1/Λ, capped at 1


def msprt(deltas: Sequence[float], variances: Sequence[float], tau: float, alpha: float) -> list[SequentialLook]:
    """The mixture SPRT after each look, on the difference δ̂ₖ with variance Vₖ of its estimate.

    With a normal mixture N(0, τ²) over the true difference, the mixture likelihood ratio of the
    normal approximation is Λₖ = √(Vₖ/(Vₖ + τ²)) · exp(τ²δ̂ₖ² / (2Vₖ(Vₖ + τ²))) (Johari et al. 2022,
    eq. 11 with Vₖ = 2σ²/n for equal arms). By Ville's inequality P(some Λₖ ≥ 1/α) ≤ α under the
    null, however often it is read, so the always-valid p-value is pₖ = min(pₖ₋₁, 1/Λₖ), and the
    confidence sequence — the differences the test would not reject — is
    δ̂ₖ ± √(Vₖ(Vₖ + τ²)/τ² · (2 log(1/α) + log((Vₖ + τ²)/Vₖ)))."""
    looks: list[SequentialLook] = []
    running = 1.0
    tau2 = tau * tau
    for delta, v in zip(deltas, variances, strict=True):
        if not v > 0:
            raise ValueError("a look needs a positive variance of the difference")
        log_lr = 0.5 * math.log(v / (v + tau2)) + tau2 * delta * delta / (2 * v * (v + tau2))
        running = min(running, math.exp(-log_lr) if log_lr > -700 else 1.0, 1.0)
        half = math.sqrt(v * (v + tau2) / tau2 * (2 * math.log(1 / alpha) + math.log((v + tau2) / v)))
        looks.append(SequentialLook(delta, delta - half, delta + half, math.exp(min(log_lr, 700.0)), running))
    return looks


def prob_better_beta(
    successes: tuple[float, float], n: tuple[int, int], higher: bool, prior: tuple[float, float] = (1.0, 1.0)
) -> float:
    """P(p_challenger > p_champion | data) (or < when lower is better) under independent Beta(a, b)
    priors: ∫ f₁(x) F₂(x) dx with fᵢ, Fᵢ the Beta(a + sᵢ, b + nᵢ − sᵢ) posterior density and
    distribution, integrated numerically over the challenger's posterior mass."""
    a, b = prior
    first = stats.beta(a + successes[0], b + n[0] - successes[0])
    second = stats.beta(a + successes[1], b + n[1] - successes[1])
    low, high = first.ppf(1e-12), first.isf(1e-12)
    points = np.linspace(low, high, 9)[1:-1].tolist()
    value, _ = integrate.quad(lambda x: first.pdf(x) * second.cdf(x), low, high, points=points, limit=200)
    value = min(max(value, 0.0), 1.0)
    return value if higher else 1.0 - value


def prob_better_normal(delta: float, stderr: float, higher: bool) -> float:
    """P(δ > 0 | data) (or < 0 when lower is better) with a flat prior on each arm's mean: the
    posterior of δ is then N(δ̂, se²) to the normal approximation."""
    if stderr <= 0:
        return 0.5 if delta == 0 else float((delta > 0) == higher)
    above = float(stats.norm.sf(-delta / stderr))
    return above if higher else 1.0 - above


__all__ = [
    "ALLOCATION_ALPHA",
    "SRM_ALPHA",
    "Difference",
    "Estimate",
    "Moments",
    "SequentialLook",
    "Srm",
    "allocation_drift",
    "fixed_test",
    "msprt",
    "plain_estimate",
    "power",
    "prob_better_beta",
    "prob_better_normal",
    "required_total",
    "srm",
    "weighted_estimate",
]
