"""The loader's checks of a version's ``experiment`` (an A/B test): the champion it names, the KPI its
metric names, and every column it names against the headers of the experiment log and the outcome
table, each reported at its key in version.yml (file and line), so a misspelt column stops the load
rather than the build. Values (an arm that is neither version, a propensity outside (0, 1]) are
checked by the scan, which reads them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelgov.sources.tables import TableError, read_columns
from modelgov.workspace.monitoring_checks import log_files
from modelgov.workspace.schema_errors import did_you_mean
from modelgov.workspace.version_schema import Version
from modelgov.workspace.yamlsource import Loc, YamlDocument

if TYPE_CHECKING:
    from modelgov.workspace.load import Loader, ModelEntry

ROOT: Loc = ("experiment",)


def check_experiment(loader: Loader, doc: YamlDocument, spec: Version, model: ModelEntry, version: str) -> None:
    experiment = spec.experiment
    assert experiment is not None
    problem = loader.problems.append
    if experiment.champion == version:
        problem(doc.problem((*ROOT, "champion"), "a version cannot be tested against itself; name the champion"))
    elif experiment.champion not in model.versions:
        hint = did_you_mean(experiment.champion, model.versions)
        problem(doc.problem((*ROOT, "champion"), f"{experiment.champion!r} is not a version of {model.id}{hint}"))
    kpi_table = None
    metric = experiment.metric
    if metric.kpi is not None:
        kpis = {k.name: k for k in (model.card.business.kpis if model.card.business else [])}
        found = kpis.get(metric.kpi)
        if found is None:
            problem(
                doc.problem(
                    (*ROOT, "metric", "kpi"),
                    f"{metric.kpi!r} is not a KPI of the card ({model.source} business.kpis)"
                    f"{did_you_mean(metric.kpi, kpis)}",
                )
            )
        elif found.aggregation not in ("rate", "mean"):
            problem(
                doc.problem(
                    (*ROOT, "metric", "kpi"),
                    f"KPI {metric.kpi!r} is a {found.aggregation}; the primary metric of an A/B test is a rate or a "
                    "mean of one value per request (a ratio KPI is still shown per arm)",
                )
            )
        else:
            kpi_table = found.definition.table
    log_needed: dict[Loc, str] = {
        (*ROOT, "timestamp"): experiment.timestamp,
        (*ROOT, "id"): experiment.id,
        (*ROOT, "arm"): experiment.arm,
    }
    if experiment.propensity:
        log_needed[(*ROOT, "propensity")] = experiment.propensity
    truth_needed: dict[Loc, str] = {}
    if experiment.outcomes is not None:
        truth_needed[(*ROOT, "outcomes", "id")] = experiment.outcomes.id
    if metric.kpi is not None and kpi_table is not None:
        kpi = next(k for k in model.card.business.kpis if k.name == metric.kpi)  # type: ignore[union-attr]
        (log_needed if kpi_table == "log" else truth_needed)[(*ROOT, "metric", "kpi")] = kpi.definition.columns[0]
    elif metric.aggregation == "accuracy":
        log_needed[(*ROOT, "metric", "prediction")] = metric.prediction  # type: ignore[assignment]
        truth_needed[(*ROOT, "metric", "label")] = metric.label  # type: ignore[assignment]
    elif metric.column is not None:
        (log_needed if metric.table == "log" else truth_needed)[(*ROOT, "metric", "column")] = metric.column
    if experiment.reads_outcomes(kpi_table) and experiment.outcomes is None:
        problem(
            doc.problem(
                (*ROOT, "metric"),
                "the metric reads the outcomes: add experiment.outcomes (data: the outcome table, id: its "
                "request-id column)",
            )
        )
    for rel_path in _files(loader, doc, (*ROOT, "log"), experiment.log):
        _check_columns(loader, doc, (*ROOT, "log"), rel_path, log_needed)
    if experiment.outcomes is not None:
        loc: Loc = (*ROOT, "outcomes", "data")
        if loader.resolve(doc, loc, experiment.outcomes.data) is not None:
            _check_columns(loader, doc, loc, experiment.outcomes.data, truth_needed)


def _files(loader: Loader, doc: YamlDocument, loc: Loc, pattern: str) -> list[str]:
    return [f for f in log_files(loader, doc, loc, pattern) if loader.resolve(doc, loc, f) is not None]


def _check_columns(loader: Loader, doc: YamlDocument, loc: Loc, rel_path: str, needed: dict[Loc, str]) -> None:
    try:
        columns = read_columns(loader.root / rel_path)
    except TableError as exc:
        loader.problems.append(doc.problem(loc, f"{rel_path}: {exc}"))
        return
    loader.files.register(rel_path)
    for key, column in needed.items():
        if column not in columns:
            loader.problems.append(
                doc.problem(key, f"column {column!r} is not in {rel_path}{did_you_mean(column, columns)}")
            )


__all__ = ["check_experiment"]
