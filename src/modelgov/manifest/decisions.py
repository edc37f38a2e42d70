"""The decisions people recorded about a version, as the build found them: sign-offs, the evidence a
sign-off binds, the status change and each promotion with the evidence it was decided on, and the
business's flags with their resolutions.

Each carries its signature state and whether its evidence changed since (``current`` or ``stale``),
because a decision counts only when both hold (docs/audit.md). Made by ``decisions/`` and the review
stage from the audit log; read by policies and the version pages.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from modelgov.grace import counts_on
from modelgov.manifest.base import CalendarDay, FileRef, Node

# --------------------------------------------------------------------------- sign-offs


class ApprovalCondition(Node):
    """A condition a sign-off was given under (in ``approvals.yml``, or in the sign-off's audit entry
    with ``modelgov approve --condition``); whether it is open or overdue is read against the check
    date (``governance.as_of``)."""

    number: int = Field(1, description="Its place in the sign-off's list, from 1.")
    text: str
    due: CalendarDay | None = Field(None, description="ISO date it must be met by; None for a standing condition.")
    met: CalendarDay | None = Field(None, description="ISO date it was met; None while it is open.")
    met_by: str | None = None
    note: str | None = None
    met_entry: int | None = Field(None, description="The audit entry that records it met (`modelgov condition`).")
    met_signature: Literal["signed", "unsigned", "invalid"] | None = Field(
        None,
        description="How its being met is recorded: `signed` by a holder of the sign-off's role in the audit log; "
        "`unsigned` (approvals.yml, or an unsigned entry); `invalid` (a signature not accepted, which never counts).",
    )
    signed_sign_off: bool = Field(
        False,
        description="Its sign-off carries a signature, accepted or not: then only a signed record meets it, as "
        "anyone could write one unsigned.",
    )

    def state(self, today: str, *, signed_only: bool = False) -> Literal["met", "open", "overdue"]:
        """``met`` by ``today`` (an ISO date), ``overdue`` when its due date has passed unmet, else
        ``open`` (a standing condition, without a due date, is open while the model is used). With
        ``signed_only`` (the CI's ``MODELGOV_REQUIRE_SIGNATURES``), or for a condition of a signed
        sign-off, only a signed record of it met counts."""
        if self.signed_sign_off or signed_only:
            confirmed = self.met_signature == "signed"
        else:
            confirmed = self.met_signature != "invalid"
        if self.met is not None and self.met <= today and confirmed:
            return "met"
        if self.due is not None and self.due < today:
            return "overdue"
        return "open"


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
        "(see `changed`), or, for an approvals.yml sign-off, the version was evaluated after it; `unbound`: it "
        "names no evidence (approvals.yml, or an entry from before binding) and no evaluation is dated after it.",
    )
    changed: list[str] = Field(
        default_factory=list,
        description="Evidence files that changed since the sign-off; for an approvals.yml sign-off, the tables of "
        "the evaluations dated after it.",
    )
    predates: list[str] = Field(
        default_factory=list,
        description="Evaluations it binds, unchanged since, whose recorded date is after its own, as `id (date)`: "
        "it could not have decided on them then, so one of the two dates is wrong (an entry written or dated by "
        "hand; `modelgov approve` dates an entry by the UTC clock, and the loader refuses an evaluation dated later "
        "than the day after it runs, which is why one of the day after the sign-off is not listed).",
    )
    conditions: list[ApprovalCondition] = Field(
        default_factory=list, description="Conditions it was given under (approvals.yml), met or open."
    )

    def sets_conditions(self, today: str) -> bool:
        """Whether its conditions are owed on ``today`` (an ISO date): it was made by then (a day of
        grace, as for sign-offs), whatever its signature. Conditions only ever add obligations, so
        they fail closed: a sign-off whose signature cannot be checked (no allowed-signers file, a
        signer's line removed) still owes them, and the card says how each sign-off is signed."""
        return counts_on(self.date, dt.date.fromisoformat(today))

    @property
    def counts(self) -> bool:
        """Policies count it: not stale, and not carrying a signature that fails."""
        return self.evidence != "stale" and self.signature != "invalid"

    @property
    def stale_reason(self) -> str:
        """Why a stale sign-off is stale, in the words every page and message uses: a logged one's
        evidence changed; an approvals.yml one, which binds no files, has evaluations dated after it."""
        return "evidence changed since sign-off" if self.entry is not None else "evaluated again since sign-off"


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


# --------------------------------------------------------------------------- promotions


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
    best_value: float | None = Field(
        None, description="For a metric best at neither end (a mean error): the verdict reads the distance bounds."
    )
    distance_low: float | None = Field(
        None, description="Lower bound of the interval of |this − best| − |other − best| (below zero: nearer)."
    )
    distance_high: float | None = None
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
    as_of: CalendarDay = Field(description="The date the policies were checked on.")
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
    record_problems: list[str] = Field(
        default_factory=list,
        description="Where the record's sign-offs disagree with the audit entries they cite, in words.",
    )


# --------------------------------------------------------------------------- flags


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
        description="Days from the day it was raised to the check date (the manifest's `as_of`); for a "
        "resolved flag, to the day it was resolved."
    )
    resolution: FlagResolution | None = None
