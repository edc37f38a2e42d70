"""The governance side: risk tiers and the risk matrix with each model's rated assessment, the
policies (rules, clauses, whether each applies on the check date), the results of checking them,
waivers, and the audit log's state with the signers it was checked against.

Made by ``risk/``, ``policy/`` and the governance stage after every analysis; read by the compliance
pages, the policy outputs (JSON, CSV, JUnit) and the exit code of ``build`` and ``check``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelgov.manifest.base import CalendarDay, FileRef, FreeValue, Node

# --------------------------------------------------------------------------- risk


class RiskTier(Node):
    id: str
    title: str
    description: str | None = None


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


# --------------------------------------------------------------------------- policies


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


# --------------------------------------------------------------------------- results and waivers


Outcome = Literal["pass", "fail", "warn", "waived", "error", "not-applicable"]


class PolicyCheck(Node):
    """One comparison inside a rule's result (a wildcard rule has one per matched path)."""

    path: str = Field(description="Evidence path, or what was checked (e.g. `approvals.model_risk`).")
    observed: FreeValue = Field(description="The value found; None when there was none.")
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
    as_of: CalendarDay = Field(description="The date policies were evaluated on (freshness, waiver expiry).")
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


# --------------------------------------------------------------------------- audit log


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
    details: dict[str, FreeValue] = Field(default_factory=dict)
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
