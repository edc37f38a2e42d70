"""``approvals.yml`` beside a ``version.yml``: the sign-offs of a version, each a role's decision.

A file of its own so that repository rules (e.g. CODEOWNERS) can give reviewers, not modellers,
the right to write it; the decisions are reviewed against the audit log and the allowed signers by
:mod:`modelgov.decisions.review`.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from pydantic import Field

from modelgov.inputs import Strict, Text


class Decision(StrEnum):
    approved = "approved"
    rejected = "rejected"
    pending = "pending"


class Approval(Strict):
    role: Text = Field(description="The accountable function, e.g. `model_risk`, `compliance`.")
    by: Text = Field(description="Who decided.")
    decision: Decision
    date: dt.date
    comment: str | None = None


class Approvals(Strict):
    """`approvals.yml` beside a version.yml: sign-offs, kept in their own file so that
    repository owners rules (e.g. CODEOWNERS) can give reviewers, not modellers, write access."""

    approvals: list[Approval] = Field(default_factory=list)
