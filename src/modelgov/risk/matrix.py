"""A risk assessment rated on the organisation's risk matrix: each risk's severity, the model's
overall severity (the worst risk's, and which risks set it), the tier that severity implies, whether
the declared tier covers it, and when the next assessment is due.

Pure functions of the workspace's declarations (no data is read), so the records stage calls them
on every build. The loader has already checked that every probability and impact is a level of the
matrix and that the tiers exist (:mod:`modelgov.workspace.risk_checks`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from modelgov import manifest
from modelgov.workspace.risk_schema import DEFAULT_BANDS, REQUIRED_RISKS, RiskAssessment, RiskMatrixSpec


def rated_matrix(spec: RiskMatrixSpec | None) -> manifest.RiskMatrix:
    """The matrix written out cell by cell: each (probability, impact) pair's severity level, from the
    score bands (score = probability rank × impact rank, ranks from 1) or from the table as given."""
    matrix = spec or RiskMatrixSpec()
    scores: list[list[int]] | None = None
    if matrix.table is not None:
        cells = [list(matrix.table[p]) for p in matrix.probability]
        bands = None
    else:
        bands = dict(matrix.bands if matrix.bands is not None else DEFAULT_BANDS)
        scores = [[(p + 1) * (i + 1) for i in range(len(matrix.impact))] for p in range(len(matrix.probability))]
        cells = [[_band(score, bands) for score in row] for row in scores]
    return manifest.RiskMatrix(
        probability=list(matrix.probability),
        impact=list(matrix.impact),
        levels=list(matrix.levels),
        cells=cells,
        scores=scores,
        bands=bands,
        tiers=dict(matrix.tiers),
        reassess_every=dict(matrix.reassess_every),
        default=spec is None,
    )


def _band(score: int, bands: dict[str, int]) -> str:
    """The first level whose highest score is at least ``score`` (bands run low to high)."""
    for level, highest in bands.items():
        if score <= highest:
            return level
    return list(bands)[-1]  # unreachable: the schema makes the last band reach the top score


def severity(matrix: manifest.RiskMatrix, probability: str, impact: str) -> tuple[str, int | None]:
    """(level, score) of one cell; the score is None for a matrix written as a table."""
    p, i = matrix.probability.index(probability), matrix.impact.index(impact)
    return matrix.cells[p][i], (matrix.scores[p][i] if matrix.scores is not None else None)


def due_date(assessed_on: dt.date, days: int) -> dt.date:
    """The day the next assessment is due. It is overdue from the day after."""
    return assessed_on + dt.timedelta(days=days)


def assess(
    assessment: RiskAssessment, matrix: manifest.RiskMatrix, declared_tier: str, tier_order: Sequence[str]
) -> manifest.RiskAssessment:
    """Rate each risk, take the worst as the model's severity, and compare the tier it implies with
    ``declared_tier`` on ``tier_order`` (governance.yml's risk tiers, lowest first). The next
    assessment falls due after the interval of the higher of the two tiers: a model declared above
    its implied tier is governed, and reassessed, at the tier it was declared."""
    rated = []
    for name, risk in assessment.risks.items():
        level, score = severity(matrix, risk.probability, risk.impact)
        rated.append(
            manifest.AssessedRisk(
                name=name,
                title=risk.title or REQUIRED_RISKS.get(name) or name.replace("_", " ").capitalize(),
                probability=risk.probability,
                impact=risk.impact,
                severity=level,
                severity_rank=matrix.levels.index(level) + 1,
                score=score,
                note=risk.note,
            )
        )
    worst = max(r.severity_rank for r in rated)
    level = matrix.levels[worst - 1]
    implied = matrix.tiers[level]
    rank = {tier: position for position, tier in enumerate(tier_order)}
    met = rank[declared_tier] >= rank[implied]
    reassess_tier = declared_tier if met else implied
    days = matrix.reassess_every[reassess_tier]
    return manifest.RiskAssessment(
        assessed_by=assessment.assessed_by,
        assessed_on=assessment.assessed_on.isoformat(),
        risks=rated,
        severity=level,
        severity_rank=worst,
        set_by=[r.name for r in rated if r.severity_rank == worst],
        implied_tier=implied,
        declared_tier=declared_tier,
        implied_tier_met=met,
        reassess_tier=reassess_tier,
        reassess_days=days,
        due=due_date(assessment.assessed_on, days).isoformat(),
    )
