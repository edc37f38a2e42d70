"""What explains a version's predictions: permutation importance, partial dependence, SHAP and error
slices for the model as a whole, and individual decisions explained with reason codes, what-if curves
and counterfactuals.

Apart from :mod:`.evaluation` because it is a stage of its own with its own ways to fail: each part
may be missing with a note saying why (no loadable model, an optional library absent), and the
explained records follow the datasheet's publishing rule (``publish_records``).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelgov.manifest.base import FileRef, Node

# --------------------------------------------------------------------------- the model as a whole


class FeatureImportance(Node):
    feature: str
    mean: float = Field(description="Mean drop in the score when the feature is shuffled.")
    std: float = Field(description="Standard deviation across repeats.")


class PermutationImportance(Node):
    scoring: str = Field(description="scikit-learn scorer name, e.g. `roc_auc`, `r2`.")
    repeats: int
    rows: int
    features: list[FeatureImportance] = Field(description="Most important first.")


class PartialDependence(Node):
    feature: str
    kind: Literal["numeric", "categorical"]
    grid: list[float | str]
    average: list[float] = Field(description="Average prediction at each grid value.")
    ice: list[list[float]] = Field(default_factory=list, description="Individual curves for a seeded sample of rows.")


class ShapDistribution(Node):
    """One feature's SHAP values on a sample of rows: the points of a beeswarm chart."""

    feature: str
    values: list[float]
    colour: list[float | None] = Field(
        default_factory=list, description="Rank (0–1) of each row's own value of the feature; None if not a number."
    )


class ShapSummary(Node):
    explainer: str = Field(description="E.g. `TreeExplainer`, `PermutationExplainer`.")
    rows: int
    mean_abs: dict[str, float] = Field(description="Feature → mean |SHAP value|, most important first.")
    distribution: list[ShapDistribution] = Field(
        default_factory=list, description="Each feature's SHAP values on up to 200 rows, most important first."
    )


class ErrorSlice(Node):
    """A slice of the evaluation data (one or two feature conditions) and its error."""

    conditions: dict[str, str] = Field(description="Feature → value or range defining the slice.")
    count: int
    error: float = Field(description="Error rate (classification) or MAE (regression) in the slice.")
    overall_error: float


# --------------------------------------------------------------------------- individual decisions


class ReasonCode(Node):
    """A feature that pushed one decision toward the adverse outcome, in the card's words."""

    feature: str
    label: str = Field(
        description="The card's wording of the feature (`explanations.features.<f>.label`), else its name."
    )
    attribution: float | None = Field(
        description="Its SHAP value, on the explainer's output scale (signed); None: withheld with the feature's value."
    )


class WhatIf(Node):
    """One record's score as one feature moves over its observed range, the others held (an ICE curve)."""

    feature: str
    label: str
    kind: Literal["numeric", "categorical"]
    grid: list[float | str]
    scores: list[float]
    adverse: list[bool] = Field(description="Whether the decision at each grid value is the adverse one.")
    flips: list[float | str] = Field(
        default_factory=list, description="Grid values where the decision differs from the one at the value before."
    )


class CounterfactualChange(Node):
    feature: str
    label: str
    before: str | None = Field(description="None: withheld (the datasheet does not allow publishing it).")
    after: str | None


class Counterfactual(Node):
    """The nearest change found that flips an adverse decision, within the constraints and the budget."""

    found: bool
    changes: list[CounterfactualChange] = Field(default_factory=list)
    score: float | None = Field(None, description="The score after the changes.")
    distance: float | None = Field(None, description="Sum of |change| / MAD over numeric features, +1 per category.")
    evaluations: int = Field(description="Model evaluations the search used.")
    note: str | None = None


class ExplainedRecord(Node):
    number: int = Field(description="Its place on the page (1, 2, …): how a record without a published id is named.")
    id: str | None = Field(None, description="None when the datasheet does not allow publishing records.")
    selected_because: list[str] = Field(
        description="Why it was explained: named in the card, an error, a group sample."
    )
    inputs: dict[str, str | None] = Field(default_factory=dict, description="Feature → value; None: withheld.")
    score: float
    adverse: bool
    base_value: float
    attributions: dict[str, float | None] = Field(
        description="Feature → SHAP value; base + Σ = the output on `scale`. None: withheld with the feature's value."
    )
    output: float = Field(description="The model's output on the explainer's scale (base + Σ attributions).")
    reason_codes: list[ReasonCode] = Field(default_factory=list)
    what_if: list[WhatIf] = Field(default_factory=list)
    counterfactual: Counterfactual | None = None


class ReasonCodeShare(Node):
    feature: str
    label: str
    count: int = Field(description="Adverse decisions of the group that give this reason code.")
    share: float = Field(description="count ÷ the group's adverse decisions.")


class GroupReasonCodes(Node):
    """Do reason codes differ by group? The most frequent reason codes of each group's adverse decisions."""

    feature: str = Field(description="The sensitive feature.")
    adverse: dict[str, int] = Field(description="Group → adverse decisions in the sample.")
    codes: dict[str, list[ReasonCodeShare]] = Field(description="Group → its most frequent reason codes.")
    differing: list[str] = Field(
        default_factory=list,
        description="Features whose share of reason codes differs by at least 25 points between groups large enough.",
    )


class RecordExplanations(Node):
    """Individual decisions of one evaluation run, explained (``explanations`` in model.yml)."""

    explainer: str
    scale: str = Field(description="What base + Σ attributions equals: `probability`, `log-odds` or `value`.")
    threshold: float
    adverse_side: Literal["high", "low"]
    published: bool = Field(
        description="Whether ids and feature values may be shown (the datasheet's `publish_records`)."
    )
    records: list[ExplainedRecord] = Field(default_factory=list)
    missing_ids: int = Field(0, description="Ids named in the card that this run's table does not hold.")
    sample_rows: int = Field(0, description="Rows the group table and the attribution shares were computed on.")
    groups: list[GroupReasonCodes] = Field(default_factory=list)
    attribution_share: dict[str, float] = Field(
        default_factory=dict, description="Feature → its share of total |attribution| over the sample."
    )
    sensitive_reason_codes: int = Field(0, description="Reason codes in the sample that name a sensitive feature.")
    sensitive_features: list[str] = Field(default_factory=list)
    labels: dict[str, str] = Field(default_factory=dict, description="Feature → the card's wording of it.")
    notes: list[str] = Field(default_factory=list)


class Explainability(Node):
    """What explains the model's predictions. Each part is None with a note when it could not be
    computed (no loadable model, a model that refuses the features, an optional library missing)."""

    model: FileRef | None = None
    permutation_importance: PermutationImportance | None = None
    partial_dependence: list[PartialDependence] = Field(default_factory=list)
    shap: ShapSummary | None = None
    error_slices: list[ErrorSlice] = Field(default_factory=list)
    error_metric: str | None = Field(None, description="`error rate` or `mean absolute error`.")
    notes: list[str] = Field(default_factory=list, description="Why a part is missing, in plain language.")
    precomputed_importance: dict[str, float] = Field(
        default_factory=dict, description="Importances declared in the training metadata (shown when no model)."
    )
    records: RecordExplanations | None = Field(
        None, description="Individual decisions explained (model.yml `explanations`)."
    )
