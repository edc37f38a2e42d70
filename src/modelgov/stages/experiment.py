"""Stage: a version's A/B test against the champion it names (``experiment`` in version.yml).

The log (and its outcomes) is reduced out of core to each arm's statistics per window
(:mod:`modelgov.monitoring.experiment_scan`); the design checks and the results are computed from
them (:mod:`modelgov.analysis.experiment_report`). The result depends on the log's and the outcomes'
content, the experiment's settings and the card's KPIs, so it is cached like every analysis.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from modelgov import manifest
from modelgov.errors import Problem
from modelgov.stages.base import Inputs, Stage, StageFailed, VersionSubject

if TYPE_CHECKING:
    from modelgov.monitoring.kpi_definitions import KpiSpec
    from modelgov.workspace.experiment_schema import Experiment


class ExperimentStage(Stage):
    name = "experiment"
    scope = "version"
    evidence = ("models[].versions[].experiment",)
    result = manifest.AbTest

    def label(self, subject: VersionSubject) -> str:
        return f"{subject.model.id} {subject.version.id} A/B test"

    def units(self, subject: VersionSubject):
        if subject.version.spec.experiment is not None:
            yield subject

    def inputs(self, subject: VersionSubject) -> Inputs:
        experiment = subject.version.spec.experiment
        assert experiment is not None
        business = subject.model.card.business
        return Inputs(
            files={
                "log": _log_paths(subject, experiment),
                "outcomes": experiment.outcomes.data if experiment.outcomes else None,
            },
            settings={
                "experiment": experiment.model_dump(mode="json"),
                "version": subject.version.id,
                "kpis": [k.model_dump(mode="json") for k in business.kpis] if business else [],
            },
        )

    def compute(self, subject: VersionSubject) -> manifest.AbTest:
        """The design checks and results of the version's A/B test."""
        from modelgov.analysis.experiment_report import Plan, report
        from modelgov.monitoring.experiment_scan import ExperimentColumns, scan_experiment
        from modelgov.monitoring.logsource import ScanError
        from modelgov.sources.tables import TableError

        experiment = subject.version.spec.experiment
        assert experiment is not None
        source = subject.version.source
        metric, title, direction, unit, description = _metric(subject, experiment)
        values = experiment.arm_values
        columns = ExperimentColumns(
            timestamp=experiment.timestamp,
            id=experiment.id,
            arm=experiment.arm,
            challenger=values.challenger if values else subject.version.id,
            champion=values.champion if values else experiment.champion,
            propensity=experiment.propensity,
        )
        design = experiment.design
        plan = Plan(
            name=experiment.name,
            challenger=subject.version.id,
            champion=experiment.champion,
            design=design.type,
            allocation=experiment.allocation,
            weighted=experiment.propensity is not None,
            split=experiment.split,
            window=experiment.window,
            mde=design.minimum_detectable_effect,
            alpha=design.alpha,
            power=design.power,
            sample_size=design.sample_size,
            end=design.end.isoformat() if design.end else None,
            baseline=design.baseline,
            sd=design.sd,
            mixing=design.mixing,
            metric=title,
            metric_description=description,
            kind=metric.kind,
            unit=unit,
            direction=direction,
        )
        paths = _log_paths(subject, experiment)
        kpis, notes = _kpis(subject, experiment, paths)
        outcomes = experiment.outcomes
        try:
            scan = scan_experiment(
                [subject.path(p) for p in paths],
                columns,
                metric,
                window=experiment.window,
                kpis=kpis,
                outcomes=subject.path(outcomes.data) if outcomes else None,
                outcomes_id=outcomes.id if outcomes else None,
            )
            return report(
                scan,
                plan,
                log=[subject.ref(p) for p in paths],
                outcomes=subject.ref(outcomes.data) if outcomes else None,
                kpis=kpis,
                kpi_notes=notes,
            )
        except ScanError as exc:  # DuckDB names files by absolute path; the user knows them by workspace path
            message = str(exc).replace(f"{subject.workspace.root}{os.sep}", "")
            raise StageFailed(Problem(source, None, "experiment.log", message)) from None
        except TableError as exc:
            raise StageFailed(Problem(experiment.log, None, "", str(exc))) from None
        except ValueError as exc:
            raise StageFailed(Problem(source, None, "experiment.design", str(exc))) from None

    def contribute(self, node: manifest.ModelVersion, subject: VersionSubject, result: manifest.AbTest):
        return node.model_copy(update={"experiment": result})


def _log_paths(subject: VersionSubject, experiment: Experiment) -> list[str]:
    from modelgov.sources.tables import expand_table_paths

    return expand_table_paths(subject.workspace.root, experiment.log)


def _metric(subject: VersionSubject, experiment: Experiment):
    """The primary metric as the scan reads it, with its title, direction, unit and description."""
    from modelgov.monitoring.experiment_scan import MetricSpec

    metric = experiment.metric
    if metric.kpi is not None:
        business = subject.model.card.business
        assert business is not None  # the loader checked the KPI is the card's
        kpi = next(k for k in business.kpis if k.name == metric.kpi)
        definition = kpi.definition
        spec = MetricSpec(definition.aggregation, definition.columns[0], definition.table)  # type: ignore[arg-type]
        return spec, metric.title or kpi.label, kpi.direction, kpi.unit, metric.description or kpi.description
    if metric.aggregation == "accuracy":
        assert metric.prediction is not None and metric.label is not None
        spec = MetricSpec("accuracy", metric.prediction, "log", label=metric.label)
        return spec, metric.title or "Accuracy", "higher", "percent", metric.description
    assert metric.column is not None and metric.aggregation is not None and metric.direction is not None
    spec = MetricSpec(metric.aggregation, metric.column, metric.table)
    unit = "percent" if metric.aggregation == "rate" else "number"
    return spec, metric.title or metric.column, metric.direction, unit, metric.description


def _kpis(subject: VersionSubject, experiment: Experiment, paths: list[str]) -> tuple[list[KpiSpec], list[str]]:
    """The card's KPIs whose columns the experiment's log (or outcomes) holds; the others, with why."""
    from modelgov.monitoring.kpi_definitions import spec_of
    from modelgov.sources.tables import read_columns

    business = subject.model.card.business
    if business is None or not business.kpis:
        return [], []
    log_columns: set[str] | None = None
    for path in paths:
        found = set(read_columns(subject.path(path)))
        log_columns = found if log_columns is None else log_columns & found
    outcomes = experiment.outcomes
    truth_columns = set(read_columns(subject.path(outcomes.data))) if outcomes else set()
    specs, notes = [], []
    for kpi in business.kpis:
        spec = spec_of(kpi)
        available = (log_columns or set()) if spec.table == "log" else truth_columns
        missing = [c for c in spec.measure.columns if c not in available]
        if missing:
            where = "log" if spec.table == "log" else "outcome table"
            notes.append(f"{kpi.label}: the experiment's {where} has no column {', '.join(map(repr, missing))}")
        else:
            specs.append(spec)
    return specs, notes


STAGE = ExperimentStage()
