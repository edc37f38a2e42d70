"""An A/B test's manifest entry from the scan's per-arm, per-window statistics: the design checked
first (sample-ratio mismatch, a split that moved, power, horizon), then the results (per-arm metric
and KPIs, the difference, the fixed-horizon test only at the horizon, the always-valid sequential
analysis after every window, and the posterior probability that the challenger is better).

The formulas are in :mod:`.ab_test`; docs/methods.md states each with its assumptions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats

from modelgov import manifest
from modelgov.analysis import ab_test as ab
from modelgov.monitoring.experiment_scan import ArmWindow, ExperimentScan
from modelgov.monitoring.kpi_definitions import KpiSpec, Statistics
from modelgov.monitoring.kpis import compare, measure


@dataclass(frozen=True)
class Plan:
    """What the report needs of the experiment's settings."""

    name: str
    challenger: str
    champion: str
    design: str  # fixed | sequential
    allocation: str  # fixed | adaptive
    weighted: bool
    split: float
    window: str
    mde: float
    alpha: float
    power: float
    sample_size: int | None
    end: str | None  # ISO date
    baseline: float | None
    sd: float | None
    mixing: float | None
    metric: str
    metric_description: str | None
    kind: str  # rate | mean | accuracy
    unit: str
    direction: str


def _iso(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _scale(kind: str) -> str:
    """Accuracy is the rate of correct predictions."""
    return "mean" if kind == "mean" else "rate"


def _estimate(m: ab.Moments, plan: Plan) -> ab.Estimate | None:
    return ab.weighted_estimate(m) if plan.weighted else ab.plain_estimate(m, _scale(plan.kind))


def _arm_value(m: ab.Moments, plan: Plan, level: float) -> manifest.KpiValue | None:
    """The arm's metric with its interval: Wilson's for a rate, Student's t for a mean (the business
    KPIs' own, :func:`~modelgov.monitoring.kpis.measure`); a weighted estimate's normal interval."""
    if m.n == 0:
        return None
    if not plan.weighted:
        return measure(_scale(plan.kind), Statistics(m.n, 0, m.total, m.variance), level)
    found = ab.weighted_estimate(m)
    if found is None:
        return manifest.KpiValue(value=None, count=m.n)
    z = float(stats.norm.isf((1 - level) / 2))
    return manifest.KpiValue(
        value=found.value,
        interval=manifest.KpiInterval(
            low=found.value - z * found.stderr, high=found.value + z * found.stderr, level=level
        ),
        stderr=found.stderr,
        count=m.n,
    )


def _difference(chal: ab.Moments, champ: ab.Moments, plan: Plan, until: str) -> ab.Difference | None:
    first, second = _estimate(chal, plan), _estimate(champ, plan)
    if first is None or second is None:
        return None
    pooled = chal + champ if _scale(plan.kind) == "rate" and not plan.weighted else None
    return ab.fixed_test(first, second, plan.alpha, pooled=pooled)


def _difference_node(found: ab.Difference, records: int, until: str, level: float) -> manifest.AbDifference:
    return manifest.AbDifference(
        delta=found.delta,
        stderr=found.stderr,
        interval=manifest.KpiInterval(low=found.low, high=found.high, level=level),
        records=records,
        until=until,
    )


def fixed_method(plan: Plan) -> str:
    if plan.weighted:
        return (
            "two-sided z-test of the difference of the arms' inverse-propensity-weighted (Hájek) estimates, with "
            "sandwich standard errors; Wald interval of the difference"
        )
    if _scale(plan.kind) == "rate":
        return (
            "two-sided two-proportion z-test (pooled variance under the null); unpooled Wald interval of the difference"
        )
    return (
        "two-sided z-test of the difference of means (Welch's unpooled variance, normal approximation); Wald interval"
    )


def report(
    scan: ExperimentScan,
    plan: Plan,
    *,
    log: list[manifest.FileRef],
    outcomes: manifest.FileRef | None,
    kpis: Sequence[KpiSpec] = (),
    kpi_notes: Sequence[str] = (),
) -> manifest.AbTest:
    level = 1 - plan.alpha
    chal, champ = scan.total("challenger"), scan.total("champion")
    arms_total = {"challenger": chal, "champion": champ}
    srm = None
    if plan.allocation == "fixed":
        found = ab.srm(chal.requests, champ.requests, plan.split)
        srm = manifest.AbSrm(
            statistic=found.statistic,
            p_value=found.p_value,
            threshold=ab.SRM_ALPHA,
            expected_challenger=found.expected[0],
            expected_champion=found.expected[1],
            mismatch=found.mismatch,
        )
    per_window = [(w.arms["challenger"].requests, w.arms["champion"].requests) for w in scan.windows]
    moved = ab.allocation_drift(per_window)
    allocation = None
    if moved is not None:
        allocation = manifest.AbAllocation(
            statistic=moved[0],
            p_value=moved[1],
            windows=sum(1 for c in per_window if sum(c)),
            moved=moved[1] < ab.ALLOCATION_ALPHA,
        )
    refusal = None
    if allocation is not None and allocation.moved and not plan.weighted:
        shares = [c / (c + h) for c, h in per_window if c + h]
        refusal = (
            f"the challenger's share of requests moved from {min(shares):.0%} to {max(shares):.0%} across "
            f"{plan.window}s (chi-square test of homogeneity, p = {allocation.p_value:.2g}), and no propensity is "
            "logged. When the split moves and the metric also moves over time, an unweighted comparison mixes the "
            "two; log each request's probability of its arm (experiment.propensity) to compare the arms with "
            "inverse-propensity weights"
        )

    # cumulative statistics after each window: the looks of the sequential analysis, and the horizon
    cumulative: list[tuple[str, dict[str, ab.Moments]]] = []
    starts = {_iso(w.end): _iso(w.start) for w in scan.windows}
    running = {"challenger": ab.Moments(), "champion": ab.Moments()}
    for window in scan.windows:
        running = {arm: running[arm] + window.arms[arm].metric for arm in running}  # type: ignore[index]
        cumulative.append((_iso(window.end), dict(running)))
    records = chal.metric.n + champ.metric.n
    reached = None
    if plan.sample_size is not None:
        reached = next((end for end, m in cumulative if sum(x.n for x in m.values()) >= plan.sample_size), None)
    # an end date is reached once the log covers that day: the window holding it closes the test
    if reached is None and plan.end is not None and scan.last is not None and scan.last.date().isoformat() >= plan.end:
        reached = next((end for end, _ in cumulative if end[:10] > plan.end), None)
    horizon = manifest.AbHorizon(
        sample_size=plan.sample_size,
        end=plan.end,
        records=records,
        progress=records / plan.sample_size if plan.sample_size else None,
        at_horizon=reached is not None,
        reached=reached,
    )
    power = _power(plan, champ)

    arms = [
        manifest.AbArm(
            arm=arm,  # type: ignore[arg-type]
            version=plan.challenger if arm == "challenger" else plan.champion,
            requests=total.requests,
            outcomes=total.matched if scan.reads_outcomes else None,
            metric=None if refusal else _arm_value(total.metric, plan, level),
        )
        for arm, total in arms_total.items()
    ]
    common = {
        "name": plan.name,
        "champion": plan.champion,
        "design": plan.design,
        "allocation": plan.allocation,
        "weighted": plan.weighted,
        "split": plan.split,
        "window": plan.window,
        "minimum_detectable_effect": plan.mde,
        "alpha": plan.alpha,
        "target_power": plan.power,
        "metric": plan.metric,
        "metric_description": plan.metric_description,
        "metric_kind": plan.kind,
        "metric_unit": plan.unit,
        "direction": plan.direction,
        "log": log,
        "outcomes": outcomes,
        "start": _iso(scan.first) if scan.first else None,
        "end": _iso(scan.last) if scan.last else None,
        "arms": arms,
        "srm": srm,
        "allocation_check": allocation,
        "power": power,
        "horizon": horizon,
    }
    if refusal is not None:
        return manifest.AbTest(**common, status="refused", refusal=refusal)

    until = _iso(scan.windows[-1].end) if scan.windows else ""
    latest = _difference(chal.metric, champ.metric, plan, until)
    difference = _difference_node(latest, records, until, level) if latest else None
    fixed = None
    if plan.design == "fixed" and reached is not None:
        at = next(m for end, m in cumulative if end == reached)
        found = _difference(at["challenger"], at["champion"], plan, reached)
        if found is not None:
            fixed = manifest.AbFixed(
                difference=_difference_node(found, at["challenger"].n + at["champion"].n, reached, level),
                statistic=found.statistic,
                p_value=found.p_value,
                significant=found.p_value < plan.alpha,
                method=fixed_method(plan),
            )
    return manifest.AbTest(
        **common,
        status="at horizon" if reached is not None else "running",
        difference=difference,
        fixed=fixed,
        sequential=_sequential(cumulative, starts, plan),
        posterior=_posterior(chal.metric, champ.metric, latest, plan),
        kpis=[] if plan.weighted else _kpis(scan, kpis, level),
        kpi_notes=list(kpi_notes)
        + (
            ["the card's KPIs are not compared per arm in a log with inverse-propensity weights"]
            if plan.weighted and kpis
            else []
        ),
    )


def _power(plan: Plan, champion: ArmWindow) -> manifest.AbPower | None:
    """The design's power check; the champion's values so far stand in for what the design leaves out."""
    kind = _scale(plan.kind)
    estimate = ab.plain_estimate(champion.metric, kind) if champion.metric.n else None
    baseline, baseline_source = plan.baseline, "design"
    if baseline is None:
        if estimate is None:
            return None
        baseline, baseline_source = estimate.value, "champion so far"
    sd, sd_source = None, None
    if kind == "mean":
        sd, sd_source = plan.sd, "design"
        if sd is None:
            variance = champion.metric.variance
            if not variance:
                return None
            sd, sd_source = math.sqrt(variance), "champion so far"
    settings = {"split": plan.split, "mde": plan.mde, "alpha": plan.alpha, "baseline": baseline, "sd": sd}
    if kind == "rate" and not 0 < baseline + plan.mde < 1:
        return None
    required = ab.required_total(kind, target=plan.power, **settings)
    achieved = ab.power(kind, total=plan.sample_size, **settings) if plan.sample_size else None
    method = (
        "power of the two-sided two-proportion z-test (pooled variance under the null, unpooled under the "
        "alternative) at the planned split"
        if kind == "rate"
        else "power of the two-sided z-test of two means with a common standard deviation at the planned split"
    )
    if plan.weighted:
        method += "; a bandit's moving split makes the real power differ"
    return manifest.AbPower(
        baseline=baseline,
        baseline_source=baseline_source,  # type: ignore[arg-type]
        sd=sd,
        sd_source=sd_source,  # type: ignore[arg-type]
        required=required,
        planned=plan.sample_size,
        power_at_planned=achieved,
        adequate=None if plan.sample_size is None else plan.sample_size >= required,
        method=method,
    )


def sequential_method(plan: Plan, tau: float) -> str:
    estimate = "inverse-propensity-weighted (Hájek) estimates" if plan.weighted else "the arms' estimates"
    return (
        f"mixture sequential probability ratio test (mSPRT; Johari, Koomen, Pekelis and Walsh, Operations Research "
        f"2022) on the normal approximation of the difference of {estimate}, with a normal mixture N(0, τ²) over "
        f"the difference, τ = {tau:g}; always-valid p-values and confidence sequences, valid however often read, "
        "for independent requests with plug-in variances"
    )


def _sequential(
    cumulative: list[tuple[str, dict[str, ab.Moments]]], starts: dict[str, str], plan: Plan
) -> manifest.AbSequential | None:
    tau = plan.mixing or plan.mde
    ends, records, deltas, variances = [], [], [], []
    for end, m in cumulative:
        first, second = _estimate(m["challenger"], plan), _estimate(m["champion"], plan)
        if first is None or second is None:
            continue
        variance = first.stderr**2 + second.stderr**2
        count = m["challenger"].n + m["champion"].n
        if variance <= 0 or (records and count == records[-1]):
            continue  # a window without new records (outcomes not yet arrived) is not a new look
        ends.append(end)
        records.append(count)
        deltas.append(first.value - second.value)
        variances.append(variance)
    if not deltas:
        return None
    looks = ab.msprt(deltas, variances, tau, plan.alpha)
    nodes = [
        manifest.AbLook(
            start=starts[e], end=e, records=r, delta=k.delta, ci_low=k.low, ci_high=k.high, p_value=k.p_value
        )
        for e, r, k in zip(ends, records, looks, strict=True)
    ]
    first_significant = next((n.end for n in nodes if n.p_value <= plan.alpha), None)
    return manifest.AbSequential(
        method=sequential_method(plan, tau),
        mixing=tau,
        alpha=plan.alpha,
        looks=nodes,
        p_value=nodes[-1].p_value,
        significant=nodes[-1].p_value <= plan.alpha,
        first_significant=first_significant,
    )


BETA_PRIOR = "independent uniform Beta(1, 1) priors on each arm's rate"
FLAT_PRIOR = "flat (improper) priors on each arm's mean"


def _posterior(
    chal: ab.Moments, champ: ab.Moments, latest: ab.Difference | None, plan: Plan
) -> manifest.AbPosterior | None:
    higher = plan.direction == "higher"
    if _scale(plan.kind) == "rate" and not plan.weighted:
        if not chal.n or not champ.n:
            return None
        return manifest.AbPosterior(
            probability_better=ab.prob_better_beta((chal.total, champ.total), (chal.n, champ.n), higher),
            method="Beta-Binomial: each arm's rate has a Beta posterior; the probability is integrated numerically",
            prior=BETA_PRIOR,
        )
    if latest is None:
        return None
    return manifest.AbPosterior(
        probability_better=ab.prob_better_normal(latest.delta, latest.stderr, higher),
        method="normal approximation: the difference's posterior is N(estimate, standard error²)",
        prior=FLAT_PRIOR,
    )


#: Why a total is not compared between the arms.
TOTAL_NOT_COMPARED = (
    "a total grows with the share of requests an arm serves, so the arms' totals are not compared; a mean "
    "or a rate per request can be"
)


def _kpis(scan: ExperimentScan, specs: Sequence[KpiSpec], level: float) -> list[manifest.AbKpi]:
    """Each card KPI in each arm (with its count, and the records in scope without a value, even when
    none has one), and the arms compared where that means something: not for a total."""
    out = []
    for spec in specs:
        chal_stats, champ_stats = scan.kpi_totals[spec.name]
        aggregation = spec.measure.aggregation
        first, second = measure(aggregation, chal_stats, level), measure(aggregation, champ_stats, level)
        difference = interval = verdict = None
        total = aggregation == "sum"
        if not total and first.value is not None and second.value is not None:
            difference, interval, verdict = compare(first, second, spec, level)
        out.append(
            manifest.AbKpi(
                name=spec.name,
                challenger=first,
                champion=second,
                difference=difference,
                difference_interval=interval,
                verdict=verdict,  # type: ignore[arg-type]
                not_compared=TOTAL_NOT_COMPARED if total else None,
            )
        )
    return out


__all__ = ["Plan", "fixed_method", "report", "sequential_method"]
