"""Tests of a version against the live one on real traffic: A/B tests (design checks, fixed-horizon
and sequential results, KPIs per arm) and shadow tests (the champion's and the challenger's decisions
on the same requests, overall, per window and per group).

Both ask whether the new version does better, or no worse, in production, and a promotion records a
summary of each (:mod:`.decisions`); :mod:`.monitoring` watches one version on its own.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelgov.manifest.base import FileRef, Interval, Node
from modelgov.manifest.business import KpiInterval, KpiValue

# --------------------------------------------------------------------------- A/B tests


class AbArm(Node):
    """One arm of an A/B test: the requests it served and its primary metric."""

    arm: Literal["challenger", "champion"]
    version: str
    requests: int = Field(description="Requests the arm served.")
    outcomes: int | None = Field(None, description="Requests with an outcome row (a metric read from the outcomes).")
    metric: KpiValue | None = Field(None, description="The primary metric, with its interval.")


class AbSrm(Node):
    """Sample-ratio mismatch: the arms' request counts against the planned split."""

    statistic: float = Field(description="Pearson's chi-square, 1 degree of freedom.")
    p_value: float
    threshold: float = Field(description="p below which a mismatch is flagged (0.001).")
    expected_challenger: float
    expected_champion: float
    mismatch: bool


class AbAllocation(Node):
    """Whether the split moved across windows: chi-square test of homogeneity of the arms' shares."""

    statistic: float
    p_value: float
    windows: int
    moved: bool = Field(description="p below the threshold (0.001).")


class AbPower(Node):
    """The planned sample size against the one the stated effect, alpha and power need."""

    baseline: float = Field(description="The champion's value the calculation assumes.")
    baseline_source: Literal["design", "champion so far"]
    sd: float | None = Field(None, description="A mean's standard deviation the calculation assumes.")
    sd_source: Literal["design", "champion so far"] | None = None
    required: int = Field(description="Records (both arms) the test needs for the stated power.")
    planned: int | None = Field(None, description="Records planned (None for a horizon given as a date).")
    power_at_planned: float | None = Field(None, description="Power of the planned sample size for the effect.")
    adequate: bool | None = Field(None, description="The planned sample size reaches the stated power.")
    method: str


class AbHorizon(Node):
    sample_size: int | None = None
    end: str | None = Field(None, description="Planned last day, as the design states it.")
    records: int = Field(description="Records with a metric value so far, both arms.")
    progress: float | None = Field(None, description="Share of the planned sample size reached.")
    at_horizon: bool
    reached: str | None = Field(None, description="End of the window in which the horizon was reached.")


class AbDifference(Node):
    """Challenger minus champion on the primary metric."""

    delta: float
    stderr: float
    interval: KpiInterval
    records: int = Field(description="Records with a metric value the difference rests on.")
    until: str = Field(description="End of the last window the difference includes.")


class AbFixed(Node):
    """The fixed-horizon test, computed only once the horizon is reached."""

    difference: AbDifference
    statistic: float
    p_value: float
    significant: bool
    method: str


class AbLook(Node):
    """The sequential analysis after one window: the confidence sequence and the always-valid p-value."""

    start: str = Field(description="Start of the window (UTC).")
    end: str = Field(description="End of the window (exclusive): the look includes every record before it.")
    records: int
    delta: float
    ci_low: float
    ci_high: float
    p_value: float


class AbSequential(Node):
    method: str
    mixing: float = Field(description="τ, the standard deviation of the normal mixture over the difference.")
    alpha: float
    looks: list[AbLook]
    p_value: float = Field(description="Always-valid p-value after the latest window.")
    significant: bool = Field(description="The always-valid p-value is at or below alpha.")
    first_significant: str | None = Field(None, description="End of the first window with p at or below alpha.")


class AbPosterior(Node):
    probability_better: float = Field(description="Posterior probability that the challenger is better.")
    method: str
    prior: str


class AbKpi(Node):
    """A KPI of the card, per arm."""

    name: str
    challenger: KpiValue | None = None
    champion: KpiValue | None = None
    difference: float | None = None
    difference_interval: KpiInterval | None = None
    verdict: Literal["better", "worse", "no clear difference"] | None = None
    not_compared: str | None = Field(
        None, description="Why the arms' values are shown but not compared (a total, which grows with an arm's share)."
    )


class AbTest(Node):
    """An A/B test of this version (the challenger) against a champion: design checks, then results."""

    name: str
    champion: str
    design: Literal["fixed", "sequential"]
    allocation: Literal["fixed", "adaptive"]
    weighted: bool = Field(description="Arms compared with inverse-propensity weights (Hajek).")
    split: float = Field(description="Planned share of the challenger.")
    window: Literal["day", "week"]
    minimum_detectable_effect: float
    alpha: float
    target_power: float
    metric: str = Field(description="How pages name the primary metric.")
    metric_description: str | None = Field(
        None, description="What the primary metric measures, as the workspace describes it (None: not described)."
    )
    metric_kind: Literal["rate", "mean", "accuracy"]
    metric_unit: Literal["number", "percent", "currency"] = "number"
    direction: Literal["higher", "lower"]
    log: list[FileRef]
    outcomes: FileRef | None = None
    start: str | None = Field(None, description="First request.")
    end: str | None = Field(None, description="Last request.")
    arms: list[AbArm]
    srm: AbSrm | None = Field(None, description="None with an adaptive allocation, whose split moves by design.")
    allocation_check: AbAllocation | None = None
    power: AbPower | None = None
    horizon: AbHorizon
    status: Literal["running", "at horizon", "refused"]
    refusal: str | None = Field(None, description="Why the results are withheld (status `refused`).")
    difference: AbDifference | None = Field(None, description="The latest difference; interim before the horizon.")
    fixed: AbFixed | None = None
    sequential: AbSequential | None = None
    posterior: AbPosterior | None = None
    kpis: list[AbKpi] = Field(default_factory=list)
    kpi_notes: list[str] = Field(default_factory=list, description="KPIs of the card not measured per arm, and why.")


# --------------------------------------------------------------------------- shadow tests


class ShadowComparison(Node):
    """The champion's and the challenger's decisions on the same requests (a window, the whole test or
    one group): how often they agree and how the decision rate and the mean score move. Rates are
    over the requests both sides decided; deltas are challenger − champion."""

    requests: int = Field(description="Requests in the log (both sides, after the join when logged apart).")
    decided: int = Field(description="Requests with a decision from both sides.")
    both_positive: int = 0
    challenger_only: int = Field(0, description="Requests the challenger decides positive and the champion not.")
    champion_only: int = Field(0, description="Requests the champion decides positive and the challenger not.")
    agreement: float | None = Field(None, description="Share of decided requests with the same decision.")
    agreement_interval: Interval | None = Field(None, description="Wilson score interval of the agreement.")
    champion_rate: float | None = Field(None, description="Share of positive decisions by the champion.")
    challenger_rate: float | None = None
    decision_rate_delta: float | None = Field(None, description="Challenger's positive rate − champion's.")
    decision_rate_delta_interval: Interval | None = Field(
        None, description="Newcombe's score interval for a difference of paired proportions."
    )
    decision_rate_p: float | None = Field(
        None, description="Mid-p McNemar test that both decide positive equally often (the discordant requests)."
    )
    scored: int = Field(0, description="Requests with a score from both sides.")
    champion_mean_score: float | None = None
    challenger_mean_score: float | None = None
    mean_score_delta: float | None = Field(None, description="Mean of the paired score differences.")
    mean_score_delta_interval: Interval | None = Field(None, description="Paired t interval of the mean difference.")
    labelled: int = Field(0, description="Decided requests whose outcome has arrived.")
    small: bool = Field(False, description="Fewer decided requests than the workspace's min_group_size.")

    @property
    def change_rate(self) -> float | None:
        return None if self.agreement is None else 1 - self.agreement


class ShadowWindow(ShadowComparison):
    start: str
    end: str


class ShadowGroup(ShadowComparison):
    group: str


class ShadowGap(Node):
    """How much more often the challenger changes decisions for one group than for another."""

    high_group: str = Field(description="The group whose decisions change most often.")
    low_group: str = Field(description="The group whose decisions change least often.")
    high_rate: float
    low_rate: float
    value: float = Field(description="Difference of the two groups' decision-change rates.")
    interval: Interval | None = Field(None, description="Newcombe's hybrid score interval (independent groups).")
    pairs: int = Field(1, description="Pairs of groups the largest gap was picked from: k(k − 1)/2 for k groups.")
    joint_interval: Interval | None = Field(
        None,
        description="Newcombe's interval at the level that covers every pair of groups at once (Bonferroni over "
        "`pairs`), so it allows for this pair being the extreme one; a finding needs it to exclude zero.",
    )


class ShadowFeature(Node):
    feature: str
    groups: list[ShadowGroup] = Field(default_factory=list)
    max_change_gap: ShadowGap | None = Field(
        None, description="Between the groups with the highest and lowest change rate (small groups left out)."
    )
    note: str | None = Field(None, description="Why the feature has no gap (fewer than two groups large enough).")


class ShadowMetricDelta(Node):
    name: str
    label: str
    champion: float | None
    challenger: float | None
    delta: float | None = Field(description="Challenger − champion, on the same labelled requests.")
    interval: Interval | None = None
    p_value: float | None = None
    test: str | None = Field(None, description="The test behind `p_value`, e.g. `McNemar mid-p`.")
    higher_is_better: bool = True


class ShadowOutcomes(Node):
    """Paired metric deltas on the requests whose outcome has arrived."""

    labelled: int
    positives: int
    challenger_right_champion_wrong: int = Field(description="McNemar's discordant pair b.")
    champion_right_challenger_wrong: int = Field(description="McNemar's discordant pair c.")
    metrics: list[ShadowMetricDelta] = Field(default_factory=list)
    windows: list[str] = Field(default_factory=list, description="Start of each window with outcomes.")


class ShadowReport(Node):
    """A shadow test of a version (the challenger) beside the champion it shadows."""

    champion: str = Field(description="The version shadowed.")
    logs: list[FileRef] = Field(default_factory=list)
    window: str = Field(description="How requests are windowed: `week`, `day`, `month` or `N rows`.")
    positive_label: str
    decided_by: dict[str, str] = Field(
        default_factory=dict, description="Side → how its decision is read (its prediction column, or score ≥ t)."
    )
    level: float = Field(description="Confidence level of every interval.")
    min_group_size: int
    unmatched: int | None = Field(
        None, description="With two logs: shadow requests without a champion record (left out)."
    )
    overall: ShadowComparison
    windows: list[ShadowWindow] = Field(default_factory=list)
    features: list[ShadowFeature] = Field(default_factory=list)
    outcomes: ShadowOutcomes | None = None
