"""``modelgov init``: a workspace scaffolded from the files a data scientist already has.

Given an evaluation table (and optionally a model file and a production log), it infers what it
can — the task from the label column, the positive class from the scores, which columns are
features and of what kind, the log's timestamp — copies the files into a new workspace, and writes
commented YAML in which every model-card and datasheet field is present. What only a person can
write is left as a placeholder beginning with ``TODO``: the loader reports each one
(:func:`placeholders`), ``modelgov validate`` lists them, and the baseline policy's card rule fails
on them, so a card cannot be published half-written without anyone noticing.

Nothing is asked interactively (it runs in CI too), nothing is overwritten (the target folder must
be new or empty), and every inference is stated in the YAML next to the value it produced, so the
user can check it.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from modelgov.errors import ModelgovError
from modelgov.monitoring.reference import infer_kind, kind_reason
from modelgov.scaffold_yaml import TODO, _approvals, _datasheet, _governance, _model_card, _plain, _version
from modelgov.sources.tables import TableError, read_columns, read_table, table_format
from modelgov.workspace.load import did_you_mean

__all__ = ["InitError", "Scaffold", "infer_task", "scaffold_workspace"]

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


@dataclass
class Scaffold:
    """What was written, for the summary ``modelgov init`` prints."""

    root: Path
    model_id: str
    task: TaskGuess
    files: list[Path] = field(default_factory=list)
    todos: int = 0
    #: What ``modelgov init`` decided from the files, one sentence each, for the summary it prints.
    notes: list[str] = field(default_factory=list)


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


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return slug or "model"


def _read(path: Path, role: str, *, rows: int | None = None) -> pd.DataFrame:
    """The table (or, with ``rows``, its first rows: enough to see a log's columns and types)."""
    if not path.is_file():
        raise InitError(f"{role} {path} does not exist")
    try:
        fmt = table_format(path)
        if rows is not None and fmt == "parquet":
            batch = next(pq.ParquetFile(path).iter_batches(batch_size=rows), None)
            return batch.to_pandas() if batch is not None else pd.DataFrame(columns=read_columns(path))
        if rows is not None and fmt == "csv":
            return pd.read_csv(path, nrows=rows, encoding="utf-8-sig")
        return read_table(path, read_columns(path))
    except TableError as exc:
        raise InitError(f"{role} {path}: {exc}") from None
    except (OSError, ValueError) as exc:
        raise InitError(f"{role} {path} cannot be read: {exc}") from None


def _missing(frame: pd.DataFrame, path: Path, option: str, name: str) -> str | None:
    """Why ``name`` (given with ``option``) is not a column of ``frame``, or None when it is."""
    if name in frame.columns:
        return None
    hint = did_you_mean(name, [str(c) for c in frame.columns], cutoff=0.5)
    known = ", ".join(map(repr, frame.columns[:30]))
    return f"{option} {name!r}: no such column in {path}{hint} (columns: {known})"


def _require(frame: pd.DataFrame, path: Path, option: str, columns: list[str]) -> None:
    for name in columns:
        if (problem := _missing(frame, path, option, name)) is not None:
            raise InitError(problem)


def _is_time(series: pd.Series) -> bool:
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
    return [str(c) for c in frame.columns if _is_time(frame[c])]


_OTHER_DATES = re.compile(r"^\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}([ T]\d{1,2}:\d{2}.*)?$")
_EPOCH_NAMES = re.compile(r"(^|_)(epoch|ts|time|timestamp|unix)(_|$)|_at$", re.I)


def _not_an_input(series: pd.Series, name: str) -> str | None:
    """Why a column is not a model input (a date, an epoch time, a row number or id), or None."""
    if _is_time(series):
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


def _timestamp_column(log: pd.DataFrame, path: Path) -> str:
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


def _features(
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


def _ground_truth(
    path: Path | None, id_column: str | None, label_column: str | None, log: Path | None, log_id: str | None,
    label: str,
) -> tuple[Path, str, str] | None:  # fmt: skip
    """The late ground truth's table, id and label columns, checked like the log's; None without one.
    The id column defaults to the log's (``--log-id``), the label column to the evaluation's."""
    if path is None:
        for option, value in (("--ground-truth-id", id_column), ("--ground-truth-label", label_column)):
            if value:
                raise InitError(f"{option} {value!r}: give the ground-truth table with --ground-truth too")
        return None
    if log is None or not log_id:
        raise InitError(
            f"--ground-truth {path}: late outcomes are joined to the scoring log's records by id; "
            "give the log with --log and its record-id column with --log-id"
        )
    table = _read(path, "ground-truth table", rows=10_000)
    id_column, label_column = id_column or log_id, label_column or label
    options = [("--ground-truth-id", id_column), ("--ground-truth-label", label_column)]
    problems = [_missing(table, path, option, column) for option, column in options]
    if problems := [p for p in problems if p]:
        raise InitError("\n  ".join(problems))
    return path, id_column, label_column


def _skops_types(model_file: Path) -> list[str]:
    """The types of a ``.skops`` file that skops does not trust by default (nothing is loaded)."""
    import skops.io

    try:
        return [str(name) for name in skops.io.get_untrusted_types(file=model_file)]
    except Exception as exc:  # any failure to read the user's file is their error to fix, not a crash
        raise InitError(f"model file {model_file} is not a readable .skops file: {exc}") from None


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


def scaffold_workspace(
    root: Path,
    *,
    evaluation: Path,
    label: str,
    prediction: str,
    score: str | None = None,
    sensitive: tuple[str, ...] = (),
    sensitive_not_features: bool = False,
    positive_label: str | None = None,
    model_file: Path | None = None,
    log: Path | None = None,
    timestamp: str | None = None,
    log_id: str | None = None,
    ground_truth: Path | None = None,
    ground_truth_id: str | None = None,
    ground_truth_label: str | None = None,
    name: str | None = None,
    mlflow: Path | None = None,
    mlflow_run: str | None = None,
    today: dt.date | None = None,
) -> Scaffold:
    """Write a workspace into ``root`` (new or empty) from the given files; see the module docstring."""
    root = Path(root)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        raise InitError(f"{root} already exists and is not an empty folder; choose a new folder for the workspace")
    today = today or dt.date.today()
    table = _read(evaluation, "evaluation table")
    wanted = [("--label", label), ("--prediction", prediction), *([("--score", score)] if score else [])]
    wanted += [("--sensitive", column) for column in sensitive]
    problems = [_missing(table, evaluation, option, column) for option, column in wanted]
    if problems := [p for p in problems if p]:
        raise InitError(
            "\n  ".join(problems)
            if len(problems) == 1
            else "\n  ".join(["the columns given are not all there:", *problems])
        )
    if prediction == label:
        raise InitError(
            f"--label and --prediction are both {label!r}: the prediction is the model's output, another column"
        )
    empty = int(table[label].isna().sum())
    if empty:
        raise InitError(
            f"label column {label!r} of {evaluation}: {empty:,} of {len(table):,} rows have no value; "
            "keep only rows whose outcome is known in the evaluation table"
        )
    guess = infer_task(table[label], table[score] if score else None, label)
    if guess.task != "regression":
        labels = {str(v) for v in table[label].unique()}
        strays = [v for v in table[prediction].dropna().unique() if str(v) not in labels]
        if strays:
            shown = ", ".join(repr(_plain(v)) for v in strays[:3])
            raise InitError(
                f"--prediction {prediction!r}: {len(strays):,} of its values ({shown}, …) are not classes of "
                f"{label!r}; the prediction is the predicted class — give a probability with --score"
            )
    if positive_label is not None and guess.task == "binary_classification":
        known = {str(v): _plain(v) for v in table[label].dropna().unique()}
        if positive_label not in known:
            raise InitError(f"--positive-label {positive_label!r} is not a value of column {label!r}")
        guess = TaskGuess(guess.task, known[positive_label], f"column {label!r} has two values; positive as given")
    if score and guess.task != "binary_classification":
        raise InitError(f"--score is for binary classification, but {guess.reason}")
    if model_file is not None and not model_file.is_file():
        raise InitError(f"model file {model_file} does not exist")
    features, feature_notes = _features(
        table, evaluation, {label, prediction, *([score] if score else [])}, sensitive, sensitive_not_features,
        model_file,
    )  # fmt: skip
    log_table = None
    if log is not None:
        log_table = _read(log, "monitoring log", rows=10_000)
        timestamp = timestamp or _timestamp_column(log_table, log)
        _require(log_table, log, "--timestamp", [timestamp])
        if not _is_time(log_table[timestamp]):
            first = log_table[timestamp].dropna().head(1).tolist()
            raise InitError(
                f"--timestamp {timestamp!r}: column of {log} holds {first[0]!r}, not an ISO 8601 date-time "
                "or a native timestamp (a build reads only those, not epoch numbers); convert it, e.g. "
                "2026-08-03T10:15:00Z"
                if first
                else f"--timestamp {timestamp!r}: column of {log} is empty"
            )
        _require(log_table, log, "the evaluation's --prediction", [prediction])
        if log_id:
            _require(log_table, log, "--log-id", [log_id])
    truth = _ground_truth(ground_truth, ground_truth_id, ground_truth_label, log, log_id, label)
    trusted = _skops_types(model_file) if model_file is not None and model_file.suffix.lower() == ".skops" else None
    tracked = _tracked_run(mlflow, mlflow_run) if mlflow is not None else None

    registered = tracked.registered if tracked else None
    model_name = (
        name or registered or evaluation.stem.replace("_", " ").replace("-", " ").strip().capitalize() or "Model"
    )
    model_id = _slug(name or registered or evaluation.stem)
    made = Scaffold(root=root, model_id=model_id, task=guess, notes=list(feature_notes))
    kinds = _drift_kinds(table, features, log_table, timestamp)
    if kinds:
        made.notes.append(_kinds_note(kinds))
    if trusted is not None:
        made.notes.append(
            f"Trusted the types the skops model file needs (trusted_types in version.yml): {', '.join(trusted)}."
            if trusted
            else "The skops model file needs no types beyond those skops trusts by default."
        )
    root.mkdir(parents=True, exist_ok=True)

    def copy(source: Path, relative: str) -> str:
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        made.files.append(target)
        return relative

    def write(relative: str, text: str) -> None:
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        made.files.append(target)
        made.todos += text.count(f'"{TODO}:')

    eval_rel = copy(evaluation, f"data/{evaluation.name}")
    log_rel = copy(log, f"data/logs/{log.name}") if log is not None else None
    if truth is not None:
        truth = (copy(truth[0], f"data/ground-truth/{truth[0].name}"), truth[1], truth[2])
    model_rel = copy(model_file, f"models/{model_id}/versions/1.0/{model_file.name}") if model_file else None
    store_rel = None
    if mlflow is not None and tracked is not None:
        store_rel = _copy_store(mlflow, root, made)

    write("governance.yml", _governance(store_rel))
    write(f"models/{model_id}/model.yml", _model_card(model_name, guess, sensitive, table, label))
    write(
        f"models/{model_id}/versions/1.0/version.yml",
        _version(
            today, guess, eval_rel, label, prediction, score, features, model_rel, log_rel, log_table,
            timestamp, log_id, tracked, feature_notes, trusted, truth, kinds,
        ),
    )  # fmt: skip
    write(f"models/{model_id}/versions/1.0/approvals.yml", _approvals())
    write("datasets/evaluation-data.yml", _datasheet("evaluation data", len(table), sensitive))
    write("datasets/training-data.yml", _datasheet("training data", None, sensitive))
    return made


def _drift_kinds(
    table: pd.DataFrame, features: list[str], log_table: pd.DataFrame | None, timestamp: str | None
) -> dict[str, tuple[str, str]]:
    """Each monitored feature → (kind, why), decided from the evaluation table (the reference init
    writes) by the rule drift applies to a feature whose kind is not declared, so the kinds written are
    the ones the build would have used."""
    if log_table is None:
        return {}
    monitored = [f for f in features if f in log_table.columns and f != timestamp]
    return {name: (infer_kind(table[name]), kind_reason(table[name])) for name in monitored}


def _kinds_note(kinds: dict[str, tuple[str, str]]) -> str:
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


def _tracked_run(store_path: Path, run_id: str | None) -> TrackedRun:
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


def _copy_store(store: Path, root: Path, made: Scaffold) -> str:
    """Copy the tracking store into the workspace (a build reads only files inside it). Of a file
    store, run metadata is copied, not artifacts (model binaries, plots), which modelgov does not read."""
    if store.is_file():
        target = root / "mlflow" / store.name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(store, target)
        made.files.append(target)
    else:
        target = root / "mlflow" / store.name
        shutil.copytree(store, target, ignore=shutil.ignore_patterns("artifacts"))
        made.files.append(target)
    return target.relative_to(root).as_posix()
