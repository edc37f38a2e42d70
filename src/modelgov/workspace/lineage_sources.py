"""Load the records other tools keep (an MLflow store, OpenLineage events) that governance.yml names.

They are read at load time, like every other input, so that a store that cannot be read or an event
that is not valid is reported with the workspace's other problems — naming the file, line and key —
before any analysis runs. Every file read is hashed into the manifest's inputs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from modelgov.errors import Problem
from modelgov.sources.mlflow_store import MlflowStore, MlflowStoreError, read_store
from modelgov.sources.openlineage import OpenLineageError, OpenLineageRecords, read_events
from modelgov.sources.tables import GlobTooBroad, bounded_glob
from modelgov.workspace.files import FileRegistry
from modelgov.workspace.governance_schema import Governance
from modelgov.workspace.paths import NUL_REFUSAL, refusal
from modelgov.workspace.yamlsource import YamlDocument

__all__ = ["LineageRecords", "load_lineage_sources"]

_EVENT_SUFFIXES = (".json", ".jsonl", ".ndjson")
#: The file store keeps model files under ``artifacts/``; they are not lineage records and not read.
_SKIPPED_FOLDERS = ("artifacts", ".trash")


@dataclass(frozen=True)
class LineageRecords:
    mlflow: MlflowStore | None = None
    mlflow_path: str | None = None
    openlineage: OpenLineageRecords | None = None
    openlineage_files: tuple[str, ...] = ()


def _inside(root: Path, doc: YamlDocument, key: str, rel: str, problems: list[Problem]) -> Path | None:
    if Path(rel).is_absolute() or "\\" in rel or ".." in Path(rel).parts:
        problems.append(doc.problem(("lineage", key), f"{rel!r} must be a relative path inside the workspace"))
        return None
    if "\x00" in rel:  # a glob of event files would match nothing rather than say why
        problems.append(doc.problem(("lineage", key), f"{rel!r} {NUL_REFUSAL}"))
        return None
    return root / rel


def load_lineage_sources(
    root: Path, governance: Governance, doc: YamlDocument, files: FileRegistry, problems: list[Problem]
) -> LineageRecords:
    """Read ``governance.lineage``; append problems (never raise) and return what could be read."""
    spec = governance.lineage
    store, store_path, events, event_files = None, None, None, ()
    if spec.mlflow is not None:
        path = _inside(root, doc, "mlflow", spec.mlflow, problems)
        if path is not None:
            store = _read_mlflow(root, path, spec.mlflow, doc, files, problems)
            store_path = spec.mlflow.rstrip("/")
    if spec.openlineage is not None:
        path = _inside(root, doc, "openlineage", spec.openlineage, problems)
        if path is not None:
            found, refused, invalid = _event_files(root, spec.openlineage)
            event_files = tuple(found)
            for rel, reason in refused:
                problems.append(Problem(rel, None, "", f"{reason} (named by lineage.openlineage in governance.yml)"))
            if invalid is not None:
                problems.append(doc.problem(("lineage", "openlineage"), invalid))
            elif refused:
                event_files = ()
            elif not event_files:
                problems.append(
                    doc.problem(("lineage", "openlineage"), f"no .json or .jsonl file matches {spec.openlineage!r}")
                )
            else:
                try:
                    events = read_events([(root / rel, rel) for rel in event_files])
                except OpenLineageError as exc:
                    problems.append(Problem(exc.file, exc.line, exc.key, f"OpenLineage event: {exc}"))
                for rel in event_files:
                    files.register(rel)
    return LineageRecords(store, store_path, events, event_files)


def _read_mlflow(
    root: Path, path: Path, rel: str, doc: YamlDocument, files: FileRegistry, problems: list[Problem]
) -> MlflowStore | None:
    reason = refusal(root.resolve(), path)
    if reason is not None:
        problems.append(doc.problem(("lineage", "mlflow"), f"{rel!r} {reason}"))
        return None
    if not path.exists():
        problems.append(doc.problem(("lineage", "mlflow"), f"{rel!r} does not exist (expected mlflow.db or mlruns/)"))
        return None
    refused = _refused_in_store(root, path)
    if refused:
        for member, why in refused:
            problems.append(Problem(member, None, "", f"{why} (inside the MLflow store named by lineage.mlflow)"))
        return None
    try:
        store = read_store(path)
    except MlflowStoreError as exc:
        where = f"{rel.rstrip('/')}/{exc.file}" if exc.file else rel
        problems.append(Problem(where, None, "", f"MLflow store: {exc}"))
        return None
    for member in _store_files(root, path):
        files.register(member)
    return store


def _refused_in_store(root: Path, path: Path) -> list[tuple[str, str]]:
    """Entries of a file store (``mlruns/``) that lead outside the workspace or are not plain files
    or folders, as (workspace path, reason). The store's reader opens ``meta.yaml``, params, metrics
    and tags wherever links point, so the whole tree is checked first; ``artifacts/`` (never opened)
    is skipped."""
    if not path.is_dir():
        return []
    real_root = root.resolve()
    found = []
    for folder, dirs, files in os.walk(path):
        dirs[:] = [d for d in dirs if d not in _SKIPPED_FOLDERS]
        for name in sorted([*dirs, *files]):
            member = Path(folder) / name
            reason = refusal(real_root, member)
            if reason is not None:
                found.append((member.relative_to(root).as_posix(), reason))
    return found


def _store_files(root: Path, path: Path) -> list[str]:
    """The files of the store that were read: the database, or the file store's records."""
    if path.is_file():
        return [path.relative_to(root).as_posix()]
    found = []
    for member in sorted(path.rglob("*")):
        relative = member.relative_to(path).parts
        if any(part in _SKIPPED_FOLDERS for part in relative) or not member.is_file() or member.is_symlink():
            continue
        found.append(member.relative_to(root).as_posix())
    return found


def _event_files(root: Path, pattern: str) -> tuple[list[str], list[tuple[str, str]], str | None]:
    """A file, a folder (every event file under it) or a glob, sorted; the matches refused because
    they lead outside the workspace or are FIFOs or devices, as (path, reason); and what is wrong
    with the pattern itself, if anything."""
    target = root / pattern
    if target.is_dir():
        candidates = [p for p in target.rglob("*") if p.suffix.lower() in _EVENT_SUFFIXES]
    elif target.is_file():
        candidates = [target]
    else:
        # pathlib's glob, bounded, as for tables: glob.glob's ``**`` followed links to folders, so two
        # links to ``.`` multiplied the paths until the build was killed. A trailing ``**`` names every
        # file below, as it did with glob.glob (pathlib's names only the folders)
        if pattern.rstrip("/").endswith("**"):
            pattern = pattern.rstrip("/") + "/*"
        try:
            candidates = bounded_glob(root, pattern)
        except GlobTooBroad as exc:
            return [], [], str(exc)
        except (ValueError, NotImplementedError) as exc:  # "**.jsonl", an absolute pattern
            return [], [], f"{pattern!r} is not a valid glob pattern: {exc}"
    real_root = root.resolve()
    found, refused = [], []
    for candidate in candidates:
        rel = candidate.relative_to(root).as_posix()
        reason = refusal(real_root, candidate)
        if reason is not None:
            refused.append((rel, reason))
        elif candidate.is_file():
            found.append(rel)
    return sorted(found), sorted(refused), None
