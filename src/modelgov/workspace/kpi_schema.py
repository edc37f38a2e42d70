"""The model card's business case: the objective a model serves and the KPIs that say whether it does.

A model can score well and still fail its purpose (a churn model whose flagged customers leave all
the same), so the card states, in business terms, what should move: each KPI is a column of the
production log (or of the outcomes joined to it by id), aggregated per monitoring window, with a
direction, a target and, optionally, the process the model replaced as a baseline.

Only the shape is checked here; whether the columns exist is checked by the loader against each
monitored version's log and outcome table (:mod:`.kpi_checks`), where their columns are known.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from modelgov.inputs import Strict, Text

#: A KPI's name is one segment of an evidence path (``kpis.<name>.latest``): no dots.
KPI_NAME = r"^[a-z0-9][a-z0-9_-]*$"
KpiName = Annotated[str, StringConstraints(pattern=KPI_NAME)]

Aggregation = Literal["mean", "sum", "rate", "ratio"]


class KpiDefinition(Strict):
    """How one window's records become the KPI's value."""

    aggregation: Aggregation = Field(
        description="`mean` of a column; `sum` of a column; `rate`: the share of records whose column is true "
        "(1/0 or true/false); `ratio`: the sum of `numerator` divided by the sum of `denominator`."
    )
    column: Text | None = Field(None, description="The column aggregated (`mean`, `sum`, `rate`).")
    numerator: Text | None = Field(None, description="`ratio`: the column summed above the line.")
    denominator: Text | None = Field(None, description="`ratio`: the column summed below the line.")
    table: Literal["log", "outcomes"] = Field(
        "log",
        description="`log`: a column of the production log; `outcomes`: a column of the version's ground-truth "
        "table (`monitoring.ground_truth`), joined to the log by id, so only records whose outcome arrived count.",
    )

    @model_validator(mode="after")
    def _columns(self) -> KpiDefinition:
        if self.aggregation == "ratio":
            if self.numerator is None or self.denominator is None:
                missing = " and ".join(k for k in ("numerator", "denominator") if getattr(self, k) is None)
                raise ValueError(f"a ratio needs {missing}: the columns whose sums are divided")
            if self.column is not None:
                raise ValueError("a ratio is numerator ÷ denominator: leave out column")
        else:
            if self.column is None:
                raise ValueError(f"a {self.aggregation} needs column: the column it aggregates")
            if self.numerator is not None or self.denominator is not None:
                raise ValueError(f"numerator and denominator belong to a ratio, not a {self.aggregation}")
        return self

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns read: ``(column,)`` or ``(numerator, denominator)``."""
        if self.aggregation == "ratio":
            assert self.numerator is not None and self.denominator is not None
            return (self.numerator, self.denominator)
        assert self.column is not None
        return (self.column,)


class KpiBaseline(Strict):
    """The process the model replaced: its own column of the same table, aggregated the same way,
    or a fixed value with where it comes from."""

    description: Text = Field(description="What the baseline is, e.g. `the rule-based scorecard used until 2026`.")
    column: Text | None = Field(
        None,
        description="The baseline's column in the same table as the KPI (for a ratio, its numerator). Records the "
        "baseline did not handle hold no value there and are left out of it.",
    )
    denominator: Text | None = Field(
        None, description="A ratio's baseline denominator, when it differs from the KPI's (default: the KPI's)."
    )
    value: float | None = Field(None, description="A fixed baseline value, on the KPI's scale.")
    source: Text | None = Field(None, description="Where a fixed value comes from (a report, a period).")

    @model_validator(mode="after")
    def _one(self) -> KpiBaseline:
        if (self.column is None) == (self.value is None):
            raise ValueError("set exactly one of column (measured beside the KPI) or value (a fixed figure)")
        if self.value is not None and self.source is None:
            raise ValueError("a fixed baseline value needs source: where the figure comes from")
        if self.value is not None and self.denominator is not None:
            raise ValueError("denominator belongs to a baseline measured from columns, not to a fixed value")
        return self


class Kpi(Strict):
    """One key performance indicator of the business objective."""

    name: KpiName = Field(
        description="Short name, used in evidence paths (`kpis.<name>.latest`): lower-case letters, digits, `_` "
        "and `-`."
    )
    title: Text | None = Field(None, description="How pages name it, e.g. `Fraud losses`. Default: the name.")
    description: Text = Field(description="What it measures, in plain words.")
    definition: KpiDefinition
    direction: Literal["higher", "lower"] = Field(description="Which way is better.")
    target: float = Field(description="The value to reach, on the KPI's scale (a rate of 2% is 0.02).")
    unit: Literal["number", "percent", "currency"] = Field(
        "number", description="How values are shown: a plain number, a percentage of 1, or an amount of `symbol`."
    )
    symbol: Text | None = Field(None, description="The currency symbol or code of a `currency` KPI, e.g. `€`.")
    decimals: int | None = Field(
        None, ge=0, le=6, description="Decimals shown (default: 2 for percentages and amounts, 3 significant digits)."
    )
    baseline: KpiBaseline | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Kpi:
        if self.unit == "currency" and self.symbol is None:
            raise ValueError("a currency KPI needs symbol, e.g. € or USD")
        if self.unit != "currency" and self.symbol is not None:
            raise ValueError("symbol is for unit: currency")
        if self.aggregation == "rate" and not 0 <= self.target <= 1:
            raise ValueError(f"target {self.target} is not a share between 0 and 1, as a rate is (2% is 0.02)")
        if self.baseline is not None and self.baseline.denominator is not None and self.aggregation != "ratio":
            raise ValueError("baseline.denominator belongs to a ratio KPI")
        return self

    @property
    def aggregation(self) -> str:
        return self.definition.aggregation

    @property
    def label(self) -> str:
        return self.title or self.name


class Business(Strict):
    """Why the model exists, in business terms, and the KPIs that show whether it delivers."""

    objective: Text = Field(description="The business objective the model serves (Markdown).")
    kpis: list[Kpi] = Field(
        default_factory=list, description="Measured per monitoring window of each monitored version."
    )

    @model_validator(mode="after")
    def _unique(self) -> Business:
        seen: set[str] = set()
        for kpi in self.kpis:
            if kpi.name in seen:
                raise ValueError(f"two KPIs are named {kpi.name!r}; names must be unique")
            seen.add(kpi.name)
        return self


__all__ = ["KPI_NAME", "Business", "Kpi", "KpiBaseline", "KpiDefinition"]
