"""``models/<model-id>/model.yml``: the model card (Mitchell et al., 2019), one per model across all
its versions — owner, task, intended use, factors, metrics, sensitive features and the groups to
compare, and the optional sections (business KPIs, bias audit, risk assessment, explanations) whose
models live in their own ``*_schema`` modules.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import BeforeValidator, Field, model_validator

from modelgov.feature_names import MAX_GROUPS
from modelgov.inputs import Strict, Tag, Text
from modelgov.workspace.aedt_schema import EmploymentDecisionTool
from modelgov.workspace.explanation_schema import Explanations
from modelgov.workspace.kpi_schema import Business
from modelgov.workspace.risk_schema import RiskAssessment


class Task(StrEnum):
    binary_classification = "binary_classification"
    multiclass_classification = "multiclass_classification"
    regression = "regression"

    @property
    def is_classification(self) -> bool:
        return self is not Task.regression


class Owner(Strict):
    name: Text
    email: str | None = None
    team: str | None = None


class IntendedUse(Strict):
    """Mitchell et al. (2019), 'Intended Use'."""

    primary_uses: Text = Field(description="What the model is for.")
    primary_users: Text = Field(description="Who uses its outputs.")
    out_of_scope: Text = Field(description="Uses the model must not be put to.")


class Factors(Strict):
    """Mitchell et al. (2019), 'Factors': groups and conditions that can change performance."""

    relevant: Text = Field(description="Factors that could change the model's behaviour.")
    evaluation: Text = Field(description="Which of them the evaluation covers, and why.")


class MetricsRationale(Strict):
    """Mitchell et al. (2019), 'Metrics': why these measures and this threshold."""

    performance_measures: Text
    decision_threshold: str | None = None
    variation_approaches: str | None = Field(
        None, description="How uncertainty is measured (e.g. bootstrap intervals)."
    )


def _group_name(value: object) -> object:
    """A group written as a YAML number (``18``, ``2.0``) names the group the analysis shows as
    ``18`` / ``2``; true/false stay refused (a group is data, not a switch)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(int(value)) if float(value).is_integer() else str(value)
    return value


GroupName = Annotated[str, BeforeValidator(_group_name), Field(min_length=1)]


class GroupComparisonSpec(Strict):
    """Groups of one sensitive feature to compare by name, beside the summaries over all groups."""

    reference: GroupName | None = Field(
        None, description="A group every other group is compared with, e.g. the largest or the most favoured."
    )
    pairs: list[Annotated[list[GroupName], Field(min_length=2, max_length=2)]] = Field(
        default_factory=list,
        max_length=MAX_GROUPS,
        description="Pairs `[group, reference]` to compare, e.g. `[[African-American, Caucasian]]`; at most "
        f"{MAX_GROUPS}, as many as a reference group gives.",
    )

    @model_validator(mode="after")
    def _something(self) -> GroupComparisonSpec:
        if self.reference is None and not self.pairs:
            raise ValueError("set reference, pairs or both")
        for pair in self.pairs:
            if pair[0] == pair[1]:
                raise ValueError(f"pair {pair} compares a group with itself")
        return self


class ModelCard(Strict):
    """`models/<model-id>/model.yml`: one model across all its versions."""

    name: Text = Field(description="Display name.")
    owner: Owner
    task: Task
    risk_tier: Text = Field(description="One of the ids in governance.yml `risk_tiers`.")
    tags: list[Tag] = Field(
        default_factory=list,
        description="Labels that policies can be scoped by (`applies_to: {tags: [...]}`): ASCII letters, digits, "
        "`.`, `_`, `-`, `:` and `/`, e.g. `credit`, `customer-facing`, `license:apache-2.0`.",
    )
    description: Text = Field(description="Model details: what it predicts and how (Markdown).")
    intended_use: IntendedUse
    factors: Factors
    metrics: MetricsRationale
    ethical_considerations: Text
    caveats: Text = Field(description="Caveats and recommendations.")
    sensitive_features: list[Text] = Field(
        default_factory=list,
        description="Columns of the evaluation tables whose groups are compared for fairness, each named once.",
    )
    intersections: list[list[Text]] = Field(
        default_factory=list,
        description="Combinations of sensitive features analysed together, e.g. `[[sex, age_band]]`; each combination "
        "once (the same features in another order are the same combination).",
    )
    expected_groups: dict[str, Annotated[list[str], Field(max_length=MAX_GROUPS)]] = Field(
        default_factory=dict,
        description="Sensitive feature → the groups it should contain (at most "
        f"{MAX_GROUPS}, the groups a sensitive feature may have); a group missing from the data is reported as absent.",
    )
    group_comparisons: dict[str, GroupComparisonSpec] = Field(
        default_factory=dict,
        description="Sensitive feature → a reference group and/or pairs of groups compared by name; policies read "
        "them as `fairness.<feature>.pairs.<group>.<reference>.<measure>`.",
    )
    licence: str | None = None
    references: list[Text] = Field(default_factory=list)
    business: Business | None = Field(
        None,
        description="The business objective and its KPIs, measured per monitoring window of every monitored version.",
    )
    employment_decision_tool: EmploymentDecisionTool | None = Field(
        None,
        description="The model is an automated employment decision tool (NYC Local Law 144): its bias-audit "
        "summary is computed from each version's most recent evaluation (see docs/bias-audit.md).",
    )
    risk_assessment: RiskAssessment | None = Field(
        None,
        description="Probability and impact of each adverse event, who assessed them and when; rated on "
        "governance.yml's `risk_matrix`.",
    )
    explanations: Explanations | None = Field(
        None,
        description="Individual decisions explained in every evaluation run: records named by id, reason codes, "
        "what-if curves and counterfactuals, and what each feature is called and may change.",
    )
