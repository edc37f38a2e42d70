"""Performance estimated before the outcomes arrive, for one version's monitoring report.

The numerical method is :mod:`.estimation` (CBPE). This module decides whether it applies, fits
the calibration once on the reference, tells the log scan which score values it must count on
(the calibration's knots and the decision threshold, so every window's estimate is exact from its
aggregate of the score), and turns estimates into manifest entries:

    reference (labels, scores) ─ calibrate, refit ─┐
    each window's aggregate of the score ──────────┼─ estimate_cells ─▶ DriftWindow.estimated
    each window's records with outcomes ───────────┴─ estimate_rows ──▶ DriftWindow.estimate_checks
                                                      (beside the realized metrics)

It applies to binary classifiers whose reference is an evaluation with a score column, a declared
decision threshold, and a log with the score; otherwise the report says why nothing is estimated.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from modelgov import manifest
from modelgov.analysis.resampling import Resampling
from modelgov.monitoring.aggregates import NumericAggregate, coarsen
from modelgov.monitoring.cbpe_calibration import Calibration, Refits, calibrate, refit
from modelgov.monitoring.cbpe_metrics import METRICS, Estimate, disagreement
from modelgov.monitoring.estimation import estimate_cells, estimate_rows

LABELS = {
    "accuracy": "Accuracy",
    "precision": "Precision",
    "recall": "Recall (true positive rate)",
    "f1": "F1",
    "roc_auc": "ROC AUC",
}


#: At most this many of the scan's edges of the score are added to a window's estimate (the ROC AUC's
#: resolution, :meth:`Estimator.window_edges`).
AUC_CELLS = 100


@dataclass(frozen=True)
class Estimator:
    """What every window of one report is estimated with."""

    calibration: Calibration
    refits: Refits | None
    threshold: float
    score_column: str  # in the log
    resampling: Resampling

    @property
    def edges(self) -> np.ndarray:
        """The score values the scan must count on: every knot and the threshold."""
        return np.union1d(self.calibration.edges, [self.threshold]).astype("float64")

    def window_edges(self, scanned_edges: np.ndarray) -> np.ndarray:
        """The edges a window is estimated on: :attr:`edges` and up to :data:`AUC_CELLS` of the scan's
        own edges, evenly spaced among them (the scan cuts the score at the reference's quantiles, so
        these are cells of about equal reference counts).

        The accuracy, precision, recall and F1 need only the knots and the threshold, and are the same
        on any finer edges. The ROC AUC is not: it ranks the cells, and the records of one cell count
        as ties. On the knots and the threshold alone — two cells when the scores need no calibration
        — it was close to the balanced accuracy at the threshold, far below the row-level value, which
        the estimate's own resolution then had to widen its interval to reach. On a hundred cells
        the resolution is a few thousandths."""
        scanned = np.asarray(scanned_edges, dtype="float64")
        if len(scanned) > AUC_CELLS:
            scanned = scanned[np.unique(np.linspace(0, len(scanned) - 1, AUC_CELLS).round().astype(int))]
        return np.union1d(self.edges, scanned).astype("float64")

    def window(self, found: NumericAggregate | None, scanned_edges: np.ndarray) -> manifest.WindowEstimate | None:
        """The estimate of a window from its aggregate of the score on ``scanned_edges`` (a superset
        of :attr:`edges`); None for a window without scores."""
        if found is None or found.count == 0:
            return None
        edges = self.window_edges(scanned_edges)
        own = coarsen(found, scanned_edges, edges)
        estimate = estimate_cells(
            self.calibration,
            edges,
            own,
            threshold=self.threshold,
            resampling=self.resampling,
            reference=self.refits,
        )
        return manifest.WindowEstimate(
            rows=estimate.rows, metrics=_metrics(estimate), roc_auc_resolution=estimate.roc_auc_resolution
        )

    def checks(
        self, scores: np.ndarray, predicted: np.ndarray, realized: list[manifest.Metric]
    ) -> list[manifest.EstimateCheck]:
        """Estimated against realized on the records whose outcome arrived, metric by metric."""
        estimate = estimate_rows(self.calibration, scores, predicted, resampling=self.resampling, reference=self.refits)
        values = {m.name: m.value for m in realized}
        out = []
        for name in METRICS:
            entry = estimate.metrics[name]
            out.append(
                manifest.EstimateCheck(
                    name=name,
                    estimated=entry.value,
                    interval=entry.interval,
                    realized=values.get(name),
                    disagrees=disagreement(estimate, name, values.get(name)),
                )
            )
        return out


def _metrics(estimate: Estimate) -> list[manifest.Metric]:
    return [
        manifest.Metric(
            name=name,
            label=LABELS[name],
            value=estimate.metrics[name].value,
            note=estimate.metrics[name].note,
            interval=estimate.metrics[name].interval,
        )
        for name in METRICS
    ]


def prepare(
    *,
    labels: np.ndarray | None,
    scores: np.ndarray | None,
    threshold: float | None,
    score_column: str | None,
    resampling: Resampling,
    reference_rows: int,
) -> tuple[Estimator | None, manifest.PerformanceEstimation]:
    """The estimator of a report, or why there is none, and what the report says about it.

    ``labels`` are 0/1 (1: the positive class) and ``scores`` the reference's scores, or None when
    the reference has no outcomes or no score (the caller says which in ``reason`` terms below)."""

    def refused(reason: str) -> tuple[None, manifest.PerformanceEstimation]:
        return None, manifest.PerformanceEstimation(estimated=False, reason=reason)

    if score_column is None:
        return refused("the log has no score column (monitoring.score), and the estimate needs each record's score")
    if labels is None or scores is None:
        return refused(
            "the reference is not an evaluation with outcomes and scores, so the scores cannot be calibrated"
        )
    if threshold is None:
        return refused("the evaluation declares no decision threshold (evaluations[].threshold)")
    present = ~np.isnan(scores)
    labels, scores = labels[present], scores[present]
    try:
        calibration = calibrate(labels, scores, seed=resampling.seed)
    except ValueError as exc:
        return refused(f"the reference cannot calibrate the scores: {exc}")
    refits = refit(calibration, labels, scores, resampling)
    estimator = Estimator(calibration, refits, float(threshold), score_column, resampling)
    summary = manifest.PerformanceEstimation(
        estimated=True,
        calibration=calibration.method,
        ece_raw=calibration.ece_raw,
        ece_calibrated=calibration.ece_calibrated,
        ece_bins=calibration.bins,
        reference_rows=reference_rows,
        threshold=float(threshold),
        interval_method=(
            "outcomes drawn from the calibrated probabilities (per cell of the score for a whole window, per record"
            " where outcomes arrived)"
            + ("; calibration refitted on a bootstrap resample of the reference in each replicate" if refits else "")
        ),
    )
    return estimator, summary
