"""Closed-form tests and intervals for two models' outputs on the same requests.

A shadow test scores every request twice, so each statistic is paired: the two decisions on a
request are not independent, and an interval that ignores the pairing is too wide (or, for the
change between groups, compares the wrong things). Everything here works from counts and sums,
which the log scan computes out of core, never from rows:

* :func:`wilson`: a proportion (agreement, a group's decision-change rate);
* :func:`newcombe_paired`: a difference of two proportions measured on the same requests (the
  decision-rate delta), Newcombe's method 10 (1998), which stays inside [-1, 1] and keeps its
  coverage when the discordant counts are small, where the Wald interval collapses to a point;
* :func:`newcombe_independent`: a difference of two proportions in disjoint groups (the gap in
  decision-change rates between two groups), Newcombe's hybrid score interval;
* :func:`mcnemar_mid_p`: McNemar's exact test on the discordant pairs, with the mid-p correction
  (the exact test is conservative; mid-p keeps its size near the nominal level for small counts);
* :func:`paired_t`: the mean of paired differences (score deltas), Student's t;
* :func:`delong`: the difference of two ROC AUCs on the same labelled requests, from DeLong's
  structural components (the scan computes their means, variances and covariances in SQL).

Formulas, with their assumptions, are in docs/methods.md.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats


def _z(level: float) -> float:
    return float(stats.norm.ppf(0.5 + level / 2))


def wilson(successes: int, n: int, level: float) -> tuple[float, float] | None:
    """Wilson's score interval for ``successes`` out of ``n``; None for no trials."""
    if n <= 0:
        return None
    z = _z(level)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z / denominator * math.sqrt(max(p * (1 - p) / n + z * z / (4 * n * n), 0.0))
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_paired(a: int, b: int, c: int, d: int, level: float) -> tuple[float, float] | None:
    """Interval of p1 − p2 for paired proportions, Newcombe's (1998) method 10.

    ``a``: both positive, ``b``: first positive only, ``c``: second positive only, ``d``: neither;
    p1 = (a + b) / n, p2 = (a + c) / n. Each proportion's Wilson interval is combined with the
    correlation of the pair (phi, with Newcombe's continuity adjustment when positive)."""
    n = a + b + c + d
    if n <= 0:
        return None
    p1, p2 = (a + b) / n, (a + c) / n
    l1, u1 = wilson(a + b, n, level)  # type: ignore[misc]
    l2, u2 = wilson(a + c, n, level)  # type: ignore[misc]
    product = (a + b) * (c + d) * (a + c) * (b + d)
    if product == 0:
        phi = 0.0
    else:
        numerator = a * d - b * c
        if numerator > 0:
            numerator = max(numerator - n / 2, 0.0)
        phi = numerator / math.sqrt(product)
    delta = p1 - p2
    low = delta - math.sqrt(max((p1 - l1) ** 2 - 2 * phi * (p1 - l1) * (u2 - p2) + (u2 - p2) ** 2, 0.0))
    high = delta + math.sqrt(max((u1 - p1) ** 2 - 2 * phi * (u1 - p1) * (p2 - l2) + (p2 - l2) ** 2, 0.0))
    return max(-1.0, low), min(1.0, high)


def newcombe_independent(x1: int, n1: int, x2: int, n2: int, level: float) -> tuple[float, float] | None:
    """Interval of x1/n1 − x2/n2 for two independent samples: Newcombe's hybrid score interval
    (statsmodels' ``confint_proportions_2indep(method="newcomb")``)."""
    if n1 <= 0 or n2 <= 0:
        return None
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = wilson(x1, n1, level)  # type: ignore[misc]
    l2, u2 = wilson(x2, n2, level)  # type: ignore[misc]
    delta = p1 - p2
    return (
        delta - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2),
        delta + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2),
    )


def mcnemar_mid_p(b: int, c: int) -> float | None:
    """Two-sided mid-p McNemar test of b = c in expectation; None without discordant pairs.

    Under the null each discordant pair falls either way with probability 1/2, so the exact test is
    a binomial test of min(b, c) out of b + c; mid-p subtracts the probability of the observed count
    once (Fagerland, Lydersen and Laake, 2013)."""
    n = b + c
    if n == 0:
        return None
    k = min(b, c)
    exact = min(1.0, 2 * float(stats.binom.cdf(k, n, 0.5)))
    return max(0.0, min(1.0, exact - float(stats.binom.pmf(k, n, 0.5))))


def mcnemar_exact(b: int, c: int) -> float | None:
    """Two-sided exact McNemar p-value (statsmodels' ``mcnemar(exact=True)``)."""
    n = b + c
    if n == 0:
        return None
    return min(1.0, 2 * float(stats.binom.cdf(min(b, c), n, 0.5)))


def paired_t(n: int, mean: float | None, variance: float | None, level: float) -> tuple[float, float] | None:
    """Student's t interval of the mean of ``n`` paired differences; None below two pairs."""
    if n < 2 or mean is None or variance is None:
        return None
    half = float(stats.t.ppf(0.5 + level / 2, n - 1)) * math.sqrt(max(variance, 0.0) / n)
    return mean - half, mean + half


@dataclass(frozen=True)
class DelongComponents:
    """DeLong's structural components, summarised: over the ``positives``, the means, variances and
    covariance of each positive's V10 (its share of negatives scored below it, ties counting one half)
    for models a and b; over the ``negatives`` the same of V01 (the share of positives above it)."""

    positives: int
    negatives: int
    auc_a: float
    auc_b: float
    var10_a: float
    var10_b: float
    cov10: float
    var01_a: float
    var01_b: float
    cov01: float


@dataclass(frozen=True)
class DelongResult:
    auc_a: float
    auc_b: float
    delta: float  # b − a
    se: float
    interval: tuple[float, float]
    p_value: float | None


def delong(parts: DelongComponents, level: float) -> DelongResult | None:
    """DeLong, DeLong and Clarke-Pearson (1988): the variance of AUC_b − AUC_a is
    (S10_aa + S10_bb − 2 S10_ab) / m + (S01_aa + S01_bb − 2 S01_ab) / n, the interval normal.
    None with fewer than two positives or two negatives (the variances are undefined)."""
    if parts.positives < 2 or parts.negatives < 2:
        return None
    variance = (parts.var10_a + parts.var10_b - 2 * parts.cov10) / parts.positives + (
        parts.var01_a + parts.var01_b - 2 * parts.cov01
    ) / parts.negatives
    se = math.sqrt(max(variance, 0.0))
    delta = parts.auc_b - parts.auc_a
    z = _z(level)
    p_value = None if se == 0 else float(2 * stats.norm.sf(abs(delta) / se))
    return DelongResult(parts.auc_a, parts.auc_b, delta, se, (delta - z * se, delta + z * se), p_value)
