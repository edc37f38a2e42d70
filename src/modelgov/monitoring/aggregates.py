"""The contract between log aggregation (``monitoring.scan``) and drift statistics (``monitoring.drift``).

A log can be far larger than memory, so it is never loaded whole: each window is reduced to these
aggregates, which are small (a few thousand numbers per feature) and are all the drift statistics
need. The reference data (the evaluation table) is small and stays in memory; its values decide
the bin *edges* (:class:`NumericPlan`), and the log is counted on them.

Numeric bins, for sorted unique ``edges`` e_0 < … < e_{m-1}:

    between[0] = #(x < e_0)
    at[i]      = #(x == e_i)                       i = 0 … m-1
    between[i] = #(e_{i-1} < x < e_i)              i = 1 … m-1
    between[m] = #(x > e_{m-1})

and ``between_sum[i]`` is the sum of the values counted in ``between[i]``. From these the current
window's empirical CDF is known exactly at every edge (so the KS statistic against a reference whose
values are all edges is exact), its integral between edges is known exactly (Wasserstein distance),
and any histogram on a subset of the edges (PSI deciles) is a sum of cells.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

#: Categories beyond this many distinct values per window are folded into :data:`OTHER`.
MAX_CATEGORIES = 1000
OTHER = "(other)"


@dataclass(frozen=True)
class NumericPlan:
    column: str
    edges: np.ndarray  # sorted, unique, finite float64


@dataclass(frozen=True)
class CategoricalPlan:
    column: str


@dataclass(frozen=True)
class WindowSpec:
    """Calendar windows (``day``/``week``/``month``, weeks start on Monday, UTC) or ``rows`` per window
    in timestamp order."""

    kind: Literal["day", "week", "month", "rows"] = "week"
    rows: int | None = None


@dataclass
class NumericAggregate:
    missing: int
    between: np.ndarray  # int64, len(edges) + 1
    at: np.ndarray  # int64, len(edges)
    between_sum: np.ndarray  # float64, len(edges) + 1
    minimum: float | None = None
    maximum: float | None = None

    @property
    def count(self) -> int:
        """Non-missing values."""
        return int(self.between.sum() + self.at.sum())


@dataclass
class CategoricalAggregate:
    missing: int
    counts: dict[str, int] = field(default_factory=dict)  # value as text → rows

    @property
    def count(self) -> int:
        return int(sum(self.counts.values()))


@dataclass
class WindowAggregate:
    start: dt.datetime  # inclusive, UTC
    end: dt.datetime  # exclusive, UTC
    rows: int
    numeric: dict[str, NumericAggregate] = field(default_factory=dict)
    categorical: dict[str, CategoricalAggregate] = field(default_factory=dict)
