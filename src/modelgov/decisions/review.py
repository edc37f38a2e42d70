"""Each recorded decision checked against the evidence and the signers, for the manifest.

Runs in the build's main process after the analyses (which know nothing of signatures): for every
model version it records the evidence digest a sign-off binds, adds the sign-offs from the audit
log with their signature status (signed, unsigned, invalid) and evidence status (current, stale,
unbound), and names the audit entry that set the version's status, with any override of the gate.
Policies then read only these statuses (:mod:`modelgov.policy.approval_rules`), and pages only the manifest.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from modelgov import manifest
from modelgov.audit import LOG_PATH, entry_time, signed_message
from modelgov.decisions.evidence import Evidence, version_evidence
from modelgov.decisions.promotion_review import promotions
from modelgov.decisions.signers import AllowedSigners, SignatureCheck, check_signature
from modelgov.grace import grace_day
from modelgov.workspace.load import Workspace

#: The role a signer needs to promote a version past a blocked policy gate, and to grant a waiver:
#: a waiver lets a version through a rule that would block it, which is the same decision.
OVERRIDE_ROLE = "override"


def required_role(entry: dict[str, Any]) -> str | None:
    """The role whoever signed ``entry`` must hold for it to count: the approval's role, the
    override role for a waiver or an overriding promotion, none for the other entries."""
    details = entry["details"]
    if entry["action"] in ("approval", "condition"):  # a condition is met by a holder of its sign-off's role
        role = details.get("role")
        return role if isinstance(role, str) else None
    if entry["action"] == "waiver" or (entry["action"] == "status" and isinstance(details.get("override"), dict)):
        return OVERRIDE_ROLE
    return None


def signature_of(entry: dict[str, Any], signers: AllowedSigners | None, role: str | None) -> SignatureCheck:
    """The signature status of one log entry; ``role`` is the role the signer must hold (the
    approval's role, ``override`` for an overriding promotion), None for any."""
    armored = entry.get("signature")
    if armored is None:
        return SignatureCheck("unsigned", None)
    checked = check_signature(signers, entry["actor"], signed_message(entry), armored, entry_time(entry))
    if checked.status == "signed" and role is not None and role not in checked.roles:
        held = ", ".join(sorted(checked.roles)) or "none"
        return SignatureCheck(
            "invalid", checked.fingerprint, f"{entry['actor']} does not hold the role {role!r} (roles: {held})"
        )
    return checked


def signers_summary(signers: AllowedSigners | None) -> manifest.SignersSummary | None:
    if signers is None:
        return None
    return manifest.SignersSummary(
        path=signers.path,
        origin=signers.origin,  # type: ignore[arg-type]
        signers=[
            manifest.SignerRecord(principals=list(s.principals), roles=sorted(s.roles), key=s.fingerprint)
            for s in signers.signers
        ],
    )


def audit_event(entry: dict[str, Any], signers: AllowedSigners | None) -> manifest.AuditEvent:
    subject = entry["subject"]
    checked = signature_of(entry, signers, required_role(entry))
    return manifest.AuditEvent(
        seq=entry["seq"],
        time=entry["time"],
        actor=entry["actor"],
        action=entry["action"],
        model=subject.get("model"),
        version=subject.get("version"),
        file=subject.get("file"),
        sha256=subject.get("sha256"),
        outcome=entry["outcome"],
        comment=entry["comment"],
        details=entry["details"],
        hash=entry["hash"],
        signature=checked.status,  # type: ignore[arg-type]
        signer_key=checked.fingerprint,
        signature_problem=checked.reason,
    )


def review_models(
    models: Iterable[manifest.Model], workspace: Workspace, signers: AllowedSigners | None
) -> list[manifest.Model]:
    """The models with each version's evidence, logged sign-offs and status change filled in."""
    log_ref = _log_ref(workspace)
    by_version: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)  # one pass over the log
    for logged in workspace.audit_entries:
        by_version[(logged["subject"].get("model"), logged["subject"].get("version"))].append(logged)
    reviewed = []
    for model in models:
        entry = workspace.models[model.id]
        versions = [
            _review_version(version, workspace, model.id, signers, log_ref, by_version[(model.id, version.version)])
            if version.version in entry.versions
            else version
            for version in model.versions
        ]
        reviewed.append(model.model_copy(update={"versions": versions}))
    return reviewed


def _log_ref(workspace: Workspace) -> manifest.FileRef | None:
    if workspace.audit is None:
        return None
    hashed = workspace.files.register(LOG_PATH)
    return manifest.FileRef(path=hashed.path, sha256=hashed.sha256, bytes=hashed.bytes)


def _review_version(
    version: manifest.ModelVersion,
    workspace: Workspace,
    model_id: str,
    signers: AllowedSigners | None,
    log_ref: manifest.FileRef | None,
    entries: list[dict[str, Any]],
) -> manifest.ModelVersion:
    evidence = version_evidence(workspace, model_id, workspace.models[model_id].versions[version.version])
    logged = [_logged_approval(e, evidence, signers, log_ref, version) for e in entries if e["action"] == "approval"]
    logged = _conditions_met([a for a in logged if a is not None], entries, signers)
    approvals = sorted([*version.approvals, *logged], key=lambda a: (a.date, a.role))
    return version.model_copy(
        update={
            "approvals": approvals,
            "evidence": manifest.VersionEvidence(
                digest=evidence.digest,
                files=[manifest.EvidenceFile(path=p, sha256=h) for p, h in sorted(evidence.files.items())],
            ),
            "status_change": _status_change(entries, version.status, signers, evidence),
            "promotions": promotions(entries, version, signers, evidence),
        }
    )


def _logged_approval(entry, evidence, signers, log_ref, version: manifest.ModelVersion) -> manifest.Approval | None:
    if log_ref is None:
        return None
    role = entry["details"]["role"]
    checked = signature_of(entry, signers, role)
    state, changed = _evidence_state(entry, evidence)
    recorded = entry["subject"].get("evidence")
    recorded = recorded if isinstance(recorded, dict) else {}
    return manifest.Approval(
        role=role,
        by=entry["actor"],
        decision=entry["outcome"],
        date=entry["time"][:10],
        comment=entry["comment"],
        source=log_ref,
        entry=entry["seq"],
        signature=checked.status,  # type: ignore[arg-type]
        signer_key=checked.fingerprint,
        signature_problem=checked.reason,
        evidence=state,  # type: ignore[arg-type]
        changed=changed,
        predates=_predates(entry["time"][:10], recorded, changed, version),
        conditions=[
            manifest.ApprovalCondition(
                number=number, text=c["text"], due=c["due"], signed_sign_off="signature" in entry
            )
            for number, c in enumerate(entry["details"].get("conditions") or [], start=1)
        ],
    )


def _predates(day: str, recorded: dict[str, str], changed: list[str], version: manifest.ModelVersion) -> list[str]:
    """The evaluations a sign-off of ``day`` (a UTC date) binds, as they were then (their table and the
    version.yml that dates them unchanged since), whose date is after ``day``'s day of grace: ``id
    (date)``. An evaluation's date is written in local time (``modelgov init`` writes today's), and east
    of UTC that is the next UTC day for part of every day, so an evaluation of the day after an honest
    sign-off is not marked, as the loader accepts a record of the day after it runs."""
    if version.source.path in changed:
        return []  # the dates written now may not be the dates it saw
    latest = grace_day(dt.date.fromisoformat(day)).isoformat()
    return [
        f"{run.id} ({run.date[:10]})"
        for run in version.evaluations
        if run.data.path in recorded and run.data.path not in changed and run.date[:10] > latest
    ]


def _conditions_met(
    approvals: list[manifest.Approval], entries: list[dict[str, Any]], signers: AllowedSigners | None
) -> list[manifest.Approval]:
    """The logged sign-offs with each condition that a ``condition`` entry records met: the entry names
    the sign-off and the condition, and is signed (or not) by a holder of the sign-off's role. An entry
    naming another role, or a condition the sign-off does not have, marks nothing. The record shown
    is the earliest that can count: a signed one for a condition of a signed sign-off (anyone can write
    an unsigned entry), else the earliest whose signature is not refused; failing those, the earliest."""
    signed_off = {a.entry: a for a in approvals}
    chosen: dict[tuple[int, int], tuple[dict[str, Any], str]] = {}
    for entry in entries:  # in the log's order: the first record of a kind is the earliest
        if entry["action"] != "condition":
            continue
        details = entry["details"]
        approval = signed_off.get(details["approval"])
        if approval is None or approval.role != details["role"]:
            continue
        key = (details["approval"], details["condition"])
        status = signature_of(entry, signers, details["role"]).status
        known = chosen.get(key)
        if known is None or _better(status, known[1], approval.signature != "unsigned"):
            chosen[key] = (entry, status)
    result = []
    for approval in approvals:
        conditions = []
        for condition in approval.conditions:
            found = chosen.get((approval.entry or -1, condition.number))
            if found is not None:
                met, status = found
                condition = condition.model_copy(
                    update={
                        "met": met["time"][:10],
                        "met_by": met["actor"],
                        "note": met["comment"],
                        "met_entry": met["seq"],
                        "met_signature": status,
                    }
                )
            conditions.append(condition)
        result.append(approval.model_copy(update={"conditions": conditions}))
    return result


def _better(status: str, known: str, signed_sign_off: bool) -> bool:
    """Whether a later record with ``status`` is to be shown instead of an earlier one with ``known``:
    only when it can count and the earlier cannot."""

    def counts(state: str) -> bool:
        return state == "signed" if signed_sign_off else state != "invalid"

    return counts(status) and not counts(known)


def _status_change(
    entries: list[dict[str, Any]], status: str, signers: AllowedSigners | None, evidence: Evidence
) -> manifest.StatusChange | None:
    """The latest status entry of the version, when it set the status the version has now, with
    whether the evidence it was promoted on is still the evidence (a promotion copied from another
    workspace, or followed by new files, is stale)."""
    changes = [e for e in entries if e["action"] == "status"]
    if not changes or changes[-1]["outcome"] != status:
        return None
    entry = changes[-1]
    details = entry["details"]
    override = details.get("override") if isinstance(details.get("override"), dict) else None
    checked = signature_of(entry, signers, OVERRIDE_ROLE if override else None)
    state, changed = _evidence_state(entry, evidence)
    rules = override.get("rules") if override else None
    return manifest.StatusChange(
        entry=entry["seq"],
        by=entry["actor"],
        date=entry["time"][:10],
        from_status=details.get("from") if isinstance(details.get("from"), str) else None,
        to_status=entry["outcome"],
        signature=checked.status,  # type: ignore[arg-type]
        signature_problem=checked.reason,
        evidence=state,  # type: ignore[arg-type]
        changed=changed,
        override_reason=str(override.get("reason")) if override else None,
        overridden_rules=[str(r) for r in rules] if isinstance(rules, list) else [],
    )


def _evidence_state(entry: dict[str, Any], evidence: Evidence) -> tuple[str, list[str]]:
    """``current``, ``stale`` (with the changed paths) or ``unbound`` (the entry names no evidence)."""
    recorded = entry["subject"].get("evidence")
    if recorded is None:
        return "unbound", []
    changed = evidence.changed_since(recorded)
    return ("stale" if changed else "current"), changed


def waiver_records(workspace: Workspace, signers: AllowedSigners | None) -> dict[str, manifest.WaiverRecord]:
    """Each waiver of waivers.yml with the audit entry that granted it (the latest naming its id):
    its signature, and the fields waivers.yml has changed since (a later expiry, a wider scope or
    another approver written by hand are the forges this catches)."""
    from modelgov.decisions.commands import WAIVER_FIELDS

    granted: dict[str, dict[str, Any]] = {}
    for entry in workspace.audit_entries:
        if entry["action"] == "waiver" and isinstance(entry["details"].get("waiver"), str):
            granted[entry["details"]["waiver"]] = entry
    records = {}
    for loaded in workspace.waivers:
        waiver = loaded.waiver
        entry = granted.get(waiver.id)
        if entry is None:
            records[waiver.id] = manifest.WaiverRecord()
            continue
        checked = signature_of(entry, signers, OVERRIDE_ROLE)
        recorded = {key: entry["details"].get(key) for key in WAIVER_FIELDS} | {"reason": entry["comment"]}
        now = {
            "policy": waiver.policy,
            "rule": waiver.rule,
            "models": list(waiver.models),
            "versions": list(waiver.versions) if waiver.versions is not None else None,
            "reason": waiver.reason,
            "approved_by": waiver.approved_by,
            "ticket": waiver.ticket,
            "granted": waiver.granted.isoformat(),
            "expires": waiver.expires.isoformat(),
        }
        records[waiver.id] = manifest.WaiverRecord(
            entry=entry["seq"],
            by=entry["actor"],
            signature=checked.status,  # type: ignore[arg-type]
            signature_problem=checked.reason,
            changed=[key for key in WAIVER_FIELDS if recorded[key] != now[key]],
        )
    return records
