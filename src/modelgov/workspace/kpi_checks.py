"""The loader's check of the card's business KPIs against each monitored version's tables.

A KPI names columns of the production log or of the outcome table; model.yml cannot know them, but
the loader can, version by version, when it reads the headers of those tables. A column that is not
there is reported at the KPI's key in model.yml (file, line), naming the version and the table that
lacks it, so a misspelt column stops the load rather than the build.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from modelgov.sources.tables import TableError, expand_table_paths, is_uri, read_columns
from modelgov.workspace.paths import refusal
from modelgov.workspace.schema_errors import did_you_mean
from modelgov.workspace.version_schema import Version
from modelgov.workspace.yamlsource import Loc

if TYPE_CHECKING:
    from modelgov.workspace.load import Loader, ModelEntry


def check_kpis(loader: Loader, version_file: str, spec: Version, model: ModelEntry) -> None:
    """Every KPI column of the card in this version's log (or outcome table)."""
    business = model.card.business
    monitoring = spec.monitoring
    if business is None or not business.kpis or monitoring is None:
        return
    card = loader.docs.get(model.source)
    if card is None:
        return
    log_columns = _log_columns(loader, monitoring.logs)
    truth = monitoring.ground_truth
    truth_columns = _columns(loader, truth.data) if truth is not None else None
    for index, kpi in enumerate(business.kpis):
        at: Loc = ("business", "kpis", index)
        definition = kpi.definition
        if definition.table == "outcomes" and truth is None:
            card_problem = card.problem(
                (*at, "definition", "table"),
                f"KPI {kpi.name!r} reads the outcomes, but version {Path(version_file).parent.name} has no "
                f"monitoring.ground_truth ({version_file}); add the outcome table, or read a column of the log",
            )
            loader.problems.append(card_problem)
            continue
        columns, where = (log_columns, monitoring.logs) if definition.table == "log" else (truth_columns, truth.data)  # type: ignore[union-attr]
        if columns is None:
            continue  # unreadable or remote: reported with the version, or checked by the scan
        keys = ("numerator", "denominator") if definition.aggregation == "ratio" else ("column",)
        named = [((*at, "definition", key), getattr(definition, key)) for key in keys]
        if kpi.baseline is not None and kpi.baseline.column is not None:
            named.append(((*at, "baseline", "column"), kpi.baseline.column))
            if kpi.baseline.denominator is not None:
                named.append(((*at, "baseline", "denominator"), kpi.baseline.denominator))
        for loc, column in named:
            if column not in columns:
                table = "log" if definition.table == "log" else "outcome table"
                loader.problems.append(
                    card.problem(
                        loc,
                        f"column {column!r} is not in {where}, the {table} of version "
                        f"{Path(version_file).parent.name} ({version_file}){did_you_mean(column, sorted(columns))}",
                    )
                )


def _log_columns(loader: Loader, pattern: str) -> set[str] | None:
    """The columns every log file has (a KPI's column must be in each); None for a URI or when the
    log cannot be read (reported with the version)."""
    if is_uri(pattern) or Path(pattern).is_absolute() or ".." in Path(pattern).parts:
        return None
    try:
        files = expand_table_paths(loader.root, pattern)
    except TableError:
        return None
    found: set[str] | None = None
    for rel in files:
        columns = _columns(loader, rel)
        if columns is None:
            return None
        found = columns if found is None else found & columns
    return found


def _columns(loader: Loader, rel: str) -> set[str] | None:
    path = loader.root / rel
    if Path(rel).is_absolute() or refusal(loader.root, path) is not None or not path.is_file():
        return None
    try:
        return set(read_columns(path))
    except TableError:
        return None
