"""The business side of a model: the objective and KPIs its card declares, and each KPI measured
window by window in production, with closed-form intervals and a comparison with the baseline process.

The KPI value and interval nodes are used again by A/B tests (:mod:`.experiments`), which measure the
same KPIs per arm.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modelgov.manifest.base import Node


class KpiBaseline(Node):
    """The process the model replaced, as the card states it."""

    description: str
    column: str | None = Field(None, description="Measured from this column (a ratio's numerator), window by window.")
    denominator: str | None = Field(None, description="A ratio baseline's denominator column.")
    value: float | None = Field(None, description="A fixed value, on the KPI's scale.")
    source: str | None = Field(None, description="Where a fixed value comes from.")


class Kpi(Node):
    """One business KPI as the card defines it (`business.kpis` in model.yml)."""

    name: str = Field(description="Used in evidence paths: `kpis.<name>.latest`.")
    title: str
    description: str
    aggregation: Literal["mean", "sum", "rate", "ratio"]
    columns: list[str] = Field(description="`[column]`, or `[numerator, denominator]` for a ratio.")
    table: Literal["log", "outcomes"] = Field(description="The production log, or the outcomes joined to it by id.")
    direction: Literal["higher", "lower"]
    target: float
    unit: Literal["number", "percent", "currency"] = "number"
    symbol: str | None = None
    decimals: int | None = None
    baseline: KpiBaseline | None = None


class Business(Node):
    """The business objective a model serves and its KPIs."""

    objective: str
    kpis: list[Kpi] = Field(default_factory=list)


# --------------------------------------------------------------------------- measured


class KpiInterval(Node):
    """An interval computed in closed form from a window's sufficient statistics."""

    low: float | None
    high: float | None
    level: float


class KpiValue(Node):
    """A KPI (or its baseline) in one window."""

    value: float | None = Field(description="None when no record holds a value.")
    interval: KpiInterval | None = Field(None, description="None with fewer than two values (one for a rate).")
    stderr: float | None = Field(None, description="Standard error of the value, as the interval uses it.")
    count: int = Field(description="Records whose value counted (for a ratio: both columns present).")
    missing: int = Field(0, description="Records in scope whose value is missing (NULL, NaN, ±inf).")


class KpiWindow(Node):
    start: str
    end: str
    rows: int = Field(description="Records of the log in the window.")
    outcome_rows: int | None = Field(None, description="KPIs on the outcomes: records whose outcome has arrived.")
    status: Literal["measured", "no records", "no outcomes yet", "no values"]
    kpi: KpiValue | None = None
    baseline: KpiValue | None = None
    meets_target: bool | None = Field(None, description="The value is on the right side of the target.")
    against_baseline: Literal["better", "worse", "no clear difference"] | None = Field(
        None, description="The difference from the baseline, judged by its interval (None without a baseline)."
    )
    difference: float | None = Field(None, description="KPI minus baseline.")
    difference_interval: KpiInterval | None = None


class KpiSeries(Node):
    """One KPI of the card measured over a version's monitoring windows."""

    name: str
    method: str = Field(description="How the value and its interval are computed.")
    baseline_method: str | None = Field(None, description="How the KPI is compared with its baseline.")
    windows: list[KpiWindow]
    latest: str | None = Field(None, description="Start of the latest window with a value.")
    latest_value: float | None = None
    meets_target: bool | None = Field(None, description="In the latest window with a value.")
    windows_missing_target: int = Field(
        0, description="Consecutive windows with a value, up to the latest, that miss the target."
    )
