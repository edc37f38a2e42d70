"""Performance estimated before the outcomes arrive: confidence-based performance estimation (CBPE).

A binary classifier's score, once calibrated, is the probability ``p`` that a row is positive. If
``P(y | x)`` is the same in production as on the reference (no concept drift), the confusion matrix
a window *will* show when its outcomes arrive is expected to be

    E[TP] = Σ_{predicted} p      E[FP] = Σ_{predicted} (1 − p)
    E[FN] = Σ_{not predicted} p  E[TN] = Σ_{not predicted} (1 − p)

and accuracy, precision, recall, F1 and ROC AUC follow as NannyML computes them (ratios of these
expectations). The inputs may drift freely (covariate shift): only the mapping from score to
probability must hold, which is why it is learnt on the reference, whose outcomes are known.

Three steps, each a function:

* :func:`~.cbpe_calibration.calibrate` decides on the reference whether the scores need calibrating
  (NannyML's rule: calibrate when cross-fitted isotonic regression lowers the expected calibration
  error) and keeps the mapping as the knots of a piecewise-linear function, so it can be stored and
  applied anywhere (:mod:`.cbpe_calibration`).
* :func:`estimate_rows` estimates one window from its rows (scores and predictions).
* :func:`estimate_cells` estimates one window from its :class:`~.aggregates.NumericAggregate` of the
  score alone, for logs too large to read row by row: the mapping is linear between knots, so the
  sum of probabilities over a cell is exact from the cell's count and sum when every knot is an edge.

The interval of each estimate is the range of the metric that would be *realized* on the window's
rows if ``P(y | x)`` is unchanged: outcomes are drawn from the calibrated probabilities, and the
calibration is refitted on a bootstrap resample of the reference in each replicate
(:func:`~.cbpe_calibration.refit`), so both the luck of the outcomes and the uncertainty of the
calibration are in it. A realized value outside it (:func:`~.cbpe_metrics.disagreement`) is
evidence that the assumption failed: concept drift, or a reference that does not represent
``P(y | x)``. This module holds the two per-window estimators; what an estimate is, and the metric
arithmetic they share, is :mod:`.cbpe_metrics`'.
"""

from __future__ import annotations

import numpy as np

from modelgov.analysis.resampling import DEFAULT_RESAMPLING, MAX_DRAW_CELLS, Resampling
from modelgov.monitoring.aggregates import NumericAggregate
from modelgov.monitoring.cbpe_calibration import Calibration, Refits, resolve_refits
from modelgov.monitoring.cbpe_metrics import (
    METRICS,
    Estimate,
    assemble_metrics,
    auc,
    expected_counts,
    grouped_auc,
    ratios,
    tie_groups,
    undefined_notes,
)

ROW_METHOD = "outcomes drawn from the calibrated probabilities, one Bernoulli draw per row"


CELL_METHOD = "outcomes drawn from the calibrated probabilities, one binomial draw per cell of the score"


REFIT_METHOD = "; calibration refitted on a bootstrap resample of the reference in each replicate"

#: The random stream of the simulated outcomes, one of independent streams drawn from one seed
#: (the reference's bootstrap is :data:`.cbpe_calibration.REFIT_STREAM`).
OUTCOME_STREAM = 2


def estimate_rows(
    calibration: Calibration,
    scores: np.ndarray,
    predicted: np.ndarray,
    *,
    resampling: Resampling = DEFAULT_RESAMPLING,
    reference: tuple[np.ndarray, np.ndarray] | Refits | None = None,
) -> Estimate:
    """Estimated performance of one window from its rows' scores and predicted classes.

    Point estimates are NannyML's: the expected confusion counts from the calibrated probabilities
    ``p``, and each metric the ratio of expectations (e.g. precision = E[TP] / (E[TP] + E[FP])).
    ROC AUC ranks the rows by score and integrates the curve of expected true and false positive
    rates, ``Σ_{s ≥ t} p / Σ p`` against ``Σ_{s ≥ t} (1 − p) / Σ (1 − p)``, over every distinct
    score ``t``; tied scores form one step, crossed diagonally (half credit), as scikit-learn does
    for the realized value. NannyML ranks by ``p`` instead: the area is the same, because rows of
    equal ``p`` move the curve along one straight line.

    The interval: in each of ``resampling.resamples`` replicates the calibration is the reference
    refit (when ``reference`` is given: the reference's ``(labels, scores)`` or precomputed
    :class:`Refits`; otherwise the fitted mapping), every row's outcome is drawn as Bernoulli(p),
    and the metrics are computed *realized* on those outcomes (ROC AUC with ties as scikit-learn);
    the percentile interval of the replicates is the range of the value these rows would show if
    ``P(y | x)`` is unchanged. Outcomes are drawn in batches of at most
    :data:`~modelgov.analysis.resampling.MAX_DRAW_CELLS` rows × replicates, one replicate per
    generator call, so memory is bounded and the batch size changes no figure. Rows whose score is
    missing (NaN) are left out and counted in ``missing``.
    """
    scores = np.asarray(scores, dtype=float)
    predicted = np.asarray(predicted).astype(bool)
    if scores.shape != predicted.shape or scores.ndim != 1:
        raise ValueError("scores and predicted must be one-dimensional and of the same length")
    present = ~np.isnan(scores)
    missing = int((~present).sum())
    scores, predicted = scores[present], predicted[present]
    order, starts, sizes = tie_groups(scores)
    scores, predicted = scores[order], predicted[order]
    n = len(scores)

    p = calibration.apply(scores)
    tp, fp = p[predicted].sum(), (1 - p[predicted]).sum()
    fn, tn = p[~predicted].sum(), (1 - p[~predicted]).sum()
    point = {name: float(v) for name, v in ratios(tp, fp, fn, tn).items()}
    point["roc_auc"] = grouped_auc(p, starts, sizes)
    notes = undefined_notes(int(predicted.sum()), tp + fn, fp + tn)
    if n == 0:
        notes = dict.fromkeys(METRICS, "no rows with a score")

    samples = None
    refits = resolve_refits(calibration, reference, resampling)
    if resampling.enabled and n:
        samples = {name: np.empty(resampling.resamples) for name in METRICS}
        rng = np.random.default_rng([resampling.seed, OUTCOME_STREAM])
        batch = max(1, min(resampling.resamples, MAX_DRAW_CELLS // n))
        predicted_count = float(predicted.sum())
        for done in range(0, resampling.resamples, batch):
            size = min(batch, resampling.resamples - done)
            replicates = range(done, done + size)
            probabilities = np.stack([refits.apply(r, scores) for r in replicates]) if refits else p
            # one call for the batch draws what one call per replicate would, in the same order
            outcomes = rng.random((size, n)) < probabilities
            r_tp = outcomes[:, predicted].sum(axis=1).astype(float)
            r_pos = outcomes.sum(axis=1).astype(float)
            r_fp, r_fn = predicted_count - r_tp, r_pos - r_tp
            r_tn = n - r_tp - r_fp - r_fn
            group_pos = np.add.reduceat(outcomes, starts, axis=1, dtype=np.int64).astype(float)
            for name, values in ratios(r_tp, r_fp, r_fn, r_tn).items():
                samples[name][done : done + size] = values
            samples["roc_auc"][done : done + size] = auc(group_pos, sizes - group_pos)
    method = ROW_METHOD + (REFIT_METHOD if refits else "")
    return Estimate(
        rows=n,
        missing=missing,
        expected=expected_counts(tp, fp, fn, tn),
        metrics=assemble_metrics(point, samples, notes, resampling, method),
        calibration=calibration.method,
        source="rows",
    )


def estimate_cells(
    calibration: Calibration,
    edges: np.ndarray,
    aggregate: NumericAggregate,
    *,
    threshold: float,
    resampling: Resampling = DEFAULT_RESAMPLING,
    reference: tuple[np.ndarray, np.ndarray] | Refits | None = None,
) -> Estimate:
    """Estimated performance of one window known only by its aggregate of the score on ``edges``.

    The window's rows fall into *units* ordered by score: ``between[0], at[0], between[1], …,
    at[m−1], between[m]``. ``edges`` must include every knot of the mapping
    (:attr:`Calibration.edges`) and the decision ``threshold``; a row is predicted positive when its
    score ≥ ``threshold``, so the units from ``at[k]`` (``edges[k] == threshold``) up are predicted
    positive. Within a unit the mapping is linear, so its probabilities sum exactly to

        at[i]:       n · p(e_i)
        between[i]:  n · p(e_{i−1}) + (p(e_i) − p(e_{i−1})) / (e_i − e_{i−1}) · (sum − n · e_{i−1})
        between[0], between[m]:  n · p(e_0), n · p(e_{m−1})   (the mapping is flat beyond its knots)

    and the expected confusion counts, accuracy, precision, recall and F1 equal :func:`estimate_rows`
    on the same rows (to rounding).

    ROC AUC treats each unit as one tie group: the window's scores are known only up to their unit.
    The row-level estimate differs by ``½ Σ_{pairs i, j in one unit, s_i > s_j} (p_i − p_j) / (P·N)``
    (``P = Σp``, ``N = Σ(1−p)``), which is ≥ 0 because the mapping is non-decreasing, and at most
    ``Σ_u n_u² Δp_u / (8 P N)`` with ``Δp_u`` the rise of the mapping across between-cell ``u``
    (zero for at-edge units and the outer cells). That bound is ``roc_auc_resolution``: the
    row-level value lies in ``[value, value + roc_auc_resolution]``.

    The interval: in each replicate unit ``u`` draws Binomial(n_u, p̄_u) positives, with ``p̄_u =
    Σp / n_u`` under the fitted mapping; under a reference refit ``p̄_u`` is shifted by how far the
    refit moves the mapping at the unit's mean score (at its edge for an at-edge unit), clipped to
    [0, 1], because the refit's knots are not edges and its exact cell sums are unknown. Treating the
    rows of a unit as sharing ``p̄_u`` is conservative: Σ p_i(1 − p_i) ≤ n p̄(1 − p̄), so the
    simulated counts vary at least as much as the rows' would. Realized ROC AUC is computed on the
    units, and the interval's upper end is raised by ``roc_auc_resolution`` to cover the row-level
    value.
    """
    edges = np.asarray(edges, dtype=float)
    m = len(edges)
    if m == 0 or np.any(np.diff(edges) <= 0):
        raise ValueError("edges must be sorted, unique and not empty")
    position = np.searchsorted(edges, calibration.x)
    if np.any(position >= m) or not np.array_equal(edges[np.minimum(position, m - 1)], calibration.x):
        raise ValueError("the edges must include every knot of the calibration (Calibration.edges)")
    k = int(np.searchsorted(edges, threshold))
    if k >= m or edges[k] != threshold:
        raise ValueError("the edges must include the decision threshold")
    between = np.asarray(aggregate.between, dtype=float)
    at = np.asarray(aggregate.at, dtype=float)
    sums = np.asarray(aggregate.between_sum, dtype=float)
    if len(between) != m + 1 or len(at) != m:
        raise ValueError("the aggregate was not counted on these edges")

    p_edge = calibration.apply(edges)
    # between cells, with the outer two flat at the end knots' values
    cell_p = np.empty(m + 1)
    cell_p[0], cell_p[m] = between[0] * p_edge[0], between[m] * p_edge[m - 1]
    slope = np.diff(p_edge) / np.diff(edges)
    inner = between[1:m]
    cell_p[1:m] = inner * p_edge[:-1] + slope * (sums[1:m] - inner * edges[:-1])
    # units in ascending score: between[0], at[0], between[1], …, at[m-1], between[m]
    counts = np.empty(2 * m + 1)
    counts[0::2], counts[1::2] = between, at
    unit_p = np.empty(2 * m + 1)
    unit_p[0::2], unit_p[1::2] = cell_p, at * p_edge
    unit_p = np.clip(unit_p, 0.0, counts)  # rounding in the linear formula must not leave [0, n]
    is_predicted = np.zeros(2 * m + 1, dtype=bool)
    is_predicted[2 * k + 1 :] = True  # at[k] and everything above it

    n = int(counts.sum())
    tp, fp = unit_p[is_predicted].sum(), (counts - unit_p)[is_predicted].sum()
    fn, tn = unit_p[~is_predicted].sum(), (counts - unit_p)[~is_predicted].sum()
    point = {name: float(v) for name, v in ratios(tp, fp, fn, tn).items()}
    descending_p, descending_n = unit_p[::-1], counts[::-1]
    point["roc_auc"] = float(auc(descending_p, descending_n - descending_p))
    notes = undefined_notes(int(counts[is_predicted].sum()), tp + fn, fp + tn)
    if n == 0:
        notes = dict.fromkeys(METRICS, "no rows with a score")

    rise = np.zeros(2 * m + 1)
    rise[2 : 2 * m : 2] = np.diff(p_edge)  # between[1 … m-1]
    pairs = (tp + fn) * (fp + tn)
    resolution = float(np.sum(counts**2 * rise) / (8 * pairs)) if pairs > 0 else None

    samples = None
    refits = resolve_refits(calibration, reference, resampling)
    occupied = counts > 0
    if resampling.enabled and n:
        units = counts[occupied].astype(np.int64)
        mean_p = unit_p[occupied] / units
        if refits:
            # where each unit's probability is read off a refit: the cell's mean score, or its edge
            anchor = np.empty(2 * m + 1)
            anchor[1::2] = edges
            with np.errstate(invalid="ignore", divide="ignore"):
                anchor[0::2] = sums / between
            anchor = anchor[occupied]
            fitted_at_anchor = calibration.apply(anchor)
            # each refit read at the anchors once, shared by the replicates that use it
            shift_of_refit = np.stack([np.interp(anchor, x, y) for x, y in refits.knots]) - fitted_at_anchor
        unit_predicted = is_predicted[occupied]
        unit_counts = units.astype(float)
        samples = {name: np.empty(resampling.resamples) for name in METRICS}
        rng = np.random.default_rng([resampling.seed, OUTCOME_STREAM])
        u = len(units)
        batch = max(1, min(resampling.resamples, MAX_DRAW_CELLS // u))
        predicted_count = float(unit_counts[unit_predicted].sum())
        for done in range(0, resampling.resamples, batch):
            size = min(batch, resampling.resamples - done)
            if refits:
                shifts = shift_of_refit[[refits.index(r) for r in range(done, done + size)]]
                probabilities = np.clip(mean_p + shifts, 0.0, 1.0)
            else:
                probabilities = np.broadcast_to(mean_p, (size, u))
            # one call for the batch draws what one call per replicate would, in the same order
            positives = rng.binomial(units, probabilities).astype(float)
            r_tp = positives[:, unit_predicted].sum(axis=1)
            r_pos = positives.sum(axis=1)
            r_fp, r_fn = predicted_count - r_tp, r_pos - r_tp
            r_tn = n - r_tp - r_fp - r_fn
            for name, values in ratios(r_tp, r_fp, r_fn, r_tn).items():
                samples[name][done : done + size] = values
            descending = positives[:, ::-1]
            samples["roc_auc"][done : done + size] = auc(descending, unit_counts[::-1] - descending)
    method = CELL_METHOD + (REFIT_METHOD if refits else "")
    return Estimate(
        rows=n,
        missing=int(aggregate.missing),
        expected=expected_counts(tp, fp, fn, tn),
        metrics=assemble_metrics(point, samples, notes, resampling, method, widen_auc=resolution or 0.0),
        calibration=calibration.method,
        source="cells",
        roc_auc_resolution=resolution,
    )
