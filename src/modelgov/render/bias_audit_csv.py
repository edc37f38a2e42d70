"""The bias-audit summary as a CSV file beside its page (``bias-audit.csv``), for a compliance team
to open in a spreadsheet, check and publish: NYC Local Law 144 asks for the summary's publication.

It is written from the manifest alone, like the page, so the file and the page show the same
numbers: the file carries the manifest's values in full, the page rounds them. One file holds the
whole summary, in two blocks of one width (every row has :data:`COLUMNS`' number of cells, as
RFC 4180 asks):

* the audit's facts, one ``field,value`` row each (:data:`FACTS`): the model and version, the audit
  date, the source and explanation of the data, the number of applicants, how the rate is measured,
  the number of applicants in an unknown category for each table, the 2 % rule, and how the impact
  ratios' intervals were computed;
* after an empty row, the table: its header row starts with ``dimension``, then one row per
  category of each table (``sex``, ``race_ethnicity``, ``intersectional``), in the page's order.

Every text cell goes through :func:`~modelgov.text_safety.spreadsheet_cell`: category names, the
model's name and the data's explanation come from the workspace, and a category called
``=HYPERLINK(…)`` must open as text, not run as a formula. The file starts with a UTF-8 byte-order
mark, so a spreadsheet reads the ``×`` of the intersectional categories (and accented names) right.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable

from modelgov.manifest import BiasAudit, EvaluationRun, Manifest, Model, ModelVersion
from modelgov.policy import ll144_evidence
from modelgov.render import text, views
from modelgov.render.content import SiteFile
from modelgov.text_safety import spreadsheet_cell

__all__ = ["COLUMNS", "FACTS", "FILE_NAME", "bias_audit_csv", "bias_audit_files"]

FILE_NAME = "bias-audit.csv"

#: The facts block, in order; ``rate_count`` is ``selected`` for a selecting tool and ``median_score``
#: for a scoring one (the one number the rate's definition needs).
FACTS = (
    "summary",
    "model",
    "model_id",
    "version",
    "audit_date",
    "data_source",
    "data_description",
    "distribution_date",
    "evaluation",
    "evaluation_date",
    "evaluation_data",
    "applicants",
    "output",
    "rate_count",
    "rate_definition",
    "impact_ratio_definition",
    "unknown_sex",
    "unknown_race_ethnicity",
    "unknown_intersectional",
    "small_category_share",
    "small_categories_excluded",
    "impact_ratio_interval",
)

#: The table's columns; ``rate`` is named ``selection_rate`` or ``scoring_rate`` after the tool's output.
COLUMNS = (
    "dimension",
    "category",
    "applicants",
    "share_of_applicants",
    "rate",
    "impact_ratio",
    "impact_ratio_low",
    "impact_ratio_high",
    "excluded",
)

_RATE_DEFINITIONS = {
    "selection": "selection rate: the share of a category's applicants the tool selects",
    "score": "scoring rate: the share of a category's applicants whose score is above the median score of "
    "all applicants",
}
_IMPACT_RATIO = (
    "a category's rate divided by the highest rate in the same table; applicants in an unknown category "
    "are left out of the rates"
)


def rate_column(audit: BiasAudit) -> str:
    return "scoring_rate" if audit.output == "score" else "selection_rate"


def _cell(value: object) -> object:
    """A manifest value as a cell: numbers as they are (Python's shortest exact form), ``true`` or
    ``false``, an empty cell for a value that is not there, text made safe for a spreadsheet."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return spreadsheet_cell(value)


def _facts(model: Model, version: ModelVersion, run: EvaluationRun, audit: BiasAudit) -> list[tuple[str, object]]:
    unknown = {table.dimension: table.unknown for table in audit.tables}
    intervals = [item.interval for table in audit.tables for item in table.categories]
    values: dict[str, object] = {
        "summary": "Bias audit summary (NYC Local Law 144)",
        "model": text.plain(model.name),
        "model_id": model.id,
        "version": version.version,
        "audit_date": audit.audit_date,
        "data_source": audit.data_source,
        "data_description": text.plain(audit.data_description),
        "distribution_date": audit.distribution_date,
        "evaluation": run.id,
        "evaluation_date": run.date,
        "evaluation_data": run.data.path,
        "applicants": audit.applicants,
        "output": audit.output,
        "rate_count": audit.median_score if audit.output == "score" else audit.selected,
        "rate_definition": _RATE_DEFINITIONS[audit.output],
        "impact_ratio_definition": _IMPACT_RATIO,
        "unknown_sex": unknown.get("sex"),
        "unknown_race_ethnicity": unknown.get("race_ethnicity"),
        "unknown_intersectional": unknown.get("intersectional"),
        "small_category_share": audit.min_share,
        "small_categories_excluded": audit.exclude_small_categories,
        "impact_ratio_interval": "; ".join(views.interval_methods(intervals)) or None,
    }
    names = {"rate_count": "median_score" if audit.output == "score" else "selected"}
    return [(names.get(field, field), values[field]) for field in FACTS]


def bias_audit_csv(model: Model, version: ModelVersion) -> str | None:
    """The version's summary as CSV text; None when the version has no bias audit."""
    run = ll144_evidence.audited_run(version)
    if run is None or run.bias_audit is None:
        return None
    audit = run.bias_audit
    header = [rate_column(audit) if column == "rate" else column for column in COLUMNS]
    width = len(header)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")

    def row(cells: list[object]) -> None:
        writer.writerow([_cell(cell) for cell in cells] + [""] * (width - len(cells)))

    row(["field", "value"])
    for field, value in _facts(model, version, run, audit):
        row([field, value])
    row([])
    writer.writerow(header)
    for table in audit.tables:
        for item in table.categories:
            interval = None if item.excluded else item.interval
            row(
                [
                    table.dimension,
                    item.category,
                    item.applicants,
                    item.share,
                    item.rate,
                    item.impact_ratio,
                    interval.low if interval else None,
                    interval.high if interval else None,
                    item.excluded,
                ]
            )
    return "\ufeff" + out.getvalue()


def bias_audit_files(manifest: Manifest, path_of: Callable[[Model, ModelVersion], str | None]) -> list[SiteFile]:
    """One file per audited version, where ``path_of`` puts it
    (:func:`modelgov.render.page_paths.bias_audit_csv_path`: beside the version's summary page)."""
    files = []
    for model in manifest.models:
        for version in model.versions:
            path, body = path_of(model, version), bias_audit_csv(model, version)
            if path is not None and body is not None:
                files.append(SiteFile(path=path, content=body.encode("utf-8")))
    return files
