"""Read OpenLineage events (JSON or JSON Lines) into jobs and the datasets they read and wrote.

OpenLineage emits one *RunEvent* per state change of a job run (START, RUNNING, COMPLETE, FAIL,
ABORT), each naming the job (``namespace`` + ``name``) and some of the run's input and output
datasets (``namespace`` + ``name``, e.g. ``file`` + ``/lake/credit/train.parquet``). Static lineage
(*JobEvent*, no run) and *DatasetEvent* records are accepted too. The graph wants jobs, not each of
their runs — a nightly extract would otherwise add a node per night — so events are folded per job:
the union of its inputs and outputs, how many runs it had and the latest run's state and time.

A dataset's ``version`` facet (``DatasetVersionDatasetFacet.datasetVersion``) is kept, because it
is how a dataset written by a pipeline is matched with a workspace datasheet file by content digest.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["OlDataset", "OlJob", "OpenLineageError", "OpenLineageRecords", "read_events"]

#: A single line (event) larger than this is refused rather than parsed: events are small.
MAX_EVENT_BYTES = 8 << 20
MAX_JSON_BYTES = 32 << 20
#: JSON nested deeper than Python's parser can follow (about a thousand levels): no OpenLineage event is
NESTED_TOO_DEEPLY = "JSON nested too deeply to read (no OpenLineage event nests like this)"
_TERMINAL = ("COMPLETE", "FAIL", "ABORT")


class OpenLineageError(Exception):
    def __init__(self, file: str, line: int | None, key: str, message: str):
        super().__init__(message)
        self.file, self.line, self.key = file, line, key


@dataclass(frozen=True, order=True)
class OlDataset:
    namespace: str
    name: str
    version: str | None = None  # datasetVersion facet

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)


@dataclass
class OlJob:
    namespace: str
    name: str
    inputs: dict[tuple[str, str], OlDataset] = field(default_factory=dict)
    outputs: dict[tuple[str, str], OlDataset] = field(default_factory=dict)
    runs: set[str] = field(default_factory=set)
    #: run id ("" for a JobEvent, which names no run) → the keys of the datasets that run read, and wrote:
    #: what one run made from what, which the job's inputs and outputs over all its runs do not say
    run_inputs: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    run_outputs: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    last_state: str | None = None
    last_time: str | None = None
    sources: set[str] = field(default_factory=set)  # files that mention the job


@dataclass
class OpenLineageRecords:
    jobs: dict[tuple[str, str], OlJob] = field(default_factory=dict)
    datasets: dict[tuple[str, str], OlDataset] = field(default_factory=dict)  # from DatasetEvents
    events: int = 0


def _text(value: Any, file: str, line: int, key: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise OpenLineageError(file, line, key, "must be a non-empty string")
    return value


def _datasets(items: Any, file: str, line: int, key: str) -> Iterator[OlDataset]:
    if items is None:
        return
    if not isinstance(items, list):
        raise OpenLineageError(file, line, key, "must be a list of datasets")
    for index, item in enumerate(items):
        where = f"{key}[{index}]"
        if not isinstance(item, dict):
            raise OpenLineageError(file, line, where, "must be an object with namespace and name")
        namespace = _text(item.get("namespace"), file, line, f"{where}.namespace")
        name = _text(item.get("name"), file, line, f"{where}.name")
        facets = item.get("facets") if isinstance(item.get("facets"), dict) else {}
        version_facet = facets.get("version") if isinstance(facets.get("version"), dict) else {}
        version = version_facet.get("datasetVersion")
        yield OlDataset(namespace, name, str(version) if version not in (None, "") else None)


def _events(path: Path, display: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, event) pairs: a ``.json`` file holds one event or a list of them, any other file
    is JSON Lines (one event per line)."""
    if path.suffix.lower() == ".json":
        if path.stat().st_size > MAX_JSON_BYTES:
            raise OpenLineageError(display, None, "", "a .json file over 32 MiB: write large event logs as JSON Lines")
        try:
            parsed = json.loads(path.read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise OpenLineageError(display, getattr(exc, "lineno", None), "", f"not valid JSON: {exc}") from None
        except RecursionError:
            raise OpenLineageError(display, None, "", NESTED_TOO_DEEPLY) from None
        for event in parsed if isinstance(parsed, list) else [parsed]:
            yield 1, event
        return
    with open(path, "rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if len(raw) > MAX_EVENT_BYTES:
                raise OpenLineageError(display, number, "", "event larger than 8 MiB")
            if not raw.strip():
                continue
            try:
                yield number, json.loads(raw.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError) as exc:
                raise OpenLineageError(display, number, "", f"not valid JSON: {exc}") from None
            except RecursionError:
                raise OpenLineageError(display, number, "", NESTED_TOO_DEEPLY) from None


def read_events(files: list[tuple[Path, str]]) -> OpenLineageRecords:
    """Fold the events of ``files`` ((path, workspace-relative name) pairs, read in that order)."""
    records = OpenLineageRecords()
    for path, display in files:
        for line, event in _events(path, display):
            if not isinstance(event, dict):
                raise OpenLineageError(display, line, "", "an event must be a JSON object")
            records.events += 1
            _fold(records, event, display, line)
    return records


def _fold(records: OpenLineageRecords, event: dict[str, Any], file: str, line: int) -> None:
    if "job" not in event:
        if isinstance(event.get("dataset"), dict):  # DatasetEvent
            for dataset in _datasets([event["dataset"]], file, line, "dataset"):
                records.datasets[dataset.key] = dataset
            return
        raise OpenLineageError(file, line, "job", "missing: an OpenLineage RunEvent or JobEvent names its job")
    job_spec = event["job"]
    if not isinstance(job_spec, dict):
        raise OpenLineageError(file, line, "job", "must be an object with namespace and name")
    namespace = _text(job_spec.get("namespace"), file, line, "job.namespace")
    name = _text(job_spec.get("name"), file, line, "job.name")
    job = records.jobs.setdefault((namespace, name), OlJob(namespace, name))
    job.sources.add(file)
    run = event.get("run")
    if run is not None and not isinstance(run, dict):
        raise OpenLineageError(file, line, "run", "must be an object with a runId")
    run_id = _text(run.get("runId"), file, line, "run.runId") if run is not None else ""
    read, wrote = job.run_inputs.setdefault(run_id, set()), job.run_outputs.setdefault(run_id, set())
    for dataset in _datasets(event.get("inputs"), file, line, "inputs"):
        job.inputs[dataset.key] = _newer(job.inputs.get(dataset.key), dataset)
        read.add(dataset.key)
    for dataset in _datasets(event.get("outputs"), file, line, "outputs"):
        job.outputs[dataset.key] = _newer(job.outputs.get(dataset.key), dataset)
        wrote.add(dataset.key)
    if run is None:
        return
    job.runs.add(run_id)
    time = event.get("eventTime")
    if time is not None and not isinstance(time, str):
        raise OpenLineageError(file, line, "eventTime", "must be an ISO 8601 string")
    state = event.get("eventType")
    # the latest event decides the state; at equal times a terminal state wins over START/RUNNING
    rank = (time or "", state in _TERMINAL)
    if job.last_time is None or rank >= (job.last_time, job.last_state in _TERMINAL):
        job.last_time, job.last_state = time or job.last_time, str(state) if state else job.last_state


def _newer(known: OlDataset | None, seen: OlDataset) -> OlDataset:
    """Keep a dataset's version facet when a later event mentions the dataset without one."""
    if known is not None and seen.version is None:
        return known
    return seen
