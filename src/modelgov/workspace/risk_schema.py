"""Risk assessment: the organisation's risk matrix (governance.yml ``risk_matrix``) and each model's
assessment against it (model.yml ``risk_assessment``).

A risk tier written by hand says what the team believes; an assessment says why. Each adverse event
(the model unavailable, a bad prediction, accuracy or fairness decaying, the skills to maintain it
lost, and any the organisation adds) gets a probability and an impact on the matrix's scales; the
matrix turns the pair into a severity level, and the worst level implies the tier the model should
be governed at (:mod:`modelgov.risk.matrix`).

Only the shape is checked here. Whether a probability or impact is a level of the matrix, whether
the four named risks are all there and whether the tiers exist is checked by the loader
(:mod:`.risk_checks`), which knows both files and the line of every key.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Annotated

from pydantic import Field, PositiveInt, StringConstraints, model_validator

from modelgov.inputs import Strict, Text

#: A risk's name is one segment of an evidence path (``risk.risks.<name>.severity``): no dots.
RISK_NAME = r"^[a-z0-9][a-z0-9_-]*$"
RiskName = Annotated[str, StringConstraints(pattern=RISK_NAME)]

#: The adverse events every assessment covers, with how pages name them.
REQUIRED_RISKS: dict[str, str] = {
    "unavailable": "The model is unavailable",
    "bad_prediction": "A bad prediction is acted on",
    "decay": "Accuracy or fairness decays over time",
    "skills_lost": "The skills to maintain the model are lost",
}

DEFAULT_PROBABILITY = ("rare", "unlikely", "possible", "likely", "almost_certain")
DEFAULT_IMPACT = ("negligible", "minor", "moderate", "major", "severe")
DEFAULT_LEVELS = ("low", "medium", "high", "critical")
#: Score = probability rank × impact rank (1 to 5 each); each level's highest score.
DEFAULT_BANDS = {"low": 4, "medium": 9, "high": 16, "critical": 25}
DEFAULT_TIERS = {"low": "low", "medium": "medium", "high": "high", "critical": "high"}
DEFAULT_REASSESS_DAYS = {"low": 730, "medium": 365, "high": 180}


class RiskMatrixSpec(Strict):
    """governance.yml ``risk_matrix``: the scales, how they combine into a severity level, the tier
    each level implies and how often each tier is reassessed. Every key has a default: a 5 × 5
    matrix scored probability rank × impact rank, banded low / medium / high / critical."""

    probability: list[Text] = Field(
        default_factory=lambda: list(DEFAULT_PROBABILITY), description="Probability levels, least likely first."
    )
    impact: list[Text] = Field(
        default_factory=lambda: list(DEFAULT_IMPACT), description="Impact levels, mildest first."
    )
    levels: list[Text] = Field(
        default_factory=lambda: list(DEFAULT_LEVELS), description="Severity levels, least severe first."
    )
    bands: dict[str, PositiveInt] | None = Field(
        None,
        description="Severity level → the highest score it covers, where score = probability rank × impact rank "
        "(ranks from 1). Default (with the default scales): low ≤ 4, medium ≤ 9, high ≤ 16, critical ≤ 25. "
        "Give `bands` or `table`, not both.",
    )
    table: dict[str, list[Text]] | None = Field(
        None,
        description="Probability level → the severity level for each impact level, in the order of `impact`: the "
        "matrix written out cell by cell, for an organisation whose matrix is not a product of ranks.",
    )
    tiers: dict[str, Text] = Field(
        default_factory=lambda: dict(DEFAULT_TIERS),
        description="Severity level → the risk tier (an id of `risk_tiers`) it implies. Default: low → low, "
        "medium → medium, high and critical → high.",
    )
    reassess_every: dict[str, PositiveInt] = Field(
        default_factory=lambda: dict(DEFAULT_REASSESS_DAYS),
        description="Risk tier → days from an assessment to the next one. Default: low 730, medium 365, high 180.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> RiskMatrixSpec:
        for key in ("probability", "impact", "levels"):
            values = getattr(self, key)
            if len(set(values)) != len(values):
                raise ValueError(f"{key} lists a level twice")
            if not values:
                raise ValueError(f"{key} needs at least one level")
        if self.bands is not None and self.table is not None:
            raise ValueError("give bands or table, not both")
        default_scales = (tuple(self.probability), tuple(self.impact), tuple(self.levels)) == (
            DEFAULT_PROBABILITY,
            DEFAULT_IMPACT,
            DEFAULT_LEVELS,
        )
        if self.bands is None and self.table is None and not default_scales:
            raise ValueError(
                "the default bands fit the default 5 × 5 scales and four levels: with scales or levels of "
                "your own, set bands (level → highest score) or table (the cells)"
            )
        if self.bands is not None:
            if list(self.bands) != list(self.levels):
                raise ValueError(f"bands: give each level once, in the order of levels ({', '.join(self.levels)})")
            highs = list(self.bands.values())
            if any(b <= a for a, b in itertools.pairwise(highs)):
                raise ValueError("bands: each level's highest score must be above the previous level's")
            top = len(self.probability) * len(self.impact)
            if highs[-1] < top:
                raise ValueError(f"bands: the last level must reach the highest score, {top}")
        if self.table is not None:
            if set(self.table) != set(self.probability):
                missing = [p for p in self.probability if p not in self.table]
                extra = [p for p in self.table if p not in self.probability]
                raise ValueError(
                    "table: one row per probability level"
                    + (f"; missing {', '.join(missing)}" if missing else "")
                    + (f"; not a probability level: {', '.join(extra)}" if extra else "")
                )
            for row, cells in self.table.items():
                if len(cells) != len(self.impact):
                    raise ValueError(f"table.{row}: one level per impact level ({len(self.impact)}), not {len(cells)}")
                unknown = [c for c in cells if c not in self.levels]
                if unknown:
                    raise ValueError(f"table.{row}: {', '.join(map(repr, unknown))} is not one of levels")
        missing_levels = [level for level in self.levels if level not in self.tiers]
        if missing_levels or set(self.tiers) - set(self.levels):
            extra = [level for level in self.tiers if level not in self.levels]
            raise ValueError(
                "tiers: map every severity level to a risk tier"
                + (f"; missing {', '.join(missing_levels)}" if missing_levels else "")
                + (f"; not a level: {', '.join(extra)}" if extra else "")
            )
        return self


class Risk(Strict):
    """One adverse event: how likely, how bad, and why the assessor thinks so."""

    probability: Text = Field(description="A probability level of governance.yml's `risk_matrix`.")
    impact: Text = Field(description="An impact level of governance.yml's `risk_matrix`.")
    title: str | None = Field(None, description="How pages name a risk of the organisation's own (default: its key).")
    note: str | None = Field(None, description="The reasoning, and what keeps the risk where it is.")


class RiskAssessment(Strict):
    """model.yml ``risk_assessment``: who assessed the model's risks, when, and what they found."""

    assessed_by: Text = Field(description="Who assessed (name and function).")
    assessed_on: dt.date = Field(description="When; the next assessment falls due `reassess_every` days later.")
    risks: dict[RiskName, Risk] = Field(
        description="Risk name → probability and impact. `unavailable`, `bad_prediction`, `decay` and `skills_lost` "
        "are required; add the organisation's own under names of lower-case letters, digits, `_` and `-`."
    )
