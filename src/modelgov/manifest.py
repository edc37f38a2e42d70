"""The manifest: the one artifact between analysis and rendering.

Everything a page shows is in here, so a saved ``manifest.json`` can be re-rendered, diffed by an
auditor, or read by other tools without pandas or scikit-learn. The JSON Schema generated from these
models is committed (``schemas/manifest.schema.json``); a test keeps the two in step.

Versioning rule (after dbt's artifacts): adding an optional field is not a breaking change; anything
else bumps :data:`SCHEMA_VERSION`'s major number, and readers refuse a major they do not know.

This module imports nothing from the rest of modelgov except ``errors``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from modelgov.errors import ManifestError

SCHEMA_VERSION = "1.12"
SCHEMA_ID = "https://modelgov.dev/schemas/manifest-1.json"


class Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --------------------------------------------------------------------------- provenance


class FileRef(Node):
    """A file the build read: the evidence trail for every number derived from it."""

    path: str = Field(
        description="Path relative to the workspace root, with '/' separators; or, for a log the Spark engine "
        "read where it lives, the object's URI."
    )
    sha256: str = Field(description="SHA-256 of the file's bytes, or of its listing entry (see `identity`).")
    bytes: int
    identity: Literal["content", "listing"] = Field(
        "content",
        description="`content`: `sha256` is the hash of the bytes. `listing`: an object in remote storage, which "
        "is not downloaded to hash it; `sha256` is the hash of its URI, size, modification time and ETag.",
    )


class Generator(Node):
    name: Literal["modelgov"] = "modelgov"
    version: str


# --------------------------------------------------------------------------- card


class Owner(Node):
    name: str
    email: str | None = None
    team: str | None = None


class Card(Node):
    """Human-written card fields (Mitchell et al., 2019). Markdown strings, as the user wrote them."""

    description: str
    primary_uses: str
    primary_users: str
    out_of_scope: str
    factors_relevant: str
    factors_evaluation: str
    performance_measures: str
    decision_threshold: str | None = None
    variation_approaches: str | None = None
    ethical_considerations: str
    caveats: str
    licence: str | None = None
    references: list[str] = Field(default_factory=list)


# --------------------------------------------------------------------------- analyses


class Interval(Node):
    """A bootstrap confidence interval. ``None`` bounds mean the metric was undefined in too many
    resamples for an interval to be meaningful (see ``defined_share``)."""

    low: float | None
    high: float | None
    level: float = Field(description="Confidence level, e.g. 0.95.")
    resamples: int
    method: str = Field(description="How the resamples were drawn, e.g. `percentile bootstrap over rows`.")
    defined_share: float = Field(1.0, description="Share of resamples in which the metric was defined.")


class Metric(Node):
    """A headline number. ``value`` is ``None`` when the metric is undefined for the data
    (e.g. ROC AUC with a single class), and ``note`` says why."""

    name: str = Field(description="Stable key, e.g. `roc_auc`.")
    label: str = Field(description="Human-readable name, e.g. `ROC AUC`.")
    value: float | None
    note: str | None = None
    higher_is_better: bool = True
    description: str | None = Field(None, description="What the metric measures, in plain language.")
    interval: Interval | None = None


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


# --------------------------------------------------------------------------- explainability


class FeatureImportance(Node):
    feature: str
    mean: float = Field(description="Mean drop in the score when the feature is shuffled.")
    std: float = Field(description="Standard deviation across repeats.")


class PermutationImportance(Node):
    scoring: str = Field(description="scikit-learn scorer name, e.g. `roc_auc`, `r2`.")
    repeats: int
    rows: int
    features: list[FeatureImportance] = Field(description="Most important first.")


class PartialDependence(Node):
    feature: str
    kind: Literal["numeric", "categorical"]
    grid: list[float | str]
    average: list[float] = Field(description="Average prediction at each grid value.")
    ice: list[list[float]] = Field(default_factory=list, description="Individual curves for a seeded sample of rows.")


class ShapDistribution(Node):
    """One feature's SHAP values on a sample of rows: the points of a beeswarm chart."""

    feature: str
    values: list[float]
    colour: list[float | None] = Field(
        default_factory=list, description="Rank (0–1) of each row's own value of the feature; None if not a number."
    )


class ShapSummary(Node):
    explainer: str = Field(description="E.g. `TreeExplainer`, `PermutationExplainer`.")
    rows: int
    mean_abs: dict[str, float] = Field(description="Feature → mean |SHAP value|, most important first.")
    distribution: list[ShapDistribution] = Field(
        default_factory=list, description="Each feature's SHAP values on up to 200 rows, most important first."
    )


class ErrorSlice(Node):
    """A slice of the evaluation data (one or two feature conditions) and its error."""

    conditions: dict[str, str] = Field(description="Feature → value or range defining the slice.")
    count: int
    error: float = Field(description="Error rate (classification) or MAE (regression) in the slice.")
    overall_error: float


class ReasonCode(Node):
    """A feature that pushed one decision toward the adverse outcome, in the card's words."""

    feature: str
    label: str = Field(
        description="The card's wording of the feature (`explanations.features.<f>.label`), else its name."
    )
    attribution: float | None = Field(
        description="Its SHAP value, on the explainer's output scale (signed); None: withheld with the feature's value."
    )


class WhatIf(Node):
    """One record's score as one feature moves over its observed range, the others held (an ICE curve)."""

    feature: str
    label: str
    kind: Literal["numeric", "categorical"]
    grid: list[float | str]
    scores: list[float]
    adverse: list[bool] = Field(description="Whether the decision at each grid value is the adverse one.")
    flips: list[float | str] = Field(
        default_factory=list, description="Grid values where the decision differs from the one at the value before."
    )


class CounterfactualChange(Node):
    feature: str
    label: str
    before: str | None = Field(description="None: withheld (the datasheet does not allow publishing it).")
    after: str | None


class Counterfactual(Node):
    """The nearest change found that flips an adverse decision, within the constraints and the budget."""

    found: bool
    changes: list[CounterfactualChange] = Field(default_factory=list)
    score: float | None = Field(None, description="The score after the changes.")
    distance: float | None = Field(None, description="Sum of |change| / MAD over numeric features, +1 per category.")
    evaluations: int = Field(description="Model evaluations the search used.")
    note: str | None = None


class ExplainedRecord(Node):
    number: int = Field(description="Its place on the page (1, 2, …): how a record without a published id is named.")
    id: str | None = Field(None, description="None when the datasheet does not allow publishing records.")
    selected_because: list[str] = Field(
        description="Why it was explained: named in the card, an error, a group sample."
    )
    inputs: dict[str, str | None] = Field(default_factory=dict, description="Feature → value; None: withheld.")
    score: float
    adverse: bool
    base_value: float
    attributions: dict[str, float | None] = Field(
        description="Feature → SHAP value; base + Σ = the output on `scale`. None: withheld with the feature's value."
    )
    output: float = Field(description="The model's output on the explainer's scale (base + Σ attributions).")
    reason_codes: list[ReasonCode] = Field(default_factory=list)
    what_if: list[WhatIf] = Field(default_factory=list)
    counterfactual: Counterfactual | None = None


class ReasonCodeShare(Node):
    feature: str
    label: str
    count: int = Field(description="Adverse decisions of the group that give this reason code.")
    share: float = Field(description="count ÷ the group's adverse decisions.")


class GroupReasonCodes(Node):
    """Do reason codes differ by group? The most frequent reason codes of each group's adverse decisions."""

    feature: str = Field(description="The sensitive feature.")
    adverse: dict[str, int] = Field(description="Group → adverse decisions in the sample.")
    codes: dict[str, list[ReasonCodeShare]] = Field(description="Group → its most frequent reason codes.")
    differing: list[str] = Field(
        default_factory=list,
        description="Features whose share of reason codes differs by at least 25 points between groups large enough.",
    )


class RecordExplanations(Node):
    """Individual decisions of one evaluation run, explained (``explanations`` in model.yml)."""

    explainer: str
    scale: str = Field(description="What base + Σ attributions equals: `probability`, `log-odds` or `value`.")
    threshold: float
    adverse_side: Literal["high", "low"]
    published: bool = Field(
        description="Whether ids and feature values may be shown (the datasheet's `publish_records`)."
    )
    records: list[ExplainedRecord] = Field(default_factory=list)
    missing_ids: int = Field(0, description="Ids named in the card that this run's table does not hold.")
    sample_rows: int = Field(0, description="Rows the group table and the attribution shares were computed on.")
    groups: list[GroupReasonCodes] = Field(default_factory=list)
    attribution_share: dict[str, float] = Field(
        default_factory=dict, description="Feature → its share of total |attribution| over the sample."
    )
    sensitive_reason_codes: int = Field(0, description="Reason codes in the sample that name a sensitive feature.")
    sensitive_features: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict, description="Feature → the card's wording of it.")
    notes: list[str] = Field(default_factory=list)


class Explainability(Node):
    """What explains the model's predictions. Each part is None with a note when it could not be
    computed (no loadable model, a model that refuses the features, an optional library missing)."""

    model: FileRef | None = None
    permutation_importance: PermutationImportance | None = None
    partial_dependence: list[PartialDependence] = Field(default_factory=list)
    shap: ShapSummary | None = None
    error_slices: list[ErrorSlice] = Field(default_factory=list)
    error_metric: str | None = Field(None, description="`error rate` or `mean absolute error`.")
    notes: list[str] = Field(default_factory=list, description="Why a part is missing, in plain language.")
    precomputed_importance: dict[str, float] = Field(
        default_factory=dict, description="Importances declared in the training metadata (shown when no model)."
    )
    records: RecordExplanations | None = Field(
        None, description="Individual decisions explained (model.yml `explanations`)."
    )


# --------------------------------------------------------------------------- comparisons


class MetricDelta(Node):
    name: str
    label: str
    this: float | None
    other: float | None
    delta: float | None = Field(description="this − other.")
    interval: Interval | None = Field(None, description="Paired bootstrap interval of the delta.")
    higher_is_better: bool = True
    joint_interval: Interval | None = Field(
        None,
        description="This delta's part of one band that covers every metric's delta of the comparison at once "
        "(bootstrap sup-t band, same resamples): a difference whose joint interval also excludes zero holds "
        "when all the metrics are judged together.",
    )


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


# --------------------------------------------------------------------------- versions and models


class Approval(Node):
    """A sign-off, from ``approvals.yml`` (always unsigned) or the audit log (``modelgov approve``)."""

    role: str
    by: str
    decision: Literal["approved", "rejected", "pending"]
    date: str
    comment: str | None = None
    source: FileRef
    entry: int | None = Field(None, description="The audit log entry (seq) that records it; None for approvals.yml.")
    signature: Literal["signed", "unsigned", "invalid"] = Field(
        "unsigned",
        description="`signed`: an SSH signature by a key the allowed-signers file lists for `by`, with the role; "
        "`invalid`: a signature that does not verify, or a signer not allowed or without the role.",
    )
    signer_key: str | None = Field(None, description="SHA256 fingerprint of the key that signed it.")
    signature_problem: str | None = Field(None, description="Why an `invalid` signature is not accepted.")
    evidence: Literal["current", "stale", "unbound"] = Field(
        "unbound",
        description="`current`: the evidence it decided on is unchanged; `stale`: some of it changed since "
        "(see `changed`); `unbound`: it names no evidence (approvals.yml, or an entry from before binding).",
    )
    changed: list[str] = Field(default_factory=list, description="Evidence files that changed since the sign-off.")

    @property
    def counts(self) -> bool:
        """Policies count it: not stale, and not carrying a signature that fails."""
        return self.evidence != "stale" and self.signature != "invalid"


class EvidenceFile(Node):
    path: str
    sha256: str = Field(description="SHA-256 of the file (for version.yml: with its status value blanked).")


class VersionEvidence(Node):
    """What a sign-off of this version decides on (see docs/audit.md): card, version record,
    evaluation tables, model file and datasheets — not the status, not production logs."""

    digest: str = Field(description="SHA-256 over the sorted (path, SHA-256) pairs.")
    files: list[EvidenceFile]


class StatusChange(Node):
    """The audit entry that set the version's current status (``modelgov promote``)."""

    entry: int
    by: str
    date: str
    from_status: str | None = None
    to_status: str
    signature: Literal["signed", "unsigned", "invalid"] = "unsigned"
    signature_problem: str | None = None
    evidence: Literal["current", "stale", "unbound"] = Field(
        "unbound", description="`stale`: the version's evidence changed since the promotion (see `changed`)."
    )
    changed: list[str] = Field(default_factory=list, description="Evidence files that changed since the promotion.")
    override_reason: str | None = Field(
        None, description="Set when the promotion overrode a blocked policy gate: the reason given."
    )
    overridden_rules: list[str] = Field(
        default_factory=list, description="The blocking rules (`policy/rule`) overridden."
    )


class RecordedDelta(Node):
    """A metric's or a gap's difference as a promotion recorded it (this − the live version)."""

    name: str
    label: str
    feature: str | None = Field(None, description="For a gap between groups: the sensitive feature.")
    this: float | None = None
    other: float | None = None
    delta: float | None = None
    low: float | None = Field(None, description="Lower bound of the paired interval of the difference.")
    high: float | None = None
    higher_is_better: bool | None = None
    this_groups: list[str] = Field(
        default_factory=list, description="For a gap: the groups behind this version's value."
    )
    other_groups: list[str] = Field(default_factory=list)


class RecordedComparison(Node):
    """The comparison a promotion was decided on, as recorded in its audit entry."""

    other_version: str
    relation: Literal["previous", "live"]
    dataset: str
    evaluation: str
    other_evaluation: str
    rows: int
    metrics: list[RecordedDelta] = Field(default_factory=list)
    gaps: list[RecordedDelta] = Field(default_factory=list)


class RecordedResult(Node):
    """A policy result at the promotion that was not a pass."""

    rule: str = Field(description="`policy/rule`.")
    outcome: str
    message: str


class RecordedSignOff(Node):
    role: str
    by: str
    decision: str
    date: str
    entry: int | None = None
    signature: str
    evidence: str


class PromotionRecord(Node):
    """The decisive evidence of a promotion, summarised by `modelgov promote` in its audit entry (and so
    covered by the entry's hash and signature): what the decision was made on, kept as it was."""

    version: str = Field(description="The version promoted: the entry's own.")
    as_of: str = Field(description="The date the policies were checked on.")
    evidence_digest: str = Field(description="The digest of the evidence files the entry binds.")
    live: str | None = Field(None, description="The version in production at the decision, other than this one.")
    comparison: RecordedComparison | None = None
    blocking: bool = Field(description="Whether the policy gate blocked (then the entry records an override).")
    counts: dict[str, int] = Field(default_factory=dict, description="The version's policy results by outcome.")
    results: list[RecordedResult] = Field(
        default_factory=list, description="The results that were not a pass (at most 40; `more` counts the rest)."
    )
    more: int = 0
    sign_offs: list[RecordedSignOff] = Field(default_factory=list, description="Each role's latest sign-off.")
    shadow: dict[str, str | float | int | bool | None] | None = Field(
        None, description="The shadow test's summary at the decision, when the version had one."
    )
    experiment: dict[str, str | float | int | bool | None] | None = Field(
        None, description="The A/B test's summary at the decision, when the version had one."
    )


class Promotion(Node):
    """One `modelgov promote` of the version to staging or production, with the evidence it recorded."""

    entry: int
    by: str
    time: str
    from_status: str | None = None
    to_status: str
    comment: str | None = None
    signature: Literal["signed", "unsigned", "invalid"] = "unsigned"
    signature_problem: str | None = None
    override_reason: str | None = None
    overridden_rules: list[str] = Field(default_factory=list)
    record: PromotionRecord | None = Field(None, description="None for a promotion recorded without one.")
    evidence: Literal["current", "stale", "unbound"] = "unbound"
    changed: list[str] = Field(default_factory=list, description="Evidence files that changed since the promotion.")
    moved: list[str] = Field(
        default_factory=list,
        description="The recorded comparison's numbers that differ in this build, in words (evidence changed since).",
    )


class FlagResolution(Node):
    """The audit entry that closed a flag, with its note."""

    entry: int
    by: str
    time: str = Field(description="UTC time of the entry.")
    note: str
    signature: Literal["signed", "unsigned", "invalid"] = "unsigned"
    signer_key: str | None = None
    signature_problem: str | None = None
    accepted: bool = Field(
        description="Whether it closes the flag: never with a signature that is not accepted, nor unsigned "
        "when the build required signatures (MODELGOV_REQUIRE_SIGNATURES)."
    )


class Flag(Node):
    """Feedback from the business (``modelgov flag``): results of the version that do not match what the
    people using them expect."""

    id: str = Field(description="The first 12 hex digits of the hash of the audit entry that raised it.")
    entry: int = Field(description="That entry's seq.")
    by: str
    time: str = Field(description="UTC time it was raised.")
    scope: Literal["version", "window", "records"]
    start: str | None = Field(None, description="A window's first day (ISO date).")
    end: str | None = Field(
        None, description="A window's last day, inclusive; None for the window starting on `start`."
    )
    records: list[str] = Field(default_factory=list, description="The record ids it names.")
    text: str
    signature: Literal["signed", "unsigned", "invalid"] = "unsigned"
    signer_key: str | None = None
    signature_problem: str | None = None
    state: Literal["open", "resolved"] = Field(description="`resolved` once an accepted resolution closes it.")
    age_days: int = Field(
        description="Days from the day it was raised to the check date (`governance.as_of`, else the build "
        "date); for a resolved flag, to the day it was resolved."
    )
    resolution: FlagResolution | None = None


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


class TrainingRecord(Node):
    datasets: list[str]
    algorithm: str
    code_repository: str | None = None
    code_commit: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    python: str | None = None
    packages: dict[str, str] = Field(default_factory=dict)
    artifact: FileRef | None = None


class MonitoringSource(Node):
    """Where the version's production logs are. Their analysis is added by the monitoring stage."""

    logs: list[FileRef] = Field(description="Every log file read (one, or the matches of a glob or folder).")
    timestamp: str
    prediction: str
    score: str | None = None
    features: list[str] = Field(default_factory=list)
    ground_truth: FileRef | None = None


# --------------------------------------------------------------------------- monitoring and drift


class FeatureDrift(Node):
    """One feature (or the prediction/score) in one window, against the reference."""

    feature: str
    kind: Literal["numeric", "categorical"]
    kind_source: Literal["declared", "inferred"] = Field(
        "inferred",
        description="`declared`: the workspace set the kind (`monitoring.drift.features.<feature>.kind`); "
        "`inferred`: decided from the reference column as Evidently does (integers with at most 10 distinct "
        "values, booleans and text are categorical).",
    )
    method: str = Field(description="`ks`, `wasserstein`, `chisquare`, `z`, `jensenshannon` or `psi`.")
    statistic: float | None = Field(description="p-value for tests, distance otherwise; None when undefined.")
    threshold: float
    drifted: bool
    rows: int = Field(description="Non-missing values in the window.")
    missing_rate: float | None = None
    psi: float | None = None
    psi_band: Literal["none", "moderate", "major"] | None = None
    range_violations: int | None = Field(None, description="Numeric: values outside the reference's [min, max].")
    new_categories: dict[str, int] = Field(default_factory=dict, description="Values never seen in the reference.")
    note: str | None = None


class EstimateCheck(Node):
    """One metric of a window with outcomes: the value estimated from the scores of the records whose
    outcome arrived, beside the value those outcomes show."""

    name: str = Field(description="Metric key, e.g. `accuracy`.")
    estimated: float | None
    interval: Interval | None = Field(
        None, description="Where the realized value should fall if P(outcome | inputs) is unchanged."
    )
    realized: float | None
    disagrees: bool | None = Field(
        None, description="The realized value lies outside the interval; None when either is undefined."
    )


class WindowEstimate(Node):
    """Performance estimated from a window's scores alone (before its outcomes arrive)."""

    rows: int = Field(description="Records with a score.")
    metrics: list[Metric] = Field(default_factory=list)
    roc_auc_resolution: float | None = Field(
        None,
        description="The score is known per cell only: the row-level ROC AUC estimate lies in [value, value + this].",
    )


class PerformanceEstimation(Node):
    """How performance was estimated without outcomes (confidence-based performance estimation), or why
    it was not."""

    estimated: bool
    reason: str | None = Field(None, description="Why nothing was estimated.")
    method: str = Field("CBPE", description="Confidence-based performance estimation.")
    calibration: Literal["none", "isotonic"] | None = Field(
        None, description="How scores became probabilities: as they are, or isotonic regression on the reference."
    )
    ece_raw: float | None = Field(None, description="Expected calibration error of the raw scores (cross-fitted).")
    ece_calibrated: float | None = Field(None, description="The same after calibration on the other folds.")
    ece_bins: int | None = None
    reference_rows: int | None = None
    threshold: float | None = Field(
        None, description="Decision threshold: a score at or above it is predicted positive."
    )
    interval_method: str | None = None


class DriftWindow(Node):
    start: str = Field(description="UTC start, inclusive (ISO 8601).")
    end: str = Field(description="UTC end, exclusive.")
    rows: int
    share_drifted: float | None = Field(description="Share of features that drifted; None for an empty window.")
    dataset_drift: bool
    features: list[FeatureDrift] = Field(default_factory=list)
    prediction: FeatureDrift | None = Field(None, description="Drift of the score (or prediction) itself.")
    labelled_rows: int = Field(0, description="Records whose outcome has arrived.")
    performance: list[Metric] = Field(default_factory=list, description="Metrics on the labelled records.")
    columns_drifted: int | None = Field(
        None, description="Columns that drifted, of `columns_compared`: the share's numerator; None for no records."
    )
    columns_compared: int | None = Field(
        None,
        description="Columns with a verdict that the share counts: the features, and the model's output when the "
        "report's `share_counts_output` is true.",
    )
    reference_period: str | None = Field(
        None, description="With a seasonal reference: the period this window was compared with, e.g. `March`, `Q1`."
    )
    reference_rows: int | None = Field(
        None, description="With a seasonal reference: the reference rows of that period (0: none, so no verdicts)."
    )
    estimated: WindowEstimate | None = Field(
        None, description="Performance estimated from the window's scores (CBPE); None when not estimated."
    )
    estimate_checks: list[EstimateCheck] = Field(
        default_factory=list, description="Estimated against realized on the records whose outcome arrived."
    )

    @property
    def drifted(self) -> bool:
        """The window drifted: it has records and its inputs (dataset drift) or the model's output drifted."""
        return self.rows > 0 and (self.dataset_drift or bool(self.prediction and self.prediction.drifted))


class Distribution(Node):
    """Reference against the latest non-empty window, for an overlay chart."""

    feature: str
    kind: Literal["numeric", "categorical"]
    bins: list[str] = Field(
        description="Bin labels: ranges for numeric features (reference deciles), values otherwise."
    )
    reference_share: list[float]
    current_share: list[float]


class CalendarNote(Node):
    """A calendar-like feature compared with a reference that covers more of the calendar than a
    window does, so that it drifts by construction."""

    feature: str
    unit: str = Field(description="What its values count: `hour`, `day of the week`, `month`, `season`, `year` ...")
    matched_by: Literal["name", "values"] = Field(
        description="How it was recognised: its name, or its values (names of months, weekdays or seasons)."
    )
    note: str = Field(description="Why it drifts by construction, and what to do about it.")


class OutcomeAccounting(Node):
    """What became of the ground-truth table's rows: each is used, or counted here with its reason."""

    rows: int = Field(description="Rows of the ground-truth table.")
    used: int = Field(description="Distinct ids whose outcome joined a scoring record of the log.")
    incomplete: int = Field(0, description="Rows without an id or without an outcome: left out.")
    repeated: int = Field(0, description="Rows repeating an id already listed with the same outcome: counted once.")
    unmatched: int = Field(0, description="Ids with an outcome that no scoring record has: left out.")


class FairnessSnapshot(Node):
    """One window's group rates and disparities of one sensitive feature, on one basis."""

    basis: Literal["selection", "realized", "estimated"] = Field(
        description="`selection`: every record with a prediction (selection rates only); `realized`: the records "
        "whose outcome arrived; `estimated`: expected confusion counts from each record's calibrated score (CBPE), "
        "before the outcomes arrive."
    )
    rows: int = Field(description="Records counted: with a prediction, with an outcome, or with a score.")
    groups: list[GroupMetrics] = Field(
        default_factory=list, description="Each group's rates; for `estimated`, counts are expected (fractional)."
    )
    disparities: list[Disparity] = Field(
        default_factory=list,
        description="`selection`: demographic parity; `realized` and `estimated`: equalized odds and equal opportunity.",
    )


class ProductionFairnessWindow(Node):
    start: str = Field(description="UTC start, inclusive (ISO 8601).")
    end: str = Field(description="UTC end, exclusive.")
    rows: int
    selection: FairnessSnapshot | None = None
    realized: FairnessSnapshot | None = None
    estimated: FairnessSnapshot | None = None


class ProductionFairness(Node):
    """Fairness in production for one sensitive feature of the model card, window by window."""

    feature: str
    measured: bool = Field(description="False when the log lacks the column or it has too many values.")
    note: str | None = Field(None, description="Why it was not measured, or what limits it.")
    groups: list[str] = Field(default_factory=list, description="Every group seen in the log, in display order.")
    min_group_size: int = 30
    exclude_small_groups: bool = True
    estimated_interval: str | None = Field(
        None, description="Why estimated rates and disparities carry no interval (or what their interval means)."
    )
    windows: list[ProductionFairnessWindow] = Field(default_factory=list)


class MonitoringReport(Node):
    """Drift and performance over time for one version's production logs."""

    reference: str = Field(
        description="What the reference is, by kind: the evaluation id, the table's path, or the window's start."
    )
    reference_kind: Literal["evaluation", "data", "window"] = Field(
        "evaluation",
        description="`evaluation`: an evaluation table of this version; `data`: another table (e.g. a training "
        "sample); `window`: one window of the production log itself.",
    )
    reference_file: FileRef | None = Field(None, description="The reference table, for `evaluation` and `data`.")
    reference_description: str | None = Field(None, description="What a `data` reference is, as the workspace says.")
    reference_rows: int
    window: str = Field(description="`day`, `week`, `month` or `N rows`.")
    dataset_share: float = Field(description="Share of drifted features that makes a window's dataset drift.")
    share_counts_output: bool = Field(
        False,
        description="The share of drifted columns (and so dataset drift) counts the model's output as one more "
        "column, as Evidently's DriftedColumnsCount does when the output is among its columns; false: the features "
        "alone (`monitoring.drift.count_output`).",
    )
    seasonal: Literal["month", "quarter"] | None = Field(
        None,
        description="Each window was compared with the reference rows of the same calendar month (quarter): the "
        "one holding the window's midpoint. None: with every reference row.",
    )
    calendar_notes: list[CalendarNote] = Field(
        default_factory=list,
        description="Calendar-like features that drift by construction against this reference, with what to do.",
    )
    windows: list[DriftWindow]
    reference_performance: list[Metric] = Field(default_factory=list, description="Baseline: the reference run.")
    outcomes: OutcomeAccounting | None = Field(None, description="With ground truth: what became of its rows.")
    estimation: PerformanceEstimation | None = Field(
        None, description="Performance estimated without outcomes: how, or why not (binary classifiers)."
    )
    fairness: list[ProductionFairness] = Field(
        default_factory=list,
        description="Fairness in production: per sensitive feature of the card, per window, the group rates and "
        "disparities (selection rates always, realized where outcomes arrived, estimated from scores).",
    )
    latest: list[Distribution] = Field(default_factory=list)
    kpis: list[KpiSeries] = Field(
        default_factory=list, description="The card's business KPIs, window by window (`business.kpis`)."
    )
    first_drift: str | None = Field(
        None,
        description="Start of the unbroken run of drifted windows (dataset or output drift) that reaches the "
        "latest window with records; None when the latest window did not drift.",
    )
    status: Literal["no drift", "drift", "no data"]


# --------------------------------------------------------------------------- business KPIs


class KpiBaseline(Node):
    """The process the model replaced, as the card states it."""

    description: str
    column: str | None = Field(None, description="Measured from this column (a ratio's numerator), window by window.")
    denominator: str | None = Field(None, description="A ratio baseline's denominator column.")
    value: float | None = Field(None, description="A fixed value, on the KPI's scale.")
    source: str | None = Field(None, description="Where a fixed value comes from.")


class Kpi(Node):
    """One business KPI as the card defines it (`business.kpis` in model.yml)."""

    name: str = Field(description="Used in evidence paths: `kpis.<name>.latest`.")
    title: str
    description: str
    aggregation: Literal["mean", "sum", "rate", "ratio"]
    columns: list[str] = Field(description="`[column]`, or `[numerator, denominator]` for a ratio.")
    table: Literal["log", "outcomes"] = Field(description="The production log, or the outcomes joined to it by id.")
    direction: Literal["higher", "lower"]
    target: float
    unit: Literal["number", "percent", "currency"] = "number"
    symbol: str | None = None
    decimals: int | None = None
    baseline: KpiBaseline | None = None


class Business(Node):
    """The business objective a model serves and its KPIs."""

    objective: str
    kpis: list[Kpi] = Field(default_factory=list)


class KpiInterval(Node):
    """An interval computed in closed form from a window's sufficient statistics."""

    low: float | None
    high: float | None
    level: float


class KpiValue(Node):
    """A KPI (or its baseline) in one window."""

    value: float | None = Field(description="None when no record holds a value.")
    interval: KpiInterval | None = Field(None, description="None with fewer than two values (one for a rate).")
    stderr: float | None = Field(None, description="Standard error of the value, as the interval uses it.")
    count: int = Field(description="Records whose value counted (for a ratio: both columns present).")
    missing: int = Field(0, description="Records in scope whose value is missing (NULL, NaN, ±inf).")


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


class KpiWindow(Node):
    start: str
    end: str
    rows: int = Field(description="Records of the log in the window.")
    outcome_rows: int | None = Field(None, description="KPIs on the outcomes: records whose outcome has arrived.")
    status: Literal["measured", "no records", "no outcomes yet", "no values"]
    kpi: KpiValue | None = None
    baseline: KpiValue | None = None
    meets_target: bool | None = Field(None, description="The value is on the right side of the target.")
    against_baseline: Literal["better", "worse", "no clear difference"] | None = Field(
        None, description="The difference from the baseline, judged by its interval (None without a baseline)."
    )
    difference: float | None = Field(None, description="KPI minus baseline.")
    difference_interval: KpiInterval | None = None


class KpiSeries(Node):
    """One KPI of the card measured over a version's monitoring windows."""

    name: str
    method: str = Field(description="How the value and its interval are computed.")
    baseline_method: str | None = Field(None, description="How the KPI is compared with its baseline.")
    windows: list[KpiWindow]
    latest: str | None = Field(None, description="Start of the latest window with a value.")
    latest_value: float | None = None
    meets_target: bool | None = Field(None, description="In the latest window with a value.")
    windows_missing_target: int = Field(
        0, description="Consecutive windows with a value, up to the latest, that miss the target."
    )


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


class RiskMatrix(Node):
    """The risk matrix the assessments were rated on (governance.yml ``risk_matrix``, or the default)."""

    probability: list[str] = Field(description="Probability levels, least likely first.")
    impact: list[str] = Field(description="Impact levels, mildest first.")
    levels: list[str] = Field(description="Severity levels, least severe first.")
    cells: list[list[str]] = Field(description="cells[probability][impact]: the severity level of each cell.")
    scores: list[list[int]] | None = Field(
        None, description="scores[probability][impact] = (p + 1) × (i + 1), when levels come from score bands."
    )
    bands: dict[str, int] | None = Field(None, description="Severity level → the highest score it covers.")
    tiers: dict[str, str] = Field(description="Severity level → the risk tier it implies.")
    reassess_every: dict[str, int] = Field(description="Risk tier → days from one assessment to the next.")
    default: bool = Field(description="True when governance.yml sets no risk_matrix and the default applies.")


class AssessedRisk(Node):
    name: str = Field(description="Key in model.yml, e.g. `bad_prediction`.")
    title: str
    probability: str
    impact: str
    severity: str
    severity_rank: int = Field(description="1 = the least severe level.")
    score: int | None = Field(None, description="Probability rank × impact rank, when the matrix is banded.")
    note: str | None = None


class RiskAssessment(Node):
    """A model's risk assessment, rated on the manifest's ``risk_matrix``."""

    assessed_by: str
    assessed_on: str
    risks: list[AssessedRisk] = Field(description="In the order of model.yml.")
    severity: str = Field(description="The most severe level over the risks.")
    severity_rank: int
    set_by: list[str] = Field(description="The risks at that level (their names).")
    implied_tier: str = Field(description="The tier the matrix maps that level to.")
    declared_tier: str
    implied_tier_met: bool = Field(description="The declared tier is at least the implied one (governance.yml order).")
    reassess_tier: str = Field(description="The higher of the declared and implied tiers: it sets the interval.")
    reassess_days: int
    due: str = Field(description="The date the next assessment is due: assessed_on + reassess_days.")

    def overdue_on(self, day: str) -> bool:
        """Overdue on ``day`` (an ISO date): after the due date; on the due date itself it is not."""
        return day[:10] > self.due


class ModelVersion(Node):
    version: str
    status: Literal["candidate", "staging", "production", "retired"]
    created: str
    summary: str
    previous: str | None = None
    source: FileRef = Field(description="The version.yml this entry was read from.")
    training: TrainingRecord
    evaluations: list[EvaluationRun]
    monitoring: MonitoringSource | None = None
    experiment: AbTest | None = Field(None, description="The A/B test of this version against a champion.")
    drift: MonitoringReport | None = None
    shadow: ShadowReport | None = Field(None, description="The shadow test of this version beside the live one.")
    approvals: list[Approval] = Field(default_factory=list)
    comparisons: list[Comparison] = Field(default_factory=list)
    evidence: VersionEvidence | None = Field(None, description="The digest a sign-off of this version binds.")
    status_change: StatusChange | None = Field(
        None,
        description="The audit entry that set the current status; None when the log records none (the status "
        "was written by hand, or the workspace keeps no audit log).",
    )
    flags: list[Flag] = Field(
        default_factory=list, description="Flags raised on the version from the audit log, oldest first."
    )
    promotions: list[Promotion] = Field(
        default_factory=list,
        description="Each promotion of the version to staging or production in the audit log, oldest first, "
        "with the evidence it was decided on.",
    )

    @property
    def latest_evaluation(self) -> EvaluationRun:
        return max(self.evaluations, key=lambda e: (e.date, e.id))


class Model(Node):
    id: str
    name: str
    owner: Owner
    task: Literal["binary_classification", "multiclass_classification", "regression"]
    risk_tier: str
    tags: list[str] = Field(default_factory=list)
    sensitive_features: list[str] = Field(default_factory=list)
    card: Card
    business: Business | None = Field(None, description="The business objective and its KPIs, from the card.")
    risk: RiskAssessment | None = Field(None, description="The card's risk assessment, rated; None when it has none.")
    source: FileRef = Field(description="The model.yml this entry was read from.")
    live_version: str | None = Field(
        description="The version with status `production` (the newest one if several), else None."
    )
    versions: list[ModelVersion] = Field(description="Newest first (by creation date, then version).")


class Dataset(Node):
    id: str
    name: str
    description: str
    source: str
    licence: str
    collection_method: str
    collection_period: str | None = None
    rows: int | None = None
    contains_pii: bool = False
    pii_fields: list[str] = Field(default_factory=list)
    legal_basis: str | None = None
    known_gaps: str | None = None
    files: list[FileRef] = Field(default_factory=list)
    references: list[str] = Field(default_factory=list)
    datasheet: FileRef
    used_by: list[str] = Field(
        default_factory=list,
        description="`model-id/version` of every version that trained or evaluated on it.",
    )


class Standing(Node):
    """Whether a pack, or one of its clauses, applies on the check date (``governance.as_of``),
    computed from the pack's dates by :mod:`modelgov.policy.standing`."""

    state: Literal["in force", "coming", "rescinded", "no dates"] = Field(
        description="`coming`: it starts to apply after the check date; `rescinded`: it stopped applying on or "
        "before it; `no dates`: the pack declares none."
    )
    date: str | None = Field(None, description="The day it starts to apply, or (rescinded) stopped applying.")
    days: int | None = Field(None, description="`date` minus the check date, in days (negative when past).")
    by: str | None = Field(None, description="Rescinded: what replaced it.")


class PolicySource(Node):
    id: str
    title: str
    url: str | None = None
    date: str | None = None


class PolicyInstrument(Node):
    name: str
    number: str | None = None
    issuer: str | None = None


class PolicyReference(Node):
    framework: str
    clause: str
    title: str | None = None
    url: str | None = None
    source: str | None = Field(None, description="The id of the policy's source the clause was read in.")
    applies_from: str | None = None
    verified: bool | None = Field(None, description="False: the clause could not be checked against its source.")
    standing: Standing | None = None


class PolicyRule(Node):
    id: str
    title: str
    description: str | None = None
    kind: str = Field(description="`evidence`, `documented`, `approved_by`, `max_age_days`, `drift_limits`, …")
    requirement: str = Field(description="What the rule requires, as text (e.g. `performance.roc_auc >= 0.7`).")
    severity: Literal["blocking", "warning", "info"]
    scope: str = Field(description="The rule's own narrowing of the policy's scope, as text; empty when none.")
    references: list[PolicyReference] = Field(default_factory=list)
    reads: list[str] = Field(
        default_factory=list,
        description="The evidence the rule reads (evidence paths, card fields, approval roles, datasheet fields), "
        "so one piece of evidence can be traced to every rule and clause it serves.",
    )


class CoverageClause(Node):
    clause: str
    title: str
    rules: list[str] = Field(default_factory=list)
    attestation: str | None = None
    note: str | None = None
    source: str | None = None
    applies_from: str | None = None
    verified: bool | None = None
    standing: Standing | None = None


class Policy(Node):
    id: str
    title: str
    description: str | None = None
    framework: str | None = None
    pack: str | None = Field(None, description="Name of the built-in pack, when the policy is one.")
    source: FileRef = Field(description="The policy file (for a built-in pack, its path inside modelgov).")
    scope: str = Field(description="Which versions it applies to, as text.")
    rules: list[PolicyRule]
    coverage: list[CoverageClause] = Field(default_factory=list)
    instrument: PolicyInstrument | None = None
    version: str | None = None
    declared_status: str | None = Field(None, description="The status the pack declares (as of its writing).")
    superseded_by: str | None = None
    rescinded_on: str | None = None
    published: str | None = None
    applies_from: str | None = None
    sources: list[PolicySource] = Field(default_factory=list)
    standing: Standing | None = Field(None, description="Whether it applies on the check date; None: no result yet.")


Outcome = Literal["pass", "fail", "warn", "waived", "error", "not-applicable"]


class PolicyCheck(Node):
    """One comparison inside a rule's result (a wildcard rule has one per matched path)."""

    path: str = Field(description="Evidence path, or what was checked (e.g. `approvals.model_risk`).")
    observed: Any = Field(description="The value found; None when there was none.")
    requirement: str
    outcome: Literal["pass", "fail", "error"]
    message: str
    page: str | None = Field(None, description="Site-relative link to the evidence.")


class PolicyResult(Node):
    policy: str
    rule: str
    model: str
    version: str
    severity: Literal["blocking", "warning", "info"]
    outcome: Outcome
    unwaived_outcome: Outcome | None = Field(None, description="What the outcome would be without the waiver.")
    waiver: str | None = None
    message: str
    checks: list[PolicyCheck] = Field(default_factory=list)
    not_in_force: Literal["coming", "rescinded"] | None = Field(
        None,
        description="The rule's obligation does not apply on the check date: it is coming (the text, or every "
        "clause the rule cites, applies later) or its text was rescinded. Such a result is reported but never "
        "blocks the release.",
    )


class WaiverRecord(Node):
    """How the waiver is recorded in the audit log (``modelgov waive``)."""

    entry: int | None = Field(None, description="The audit entry that granted it; None when no entry names it.")
    by: str | None = None
    signature: Literal["signed", "unsigned", "invalid"] = "unsigned"
    signature_problem: str | None = None
    changed: list[str] = Field(
        default_factory=list, description="Fields of waivers.yml that differ from what the audit entry recorded."
    )

    @property
    def accepted(self) -> bool:
        """Signed by a listed key and unchanged since: what ``require_signed_waivers`` asks for."""
        return self.entry is not None and self.signature == "signed" and not self.changed


class WaiverState(Node):
    id: str
    policy: str
    rule: str
    models: list[str]
    versions: list[str] | None = None
    reason: str
    approved_by: str
    ticket: str
    granted: str
    expires: str
    state: Literal["active", "expiring", "expired", "not yet granted", "not accepted"] = Field(
        description="`expiring`: active but ends within 30 days of the check; `not yet granted`: granted "
        "after the check date, so it does not apply yet; `not accepted`: governance.yml requires signed "
        "waivers and this one has no accepted signature, or was changed after it was signed."
    )
    used_by: list[str] = Field(default_factory=list, description="`model@version` results it waived.")
    would_apply_to: list[str] = Field(
        default_factory=list, description="Expired: the failing results it would cover if it still applied."
    )
    source: FileRef
    record: WaiverRecord = Field(default_factory=WaiverRecord, description="Its audit entry and signature.")


class GovernanceReport(Node):
    as_of: str = Field(description="The date policies were evaluated on (freshness, waiver expiry).")
    fail_on: Literal["blocking", "warning"] = "blocking"
    policies: list[Policy]
    results: list[PolicyResult]
    waivers: list[WaiverState] = Field(default_factory=list)
    blocking: bool = Field(description="True when the release should be blocked (the exit code is 1).")
    signatures_required: bool = Field(
        False,
        description="The CI required signatures (MODELGOV_REQUIRE_SIGNATURES): every sign-off, promotion and "
        "waiver rule counted only signed decisions, whatever the workspace's policies say.",
    )


class AuditEvent(Node):
    """One verified entry of the audit log."""

    seq: int
    time: str
    actor: str
    action: str
    model: str | None = None
    version: str | None = None
    file: str | None = Field(None, description="The workspace file the event concerns.")
    sha256: str | None = Field(None, description="That file's SHA-256 when the event was recorded.")
    outcome: str
    comment: str | None = None
    details: dict[str, Any] = Field(default_factory=dict)
    hash: str
    signature: Literal["signed", "unsigned", "invalid"] = "unsigned"
    signer_key: str | None = None
    signature_problem: str | None = None


class SignerRecord(Node):
    principals: list[str]
    roles: list[str]
    key: str = Field(description="SHA256 fingerprint of the public key.")


class SignersSummary(Node):
    """The allowed-signers file the build checked signatures against."""

    path: str
    origin: Literal["external", "workspace", "ignored"] = Field(
        description="`external`: given by the CI from outside the workspace (a pull request cannot change it); "
        "`workspace`: the workspace's own file (whoever can change the workspace can add a key); `ignored`: the "
        "workspace's file, which this build was told not to trust (MODELGOV_NO_WORKSPACE_SIGNERS), so no "
        "signature is accepted."
    )
    signers: list[SignerRecord]


class AuditSummary(Node):
    """The workspace's audit log as this build found it (see ``modelgov audit verify``)."""

    log: FileRef
    entries: int = Field(description="Entries whose hash chain verifies, from the first.")
    head: str = Field(description="Hash of the last verified entry: publish it to anchor the log.")
    intact: bool
    broken_line: int | None = Field(None, description="Line of the first entry that does not verify.")
    reason: str | None = None
    events: list[AuditEvent] = Field(default_factory=list, description="The verified entries, oldest first.")
    signers: SignersSummary | None = Field(None, description="None when no allowed-signers file is configured.")


LineageKind = Literal["dataset", "job", "training", "version", "registered", "evaluation", "monitoring"]
LineageOrigin = Literal["workspace", "mlflow", "openlineage"]


class LineageNode(Node):
    """One thing in the lineage graph. Records of the same thing from several sources are one node
    whose ``origins`` lists every source that mentions it."""

    id: str = Field(description="Stable id, e.g. `dataset:credit-train-2024`, `version:credit-default/2.0`.")
    kind: LineageKind
    label: str
    detail: str | None = Field(None, description="A second line: algorithm, experiment, aliases, namespace.")
    model: str | None = None
    version: str | None = None
    dataset: str | None = Field(None, description="Workspace dataset id, for a dataset with a datasheet.")
    origins: list[LineageOrigin]
    properties: dict[str, str] = Field(default_factory=dict, description="What the sources say about it.")


class LineageEdge(Node):
    source: str
    target: str
    relation: str = Field(description="E.g. `trained on`, `produced`, `evaluated on`, `registered as`.")
    origins: list[LineageOrigin]


class Lineage(Node):
    """Datasets → jobs and training runs → model versions → evaluations and monitoring, from the
    workspace, the MLflow store and OpenLineage events named in governance.yml `lineage`."""

    nodes: list[LineageNode] = Field(description="Sorted by id.")
    edges: list[LineageEdge] = Field(description="Sorted by (source, target, relation).")
    sources: list[str] = Field(default_factory=list, description="What was read besides the workspace, as text.")
    notes: list[str] = Field(
        default_factory=list,
        description="Records that could not be joined, or were left out of the graph, and why.",
    )


class RiskTier(Node):
    id: str
    title: str
    description: str | None = None


class Site(Node):
    title: str
    organisation: str
    description: str | None = None


class Manifest(Node):
    """The root object of ``manifest.json``."""

    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra={"$id": SCHEMA_ID})

    schema_version: str = Field(SCHEMA_VERSION, pattern=r"^1\.\d+$", description="`major.minor` of this format.")
    generator: Generator
    built_at: str = Field(description="UTC build time; from SOURCE_DATE_EPOCH when set.")
    site_version: str | None = Field(None, description="The site version (`--site-version`); None for a single site.")
    site: Site
    risk_tiers: list[RiskTier]
    risk_matrix: RiskMatrix | None = Field(
        None, description="The matrix risk assessments are rated on; None when no model has one and none is set."
    )
    inputs: list[FileRef] = Field(description="Every workspace file the build read, sorted by path.")
    models: list[Model]
    datasets: list[Dataset]
    governance: GovernanceReport | None = Field(None, description="Policy results; None when no policy applies.")
    audit: AuditSummary | None = Field(None, description="The audit log's state; None without audit/log.jsonl.")
    lineage: Lineage = Field(default_factory=lambda: Lineage(nodes=[], edges=[]))

    def model(self, model_id: str) -> Model:
        for model in self.models:
            if model.id == model_id:
                return model
        raise KeyError(model_id)


# --------------------------------------------------------------------------- read / write


def manifest_json_schema() -> dict[str, Any]:
    """The JSON Schema of the manifest, as committed to ``schemas/manifest.schema.json``."""
    schema = Manifest.model_json_schema(mode="serialization")
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def dumps(manifest: Manifest) -> str:
    """Canonical JSON: keys in schema order (user-written mappings keep the user's order, so a saved
    manifest renders exactly like the one in memory), two-space indent, trailing newline."""
    data = manifest.model_dump(mode="json")
    return json.dumps(data, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def write(manifest: Manifest, path: Path) -> None:
    path.write_text(dumps(manifest), encoding="utf-8")


def read(path: Path) -> Manifest:
    """Read and validate a manifest, refusing schema majors this version does not understand."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ManifestError(f"{path}: cannot read manifest: {exc}") from None
    found = str(data.get("schema_version", "")) if isinstance(data, dict) else ""
    if found.split(".")[0] != SCHEMA_VERSION.split(".")[0]:
        raise ManifestError(
            f"{path}: schema_version {found or '(none)'!r} is not supported; "
            f"this modelgov reads {SCHEMA_VERSION.split('.')[0]}.x"
        )
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ManifestError(f"{path}: {where}: {first['msg']} ({exc.error_count()} problems)") from None
