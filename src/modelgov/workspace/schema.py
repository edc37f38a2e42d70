"""Typed models of the files a team commits to its governance workspace.

These are the *input* models: exactly what users write, validated strictly (unknown keys are errors,
with a "did you mean" hint added by the loader). They are kept separate from the manifest models,
which are the *output* contract, so the two can evolve independently.

Checks that span items or files (unique ids, references between files, table columns) live in the
loader, which knows the line of every key and can point at the exact one.

Layout of a workspace::

    governance.yml
    models/<model-id>/model.yml
    models/<model-id>/versions/<version>/version.yml
    models/<model-id>/versions/<version>/approvals.yml     (optional)
    datasets/<dataset-id>.yml
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, StrictBool, field_validator, model_validator

# shared with policy files, so defined below both (see modelgov.inputs)
from modelgov.inputs import IDENTIFIER, IDENTIFIER_HINT, Status, Strict, Text
from modelgov.workspace.aedt_schema import EmploymentDecisionTool
from modelgov.workspace.experiment_schema import Experiment
from modelgov.workspace.explanation_schema import Explanations
from modelgov.workspace.kpi_schema import Business
from modelgov.workspace.risk_schema import RiskAssessment, RiskMatrixSpec
from modelgov.workspace.shadow_schema import ShadowTest


class Task(StrEnum):
    binary_classification = "binary_classification"
    multiclass_classification = "multiclass_classification"
    regression = "regression"

    @property
    def is_classification(self) -> bool:
        return self is not Task.regression


class Decision(StrEnum):
    approved = "approved"
    rejected = "rejected"
    pending = "pending"


# --------------------------------------------------------------------------- governance.yml


class RiskTier(Strict):
    id: Text = Field(description="Short identifier used in model.yml, e.g. `high`.")
    title: str | None = Field(None, description="Human-readable name shown on the site.")
    description: str | None = Field(None, description="What makes a model belong to this tier.")


DEFAULT_RISK_TIERS = (
    RiskTier(id="low", title="Low", description="Internal or advisory use; no decision about people."),
    RiskTier(id="medium", title="Medium", description="Influences decisions with human review."),
    RiskTier(id="high", title="High", description="Decides or materially affects outcomes for people."),
)


class AnalysisSettings(Strict):
    min_group_size: int = Field(
        30,
        ge=1,
        description="The fewest people a group's rate may rest on: its rows for selection rate and accuracy, its "
        "actual positives for TPR and FNR, its actual negatives for FPR, its predicted positives for precision. "
        "Fewer, and the group is flagged (never dropped) and, by default, left out of the disparity summaries "
        "that use the rate.",
    )
    exclude_small_groups: StrictBool = Field(
        True,
        description="Leave groups below min_group_size (per rate) out of the disparity summaries; each summary "
        "lists the groups it left out. false: every group with a defined rate counts, as in fairlearn.",
    )
    bootstrap_resamples: int = Field(
        1000, ge=0, le=100_000, description="Resamples for every confidence interval; 0 turns intervals off."
    )
    confidence_level: float = Field(0.95, gt=0, lt=1, description="Level of the confidence intervals.")
    seed: int = Field(0, ge=0, description="Seed of every resampling, so intervals are reproducible.")
    permutation_repeats: int = Field(5, ge=1, le=100, description="Shuffles per feature for permutation importance.")
    explain_max_rows: int = Field(
        5000, ge=100, description="Explainability runs on a seeded sample of at most this many evaluation rows."
    )
    max_evaluation_rows: int = Field(
        20_000_000,
        ge=1,
        description="Evaluation tables are loaded into memory: a table with more rows is refused before it is "
        "read (monitoring logs are streamed and have no limit).",
    )


class PolicySettings(Strict):
    """Which policies apply and how strictly they gate a release."""

    packs: list[Text] = Field(
        default_factory=list, description="Built-in policy packs by name, e.g. `baseline`, `eu-ai-act-high-risk`."
    )
    fail_on: Literal["blocking", "warning"] = Field(
        "blocking", description="`warning`: warnings also make `modelgov check`/`build` exit with 1."
    )
    waiver_max_days: int = Field(365, ge=1, description="Longest allowed time from a waiver's grant to its expiry.")
    require_signed_waivers: bool = Field(
        False,
        description="true: a waiver applies only when `modelgov waive` recorded it with a signature the "
        "allowed-signers file accepts, and waivers.yml still says what was signed; others are shown as not accepted.",
    )


class Signing(Strict):
    """Who may sign decisions (see docs/audit.md)."""

    allowed_signers: str | None = Field(
        None,
        description="An allowed-signers file in git's format, relative to the workspace, with `roles=…` in each "
        "key's comment. CI should pass its own with `--allowed-signers` or MODELGOV_ALLOWED_SIGNERS instead: a "
        "file in the workspace can be changed by whoever can change the workspace.",
    )


class LineageSources(Strict):
    """Records other tools keep, read for the lineage graph. Both are optional and read-only."""

    mlflow: Text | None = Field(
        None,
        description="An MLflow tracking store inside the workspace: a SQLite file (`mlflow.db`) or a file "
        "store folder (`mlruns/`). Runs, params, metrics, dataset inputs, registered versions and aliases are read.",
    )
    openlineage: Text | None = Field(
        None,
        description="OpenLineage run events: a `.json` or `.jsonl` file, a glob, or a folder of them.",
    )


class MonitoringEngine(Strict):
    """Where the per-window aggregation of production logs runs. Both engines give the same aggregates."""

    engine: Literal["duckdb", "spark"] = Field(
        "duckdb", description="`duckdb`: embedded, out of core on this machine. `spark`: Apache Spark (PySpark)."
    )
    master: str | None = Field(
        None,
        description="Spark master URL (`local[*]`, `spark://host:7077`, `yarn`, `k8s://…`); Spark's default when unset.",
    )
    conf: dict[str, str] = Field(
        default_factory=dict, description="Spark configuration, e.g. `spark.hadoop.fs.s3a.endpoint`."
    )

    @model_validator(mode="after")
    def _spark_only(self) -> MonitoringEngine:
        if self.engine == "duckdb" and (self.master or self.conf):
            raise ValueError("master and conf configure the spark engine: set engine: spark")
        return self


class Governance(Strict):
    """`governance.yml`: the site and organisation-wide settings."""

    title: Text = Field(description="Title of the generated site.")
    organisation: Text = Field(description="Organisation that owns the models.")
    description: str | None = Field(None, description="Markdown shown on the home page.")
    risk_tiers: list[RiskTier] = Field(
        default_factory=lambda: list(DEFAULT_RISK_TIERS),
        description="Risk tiers a model can be assigned to. Defaults to low / medium / high.",
    )
    analysis: AnalysisSettings = Field(default_factory=AnalysisSettings)
    risk_matrix: RiskMatrixSpec | None = Field(
        None,
        description="How a model's risk assessment becomes a severity and the tier it implies; a 5 × 5 matrix "
        "scored probability rank × impact rank when left out (see docs/risk.md).",
    )
    policies: PolicySettings = Field(default_factory=PolicySettings)
    lineage: LineageSources = Field(default_factory=LineageSources)
    monitoring: MonitoringEngine = Field(default_factory=MonitoringEngine)
    signing: Signing = Field(default_factory=Signing)
    trust_templates: bool = Field(
        False,
        description="Use the workspace's `templates/` overrides. A template writes the page's HTML as it "
        "likes (script included), so, like a pickle, it is used only when the workspace says so.",
    )


# --------------------------------------------------------------------------- model.yml


class Owner(Strict):
    name: Text
    email: str | None = None
    team: str | None = None


class IntendedUse(Strict):
    """Mitchell et al. (2019), 'Intended Use'."""

    primary_uses: Text = Field(description="What the model is for.")
    primary_users: Text = Field(description="Who uses its outputs.")
    out_of_scope: Text = Field(description="Uses the model must not be put to.")


class Factors(Strict):
    """Mitchell et al. (2019), 'Factors': groups and conditions that can change performance."""

    relevant: Text = Field(description="Factors that could change the model's behaviour.")
    evaluation: Text = Field(description="Which of them the evaluation covers, and why.")


class MetricsRationale(Strict):
    """Mitchell et al. (2019), 'Metrics': why these measures and this threshold."""

    performance_measures: Text
    decision_threshold: str | None = None
    variation_approaches: str | None = Field(
        None, description="How uncertainty is measured (e.g. bootstrap intervals)."
    )


def _group_name(value: object) -> object:
    """A group written as a YAML number (``18``, ``2.0``) names the group the analysis shows as
    ``18`` / ``2``; true/false stay refused (a group is data, not a switch)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else str(value)
    return value


GroupName = Annotated[str, BeforeValidator(_group_name), Field(min_length=1)]


class GroupComparisonSpec(Strict):
    """Groups of one sensitive feature to compare by name, beside the summaries over all groups."""

    reference: GroupName | None = Field(
        None, description="A group every other group is compared with, e.g. the largest or the most favoured."
    )
    pairs: list[Annotated[list[GroupName], Field(min_length=2, max_length=2)]] = Field(
        default_factory=list,
        description="Pairs `[group, reference]` to compare, e.g. `[[African-American, Caucasian]]`.",
    )

    @model_validator(mode="after")
    def _something(self) -> GroupComparisonSpec:
        if self.reference is None and not self.pairs:
            raise ValueError("set reference, pairs or both")
        for pair in self.pairs:
            if pair[0] == pair[1]:
                raise ValueError(f"pair {pair} compares a group with itself")
        return self


class ModelCard(Strict):
    """`models/<model-id>/model.yml`: one model across all its versions."""

    name: Text = Field(description="Display name.")
    owner: Owner
    task: Task
    risk_tier: Text = Field(description="One of the ids in governance.yml `risk_tiers`.")
    tags: list[Text] = Field(default_factory=list)
    description: Text = Field(description="Model details: what it predicts and how (Markdown).")
    intended_use: IntendedUse
    factors: Factors
    metrics: MetricsRationale
    ethical_considerations: Text
    caveats: Text = Field(description="Caveats and recommendations.")
    sensitive_features: list[Text] = Field(
        default_factory=list,
        description="Columns of the evaluation tables whose groups are compared for fairness.",
    )
    intersections: list[list[Text]] = Field(
        default_factory=list,
        description="Combinations of sensitive features analysed together, e.g. `[[sex, age_band]]`.",
    )
    expected_groups: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Sensitive feature → the groups it should contain; a group missing from the data is reported as absent.",
    )
    group_comparisons: dict[str, GroupComparisonSpec] = Field(
        default_factory=dict,
        description="Sensitive feature → a reference group and/or pairs of groups compared by name; policies read "
        "them as `fairness.<feature>.pairs.<group>.<reference>.<measure>`.",
    )
    licence: str | None = None
    references: list[Text] = Field(default_factory=list)
    business: Business | None = Field(
        None,
        description="The business objective and its KPIs, measured per monitoring window of every monitored version.",
    )
    employment_decision_tool: EmploymentDecisionTool | None = Field(
        None,
        description="The model is an automated employment decision tool (NYC Local Law 144): its bias-audit "
        "summary is computed from each version's most recent evaluation (see docs/bias-audit.md).",
    )
    risk_assessment: RiskAssessment | None = Field(
        None,
        description="Probability and impact of each adverse event, who assessed them and when; rated on "
        "governance.yml's `risk_matrix`.",
    )
    explanations: Explanations | None = Field(
        None,
        description="Individual decisions explained in every evaluation run: records named by id, reason codes, "
        "what-if curves and counterfactuals, and what each feature is called and may change.",
    )


# --------------------------------------------------------------------------- version.yml


class CodeRef(Strict):
    repository: Text
    commit: Text


class Environment(Strict):
    python: str | None = None
    packages: dict[str, str] = Field(default_factory=dict)


class Artifact(Strict):
    """A model file. Pickle-based formats (``.pkl``, ``.joblib``) run code when loaded, so they are
    loaded only when ``trust_pickle`` is true; ``.skops`` files load with a list of trusted types."""

    path: Text = Field(description="Path of the model file, relative to the workspace.")
    #: Strict: only a YAML boolean. ``"yes"``, ``1`` or ``"true"`` are errors rather than coerced, so
    #: opting in to running a file's code is always the literal ``true`` a reviewer can see.
    trust_pickle: StrictBool = Field(
        False, description="Allow loading a pickle/joblib file (it can run arbitrary code). Only `true` or `false`."
    )
    trusted_types: list[Text] = Field(
        default_factory=list,
        description="Extra types a `.skops` file may contain beyond those skops trusts by default.",
    )


class Training(Strict):
    datasets: list[Text] = Field(description="Dataset ids (files under datasets/) used for training.")
    algorithm: Text = Field(description="E.g. `sklearn.linear_model.LogisticRegression`.")
    code: CodeRef | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    environment: Environment = Field(default_factory=Environment)
    artifact: Text | Artifact | None = Field(
        None, description="The model file: a path, or a mapping with `path` and loading options."
    )
    feature_importance: dict[str, float] = Field(
        default_factory=dict, description="Importances computed at training time, shown when no model is loadable."
    )
    mlflow_run: str | None = Field(
        None,
        pattern=r"^[0-9a-f]{32}$",
        description="MLflow run id of this training run (32 hex digits), joining it to the store in "
        "governance.yml `lineage.mlflow`.",
    )

    @property
    def artifact_spec(self) -> Artifact | None:
        if self.artifact is None or isinstance(self.artifact, Artifact):
            return self.artifact
        return Artifact(path=self.artifact)


class Evaluation(Strict):
    """One evaluation run: a table with a row per scored example."""

    id: Text = Field(description="Unique within the version, e.g. `holdout`.")
    data: Text = Field(description="Table path relative to the workspace (CSV, Parquet or JSON Lines).")
    dataset: Text = Field(description="Dataset id (datasets/<id>.yml) the table was drawn from.")
    date: dt.date = Field(description="When the evaluation was run.")
    label: Text = Field(description="Column with the ground truth.")
    prediction: Text = Field(description="Column with the model's prediction (class or value).")
    score: str | None = Field(None, description="Column with the positive-class probability (binary classification).")
    positive_label: Any = Field(1, description="Label value of the positive class (binary tasks).")
    threshold: float | None = Field(
        None, ge=0, le=1, description="Decision threshold applied to `score` to obtain `prediction`."
    )
    features: list[Text] = Field(
        default_factory=list, description="Model input columns present in the table, in the model's order."
    )
    row_id: str | None = Field(
        None, description="Column identifying each row, used to pair rows when versions are compared."
    )

    @field_validator("id")
    @classmethod
    def _identifier(cls, value: str) -> str:
        if not IDENTIFIER.match(value):
            raise ValueError(f"must be {IDENTIFIER_HINT}")
        return value

    def column_roles(self) -> dict[str, str]:
        """Every table column this run names, keyed by the key that names it (``features[2]``):
        the one list the loader checks and the build reads."""
        roles = {"label": self.label, "prediction": self.prediction}
        if self.score:
            roles["score"] = self.score
        if self.row_id:
            roles["row_id"] = self.row_id
        roles.update({f"features[{i}]": name for i, name in enumerate(self.features)})
        return roles


class GroundTruth(Strict):
    data: Text = Field(description="Table of late-arriving outcomes.")
    id: Text = Field(description="Column joining outcomes to scoring records.")
    label: Text = Field(description="Column with the observed outcome.")


DriftMethod = Literal["ks", "wasserstein", "chisquare", "z", "jensenshannon", "psi"]


class DriftTest(Strict):
    """Override of the default drift test (Evidently's rule) for all features or one feature."""

    method: DriftMethod | None = Field(None, description="Test to use instead of the default rule.")
    threshold: float | None = Field(
        None, gt=0, description="p-value below which (tests) or distance at or above which a feature drifts."
    )


class FeatureDriftTest(DriftTest):
    """One feature's drift settings: its kind, and an override of the default test."""

    kind: Literal["numeric", "categorical"] | None = Field(
        None,
        description="How drift compares the feature: `numeric` (its values as numbers in order) or `categorical` "
        "(the share of each value, numeric codes included). Default: inferred from the reference as Evidently "
        "does (integers with at most 10 distinct values, booleans and text are categorical); `modelgov init` "
        "writes the kind it inferred.",
    )


class DriftSettings(Strict):
    default: DriftTest = Field(default_factory=DriftTest, description="Applies to every feature.")
    features: dict[str, FeatureDriftTest] = Field(
        default_factory=dict, description="Per-feature kind, method and threshold."
    )
    dataset_share: float = Field(
        0.5, gt=0, le=1, description="A window shows dataset drift when at least this share of features drift."
    )
    count_output: StrictBool = Field(
        False,
        description="Count the model's output (score or prediction) in the share of drifted columns, as one more "
        "column, as Evidently's DriftedColumnsCount and DataDriftPreset do when the output is among their columns. "
        "Default false: the share measures the inputs alone, and the output's drift is shown and judged on its own "
        "(a window drifts when either does); counting it too would weigh one shift twice when the output moves "
        "because the inputs did.",
    )


class RowWindow(Strict):
    rows: int = Field(ge=10, description="Fixed number of records per window, in timestamp order.")


class Reference(Strict):
    """What production records are compared with: exactly one of an evaluation of this version, a
    table (for example a sample of the training data), or one window of the log itself."""

    evaluation: str | None = Field(None, description="Evaluation id of this version.")
    data: Text | None = Field(
        None, description="Table with the monitored feature columns (and, optionally, the output column)."
    )
    description: str | None = Field(None, description="What the `data` table is, shown on the pages.")
    window: int | dt.date | None = Field(
        None,
        description="A window of the log: its number (1 = the first) or, for calendar windows, a date inside it.",
    )
    seasonal: Literal["month", "quarter"] | None = Field(
        None,
        description="Compare each window with the reference rows of the same calendar month (or quarter), the one "
        "holding the window's midpoint, instead of with every reference row: features that follow the calendar "
        "(season, temperature, demand) then do not drift by construction. Needs each reference row's time "
        "(`timestamp`) and calendar windows.",
    )
    timestamp: Text | None = Field(
        None,
        description="Column of the evaluation or `data` table with each row's time (ISO 8601 or a timestamp type; "
        "none means UTC). Default: a column named like the log's timestamp, when the table has one. Read to place "
        "rows in their period (`seasonal`) and to tell how much of the calendar the reference spans.",
    )

    @model_validator(mode="after")
    def _exactly_one(self) -> Reference:
        chosen = [k for k in ("evaluation", "data", "window") if getattr(self, k) is not None]
        if len(chosen) != 1:
            raise ValueError(
                "set exactly one of evaluation, data or window" + (f" (found {', '.join(chosen)})" if chosen else "")
            )
        if self.description is not None and self.data is None:
            raise ValueError("description describes a data table: set data too")
        if self.window is not None and (self.seasonal or self.timestamp):
            raise ValueError(
                "seasonal and timestamp apply to a reference table (evaluation or data); a window of the log "
                "covers one period only"
            )
        if isinstance(self.window, int) and not isinstance(self.window, bool) and self.window < 1:
            raise ValueError("window numbers start at 1")
        return self


class Monitoring(Strict):
    logs: Text = Field(
        description="Scoring log path relative to the workspace: a file, a glob (`logs/*.parquet`) or a folder. "
        "With the Spark engine, also a URI Spark can read (`s3a://bucket/scoring/credit/`, `gs://…`, `abfss://…`, "
        "`hdfs://…`), read where it lives."
    )
    timestamp: Text = Field(description="Column with the scoring time (ISO 8601 or a native timestamp).")
    id: str | None = Field(None, description="Column with the record id (joins ground truth).")
    prediction: Text
    score: str | None = None
    features: list[Text] = Field(default_factory=list)
    ground_truth: GroundTruth | None = None
    window: Literal["day", "week", "month"] | RowWindow = Field(
        "week", description="Calendar windows (UTC, weeks start on Monday) or `{rows: N}`."
    )
    reference: str | Reference | None = Field(
        None,
        description="An evaluation id, or `{evaluation: id}`, `{data: path}` or `{window: N | date}` "
        "(default: the most recent evaluation); a table can be compared season by season (`seasonal: month`).",
    )
    drift: DriftSettings = Field(default_factory=DriftSettings)

    @model_validator(mode="after")
    def _window_reference(self) -> Monitoring:
        chosen = self.reference
        if isinstance(chosen, Reference) and isinstance(chosen.window, dt.date) and isinstance(self.window, RowWindow):
            raise ValueError("reference.window: with row-count windows, name the reference window by its number")
        if isinstance(chosen, Reference) and chosen.seasonal and isinstance(self.window, RowWindow):
            raise ValueError(
                f"reference.seasonal: a window of a number of rows has no calendar period; use day, week or month "
                f"windows to compare each with the same {chosen.seasonal} of the reference"
            )
        return self

    def reference_spec(self, evaluations: list[Evaluation]) -> Reference:
        """The reference in its long form; the default is the most recent evaluation."""
        if isinstance(self.reference, Reference):
            return self.reference
        if self.reference is not None:
            return Reference(evaluation=self.reference)
        return Reference(evaluation=max(evaluations, key=lambda e: (e.date, e.id)).id)


class Version(Strict):
    """`models/<model-id>/versions/<version>/version.yml`: one trained version of a model."""

    created: dt.date
    status: Status
    summary: Text = Field(description="What this version is and how it differs from the previous one.")
    previous: str | None = Field(None, description="The version this one retrains or replaces.")
    training: Training
    evaluations: list[Evaluation] = Field(min_length=1)
    experiment: Experiment | None = Field(
        None,
        description="An A/B test of this version (the challenger) against the champion it names: a log of "
        "requests with the arm that served each, and the test's design.",
    )
    monitoring: Monitoring | None = None
    shadow: ShadowTest | None = Field(
        None,
        description="A shadow test of this version (the challenger) beside the live version: a log of production "
        "requests scored by both.",
    )


# --------------------------------------------------------------------------- approvals.yml


class Approval(Strict):
    role: Text = Field(description="The accountable function, e.g. `model_risk`, `compliance`.")
    by: Text = Field(description="Who decided.")
    decision: Decision
    date: dt.date
    comment: str | None = None


class Approvals(Strict):
    """`approvals.yml` beside a version.yml: sign-offs, kept in their own file so that
    repository owners rules (e.g. CODEOWNERS) can give reviewers, not modellers, write access."""

    approvals: list[Approval] = Field(default_factory=list)


# --------------------------------------------------------------------------- datasets/<id>.yml


class DataFile(Strict):
    path: Text
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")


class Collection(Strict):
    method: Text
    period: str | None = None


class Datasheet(Strict):
    """`datasets/<dataset-id>.yml`: a datasheet (Gebru et al., 2021) for one dataset."""

    name: Text
    description: Text
    source: Text
    licence: Text
    collection: Collection
    rows: int | None = Field(None, ge=0)
    contains_pii: bool = False
    pii_fields: list[Text] = Field(default_factory=list)
    publish_records: StrictBool = Field(
        False,
        description="Individual records of this dataset (their ids and feature values) may appear on the site, "
        "except the `pii_fields`, which stay masked. false: explained decisions show no id and no value.",
    )
    legal_basis: str | None = None
    known_gaps: str | None = None
    files: list[DataFile] = Field(default_factory=list)
    references: list[Text] = Field(default_factory=list)


#: Every file kind, keyed by the name used in schema output and docs.
INPUT_MODELS: dict[str, type[Strict]] = {
    "governance": Governance,
    "model": ModelCard,
    "version": Version,
    "approvals": Approvals,
    "datasheet": Datasheet,
}
