"""Stage: drift and performance over time of one version's scoring logs against its reference
(:mod:`modelgov.monitoring.report`): an evaluation table (the default), another table, or one window
of the log, seasonal when asked.

It depends on the logs' content (or, for a URI, the listing of the objects it names), the outcomes,
the reference table, the version's evaluations and the settings.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from modelgov import manifest
from modelgov.errors import Problem
from modelgov.stages.base import Inputs, Stage, StageFailed, VersionSubject
from modelgov.stages.evaluation import resampling

if TYPE_CHECKING:
    import pandas as pd

    from modelgov.monitoring.aggregates import WindowSpec
    from modelgov.monitoring.report_inputs import Reference
    from modelgov.workspace.monitoring_schema import Monitoring
    from modelgov.workspace.monitoring_schema import Reference as ReferenceSpec
    from modelgov.workspace.training_schema import Evaluation


class MonitoringStage(Stage):
    name = "monitoring"
    scope = "version"
    evidence = ("models[].versions[].drift",)
    result = manifest.MonitoringReport

    def label(self, subject: VersionSubject) -> str:
        return f"{subject.model.id} {subject.version.id} monitoring"

    def units(self, subject: VersionSubject):
        if subject.version.spec.monitoring is not None:
            yield subject

    def inputs(self, subject: VersionSubject) -> Inputs:
        spec = subject.version.spec
        mon = spec.monitoring
        assert mon is not None
        reference = mon.reference_spec(spec.evaluations)
        return Inputs(
            files={
                "logs": subject.logs,
                "ground_truth": mon.ground_truth.data if mon.ground_truth else None,
                "reference": reference.data,
                # an evaluation reference: its table and columns, via the run's own record
                "evaluation_tables": [e.data for e in spec.evaluations],
            },
            settings={
                "monitoring": mon.model_dump(mode="json"),
                "evaluations": [e.model_dump(mode="json") for e in spec.evaluations],
                "task": subject.model.card.task.value,
                "analysis": subject.settings.model_dump(mode="json"),
                "sensitive": list(subject.model.card.sensitive_features),
                **_kpi_settings(subject),
            },
        )

    def compute(self, subject: VersionSubject) -> manifest.MonitoringReport | None:
        """Drift and performance over time of the logs against the reference the version chose."""
        from modelgov.analysis.evaluation import DataProblem, EvaluationColumns
        from modelgov.monitoring.aggregates import WindowSpec
        from modelgov.monitoring.logsource import ScanError
        from modelgov.monitoring.report import monitoring_report
        from modelgov.monitoring.report_inputs import PREDICTION, MonitoringInputs
        from modelgov.sources.tables import TableError

        workspace = subject.workspace
        spec = subject.version.spec
        mon = spec.monitoring
        assert mon is not None
        evaluations = subject.runs
        chosen = mon.reference_spec(spec.evaluations)
        specs = {e.id: e for e in spec.evaluations}
        evaluation = specs.get(chosen.evaluation) if chosen.evaluation else None
        if chosen.evaluation and not any(r.id == chosen.evaluation for r in evaluations):
            return None  # the evaluation itself failed and is already reported
        log_output = mon.score or mon.prediction
        if evaluation is not None:
            # a score is compared with a score, a prediction with a prediction
            reference_output = evaluation.score if mon.score and evaluation.score else evaluation.prediction
            log_output = mon.score if mon.score and evaluation.score else mon.prediction
        else:
            reference_output = log_output  # a table or window of the same shape as the log
        window = mon.window
        spec_window = (
            WindowSpec(kind="rows", rows=window.rows) if not isinstance(window, str) else WindowSpec(kind=window)
        )
        # A feature's own method comes with its own threshold (or that method's default), never the
        # workspace default's, which may be a p-value where a distance is meant.
        overrides = {
            feature: (test.method, test.threshold)
            if test.method
            else (mon.drift.default.method, test.threshold or mon.drift.default.threshold)
            for feature, test in mon.drift.features.items()
        }
        default = (mon.drift.default.method, mon.drift.default.threshold)
        if default != (None, None):
            for feature in [*mon.features, PREDICTION]:
                overrides.setdefault(feature, default)
        truth = mon.ground_truth
        logs: list[Path | str] = [
            hashed.path if hashed.identity == "listing" else subject.path(hashed.path) for hashed in subject.logs
        ]
        try:
            reference = _reference(subject, chosen, evaluation, logs, mon, spec_window, reference_output)
            if reference_output not in reference.columns:
                reference_output = None  # a table without the output column: the inputs are compared, not the output
            inputs = MonitoringInputs(
                logs=logs,
                timestamp=mon.timestamp,
                features=list(mon.features),
                log_output=log_output,
                reference_output=reference_output,
                window=spec_window,
                window_label=window if isinstance(window, str) else f"{window.rows:,} rows",
                overrides=overrides,
                kinds={feature: test.kind for feature, test in mon.drift.features.items() if test.kind},
                dataset_share=mon.drift.dataset_share,
                count_output=mon.drift.count_output,
                seasonal=chosen.seasonal,
                log_id=mon.id,
                log_prediction=mon.prediction,
                log_score=mon.score,
                truth=subject.path(truth.data) if truth else None,
                truth_id=truth.id if truth else None,
                truth_label=truth.label if truth else None,
                spark=_spark_engine(subject),
                resampling=resampling(subject.settings),  # the workspace's bootstrap settings, as for evaluations
                threshold=evaluation.threshold if evaluation is not None else None,
                sensitive=tuple(subject.model.card.sensitive_features),
                min_group_size=subject.settings.min_group_size,
                exclude_small_groups=subject.settings.exclude_small_groups,
                kpis=_kpi_specs(subject),
            )
            positive = evaluation.positive_label if evaluation else next(iter(specs.values())).positive_label
            columns = EvaluationColumns(
                label=evaluation.label if evaluation else "label",
                prediction=evaluation.prediction if evaluation else "prediction",
                score=evaluation.score if evaluation else None,
                sensitive=(),
                positive_label=positive,
            )
            return monitoring_report(inputs, reference, task=subject.model.card.task.value, columns=columns)
        except ScanError as exc:  # DuckDB names files by absolute path; the user knows them by workspace path
            message = str(exc).replace(f"{workspace.root}{os.sep}", "")
            # a single file is named once, not as the key's value and again by the scan: the log's, or
            # the ground truth's when the problem is in its outcomes
            source = mon.logs
            truth = mon.ground_truth.data if mon.ground_truth is not None else None
            if truth is not None and message.startswith(f"{truth}: "):
                source = truth
            message = message.removeprefix(f"{source}: ")
            raise StageFailed(Problem(source, None, "", message)) from None
        except TableError as exc:  # the reference table's (the logs are scanned, and fail as ScanError)
            table = chosen.data or (evaluation.data if evaluation is not None else mon.logs)
            raise StageFailed(Problem(table, None, "", str(exc))) from None
        except (DataProblem, ValueError) as exc:
            raise StageFailed(Problem(subject.version.source, None, "monitoring", str(exc))) from None

    def contribute(
        self, node: manifest.ModelVersion, subject: VersionSubject, result: manifest.MonitoringReport
    ) -> manifest.ModelVersion:
        return node.model_copy(update={"drift": result})


def _kpi_settings(subject: VersionSubject) -> dict:
    """The card's KPIs, in the cache key only when it has some (a card without KPIs keeps its key)."""
    business = subject.model.card.business
    return {"kpis": [k.model_dump(mode="json") for k in business.kpis]} if business and business.kpis else {}


def _kpi_specs(subject: VersionSubject) -> tuple:
    from modelgov.monitoring.kpi_definitions import spec_of

    business = subject.model.card.business
    return tuple(spec_of(kpi) for kpi in business.kpis) if business is not None else ()


def _spark_engine(subject: VersionSubject):  # -> SparkEngine | None
    from modelgov.monitoring.report_inputs import SparkEngine

    engine = subject.workspace.governance.monitoring
    return SparkEngine(engine.master, dict(engine.conf)) if engine.engine == "spark" else None


def _reference(
    subject: VersionSubject,
    chosen: ReferenceSpec,
    evaluation: Evaluation | None,
    logs: list[Path | str],
    mon: Monitoring,
    window: WindowSpec,
    output: str,
) -> Reference:
    """Read the reference the workspace chose: only the monitored columns (and the output's)."""
    from modelgov.analysis.evaluation import DataProblem, scalars_only
    from modelgov.monitoring.report import iso
    from modelgov.monitoring.report_inputs import Reference
    from modelgov.monitoring.scan import read_window
    from modelgov.monitoring.seasonal import parse_times
    from modelgov.sources.tables import TableError, read_columns, read_table

    def from_table(rel_path: str) -> dict:
        path = subject.path(rel_path)
        columns = frozenset(read_columns(path))

        def load(column: str) -> pd.Series:
            frame = read_table(path, [column])
            try:
                scalars_only(frame, column)  # drift counts a column's values, fairness groups them
            except DataProblem as exc:
                raise TableError(f"column {column!r}: {exc.message}") from None
            return frame[column]

        # The rows' time: the column the workspace names, else one named like the log's. Only a column
        # the workspace named, or a seasonal reference, must hold times; otherwise one that does not
        # (an unrelated column of that name) only leaves the reference's span unknown.
        timestamp = chosen.timestamp or (mon.timestamp if mon.timestamp in columns else None)
        strict = bool(chosen.timestamp or chosen.seasonal)

        def times() -> pd.Series | None:
            try:
                return parse_times(load(timestamp), timestamp, rel_path)
            except ValueError:
                if strict:
                    raise
                return None

        return {
            "load": load,
            "columns": columns,
            "file": subject.ref(rel_path),
            "timestamp": timestamp,
            "times": times if timestamp is not None else None,
        }

    if evaluation is not None:
        run = next(r for r in subject.runs if r.id == evaluation.id)
        return Reference(
            kind="evaluation",
            name=evaluation.id,
            performance=list(run.performance.metrics),
            **from_table(evaluation.data),
        )
    if chosen.data is not None:
        return Reference(kind="data", name=chosen.data, description=chosen.description, **from_table(chosen.data))
    assert chosen.window is not None
    picked = read_window(
        logs, timestamp=mon.timestamp, window=window, columns=[*mon.features, output], which=chosen.window
    )
    frame = picked.frame
    return Reference(
        load=frame.__getitem__,
        columns=frozenset(frame.columns),
        kind="window",
        name=iso(picked.start),
        span=(picked.start, picked.end),
    )


STAGE = MonitoringStage()
