"""The conditions a version's sign-offs were given under, as the card lists them: each with its
state on the check date, how long an overdue one is past due, and whether the person who confirmed
it met is the model's own owner (who cannot confirm an obligation of their own model
independently: it is marked for a reviewer, as a waiver its owner approved is)."""

from __future__ import annotations

from dataclasses import dataclass

from modelgov.manifest import Approval, ApprovalCondition, Model, ModelVersion
from modelgov.render.risk_views import days_between
from modelgov.render.waiver_views import names_person


@dataclass(frozen=True)
class ConditionRow:
    approval: Approval
    condition: ApprovalCondition
    state: str  # met, open or overdue
    days_overdue: int
    confirmed_by_owner: bool


def condition_rows(model: Model, version: ModelVersion, check_date: str) -> list[ConditionRow]:
    """Every condition of every sign-off of ``version``, overdue ones first, then open, then met; in
    each, in the sign-offs' order."""
    rows = []
    for approval in version.approvals:
        for condition in approval.conditions:
            state = condition.state(check_date)
            late = days_between(condition.due, check_date) if state == "overdue" and condition.due else 0
            confirmer = condition.met_by or ""
            own = state == "met" and (
                names_person(confirmer, model.owner.name) or names_person(confirmer, model.owner.email or "")
            )
            rows.append(ConditionRow(approval, condition, state, late, own))
    order = {"overdue": 0, "open": 1, "met": 2}
    return sorted(rows, key=lambda row: order[row.state])
