"""What the A/B test pages say, in plain words, from the manifest's :class:`~modelgov.manifest.AbTest`.

Values are shown in the metric's unit: a rate as a percentage and its differences in percentage
points (a change from 62 % to 64 % is "+2.0 points", never "+3 %"), a mean as a number. Each
sentence states what a risk manager needs before the number: whether the design holds, whether the
test may be read yet, and what each method assumes.
"""

from __future__ import annotations

from modelgov.manifest import AbKpi, AbTest, Kpi, KpiInterval, KpiValue, Model, ModelVersion
from modelgov.render import kpi_views


def _percent(test: AbTest) -> bool:
    return test.metric_kind in ("rate", "accuracy") or test.metric_unit == "percent"


def value(test: AbTest, number: float | None) -> str:
    """A metric value in its unit: ``64.2%`` or ``12.5``."""
    if number is None:
        return "no value yet"
    return f"{number:.1%}" if _percent(test) else f"{number:,.3g}"


def delta(test: AbTest, number: float | None) -> str:
    """A difference in its unit: ``+1.2 points`` for a rate, ``+0.35`` for a mean."""
    if number is None:
        return "no value yet"
    if _percent(test):
        return f"{number * 100:+.1f} points"
    return f"{number:+,.3g}"


def interval(test: AbTest, found: KpiInterval | None, *, difference: bool = False) -> str:
    """``61.0% to 64.5%`` (or ``-4.6 to +0.3 points`` for a difference)."""
    if found is None:
        return "no interval (too few records)"
    if difference:
        if _percent(test):
            return f"{found.low * 100:+.1f} to {found.high * 100:+.1f} points"
        return f"{found.low:+,.3g} to {found.high:+,.3g}"
    return f"{value(test, found.low)} to {value(test, found.high)}"


def arm_value(test: AbTest, found: KpiValue | None) -> str:
    if found is None or found.value is None:
        return "no value yet"
    return f"{value(test, found.value)} ({interval(test, found.interval)})"


def kpi_in_arm(kpi: Kpi, found: KpiValue | None) -> str:
    """A card KPI in one arm, in the KPI's own unit (not the test's metric's): ``10.81 % (5.58 % – 19.91 %)``;
    ``no value yet`` before any record is in scope, ``no value`` when none of those in scope has one."""
    if found is None or found.value is None:
        return "no value" if found is not None and found.count + found.missing else "no value yet"
    spread = kpi_views.interval_text(kpi, found)
    return kpi_views.format_value(kpi, found.value) + (f" ({spread})" if spread else "")


def kpi_difference(kpi: Kpi, item: AbKpi) -> str:
    """The arms' difference of a card KPI in its own unit, with its interval: ``−3.11 points (−13.52 to +7.30
    points)``; ``—`` without a value in both arms."""
    if item.difference is None:
        return "—"
    text = kpi_views.difference_text(kpi, item.difference)
    spread = item.difference_interval
    if spread is None or spread.low is None or spread.high is None:
        return text
    low, high = kpi_views.difference_text(kpi, spread.low), kpi_views.difference_text(kpi, spread.high)
    unit = " points"
    if low.endswith(unit):
        low = low[: -len(unit)]
    return f"{text} ({low} to {high})"


def kpi_records(*arms: KpiValue | None) -> str:
    """How many of each arm's records in the KPI's scope the value was computed on (those that have every
    column it reads): ``74 of 257 · 79 of 271``, always as "of": beside a share, "74" alone would read as
    the count the KPI found (74 customers retained)."""
    counts = []
    for found in arms:
        if found is None:
            counts.append("0 of 0")
        else:
            counts.append(f"{found.count:,} of {found.count + found.missing:,}")
    return " · ".join(counts)


def better_word(test: AbTest) -> str:
    return "higher" if test.direction == "higher" else "lower"


def srm_words(test: AbTest) -> str:
    """Whether the arms' counts match the planned split, in one sentence."""
    srm = test.srm
    if srm is None:
        return (
            "Not applicable: the allocation is adaptive (a bandit), so the split moves by design; the arms are "
            "compared with inverse-propensity weights instead."
        )
    observed = f"{test.arms[0].requests:,} requests to this version and {test.arms[1].requests:,} to the champion"
    expected = f"{srm.expected_challenger:,.0f} and {srm.expected_champion:,.0f} expected from the planned split"
    if srm.mismatch:
        return (
            f"**Mismatch.** {observed}, against {expected} (chi-square p = {srm.p_value:.2g}, below "
            f"{srm.threshold:g}). Requests are being lost or mis-assigned in one arm, so the arms are no longer "
            "comparable groups: find the cause before reading any result."
        )
    return (
        f"No mismatch: {observed}, against {expected} (chi-square p = {srm.p_value:.2g}; a mismatch is flagged "
        f"below {srm.threshold:g})."
    )


def power_words(test: AbTest) -> str:
    found = test.power
    if found is None:
        return "Not computed yet: the champion has no values and the design states no baseline."
    assumed = (
        f"a champion value of {value(test, found.baseline)}"
        + (" (the design's)" if found.baseline_source == "design" else " (the champion's so far)")
        + (f" and a standard deviation of {found.sd:,.3g}" if found.sd is not None else "")
    )
    effect = delta(test, test.minimum_detectable_effect).lstrip("+")
    need = (
        f"To detect a difference of {effect} with {test.target_power:.0%} power at α = {test.alpha:g}, assuming "
        f"{assumed}, the test needs **{found.required:,} records** with a value."
    )
    if found.planned is None:
        return need + " The horizon is a date, so whether it is reached in time depends on the traffic."
    if found.adequate:
        return need + f" The plan of {found.planned:,} is enough (power {found.power_at_planned:.0%})."
    return (
        need + f" **The plan of {found.planned:,} is short**: its power is {found.power_at_planned:.0%}, so a real "
        "difference of that size would be missed more often than planned."
    )


def horizon_words(test: AbTest) -> str:
    horizon = test.horizon
    parts = []
    if horizon.sample_size is not None:
        parts.append(f"{horizon.sample_size:,} records with a value")
    if horizon.end is not None:
        parts.append(f"the end of {horizon.end}")
    planned = " or ".join(parts) if parts else "none (a sequential test may stop at any time)"
    so_far = f"{horizon.records:,} records with a value so far"
    if horizon.progress is not None:
        so_far += f" ({horizon.progress:.0%} of the plan)"
    if horizon.at_horizon:
        return f"Reached: planned horizon {planned}; {so_far}; reached at {horizon.reached[:10]}."  # type: ignore[index]
    return f"**Not reached**: planned horizon {planned}; {so_far}."


def challengers(model: Model, version: ModelVersion) -> list[ModelVersion]:
    """The versions in an A/B test against ``version`` (a line on the champion's card)."""
    return [v for v in model.versions if v.experiment is not None and v.experiment.champion == version.version]


def status_words(test: AbTest) -> str:
    if test.status == "refused":
        return "results withheld"
    if test.status == "at horizon":
        if test.fixed is not None:
            return "at its horizon: " + (
                "significant difference" if test.fixed.significant else "no significant difference"
            )
        return "at its horizon"
    return "running, short of its horizon" if not test.horizon.at_horizon else "running"


__all__ = [
    "arm_value",
    "better_word",
    "challengers",
    "delta",
    "horizon_words",
    "interval",
    "power_words",
    "srm_words",
    "status_words",
    "value",
]
