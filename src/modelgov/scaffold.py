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

This module checks the options against the files and writes the workspace; what is inferred from
the files is in :mod:`modelgov.scaffold_inference`, and the YAML text in :mod:`modelgov.scaffold_yaml`.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from modelgov.scaffold_inference import (
    InitError,
    TaskGuess,
    drift_kinds,
    infer_task,
    is_time,
    kinds_note,
    model_features,
    skops_types,
    timestamp_column,
    tracked_run,
    untrusted_note,
)
from modelgov.scaffold_yaml import TODO, _approvals, _datasheet, _governance, _model_card, _plain, _version
from modelgov.sources.tables import TableError, read_columns, read_table, table_format
from modelgov.workspace.load import did_you_mean

__all__ = ["Scaffold", "scaffold_workspace"]


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
    features, feature_notes = model_features(
        table, evaluation, {label, prediction, *([score] if score else [])}, sensitive, sensitive_not_features,
        model_file,
    )  # fmt: skip
    log_table = None
    if log is not None:
        log_table = _read(log, "monitoring log", rows=10_000)
        timestamp = timestamp or timestamp_column(log_table, log)
        _require(log_table, log, "--timestamp", [timestamp])
        if not is_time(log_table[timestamp]):
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
    untrusted = skops_types(model_file) if model_file is not None and model_file.suffix.lower() == ".skops" else None
    tracked = tracked_run(mlflow, mlflow_run) if mlflow is not None else None

    registered = tracked.registered if tracked else None
    model_name = (
        name or registered or evaluation.stem.replace("_", " ").replace("-", " ").strip().capitalize() or "Model"
    )
    model_id = _slug(name or registered or evaluation.stem)
    made = Scaffold(root=root, model_id=model_id, task=guess, notes=list(feature_notes))
    kinds = drift_kinds(table, features, log_table, timestamp)
    if kinds:
        made.notes.append(kinds_note(kinds))
    if untrusted is not None:
        made.notes.append(untrusted_note(untrusted))
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
            timestamp, log_id, tracked, feature_notes, untrusted, truth, kinds,
        ),
    )  # fmt: skip
    write(f"models/{model_id}/versions/1.0/approvals.yml", _approvals())
    write("datasets/evaluation-data.yml", _datasheet("evaluation data", len(table), sensitive))
    write("datasets/training-data.yml", _datasheet("training data", None, sensitive))
    return made


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
