"""A version's A/B test (``experiment`` in version.yml): traffic split between this version (the
challenger) and the champion it names, with the design the test was planned with.

Only the shape is checked here; the loader (:mod:`.experiment_checks`) checks the champion against
the model's versions, the KPI a metric names against the card, and every column against the log's
and the outcome table's headers, each at its key with file and line.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from modelgov.inputs import Strict, Text


class ExperimentOutcomes(Strict):
    """Outcomes that arrive after the request (a customer who stayed, a loan repaid), joined by id."""

    data: Text = Field(description="Table of outcomes, relative to the workspace (CSV, Parquet or JSON Lines).")
    id: Text = Field(description="Column joining an outcome to the experiment log's `id`.")


class ArmValues(Strict):
    """What the arm column holds for each arm, when it is not the version ids."""

    challenger: Text = Field(description="Value of the arm column for requests this version served.")
    champion: Text = Field(description="Value of the arm column for requests the champion served.")


class ExperimentMetric(Strict):
    """The primary metric: a KPI of the card, a rate or mean of a column, or accuracy."""

    kpi: Text | None = Field(
        None,
        description="The name of a KPI of the card (`business.kpis`) whose aggregation is `rate` or `mean`; its "
        "column is read from the experiment's log or outcomes (its `table`), its direction is the KPI's.",
    )
    aggregation: Literal["rate", "mean", "accuracy"] | None = Field(
        None,
        description="Without `kpi`: `rate` (share of true values of `column`), `mean` (of `column`), or `accuracy` "
        "(share of requests whose `prediction` in the log equals the `label` in the outcomes).",
    )
    column: Text | None = Field(None, description="`rate` and `mean`: the column aggregated.")
    table: Literal["log", "outcomes"] = Field(
        "log", description="`rate` and `mean`: where `column` is: the experiment log, or its outcomes joined by id."
    )
    prediction: Text | None = Field(None, description="`accuracy`: the log's column with the served prediction.")
    label: Text | None = Field(None, description="`accuracy`: the outcomes' column with the observed outcome.")
    direction: Literal["higher", "lower"] | None = Field(
        None, description="Which way is better (required for `rate` and `mean`; `accuracy` is higher; a KPI's own)."
    )
    title: Text | None = Field(None, description="How pages name the metric, e.g. `Customers retained`.")
    description: Text | None = Field(
        None,
        description="What the metric measures and when its value is known, in plain words, shown under the test's "
        "design (default for a `kpi`: the KPI's own description).",
    )

    @model_validator(mode="after")
    def _one(self) -> ExperimentMetric:
        if (self.kpi is None) == (self.aggregation is None):
            raise ValueError("set exactly one of kpi (a KPI of the card) or aggregation (rate, mean or accuracy)")
        if self.kpi is not None:
            extra = [k for k in ("column", "prediction", "label", "direction") if getattr(self, k) is not None]
            if extra:
                raise ValueError(f"a KPI brings its own column and direction: leave out {', '.join(extra)}")
        elif self.aggregation == "accuracy":
            if self.prediction is None or self.label is None:
                raise ValueError("accuracy needs prediction (a column of the log) and label (a column of the outcomes)")
            if self.column is not None:
                raise ValueError("accuracy compares prediction with label: leave out column")
            if self.direction == "lower":
                raise ValueError("higher accuracy is better: leave out direction")
        else:
            if self.column is None:
                raise ValueError(f"a {self.aggregation} needs column: the column it aggregates")
            if self.direction is None:
                raise ValueError("say which way is better: direction: higher or lower")
            if self.prediction is not None or self.label is not None:
                raise ValueError(f"prediction and label belong to accuracy, not to a {self.aggregation}")
        return self


class ExperimentDesign(Strict):
    """How the test was planned: when it ends, what effect it must detect, and its error rates."""

    type: Literal["fixed", "sequential"] = Field(
        description="`fixed`: a fixed-horizon test, read once at its planned sample size or end date; "
        "`sequential`: read at any time through the always-valid analysis (a horizon is then optional)."
    )
    sample_size: int | None = Field(
        None, ge=4, description="Planned records with a metric value, both arms together (the horizon)."
    )
    end: dt.date | None = Field(None, description="Planned last day of the test (the horizon), UTC.")
    minimum_detectable_effect: float = Field(
        gt=0,
        description="The smallest difference (challenger − champion, on the metric's scale: 2 points of a rate is "
        "0.02) the test is planned to detect.",
    )
    alpha: float = Field(0.05, gt=0, lt=0.5, description="Two-sided false-positive rate (significance level).")
    power: float = Field(0.8, gt=0.5, lt=1, description="Planned probability of detecting the minimum effect.")
    baseline: float | None = Field(
        None,
        description="The champion's expected value the power was planned on (a rate's share, a mean). Default: the "
        "champion arm's value so far.",
    )
    sd: float | None = Field(
        None,
        gt=0,
        description="A mean's planned standard deviation. Default: the champion arm's so far.",
    )
    mixing: float | None = Field(
        None,
        gt=0,
        description="τ, the standard deviation of the normal mixture of the sequential test over the difference. "
        "Default: the minimum detectable effect.",
    )

    @model_validator(mode="after")
    def _horizon(self) -> ExperimentDesign:
        if self.type == "fixed" and self.sample_size is None and self.end is None:
            raise ValueError("a fixed-horizon test needs its horizon: sample_size (records) or end (a date)")
        return self


class Experiment(Strict):
    """`experiment` of version.yml: an A/B test of this version against the champion it names."""

    name: Text = Field(description="What the test is called on the pages, e.g. `Retention A/B test, autumn 2026`.")
    log: Text = Field(
        description="The experiment log relative to the workspace: a file, a glob or a folder; one record per "
        "request, with the arm that served it."
    )
    timestamp: Text = Field(description="Column with the request's time (ISO 8601 or a native timestamp).")
    id: Text = Field(description="Column with the request id (unique; joins the outcomes).")
    arm: Text = Field(description="Column with the arm that served the request.")
    champion: Text = Field(description="The version this one is tested against (a version of the same model).")
    arm_values: ArmValues | None = Field(
        None, description="What the arm column holds for each arm (default: the two version ids)."
    )
    split: float = Field(
        gt=0, lt=1, description="Planned share of requests served by this version (0.5 for an even split)."
    )
    allocation: Literal["fixed", "adaptive"] = Field(
        "fixed",
        description="`fixed`: the split stays as planned; `adaptive`: a bandit moves traffic between the arms over "
        "time, and `propensity` must be logged.",
    )
    propensity: Text | None = Field(
        None,
        description="Column with each request's probability of being sent to the arm that served it (0 < p ≤ 1); "
        "the arms are then compared with inverse-propensity weights.",
    )
    window: Literal["day", "week"] = Field("day", description="How often the sequential analysis is read.")
    design: ExperimentDesign
    metric: ExperimentMetric
    outcomes: ExperimentOutcomes | None = Field(
        None, description="Outcomes joined to the log by id, for a metric or KPI read from them."
    )

    @model_validator(mode="after")
    def _consistent(self) -> Experiment:
        if self.allocation == "adaptive" and self.propensity is None:
            raise ValueError(
                "an adaptive allocation (a bandit) sends more traffic to the arm doing better, so an unweighted "
                "comparison is biased whenever the metric moves over time; log each request's probability of "
                "its arm and name the column in propensity, or the test cannot be analysed"
            )
        if len({self.timestamp, self.id, self.arm, *([self.propensity] if self.propensity else [])}) < (
            4 if self.propensity else 3
        ):
            raise ValueError("timestamp, id, arm and propensity must be different columns")
        if self.arm_values is not None and self.arm_values.challenger == self.arm_values.champion:
            raise ValueError("arm_values: the two arms need different values")
        return self

    def reads_outcomes(self, kpi_table: str | None = None) -> bool:
        """Whether the primary metric reads the outcomes (``kpi_table``: the named KPI's table)."""
        metric = self.metric
        if metric.kpi is not None:
            return kpi_table == "outcomes"
        return metric.aggregation == "accuracy" or metric.table == "outcomes"


__all__ = ["ArmValues", "Experiment", "ExperimentDesign", "ExperimentMetric", "ExperimentOutcomes"]
