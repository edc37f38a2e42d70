"""Typed models of policy files and of ``waivers.yml``: what compliance teams write.

A policy is a list of rules with a scope. Each rule is exactly one *kind*, named by the key that
carries its requirement (``evidence`` + ``require``, ``documented``, ``approved_by``,
``max_age_days``, ``drift_limits``, ``prohibited_features``, ``pii_legal_basis``,
``datasheet_fields``), so a rule reads as what it checks and no user text is ever evaluated as code.
Evidence paths are checked against the path grammar of :mod:`.paths` when the file loads.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, field_validator, model_validator

from modelgov.inputs import IDENTIFIER, IDENTIFIER_HINT, Status, Strict, Tag, Text

from . import paths

Severity = Literal["blocking", "warning", "info"]
Operator = Literal[">=", ">", "<=", "<", "==", "!="]

RULE_KINDS = (
    "evidence",
    "documented",
    "approved_by",
    "max_age_days",
    "drift_limits",
    "prohibited_features",
    "pii_legal_basis",
    "datasheet_fields",
    "status_recorded",
)

#: The most rules a workspace's policies hold, the built-in packs it enables included, and the most
#: ``when`` conditions among them. Every rule is checked on every model version and every condition
#: read on it, and each check is a line of the compliance pages: a 1.2 MB file of 15,000 rules took
#: 10 minutes and 8.3 GB and wrote a 945 MB site. The eight built-in packs hold 104 rules together,
#: and none has a condition; 2,000 is about twenty times all of them, more than a governance team
#: writes or reviews, and a ``*`` checks many values in one rule.
MAX_RULES = 2_000
MAX_CONDITIONS = 2_000

#: Datasheet fields a ``datasheet_fields`` rule can require (manifest names).
DATASHEET_FIELDS = (
    "description",
    "source",
    "licence",
    "collection_method",
    "collection_period",
    "rows",
    "pii_fields",
    "legal_basis",
    "known_gaps",
    "references",
)


def _identifier(value: str) -> str:
    if not IDENTIFIER.match(value):
        raise ValueError(f"must be {IDENTIFIER_HINT}")
    return value


class Reference(Strict):
    """The clause a rule implements, e.g. ``{framework: EU AI Act, clause: Art. 15(1)}``."""

    framework: Text
    clause: Text
    title: str | None = Field(None, description="The clause's heading or a short paraphrase.")
    url: str | None = None
    source: str | None = Field(None, description="The id of the pack's `sources` entry the clause was read in.")
    applies_from: dt.date | None = Field(
        None, description="The day this obligation starts to apply, when it phases in later than the pack's."
    )
    verified: bool | None = Field(
        None, description="false: the clause could not be checked against its source; the pages say so."
    )


class Scope(Strict):
    """Which model versions a policy or rule is about. Every key given must match (and within a key,
    any listed value). ``models`` takes shell-style globs (``credit-*``)."""

    risk_tier: list[Text] | None = None
    status: list[Status] | None = None
    tags: list[Tag] | None = Field(None, description="The model has at least one of these tags.")
    models: list[Text] | None = Field(None, description="Model ids or globs.")


class Requirement(Strict):
    """``{">=": 0.8}``: one comparison, written with the operator as the key."""

    model_config = Strict.model_config | {"populate_by_name": True}

    ge: float | None = Field(None, alias=">=")
    gt: float | None = Field(None, alias=">")
    le: float | None = Field(None, alias="<=")
    lt: float | None = Field(None, alias="<")
    eq: float | bool | str | None = Field(None, alias="==")
    ne: float | bool | str | None = Field(None, alias="!=")

    @model_validator(mode="after")
    def _one(self) -> Requirement:
        given = [op for op, value in self.items() if value is not None]
        if len(given) != 1:
            raise ValueError("write exactly one comparison, e.g. {'>=': 0.8}; operators: >=, >, <=, <, ==, !=")
        return self

    def items(self) -> list[tuple[Operator, float | bool | str | None]]:
        return [(">=", self.ge), (">", self.gt), ("<=", self.le), ("<", self.lt), ("==", self.eq), ("!=", self.ne)]

    @property
    def operator(self) -> Operator:
        return next(op for op, value in self.items() if value is not None)

    @property
    def value(self) -> float | bool | str:
        value = next(v for _, v in self.items() if v is not None)
        assert value is not None
        return value

    def text(self) -> str:
        value = self.value
        if isinstance(value, bool):
            shown = str(value).lower()
        elif isinstance(value, float):
            shown = f"{value:g}"
        else:
            shown = repr(value) if not value.strip() else value  # an empty string reads as ''

        return f"{self.operator} {shown}"


class MaxAge(Strict):
    """Freshness: how old, in days on the day of the check, each kind of evidence may be."""

    evaluation: int | None = Field(None, ge=0, description="Days since the most recent evaluation.")
    monitoring: int | None = Field(None, ge=0, description="Days since the end of the latest window with records.")
    approvals: int | None = Field(
        None,
        ge=0,
        description="Days since the latest approval of each required role: the approval an `approved_by` rule "
        "with the same `require_signature` would count.",
    )
    approved_by: list[Text] = Field(default_factory=list, description="The roles whose approval must be fresh.")
    open_flags: int | None = Field(
        None, ge=0, description="Days a flag from the business (`modelgov flag`) may stay open on the version."
    )

    @model_validator(mode="after")
    def _some(self) -> MaxAge:
        if all(v is None for v in (self.evaluation, self.monitoring, self.approvals, self.open_flags)):
            raise ValueError("give at least one of evaluation, monitoring, approvals or open_flags")
        if self.approvals is not None and not self.approved_by:
            raise ValueError("approvals: list the roles in approved_by")
        return self


class DriftLimits(Strict):
    """Limits on the monitoring report of the version."""

    max_share_drifted: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Share of drifted columns in the latest window with records: its features, and the model's "
        "output too when `monitoring.drift.count_output` is true.",
    )
    max_drifting_windows: int | None = Field(
        None, ge=0, description="Windows in the current run of drift (0: the latest window must not drift)."
    )
    max_feature_psi: float | None = Field(None, gt=0, description="PSI of any feature in the latest window.")
    output_drift: bool | None = Field(
        None, description="false: the model's output must not drift in the latest window."
    )

    @model_validator(mode="after")
    def _some(self) -> DriftLimits:
        if all(
            v is None
            for v in (self.max_share_drifted, self.max_drifting_windows, self.max_feature_psi, self.output_drift)
        ):
            raise ValueError("give at least one limit")
        return self


class Condition(Strict):
    """``{evidence: comparison.live.*.abs_delta, require: {">": 0.05}}``: holds when any value the
    pattern matches meets the comparison."""

    evidence: str = Field(description="Evidence path; `*` ranges over names.")
    require: Requirement

    @field_validator("evidence")
    @classmethod
    def _path(cls, value: str) -> str:
        problem = paths.check_pattern(value)
        if problem:
            raise ValueError(problem)
        return value

    def text(self) -> str:
        return f"{self.evidence} {self.require.text()}"


class When(Strict):
    """When a rule applies: if any of its conditions holds. ``missing`` says what an unknown condition
    (no value matches, or a value is undefined) does: ``apply`` (the default: a change that cannot be
    measured is treated as one that needs the rule) or ``not-applicable``."""

    any_of: list[Condition] = Field(min_length=1, description="The rule applies when at least one holds.")
    missing: Literal["apply", "not-applicable"] = "apply"

    def text(self) -> str:
        return " or ".join(c.text() for c in self.any_of)


class Rule(Strict):
    id: Text
    title: Text = Field(description="What the rule requires, as a sentence a risk manager reads.")
    description: str | None = Field(None, description="Why the rule exists; Markdown.")
    severity: Severity = "blocking"
    applies_to: Scope | None = Field(None, description="Narrows the policy's scope for this rule.")
    references: list[Reference] = Field(default_factory=list)
    # exactly one of the rule kinds:
    evidence: str | None = Field(None, description="Evidence path; `*` ranges over names.")
    require: Requirement | None = None
    missing: Literal["error", "fail", "not-applicable"] = Field(
        "error", description="Outcome when the evidence does not exist for a version."
    )
    documented: list[Text] | None = Field(None, description="Card fields that must be filled in, not placeholders.")
    approved_by: list[Text] | None = Field(
        None, description="Roles whose latest decision must be `approved`, on or after the version's creation."
    )
    max_age_days: MaxAge | None = None
    drift_limits: DriftLimits | None = None
    prohibited_features: list[Text] | None = Field(None, description="Columns that must not be model inputs.")
    pii_legal_basis: bool | None = Field(
        None, description="true: every dataset the version uses that holds PII documents its legal basis."
    )
    datasheet_fields: list[Literal[DATASHEET_FIELDS]] | None = Field(  # type: ignore[valid-type]
        None, description="Fields every dataset the version uses must fill in."
    )
    status_recorded: bool | None = Field(
        None,
        description="true: a version in staging or production got its status through `modelgov promote` "
        "(the audit log's latest status entry for it sets that status), not by an edit of version.yml.",
    )
    when: When | None = Field(
        None,
        description="Check the rule only when this holds on the version's evidence, e.g. "
        "`{any_of: [{evidence: comparison.live.*.abs_delta, require: {'>': 0.05}}]}`; otherwise it is not "
        "applicable.",
    )
    require_signature: bool = Field(
        False,
        description="With approved_by, status_recorded or max_age_days.approvals: only sign-offs (or promotions) "
        "signed with a key of the allowed-signers file count; unsigned ones are shown but do not satisfy the rule. "
        "With max_age_days.open_flags: only a signed resolution closes a flag.",
    )

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _identifier(value)

    @model_validator(mode="after")
    def _one_kind(self) -> Rule:
        kinds = [k for k in RULE_KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(
                f"a rule checks exactly one thing: give one of {', '.join(RULE_KINDS)}"
                + (f" (found {', '.join(kinds)})" if kinds else "")
            )
        if (self.evidence is None) != (self.require is None):
            raise ValueError("evidence and require go together")
        if self.evidence is not None:
            problem = paths.check_pattern(self.evidence)
            if problem:
                raise ValueError(f"evidence: {problem}")
        if self.documented is not None:
            unknown = [f for f in self.documented if f not in paths.CARD_FIELDS]
            if unknown:
                raise ValueError(
                    f"documented: {', '.join(map(repr, unknown))} is not a card field"
                    f"{paths.did_you_mean(unknown[0], paths.CARD_FIELDS)}; card fields: {', '.join(paths.CARD_FIELDS)}"
                )
        if self.pii_legal_basis is False:
            raise ValueError("pii_legal_basis: write true, or leave the rule out")
        if self.status_recorded is False:
            raise ValueError("status_recorded: write true, or leave the rule out")
        ages = self.max_age_days
        signed = ages is not None and (ages.approvals is not None or ages.open_flags is not None)
        if self.require_signature and self.approved_by is None and self.status_recorded is None and not signed:
            raise ValueError(
                "require_signature goes with approved_by, status_recorded, max_age_days.approvals or "
                "max_age_days.open_flags"
            )
        return self

    @property
    def kind(self) -> str:
        return next(k for k in RULE_KINDS if getattr(self, k) is not None)


class PolicyFile(Strict):
    """One policy: ``policies/<file>.yml`` in the workspace, or a built-in pack."""

    id: Text
    title: Text
    description: str | None = None
    framework: str | None = Field(None, description="The framework a pack implements, e.g. `EU AI Act`.")
    applies_to: Scope = Field(default_factory=Scope)
    exclude: Scope | None = Field(None, description="Versions matching this scope are left out.")
    rules: list[Rule] = Field(min_length=1)
    coverage: list[Clause] = Field(
        default_factory=list,
        description="The framework's clauses and how this pack covers each: rules, human attestation, or open.",
    )
    # What the pack implements, and since when (see :mod:`modelgov.policy.standing`):
    instrument: Instrument | None = Field(None, description="The legal or supervisory text the pack implements.")
    version: str | None = Field(None, description="The text's version or edition, e.g. `2023` or `final, 2025-09`.")
    status: PackStatus | None = Field(
        None,
        description="The text's status when the pack was written: `in_force`, `not_yet_applicable`, `rescinded` "
        "or `superseded`. The pages compute the status on the day of the check from the dates.",
    )
    superseded_by: str | None = Field(None, description="What rescinded or replaced the text, e.g. `SR 26-2`.")
    rescinded_on: dt.date | None = Field(None, description="The day the text stopped applying.")
    published: dt.date | None = Field(None, description="The day the text was issued or adopted.")
    applies_from: dt.date | None = Field(None, description="The day its obligations start to apply.")
    sources: list[Source] = Field(default_factory=list, description="Where the pack's clauses were read.")

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _identifier(value)

    @model_validator(mode="after")
    def _unique_rules(self) -> PolicyFile:
        seen: set[str] = set()
        for rule in self.rules:
            if rule.id in seen:
                raise ValueError(f"rule id {rule.id!r} is used twice")
            seen.add(rule.id)
        known = {r.id for r in self.rules}
        if self.status in ("rescinded", "superseded") and self.rescinded_on is None:
            raise ValueError(f"status {self.status}: give rescinded_on, the day it stopped applying")
        if self.status == "not_yet_applicable" and self.applies_from is None:
            raise ValueError("status not_yet_applicable: give applies_from, the day it starts to apply")
        sources = [s.id for s in self.sources]
        if len(sources) != len(set(sources)):
            raise ValueError("a source id is used twice in sources")
        for clause in self.coverage:
            for rule_id in clause.rules:
                if rule_id not in known:
                    raise ValueError(f"coverage of {clause.clause!r} names rule {rule_id!r}, which this policy lacks")
        return self


class Clause(Strict):
    """A clause of the framework and how it is covered."""

    clause: Text
    title: Text
    rules: list[Text] = Field(default_factory=list, description="Rules of this pack that check it automatically.")
    attestation: str | None = Field(None, description="What a person must attest, when a rule cannot check it.")
    note: str | None = None
    source: str | None = Field(None, description="The id of the pack's `sources` entry the clause was read in.")
    applies_from: dt.date | None = Field(
        None, description="The day this obligation starts to apply, when it phases in later than the pack's."
    )
    verified: bool | None = Field(
        None, description="false: the clause could not be checked against its source; the pages say so."
    )


def web_url(value: str | None) -> str | None:
    """Only ``http://`` and ``https://`` addresses: a source link must not run code or open a local file."""
    if value is not None and not value.lower().startswith(("http://", "https://")):
        raise ValueError("give an http:// or https:// address")
    return value


class Instrument(Strict):
    """The text a pack implements: ``{name: Guideline on Model Risk Management, number: SR 26-2, issuer: ...}``."""

    name: Text
    number: str | None = Field(
        None, description="Its number or reference, e.g. `SR 26-2`, `Regulation (EU) 2024/1689`."
    )
    issuer: str | None = Field(None, description="Who issued or adopted it.")


class Source(Strict):
    """A document the pack's clauses were read in, as a reader can find it again."""

    id: Text
    title: Text
    url: str | None = None
    date: dt.date | None = Field(None, description="The source's date of publication.")

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        return _identifier(value)

    @field_validator("url")
    @classmethod
    def _web_url(cls, value: str | None) -> str | None:
        return web_url(value)


PackStatus = Literal["in_force", "not_yet_applicable", "rescinded", "superseded"]

PolicyFile.model_rebuild()


class Waiver(Strict):
    """An accepted exception to one rule, for some model versions, until a date."""

    id: Text
    policy: Text
    rule: Text
    models: list[Text] = Field(min_length=1, description="Model ids or globs.")
    versions: list[Text] | None = Field(None, description="Versions or globs; all versions when left out.")
    reason: Text
    approved_by: Text
    ticket: Text
    granted: dt.date
    expires: dt.date

    @model_validator(mode="after")
    def _dates(self) -> Waiver:
        if self.expires < self.granted:
            raise ValueError("expires is before granted")
        return self


class WaiversFile(Strict):
    """``waivers.yml`` at the workspace root."""

    waivers: list[Waiver] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique(self) -> WaiversFile:
        seen: set[str] = set()
        for waiver in self.waivers:
            if waiver.id in seen:
                raise ValueError(f"waiver id {waiver.id!r} is used twice")
            seen.add(waiver.id)
        return self
