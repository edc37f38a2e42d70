"""What ``modelgov init`` infers from the files it is given: the task and positive class from the
label column, which columns are model inputs (and whether the sensitive ones are among them, from a
``.skops`` file's ``feature_names_in_``), the log's scoring-time column, each monitored feature's
drift kind, the types a ``.skops`` file needs trusted, and the MLflow run to record.

Kept apart from the writing of the workspace (:mod:`modelgov.scaffold`) so each guess can be read,
and tested, on its own; every guess comes back with the reason ``init`` states beside it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from modelgov.errors import ModelgovError
from modelgov.monitoring.reference import infer_kind, kind_reason
from modelgov.scaffold_yaml import _plain, shown_types

#: Up to this many distinct label values, a label of whole numbers is a class, not a quantity.
MAX_CLASSES = 20

_TIME_NAMES = re.compile(r"^(ts|time|timestamp|datetime|date|scored_at|event_time|created_at|prediction_time)$", re.I)
_ID_NAMES = re.compile(r"^(id|row_id|record_id|request_id|.*_id)$", re.I)


class InitError(ModelgovError):
    """The files given to ``modelgov init`` cannot make a workspace; the message says which and why."""


@dataclass(frozen=True)
class TaskGuess:
    task: str  # binary_classification, multiclass_classification or regression
    positive_label: object | None
    reason: str


def infer_task(labels: pd.Series, score: pd.Series | None, column: str) -> TaskGuess:
    """The task a label column implies. Two values: binary (the positive class is the one with the
    higher mean score, or 1/True/yes when there is no score); whole numbers or text with at most
    :data:`MAX_CLASSES` values: multiclass; anything else numeric: regression."""
    present = labels.dropna()
    if present.empty:
        raise InitError(f"label column {column!r} has no values")
    values = sorted(present.unique().tolist(), key=str)
    numeric = pd.api.types.is_numeric_dtype(present) and not pd.api.types.is_bool_dtype(present)
    whole = numeric and bool(np.all(np.mod(present.to_numpy(dtype="float64"), 1) == 0))
    if len(values) == 2:
        positive, how = _positive_class(present, score, values)
        return TaskGuess("binary_classification", positive, f"column {column!r} has two values; {how}")
    if numeric and not (whole and len(values) <= MAX_CLASSES):
        return TaskGuess("regression", None, f"column {column!r} holds {len(values):,} different numbers")
    if len(values) <= MAX_CLASSES:
        return TaskGuess("multiclass_classification", None, f"column {column!r} has {len(values)} classes")
    raise InitError(
        f"label column {column!r} has {len(values):,} different non-numeric values: "
        f"a classification label has at most {MAX_CLASSES} classes, a regression label is numeric"
    )


def _positive_class(labels: pd.Series, score: pd.Series | None, values: list) -> tuple[object, str]:
    if score is not None:
        means = pd.to_numeric(score, errors="coerce").groupby(labels).mean()
        if means.notna().all() and means.nunique() == 2:
            positive = _plain(means.idxmax())
            return positive, f"the positive class is {positive!r}, whose records score higher on average"
    for candidate in (True, 1, "1", "yes", "Yes", "true", "True", "positive"):
        # by type as well as value: 1 == True, but a column of booleans has no class 1
        if any(type(value) is type(candidate) and value == candidate for value in values):
            return candidate, f"the positive class is taken to be {candidate!r}"
    return _plain(values[-1]), f"the positive class is taken to be {values[-1]!r} (set positive_label to change it)"


def is_time(series: pd.Series) -> bool:
    """A column of date-times: a native timestamp, or text that parses as ISO 8601 dates. Numbers
    (epoch seconds) are not: the build reads ISO 8601 text or native timestamps only."""
    if pd.api.types.is_datetime64_any_dtype(series):
        return True
    if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
        return False
    sample = series.dropna().astype(str).head(200)
    if sample.empty or not sample.str.match(r"^\d{4}-\d{2}-\d{2}").all():
        return False
    try:
        pd.to_datetime(sample, format="ISO8601", utc=True)
    except (ValueError, TypeError):
        return False
    return True


def _time_columns(frame: pd.DataFrame) -> list[str]:
    return [str(c) for c in frame.columns if is_time(frame[c])]


_OTHER_DATES = re.compile(r"^\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}([ T]\d{1,2}:\d{2}.*)?$")
_EPOCH_NAMES = re.compile(r"(^|_)(epoch|ts|time|timestamp|unix)(_|$)|_at$", re.I)


def _not_an_input(series: pd.Series, name: str) -> str | None:
    """Why a column is not a model input (a date, an epoch time, a row number or id), or None."""
    if is_time(series):
        return "a date-time"
    present = series.dropna()
    if present.empty:
        return None
    textual = pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)
    if textual and present.astype(str).head(200).str.match(_OTHER_DATES).all():
        return "a date"
    if pd.api.types.is_integer_dtype(series):
        if _EPOCH_NAMES.search(name):
            return "a time"
        values = present.to_numpy()
        if len(values) > 2 and np.all(np.diff(values) == 1):
            return "a row number"
    if _ID_NAMES.match(name):
        return "an id"
    return None


def timestamp_column(log: pd.DataFrame, path: Path) -> str:
    times = _time_columns(log)
    named = [c for c in times if _TIME_NAMES.match(c)]
    for candidates in (times, named):
        if len(candidates) == 1:
            return candidates[0]
    if times:
        raise InitError(
            f"{path} has several date-time columns ({', '.join(map(repr, times))}); name the scoring time with --timestamp"
        )
    raise InitError(
        f"no column of {path} holds ISO 8601 date-times (e.g. 2026-08-03T10:15:00Z) or native timestamps; "
        "convert the scoring time to one and name it with --timestamp"
    )


def model_features(
    table: pd.DataFrame,
    path: Path,
    roles: set[str],
    sensitive: tuple[str, ...],
    sensitive_not_features: bool,
    model_file: Path | None,
) -> tuple[list[str], tuple[str, ...]]:
    """The evaluation's features, and why the sensitive columns are among them or not.

    A sensitive column the model takes as input stays a feature: explainability recomputes the
    model's output from the features, so a model input left out makes it fail. The model file's
    ``feature_names_in_`` (read from a ``.skops`` file's schema, without loading the model) decides
    when it is there; otherwise ``--sensitive-not-features`` says the model does not use them."""
    inputs = _model_inputs(model_file) if model_file is not None else None
    if inputs is None:
        # dates, times, row numbers and ids say when or which a record is, not what the model saw
        excluded = roles | (set(sensitive) if sensitive_not_features else set())
        features = [str(c) for c in table.columns if c not in excluded and _not_an_input(table[c], str(c)) is None]
        if not sensitive:
            return features, ()
        listed = ", ".join(sensitive)
        if sensitive_not_features:
            return features, (f"The sensitive features ({listed}) are left out: --sensitive-not-features says the "
                              "model does not use them.",)  # fmt: skip
        return features, (
            f"The sensitive features ({listed}) are kept as model inputs; if the model does not use them, "
            "remove them here (or run init with --sensitive-not-features).",
        )
    absent = [name for name in inputs if name not in table.columns]
    if absent:
        raise InitError(
            f"model file {model_file}: its feature_names_in_ lists {', '.join(map(repr, absent[:10]))}, "
            f"not columns of {path}; the evaluation table needs every model input (explainability reruns the model)"
        )
    used = [c for c in sensitive if c in inputs]
    if used and sensitive_not_features:
        raise InitError(
            f"--sensitive-not-features: the model file {model_file} takes {', '.join(map(repr, used))} as input "
            "(its feature_names_in_), so they must stay features; leave the option out"
        )
    unused = [c for c in sensitive if c not in inputs]
    notes = [f"From the model file's feature_names_in_: the model's {len(inputs)} inputs, in its order."]
    if used:
        notes.append(f"The sensitive features {', '.join(used)} are model inputs (feature_names_in_), so they stay.")
    if unused:
        notes.append(f"The sensitive features {', '.join(unused)} are not model inputs (feature_names_in_).")
    return list(inputs), tuple(notes)


def skops_types(model_file: Path) -> list[str]:
    """The types of a ``.skops`` file that skops does not trust by default (nothing is loaded)."""
    import skops.io

    try:
        return [str(name) for name in skops.io.get_untrusted_types(file=model_file)]
    except Exception as exc:  # any failure to read the user's file is their error to fix, not a crash
        raise InitError(f"model file {model_file} is not a readable .skops file: {exc}") from None


def untrusted_note(untrusted: list[str]) -> str:
    """What ``init`` says of the types of a ``.skops`` file that skops does not trust by default. It
    never trusts them itself: a trusted type is code the file calls, chosen by whoever wrote the file."""
    if not untrusted:
        return "The skops model file needs no types beyond those skops trusts by default."
    return (
        f"The skops model file holds types skops does not trust by default: {', '.join(shown_types(untrusted))}. "
        "Each is code the file names, called when the model loads or scores, so none was trusted: the model "
        "is not loaded until a person has reviewed them and listed them by hand under `trusted_types` in "
        "version.yml. A CI build with --refuse-pickle refuses them."
    )


def _model_inputs(model_file: Path) -> list[str] | None:
    """The ``feature_names_in_`` of a ``.skops`` model, read from the file's schema (nothing is
    loaded, so no type needs trusting), or None: another format (a pickle is never opened), a model
    fitted on an array, or a file that cannot be read. The shallowest occurrence wins: a pipeline's
    first step holds the pipeline's inputs; transformers nested deeper hold subsets."""
    if model_file.suffix.lower() != ".skops":
        return None
    import zipfile

    try:
        with zipfile.ZipFile(model_file) as archive:
            info = archive.getinfo("schema.json")
            if info.file_size > 64 * 2**20:
                return None
            tree = json.loads(archive.read(info))
    except (OSError, KeyError, ValueError, zipfile.BadZipFile, RuntimeError, NotImplementedError):
        return None
    level = [tree]
    while level:
        following = []
        for node in level:
            if isinstance(node, dict):
                found = node.get("feature_names_in_")
                if isinstance(found, dict) and found.get("type") == "json" and isinstance(found.get("content"), list):
                    try:
                        return [str(json.loads(item["content"])) for item in found["content"]]
                    except (KeyError, TypeError, ValueError):
                        return None
                following += list(node.values())
            elif isinstance(node, list):
                following += node
        level = following
    return None


def drift_kinds(
    table: pd.DataFrame, features: list[str], log_table: pd.DataFrame | None, timestamp: str | None
) -> dict[str, tuple[str, str]]:
    """Each monitored feature → (kind, why), decided from the evaluation table (the reference init
    writes) by the rule drift applies to a feature whose kind is not declared, so the kinds written are
    the ones the build would have used."""
    if log_table is None:
        return {}
    monitored = [f for f in features if f in log_table.columns and f != timestamp]
    return {name: (infer_kind(table[name]), kind_reason(table[name])) for name in monitored}


def kinds_note(kinds: dict[str, tuple[str, str]]) -> str:
    by_kind = {kind: [name for name, (k, _) in kinds.items() if k == kind] for kind in ("categorical", "numeric")}
    listed = "; ".join(f"{kind}: {', '.join(names)}" for kind, names in by_kind.items() if names)
    return (
        f"Drift compares the monitored features as {listed}. The kinds are written under monitoring.drift.features "
        "in version.yml; change one that is wrong (codes that are not quantities are categorical)."
    )


@dataclass(frozen=True)
class TrackedRun:
    """The MLflow run a scaffolded version is joined to."""

    run_id: str
    params: dict[str, str]
    algorithm: str | None
    registered: str | None  # the registered model's name, when the run was registered
    why: str


def tracked_run(store_path: Path, run_id: str | None) -> TrackedRun:
    """The run to record as the version's training run: ``run_id``, else the run behind the newest
    registered model version, else the newest finished run."""
    from modelgov.sources.mlflow_store import MlflowStoreError, read_store

    try:
        store = read_store(store_path)
    except MlflowStoreError as exc:
        raise InitError(f"MLflow store {store_path}{(' ' + exc.file) if exc.file else ''}: {exc}") from None
    if not store.runs:
        raise InitError(f"MLflow store {store_path} has no runs")
    registered = None
    if run_id is not None:
        run = store.run(run_id)
        if run is None:
            raise InitError(f"--mlflow-run {run_id}: no such run in {store_path}")
        why = "as given with --mlflow-run"
        registered = next((v.name for v in store.model_versions if v.run_id == run_id), None)
    else:
        versions = sorted((v for v in store.model_versions if v.run_id), key=lambda v: (v.created or "", v.version))
        if versions:
            newest = versions[-1]
            run = store.run(newest.run_id or "")
            registered = newest.name
            why = f"the run behind registered model {newest.name!r} version {newest.version}"
        else:
            run = None
        if run is None:
            finished = [r for r in store.runs if r.status == "FINISHED"] or list(store.runs)
            run = max(finished, key=lambda r: r.start or "")
            why = f"the newest finished run ({run.name or run.run_id})"
    tags = run.tags
    algorithm = tags.get("estimator_class") or run.params.get("algorithm") or run.params.get("model")
    return TrackedRun(run.run_id, dict(run.params), algorithm, registered, why)
