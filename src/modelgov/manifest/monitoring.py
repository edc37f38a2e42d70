"""What happened to a version in production: where its logs are, drift per window against a
reference, performance estimated before outcomes arrive (CBPE) and checked once they do, what became
of the ground-truth rows, and fairness window by window.

One :class:`MonitoringReport` per version with logs, made by the monitoring stage. The card's business
KPIs over the same windows are :class:`~modelgov.manifest.business.KpiSeries`, kept with the KPIs.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelgov.manifest.base import FileRef, Interval, Metric, Node
from modelgov.manifest.business import KpiSeries
from modelgov.manifest.evaluation import Disparity, GroupMetrics


class MonitoringSource(Node):
    """Where the version's production logs are. Their analysis is added by the monitoring stage."""

    logs: list[FileRef] = Field(description="Every log file read (one, or the matches of a glob or folder).")
    timestamp: str
    prediction: str
    score: str | None = None
    features: list[str] = Field(default_factory=list)
    ground_truth: FileRef | None = None


# --------------------------------------------------------------------------- drift and estimation


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


# --------------------------------------------------------------------------- fairness in production


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


# --------------------------------------------------------------------------- the report


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
