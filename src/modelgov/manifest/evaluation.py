"""What a version's evaluation runs measured: performance, fairness by group, the Local Law 144
bias-audit table and the paired comparison with another version, with the run and training records
that hold them.

These are the offline results, computed from evaluation tables by ``analysis/`` and the evaluation,
bias-audit and comparison stages. The group and disparity nodes are defined here and used again by
production fairness (:mod:`.monitoring`), so a page shows the two the same way.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelgov.manifest.base import FileRef, FreeValue, Interval, Metric, Node, best_value_of, better_words
from modelgov.manifest.explainability import Explainability

# --------------------------------------------------------------------------- fairness


class GroupMetrics(Node):
    """One group of one sensitive feature (or an intersection)."""

    group: str = Field(description="Group value as text; missing values form the group `(missing)`.")
    count: int
    small: bool = Field(description="True when count < min_group_size: numbers are unreliable.")
    denominators: dict[str, int] = Field(
        default_factory=dict,
        description="Metric key → the people its rate rests on: all rows (selection rate, accuracy), actual "
        "positives (TPR, FNR), actual negatives (FPR), predicted positives (precision).",
    )
    few: list[str] = Field(
        default_factory=list,
        description="Metric keys whose denominator is below min_group_size: those rates are unreliable even "
        "when the group has enough rows.",
    )
    metrics: dict[str, float | None] = Field(
        description="Metric key → value; None where undefined for this group (never a silent 0)."
    )
    intervals: dict[str, Interval] = Field(default_factory=dict, description="Metric key → bootstrap interval.")
    absent: bool = Field(False, description="Declared in the card's expected groups but not in the data.")
    values: dict[str, str] = Field(
        default_factory=dict, description="For intersections: feature → this group's value of it."
    )


class ExcludedGroup(Node):
    """A group left out of a disparity summary, and why."""

    group: str
    reason: str = Field(description="E.g. `9 actual positives (true positive rate); fewer than 30`.")


class Disparity(Node):
    """A one-number summary of how far apart the groups are (fairlearn's definitions), with the
    groups that define it."""

    name: str = Field(description="E.g. `demographic_parity_ratio`.")
    label: str
    method: Literal["between_groups", "to_overall"]
    value: float | None = Field(description="None when undefined (e.g. a ratio with a zero denominator).")
    note: str | None = None
    interval: Interval | None = None
    description: str | None = None
    rate: str | None = Field(
        None, description="The group metric that defines the value (for equalized odds: whichever of TPR and FPR)."
    )
    rate_label: str | None = Field(None, description="That metric in words, e.g. `selection rate`.")
    groups: list[str] = Field(
        default_factory=list,
        description="The groups that define the value: for a difference the higher then the lower, for a ratio "
        "the lower (numerator) then the higher; `to_overall`: the one group furthest from all rows.",
    )
    group_rates: list[float] = Field(
        default_factory=list, description="The rate of each of `groups`, in order (then all rows' for `to_overall`)."
    )
    excluded: list[ExcludedGroup] = Field(
        default_factory=list,
        description="Groups left out: too few people behind a rate it uses, or the rate is undefined.",
    )
    difference_interval: Interval | None = Field(
        None,
        description="A regression model's group summaries (`mae_difference`, `mean_error_difference`, on the card "
        "and in production): the interval of the two named groups' own difference (the first's value minus the "
        "second's) over the same resamples. Unlike the gap's, it can include 0: when it does, chance alone could "
        "explain the gap.",
    )


class GroupComparison(Node):
    """One named pair of groups (a group against the workspace's reference group, or a pair it
    names), summarised with the same measures as the whole feature."""

    group: str
    reference: str
    disparities: list[Disparity] = Field(description="Each measure between the two groups only.")
    note: str | None = Field(None, description="E.g. a group with too few people behind a rate, or not in the data.")


class FairnessResult(Node):
    feature: str = Field(description="Sensitive feature (column) name, or `a × b` for an intersection.")
    features: list[str] = Field(default_factory=list, description="The columns combined (one for a plain feature).")
    metric_labels: dict[str, str] = Field(description="Metric key → human-readable name, in display order.")
    metric_descriptions: dict[str, str] = Field(
        default_factory=dict, description="Metric key → what it measures, in plain language."
    )
    overall: dict[str, float | None]
    overall_intervals: dict[str, Interval] = Field(default_factory=dict)
    groups: list[GroupMetrics]
    min_group_size: int
    exclude_small_groups: bool = Field(
        True,
        description="True: a group whose denominator for a rate is below min_group_size is left out of the "
        "summaries that use that rate (and listed in each summary's `excluded`).",
    )
    disparities: list[Disparity] = Field(default_factory=list)
    comparisons: list[GroupComparison] = Field(
        default_factory=list, description="Named pairs of groups, from the model's `group_comparisons`."
    )


# --------------------------------------------------------------------------- performance


class ConfusionMatrix(Node):
    labels: list[str] = Field(description="Class labels, in the order of rows (actual) and columns (predicted).")
    counts: list[list[int]] = Field(description="counts[actual][predicted].")


class Curve(Node):
    """A curve as points; ``thresholds[i]`` is the score threshold at point i where meaningful."""

    x: list[float]
    y: list[float]
    thresholds: list[float] = Field(default_factory=list)


class CalibrationBin(Node):
    low: float
    high: float
    count: int
    mean_predicted: float | None
    fraction_positive: float | None


class Calibration(Node):
    """Reliability curve on equal-width score bins; ECE = Σ (count/n)·|fraction_positive − mean_predicted|."""

    bins: list[CalibrationBin]
    expected_calibration_error: float


class Histogram(Node):
    edges: list[float] = Field(description="len(counts) + 1 bin edges.")
    counts: list[int]


class Performance(Node):
    task: str
    rows: int
    metrics: list[Metric]
    threshold: float | None = None
    positive_label: str | None = None
    confusion_matrix: ConfusionMatrix | None = None
    roc_curve: Curve | None = None
    pr_curve: Curve | None = None
    calibration: Calibration | None = None
    residuals: Histogram | None = Field(None, description="Regression: histogram of prediction − actual.")
    predicted_vs_actual: Curve | None = Field(
        None, description="Regression: x = actual, y = predicted, for a seeded sample of at most 1,000 rows."
    )


# --------------------------------------------------------------------------- Local Law 144 bias audit


class AuditCategory(Node):
    """One category of a Local Law 144 bias audit table."""

    category: str = Field(description="E.g. `Female`, or `Female × Black` for an intersection.")
    applicants: int
    share: float = Field(description="Its share of every applicant audited, unknown categories included.")
    selected: int = Field(description="Applicants selected (or scoring above the median).")
    rate: float | None = Field(description="selected ÷ applicants: the selection or scoring rate.")
    impact_ratio: float | None = Field(description="rate ÷ the highest rate; None for an excluded category.")
    interval: Interval | None = Field(None, description="Bootstrap interval of the impact ratio (not required by law).")
    excluded: bool = Field(False, description="Under 2 % of the data: left out of the impact ratios, disclosed.")


class AuditTable(Node):
    dimension: Literal["sex", "race_ethnicity", "intersectional"]
    categories: list[AuditCategory] = Field(description="In name order.")
    unknown: int = Field(description="Applicants whose category is unknown, left out of this table's rates.")
    highest: list[str] = Field(default_factory=list, description="The categories with the highest included rate.")
    min_impact_ratio: float | None = None
    min_category: str | None = Field(None, description="The included category with the lowest impact ratio.")


class BiasAudit(Node):
    """A Local Law 144 bias-audit summary of one evaluation run (the version's most recent)."""

    audit_date: str
    data_source: Literal["historical", "test"]
    data_description: str
    distribution_date: str | None = None
    output: Literal["selection", "score"]
    sex_column: str
    race_column: str
    applicants: int = Field(description="Every applicant assessed: the rows of the evaluation table.")
    selected: int
    median_score: float | None = Field(None, description="For a scoring tool: the median over every applicant.")
    min_share: float = Field(0.02, description="Categories below this share of the data may be excluded.")
    exclude_small_categories: bool = True
    tables: list[AuditTable]
    min_impact_ratio: float | None = Field(None, description="The lowest impact ratio over the three tables.")


# --------------------------------------------------------------------------- comparisons


class MetricDelta(Node):
    name: str
    label: str
    this: float | None
    other: float | None
    delta: float | None = Field(description="this − other.")
    interval: Interval | None = Field(None, description="Paired bootstrap interval of the delta.")
    higher_is_better: bool = True
    best_value: float | None = Field(
        None, description="As the metric's `best_value`: the verdict then reads `distance`, not `delta`."
    )
    distance: float | None = Field(
        None,
        description="For a metric with a `best_value`: |this − best| − |other − best|, below zero when this version "
        "is nearer the best value (a mean error of −2 against −4).",
    )
    distance_interval: Interval | None = Field(None, description="Paired bootstrap interval of `distance`.")
    distance_joint_interval: Interval | None = Field(
        None, description="`distance`'s part of the joint band (see `joint_interval`): what judging it together reads."
    )
    joint_interval: Interval | None = Field(
        None,
        description="This delta's part of one band that covers every metric's delta of the comparison at once "
        "(bootstrap sup-t band, same resamples): a difference whose joint interval also excludes zero holds "
        "when all the metrics are judged together. The band also covers each `distance`.",
    )

    @property
    def better(self) -> str:
        return better_words(self.higher_is_better, best_value_of(self.name, self.best_value))


class GroupRateDelta(Node):
    """One group's rate in this version minus the other's, on the same rows of the group."""

    group: str
    rate: str = Field(description="E.g. `selection_rate`, `tpr`.")
    count: int = Field(description="Paired rows in the group.")
    this: float | None
    other: float | None
    delta: float | None = Field(description="this − other.")
    interval: Interval | None = Field(None, description="Paired bootstrap interval of the delta.")


class DisparityDelta(Node):
    """A disparity summary in this version minus the other's, with the groups behind each value."""

    name: str = Field(description="E.g. `demographic_parity_ratio`.")
    label: str
    method: Literal["between_groups", "to_overall"]
    this: float | None
    other: float | None
    delta: float | None = Field(description="this − other.")
    interval: Interval | None = Field(None, description="Paired bootstrap interval of the delta.")
    this_groups: list[str] = Field(default_factory=list, description="The groups behind this version's value.")
    other_groups: list[str] = Field(default_factory=list, description="The groups behind the other version's value.")
    rate: str | None = Field(None, description="The group rate behind this version's value.")


class FairnessDelta(Node):
    """One sensitive feature (or intersection) compared between two versions on the paired rows."""

    feature: str = Field(description="The feature, or an intersection's parts joined by `+` (`sex+age_band`).")
    groups: list[GroupRateDelta] = Field(default_factory=list)
    disparities: list[DisparityDelta] = Field(default_factory=list)
    excluded: list[ExcludedGroup] = Field(
        default_factory=list, description="Groups left out of the disparity summaries (the evaluation's rule)."
    )


class Comparison(Node):
    """This version against another one, on the same evaluation rows (paired)."""

    other_version: str
    relation: Literal["previous", "live"]
    evaluation: str = Field(description="Evaluation run id of this version.")
    other_evaluation: str
    dataset: str
    rows: int
    matched_by: str = Field(description="How rows were paired: `id column <name>` or `row order`.")
    deltas: list[MetricDelta]
    fairness: list[FairnessDelta] = Field(
        default_factory=list,
        description="Each sensitive feature's group rates and disparity summaries, this − other, on the paired rows "
        "with the same bootstrap draws for both versions.",
    )
    fairness_note: str | None = Field(None, description="Why the groups were not compared, when they were not.")


# --------------------------------------------------------------------------- runs


class DuplicateRows(Node):
    """Rows of an evaluation table that repeat an earlier row in every column the evaluation reads
    (``analysis/duplicates.py``): each counts as a separate record in every figure and interval."""

    rows: int = Field(description="Rows that repeat an earlier row in every compared column.")
    records: int = Field(description="Distinct rows that occur more than once.")
    columns: list[str] = Field(description="The columns compared: those the evaluation reads.")
    distinct_column: str | None = Field(
        None,
        description="A compared column whose values differ between at least 90 % of the distinct rows, which "
        "makes copies by chance implausible; None when no column does.",
    )
    distinct_share: float | None = Field(None, description="That column's distinct values ÷ the distinct rows.")
    by_group: dict[str, dict[str, int]] = Field(
        default_factory=dict,
        description="For each sensitive feature, the copies in each of its groups that has any (at most the 10 "
        "with most): copies in one group move that group's rates.",
    )


class EvaluationRun(Node):
    id: str
    dataset: str
    date: str = Field(description="ISO date of the evaluation.")
    data: FileRef
    label: str
    prediction: str
    score: str | None = None
    features: list[str] = Field(default_factory=list)
    performance: Performance
    fairness: list[FairnessResult] = Field(default_factory=list)
    explainability: Explainability | None = None
    bias_audit: BiasAudit | None = Field(
        None, description="The NYC Local Law 144 bias-audit summary, on the run it is computed from."
    )
    duplicates: DuplicateRows | None = Field(
        None, description="Rows that repeat another row in every column the evaluation reads; None when none does."
    )


class TrainingRecord(Node):
    datasets: list[str]
    algorithm: str
    code_repository: str | None = None
    code_commit: str | None = None
    params: dict[str, FreeValue] = Field(default_factory=dict)
    python: str | None = None
    packages: dict[str, str] = Field(default_factory=dict)
    artifact: FileRef | None = None
