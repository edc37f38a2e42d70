"""The loader's checks of a version's ``monitoring`` section: its logs (files in the workspace, or a
URI the Spark engine reads), its reference (the table, or the evaluation, it names: every monitored
feature there, and the time column a seasonal reference needs), and each feature's drift method
against its kind, declared or inferred from the reference's values."""

from __future__ import annotations

import urllib.parse
from pathlib import Path
from typing import TYPE_CHECKING

from modelgov.sources.tables import TableError, expand_table_paths, is_uri, read_columns, read_table
from modelgov.workspace.kpi_checks import check_kpis
from modelgov.workspace.monitoring_schema import Monitoring, Reference, RowWindow
from modelgov.workspace.paths import NUL_REFUSAL, inside, refusal
from modelgov.workspace.schema_errors import did_you_mean
from modelgov.workspace.version_schema import Version
from modelgov.workspace.yamlsource import Loc, YamlDocument

if TYPE_CHECKING:
    from modelgov.workspace.load import Loader, ModelEntry


def check_monitoring(loader: Loader, doc: YamlDocument, spec: Version, model: ModelEntry) -> None:
    monitoring = spec.monitoring
    assert monitoring is not None
    needed = {"timestamp": monitoring.timestamp, "prediction": monitoring.prediction}
    if monitoring.id:
        needed["id"] = monitoring.id
    if monitoring.score:
        needed["score"] = monitoring.score
    needed.update({f"features[{i}]": name for i, name in enumerate(monitoring.features)})
    _check_logs(loader, doc, monitoring, needed, model)
    if monitoring.timestamp in monitoring.features:
        loader.problems.append(
            doc.problem(
                ("monitoring", "features", monitoring.features.index(monitoring.timestamp)),
                f"the timestamp column {monitoring.timestamp!r} cannot also be a feature: it places each "
                "record in a window; remove it from features",
            )
        )
    _check_reference(loader, doc, spec, model)
    _check_drift_kinds(loader, doc, spec)
    check_kpis(loader, doc.file, spec, model)
    for feature in monitoring.drift.features:
        if feature not in monitoring.features:
            loader.problems.append(
                doc.problem(
                    ("monitoring", "drift", "features", feature),
                    f"{feature!r} is not one of monitoring.features{did_you_mean(feature, monitoring.features)}",
                )
            )
    if monitoring.ground_truth is not None:
        truth = monitoring.ground_truth
        if monitoring.id is None:
            loader.problems.append(
                doc.problem(
                    ("monitoring", "ground_truth"),
                    "ground truth is joined to scoring records by id: set monitoring.id too",
                )
            )
        loader.check_table(
            doc,
            ("monitoring", "ground_truth", "data"),
            truth.data,
            {"id": truth.id, "label": truth.label},
            {},
            model,
        )


def _check_reference(loader: Loader, doc: YamlDocument, spec: Version, model: ModelEntry) -> None:
    """The reference must hold every monitored feature: an evaluation's table, or the named table
    (whose output column is optional: without it, only the inputs are compared)."""
    monitoring = spec.monitoring
    assert monitoring is not None
    reference = monitoring.reference_spec(spec.evaluations)
    features = {f"features[{i}]": name for i, name in enumerate(monitoring.features)}
    if reference.data is not None:
        loader.check_table(doc, ("monitoring", "reference"), reference.data, features, {}, model)
        _check_reference_time(loader, doc, monitoring, reference, reference.data)
        return
    if reference.evaluation is None:
        return  # a window of the log: it has the features by construction
    by_id = {e.id: e for e in spec.evaluations}
    evaluation = by_id.get(reference.evaluation)
    if evaluation is None:
        key = (
            ("monitoring", "reference")
            if isinstance(monitoring.reference, str)
            else ("monitoring", "reference", "evaluation")
        )
        loader.problems.append(
            doc.problem(
                key,
                f"no evaluation {reference.evaluation!r} in this version{did_you_mean(reference.evaluation, by_id)}",
            )
        )
        return
    path = loader.root / evaluation.data
    if Path(evaluation.data).is_absolute() or refusal(loader.root, path) is not None or not path.is_file():
        return  # reported with the evaluation
    try:
        columns = read_columns(path)
    except TableError:
        return  # reported with the evaluation
    missing = [name for name in monitoring.features if name not in columns]
    if missing:
        loader.problems.append(
            doc.problem(
                ("monitoring", "features"),
                f"{', '.join(map(repr, missing))} not in {evaluation.data}, the table of the reference "
                f"evaluation {evaluation.id!r}: drift compares each logged feature with the same column there",
            )
        )
    _check_reference_time(loader, doc, monitoring, reference, evaluation.data)


def _check_reference_time(
    loader: Loader, doc: YamlDocument, monitoring: Monitoring, reference: Reference, table: str
) -> None:
    """A seasonal reference places each row in its period by its time: the table must have the time
    column (the one named by ``timestamp``, else one named like the log's)."""
    if reference.seasonal is None and reference.timestamp is None:
        return
    path = loader.root / table
    if Path(table).is_absolute() or refusal(loader.root, path) is not None or not path.is_file():
        return  # reported with the table
    try:
        columns = read_columns(path)
    except TableError:
        return  # reported with the table
    column = reference.timestamp or monitoring.timestamp
    if column in columns:
        return
    if reference.timestamp is not None:
        key: Loc = ("monitoring", "reference", "timestamp")
        message = f"column {column!r} is not in {table}{did_you_mean(column, columns)}"
    else:
        key = ("monitoring", "reference", "seasonal")
        message = (
            f"a seasonal reference places each row of {table} in its {reference.seasonal} by its time, but the "
            f"table has no column {column!r} (the log's timestamp column); name its time column with "
            f"reference.timestamp{did_you_mean(column, columns)}"
        )
    loader.problems.append(doc.problem(key, message))


def _check_drift_kinds(loader: Loader, doc: YamlDocument, spec: Version) -> None:
    """Each monitored feature's drift method against its kind — the declared one, or the one drift
    will infer from the reference column (:func:`modelgov.monitoring.reference.infer_kind`) — and a
    declared numeric kind against the reference's values. The columns that need it are read from
    the reference table when it is at most ``loader.kind_check_max_bytes``; otherwise the build
    makes the same checks."""
    monitoring = spec.monitoring
    assert monitoring is not None
    drift = monitoring.drift
    if drift.default.method is None and not any(test.method or test.kind for test in drift.features.values()):
        return  # no method and no kind declared: each feature gets the test its kind calls for
    from modelgov.monitoring.reference import infer_kind, kind_mismatch, kind_reason, not_numbers

    default: tuple[str | None, Loc] = (drift.default.method, ("monitoring", "drift", "default", "method"))
    # (feature, or None for the model's output; its reference column; its method and where that is set)
    to_read: list[tuple[str | None, str, str | None, Loc]] = []
    for feature in monitoring.features:
        test = drift.features.get(feature)
        declared = test.kind if test is not None else None
        method, loc = (
            (test.method, ("monitoring", "drift", "features", feature, "method"))
            if test is not None and test.method
            else default
        )
        if declared == "categorical" and (mismatch := kind_mismatch(method, declared)) is not None:
            line = doc.line_of(("monitoring", "drift", "features", feature, "kind"))
            loader.problems.append(doc.problem(loc, f"{feature!r} is declared categorical (line {line}); {mismatch}"))
        elif declared == "numeric" or (declared is None and kind_mismatch(method, "categorical")):
            to_read.append((feature, feature, method, loc))
    reference = monitoring.reference_spec(spec.evaluations)
    evaluation = next((e for e in spec.evaluations if e.id == reference.evaluation), None)
    table = reference.data or (evaluation.data if evaluation is not None else None)
    if kind_mismatch(drift.default.method, "categorical"):
        output = monitoring.score or monitoring.prediction
        if evaluation is not None:  # paired as the build pairs them: a score with a score
            output = evaluation.score if monitoring.score and evaluation.score else evaluation.prediction
        to_read.append((None, output, *default))
    if table is None or not to_read:
        return  # a window of the log as reference: the build reads it and checks
    path = loader.root / table
    if Path(table).is_absolute() or refusal(loader.root, path) is not None or not path.is_file():
        return  # reported with the reference
    try:
        present = set(read_columns(path))
        if path.stat().st_size > loader.kind_check_max_bytes:
            return
        frame = read_table(path, [column for _, column, _, _ in to_read if column in present])
    except (TableError, OSError):
        return  # reported with the reference
    for feature, column, method, loc in to_read:
        if column not in frame.columns:
            continue  # reported with the reference
        values = frame[column]
        if feature is not None and feature in drift.features and drift.features[feature].kind == "numeric":
            if (why := not_numbers(values)) is not None:
                loader.problems.append(
                    doc.problem(
                        ("monitoring", "drift", "features", feature, "kind"),
                        f"column {column!r} of {table} (the reference) holds {why}, so it cannot be compared "
                        "as numbers; declare it categorical, or correct the data",
                    )
                )
        elif infer_kind(values) == "categorical":
            label = repr(feature) if feature is not None else f"the model's output {column!r}"
            mismatch = kind_mismatch(method, "categorical", declarable=feature is not None)
            loader.problems.append(
                doc.problem(loc, f"{label} is categorical as inferred from {table} ({kind_reason(values)}); {mismatch}")
            )


def _check_logs(
    loader: Loader, doc: YamlDocument, monitoring: Monitoring, needed: dict[str, str], model: ModelEntry
) -> None:
    """A log may be a file, a glob or a folder: every file must exist inside the workspace and
    carry the declared columns (checked on the header of each)."""
    loc: Loc = ("monitoring", "logs")
    pattern = monitoring.logs
    if is_uri(pattern):
        _check_log_uri(loader, doc, monitoring)
        return
    for rel_path in log_files(loader, doc, loc, pattern):
        loader.check_table(doc, loc, rel_path, needed, {}, model)


def log_files(loader: Loader, doc: YamlDocument, loc: Loc, pattern: str) -> list[str]:
    """The workspace files a log's pattern (a file, a glob or a folder) names, or none, with the
    problem reported at ``loc``: a pattern must stay inside the workspace and match a table file.
    Every log a version.yml names (monitoring, shadow, experiment) is read through this one rule."""
    if Path(pattern).is_absolute() or ".." in Path(pattern).parts or "://" in pattern:
        loader.problems.append(doc.problem(loc, f"{pattern!r} must be a relative path inside the workspace"))
        return []
    try:
        files = expand_table_paths(loader.root, pattern)
    except TableError as exc:
        loader.problems.append(doc.problem(loc, str(exc)))
        return []
    if not files:
        loader.problems.append(doc.problem(loc, f"no table file matches {pattern!r}"))
    return files


def _check_log_uri(loader: Loader, doc: YamlDocument, monitoring: Monitoring) -> None:
    """A URI log is read where it lives by the Spark engine, which checks its columns when it
    scans it; a ``file://`` URI must still point inside the workspace."""
    loc: Loc = ("monitoring", "logs")
    uri = monitoring.logs
    if loader.engine != "spark":
        loader.problems.append(
            doc.problem(
                loc,
                f"{uri!r} is a URI: logs in object storage or a cluster file system are read by the Spark "
                "engine, so set `monitoring: {engine: spark}` in governance.yml (or give a path inside the workspace)",
            )
        )
        return
    if uri.lower().startswith("file:"):
        local = Path(urllib.parse.unquote(urllib.parse.urlsplit(uri).path))
        if "\x00" in str(local):  # written %00
            loader.problems.append(doc.problem(loc, f"{uri!r} {NUL_REFUSAL}"))
        elif not inside(loader.root, local):
            loader.problems.append(doc.problem(loc, f"{uri!r} points outside the workspace"))
    if isinstance(monitoring.window, RowWindow):
        loader.problems.append(
            doc.problem(
                ("monitoring", "window"),
                "the Spark engine cuts calendar windows (day, week or month); windows of a number of rows "
                "need a global order of the log, which only the embedded engine keeps",
            )
        )
    reference = monitoring.reference
    if isinstance(reference, Reference) and reference.window is not None:
        loader.problems.append(
            doc.problem(
                ("monitoring", "reference", "window"),
                "a window of a log in object storage cannot be the reference yet; use an evaluation or "
                "a table in the workspace (for example a sample of the first weeks' records)",
            )
        )
