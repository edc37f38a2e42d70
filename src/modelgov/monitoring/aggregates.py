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


def coarsen(aggregate: NumericAggregate, edges: np.ndarray, onto: np.ndarray) -> NumericAggregate:
    """The aggregate a scan on ``onto`` would have counted, from one counted on ``edges`` ⊇ ``onto``.

    One scan on the union of several plans' edges serves them all (a seasonal reference plans each
    period on its own reference rows): a value at a dropped edge, or in a cell between edges, falls
    in the coarser cell holding that edge or cell, adding its count, and its value to the sum."""
    edges, onto = np.asarray(edges, dtype="float64"), np.asarray(onto, dtype="float64")
    if len(onto) == len(edges) and np.array_equal(onto, edges):
        return aggregate
    position = np.searchsorted(edges, onto)
    if len(onto) and (position.max() >= len(edges) or not np.array_equal(edges[position], onto)):
        raise ValueError("the coarser edges must be a subset of the edges the aggregate was counted on")
    kept = np.zeros(len(edges), dtype=bool)
    kept[position] = True
    at = np.asarray(aggregate.at, dtype="int64")
    # the coarse cell of each fine cell: how many kept edges lie below it
    below = np.concatenate([[0], np.cumsum(kept)])  # kept edges among edges[:i], i = 0 … m
    cell_of_between = below  # fine between[i] lies above edges[i - 1]
    cell_of_dropped = below[:-1][~kept]  # a dropped edge lies above the kept edges before it
    size = len(onto) + 1
    between = np.zeros(size, dtype="int64")
    np.add.at(between, cell_of_between, np.asarray(aggregate.between, dtype="int64"))
    np.add.at(between, cell_of_dropped, at[~kept])
    sums = np.bincount(cell_of_between, weights=aggregate.between_sum, minlength=size)
    sums += np.bincount(cell_of_dropped, weights=at[~kept] * edges[~kept], minlength=size)
    return NumericAggregate(
        missing=aggregate.missing,
        between=between,
        at=at[position].copy(),
        between_sum=sums,
        minimum=aggregate.minimum,
        maximum=aggregate.maximum,
    )
