"""``governance.yml``: the site's and the organisation's settings — risk tiers, analysis settings,
which policies apply, who may sign, lineage sources, the monitoring engine.

One input model per section, validated strictly like every workspace file (see
:mod:`modelgov.workspace.schema` for the layout of a workspace).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StrictBool, WithJsonSchema, field_validator, model_validator

from modelgov.inputs import Strict, Text
from modelgov.workspace.risk_schema import RiskMatrixSpec

#: A risk tier's id (see :meth:`RiskTier._ascii_id`).
TIER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class RiskTier(Strict):
    id: Text = Field(description="Short identifier used in model.yml, e.g. `high`.")
    title: str | None = Field(None, description="Human-readable name shown on the site.")
    description: str | None = Field(None, description="What makes a model belong to this tier.")

    @field_validator("id")
    @classmethod
    def _ascii_id(cls, value: str) -> str:
        """A tier decides which policies apply: its id is ASCII letters, digits, ``.``, ``_`` and ``-``,
        so that no tier can be spelt with a letter that reads like another's (``hіgh`` with a Cyrillic
        ``і`` beside ``high``) and take a model out of the high-risk packs' scope."""
        if not TIER_ID.fullmatch(value):
            raise ValueError(
                f"{value!r} is not a tier id: write ASCII letters, digits, '.', '_' and '-' only, starting with a "
                "letter or digit (the title may hold any text)"
            )
        return value


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
    confidence_level: float = Field(
        0.95,
        ge=0.8,
        le=0.999,
        description="Level of the confidence intervals, from 0.8 to 0.999: a rule on an interval's end "
        "(`ci_low`, `ci_high`) reads it, and a narrower interval would let such a rule pass on noise.",
    )
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


#: The Spark settings a workspace may write: sizes and parallelism, and where the S3A connector finds
#: its store. None of them names a class, a jar, a file or a command, so none can load code into the
#: JVM; every other setting (``spark.jars``, ``spark.plugins``, ``*.extraJavaOptions``,
#: ``*.extraClassPath``, credential providers …) and a cluster's master come from the machine's own
#: Spark configuration, which a pull request cannot write.
SPARK_CONF_KEYS = (
    "spark.driver.memory",
    "spark.executor.memory",
    "spark.executor.cores",
    "spark.executor.instances",
    "spark.cores.max",
    "spark.default.parallelism",
    "spark.sql.shuffle.partitions",
    "spark.sql.files.maxPartitionBytes",
    "spark.hadoop.fs.s3a.endpoint",
    "spark.hadoop.fs.s3a.endpoint.region",
    "spark.hadoop.fs.s3a.path.style.access",
    "spark.hadoop.fs.s3a.connection.ssl.enabled",
)

#: Where the machine's own Spark configuration is, as the refusals name it.
_MACHINE_CONF = (
    "the machine's own Spark configuration (spark-defaults.conf in SPARK_CONF_DIR), which the workspace cannot write"
)

#: The masters a workspace may name: Spark inside the build's process, on this machine.
_LOCAL_MASTER = re.compile(r"local(\[(\*|[1-9][0-9]*)\])?")


def _allowed_conf_key(key: str) -> str:
    if key not in SPARK_CONF_KEYS:
        raise ValueError(
            f"{key!r} is not a setting the workspace may write: settings that load code or name a cluster "
            f"belong in {_MACHINE_CONF}. The workspace may set {', '.join(SPARK_CONF_KEYS)}"
        )
    return key


SparkConfKey = Annotated[
    str, AfterValidator(_allowed_conf_key), WithJsonSchema({"type": "string", "enum": list(SPARK_CONF_KEYS)})
]


def _local_master(master: str | None) -> str | None:
    if master is not None and not _LOCAL_MASTER.fullmatch(master):
        raise ValueError(
            f"{master!r}: the workspace may name only `local`, `local[N]` or `local[*]`, Spark on this machine; "
            f"a cluster's master (spark://, yarn, k8s://) comes from {_MACHINE_CONF}: leave master out to use it"
        )
    return master


class MonitoringEngine(Strict):
    """Where the per-window aggregation of production logs runs. Both engines give the same aggregates."""

    engine: Literal["duckdb", "spark"] = Field(
        "duckdb", description="`duckdb`: embedded, out of core on this machine. `spark`: Apache Spark (PySpark)."
    )
    master: Annotated[str | None, AfterValidator(_local_master)] = Field(
        None,
        description="`local`, `local[N]` or `local[*]`: Spark on this machine, with N or all cores. A cluster's "
        "master (`spark://…`, `yarn`, `k8s://…`) is not written here but in the machine's own Spark configuration "
        "(`spark.master` in spark-defaults.conf, under SPARK_CONF_DIR), which the workspace cannot write; Spark's "
        "configuration decides when unset.",
    )
    conf: dict[SparkConfKey, str] = Field(
        default_factory=dict,
        description="Spark settings that cannot load code: memory, cores, parallelism and partitions "
        "(`spark.driver.memory`, `spark.executor.memory`, `spark.executor.cores`, `spark.executor.instances`, "
        "`spark.cores.max`, `spark.default.parallelism`, `spark.sql.shuffle.partitions`, "
        "`spark.sql.files.maxPartitionBytes`), and the S3A store's endpoint (`spark.hadoop.fs.s3a.endpoint`, "
        "`spark.hadoop.fs.s3a.endpoint.region`, `spark.hadoop.fs.s3a.path.style.access`, "
        "`spark.hadoop.fs.s3a.connection.ssl.enabled`). Any other setting (jars, packages, plugins, Java options, "
        "class paths, credential providers) goes in the machine's own Spark configuration.",
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
    #: Strict, like ``trust_pickle``: only a YAML boolean, so the opt-in is always the literal ``true``.
    trust_templates: StrictBool = Field(
        False,
        description="Use the workspace's `templates/` overrides. A template writes the page's HTML as it "
        "likes (script included), so, like a pickle, it is used only when the workspace says so. Only `true` or "
        "`false`. A build with `--refuse-workspace-code` refuses `true`.",
    )
