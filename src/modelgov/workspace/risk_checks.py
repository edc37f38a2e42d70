"""The loader's checks of risk assessments against the risk matrix: what spans governance.yml and a
model.yml, so it cannot be a pydantic validator.

A probability or impact that is not a level of the matrix, a missing named risk, an assessment dated
in the future (it would never fall due), and a matrix whose tiers are not governance.yml's are each
reported at the line of their key, with a "did you mean" where a close spelling exists.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelgov.workspace.risk_schema import REQUIRED_RISKS, RiskMatrixSpec
from modelgov.workspace.schema_errors import did_you_mean

if TYPE_CHECKING:
    from modelgov.workspace.governance_schema import Governance
    from modelgov.workspace.load import Loader, ModelEntry


def check_risk(loader: Loader, governance: Governance, models: dict[str, ModelEntry]) -> None:
    """Every model's ``risk_assessment`` against governance.yml's ``risk_matrix`` (or the default)."""
    assessed = [m for m in models.values() if m.card.risk_assessment is not None]
    explicit = governance.risk_matrix is not None
    if not assessed and not explicit:
        return
    matrix = governance.risk_matrix or RiskMatrixSpec()
    _check_matrix_tiers(loader, governance, matrix, explicit)
    for model in assessed:
        _check_assessment(loader, model, matrix)


def _check_matrix_tiers(loader: Loader, governance: Governance, matrix: RiskMatrixSpec, explicit: bool) -> None:
    doc = loader.docs.get("governance.yml")
    if doc is None:
        return
    tier_ids = [tier.id for tier in governance.risk_tiers]
    if not explicit:
        unknown = [t for t in dict.fromkeys(matrix.tiers.values()) if t not in tier_ids]
        lacking = [t for t in tier_ids if t not in matrix.reassess_every]
        if unknown or lacking:
            loader.problems.append(
                doc.problem(
                    ("risk_tiers",),
                    "models have risk assessments, and the default risk matrix implies the tiers low, medium and "
                    f"high, which are not governance.yml's ({', '.join(tier_ids)}): set risk_matrix.tiers (severity "
                    "level → tier) and risk_matrix.reassess_every (tier → days) for your tiers",
                )
            )
        return
    for level, tier in matrix.tiers.items():
        if tier not in tier_ids:
            loader.problems.append(
                doc.problem(
                    ("risk_matrix", "tiers", level),
                    f"unknown risk tier {tier!r}{did_you_mean(tier, tier_ids)} (risk_tiers declares: "
                    f"{', '.join(tier_ids)})",
                )
            )
    for tier in matrix.reassess_every:
        if tier not in tier_ids:
            loader.problems.append(
                doc.problem(
                    ("risk_matrix", "reassess_every", tier),
                    f"unknown risk tier {tier!r}{did_you_mean(tier, tier_ids)} (risk_tiers declares: "
                    f"{', '.join(tier_ids)})",
                )
            )
    lacking = [t for t in tier_ids if t not in matrix.reassess_every]
    if lacking:
        loader.problems.append(
            doc.problem(
                ("risk_matrix", "reassess_every"),
                f"no interval for the tier{'s' if len(lacking) > 1 else ''} {', '.join(lacking)}: every tier needs "
                "the days from one assessment to the next",
            )
        )


def _check_assessment(loader: Loader, model: ModelEntry, matrix: RiskMatrixSpec) -> None:
    doc = loader.docs[model.source]
    assessment = model.card.risk_assessment
    assert assessment is not None
    missing = [name for name in REQUIRED_RISKS if name not in assessment.risks]
    if missing:
        loader.problems.append(
            doc.problem(
                ("risk_assessment", "risks"),
                f"missing {', '.join(missing)}: every assessment rates {', '.join(REQUIRED_RISKS)} "
                "(and may add risks of its own)",
            )
        )
    loader.refuse_future(
        model.source,
        ("risk_assessment", "assessed_on"),
        assessment.assessed_on,
        "an assessment is dated when it is made",
    )
    scales = {"probability": matrix.probability, "impact": matrix.impact}
    for name, risk in assessment.risks.items():
        for key, levels in scales.items():
            value = getattr(risk, key)
            if value not in levels:
                loader.problems.append(
                    doc.problem(
                        ("risk_assessment", "risks", name, key),
                        f"{value!r} is not a {key} level of the risk matrix{did_you_mean(value, levels)} "
                        f"(levels: {', '.join(levels)})",
                    )
                )
