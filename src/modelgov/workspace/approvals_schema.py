"""``approvals.yml`` beside a ``version.yml``: the sign-offs of a version, each a role's decision.

A file of its own so that repository rules (e.g. CODEOWNERS) can give reviewers, not modellers,
the right to write it; the decisions are reviewed against the audit log and the allowed signers by
:mod:`modelgov.decisions.review`.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import Field, model_validator

from modelgov.inputs import Strict, Text


class Decision(StrEnum):
    approved = "approved"
    rejected = "rejected"
    pending = "pending"


class Condition(Strict):
    """A condition an approval was given under: a remedy, a review, a limit on use. Kept beside the
    sign-off so that the site lists what is still owed, and policies can read it."""

    text: Text = Field(description="What must be done, e.g. `Quarterly review of the selection-rate gap`.")
    due: dt.date | None = Field(
        None,
        description="When it must be met; leave out for a standing condition (one that holds while the model is used).",
    )
    met: dt.date | None = Field(None, description="When it was met; needs `met_by`.")
    met_by: Text | None = Field(
        None, description="Who confirmed it was met (the approver's function, not the model's owner)."
    )
    note: str | None = Field(None, description="How it was met, or where the evidence is.")

    @model_validator(mode="after")
    def _met_has_a_confirmer(self) -> Condition:
        if (self.met is None) != (self.met_by is None):
            raise ValueError("`met` and `met_by` go together: when a condition was met, and who confirmed it")
        for key in ("text", "met_by"):
            value = getattr(self, key)
            if value is not None and not value.strip():
                raise ValueError(f"`{key}` is blank: write what it says")
        return self


class Approval(Strict):
    role: Text = Field(description="The accountable function, e.g. `model_risk`, `compliance`.")
    by: Text = Field(description="Who decided.")
    decision: Decision
    date: dt.date
    comment: str | None = None
    conditions: list[Condition] = Field(
        default_factory=list,
        description="Conditions the approval was given under; the card lists each with its state (met, open, "
        "overdue) and policies read `approvals.<role>.conditions_unmet` and `.conditions_overdue`. Unsigned: "
        "`modelgov approve --condition` records them in the signed audit log instead.",
    )

    @model_validator(mode="after")
    def _met_after_the_approval(self) -> Approval:
        if self.conditions and self.decision != Decision.approved:
            raise ValueError(f"conditions go with an approval; a {self.decision.value} decision sets none")
        for condition in self.conditions:
            if condition.due is not None and condition.due < self.date:
                raise ValueError(
                    f"a condition is due on {condition.due}, before the approval it belongs to ({self.date})"
                )
            if condition.met is not None and condition.met < self.date:
                raise ValueError(
                    f"a condition is met on {condition.met}, before the approval it belongs to ({self.date}): "
                    "a condition is set when the approval is given"
                )
        return self


class Approvals(Strict):
    """`approvals.yml` beside a version.yml: sign-offs, kept in their own file so that
    repository owners rules (e.g. CODEOWNERS) can give reviewers, not modellers, write access."""

    approvals: list[Approval] = Field(default_factory=list)
