"""Evidence paths of a version's A/B test: ``experiment.srm_p_value``, ``experiment.at_horizon``,
``experiment.delta`` (``.ci_low``, ``.ci_high``), ``experiment.sequential.significant``,
``experiment.posterior_better`` and the rest.

The design checks come first, as on the page: a gate on the result is only sound when
``experiment.srm_mismatch`` is false and (for a fixed-horizon test) ``experiment.at_horizon`` is
true. ``experiment.delta`` is the latest difference (challenger − champion, interim before the
horizon); ``experiment.fixed.*`` exists only once a fixed-horizon test has reached its horizon, so a
rule on it is *missing* (an error, or the rule's ``missing`` outcome) before then rather than a
verdict on a peek. The sequential paths may be read at any time.
"""

from __future__ import annotations

from collections.abc import Callable

from modelgov import manifest

_CI = ("", ".ci_low", ".ci_high")

#: The grammar's A/B test paths (see :data:`modelgov.policy.paths.TEMPLATES`).
TEMPLATES: tuple[str, ...] = (
    "experiment.champion",
    "experiment.status",
    "experiment.design",
    "experiment.srm_p_value",
    "experiment.srm_mismatch",
    "experiment.allocation_moved",
    "experiment.power_planned",
    "experiment.power_adequate",
    "experiment.records",
    "experiment.progress",
    "experiment.at_horizon",
    *(f"experiment.delta{ci}" for ci in _CI),
    *(f"experiment.fixed.delta{ci}" for ci in _CI),
    "experiment.fixed.p_value",
    "experiment.fixed.significant",
    "experiment.sequential.p_value",
    *(f"experiment.sequential{ci}" for ci in _CI[1:]),
    "experiment.sequential.significant",
    "experiment.posterior_better",
    *(f"experiment.{arm}.{key}" for arm in ("challenger", "champion_arm") for key in ("requests", "value")),
    *(f"experiment.kpis.<kpi>.difference{ci}" for ci in _CI),
    "experiment.kpis.<kpi>.verdict",
)


def experiment_evidence(put: Callable[..., None], version: manifest.ModelVersion, page: str) -> None:
    """Every A/B test path of one version (none without a test). Paths of a result the test does not
    have yet (a fixed-horizon result before the horizon, any result of a refused test) are absent."""
    test = version.experiment
    if test is None:
        return
    checks, results = f"{page}#design-checks", f"{page}#results"
    put("experiment.champion", test.champion, page)
    put("experiment.status", test.status, page, test.refusal)
    put("experiment.design", test.design, page)
    if test.srm is not None:
        detail = f"{test.arms[0].requests:,} and {test.arms[1].requests:,} requests, planned split {test.split:g}"
        put("experiment.srm_p_value", test.srm.p_value, checks, detail)
        put("experiment.srm_mismatch", test.srm.mismatch, checks, detail)
    if test.allocation_check is not None:
        put("experiment.allocation_moved", test.allocation_check.moved, checks)
    if test.power is not None:
        put("experiment.power_planned", test.power.power_at_planned, checks)
        put("experiment.power_adequate", test.power.adequate, checks)
    put("experiment.records", test.horizon.records, checks)
    put("experiment.progress", test.horizon.progress, checks)
    put("experiment.at_horizon", test.horizon.at_horizon, checks)
    for arm, prefix in zip(test.arms, ("experiment.challenger", "experiment.champion_arm"), strict=True):
        if arm.metric is not None:
            put(f"{prefix}.requests", arm.requests, results)
            put(f"{prefix}.value", arm.metric.value, results)
    if test.difference is not None:
        detail = f"challenger − champion on {test.difference.records:,} records, until {test.difference.until[:10]}"
        if test.design == "fixed" and test.fixed is None:
            detail += " (interim: the fixed-horizon test has not reached its horizon)"
        put("experiment.delta", test.difference.delta, results, detail)
        put("experiment.delta.ci_low", test.difference.interval.low, results, detail)
        put("experiment.delta.ci_high", test.difference.interval.high, results, detail)
    if test.fixed is not None:
        detail = f"at the horizon, {test.fixed.difference.records:,} records"
        put("experiment.fixed.delta", test.fixed.difference.delta, results, detail)
        put("experiment.fixed.delta.ci_low", test.fixed.difference.interval.low, results, detail)
        put("experiment.fixed.delta.ci_high", test.fixed.difference.interval.high, results, detail)
        put("experiment.fixed.p_value", test.fixed.p_value, results, detail)
        put("experiment.fixed.significant", test.fixed.significant, results, detail)
    if test.sequential is not None:
        last = test.sequential.looks[-1]
        where = f"{page}#sequential-analysis"
        detail = f"after the {test.window} starting {last.start[:10]}, {last.records:,} records"
        put("experiment.sequential.p_value", test.sequential.p_value, where, detail)
        put("experiment.sequential.ci_low", last.ci_low, where, detail)
        put("experiment.sequential.ci_high", last.ci_high, where, detail)
        put("experiment.sequential.significant", test.sequential.significant, where, detail)
    if test.posterior is not None:
        put(
            "experiment.posterior_better",
            test.posterior.probability_better,
            f"{page}#probability-that-this-version-is-better",
            test.posterior.prior,
        )
    for kpi in test.kpis:
        where = f"{page}#business-kpis-per-arm"
        if kpi.difference is not None:
            put(f"experiment.kpis.{kpi.name}.difference", kpi.difference, where)
        if kpi.difference_interval is not None:
            put(f"experiment.kpis.{kpi.name}.difference.ci_low", kpi.difference_interval.low, where)
            put(f"experiment.kpis.{kpi.name}.difference.ci_high", kpi.difference_interval.high, where)
        if kpi.verdict is not None:
            put(f"experiment.kpis.{kpi.name}.verdict", kpi.verdict, where)


__all__ = ["TEMPLATES", "experiment_evidence"]
