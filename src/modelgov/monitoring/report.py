"""One version's monitoring report: scan the logs window by window, test each window against the
reference, and measure performance where outcomes have arrived.

    reference table ─ profile + plan per feature ─┐
    log files ─ scan (DuckDB, out of core) ───────┼─ feature_drift per window ─ dataset drift
    ground truth ─ join by id, window by window ──┴─ metrics per window
                                                     └──────────▶ manifest.MonitoringReport

The reference is the evaluation table the model was judged on (small, in memory); the logs are only
ever seen as per-window aggregates, so memory does not grow with the log.

This module runs the report and puts its parts together, window by window; each part is assembled
elsewhere: what the report is given in :mod:`.report_inputs`, the drift of each column in
:mod:`.report_drift`, realized and estimated performance in :mod:`.report_performance`, the business
KPIs in :mod:`.kpis` and fairness in production in :mod:`.production_fairness`.
"""

from __future__ import annotations

import datetime as dt
import statistics
from contextlib import closing

import pandas as pd
import pyarrow as pa

from modelgov import manifest
from modelgov.analysis.evaluation import EvaluationColumns
from modelgov.monitoring import drift as drift_tests
from modelgov.monitoring import production_fairness
from modelgov.monitoring.aggregates import CategoricalPlan, NumericPlan, WindowAggregate
from modelgov.monitoring.calendar_features import WINDOW_DAYS, Coverage, calendar_notes
from modelgov.monitoring.kpis import report_kpis
from modelgov.monitoring.numeric_window import windows_share_prefix_sums
from modelgov.monitoring.outcome_scan import OutcomeCoverage
from modelgov.monitoring.reference import ReferenceProfile, profile_reference
from modelgov.monitoring.reference_columns import read_ahead
from modelgov.monitoring.report_drift import (
    Baseline,
    drifting_since,
    latest_distributions,
    plan_column,
    reference_times,
    scan_plans,
    to_manifest,
    window_drift,
)
from modelgov.monitoring.report_inputs import PREDICTION, MonitoringInputs, Reference
from modelgov.monitoring.report_performance import estimator_for, performance_by_window, plan_score
from modelgov.monitoring.scan import scan_windows
from modelgov.monitoring.seasonal import period_label, period_of, period_rows
from modelgov.monitoring.spill import ReferenceSpill, loaded


def _scan(inputs: MonitoringInputs, numeric: list, categorical: list) -> list:
    """Per-window aggregates from the configured engine; both give the same aggregates."""
    if inputs.spark is None:
        return scan_windows(
            inputs.logs, timestamp=inputs.timestamp, window=inputs.window, numeric=numeric, categorical=categorical
        )
    from modelgov.monitoring.spark_scan import read_log, scan_windows_spark, spark_session

    session = spark_session(inputs.spark.master, inputs.spark.conf)
    return scan_windows_spark(
        read_log(session, [str(p) for p in inputs.logs]),
        timestamp=inputs.timestamp,
        window=inputs.window,
        numeric=numeric,
        categorical=categorical,
    )


def monitoring_report(
    inputs: MonitoringInputs,
    reference: Reference,
    *,
    task: str,
    columns: EvaluationColumns,
) -> manifest.MonitoringReport:
    """Drift of every feature and of the model's output per window, and performance over time."""
    with ReferenceSpill() as spill:
        return _report(inputs, reference, task, columns, spill)


def _report(
    inputs: MonitoringInputs, reference: Reference, task: str, columns: EvaluationColumns, spill: ReferenceSpill
) -> manifest.MonitoringReport:
    profiles: dict[str, ReferenceProfile] = {}
    plans: dict[str, drift_tests.FeaturePlan] = {}
    compared = [*inputs.features, PREDICTION] if inputs.reference_output is not None else list(inputs.features)
    rows = 0
    seasonal = inputs.seasonal
    times = reference_times(reference, seasonal)
    periods = period_rows(times, seasonal) if seasonal and times is not None else {}
    seasons = {key: Baseline(period_label(seasonal, key), len(at)) for key, at in periods.items()} if seasonal else {}

    def column_of(feature: str) -> str:
        return inputs.reference_output if feature == PREDICTION else feature

    # the next column read and sorted in a thread while this one is profiled and planned
    wanted = [(column_of(f), inputs.kinds.get(f)) for f in compared]
    with closing(read_ahead(reference.load, wanted)) as ahead:
        for feature in compared:
            read = next(ahead)  # not zip, which would keep the column before until this one is read
            column = column_of(feature)
            log_column = inputs.log_output if feature == PREDICTION else feature
            values = read.values
            rows = len(values)
            method, threshold = inputs.overrides.get(feature, (None, None))
            profiles[feature], plans[feature] = plan_column(
                feature, values, column, log_column, inputs.kinds.get(feature), method, threshold, reference, read=read
            )
            for key, season in seasons.items():
                # each period in the whole reference's kind, so that every window compares the same way
                part = profile_reference(values.iloc[periods[key]], profiles[feature].kind, column=log_column)
                season.plans[feature] = drift_tests.plan_feature(
                    part, kind=inputs.kinds.get(feature), method=method, threshold=threshold
                )
                season.profiles[feature] = spill.keep(part)
                del part  # its values in memory, when the kept profile's are on disk
            profiles[feature] = spill.keep(profiles[feature])  # planned: on disk until the statistics
            del values, read
            pa.default_memory_pool().release_unused()  # the column's Arrow buffers, which its pool would keep

    whole = Baseline(None, rows, profiles, plans)
    scanned = scan_plans(plans, [s.plans for s in seasons.values()] if seasonal else [plans])
    estimator, estimation = plan_score(
        *estimator_for(inputs, reference, task=task, columns=columns, rows=rows), scanned
    )
    windows = _scan(
        inputs,
        numeric=[p for p in scanned.values() if isinstance(p, NumericPlan)],
        categorical=[p for p in scanned.values() if isinstance(p, CategoricalPlan)],
    )
    accounted = OutcomeCoverage() if inputs.truth is not None else None
    fairness = production_fairness.collector(inputs, estimator, task=task, positive_label=columns.positive_label)
    performance = performance_by_window(
        inputs, task=task, columns=columns, coverage=accounted, estimator=estimator, fairness=fairness
    )

    def baseline_of(window: WindowAggregate) -> Baseline:
        if not seasonal:
            return whole
        key = period_of(window.start, window.end, seasonal)
        return seasons.get(key) or Baseline(period_label(seasonal, key), 0)

    # column by column, each column's reference values read back once for every window
    baselines = [baseline_of(window) for window in windows]
    drift_of: list[dict[str, drift_tests.FeatureDrift]] = [{} for _ in windows]
    every_profile = [whole.profiles, *(season.profiles for season in seasons.values())]
    for feature in plans:
        with loaded(every_profile, feature), windows_share_prefix_sums():
            for index, window in enumerate(windows):
                drift_of[index][feature] = window_drift(
                    baselines[index], feature, plans[feature], window, scanned[plans[feature].column]
                )

    report_windows = []
    for window, against, results in zip(windows, baselines, drift_of, strict=True):
        features = [results[f] for f in inputs.features]
        counted = [*features, results[PREDICTION]] if inputs.count_output and PREDICTION in results else features
        dataset = drift_tests.dataset_drift(counted, inputs.dataset_share)
        queue = performance.get((window.start, window.end))
        labelled, metrics, checks = queue.pop(0) if queue else (0, [], [])
        estimated = None
        if estimator is not None and window.rows:
            plan = scanned[estimator.score_column]
            estimated = estimator.window(window.numeric.get(estimator.score_column), plan.edges)
        report_windows.append(
            manifest.DriftWindow(
                start=iso(window.start),
                end=iso(window.end),
                rows=window.rows,
                share_drifted=dataset.share if window.rows else None,
                dataset_drift=bool(window.rows) and dataset.drifted,
                features=[to_manifest(f) for f in features],
                prediction=to_manifest(results[PREDICTION], PREDICTION) if PREDICTION in results else None,
                labelled_rows=labelled,
                performance=metrics,
                columns_drifted=len(dataset.drifted_features) if window.rows else None,
                columns_compared=dataset.evaluated if window.rows else None,
                reference_period=against.period,
                reference_rows=against.rows if seasonal else None,
                estimated=estimated,
                estimate_checks=checks,
            )
        )

    latest = next((w for w in reversed(windows) if w.rows), None)
    coverage = _coverage(inputs, reference, times, windows)
    since = drifting_since(report_windows)
    baseline = list(reference.performance)
    if reference.kind == "window":
        own = next((w for w in report_windows if w.start == reference.name), None)
        baseline = list(own.performance) if own else []
    return manifest.MonitoringReport(
        reference=reference.name,
        reference_kind=reference.kind,
        reference_file=reference.file,
        reference_description=reference.description,
        reference_rows=rows,
        window=inputs.window_label,
        dataset_share=inputs.dataset_share,
        share_counts_output=inputs.count_output,
        seasonal=seasonal,
        calendar_notes=calendar_notes([(f, profiles[f]) for f in inputs.features], coverage),
        windows=report_windows,
        reference_performance=baseline,
        outcomes=manifest.OutcomeAccounting(
            rows=accounted.rows,
            used=accounted.used,
            incomplete=accounted.incomplete,
            repeated=accounted.repeated,
            unmatched=accounted.unmatched,
        )
        if accounted is not None and performance
        else None,
        latest=latest_distributions(inputs.features, baseline_of(latest), latest, scanned) if latest else [],
        kpis=report_kpis(inputs, report_windows),
        first_drift=since,
        status="no data" if latest is None else ("drift" if since else "no drift"),
        estimation=estimation,
        fairness=fairness.finish(production_fairness.group_windows(fairness, inputs)) if fairness else [],
    )


def _coverage(
    inputs: MonitoringInputs, reference: Reference, times: pd.Series | None, windows: list[WindowAggregate]
) -> Coverage:
    """How much of the calendar the reference and the windows span, for the calendar notes."""
    filled = [w for w in windows if w.rows]
    spans = [(w.end - w.start) / dt.timedelta(days=1) for w in filled]
    if inputs.window.kind in WINDOW_DAYS:
        window_days = WINDOW_DAYS[inputs.window.kind]
    else:
        window_days = statistics.median(spans) if spans else 0.0
    window_years = frozenset(y for w in filled for y in (w.start.year, (w.end - dt.timedelta(microseconds=1)).year))
    first = last = None
    if times is not None and times.notna().any():
        first, last = times.min().to_pydatetime(), times.max().to_pydatetime()
    elif reference.span is not None:
        first, last = reference.span[0], reference.span[1] - dt.timedelta(microseconds=1)
    return Coverage(
        window_days=window_days,
        window_noun=inputs.window.kind if inputs.window.kind in WINDOW_DAYS else "window",
        window_years=window_years,
        reference_days=(last - first) / dt.timedelta(days=1) if first is not None else None,
        reference_years=frozenset(range(first.year, last.year + 1)) if first is not None else None,
        seasonal=inputs.seasonal,
    )


def iso(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
