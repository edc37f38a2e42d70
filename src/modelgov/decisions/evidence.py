"""The evidence a sign-off decides on, as a digest that changes when any of it changes.

An approval is a statement about particular files: the model card, the version's record, the tables
it was evaluated on, the model file and the datasheets of its data. ``modelgov approve`` records the
SHA-256 of each of them in the audit entry it signs; every build recomputes them, and an approval
whose files changed since is shown as *stale: evidence changed since sign-off* and no policy counts
it.

Two things are deliberately left out:

* the version's ``status`` value: ``modelgov promote`` rewrites it, and a promotion must not make the
  approvals it relied on stale (the rest of ``version.yml`` is in);
* production logs and late ground truth: they grow every day, and their freshness is a policy of
  its own (``max_age_days.monitoring``), not a reason to re-approve.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from modelgov.workspace.load import VersionEntry, Workspace

#: The status line ``modelgov promote`` rewrites (its result is re-parsed to prove nothing else changed).
STATUS_LINE = re.compile(r"(?m)^status:[ \t]*[^\s#]+")


@dataclass(frozen=True)
class Evidence:
    """Workspace-relative path → SHA-256 of each file a sign-off of one version decides on."""

    files: Mapping[str, str]

    @property
    def digest(self) -> str:
        return evidence_digest(self.files)

    def changed_since(self, recorded: Mapping[str, str]) -> list[str]:
        """The paths that differ between ``recorded`` (at sign-off) and now: changed, added or removed."""
        paths = sorted(set(recorded) | set(self.files))
        return [p for p in paths if recorded.get(p) != self.files.get(p)]


def evidence_digest(files: Mapping[str, str]) -> str:
    """One SHA-256 over the sorted (path, SHA-256) pairs."""
    text = json.dumps(sorted(files.items()), separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def version_file_digest(data: bytes) -> str:
    """SHA-256 of a version.yml's content with its status left out: the canonical JSON of the
    parsed document without the top-level ``status`` key. Parsed, not edited as text, so no way of
    writing the file (flow style, anchors, several keys on a line) can hide a change behind the
    status value; comments and layout, which are not evidence, do not count."""
    try:
        document = yaml.safe_load(data)
    except (yaml.YAMLError, RecursionError, ValueError):
        document = None
    if not isinstance(document, dict):  # not a mapping (the loader refuses such a file): the bytes
        return hashlib.sha256(data).hexdigest()
    return version_document_digest(document)


def parsed_version_digest(raw: bytes, document: Mapping) -> str:
    """:func:`version_file_digest` of the version.yml the workspace loader parsed into ``document``
    from ``raw``, without parsing it again (a second parse was 3 % of a warm 100-model build). Both
    parse with PyYAML's safe constructor, so they read the same data, with one exception: the loader
    decodes the bytes with ``utf-8-sig``, which drops a leading byte-order mark before PyYAML skips
    another, while ``safe_load`` of the bytes skips only one. A file starting with two marks (an
    editor re-saving a file "with BOM") is therefore parsed again from its bytes, as
    ``modelgov approve`` always did, so a sign-off recorded before still matches."""
    if raw.startswith(codecs.BOM_UTF8 * 2):
        return version_file_digest(raw)
    return version_document_digest(document)


def version_document_digest(document: Mapping) -> str:
    """:func:`version_file_digest` of a version.yml already parsed (the document without ``status``)."""
    content = {str(key): value for key, value in document.items() if key != "status"}
    try:
        text = json.dumps(content, sort_keys=True, separators=(",", ":"), default=_text, ensure_ascii=False)
    except TypeError:
        # a nested mapping whose keys JSON cannot hold or sort (a date, or keys of several types,
        # under training.params): each key is written with its type, in a text that no document
        # without such keys can produce; such a file could not be approved before at all
        typed = json.dumps(
            _typed_keys(content), sort_keys=True, separators=(",", ":"), default=_text, ensure_ascii=False
        )
        text = "keys with their types\n" + typed
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _text(value: object) -> str:
    """A value JSON has no type for (a date, a set), as text. A set of text (``!!set``) is written in
    sorted order: Python orders such a set by a hash that changes from one process to the next, so
    ``str`` would give ``approve`` and a later build different digests. Other sets are ordered the
    same in every process and keep the text they had."""
    if isinstance(value, set | frozenset) and any(isinstance(item, str | bytes) for item in value):
        return "{" + ", ".join(sorted(repr(item) for item in value)) + "}"
    return str(value)


def _typed_keys(value: object) -> object:
    """``value`` with every mapping key written as ``[type, key]`` text, recursively."""
    if isinstance(value, Mapping):
        return {json.dumps([type(k).__name__, str(k)], ensure_ascii=False): _typed_keys(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_typed_keys(v) for v in value]
    return value


def version_evidence(workspace: Workspace, model_id: str, version: VersionEntry) -> Evidence:
    """The evidence of ``version`` in a loaded workspace (hashes come from its file registry, so a
    build hashes each file once)."""
    model = workspace.models[model_id]
    spec = version.spec
    files: dict[str, str] = {
        model.source: workspace.files.register(model.source).sha256,
        version.source: version.digest,
    }
    datasets = set(spec.training.datasets)
    for evaluation in spec.evaluations:
        files[evaluation.data] = workspace.files.register(evaluation.data).sha256
        datasets.add(evaluation.dataset)
    artifact = spec.training.artifact_spec
    if artifact is not None:
        files[artifact.path] = workspace.files.register(artifact.path).sha256
    for dataset_id in sorted(datasets):
        entry = workspace.datasets.get(dataset_id)
        if entry is not None:
            files[entry.source] = workspace.files.register(entry.source).sha256
    return Evidence(files)
