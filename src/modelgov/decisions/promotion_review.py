"""Each promotion of a version, read back from the audit log for the manifest: who promoted it, its
signature, the evidence it recorded (:mod:`.promotion_record`), and what changed since.

Two things can have changed since a promotion, and the page says which: the evidence files it is
bound to (a re-scored evaluation table, an edited card: *stale*), and the numbers it was decided on —
the comparison recorded in the entry against the same comparison in this build. The record is
never recomputed: what the page shows as the decision is what the entry holds.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from modelgov import manifest
from modelgov.decisions.evidence import Evidence
from modelgov.decisions.signers import AllowedSigners

#: Two recorded numbers closer than this are the same number (JSON round trips are exact; this
#: only absorbs a last-bit difference between platforms' arithmetic).
TOLERANCE = 1e-9


def promotions(
    entries: Iterable[dict[str, Any]],
    version: manifest.ModelVersion,
    signers: AllowedSigners | None,
    evidence: Evidence,
) -> list[manifest.Promotion]:
    """The version's promotions to staging or production, oldest first."""
    from modelgov.decisions.review import OVERRIDE_ROLE, signature_of

    out = []
    for entry in entries:
        if entry["action"] != "status" or entry["outcome"] not in ("staging", "production"):
            continue
        details = entry["details"]
        override = details.get("override") if isinstance(details.get("override"), dict) else None
        checked = signature_of(entry, signers, OVERRIDE_ROLE if override else None)
        recorded = entry["subject"].get("evidence")
        changed = evidence.changed_since(recorded) if isinstance(recorded, dict) else []
        record = _record(details.get("record"))
        rules = override.get("rules") if override else None
        out.append(
            manifest.Promotion(
                entry=entry["seq"],
                by=entry["actor"],
                time=entry["time"],
                from_status=details.get("from") if isinstance(details.get("from"), str) else None,
                to_status=entry["outcome"],
                comment=entry["comment"],
                signature=checked.status,  # type: ignore[arg-type]
                signature_problem=checked.reason,
                override_reason=str(override.get("reason")) if override else None,
                overridden_rules=[str(r) for r in rules] if isinstance(rules, list) else [],
                record=record,
                evidence="unbound" if not isinstance(recorded, dict) else ("stale" if changed else "current"),
                changed=changed,
                moved=moved_since(record, version) if record is not None else [],
                record_problems=cited_sign_offs(record, entry, entries, signers) if record is not None else [],
            )
        )
    return out


def cited_sign_offs(
    record: manifest.PromotionRecord,
    promotion: dict[str, Any],
    entries: Iterable[dict[str, Any]],
    signers: AllowedSigners | None,
) -> list[str]:
    """Each sign-off the record cites by audit entry, checked against that entry: an earlier sign-off
    of this version, by the same person, in the same role, with the same decision, and signed if the
    record says so. A record is whatever its entry holds, and an unsigned entry anyone can write:
    a forged one cited entries that were other decisions as two signed approvals."""
    from modelgov.decisions.review import signature_of

    by_seq = {entry["seq"]: entry for entry in entries}
    problems = []
    for item in record.sign_offs:
        if item.entry is None:
            # a sign-off from approvals.yml has no entry: it is never signed, nor bound to the evidence
            if item.signature == "signed" or item.evidence == "current":
                problems.append(
                    f"the {item.role} sign-off by {item.by} cites no audit entry, yet is recorded as "
                    f"{'signed' if item.signature == 'signed' else 'bound to the current evidence'}: only a "
                    "sign-off in the audit log can be"
                )
            continue
        cited = by_seq.get(item.entry)
        where = f"the {item.role} sign-off by {item.by} cites audit entry {item.entry}"
        if cited is None or cited["action"] != "approval" or cited["seq"] >= promotion["seq"]:
            problems.append(f"{where}, which is no earlier sign-off of this version")
            continue
        role = cited["details"].get("role")
        found = (cited["actor"], role, cited["outcome"])
        if found != (item.by, item.role, item.decision):
            problems.append(f"{where}, which records {cited['outcome']} by {cited['actor']} as {role}")
            continue
        # without an allowed-signers file this build verifies no signature: nothing to hold it to
        if item.signature == "signed" and signers is not None and signature_of(cited, signers, role).status != "signed":
            problems.append(f"{where} as signed; that entry's signature does not verify")
    return problems


def _record(value: Any) -> manifest.PromotionRecord | None:
    """The entry's record; the chain check has refused any that does not parse, so None means none."""
    if not isinstance(value, dict):
        return None
    try:
        return manifest.PromotionRecord.model_validate(value, strict=True)
    except ValidationError:
        return None


def moved_since(record: manifest.PromotionRecord, version: manifest.ModelVersion) -> list[str]:
    """The recorded comparison's numbers that this build's same comparison no longer gives, in words."""
    recorded = record.comparison
    if recorded is None:
        return []
    now = next(
        (
            c
            for c in version.comparisons
            if (c.other_version, c.evaluation, c.other_evaluation)
            == (recorded.other_version, recorded.evaluation, recorded.other_evaluation)
        ),
        None,
    )
    against = f"against {recorded.other_version}"
    if now is None:
        return [f"the comparison {against} on {recorded.dataset} is not in this build"]
    out = []
    if now.rows != recorded.rows:
        out.append(f"paired rows {against}: {recorded.rows:,} at the promotion, {now.rows:,} now")
    current = {d.name: d for d in now.deltas}
    for item in recorded.metrics:
        delta = current.get(item.name)
        if delta is None:
            out.append(f"{item.label} {against}: recorded, not computed now")
            continue
        interval = delta.interval
        then = (item.delta, item.low, item.high)
        today = (delta.delta, interval.low if interval else None, interval.high if interval else None)
        if not _same(then, today):
            out.append(f"{item.label} {against}: {_text(*then)} at the promotion, {_text(*today)} now")
    gaps = {(f.feature, g.name): g for f in now.fairness for g in f.disparities if g.method == "between_groups"}
    for item in recorded.gaps:
        gap = gaps.get((item.feature or "", item.name))
        label = f"{item.label} by {item.feature}"
        if gap is None:
            out.append(f"{label} {against}: recorded, not computed now")
            continue
        interval = gap.interval
        then = (item.delta, item.low, item.high)
        today = (gap.delta, interval.low if interval else None, interval.high if interval else None)
        if not _same(then, today):
            out.append(f"{label} {against}: {_text(*then)} at the promotion, {_text(*today)} now")
    return out


def _same(a: tuple[float | None, ...], b: tuple[float | None, ...]) -> bool:
    return all((x is None) == (y is None) and (x is None or abs(x - y) <= TOLERANCE) for x, y in zip(a, b, strict=True))


def _text(delta: float | None, low: float | None, high: float | None) -> str:
    if delta is None:
        return "undefined"
    bounds = f" ({low:+.4f} to {high:+.4f})" if low is not None and high is not None else ""
    return f"{delta:+.4f}{bounds}"
