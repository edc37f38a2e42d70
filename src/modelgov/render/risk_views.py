"""What the risk page and the inventory show of the models' risk assessments, read from the manifest.

The assessment's numbers are the manifest's (:class:`~modelgov.manifest.RiskAssessment`); here they
are ordered for reading (most severe first), placed on the matrix, and dated: whether a
reassessment is overdue is judged on the day the policies were checked (the build's date when no
policy applies), the same day the ``risk.reassessment_overdue`` evidence uses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from modelgov.manifest import AssessedRisk, Manifest, Model, RiskAssessment, RiskMatrix
from modelgov.policy.risk_evidence import model_anchor

__all__ = [
    "RiskRow",
    "as_of",
    "cell_of",
    "days_between",
    "model_anchor",
    "placements",
    "risk_rows",
    "severity_order",
    "unassessed",
]


@dataclass(frozen=True)
class RiskRow:
    model: Model
    risk: RiskAssessment
    overdue: bool
    days_to_due: int
    worst: AssessedRisk  # the risk whose cell places the model on the matrix


def as_of(manifest: Manifest) -> str:
    """The day an assessment's (or an audit's, or a condition's) age is judged on (:meth:`Manifest.check_date`)."""
    return manifest.check_date()


def days_between(earlier: str, later: str) -> int:
    """Days from one ISO date (or timestamp) to another."""
    return (dt.date.fromisoformat(later[:10]) - dt.date.fromisoformat(earlier[:10])).days


def cell_of(matrix: RiskMatrix, risk: RiskAssessment) -> AssessedRisk:
    """The risk that places a model on the matrix: among those at its overall severity, the one with
    the highest score, then the highest impact, then the highest probability, then the first listed."""
    at_worst = [r for r in risk.risks if r.severity_rank == risk.severity_rank]

    def weight(r: AssessedRisk) -> tuple[int, int, int]:
        return (r.score or 0, matrix.impact.index(r.impact), matrix.probability.index(r.probability))

    best = at_worst[0]
    for candidate in at_worst[1:]:
        if weight(candidate) > weight(best):
            best = candidate
    return best


def severity_order(models: list[Model]) -> list[Model]:
    """Most severe first; models without an assessment last; ties keep their order."""
    return sorted(models, key=lambda m: -(m.risk.severity_rank if m.risk is not None else 0))


def risk_rows(manifest: Manifest) -> list[RiskRow]:
    """The assessed models, most severe first (ties in the manifest's order)."""
    if manifest.risk_matrix is None:
        return []
    day = as_of(manifest)
    return [
        RiskRow(
            model=model,
            risk=model.risk,
            overdue=model.risk.overdue_on(day),
            days_to_due=days_between(day, model.risk.due),
            worst=cell_of(manifest.risk_matrix, model.risk),
        )
        for model in severity_order(manifest.models)
        if model.risk is not None
    ]


def unassessed(manifest: Manifest) -> list[Model]:
    return [model for model in manifest.models if model.risk is None]


def placements(manifest: Manifest) -> dict[tuple[int, int], list[Model]]:
    """(probability index, impact index) → the models placed in that cell, most severe first."""
    matrix = manifest.risk_matrix
    cells: dict[tuple[int, int], list[Model]] = {}
    if matrix is None:
        return cells
    for row in risk_rows(manifest):
        key = (matrix.probability.index(row.worst.probability), matrix.impact.index(row.worst.impact))
        cells.setdefault(key, []).append(row.model)
    return cells
