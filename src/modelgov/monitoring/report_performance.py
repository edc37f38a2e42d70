"""The performance part of a monitoring report: realized where outcomes have arrived, estimated
where they have not.

Each window's labelled records come from the log joined with its ground truth, one window at a time
(:func:`outcome_windows`, from DuckDB or Spark); their metrics and bootstrap intervals are computed
as the evaluation's are (:func:`performance_by_window`). A binary classifier with scores also gets
performance estimated without outcomes, calibrated once on the reference (:func:`estimator_for`),
and each estimate is checked against the realized metrics of the same records.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from modelgov import manifest
from modelgov.analysis.evaluation import DataProblem, EvaluationColumns, prepare_arrays
from modelgov.analysis.performance import binary_performance, multiclass_performance, regression_performance
from modelgov.monitoring import production_fairness
from modelgov.monitoring.aggregates import CategoricalPlan, NumericPlan
from modelgov.monitoring.estimated import Estimator
from modelgov.monitoring.estimated import prepare as prepare_estimator
from modelgov.monitoring.logsource import ScanError, describe, resolve_files
from modelgov.monitoring.outcome_scan import OutcomeCoverage, OutcomeWindow, scan_outcomes
from modelgov.monitoring.report_inputs import MonitoringInputs, Reference


def outcome_windows(
    inputs: MonitoringInputs, coverage: OutcomeCoverage | None = None, groups: list[str] | None = None
) -> Iterator[OutcomeWindow]:
    """The log joined with its ground truth, window by window, from the configured engine
    (``coverage`` is filled with what became of the ground truth's rows)."""
    assert inputs.truth is not None and inputs.log_id is not None and inputs.truth_id is not None
    assert inputs.truth_label is not None
    if inputs.spark is None:
        yield from scan_outcomes(
            inputs.logs,
            timestamp=inputs.timestamp,
            window=inputs.window,
            log_id=inputs.log_id,
            prediction=inputs.log_prediction,
            score=inputs.log_score,
            truth=inputs.truth,
            truth_id=inputs.truth_id,
            truth_label=inputs.truth_label,
            coverage=coverage,
            groups=groups or (),
        )
        return
    from modelgov.monitoring.spark_scan import read_log, scan_outcomes_spark, spark_session

    session = spark_session(inputs.spark.master, inputs.spark.conf)
    yield from scan_outcomes_spark(
        read_log(session, [str(p) for p in inputs.logs]),
        read_log(session, [str(inputs.truth)]),
        truth_name=str(inputs.truth),
        timestamp=inputs.timestamp,
        window=inputs.window,
        log_id=inputs.log_id,
        truth_id=inputs.truth_id,
        truth_label=inputs.truth_label,
        prediction=inputs.log_prediction,
        score=inputs.log_score,
        coverage=coverage,
        groups=groups or (),
    )


def performance_by_window(
    inputs: MonitoringInputs,
    *,
    task: str,
    columns: EvaluationColumns,
    coverage: OutcomeCoverage | None = None,
    estimator: Estimator | None = None,
    fairness: production_fairness.Collector | None = None,
) -> dict[object, list[tuple[int, list[manifest.Metric], list[manifest.EstimateCheck]]]]:
    """(window start, end) → [(labelled rows, metrics on them, estimated against realized)], computed
    one window at a time.

    A list per key, in window order: row-count windows inside one long run of identical timestamps
    share their start and end, and each must keep its own result (the report takes them in turn).

    Each metric carries its bootstrap interval, computed as the evaluation's are (the same functions
    and ``inputs.resampling``) on that window's labelled records alone: the resamples are row draws
    over one window, drawn in batches of at most :data:`.resampling.MAX_DRAW_CELLS` cells, so memory
    is bounded by the largest window, never the log."""
    if inputs.truth is None or inputs.log_id is None or inputs.truth_id is None:
        return {}
    results: dict[object, list[tuple[int, list[manifest.Metric], list[manifest.EstimateCheck]]]] = {}
    for window in outcome_windows(inputs, coverage, fairness.outcome_columns if fairness else None):
        if fairness is not None:  # the realized group counts of the same labelled records
            fairness.add_outcomes(window)
        labelled = len(window.labels)
        if not labelled:
            results.setdefault((window.start, window.end), []).append((0, [], []))
            continue
        frame = pd.DataFrame({"label": window.labels, "prediction": window.predictions})
        if window.scores is not None:
            frame["score"] = window.scores
        # the engines return a window's records in no particular order; the bootstrap's draws are
        # row positions, so the rows are put in one order by value first: the same intervals from
        # DuckDB and Spark, and from any order of the log's files
        frame = frame.sort_values(
            list(frame.columns), key=lambda c: c.astype(str) if c.dtype == object else c, kind="mergesort"
        ).reset_index(drop=True)
        window_columns = EvaluationColumns(
            label="label",
            prediction="prediction",
            score="score" if window.scores is not None else None,
            sensitive=(),
            positive_label=columns.positive_label,
            threshold=None,
        )
        try:
            arrays = prepare_arrays(frame, window_columns, task=task, part_of_a_log=True)
        except DataProblem as exc:
            raise _named(exc, inputs, window) from None
        if task == "regression":
            performance = regression_performance(arrays.y_true, arrays.y_pred, inputs.resampling)
        elif task == "binary_classification":
            performance = binary_performance(
                arrays.y_true,
                arrays.y_pred,
                arrays.y_score,
                threshold=None,
                positive_label=str(columns.positive_label),
                resampling=inputs.resampling,
            )
        else:
            performance = multiclass_performance(arrays.y_true, arrays.y_pred, inputs.resampling)
        checks = []
        if estimator is not None and arrays.y_score is not None:
            # the same records, the same predictions as the realized metrics: estimate against realized
            checks = estimator.checks(arrays.y_score, arrays.y_pred == 1, list(performance.metrics))
        results.setdefault((window.start, window.end), []).append((labelled, list(performance.metrics), checks))
    return results


def _named(problem: DataProblem, inputs: MonitoringInputs, window: OutcomeWindow) -> Exception:
    """A window's outcome, prediction or score that cannot be read, named by the file and column the
    workspace knows it by (the window's table calls them ``label``, ``prediction`` and ``score``)."""
    where = {
        "label": (inputs.truth, inputs.truth_label),
        "prediction": (inputs.logs, inputs.log_prediction),
        "score": (inputs.logs, inputs.log_score),
    }.get(problem.column)
    if where is None or where[0] is None or where[1] is None:
        return problem
    named = describe(resolve_files(where[0])) if inputs.spark is None else str(where[0])
    return ScanError(
        f"{named}: column {where[1]!r}: {problem.message}, among the records of the window starting "
        f"{window.start:%Y-%m-%d} whose outcome arrived"
    )


def estimator_for(
    inputs: MonitoringInputs, reference: Reference, *, task: str, columns: EvaluationColumns, rows: int
) -> tuple[Estimator | None, manifest.PerformanceEstimation | None]:
    """Performance estimation for a binary classifier with scores (None for other tasks): the
    reference's outcomes and scores, read as the evaluation reads them."""
    if task != "binary_classification":
        return None, manifest.PerformanceEstimation(
            estimated=False,
            reason=(
                "performance is estimated without outcomes for binary classifiers with scores only (confidence-based"
                " estimation needs each record's probability of the positive class); for this "
                + ("regressor" if task == "regression" else "classifier")
                + " it is known only where outcomes have arrived"
            ),
        )
    labels = scores = None
    if reference.kind == "evaluation" and columns.score and {columns.label, columns.score} <= reference.columns:
        frame = pd.DataFrame({"label": reference.load(columns.label), "score": reference.load(columns.score)})
        frame["prediction"] = frame["label"]  # not used: the estimate needs outcomes and scores only
        arrays = prepare_arrays(
            frame,
            EvaluationColumns(
                label="label",
                prediction="prediction",
                score="score",
                sensitive=(),
                positive_label=columns.positive_label,
                threshold=None,
            ),
            task=task,
        )
        labels, scores = arrays.y_true.astype(np.int64), np.asarray(arrays.y_score, dtype=float)
    return prepare_estimator(
        labels=labels,
        scores=scores,
        threshold=inputs.threshold,
        score_column=inputs.log_score,
        resampling=inputs.resampling,
        reference_rows=rows,
    )


def plan_score(
    estimator: Estimator | None,
    estimation: manifest.PerformanceEstimation | None,
    scanned: dict[str, NumericPlan | CategoricalPlan],
) -> tuple[Estimator | None, manifest.PerformanceEstimation | None]:
    """Have the scan count the estimator's score on the calibration's knots and the threshold too,
    beside the drift's own edges of it (``scanned`` is updated in place).

    A score the drift compares as categories (whole numbers with at most 10 distinct values, or
    true/false values, inferred from the reference as Evidently infers it) stays categorical, so that
    its drift is measured on every record, and nothing is estimated, with the reason: the scan counts
    a column one way, and counting it as numbers for the estimate took it from the categorical pass,
    so its drift saw no records."""
    if estimator is None:
        return estimator, estimation
    column = estimator.score_column
    known = scanned.get(column)
    if isinstance(known, CategoricalPlan):
        return None, manifest.PerformanceEstimation(
            estimated=False,
            reason=(
                f"the drift compares the score column ({column}) as categories (in the reference it holds whole"
                " numbers with at most 10 distinct values, or true/false values), and the log is counted one way per"
                " column, so the scores are not counted as numbers, which the estimate needs; a score written as"
                " decimal numbers (0.0 and 1.0, say) is compared, and estimated, as numbers"
            ),
        )
    edges = known.edges if known is not None else np.empty(0)
    scanned[column] = NumericPlan(column, np.union1d(edges, estimator.edges).astype("float64"))
    return estimator, estimation
