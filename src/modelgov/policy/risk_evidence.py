"""Evidence paths of a model's risk assessment: ``risk.severity``, ``risk.implied_tier_met``,
``risk.reassessment_overdue`` and the rest, from the manifest's rated assessment
(:class:`~modelgov.manifest.RiskAssessment`), so policies and the risk page read one verdict.

The assessment belongs to the model, so every version of it has the same ``risk.*`` paths; the ages
are counted to the day policies are checked on. A model without an assessment has none, and a rule
on one says "no risk assessment recorded" (:func:`missing_reason`) rather than naming a path.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Container

from modelgov import manifest
from modelgov.grace import counts_on

#: The risk page, site-relative, as evidence links name pages (see :mod:`modelgov.policy.evidence_index`).
RISK_PAGE = "risk.html"

#: The grammar's risk paths (see :data:`modelgov.policy.paths.TEMPLATES`).
TEMPLATES: tuple[str, ...] = (
    "risk.severity",
    "risk.severity_rank",
    "risk.implied_tier",
    "risk.implied_tier_met",
    "risk.assessed_by",
    "risk.assessment_age_days",
    "risk.reassessment_due_in_days",
    "risk.reassessment_overdue",
    *(f"risk.risks.<risk>.{key}" for key in ("probability", "impact", "severity", "severity_rank")),
)


def model_anchor(model_id: str) -> str:
    """The id of a model's section on the risk page (model ids are already safe identifiers)."""
    return f"risk-{model_id}"


def risk_evidence(put: Callable[..., None], model: manifest.Model, today: dt.date) -> None:
    """Every ``risk.*`` path of the model's assessment; none when it has no assessment, or one dated
    after the check date (its day of grace aside): on that date it had not been made, and an age
    counted backwards would pass any freshness rule."""
    risk = model.risk
    if risk is None or not counts_on(risk.assessed_on, today):
        return
    page = f"{RISK_PAGE}#{model_anchor(model.id)}"
    due = dt.date.fromisoformat(risk.due)
    set_by = ", ".join(risk.set_by)
    put("risk.severity", risk.severity, page, f"set by {set_by}")
    put("risk.severity_rank", risk.severity_rank, page, f"{risk.severity}, set by {set_by}")
    put("risk.implied_tier", risk.implied_tier, page, f"severity {risk.severity}")
    put(
        "risk.implied_tier_met",
        risk.implied_tier_met,
        page,
        f"declared {risk.declared_tier}, severity {risk.severity} (set by {set_by}) implies {risk.implied_tier}",
    )
    put("risk.assessed_by", risk.assessed_by, page)
    put("risk.assessment_age_days", (today - dt.date.fromisoformat(risk.assessed_on)).days, page)
    detail = f"assessed {risk.assessed_on}, due {risk.due} ({risk.reassess_tier} tier: every {risk.reassess_days} days)"
    put("risk.reassessment_due_in_days", (due - today).days, page, detail)
    put("risk.reassessment_overdue", risk.overdue_on(today.isoformat()), page, detail)
    for item in risk.risks:
        for key in ("probability", "impact", "severity", "severity_rank"):
            put(f"risk.risks.{item.name}.{key}", getattr(item, key), page)


def missing_reason(pattern: str, heads: Container[str], model: manifest.Model, today: dt.date) -> str | None:
    """Why a rule found nothing, where the workspace simply does not record it: a ``risk.*`` rule
    when the model has no assessment (``heads``, the first segments of the version's evidence, lack
    ``risk``) or only one dated after the check date ``today``, the training commit when version.yml
    names none."""
    if pattern.startswith("risk.") and "risk" not in heads:
        if model.risk is not None:
            return (
                f"the risk assessment is dated {model.risk.assessed_on}, after the check date {today.isoformat()}: "
                "none was recorded on that date"
            )
        return "no risk assessment recorded (model.yml risk_assessment)"
    if pattern == "training.code_commit":
        return "no code commit recorded for this version (version.yml training.code.commit)"
    return None
