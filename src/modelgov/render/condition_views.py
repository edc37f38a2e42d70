"""The conditions a version's sign-offs were given under, as the card and the dossier list them:
each with its state on the check date, how late it is or was, how its being met is recorded (a
signed audit entry, or an unsigned line in approvals.yml a pull request can write), and whether the
person who confirmed it met is the model's own owner (who cannot confirm an obligation of their own
model independently: it is marked for a reviewer, as a waiver its owner approved is)."""

from __future__ import annotations

from dataclasses import dataclass

from modelgov.manifest import Approval, ApprovalCondition, Manifest, Model, ModelVersion
from modelgov.render.risk_views import as_of, days_between
from modelgov.render.waiver_views import names_person

#: Rows of a conditions table on a page: a hostile log could hold millions (50,000 sign-offs of 100
#: conditions each), and a page of them would hang the build. The most pressing come first; every
#: one is in manifest.json and counted by the policies.
MAX_ROWS_SHOWN = 200
#: An open condition due within this many days of the check date is marked as coming due: the
#: reminder a reviewer needs before it is overdue, not after.
DUE_SOON_DAYS = 30


@dataclass(frozen=True)
class ConditionRow:
    approval: Approval
    condition: ApprovalCondition
    state: str  # met, open or overdue
    days_overdue: int  # past its due date and unmet, on the check date
    days_to_due: int | None  # open with a due date: days from the check date to it (0: due that day)
    days_late: int  # met after its due date
    met_after_check: bool  # recorded met after the check date: not met as of then
    confirmed_by_owner: bool
    source: str  # where the condition is written
    recorded: str  # how its being met is recorded; "" while it is not


def condition_rows(manifest: Manifest, model: Model, version: ModelVersion) -> list[ConditionRow]:
    """Every condition of every sign-off of ``version``, most pressing first (:func:`_pressing`), in
    the sign-offs' order otherwise."""
    check_date = as_of(manifest)
    signed_only = manifest.governance is not None and manifest.governance.signatures_required
    rows = []
    for approval in version.approvals:
        if not approval.sets_conditions(check_date):
            continue  # a sign-off made after the check date
        source = _source(approval)
        for condition in approval.conditions:
            state = condition.state(check_date, signed_only=signed_only)
            due, met = condition.due, condition.met
            confirmer = condition.met_by or ""
            own = met is not None and (
                names_person(confirmer, model.owner.name) or names_person(confirmer, model.owner.email or "")
            )
            rows.append(
                ConditionRow(
                    approval=approval,
                    condition=condition,
                    state=state,
                    days_overdue=days_between(due, check_date) if state == "overdue" and due else 0,
                    days_to_due=days_between(check_date, due) if state == "open" and due else None,
                    days_late=max(0, days_between(due, met)) if due and met and state == "met" else 0,
                    met_after_check=met is not None and met > check_date,
                    confirmed_by_owner=own,
                    source=source,
                    recorded=_recorded(condition),
                )
            )
    return sorted(rows, key=_pressing)


def _pressing(row: ConditionRow) -> tuple[int, int]:
    """Overdue ones first, the longest overdue first; then open ones, the soonest due first and the
    standing ones (no due date) after them; then met ones."""
    if row.state == "overdue":
        return 0, -row.days_overdue
    if row.state == "open":
        return 1, row.days_to_due if row.days_to_due is not None else 2**62
    return 2, 0


def due_soon(row: ConditionRow) -> bool:
    """Open, and due within :data:`DUE_SOON_DAYS` days of the check date."""
    return row.days_to_due is not None and row.days_to_due <= DUE_SOON_DAYS


def due_words(days: int) -> str:
    """How soon an open condition falls due, ``days`` from the check date."""
    return "due that day" if days == 0 else f"due in {days:,} day{'s' if days != 1 else ''}"


def _source(approval: Approval) -> str:
    """Where the sign-off that set a condition is written, and how it is signed."""
    if approval.entry is None:
        return "approvals.yml, unsigned"
    signed = {"signed": "signed", "unsigned": "unsigned", "invalid": "signature not accepted"}[approval.signature]
    return f"audit entry {approval.entry}, {signed}"


def _recorded(condition: ApprovalCondition) -> str:
    if condition.met is None:
        return ""
    if condition.met_entry is None:
        return "in approvals.yml, unsigned"
    return {
        "signed": f"signed, audit entry {condition.met_entry}",
        "unsigned": f"unsigned, audit entry {condition.met_entry}",
        "invalid": f"signature not accepted, audit entry {condition.met_entry}: not counted",
    }[condition.met_signature or "unsigned"]


def fleet_conditions(manifest: Manifest) -> list[tuple[Model, ModelVersion, ConditionRow]]:
    """Every condition owed on the check date across the fleet, met or not, most pressing first
    (:func:`_pressing`), in the inventory's order otherwise (the overview lists those not met, and says
    so when every one is met)."""
    found = [
        (model, version, row)
        for model in manifest.models
        for version in model.versions
        for row in condition_rows(manifest, model, version)
    ]
    return sorted(found, key=lambda item: _pressing(item[2]))
