"""Statistics of one numeric window against the reference, from the window's aggregates.

A window is only known through its counts on the plan's edges and the sums of the values between
them (:mod:`.aggregates`); the reference is known exactly (its sorted values). This module rebuilds
the window as weighted points (:class:`WindowCells`) and computes from them the two statistics that
need order: KS (exact when every distinct reference value is an edge, otherwise within a stated
bound) and Wasserstein (exact in each cell where the two ECDFs do not cross, bounded elsewhere), and
Evidently's binned Jensen–Shannon for numeric features with many values.

Window-independent work is done once per (reference, edges) and kept while the reference lives, so
a log of many windows costs, per window and feature, time proportional to the number of edges, not
to the size of the reference.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.spatial.distance import jensenshannon

from .aggregates import NumericAggregate
from .reference import run_firsts

#: While neither the reference nor the window holds more values than this, ``ks_2samp`` may compute
#: the p-value exactly, so the window is rebuilt value by value for it. Above, scipy uses Smirnov's
#: asymptotic formula (its ``MAX_AUTO_N``), which :func:`ks` applies to the same statistic computed
#: from the weighted points: the same figures to the bit, without materialising and sorting both
#: samples again (a million reference values and a 250,000-record window: 0.34 s → 0.25 s a window,
#: 0.21 s of which is scipy's p-value, ``kstwo.sf``).
KS_MATERIALISE_LIMIT = 10_000


@dataclass(frozen=True)
class WindowCells:
    """A numeric window as weighted points, and the cells between edges.

    Every edge with its ``at`` count is a point; each non-empty cell between edges becomes one point
    at the mean of its values (``between_sum / between``, exact), carrying the cell's count. This keeps
    the window's ECDF exact at every edge and its integral over every cell exact, so:

    * KS: when no reference value lies strictly inside a cell (every distinct reference value is an
      edge), reference and window values keep their order, so D is exactly scipy's, and so is the
      p-value (a function of D and the two sizes). Otherwise both the true and the rebuilt ECDF rise
      monotonically between the same values across a cell, so |ΔD| ≤ max b/n over cells holding
      reference values.
    * Wasserstein, ∫|F_ref − F_cur|: over a cell where the difference keeps its sign the integral
      is |∫(F_ref − F_cur)|, which the mean preserves: always in the outer cells (F_ref is 0 or 1)
      and where F_ref is constant outside [F_cur(lo), F_cur(hi−)]. Elsewhere the error is at most
      (hi − lo)·b/n, less where F_ref is constant (see :func:`wasserstein`); the sum over those
      cells is the reported bound.

    A cell whose values are known exactly (``known``: it holds one value, whose mean is that value,
    or all its values equal the window's minimum or maximum, shown by a sum of count × that extreme)
    adds no error: its point is stacked at the mean, never spread, and it counts in no bound.
    """

    points: np.ndarray  # sorted
    weights: np.ndarray  # int64
    lo: np.ndarray  # per cell (len(edges) + 1), -inf for the first
    hi: np.ndarray  # +inf for the last
    between: np.ndarray
    before: np.ndarray  # window values ≤ lo, per cell
    ref_inside: np.ndarray  # bool: a reference value lies strictly inside the cell
    means_by_cell: np.ndarray  # mean of the window's values in each cell (0 where empty)
    known: np.ndarray  # bool: the cell's values are known exactly (at most one, or all equal to an extreme)


def window_cells(edges: np.ndarray, agg: NumericAggregate, ref: np.ndarray) -> WindowCells:
    """The window as weighted points on ``edges``; see :class:`WindowCells`."""
    if len(agg.at) != len(edges) or len(agg.between) != len(edges) + 1 or len(agg.between_sum) != len(edges) + 1:
        raise ValueError("the aggregate was not counted on this plan's edges")
    at = np.asarray(agg.at, dtype="int64")
    between = np.asarray(agg.between, dtype="int64")
    lo = np.concatenate([[-np.inf], edges])
    hi = np.concatenate([edges, [np.inf]])
    full = between > 0
    means = np.asarray(agg.between_sum, dtype="float64")[full] / between[full]
    # Rounding must not move a mean onto an edge: keep it strictly inside its cell.
    means = np.minimum(np.maximum(means, np.nextafter(lo[full], np.inf)), np.nextafter(hi[full], -np.inf))
    means_by_cell = np.zeros(len(between))
    means_by_cell[full] = means
    points = np.concatenate([edges[at > 0], means])
    weights = np.concatenate([at[at > 0], between[full]])
    order = np.argsort(points, kind="stable")
    below_or_at = np.cumsum(between)[:-1] + np.cumsum(at)  # window values ≤ edges[i]
    before = np.concatenate([[0], below_or_at])
    ref_inside = np.searchsorted(ref, hi, "left") - np.searchsorted(ref, lo, "right") > 0
    known = between <= 1
    sums = np.asarray(agg.between_sum, dtype="float64")
    for extreme in (agg.minimum, agg.maximum):
        if extreme is None or not np.isfinite(extreme) or np.isin(extreme, edges):
            continue
        cell = int(np.searchsorted(edges, extreme, "left"))
        if np.isclose(sums[cell], between[cell] * extreme, rtol=1e-12, atol=0):
            known[cell] = True
    return WindowCells(points[order], weights[order], lo, hi, between, before, ref_inside, means_by_cell, known)


def ks(ref: np.ndarray, cells: WindowCells, n: int) -> tuple[float, float, float]:
    """KS statistic, p-value and the bound on the statistic's error."""
    interior = np.zeros(len(cells.between), dtype=bool)
    interior[1:-1] = True
    inexact = interior & cells.ref_inside & (cells.between > 0) & ~cells.known
    bound = float(cells.between[inexact].max() / n) if inexact.any() else 0.0
    if max(len(ref), n) <= KS_MATERIALISE_LIMIT:
        result = stats.ks_2samp(ref, np.repeat(cells.points, cells.weights))
        return float(result.statistic), float(result.pvalue), bound
    # scipy's own computation, on the weighted points: D from both ECDFs at every value of either
    # sample (the reference's distinct values and the points, each set read in its own order, never
    # merged and sorted again), then (either side holding more than 10,000 values) its asymptotic
    # two-sided p-value, kstwo.sf(D, round(en)).
    cumulative = np.concatenate([[0], np.cumsum(cells.weights)])
    diffs = []
    for values in (run_firsts(ref), cells.points):
        cdf_ref = np.searchsorted(ref, values, "right") / len(ref)
        cdf_cur = cumulative[np.searchsorted(cells.points, values, "right")] / n
        diffs.append(cdf_ref - cdf_cur)
    diff = np.concatenate(diffs)
    d = float(max(diff.max(), np.clip(-diff.min(), 0, 1)))
    m, k = sorted([float(len(ref)), float(n)], reverse=True)
    p = float(np.clip(stats.kstwo.sf(d, np.round(m * k / (m + k))), 0, 1))
    return d, p, bound


#: The reference cut into runs by a feature's edges: window-independent, so computed once per
#: (reference, edges) and reused by every window. Keyed on the reference array's identity and dropped
#: when the array is, so it lives exactly as long as the profile (arrays are not hashable, so not a
#: WeakKeyDictionary). Each entry is a few arrays of the number of edges, never of the reference.
_RUNS: dict[int, dict[bytes, ReferenceRuns]] = {}


@dataclass(frozen=True)
class ReferenceRuns:
    """The sorted reference cut by the edges into 2m + 1 runs: cell 0, edge 0, cell 1, …, cell m.

    Run r holds ``ref[starts[r]:starts[r + 1]]``: for an even r = 2c the values strictly inside cell c,
    for an odd r = 2c + 1 the values equal to ``edges[c]``."""

    starts: np.ndarray  # int64, 2m + 2 entries, the last len(ref)
    cell_count: np.ndarray  # reference values strictly inside each cell (m + 1)
    cell_mean: np.ndarray  # their mean (0 where the cell holds none)
    first: np.ndarray  # each run's first value (0 for an empty run)

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.starts)


def reference_runs(ref: np.ndarray, edges: np.ndarray) -> ReferenceRuns:
    """The runs of ``ref`` on ``edges`` (see :class:`ReferenceRuns`), computed once per pair."""
    by_edges = _RUNS.get(id(ref))
    if by_edges is None:
        by_edges = _RUNS[id(ref)] = {}
        weakref.finalize(ref, _RUNS.pop, id(ref), None)
    key = edges.tobytes()
    if key not in by_edges:
        m = len(edges)
        below, upto = np.searchsorted(ref, edges, "left"), np.searchsorted(ref, edges, "right")
        starts = np.empty(2 * m + 2, dtype=np.int64)
        starts[0], starts[-1] = 0, len(ref)
        starts[1:-1:2], starts[2:-1:2] = below, upto
        lengths = np.diff(starts)
        cell_count = lengths[0::2]
        run_sum = np.bincount(np.repeat(np.arange(2 * m + 1), lengths), weights=ref, minlength=2 * m + 1)
        cell_mean = run_sum[0::2] / np.maximum(cell_count, 1)
        first = np.zeros(2 * m + 1)
        first[lengths > 0] = ref[starts[:-1][lengths > 0]]
        by_edges[key] = ReferenceRuns(starts, cell_count, cell_mean, first)
    return by_edges[key]


#: Within :func:`windows_share_prefix_sums`, each (reference, runs) pair's prefix sums, kept with the
#: two objects (so neither id is reused while the entry lives).
_SHARED_PREFIXES: ContextVar[dict[tuple[int, int], tuple[np.ndarray, ReferenceRuns, np.ndarray]] | None] = ContextVar(
    "modelgov_shared_prefixes", default=None
)


@contextmanager
def windows_share_prefix_sums() -> Iterator[None]:
    """Within the block, the prefix sums Wasserstein needs (one pass over the reference, as large as
    it) are computed once per reference column and edges and shared by every window, then let go.

    The report tests one column against every window at a time (:func:`.spill.loaded`), so this holds
    one column's sums at most; outside such a block they are made per window, and the reference's
    memory is never doubled for the length of a report."""
    token = _SHARED_PREFIXES.set({})
    try:
        yield
    finally:
        _SHARED_PREFIXES.reset(token)


def _run_prefix_sums(ref: np.ndarray, runs: ReferenceRuns) -> np.ndarray:
    """P[i] = Σ_{t < i} (ref[t] − the first value of t's run), len(ref) + 1 entries.

    Differences of P within a run are sums of offsets from the run's first value: small numbers, and
    exactly 0 over values equal to it (a run of ties adds nothing, so costs no rounding)."""
    shared = _SHARED_PREFIXES.get()
    if shared is not None:
        key = (id(ref), id(runs))
        if key not in shared:
            shared[key] = (ref, runs, _prefix_sums(ref, runs))
        return shared[key][2]
    return _prefix_sums(ref, runs)


def _prefix_sums(ref: np.ndarray, runs: ReferenceRuns) -> np.ndarray:
    prefix = np.empty(len(ref) + 1)
    prefix[0] = 0.0
    np.cumsum(ref - np.repeat(runs.first, runs.lengths), out=prefix[1:])
    return prefix


def _spread(ref: np.ndarray, edges: np.ndarray, cells: WindowCells, runs: ReferenceRuns):
    """The window as weighted points, with the values of a cell that holds reference values spread
    like those reference values rather than stacked at their mean.

    Only reference quantiles are edges then (more than :data:`.reference.MAX_EXACT_EDGES` distinct
    values), and a window that has not drifted much is, locally, shaped like the reference. Within
    such a cell the window's b values become the cell's reference values, mixed with a point just
    inside one end so that the mean is still the exact ``between_sum / b``: the ECDF stays exact at the
    edges and its integral over the cell stays exact, so the bound of :class:`WindowCells` still
    holds, while the error measured on real-shaped data drops well below it.

    Returns the points that are not reference values (sorted) with their weights, and the weight each
    run gives every one of its reference values (0 for the runs of values equal to an edge, and for
    cells whose window values stay stacked at their mean)."""
    m = len(edges)
    k, ref_mean = runs.cell_count, runs.cell_mean
    interior = np.zeros(m + 1, dtype=bool)
    interior[1:-1] = True
    shaped = interior & (k > 0) & (cells.between > 0) & ~cells.known
    # Keep the rest: edge points and the stacked means of cells without reference values.
    cell_of_point = np.searchsorted(edges, cells.points, "left")
    on_edge = np.isin(cells.points, edges)
    keep = on_edge | ~shaped[cell_of_point]
    mean = np.zeros(m + 1)
    full = cells.between > 0
    mean[full] = cells.means_by_cell[full]
    up = mean >= ref_mean
    end = np.where(up, np.nextafter(cells.hi, -np.inf), np.nextafter(cells.lo, np.inf))
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(up, (cells.hi - mean) / (cells.hi - ref_mean), (mean - cells.lo) / (ref_mean - cells.lo))
    share = np.clip(np.nan_to_num(share, nan=1.0), 0.0, 1.0)
    per_value = np.zeros(2 * m + 1)
    per_value[0::2] = np.where(shaped, cells.between * share / np.maximum(k, 1), 0.0)
    others = np.concatenate([cells.points[keep], end[shaped]])
    other_weights = np.concatenate([cells.weights[keep].astype("float64"), (cells.between * (1 - share))[shaped]])
    order = np.argsort(others, kind="stable")
    return others[order], other_weights[order], per_value


def merged_distance(
    ref: np.ndarray, runs: ReferenceRuns, per_value: np.ndarray, others: np.ndarray, other_weights: np.ndarray
) -> float:
    """``stats.wasserstein_distance(ref, v, None, w)`` where v is ``ref`` ∪ ``others`` and every
    reference value in run r weighs ``per_value[r]``; in time proportional to the runs and the other
    points, not to the reference.

    As scipy does, the distance is Σ |F_ref(x_p) − F_cur(x_p)| (x_{p+1} − x_p) over the merged sorted
    values x, the other points placed before equal reference values (where neighbouring values are
    equal the step is 0, so only the ECDFs after the last of them matter). The reference is cut into
    segments where nothing changes but the count: inside a run, between two places where other points
    are inserted. Along a segment both ECDFs rise by a fixed step per reference value (1/N and
    w/total), so their difference is linear in the index j and changes sign at most once; on each side
    of that place ∫|·| = |Σ (d₀ + β·u) (ref[j+1] − ref[j])|, and Σ u·(ref[j+1] − ref[j]) over an index
    range is a difference of prefix sums of the reference (summation by parts). The last gap of each
    segment, and the gap after each other point, are added one by one."""
    n_ref = len(ref)
    starts = runs.starts
    run_lengths = np.diff(starts)
    # Insertion places of the other points: before ref[at] (the first reference value ≥ the point).
    at = np.searchsorted(ref, others, "left")
    other_cum = np.concatenate([[0.0], np.cumsum(other_weights)])  # weight of the first i points
    run_before = np.concatenate([[0.0], np.cumsum(per_value * run_lengths)])[:-1]
    total = float(other_cum[-1]) + float(np.dot(per_value, run_lengths))
    if total <= 0 or n_ref == 0:
        return 0.0

    def ref_mass_before(i: np.ndarray) -> np.ndarray:
        """Window weight on reference values with index < i."""
        run = np.searchsorted(starts[:-1], i, "right") - 1
        return run_before[run] + (i - starts[run]) * per_value[run]

    def other_mass_upto(i: np.ndarray) -> np.ndarray:
        """Window weight of the other points inserted at or before index i."""
        return other_cum[np.searchsorted(at, i, "right")]

    # Segments: [seg_start, seg_stop) of reference indices, one run each, split where points go in.
    cuts = np.unique(np.concatenate([starts[:-1], at[at < n_ref]]))
    cuts = cuts[cuts < n_ref]
    seg_start = cuts
    seg_stop = np.append(cuts[1:], n_ref)
    run = np.searchsorted(starts[:-1], seg_start, "right") - 1
    w = per_value[run]
    length = seg_stop - seg_start
    # F_ref − F_cur after reference value seg_start + u: d0 + beta·u.
    d0 = (seg_start + 1) / n_ref - (other_mass_upto(seg_start) + ref_mass_before(seg_start) + w) / total
    beta = 1.0 / n_ref - w / total

    # The one pass over the reference (a few milliseconds for a million values), shared by the windows
    # tested together (windows_share_prefix_sums), never kept for the report.
    prefix = _run_prefix_sums(ref, runs)
    base = runs.first[run]  # each segment's run's first value

    def gap_sum(a: np.ndarray, b: np.ndarray, first: np.ndarray) -> np.ndarray:
        """|Σ_{j=a}^{b−1} (d0 + β(j − first)) (ref[j+1] − ref[j])| for ranges where the sign is fixed."""
        empty = b <= a
        a_, b_ = np.where(empty, 0, a), np.where(empty, 0, b)
        span = ref[b_] - ref[a_]
        # Σ (j − a)(ref[j+1] − ref[j]) = Σ_{i=a+1}^{b−1} (ref[b] − ref[i]), every index in one run
        inner = np.maximum(b_ - a_ - 1, 0) * (ref[b_] - base) - (prefix[b_] - prefix[np.minimum(a_ + 1, b_)])
        value = d0 * span + beta * (inner + (a_ - first) * span)
        return np.where(empty, 0.0, np.abs(value))

    # The gaps inside each segment (j < seg_stop − 1), split where d0 + β·u changes sign.
    inner_stop = seg_stop - 1
    with np.errstate(divide="ignore", invalid="ignore"):
        root = np.where(beta != 0, -d0 / beta, np.where(d0 >= 0, np.inf, -np.inf))
    root = np.clip(root, -1.0, length.astype("float64"))
    split = seg_start + np.clip(np.floor(root) + 1, 0, np.maximum(length - 1, 0)).astype(np.int64)
    distance = float(np.sum(gap_sum(seg_start, split, seg_start)) + np.sum(gap_sum(split, inner_stop, seg_start)))

    # The last gap of each segment: to the first point inserted before the next value, or that value.
    last_diff = np.abs(d0 + beta * (length - 1))
    first_at = np.searchsorted(at, seg_stop, "left")
    inserted = first_at < len(at)
    inserted[inserted] = at[first_at[inserted]] == seg_stop[inserted]
    following = np.where(
        inserted,
        others[np.minimum(first_at, max(len(others) - 1, 0))] if len(others) else 0.0,
        ref[np.minimum(seg_stop, n_ref - 1)],
    )
    has_next = inserted | (seg_stop < n_ref)
    distance += float(np.sum(np.where(has_next, last_diff * (following - ref[seg_stop - 1]), 0.0)))

    # The gap after each other point: to the next point inserted at the same place, or ref[at].
    if len(others):
        f_ref = at / n_ref
        f_cur = (other_cum[1:] + ref_mass_before(at)) / total
        same_place = np.append(at[1:] == at[:-1], False)
        after = np.append(others[1:], 0.0)
        following = np.where(same_place, after, ref[np.minimum(at, n_ref - 1)])
        has_next = same_place | (at < n_ref)
        distance += float(np.sum(np.where(has_next, np.abs(f_ref - f_cur) * (following - others), 0.0)))
    return distance


def _shaped_distance(ref: np.ndarray, edges: np.ndarray, cells: WindowCells) -> float:
    """Wasserstein distance between the reference and the window spread like it (:func:`_spread`)."""
    runs = reference_runs(ref, edges)
    others, other_weights, per_value = _spread(ref, edges, cells, runs)
    return merged_distance(ref, runs, per_value, others, other_weights)


def wasserstein(ref: np.ndarray, edges: np.ndarray, cells: WindowCells, n: int) -> tuple[float, float]:
    """Unnormalised Wasserstein distance and the bound on its error."""
    distance = _shaped_distance(ref, edges, cells)
    interior = np.zeros(len(cells.between), dtype=bool)
    interior[1:-1] = True
    # Where F_ref is constant at R inside a cell and F_cur crosses it (from C to C + b/n), truth and
    # approximation share ∫(F_ref − F_cur), and ∫|·| − |∫·| = 2·min(∫ above, ∫ below) ≤ 2·min(R − C,
    # C + b/n − R)·width; one value (b = 1) is exact. Where reference values lie inside, width·b/n.
    ref_level = np.searchsorted(ref, cells.lo, "right") / len(ref)
    start = cells.before / n
    end = start + cells.between / n
    crossing = interior & ~cells.ref_inside & ~cells.known & (ref_level > start) & (ref_level < end)
    inside = interior & cells.ref_inside & (cells.between > 0) & ~cells.known
    width = cells.hi - cells.lo
    bound = np.sum(width[inside] * cells.between[inside]) / n
    bound += np.sum(2 * width[crossing] * np.minimum(ref_level - start, end - ref_level)[crossing])
    return distance, float(bound)


def sturges_js(ref: np.ndarray, cells: WindowCells, n: int, agg: NumericAggregate) -> float:
    """Evidently's binning for numeric Jensen–Shannon with many values: numpy's Sturges edges over
    both samples together (``np.histogram_bin_edges(combined, "sturges")``), rebuilt from sizes and
    extremes; the window's values are counted at their per-interval means."""
    low = min(ref[0], cells.points[0], agg.minimum if agg.minimum is not None else np.inf)
    high = max(ref[-1], cells.points[-1], agg.maximum if agg.maximum is not None else -np.inf)
    if high == low:
        bins = np.array([low - 0.5, high + 0.5])
    else:
        width = (high - low) / (np.log2(len(ref) + n) + 1.0)
        bins = np.linspace(low, high, int(np.ceil((high - low) / width)) + 1)
    reference = np.histogram(ref, bins)[0] / len(ref)
    current = np.histogram(cells.points, bins, weights=cells.weights)[0] / n
    return float(jensenshannon(reference, current))
