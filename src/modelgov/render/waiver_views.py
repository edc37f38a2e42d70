"""What the waivers page reads off the manifest: every waiver of the governance report, grouped
by state (not accepted, expired, expiring, unused, active), with the results it waived or would
cover and the entries that match no result.

The policy engine decides each waiver's state and the results it waives; here they are only
grouped and counted, relative to the report's check date. The compliance overview shows the
same rows (:mod:`.compliance_views`).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import re
import unicodedata
from dataclasses import dataclass

from modelgov.manifest import Manifest, PolicyResult, PolicyRule, WaiverState
from modelgov.render.compliance_outcomes import waiver_anchor

__all__ = ["WAIVER_GROUPS", "WaiverRow", "waiver_rows"]

#: The groups of the waivers page, in page order, with their headings.
WAIVER_GROUPS = {
    "not-accepted": "Not accepted",
    "expired": "Expired",
    "expiring": "Expiring within 30 days",
    "unused": "Unused",
    "active": "Active",
}


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


@dataclass(frozen=True)
class WaiverRow:
    waiver: WaiverState
    days_left: int | None  # expires − as_of; negative once expired
    waived: list[PolicyResult]  # the results this waiver turned into "waived"
    would_cover: list[PolicyResult]  # expired: the results it would cover if it still applied
    unmatched: list[str]  # used_by / would_apply_to entries with no result in the report
    rule: PolicyRule | None = None  # the rule it waives, if the report's policies list it
    own_models: tuple[str, ...] = ()  # names of the models it covers whose owner approved it (:func:`_owned_by`)

    @property
    def group(self) -> str:
        """``not-accepted`` (unsigned or changed, where signed waivers are required); else
        ``expired`` (past its expiry date); else ``unused`` (it waived no result); else
        ``expiring`` (it ends within 30 days of the check date); else ``active``."""
        if self.waiver.state == "not accepted":
            return "not-accepted"
        if self.waiver.state == "expired":
            return "expired"
        if not self.waiver.used_by:
            return "unused"
        return "expiring" if self.waiver.state == "expiring" else "active"

    @property
    def anchor(self) -> str:
        return waiver_anchor(self.waiver.id)

    @property
    def scope(self) -> str:
        """``models credit-default; versions 1.1`` (ids or shell-style patterns)."""
        models = ", ".join(self.waiver.models)
        if self.waiver.versions is None:
            return f"models {models}; all versions"
        return f"models {models}; versions {', '.join(self.waiver.versions)}"


def _folded(value: str | None) -> str:
    """NFKC, case folded, every run of spaces one space: `Ada  Analyst` reads as `Ada Analyst`."""
    return " ".join(unicodedata.normalize("NFKC", value or "").casefold().split())


def names_person(approver: str, person: str) -> bool:
    """``approver`` (free text: ``Marcus Lindqvist (Customer Analytics)``) names ``person`` (a name or
    an e-mail address) as a whole, not inside a longer word or address (a longer name that ends with it
    matches too: this marks a waiver for a reviewer to look at, it decides nothing)."""
    folded = _folded(person)
    return bool(folded) and re.search(rf"(?<![\w.@-]){re.escape(folded)}(?![\w@-])", _folded(approver)) is not None


def _owned_by(manifest: Manifest, waiver: WaiverState) -> tuple[str, ...]:
    """The models the waiver names whose owner approved it (named by name or e-mail address in its
    ``approved_by``, or as who recorded it in the audit log): an exception approved by the person accountable for the model it excuses has
    no independent approval. Matched on the model ids the waiver lists, patterns included."""
    found = []
    for model in manifest.models:
        if not any(fnmatch.fnmatchcase(model.id, pattern) for pattern in waiver.models):
            continue
        # the approver as written, and whoever recorded it in the audit log (who signed it, when signed)
        for who in (waiver.approved_by, waiver.record.by or ""):
            if names_person(who, model.owner.name) or names_person(who, model.owner.email):
                found.append(model.name)
                break
    return tuple(found)


def waiver_rows(manifest: Manifest) -> list[WaiverRow]:
    """Every waiver of the report, in the report's order, with the results it waived or would cover."""
    report = manifest.governance
    if report is None:
        return []
    as_of = _date(report.as_of)
    rows = []
    for waiver in report.waivers:
        waived = [r for r in report.results if r.waiver == waiver.id]
        covered_keys = {f"{r.model}@{r.version}" for r in waived}
        would = [
            r
            for r in report.results
            if (r.policy, r.rule) == (waiver.policy, waiver.rule) and f"{r.model}@{r.version}" in waiver.would_apply_to
        ]
        would_keys = {f"{r.model}@{r.version}" for r in would}
        unmatched = [k for k in waiver.used_by if k not in covered_keys]
        unmatched += [k for k in waiver.would_apply_to if k not in would_keys]
        expires = _date(waiver.expires)
        policy = next((p for p in report.policies if p.id == waiver.policy), None)
        rows.append(
            WaiverRow(
                rule=next((r for r in policy.rules if r.id == waiver.rule), None) if policy else None,
                waiver=waiver,
                days_left=(expires - as_of).days if expires and as_of else None,
                waived=waived,
                would_cover=would,
                unmatched=unmatched,
                own_models=_owned_by(manifest, waiver),
            )
        )
    return rows
