"""The model card's ``explanations``: which individual decisions are explained, and how.

Every evaluation run of the model explains a chosen set of records (:mod:`modelgov.analysis.record_explanations`):
the ones named here by id (complaints, appeals, audited cases), the largest errors of each kind and a
small sample of each sensitive group. What the card says about each feature — its wording in reason
codes, and what a counterfactual may change — lives here too, so the same words reach every page.

Only the shape is checked here; ids that no evaluation table holds, and features no run uses, are
reported on the page of the run, where the tables are known.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, StrictBool, model_validator

from modelgov.inputs import Strict, Text

#: Named records per evaluation run, at most (the defaults add a few more; see docs/workspace.md).
MAX_NAMED_RECORDS = 50


def _record_id(value: object) -> object:
    """An id written as a YAML number (``1024``) names the record whose id reads ``1024``."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


RecordId = Annotated[str, BeforeValidator(_record_id), Field(min_length=1, max_length=200)]


class FeatureExplanation(Strict):
    """What the card says about one feature when decisions are explained."""

    label: Text | None = Field(
        None, max_length=200, description="The words a reason code uses for the feature, e.g. `Debt-to-income ratio`."
    )
    immutable: StrictBool = Field(
        False, description="A counterfactual never changes it (e.g. age, sex). Sensitive features are immutable anyway."
    )
    monotone: Literal["increase", "decrease"] | None = Field(
        None, description="A counterfactual may only move it this way (e.g. credit history only grows)."
    )
    range: Annotated[list[float], Field(min_length=2, max_length=2)] | None = Field(
        None, description="`[low, high]`: the values a counterfactual may set it to."
    )
    sensitive: StrictBool = Field(
        False,
        description="Count it as a sensitive feature in reason codes (`explanations.reason_codes.sensitive_features`), "
        "e.g. `age` when age bands are the card's sensitive feature.",
    )

    @model_validator(mode="after")
    def _ordered(self) -> FeatureExplanation:
        if self.range is not None and self.range[0] > self.range[1]:
            raise ValueError(f"range {self.range} has its low end above its high end")
        if self.immutable and (self.monotone or self.range):
            raise ValueError("an immutable feature takes neither `monotone` nor `range`")
        return self


class Explanations(Strict):
    """`explanations` in model.yml."""

    records: list[RecordId] = Field(
        default_factory=list,
        max_length=MAX_NAMED_RECORDS,
        description=f"Ids of records to explain in every run whose table holds them (at most {MAX_NAMED_RECORDS}).",
    )
    id_column: Text | None = Field(
        None, description="The table column holding those ids; defaults to each evaluation's `row_id`."
    )
    adverse: Literal["high", "low"] = Field(
        "high",
        description="Which side of the threshold is the adverse decision: `high` when a score at or above it is "
        "adverse (a probability of default), `low` when a score below it is (a credit score).",
    )
    threshold: float | None = Field(
        None, description="The decision threshold on the score; defaults to the evaluation's `threshold`, else 0.5."
    )
    reason_codes: int = Field(
        4,
        ge=1,
        le=10,
        description="Reason codes given per adverse decision, at most: beyond the strongest, only features whose "
        "push is at least 5 % of the decision's whole push count.",
    )
    largest_errors: int = Field(2, ge=0, le=10, description="Records explained per kind of error, largest first.")
    per_group: int = Field(1, ge=0, le=5, description="Records explained per group of each sensitive feature.")
    what_if_features: int = Field(3, ge=0, le=6, description="What-if curves per record, most influential first.")
    counterfactual_budget: int = Field(
        2000, ge=50, le=20_000, description="Model evaluations a counterfactual search may use per record."
    )
    max_changes: int = Field(3, ge=1, le=5, description="Features a counterfactual may change at most.")
    features: dict[str, FeatureExplanation] = Field(
        default_factory=dict, description="Feature → its wording and the counterfactual's constraints."
    )
