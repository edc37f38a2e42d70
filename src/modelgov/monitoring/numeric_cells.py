"""The numeric pass of the log scan: each value put in its cell of the plan's edges, in numpy.

DuckDB streams Arrow record batches of the window key, the timestamp and the numeric features
(:func:`stream_cells`); numpy puts each value in its cell (a binary search on the edges,
:class:`Locator`) and ``bincount`` adds the counts and sums per window, two features at a time on
two threads. Python holds one batch and the running counts (windows × features × edges), never the
log. Kept apart from :mod:`.scan`, which plans the query and assembles the windows, because this is
the hot loop, measured on its own (``benchmarks/scan_benchmark.py``; the numbers are in
:mod:`.scan`'s docstring).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import duckdb
import numpy as np

from .aggregates import NumericAggregate, NumericPlan
from .logsource import q


class Locator:
    """``np.searchsorted(edges, x, 'left')`` for finite ``x``, about twice as fast on edges spread
    over their range (quantiles of most features): a lookup table over ``PER_EDGE × len(edges)``
    equal-width cells of [e_0, e_(m-1)] gives, for each value, a range of a few candidate positions,
    resolved by ``STEPS`` comparisons; values whose range is wider fall back to ``searchsorted``.

    The table is widened by one cell on each side, so rounding in ``(x - e_0) × scale`` (far below a
    cell's width, which is checked) cannot put a value outside its range. Where most edges sit in a
    few cells (heavy tails: lognormal, an outlier edge), the table would not help, and plain
    ``searchsorted`` is used. Non-finite values get an arbitrary position; callers mask them."""

    PER_EDGE = 16
    STEPS = 2
    MIN_EDGES = 16

    def __init__(self, edges: np.ndarray):
        self.edges = np.asarray(edges, dtype="float64")
        m = len(self.edges)
        self.padded = np.concatenate([self.edges, np.full(self.STEPS + 1, np.inf)])
        self.table = False
        if m <= self.MIN_EDGES:
            return
        lo, hi = float(self.edges[0]), float(self.edges[-1])
        cells = self.PER_EDGE * m
        width = (hi - lo) / cells
        if not (np.isfinite(width) and width > 2.0**-40 * max(abs(lo), abs(hi))):
            return
        grid = lo + np.arange(cells + 1) * width
        lut = np.concatenate([np.searchsorted(self.edges, grid, "left"), [m, m]])
        g = np.arange(cells)
        self.low = lut[np.maximum(g - 1, 0)].astype(np.intp)
        self.high = lut[np.minimum(g + 2, cells + 1)].astype(np.intp)
        self.origin, self.scale, self.last = lo, 1.0 / width, cells - 1
        own = self._cell(self.edges)
        self.table = bool(np.mean(self.high[own] - self.low[own] > self.STEPS) < 0.1)

    def _cell(self, x: np.ndarray) -> np.ndarray:
        return np.fmin(np.fmax((x - self.origin) * self.scale, 0.0), self.last).astype(np.intp)

    def left(self, x: np.ndarray) -> np.ndarray:
        if not self.table:
            return np.searchsorted(self.edges, x, "left")
        cell = self._cell(x)
        low = self.low[cell]
        index = low.copy()
        for k in range(self.STEPS):
            index += self.padded[low + k] < x
        far = np.flatnonzero(self.high[cell] - low > self.STEPS)
        if len(far):
            index[far] = np.searchsorted(self.edges, x[far], "left")
        return index


@dataclass
class _Numeric:
    """Running counts of one feature in one window: interleaved cells (between[0], at[0], between[1],
    …, between[m]) and a last slot for missing values, and the sums of the between cells. Kept the
    size of the result (3m + 3 numbers), since every window's counts stay until the log is read."""

    counts: np.ndarray
    sums: np.ndarray
    low: float = np.inf
    high: float = -np.inf

    def aggregate(self) -> NumericAggregate:
        m = len(self.sums) - 1
        finite = self.low <= self.high
        return NumericAggregate(
            missing=int(self.counts[-1]),
            between=self.counts[0 : 2 * m + 1 : 2].copy(),
            at=self.counts[1 : 2 * m : 2].copy(),
            between_sum=self.sums,
            minimum=float(self.low) if finite else None,
            maximum=float(self.high) if finite else None,
        )


@dataclass
class WindowCells:
    rows: int = 0
    first: int = np.iinfo(np.int64).max  # timestamps, epoch µs
    last: int = np.iinfo(np.int64).min
    numeric: dict[str, _Numeric] = field(default_factory=dict)


def _cells(x: np.ndarray, locator: Locator, inverse: np.ndarray | None, keys: int, groups) -> tuple:
    """Counts per (window, cell) of one batch of one feature, sums per (window, between cell), and
    the minimum and maximum finite value per window."""
    m = len(locator.edges)
    width = 2 * m + 2
    finite = np.isfinite(x)
    index = locator.left(x)
    cell = 2 * index + (locator.padded[index] == x)
    cell[~finite] = width - 1
    if inverse is not None:
        cell += inverse * width
    counts = np.bincount(cell, minlength=keys * width).reshape(keys, width)
    sums = np.bincount(cell, weights=np.where(finite, x, 0.0), minlength=keys * width).reshape(keys, width)[:, 0:-1:2]
    clean = np.where(finite, x, np.nan)
    if groups is None:
        low, high = np.fmin.reduce(clean, keepdims=True), np.fmax.reduce(clean, keepdims=True)
    else:
        order, starts = groups
        clean = clean[order]
        low, high = np.fmin.reduceat(clean, starts), np.fmax.reduceat(clean, starts)
    return counts, sums, low, high


def stream_cells(
    con: duckdb.DuckDBPyConnection, plans: Sequence[NumericPlan], workers: int, batch_rows: int
) -> tuple[dict[int, WindowCells], bool]:
    """One pass over ``wlog``: rows, first/last timestamp and numeric cells per window key. Stops at
    the first record without a window (returns ``True``: a timestamp problem)."""
    locators = {p.column: Locator(p.edges) for p in plans}
    columns = ", ".join(["__w", "__t", *(q(p.column) for p in plans)])
    reader = con.sql(f"SELECT {columns} FROM wlog").to_arrow_reader(batch_rows)
    windows: dict[int, WindowCells] = {}
    with ThreadPoolExecutor(max_workers=workers) if workers > 1 and len(plans) > 1 else _Inline() as pool:
        for batch in reader:
            if batch.num_rows == 0:
                continue
            if batch.column(0).null_count:
                return windows, True
            w = batch.column(0).to_numpy()
            t = batch.column(1).to_numpy()
            if w[0] == w[-1] and (w == w[0]).all():
                keys, inverse, groups = w[:1], None, None
                sizes = np.array([len(w)])
                firsts, lasts = t.min(keepdims=True), t.max(keepdims=True)
            else:
                keys, inverse = np.unique(w, return_inverse=True)
                order = np.argsort(inverse, kind="stable")
                sizes = np.bincount(inverse, minlength=len(keys))
                starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
                groups = (order, starts)
                firsts, lasts = np.minimum.reduceat(t[order], starts), np.maximum.reduceat(t[order], starts)
            states = [windows.setdefault(int(k), WindowCells()) for k in keys]
            for state, size, first, last in zip(states, sizes, firsts, lasts, strict=True):
                state.rows += int(size)
                state.first, state.last = min(state.first, int(first)), max(state.last, int(last))

            def work(i: int, batch=batch, inverse=inverse, keys=keys, groups=groups):
                plan = plans[i]
                x = batch.column(i + 2).to_numpy(zero_copy_only=False).astype("float64", copy=False)
                return _cells(x, locators[plan.column], inverse, len(keys), groups)

            for plan, (counts, sums, low, high) in zip(plans, pool.map(work, range(len(plans))), strict=True):
                for j, state in enumerate(states):
                    acc = state.numeric.get(plan.column)
                    if acc is None:
                        acc = state.numeric[plan.column] = _Numeric(
                            np.zeros(counts.shape[1], "int64"), np.zeros(sums.shape[1])
                        )
                    acc.counts += counts[j]
                    acc.sums += sums[j]
                    if not np.isnan(low[j]):
                        acc.low, acc.high = min(acc.low, float(low[j])), max(acc.high, float(high[j]))
    return windows, False


class _Inline:
    """A stand-in for a thread pool when one thread will do."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None

    def map(self, fn, items):
        return map(fn, items)
