"""Read an MLflow tracking store from disk, without MLflow and without a tracking server.

Two layouts exist: the SQLite database current MLflow writes by default (``mlflow.db``) and the older
file store (``mlruns/``: one folder per experiment and run, YAML ``meta.yaml`` files and one file per
param, metric and tag). Both are read into the same records — runs with their params, latest metrics,
tags and dataset inputs; registered model versions with their aliases — which is all the lineage graph
and the model card need. Reading the files directly keeps ``mlflow`` (and its server dependencies) out
of modelgov's install, and opens the database read-only so a build can never change a team's store.

Only the columns that have existed since MLflow 2.4 (when dataset inputs appeared) are queried, so an
older or newer store reads the same way; a table a store does not have yet (datasets before 2.4,
aliases before 2.3) simply contributes nothing.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelgov.workspace.yamlsource import parse_yaml

__all__ = ["MlflowDatasetInput", "MlflowModelVersion", "MlflowRun", "MlflowStore", "MlflowStoreError", "read_store"]

#: File store run status codes (``mlflow.entities.RunStatus``).
_FILE_STORE_STATUS = {1: "RUNNING", 2: "SCHEDULED", 3: "FINISHED", 4: "FAILED", 5: "KILLED"}
#: Keys of a dataset's JSON ``source`` that hold its location, most specific first.
_SOURCE_KEYS = ("uri", "path", "url", "table_name", "delta_table_name")
_MAX_META_BYTES = 1 << 20
#: A param's or a tag's value file: MLflow's validation (``MAX_PARAM_VAL_LENGTH``, ``MAX_TAG_VAL_LENGTH``)
#: has limited them to at most a few thousand characters in every release (a param 250, then 6,000; a tag
#: 5,000, then 8,000), so 64 KiB is room for any value it writes, in any encoding.
_MAX_VALUE_BYTES = 64 << 10
#: A metric's history (a ``timestamp value step`` line per step): about a million steps.
_MAX_METRIC_BYTES = 32 << 20


class MlflowStoreError(Exception):
    """The store cannot be read; ``file`` is the store-relative file at fault (empty for the store)."""

    def __init__(self, file: str, message: str):
        super().__init__(message)
        self.file = file


@dataclass(frozen=True)
class MlflowDatasetInput:
    """A dataset logged as a run input (``mlflow.log_input``)."""

    name: str
    digest: str
    source_type: str
    location: str | None  # the uri/path in the dataset's source, when it has one
    context: str | None  # `training`, `eval`, … from the input's `mlflow.data.context` tag


@dataclass(frozen=True)
class MlflowRun:
    run_id: str
    name: str
    experiment: str
    status: str
    start: str | None
    end: str | None
    user: str | None
    params: dict[str, str] = field(default_factory=dict)
    metrics: dict[str, float] = field(default_factory=dict)
    tags: dict[str, str] = field(default_factory=dict)
    inputs: tuple[MlflowDatasetInput, ...] = ()


@dataclass(frozen=True)
class MlflowModelVersion:
    """A registered model version; ``aliases`` are the registry aliases pointing at it (`champion`)."""

    name: str
    version: str
    run_id: str | None
    source: str | None
    status: str | None
    stage: str | None
    created: str | None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class MlflowStore:
    kind: str  # "sqlite" or "file store"
    runs: tuple[MlflowRun, ...]
    model_versions: tuple[MlflowModelVersion, ...]

    def run(self, run_id: str) -> MlflowRun | None:
        return next((run for run in self.runs if run.run_id == run_id), None)


def read_store(path: Path) -> MlflowStore:
    """Read the store at ``path``: a SQLite file or an ``mlruns/`` folder. Raises MlflowStoreError."""
    if path.is_dir():
        return _FileStore(path).read()
    if path.is_file():
        return _read_sqlite(path)
    raise MlflowStoreError("", "does not exist")


def _iso_ms(value: Any) -> str | None:
    if value is None or value == "":
        return None
    try:
        moment = dt.datetime.fromtimestamp(int(value) / 1000, tz=dt.UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _location(source: Any) -> str | None:
    """The location inside a dataset's ``source`` (a JSON string such as ``{"uri": "s3://…"}``)."""
    if not isinstance(source, str) or not source:
        return None
    try:
        parsed = json.loads(source)
    except (json.JSONDecodeError, RecursionError):  # not JSON, or nested past what the parser follows
        return source
    if isinstance(parsed, dict):
        for key in _SOURCE_KEYS:
            if isinstance(parsed.get(key), str) and parsed[key]:
                return parsed[key]
        return None
    return parsed if isinstance(parsed, str) else None


def _float(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None


# --------------------------------------------------------------------------- SQLite


def _read_sqlite(path: Path) -> MlflowStore:
    try:
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise MlflowStoreError("", f"cannot open the SQLite file: {exc}") from None
    try:
        return _SqliteStore(connection).read()
    except sqlite3.DatabaseError as exc:
        raise MlflowStoreError("", f"not a readable MLflow SQLite store: {exc}") from None
    finally:
        connection.close()


class _SqliteStore:
    def __init__(self, connection: sqlite3.Connection):
        self.db = connection
        self.tables = {name for (name,) in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "runs" not in self.tables or "experiments" not in self.tables:
            raise MlflowStoreError("", "has no `runs`/`experiments` tables: it is not an MLflow tracking store")

    def _rows(self, table: str, columns: str, where: str = "") -> list[tuple[Any, ...]]:
        if table not in self.tables:
            return []
        return list(self.db.execute(f"SELECT {columns} FROM {table} {where}"))

    def read(self) -> MlflowStore:
        experiments = {str(i): name for i, name in self._rows("experiments", "experiment_id, name")}
        params: dict[str, dict[str, str]] = defaultdict(dict)
        for key, value, run in self._rows("params", "key, value, run_uuid"):
            params[run][key] = value
        metrics: dict[str, dict[str, float]] = defaultdict(dict)
        for key, value, run in self._rows("latest_metrics", "key, value, run_uuid", "ORDER BY key"):
            number = _float(value)
            if number is not None:
                metrics[run][key] = number
        tags: dict[str, dict[str, str]] = defaultdict(dict)
        for key, value, run in self._rows("tags", "key, value, run_uuid"):
            tags[run][key] = value
        inputs = self._inputs()
        runs = []
        for run_id, name, experiment, status, start, end, user, stage in self._rows(
            "runs",
            "run_uuid, name, experiment_id, status, start_time, end_time, user_id, lifecycle_stage",
            "ORDER BY start_time, run_uuid",
        ):
            if stage == "deleted":
                continue
            runs.append(
                MlflowRun(
                    run_id=run_id,
                    name=name or tags[run_id].get("mlflow.runName", run_id),
                    experiment=experiments.get(str(experiment), str(experiment)),
                    status=str(status),
                    start=_iso_ms(start),
                    end=_iso_ms(end),
                    user=user or None,
                    params=dict(sorted(params[run_id].items())),
                    metrics=dict(sorted(metrics[run_id].items())),
                    tags=dict(sorted(tags[run_id].items())),
                    inputs=tuple(inputs.get(run_id, ())),
                )
            )
        return MlflowStore("sqlite", tuple(runs), tuple(self._model_versions()))

    def _inputs(self) -> dict[str, list[MlflowDatasetInput]]:
        datasets = {
            uuid: (name, digest, source_type, source)
            for uuid, name, digest, source_type, source in self._rows(
                "datasets", "dataset_uuid, name, digest, dataset_source_type, dataset_source"
            )
        }
        contexts = {
            uuid: value
            for uuid, key, value in self._rows("input_tags", "input_uuid, name, value")
            if key == "mlflow.data.context"
        }
        found: dict[str, list[MlflowDatasetInput]] = defaultdict(list)
        for uuid, source_type, source_id, destination_type, run_id in self._rows(
            "inputs", "input_uuid, source_type, source_id, destination_type, destination_id", "ORDER BY input_uuid"
        ):
            if source_type != "DATASET" or destination_type != "RUN" or source_id not in datasets:
                continue
            name, digest, kind, source = datasets[source_id]
            found[run_id].append(MlflowDatasetInput(name, digest, kind, _location(source), contexts.get(uuid)))
        for run_inputs in found.values():
            run_inputs.sort(key=lambda item: (item.context or "", item.name, item.digest))
        return found

    def _model_versions(self) -> Iterable[MlflowModelVersion]:
        aliases: dict[tuple[str, str], list[str]] = defaultdict(list)
        for alias, version, name in self._rows("registered_model_aliases", "alias, version, name"):
            aliases[(name, str(version))].append(alias)
        for name, version, run_id, source, status, created, stage in self._rows(
            "model_versions",
            "name, version, run_id, source, status, creation_time, current_stage",
            "ORDER BY name, version",
        ):
            yield MlflowModelVersion(
                name=name,
                version=str(version),
                run_id=run_id or None,
                source=source or None,
                status=status or None,
                stage=None if stage in (None, "None") else stage,
                created=_iso_ms(created),
                aliases=tuple(sorted(aliases[(name, str(version))])),
            )


# --------------------------------------------------------------------------- file store


class _FileStore:
    """``mlruns/<experiment id>/<run id>/{meta.yaml,params,metrics,tags,inputs}`` and ``mlruns/models``."""

    def __init__(self, root: Path):
        self.root = root

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    def _meta(self, path: Path) -> dict[str, Any]:
        """A meta file, read by the workspace's bounded YAML reader: an MLflow store inside the
        workspace is written by whoever writes the workspace, and a kilobyte of nested aliases
        expanded by a plain ``safe_load`` took gigabytes."""
        try:
            if path.stat().st_size > _MAX_META_BYTES:
                raise MlflowStoreError(self._rel(path), "is larger than 1 MiB; not an MLflow meta file")
            raw = path.read_bytes()
        except OSError as exc:
            raise MlflowStoreError(self._rel(path), f"cannot read: {exc}") from None
        doc = parse_yaml(raw, self._rel(path))
        if doc.problems:
            raise MlflowStoreError(self._rel(path), f"cannot read: {doc.problems[0].message}")
        data = doc.data
        if not isinstance(data, dict):
            raise MlflowStoreError(self._rel(path), "is not a YAML mapping")
        return data

    def _files(self, folder: Path) -> list[tuple[str, Path]]:
        """(key, file) for each key of a run's params, tags or metrics: one file per key (keys may
        contain '/', which become sub-folders)."""
        if not folder.is_dir():
            return []
        return [
            (path.relative_to(folder).as_posix(), path)
            for path in sorted(folder.rglob("*"))
            if path.is_file() and not path.is_symlink()
        ]

    def _text(self, path: Path, limit: int) -> str:
        """A value file's text, refused (naming it) when it is larger than ``limit`` or not UTF-8: the
        store is written by whoever writes the workspace, and each value goes into the manifest."""
        try:
            if path.stat().st_size > limit:
                raise MlflowStoreError(
                    self._rel(path), f"is larger than {limit >> 10:,} KiB; MLflow writes no value this long"
                )
            return path.read_bytes().decode("utf-8").strip()
        except UnicodeDecodeError:
            raise MlflowStoreError(self._rel(path), "is not UTF-8 text") from None
        except OSError as exc:
            raise MlflowStoreError(self._rel(path), f"cannot read: {exc}") from None

    def _values(self, folder: Path) -> dict[str, str]:
        """A run's params or tags, each value at most :data:`_MAX_VALUE_BYTES`."""
        return {key: self._text(path, _MAX_VALUE_BYTES) for key, path in self._files(folder)}

    def _metrics(self, folder: Path) -> dict[str, float]:
        """Each metric file holds `timestamp value step` lines; the latest is the one with the highest
        (step, timestamp), as MLflow's own `latest_metrics` defines it."""
        latest: dict[str, float] = {}
        for key, path in self._files(folder):
            best: tuple[int, int] | None = None
            for line in self._text(path, _MAX_METRIC_BYTES).splitlines():
                parts = line.split()
                if len(parts) < 2:
                    continue
                try:
                    order = (int(parts[2]) if len(parts) > 2 else 0, int(parts[0]))
                except ValueError:
                    raise MlflowStoreError(self._rel(folder / key), f"bad metric line {line!r}") from None
                value = _float(parts[1])
                if value is not None and (best is None or order >= best):
                    best, latest[key] = order, value
        return dict(sorted(latest.items()))

    def read(self) -> MlflowStore:
        experiments = [
            folder
            for folder in sorted(self.root.iterdir())
            if folder.is_dir() and folder.name not in ("models", ".trash") and (folder / "meta.yaml").is_file()
        ]
        if not experiments and not (self.root / "models").is_dir():
            raise MlflowStoreError("", "has no experiment folders with a meta.yaml: it is not an MLflow file store")
        runs = []
        for folder in experiments:
            experiment = self._meta(folder / "meta.yaml")
            if experiment.get("lifecycle_stage") == "deleted":
                continue
            datasets = {
                meta_path.parent.name: self._meta(meta_path)
                for meta_path in sorted((folder / "datasets").glob("*/meta.yaml"))
            }
            for run_dir in sorted(folder.iterdir()):
                if run_dir.name == "datasets" or not (run_dir / "meta.yaml").is_file():
                    continue
                run = self._run(run_dir, str(experiment.get("name", folder.name)), datasets)
                if run is not None:
                    runs.append(run)
        runs.sort(key=lambda run: (run.start or "", run.run_id))
        return MlflowStore("file store", tuple(runs), tuple(self._model_versions()))

    def _run(self, run_dir: Path, experiment: str, datasets: dict[str, dict[str, Any]]) -> MlflowRun | None:
        meta = self._meta(run_dir / "meta.yaml")
        if meta.get("lifecycle_stage") == "deleted":
            return None
        tags = self._values(run_dir / "tags")
        inputs = []
        for input_meta in sorted((run_dir / "inputs").glob("*/meta.yaml")):
            entry = self._meta(input_meta)
            dataset = datasets.get(str(entry.get("source_id")))
            if entry.get("source_type") != "DATASET" or dataset is None:
                continue
            context = (entry.get("tags") or {}).get("mlflow.data.context")
            inputs.append(
                MlflowDatasetInput(
                    name=str(dataset.get("name", "")),
                    digest=str(dataset.get("digest", "")),
                    source_type=str(dataset.get("source_type", "")),
                    location=_location(dataset.get("source")),
                    context=str(context) if context is not None else None,
                )
            )
        inputs.sort(key=lambda item: (item.context or "", item.name, item.digest))
        status = meta.get("status")
        run_id = str(meta.get("run_id") or meta.get("run_uuid") or run_dir.name)
        return MlflowRun(
            run_id=run_id,
            name=str(meta.get("run_name") or tags.get("mlflow.runName") or run_id),
            experiment=experiment,
            status=_FILE_STORE_STATUS.get(status, str(status)) if isinstance(status, int) else str(status),
            start=_iso_ms(meta.get("start_time")),
            end=_iso_ms(meta.get("end_time")),
            user=str(meta["user_id"]) if meta.get("user_id") else None,
            params=dict(sorted(self._values(run_dir / "params").items())),
            metrics=self._metrics(run_dir / "metrics"),
            tags=dict(sorted(tags.items())),
            inputs=tuple(inputs),
        )

    def _model_versions(self) -> Iterable[MlflowModelVersion]:
        models = self.root / "models"
        if not models.is_dir():
            return
        for model_dir in sorted(models.iterdir()):
            if not (model_dir / "meta.yaml").is_file():
                continue
            model = self._meta(model_dir / "meta.yaml")
            aliases: dict[str, list[str]] = defaultdict(list)
            for alias, version in (model.get("aliases") or {}).items():
                aliases[str(version)].append(str(alias))
            for version_meta in sorted((model_dir).glob("version-*/meta.yaml")):
                meta = self._meta(version_meta)
                version = str(meta.get("version", version_meta.parent.name.removeprefix("version-")))
                stage = meta.get("current_stage")
                yield MlflowModelVersion(
                    name=str(meta.get("name", model_dir.name)),
                    version=version,
                    run_id=str(meta["run_id"]) if meta.get("run_id") else None,
                    source=str(meta["source"]) if meta.get("source") else None,
                    status=str(meta["status"]) if meta.get("status") else None,
                    stage=None if stage in (None, "None") else str(stage),
                    created=_iso_ms(meta.get("creation_timestamp")),
                    aliases=tuple(sorted(aliases[version])),
                )
