"""Fairness in production: per monitoring window, the group rates and disparity summaries of each
sensitive feature of the model card that the log records.

Three bases, never mixed in one number, because they rest on different records and assumptions:

* **selection** — every record with a prediction: each group's selection rate (predicted
  positives ÷ records), and demographic parity. Known the day the scores are logged.
* **realized** — the records whose outcome arrived (the labelled records of
  :func:`.outcome_scan.scan_outcomes`, which carries the sensitive columns along): each group's confusion
  counts, and from them every rate of the evaluation's group tables and equalized odds and equal
  opportunity.
* **estimated** — before the outcomes arrive, each group's *expected* confusion counts from its
  calibrated scores (CBPE, :func:`.estimation.estimate_cells` on the group's aggregate of the score
  on the :class:`~.estimated.Estimator`'s edges), then the same rates and disparities.

Group rates, their intervals and the disparity summaries are the evaluation's
(:func:`~modelgov.analysis.disparity.classification_statistics`): the same measures, the groups
behind each gap named, groups with too few people behind a rate left out and listed, and a
multinomial bootstrap of the per-group counts for the intervals. Estimated values carry no
interval (:data:`ESTIMATED_INTERVAL` says why).

The log is read as per-window, per-group counts (:mod:`.group_scan`), so memory follows windows ×
groups × edges, never the log.

A regression model has only the realized basis: each group's errors on a window's labelled
records, computed as each window's outcomes are joined (:mod:`.production_fairness_regression`);
the log's scan still decides which columns are groups (none looking alike, at most
:data:`MAX_GROUPS` values).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from modelgov import manifest
from modelgov.analysis import disparity
from modelgov.analysis.fairness import _group_order, group_labels
from modelgov.analysis.resampling import Resampling
from modelgov.monitoring import production_fairness_regression as regression
from modelgov.monitoring.estimated import Estimator
from modelgov.monitoring.estimation import estimate_cells
from modelgov.monitoring.group_scan import (
    MAX_GROUPS,
    GroupCounts,
    GroupWindow,
    _positive,
    log_columns,
    scan_groups,
    scan_groups_spark,
)
from modelgov.monitoring.outcome_scan import OutcomeWindow

NO_INTERVALS = Resampling(resamples=0)

#: The measures each basis reports: parity needs only predictions, the others need outcomes.
SELECTION_MEASURES = ("demographic_parity_difference", "demographic_parity_ratio")
OUTCOME_MEASURES = ("equalized_odds_difference", "equalized_odds_ratio", "equal_opportunity_difference")
SELECTION_RATES = ("selection_rate",)
REALIZED_RATES = ("base_rate", "selection_rate", "accuracy", "tpr", "fpr", "fnr", "precision")
ESTIMATED_RATES = ("base_rate", "selection_rate", "accuracy", "tpr", "fpr", "precision")

ESTIMATED_INTERVAL = (
    "Estimated rates and disparities carry no interval. Chance alone could be simulated, as for the "
    "estimated performance, but the larger uncertainty is whether the reference's calibration of the "
    "score holds within each group (the same score meaning the same risk in every group), and no "
    "interval can measure that before the outcomes arrive: an interval would look more certain than "
    "the estimate is. Read an estimated gap as what the scores imply, and check it against the "
    "realized values of the windows whose outcomes arrived."
)


@dataclass(frozen=True)
class Settings:
    """What the report measures fairness with: the card's sensitive features, the evaluation's
    rules for small groups and its bootstrap."""

    features: tuple[str, ...]
    min_group_size: int
    exclude_small_groups: bool
    resampling: Resampling
    positive_label: object
    #: a regression model: each group's errors where outcomes arrived (:mod:`.production_fairness_regression`)
    regression: bool = False


@dataclass
class Collector:
    """Gathers one report's fairness evidence: the group counts of every window (one scan of the
    log) and, as the report joins each window's outcomes, the realized confusion counts per group."""

    settings: Settings
    present: list[str]  # the sensitive features the log has
    absent: list[str]  # … and those it lacks
    estimator: Estimator | None
    realized: dict[tuple, list[dict[str, tuple[list[str], np.ndarray]]]] = field(default_factory=dict)
    #: a regression model's windows in order: (start, end, scored records, feature → its snapshot)
    error_windows: list[tuple] = field(default_factory=list)

    @property
    def outcome_columns(self) -> list[str]:
        """The sensitive columns :func:`.outcome_scan.scan_outcomes` must carry along."""
        return list(self.present)

    def add_outcomes(self, window: OutcomeWindow) -> None:
        """The realized (group × TP, FP, FN, TN) counts of one window's labelled records, computed
        from the labels and predictions as the evaluation reads them (1 = the positive label)."""
        if self.settings.regression:
            self._add_errors(window)
            return
        per_feature: dict[str, tuple[list[str], np.ndarray]] = {}
        if len(window.labels) and window.predictions is not None:
            label_present, y = _positive(_series(window.labels), self.settings.positive_label)
            pred_present, p = _positive(_series(window.predictions), self.settings.positive_label)
            keep = label_present & pred_present
            for feature in self.present:
                values = window.groups.get(feature)
                if values is None:
                    continue
                names = group_labels(_series(values)).to_numpy()[keep]
                distinct = set(names)
                if len(distinct) > MAX_GROUPS:  # not measured (the scan of the log says so): kept no further
                    continue
                ordered = sorted(distinct, key=_group_order)
                index = {name: i for i, name in enumerate(ordered)}
                codes = np.array([index[name] for name in names], dtype=np.int64)
                cells = disparity.confusion_cells(codes, len(ordered), y[keep].astype(int), p[keep].astype(int))
                per_feature[feature] = (ordered, cells)
        self.realized.setdefault((window.start, window.end), []).append(per_feature)

    def _add_errors(self, window: OutcomeWindow) -> None:
        """A regression model's window: each feature's group errors on its labelled records, computed
        now so that only the figures are kept, never the rows. Which features are groups at all (at
        most :data:`MAX_GROUPS` values in the whole log, none looking alike) is the log's scan's to
        say (:func:`group_windows`), as for a classifier."""
        s = self.settings
        rules = disparity.SummaryRules(min_size=s.min_group_size, exclude_small=s.exclude_small_groups)
        per_feature: dict[str, manifest.FairnessSnapshot | None] = {}
        if len(window.labels) and window.predictions is not None:
            for feature in self.present:
                values = window.groups.get(feature)
                if values is None:
                    continue
                names = group_labels(_series(values)).to_numpy()
                if len(set(names)) > MAX_GROUPS:  # not groups (the scan of the whole log says so too)
                    continue
                per_feature[feature] = regression.snapshot(
                    names, window.labels, window.predictions, rules, s.resampling
                )
        self.error_windows.append((window.start, window.end, window.rows, per_feature))

    def finish(self, windows: list[GroupWindow]) -> list[manifest.ProductionFairness]:
        """The manifest's entries, one per sensitive feature, in the card's order."""
        out = []
        for feature in self.settings.features:
            if feature in self.absent:
                out.append(
                    manifest.ProductionFairness(
                        feature=feature,
                        measured=False,
                        note=f"the scoring log has no column {feature!r}, so fairness by {feature} cannot be "
                        "measured in production; log it beside each score",
                    )
                )
                continue
            if windows and not any(feature in w.features for w in windows):
                out.append(
                    manifest.ProductionFairness(
                        feature=feature,
                        measured=False,
                        note=f"column {feature!r} of the log holds more than {MAX_GROUPS} distinct values: too "
                        "many to be groups",
                    )
                )
                continue
            out.append(self._errors(feature) if self.settings.regression else self._feature(feature, windows))
        return out

    def _errors(self, feature: str) -> manifest.ProductionFairness:
        """A regression model's entry: the realized group errors of every window, in order."""
        seen: set[str] = set()
        entries = []
        for start, end, rows, per_feature in self.error_windows:
            found = per_feature.get(feature)
            if found is not None:
                seen.update(group.group for group in found.groups)
            entries.append(
                manifest.ProductionFairnessWindow(start=_iso(start), end=_iso(end), rows=rows, realized=found)
            )
        return self._measured(
            feature,
            seen,
            entries,
            note="a regression model's errors are known only where outcomes arrived: nothing is estimated before",
        )

    def _feature(self, feature: str, windows: list[GroupWindow]) -> manifest.ProductionFairness:
        s = self.settings
        rules = disparity.SummaryRules(min_size=s.min_group_size, exclude_small=s.exclude_small_groups)
        seen: set[str] = set()
        entries = []
        queues = {key: list(items) for key, items in self.realized.items()}
        for window in windows:
            counts = window.features.get(feature)
            queue = queues.get((window.start, window.end))
            realized = queue.pop(0).get(feature) if queue else None
            parts: dict[str, manifest.FairnessSnapshot | None] = {}
            if counts is not None and window.rows:
                present = [i for i, n in enumerate(counts.rows) if n > 0]
                seen.update(counts.labels[i] for i in present)
                parts["selection"] = _selection(counts, present, rules, s.resampling)
                if self.estimator is not None and counts.cells is not None:
                    parts["estimated"] = _estimated(counts, present, rules, self.estimator)
            if realized is not None and len(realized[0]):
                seen.update(realized[0])
                parts["realized"] = _snapshot(
                    "realized", realized[1], realized[0], rules, s.resampling, REALIZED_RATES, OUTCOME_MEASURES
                )
            entry = manifest.ProductionFairnessWindow(
                start=_iso(window.start), end=_iso(window.end), rows=window.rows, **parts
            )
            entries.append(entry)
        return self._measured(
            feature,
            seen,
            entries,
            estimated_interval=ESTIMATED_INTERVAL if self.estimator is not None else None,
            note=None
            if self.estimator is not None
            else "no estimated rates: performance is not estimated for this version (see the estimation section)",
        )

    def _measured(self, feature: str, seen: set[str], entries: list, **extra) -> manifest.ProductionFairness:
        """A measured feature's entry: the groups seen in any window, in display order, and the rules."""
        s = self.settings
        return manifest.ProductionFairness(
            feature=feature,
            measured=True,
            groups=sorted(seen, key=_group_order),
            min_group_size=s.min_group_size,
            exclude_small_groups=s.exclude_small_groups,
            windows=entries,
            **extra,
        )


def collector(inputs, estimator: Estimator | None, *, task: str, positive_label: object) -> Collector | None:
    """The report's collector, or None when there is nothing to measure: a multiclass model, a card
    without sensitive features, or a regression model whose log has no outcomes or no prediction.
    ``inputs`` is the report's :class:`~.report_inputs.MonitoringInputs`."""
    if task not in ("binary_classification", "regression") or not inputs.sensitive:
        return None
    if task == "regression" and (inputs.log_prediction is None or inputs.truth is None):
        return None
    if inputs.log_prediction is None and (inputs.log_score is None or inputs.threshold is None):
        return None
    if inputs.spark is None:
        columns = set(log_columns(inputs.logs))
    else:
        from modelgov.monitoring.spark_scan import read_log, spark_session

        session = spark_session(inputs.spark.master, inputs.spark.conf)
        columns = set(read_log(session, [str(p) for p in inputs.logs]).columns)
    settings = Settings(
        features=tuple(inputs.sensitive),
        min_group_size=inputs.min_group_size,
        exclude_small_groups=inputs.exclude_small_groups,
        resampling=inputs.resampling,
        positive_label=positive_label,
        regression=task == "regression",
    )
    present = [f for f in inputs.sensitive if f in columns]
    absent = [f for f in inputs.sensitive if f not in columns]
    usable = estimator if inputs.log_score is not None and task != "regression" else None
    return Collector(settings, present, absent, usable)


def group_windows(found: Collector, inputs) -> list[GroupWindow]:
    """Every window's per-group counts, from the report's engine (DuckDB or Spark). For a regression
    model, whose group errors come with the outcomes (:meth:`Collector.add_outcomes`), the scan still
    runs: it is what refuses a column whose groups look alike and leaves out one with more than
    :data:`MAX_GROUPS` values in the whole log, as for a classifier (its selection counts go unused)."""
    if not found.present:
        return []
    edges = found.estimator.edges if found.estimator is not None else None
    arguments = dict(
        timestamp=inputs.timestamp,
        window=inputs.window,
        groups=found.present,
        prediction=inputs.log_prediction,
        positive_label=found.settings.positive_label,
        score=inputs.log_score,
        edges=edges,
        threshold=inputs.threshold,
    )
    if inputs.spark is None:
        return scan_groups(inputs.logs, **arguments)
    from modelgov.monitoring.spark_scan import read_log, spark_session

    session = spark_session(inputs.spark.master, inputs.spark.conf)
    return scan_groups_spark(read_log(session, [str(p) for p in inputs.logs]), **arguments)


def _series(values: Iterable):
    import pandas as pd

    return pd.Series(values)


def _ordered(labels: list[str], present: list[int]) -> list[int]:
    return sorted(present, key=lambda i: _group_order(labels[i]))


def _selection(
    counts: GroupCounts, present: list[int], rules: disparity.SummaryRules, resampling: Resampling
) -> manifest.FairnessSnapshot | None:
    """Selection rates and demographic parity from each group's predicted positives and records
    with a prediction. The counts enter the evaluation's machinery as (positives, 0, 0, negatives):
    the selection rate and its multinomial bootstrap are exactly those of the records."""
    order = [i for i in _ordered(counts.labels, present) if counts.decided[i] > 0]
    if not order:
        return None
    positives = counts.positives[order].astype(float)
    negatives = counts.decided[order].astype(float) - positives
    zeros = np.zeros(len(order))
    cells = np.stack([positives, zeros, zeros, negatives], axis=1)
    return _snapshot(
        "selection", cells, [counts.labels[i] for i in order], rules, resampling, SELECTION_RATES, SELECTION_MEASURES
    )


def _estimated(
    counts: GroupCounts, present: list[int], rules: disparity.SummaryRules, estimator: Estimator
) -> manifest.FairnessSnapshot | None:
    """Each group's expected confusion counts from its aggregate of the score (CBPE), then the
    evaluation's rates and disparities on them (no interval: :data:`ESTIMATED_INTERVAL`)."""
    order, rows = [], []
    for i in _ordered(counts.labels, present):
        aggregate = counts.score(i)
        if aggregate is None or aggregate.count == 0:
            continue
        estimate = estimate_cells(
            estimator.calibration, estimator.edges, aggregate, threshold=estimator.threshold, resampling=NO_INTERVALS
        )
        e = estimate.expected
        order.append(i)
        rows.append([e["tp"], e["fp"], e["fn"], e["tn"]])
    if not order:
        return None
    cells = np.array(rows, dtype=float)
    return _snapshot(
        "estimated", cells, [counts.labels[i] for i in order], rules, NO_INTERVALS, ESTIMATED_RATES, OUTCOME_MEASURES
    )


def _snapshot(
    basis: str,
    cells: np.ndarray,
    labels: list[str],
    rules: disparity.SummaryRules,
    resampling: Resampling,
    rates: tuple[str, ...],
    measures: tuple[str, ...],
) -> manifest.FairnessSnapshot:
    """Group rates and the chosen disparities from (groups × TP, FP, FN, TN) counts, with the
    evaluation's intervals, denominators, small-group rules and named groups."""
    stats = disparity.classification_statistics(cells, resampling, labels, rules, rates_wanted=rates, measures=measures)
    point = disparity.rates(cells)
    groups = []
    for index, label in enumerate(labels):
        size = round(float(cells[index].sum()))  # an estimated group's records with a score: whole
        groups.append(
            manifest.GroupMetrics(
                group=label,
                count=size,
                small=size < rules.min_size,
                denominators={k: v for k, v in stats.denominators[index].items() if k in rates},
                few=[k for k in stats.few[index] if k in rates],
                metrics={k: _finite(point[k][index]) for k in rates},
                intervals={k: v for k, v in stats.group_intervals[index].items() if k in rates},
            )
        )
    chosen = stats.disparities
    if basis == "estimated":
        chosen = [_expected_words(d) for d in chosen]
    return manifest.FairnessSnapshot(
        basis=basis,  # type: ignore[arg-type]
        rows=round(float(cells.sum())),
        groups=groups,
        disparities=chosen,
    )


def _expected_words(item: manifest.Disparity) -> manifest.Disparity:
    """An estimated summary's left-out groups rest on *expected* counts: say so."""
    excluded = [e.model_copy(update={"reason": e.reason.replace("actual ", "expected actual ")}) for e in item.excluded]
    return item.model_copy(update={"excluded": excluded})


def _finite(value: float) -> float | None:
    number = float(value)
    return number if np.isfinite(number) else None


def _iso(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
