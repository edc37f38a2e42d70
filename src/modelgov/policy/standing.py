"""Whether a pack, and each of its clauses, applies on the day of the check, and what each rule reads.

Regulation moves: guidance is rescinded, obligations phase in on set dates. A pack states its dates
(``applies_from``, ``rescinded_on``), and the standing is computed here once, against the check date
(``governance.as_of``), and written into the manifest, so the pages show "in force", "coming, in N
days" or "rescinded" without computing anything themselves.

The rules, in order:

* a pack whose ``rescinded_on`` is on or before the check date is **rescinded** (its results still
  render: they are its history);
* else a pack whose ``applies_from`` is after the check date is **coming**, with the days to go;
* else a pack with an ``applies_from``, or declared ``in_force``, is **in force**; one declared
  ``not_yet_applicable`` without a date is **coming** with no day; one with neither has **no dates**.

A clause of a rescinded pack is rescinded with it. Otherwise a clause (or a rule's reference to it)
with its own ``applies_from`` is coming or in force by that date, and one without takes the pack's.
"""

from __future__ import annotations

import datetime as dt

from modelgov import manifest
from modelgov.feature_names import group_segment

from .schema import Clause, PolicyFile, Reference, Rule


def pack_standing(policy: PolicyFile, as_of: dt.date) -> manifest.Standing:
    if policy.rescinded_on is not None and policy.rescinded_on <= as_of:
        return _dated("rescinded", policy.rescinded_on, as_of, by=policy.superseded_by)
    if policy.applies_from is not None:
        return _dated("coming" if policy.applies_from > as_of else "in force", policy.applies_from, as_of)
    if policy.status == "in_force":
        return manifest.Standing(state="in force")
    if policy.status == "not_yet_applicable":
        return manifest.Standing(state="coming")
    return manifest.Standing(state="no dates")


def clause_standing(clause: Clause | Reference, pack: manifest.Standing, as_of: dt.date) -> manifest.Standing:
    """A clause's own date wins over the pack's, except in a rescinded pack."""
    if pack.state == "rescinded" or clause.applies_from is None:
        return pack
    return _dated("coming" if clause.applies_from > as_of else "in force", clause.applies_from, as_of)


def rule_not_in_force(rule: Rule, pack: manifest.Standing, as_of: dt.date) -> str | None:
    """``rescinded`` or ``coming`` when the rule's obligation does not apply on the check date: its pack
    is rescinded or coming, or every clause it cites phases in later; None when it applies."""
    if pack.state in ("rescinded", "coming"):
        return pack.state
    dates = [ref.applies_from for ref in rule.references]
    if dates and all(day is not None and day > as_of for day in dates):
        return "coming"
    return None


def _dated(state: str, day: dt.date, as_of: dt.date, by: str | None = None) -> manifest.Standing:
    return manifest.Standing(state=state, date=day.isoformat(), days=(day - as_of).days, by=by)  # type: ignore[arg-type]


def rule_reads(rule: Rule) -> list[str]:
    """The evidence a rule reads, named as the evidence paths, card fields, roles and datasheet fields
    the pages show: ``evaluation.rows``, ``card.caveats``, ``approvals.model_risk``,
    ``datasheets.known_gaps``. Two rules that read the same list read the same evidence."""
    kind = rule.kind
    if kind == "evidence":
        return [rule.evidence or ""]
    if kind == "documented":
        return [f"card.{field}" for field in rule.documented or []]
    if kind == "approved_by":
        return [f"approvals.{group_segment(role)}" for role in rule.approved_by or []]
    if kind == "max_age_days":
        limits = rule.max_age_days
        assert limits is not None
        out = []
        if limits.evaluation is not None:
            out.append("evaluation.age_days")
        if limits.monitoring is not None:
            out.append("monitoring.age_days")
        if limits.approvals is not None:
            out += [f"approvals.{group_segment(role)}.age_days" for role in limits.approved_by]
        if limits.open_flags is not None:
            out.append("flags.oldest_open_days")
        return out
    if kind == "drift_limits":
        limits = rule.drift_limits
        assert limits is not None
        named = (
            ("drift.share_drifted", limits.max_share_drifted),
            ("drift.drifting_windows", limits.max_drifting_windows),
            ("drift.features.*.psi", limits.max_feature_psi),
            ("drift.output.drifted", limits.output_drift),
        )
        return [path for path, limit in named if limit is not None]
    if kind == "prohibited_features":
        return ["model inputs"]
    if kind == "pii_legal_basis":
        return ["datasheets.pii_fields", "datasheets.legal_basis"]
    if kind == "status_recorded":
        return ["audit log: promotions"]
    return [f"datasheets.{field}" for field in rule.datasheet_fields or []]
