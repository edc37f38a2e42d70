"""One version's monitoring report: scan the logs window by window, test each window against the
reference, and measure performance where outcomes have arrived.

    reference table ─ profile + plan per feature ─┐
    log files ─ scan (DuckDB, out of core) ───────┼─ feature_drift per window ─ dataset drift
    ground truth ─ join by id, window by window ──┴─ metrics per window
                                                     └──────────▶ manifest.MonitoringReport

The reference is the evaluation table the model was judged on (small, in memory); the logs are only
ever seen as per-window aggregates, so memory does not grow with the log.
"""

from __future__ import annotations

import datetime as dt
import itertools
import statistics
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from modelgov import manifest
from modelgov.analysis.evaluation import EvaluationColumns, prepare_arrays
from modelgov.analysis.performance import binary_performance, multiclass_performance, regression_performance
from modelgov.analysis.resampling import DEFAULT_RESAMPLING, Resampling
from modelgov.monitoring import drift as drift_tests
from modelgov.monitoring import production_fairness
from modelgov.monitoring.aggregates import (
    CategoricalAggregate,
    CategoricalPlan,
    NumericAggregate,
    NumericPlan,
    WindowAggregate,
    WindowSpec,
    coarsen,
)
from modelgov.monitoring.calendar_features import WINDOW_DAYS, Coverage, calendar_notes
from modelgov.monitoring.estimated import Estimator
from modelgov.monitoring.estimated import prepare as prepare_estimator
from modelgov.monitoring.kpi_definitions import KpiSpec
from modelgov.monitoring.kpis import report_kpis
from modelgov.monitoring.outcome_scan import OutcomeCoverage, OutcomeWindow, scan_outcomes
from modelgov.monitoring.reference import (
    Kind,
    ReferenceProfile,
    canonical_text,
    kind_mismatch,
    kind_reason,
    not_numbers,
    profile_reference,
)
from modelgov.monitoring.scan import scan_windows
from modelgov.monitoring.seasonal import Seasonal, period_label, period_of, period_rows

PREDICTION = "(prediction)"
NO_INTERVALS = Resampling(resamples=0)


@dataclass(frozen=True)
class MonitoringInputs:
    """What the report needs, already resolved to absolute paths and plain column names."""

    logs: list[Path | str]  # files in the workspace, or (Spark engine) object URIs
    timestamp: str
    features: list[str]
    log_output: str  # score column if declared, else prediction column, in the logs
    reference_output: str | None  # the same role's column in the reference; None: inputs only
    window: WindowSpec
    window_label: str
    overrides: dict[str, tuple[str | None, float | None]]  # feature → (method, threshold)
    dataset_share: float
    #: the model's output counts in the share of drifted columns, as one more column (Evidently's
    #: DriftedColumnsCount when the output is among its columns)
    count_output: bool = False
    #: each window compared with the reference rows of its calendar month or quarter (:mod:`.seasonal`)
    seasonal: Seasonal | None = None
    log_id: str | None = None
    log_prediction: str | None = None
    log_score: str | None = None
    truth: Path | None = None
    truth_id: str | None = None
    truth_label: str | None = None
    #: ``None``: the embedded DuckDB scan; otherwise the Spark settings (see :mod:`.spark_scan`)
    spark: SparkEngine | None = None
    #: The bootstrap for each window's metric intervals, as the evaluation's (``resamples=0``: none)
    resampling: Resampling = DEFAULT_RESAMPLING
    #: feature → the kind the workspace declared; the others' kinds are inferred from the reference
    kinds: dict[str, Kind] = field(default_factory=dict)
    #: the decision threshold of a binary classifier's score (for performance estimated without outcomes)
    threshold: float | None = None
    #: the card's business KPIs, measured per window (:mod:`.kpis`)
    kpis: tuple[KpiSpec, ...] = ()
    #: the card's sensitive features, and the evaluation's small-group rules (fairness in production)
    sensitive: tuple[str, ...] = ()
    min_group_size: int = 30
    exclude_small_groups: bool = True


@dataclass(frozen=True)
class SparkEngine:
    master: str | None
    conf: dict[str, str]


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


@dataclass(frozen=True)
class Reference:
    """The data production windows are compared with, and what it is.

    ``kind`` is ``evaluation`` (an evaluation table, whose metrics are the performance baseline),
    ``data`` (another table, e.g. a training sample: no baseline) or ``window`` (one window of the log
    itself, named by its start: its own metrics, where outcomes arrived, are the baseline).

    ``load`` returns one column; a table is read a column at a time, profiled, and let go, so a
    large reference never sits in memory whole (a 1M-row reference: +100 MB instead of +600 MB)."""

    load: Callable[[str], pd.Series]
    columns: frozenset[str]
    kind: Literal["evaluation", "data", "window"]
    name: str
    performance: list[manifest.Metric] = field(default_factory=list)
    file: manifest.FileRef | None = None
    description: str | None = None
    #: the column holding each row's time, when the table has one
    timestamp: str | None = None
    #: each row's time, parsed to UTC (:func:`.seasonal.parse_times`, NaT where empty), in ``load``'s row
    #: order; it may return None when the times could not be read and nothing needs them
    times: Callable[[], pd.Series | None] | None = None
    #: the time a window of the log covers, [start, end): its rows' times are not kept
    span: tuple[dt.datetime, dt.datetime] | None = None

    @property
    def where(self) -> str:
        return self.file.path if self.file else f"the reference window starting {self.name}"


@dataclass(frozen=True)
class _Baseline:
    """What a window is compared with: each compared column's profile and plan, from every reference
    row, or (seasonal reference) from the rows of one period."""

    period: str | None  # "March", "Q1"; None: the whole reference
    rows: int
    profiles: dict[str, ReferenceProfile] = field(default_factory=dict)
    plans: dict[str, drift_tests.FeaturePlan] = field(default_factory=dict)


def monitoring_report(
    inputs: MonitoringInputs,
    reference: Reference,
    *,
    task: str,
    columns: EvaluationColumns,
) -> manifest.MonitoringReport:
    """Drift of every feature and of the model's output per window, and performance over time."""
    profiles: dict[str, ReferenceProfile] = {}
    plans: dict[str, drift_tests.FeaturePlan] = {}
    compared = [*inputs.features, PREDICTION] if inputs.reference_output is not None else list(inputs.features)
    rows = 0
    seasonal = inputs.seasonal
    times = _reference_times(reference, seasonal)
    periods = period_rows(times, seasonal) if seasonal and times is not None else {}
    seasons = {key: _Baseline(period_label(seasonal, key), len(at)) for key, at in periods.items()} if seasonal else {}
    for feature in compared:
        column = inputs.reference_output if feature == PREDICTION else feature
        log_column = inputs.log_output if feature == PREDICTION else feature
        values = reference.load(column)
        rows = len(values)
        method, threshold = inputs.overrides.get(feature, (None, None))
        profiles[feature], plans[feature] = _plan(
            feature, values, column, log_column, inputs.kinds.get(feature), method, threshold, reference
        )
        for key, season in seasons.items():
            # each period in the whole reference's kind, so that every window compares the same way
            part = profile_reference(values.iloc[periods[key]], profiles[feature].kind, column=log_column)
            season.profiles[feature] = part
            season.plans[feature] = drift_tests.plan_feature(
                part, kind=inputs.kinds.get(feature), method=method, threshold=threshold
            )
        del values

    whole = _Baseline(None, rows, profiles, plans)
    scanned = _scan_plans(plans, [s.plans for s in seasons.values()] if seasonal else [plans])
    estimator, estimation = _estimator(inputs, reference, task=task, columns=columns, rows=rows)
    if estimator is not None:  # the score is also counted on the calibration's knots and the threshold
        column = estimator.score_column
        known = scanned.get(column)
        edges = known.edges if isinstance(known, NumericPlan) else np.empty(0)
        scanned[column] = NumericPlan(column, np.union1d(edges, estimator.edges).astype("float64"))
    windows = _scan(
        inputs,
        numeric=[p for p in scanned.values() if isinstance(p, NumericPlan)],
        categorical=[p for p in scanned.values() if isinstance(p, CategoricalPlan)],
    )
    accounted = OutcomeCoverage() if inputs.truth is not None else None
    fairness = production_fairness.collector(inputs, estimator, task=task, positive_label=columns.positive_label)
    performance = _performance_by_window(
        inputs, task=task, columns=columns, coverage=accounted, estimator=estimator, fairness=fairness
    )

    def baseline_of(window: WindowAggregate) -> _Baseline:
        if not seasonal:
            return whole
        key = period_of(window.start, window.end, seasonal)
        return seasons.get(key) or _Baseline(period_label(seasonal, key), 0)

    report_windows = []
    for window in windows:
        against = baseline_of(window)
        results = {
            feature: _test(against, feature, plans[feature], window, scanned[plans[feature].column])
            for feature in plans
        }
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
                features=[_to_manifest(f) for f in features],
                prediction=_to_manifest(results[PREDICTION], PREDICTION) if PREDICTION in results else None,
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
        latest=_latest(inputs.features, baseline_of(latest), latest, scanned) if latest else [],
        kpis=report_kpis(inputs, report_windows),
        first_drift=since,
        status="no data" if latest is None else ("drift" if since else "no drift"),
        estimation=estimation,
        fairness=fairness.finish(production_fairness.group_windows(fairness, inputs)) if fairness else [],
    )


def _plan(
    feature: str,
    values: pd.Series,
    column: str,
    log_column: str,
    declared: Kind | None,
    method: str | None,
    threshold: float | None,
    reference: Reference,
) -> tuple[ReferenceProfile, drift_tests.FeaturePlan]:
    """Profile one reference column in the kind the workspace declared (else the inferred one) and plan
    its test. A kind the data or the method contradicts is reported with the reference's file and
    the key that asked for it (the loader reports the same with its line, where it could read the
    reference)."""
    where = reference.file.path if reference.file else f"the reference window starting {reference.name}"
    key = f"monitoring.drift.features.{feature}.kind"
    if declared == "numeric" and (why := not_numbers(values)) is not None:
        raise ValueError(
            f"{key} declares {feature!r} numeric, but column {column!r} of {where} holds {why}; "
            "declare it categorical, or correct the data"
        )
    profile = profile_reference(values, declared, column=log_column)
    if (mismatch := kind_mismatch(method, profile.kind, declarable=feature != PREDICTION)) is not None:
        label = f"the model's output {column!r}" if feature == PREDICTION else f"feature {feature!r}"
        origin = f"as {key} declares" if declared else f"as inferred from {where} ({kind_reason(values)})"
        raise ValueError(f"monitoring.drift: {label} is categorical {origin}; {mismatch}")
    return profile, drift_tests.plan_feature(profile, kind=declared, method=method, threshold=threshold)


def drifting_since(windows: list[manifest.DriftWindow]) -> str | None:
    """Start of the unbroken run of drifted windows that reaches the latest window with records
    (empty windows neither break nor start it); None when the latest window did not drift.

    A single drifted window weeks ago followed by calm ones is noise a reviewer can see in the
    heatmap; "drifting since" answers the question that matters: is it drifting now, and since when.
    """
    filled = [w for w in windows if w.rows > 0]
    if not filled or not filled[-1].drifted:
        return None
    start = filled[-1]
    for window in reversed(filled):
        if not window.drifted:
            break
        start = window
    return start.start


def _scan_plans(
    plans: dict[str, drift_tests.FeaturePlan], each: Iterable[dict[str, drift_tests.FeaturePlan]]
) -> dict[str, NumericPlan | CategoricalPlan]:
    """Column → what the scan counts: for a numeric column, the union of the edges every baseline
    plans for it (one scan serves each period of a seasonal reference; :func:`.aggregates.coarsen`
    gives each its own cells back)."""
    scanned: dict[str, NumericPlan | CategoricalPlan] = {}
    for feature, plan in plans.items():
        if plan.kind == "categorical":
            scanned[plan.column] = CategoricalPlan(plan.column)
            continue
        edges = [p[feature].aggregate.edges for p in each if feature in p]  # type: ignore[union-attr]
        union = np.unique(np.concatenate(edges)) if edges else np.empty(0)
        scanned[plan.column] = NumericPlan(plan.column, union.astype("float64"))
    return scanned


def _aggregate(
    plan: drift_tests.FeaturePlan, window: WindowAggregate, scanned: NumericPlan | CategoricalPlan
) -> NumericAggregate | CategoricalAggregate:
    """The window's aggregate of ``plan``'s column, on ``plan``'s own edges."""
    column = plan.column
    if plan.kind == "categorical":
        return window.categorical.get(column) or CategoricalAggregate(missing=0)
    found = window.numeric.get(column)
    if found is None:  # an empty window carries no aggregates
        return _empty(plan)
    assert isinstance(scanned, NumericPlan) and isinstance(plan.aggregate, NumericPlan)
    return coarsen(found, scanned.edges, plan.aggregate.edges)


def _test(
    baseline: _Baseline,
    feature: str,
    whole: drift_tests.FeaturePlan,
    window: WindowAggregate,
    scanned: NumericPlan | CategoricalPlan,
) -> drift_tests.FeatureDrift:
    plan = baseline.plans.get(feature)
    if plan is None:  # a seasonal reference without rows in this window's period: no verdict
        found = (window.numeric if whole.kind == "numeric" else window.categorical).get(whole.column)
        count, missing = (found.count, found.missing) if found is not None else (0, 0)
        return drift_tests.FeatureDrift(
            feature=whole.column,
            kind=whole.kind,
            method=whole.method,
            statistic=None,
            p_value=None,
            threshold=whole.threshold or drift_tests.DEFAULT_THRESHOLDS[whole.method],
            drifted=False,
            count=count,
            evaluated=False,
            missing_rate=missing / (count + missing) if count + missing else None,
            note=f"undefined: the reference has no rows in {baseline.period}",
        )
    return drift_tests.feature_drift(plan, baseline.profiles[feature], _aggregate(plan, window, scanned))


def _reference_times(reference: Reference, seasonal: Seasonal | None) -> pd.Series | None:
    """Each reference row's time, when the table has a time column; a seasonal reference needs one
    for every row."""
    if reference.times is None:
        if seasonal:
            raise ValueError(
                f"{reference.where}: a seasonal reference needs each row's time; name its column with "
                "monitoring.reference.timestamp"
            )
        return None
    times = reference.times()
    if times is not None and seasonal and times.isna().any():
        empty = np.flatnonzero(times.isna().to_numpy())
        raise ValueError(
            f"{reference.where}: column {reference.timestamp!r} is empty on {len(empty):,} row(s) (the first: row "
            f"{empty[0] + 1}); a seasonal reference places every row in its {seasonal}"
        )
    return times


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


def _latest(
    features: list[str],
    baseline: _Baseline,
    window: WindowAggregate,
    scanned: dict[str, NumericPlan | CategoricalPlan],
) -> list[manifest.Distribution]:
    """Reference against the latest window with records, feature by feature (none when a seasonal
    reference has no rows in its period)."""
    out = []
    for feature in features:
        plan = baseline.plans.get(feature)
        if plan is None:
            continue
        aggregate = _aggregate(plan, window, scanned[plan.column])
        out.append(_distribution(feature, plan, baseline.profiles[feature], aggregate))
    return out


def _empty(plan: drift_tests.FeaturePlan) -> NumericAggregate | CategoricalAggregate:
    if plan.kind == "categorical":
        return CategoricalAggregate(missing=0)
    edges = plan.aggregate.edges  # type: ignore[union-attr]
    return NumericAggregate(
        missing=0,
        between=np.zeros(len(edges) + 1, dtype=np.int64),
        at=np.zeros(len(edges), dtype=np.int64),
        between_sum=np.zeros(len(edges) + 1),
    )


def _to_manifest(result: drift_tests.FeatureDrift, name: str | None = None) -> manifest.FeatureDrift:
    return manifest.FeatureDrift(
        feature=name or result.feature,
        kind=result.kind,
        method=result.method,
        statistic=result.score,
        threshold=result.threshold,
        drifted=result.drifted,
        rows=result.count,
        missing_rate=result.missing_rate,
        psi=result.psi,
        psi_band=result.psi_band,
        range_violations=result.range_violations,
        new_categories=dict(result.new_categories),
        note=result.note,
        kind_source="declared" if result.kind_declared else "inferred",
    )


def _distribution(
    feature: str,
    plan: drift_tests.FeaturePlan,
    profile: ReferenceProfile,
    aggregate: NumericAggregate | CategoricalAggregate,
) -> manifest.Distribution:
    """Reference against the latest window: reference deciles for numeric features, values otherwise."""
    if isinstance(aggregate, CategoricalAggregate):
        current: dict[str, int] = {}
        for text, rows in aggregate.counts.items():
            key = canonical_text(str(text), profile.numeric_keys)
            current[key] = current.get(key, 0) + int(rows)
        keys = sorted(set(profile.categories) | set(current))
        ref_total = sum(profile.categories.values()) or 1
        cur_total = sum(current.values()) or 1
        return manifest.Distribution(
            feature=feature,
            kind="categorical",
            bins=keys,
            reference_share=[profile.categories.get(k, 0) / ref_total for k in keys],
            current_share=[current.get(k, 0) / cur_total for k in keys],
        )
    edges = plan.aggregate.edges  # type: ignore[union-attr]
    deciles = profile.deciles
    ref_cum = np.searchsorted(profile.values, deciles, side="right")
    at_or_below = np.cumsum(aggregate.between[:-1]) + np.cumsum(aggregate.at)  # values <= edges[i]
    cur_cum = at_or_below[np.searchsorted(edges, deciles)]
    ref_counts = np.diff(np.concatenate([[0], ref_cum, [len(profile.values)]]))
    cur_counts = np.diff(np.concatenate([[0], cur_cum, [aggregate.count]]))
    bounds = [profile.minimum, *deciles.tolist(), profile.maximum]
    labels = [f"{_short(a)} – {_short(b)}" for a, b in itertools.pairwise(bounds)]
    return manifest.Distribution(
        feature=feature,
        kind="numeric",
        bins=labels,
        reference_share=(ref_counts / max(len(profile.values), 1)).tolist(),
        current_share=(cur_counts / max(aggregate.count, 1)).tolist(),
    )


def _short(value: float | None) -> str:
    if value is None:
        return "?"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _outcomes(
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


def _performance_by_window(
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
    for window in _outcomes(inputs, coverage, fairness.outcome_columns if fairness else None):
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
        arrays = prepare_arrays(frame, window_columns, task=task, part_of_a_log=True)
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


def _estimator(
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


def iso(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
