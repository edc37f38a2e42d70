"""The manifest: the one artifact between analysis and rendering.

Everything a page shows is in here, so a saved ``manifest.json`` can be re-rendered, diffed by an
auditor, or read by other tools without pandas or scikit-learn. The JSON Schema generated from these
models is committed (``schemas/manifest.schema.json``); a test keeps the two in step.

Versioning rule (after dbt's artifacts): adding an optional field is not a breaking change; anything
else bumps :data:`SCHEMA_VERSION`'s major number, and readers refuse a major they do not know.

The models live in one module per part of the manifest, each saying why it is a part of its own:
:mod:`.base` (the small nodes they all share), :mod:`.evaluation`, :mod:`.explainability`,
:mod:`.monitoring`, :mod:`.business`, :mod:`.experiments`, :mod:`.decisions`, :mod:`.governance` and
:mod:`.lineage`. This module holds the top of the tree (the manifest, its models, their versions, the
datasets), the schema version, and reading and writing; it re-exports every model, so that
``from modelgov.manifest import X`` stays the one import of the whole contract.

This package imports nothing from the rest of modelgov except ``errors``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError
from pydantic_core import PydanticSerializationError

from modelgov.errors import ManifestError
from modelgov.manifest.base import CalendarDay, Card, FileRef, Generator, Interval, Metric, Node, Owner
from modelgov.manifest.business import Business, Kpi, KpiBaseline, KpiInterval, KpiSeries, KpiValue, KpiWindow
from modelgov.manifest.decisions import (
    Approval,
    ApprovalCondition,
    EvidenceFile,
    Flag,
    FlagResolution,
    Promotion,
    PromotionRecord,
    RecordedComparison,
    RecordedDelta,
    RecordedResult,
    RecordedSignOff,
    StatusChange,
    VersionEvidence,
)
from modelgov.manifest.evaluation import (
    AuditCategory,
    AuditTable,
    BiasAudit,
    Calibration,
    CalibrationBin,
    Comparison,
    ConfusionMatrix,
    Curve,
    Disparity,
    DisparityDelta,
    DuplicateRows,
    EvaluationRun,
    ExcludedGroup,
    FairnessDelta,
    FairnessResult,
    GroupComparison,
    GroupMetrics,
    GroupRateDelta,
    Histogram,
    MetricDelta,
    Performance,
    TrainingRecord,
)
from modelgov.manifest.experiments import (
    AbAllocation,
    AbArm,
    AbDifference,
    AbFixed,
    AbHorizon,
    AbKpi,
    AbLook,
    AbPosterior,
    AbPower,
    AbSequential,
    AbSrm,
    AbTest,
    ShadowComparison,
    ShadowFeature,
    ShadowGap,
    ShadowGroup,
    ShadowMetricDelta,
    ShadowOutcomes,
    ShadowReport,
    ShadowWindow,
)
from modelgov.manifest.explainability import (
    Counterfactual,
    CounterfactualChange,
    ErrorSlice,
    Explainability,
    ExplainedRecord,
    FeatureImportance,
    GroupReasonCodes,
    PartialDependence,
    PermutationImportance,
    ReasonCode,
    ReasonCodeShare,
    RecordExplanations,
    ShapDistribution,
    ShapSummary,
    WhatIf,
)
from modelgov.manifest.governance import (
    AssessedRisk,
    AuditEvent,
    AuditSummary,
    CoverageClause,
    GovernanceReport,
    Outcome,
    Policy,
    PolicyCheck,
    PolicyInstrument,
    PolicyReference,
    PolicyResult,
    PolicyRule,
    PolicySource,
    RiskAssessment,
    RiskMatrix,
    RiskTier,
    SignerRecord,
    SignersSummary,
    Standing,
    WaiverRecord,
    WaiverState,
)
from modelgov.manifest.lineage import Lineage, LineageEdge, LineageKind, LineageNode, LineageOrigin
from modelgov.manifest.monitoring import (
    CalendarNote,
    Distribution,
    DriftWindow,
    EstimateCheck,
    FairnessSnapshot,
    FeatureDrift,
    MonitoringReport,
    MonitoringSource,
    OutcomeAccounting,
    PerformanceEstimation,
    ProductionFairness,
    ProductionFairnessWindow,
    WindowEstimate,
)

SCHEMA_VERSION = "1.12"
SCHEMA_ID = "https://modelgov.dev/schemas/manifest-1.json"


# --------------------------------------------------------------------------- versions and models


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

    def latest_sign_off(self, role: str, today: str | None = None) -> Approval | None:
        """The role's latest sign-off, counted or not, made by the check date ``today`` (an ISO date,
        its day of grace included; any date when None): the one a finding about the role names, the
        later entry on a tie. What the policies, the card's title line and the exports say of a role's
        sign-off, they say of this one."""
        mine = [a for a in self.approvals if a.role == role and (today is None or a.sets_conditions(today))]
        if not mine:
            return None
        return max(enumerate(mine), key=lambda pair: (pair[1].date, pair[0]))[1]

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


class Site(Node):
    title: str
    organisation: str
    description: str | None = None


class Manifest(Node):
    """The root object of ``manifest.json``."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, ser_json_inf_nan="constants", json_schema_extra={"$id": SCHEMA_ID}
    )

    schema_version: str = Field(SCHEMA_VERSION, pattern=r"^1\.\d+$", description="`major.minor` of this format.")
    generator: Generator
    built_at: str = Field(description="UTC build time; from SOURCE_DATE_EPOCH when set.")
    as_of: CalendarDay | None = Field(
        None,
        description="The check date (`--as-of`, else the build's UTC date): ages, expiries and due dates are "
        "judged on it, with or without policies. None in a manifest written before it was recorded "
        "(`governance.as_of`, else the build date, is then used).",
    )
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

    def check_date(self) -> str:
        """The check date: :attr:`as_of`, else, in a manifest written before it was recorded, the
        policies' date, else the build's."""
        if self.as_of is not None:
            return self.as_of
        return self.governance.as_of if self.governance is not None else self.built_at[:10]

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
    """:func:`dump_bytes` as text."""
    return dump_bytes(manifest).decode("utf-8")


def dump_bytes(manifest: Manifest) -> bytes:
    """Canonical JSON in UTF-8: keys in schema order (user-written mappings keep the user's order, so
    a saved manifest renders exactly like the one in memory), two-space indent, text as it is, numbers
    as Python writes them, trailing newline: the bytes of ``json.dumps(manifest.model_dump(mode="json"),
    indent=2, ensure_ascii=False)`` encoded in UTF-8.

    Written by pydantic's own serialiser, not by ``json.dumps``: with an indent, the standard library
    runs its pure-Python encoder, about ten times slower (1.2 s for a 20-model fleet's 28 MB manifest,
    which every build writes). The two differ only in how a few numbers are spelt (pydantic writes
    ``1e-8`` and ``0.00001`` where Python writes ``1e-08`` and ``1e-05``); :func:`_as_python_numbers`
    spells those as Python does. Tests compare the two on every kind of number and text.

    A NaN or infinity in a number field raises ValueError, as ``json.dumps(..., allow_nan=False)``
    does: JSON has neither, and writing ``null`` would read back as "no value"."""
    try:
        text = type(manifest).__pydantic_serializer__.to_json(manifest, indent=2)
    except PydanticSerializationError as exc:
        if "surrogates not allowed" in str(exc):
            raise ManifestError(
                "the manifest cannot be written: a text in it holds a lone UTF-16 surrogate (an escape such as "
                "\\ud800 in a JSON input: an OpenLineage event, an MLflow file, a log), which is not a character; "
                "find that escape in the workspace's inputs and write the character itself"
            ) from None
        reason = str(exc).removeprefix("Error serializing to JSON: ")[:300]
        raise ManifestError(
            f"the manifest cannot be written: a value in it cannot be written as JSON ({reason})"
        ) from None
    for start, end in _lines_with(text, (b"NaN", b"Infinity")):
        if (found := _NOT_JSON.search(text[start:end])) is not None:
            raise ValueError(f"Out of range float values are not JSON compliant: {found.group(1).decode()}")
    return _as_python_numbers(text, end=b"\n")


def _lines_with(text: bytes, hints: tuple[bytes, ...]) -> list[tuple[int, int]]:
    """(start, end) of each line of ``text`` holding one of ``hints``, in order, found with
    ``bytes.find``: a manifest has few, and a regular expression over the whole text would cost more
    than the serialiser saves."""
    lines: set[tuple[int, int]] = set()
    for hint in hints:
        at = text.find(hint)
        while at != -1:
            start = text.rfind(b"\n", 0, at) + 1
            end = text.find(b"\n", at)
            end = len(text) if end == -1 else end
            lines.add((start, end))
            at = text.find(hint, end)
    return sorted(lines)


#: NaN or infinity as a value (pydantic's spelling under ``ser_json_inf_nan="constants"``).
_NOT_JSON = re.compile(rb"(?<= )(-?Infinity|NaN)(?=,?$)")


#: Where pydantic's spelling of a number may differ from Python's: a negative exponent (``1e-8``
#: where Python writes ``1e-08``), or a small number written out in full (``0.00001``: ``1e-05``).
#: A positive exponent is spelt alike (``1e+16``; a test compares every exponent), so it is not
#: searched for: each hint is a pass over the whole text, 0.1 s for a 100-model fleet's manifest.
_NUMBER_HINTS = (b"e-", b"0.0000")
#: A number ending its line after a space: a value in an indented document (a number inside a string
#: is followed by the string's closing quote; one in a key by the key's).
_FLOAT = re.compile(rb"(?<= )(-?0\.0000\d*|-?\d(?:\.\d+)?e[+-]?\d+)(?=,?$)")


def _as_python_numbers(text: bytes, end: bytes = b"") -> bytes:
    """``text`` (JSON indented one value a line) with each number that has an exponent or starts
    ``0.0000`` spelt as Python's ``repr`` spells it, followed by ``end``; only the lines holding one
    of those hints are looked at (:func:`_lines_with`). The text between them is joined from views,
    not copies: a fleet's manifest is a hundred megabytes and more."""
    view = memoryview(text)
    pieces: list[bytes | memoryview] = []
    last = 0
    for start, stop in _lines_with(text, _NUMBER_HINTS):
        line = _FLOAT.sub(lambda found: repr(float(found.group(1))).encode("ascii"), text[start:stop])
        pieces += [view[last:start], line]
        last = stop
    pieces += [view[last:], end]
    return b"".join(pieces)


def write(manifest: Manifest, path: Path) -> None:
    path.write_bytes(dump_bytes(manifest))


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


# Every public name of the package, so that `from modelgov.manifest import X` reaches any model whatever
# module defines it (tests/test_manifest_package.py checks that none is left out). Packed, not one a line.
# fmt: off
__all__ = [
    "SCHEMA_ID", "SCHEMA_VERSION", "AbAllocation", "AbArm", "AbDifference", "AbFixed", "AbHorizon", "AbKpi", "AbLook",
    "AbPosterior", "AbPower", "AbSequential", "AbSrm", "AbTest", "Approval", "ApprovalCondition", "AssessedRisk",
    "AuditCategory", "AuditEvent", "AuditSummary", "AuditTable", "BiasAudit", "Business", "CalendarNote", "Calibration",
    "CalibrationBin", "Card", "Comparison", "ConfusionMatrix", "Counterfactual", "CounterfactualChange",
    "CoverageClause", "Curve", "Dataset", "Disparity", "DisparityDelta", "Distribution", "DriftWindow", "DuplicateRows",
    "ErrorSlice", "EstimateCheck", "EvaluationRun", "EvidenceFile", "ExcludedGroup", "Explainability",
    "ExplainedRecord", "FairnessDelta", "FairnessResult", "FairnessSnapshot", "FeatureDrift", "FeatureImportance",
    "FileRef", "Flag", "FlagResolution", "Generator", "GovernanceReport", "GroupComparison", "GroupMetrics",
    "GroupRateDelta", "GroupReasonCodes", "Histogram", "Interval", "Kpi", "KpiBaseline", "KpiInterval", "KpiSeries",
    "KpiValue", "KpiWindow", "Lineage", "LineageEdge", "LineageKind", "LineageNode", "LineageOrigin", "Manifest",
    "Metric", "MetricDelta", "Model", "ModelVersion", "MonitoringReport", "MonitoringSource", "Node", "Outcome",
    "OutcomeAccounting", "Owner", "PartialDependence", "Performance", "PerformanceEstimation", "PermutationImportance",
    "Policy", "PolicyCheck", "PolicyInstrument", "PolicyReference", "PolicyResult", "PolicyRule", "PolicySource",
    "ProductionFairness", "ProductionFairnessWindow", "Promotion", "PromotionRecord", "ReasonCode", "ReasonCodeShare",
    "RecordExplanations", "RecordedComparison", "RecordedDelta", "RecordedResult", "RecordedSignOff", "RiskAssessment",
    "RiskMatrix", "RiskTier", "ShadowComparison", "ShadowFeature", "ShadowGap", "ShadowGroup", "ShadowMetricDelta",
    "ShadowOutcomes", "ShadowReport", "ShadowWindow", "ShapDistribution", "ShapSummary", "SignerRecord",
    "SignersSummary", "Site", "Standing", "StatusChange", "TrainingRecord", "VersionEvidence", "WaiverRecord",
    "WaiverState", "WhatIf", "WindowEstimate", "dump_bytes", "dumps", "manifest_json_schema", "read", "write",
]
# fmt: on
