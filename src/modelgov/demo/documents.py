"""The YAML documents every demo model writes: version.yml, approvals, datasheets — and their prose.

Keeping their shapes (and key order) in one place means the three example models produce documents
that read the same way, and a change to the input schema is made once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sklearn

from modelgov.demo.writer import WorkspaceWriter

#: Code repository every example version claims to come from (a reserved, non-resolving domain).
CODE_HOST = "https://git.acme.example/model-risk"


def fake_commit(*labels: str) -> str:
    """A stable 40-hex 'commit' for the example's fictional training code."""
    return hashlib.sha1("/".join(labels).encode("utf-8"), usedforsecurity=False).hexdigest()


def environment() -> dict[str, Any]:
    """The library versions that actually trained the example models (they shape the predictions)."""
    return {
        "python": f"{sys.version_info.major}.{sys.version_info.minor}",
        "packages": {
            "scikit-learn": sklearn.__version__,
            "numpy": np.__version__,
            "pandas": pd.__version__,
        },
    }


@dataclass(frozen=True)
class Sheet:
    """The prose of a datasheet (Gebru et al., 2021); files and row counts are added when written."""

    id: str
    name: str
    description: str
    source: str
    licence: str
    method: str
    period: str
    contains_pii: bool = False
    pii_fields: tuple[str, ...] = ()
    publish_records: bool = False
    legal_basis: str | None = None
    known_gaps: str | None = None
    references: tuple[str, ...] = field(default_factory=tuple)


def write_datasheet(writer: WorkspaceWriter, sheet: Sheet, files: Sequence[str], rows: int) -> None:
    """``datasets/<id>.yml`` with the sha256 of each data file, which must already be written."""
    doc: dict[str, Any] = {
        "name": sheet.name,
        "description": sheet.description,
        "source": sheet.source,
        "licence": sheet.licence,
        "collection": {"method": sheet.method, "period": sheet.period},
        "rows": int(rows),
        "contains_pii": sheet.contains_pii,
    }
    if sheet.pii_fields:
        doc["pii_fields"] = list(sheet.pii_fields)
    if sheet.publish_records:
        doc["publish_records"] = True
    if sheet.legal_basis:
        doc["legal_basis"] = sheet.legal_basis
    if sheet.known_gaps:
        doc["known_gaps"] = sheet.known_gaps
    doc["files"] = [{"path": path, "sha256": writer.written[path]} for path in files]
    if sheet.references:
        doc["references"] = list(sheet.references)
    writer.yaml(f"datasets/{sheet.id}.yml", doc)


def evaluation_entry(
    *,
    id: str,
    data: str,
    dataset: str,
    date: dt.date,
    label: str,
    prediction: str,
    features: Sequence[str],
    score: str | None = None,
    threshold: float | None = None,
) -> dict[str, Any]:
    """One item of ``evaluations:`` in version.yml, keys in reading order."""
    entry: dict[str, Any] = {"id": id, "data": data, "dataset": dataset, "date": date, "label": label}
    entry["prediction"] = prediction
    if score is not None:
        entry["score"] = score
        entry["positive_label"] = 1
        entry["threshold"] = threshold
    entry["features"] = list(features)
    return entry


@dataclass(frozen=True)
class Release:
    """How one version was built: inputs, estimator, training data and where it is in its lifecycle."""

    features: list[str]
    factory: Callable[[], Any]
    algorithm: str
    params: dict[str, Any]
    training: str  # dataset id
    created: dt.date
    status: str
    previous: str | None = None


def version_doc(
    model_id: str,
    version: str,
    release: Release,
    *,
    summary: str,
    artifact: str | dict[str, Any] | None,
    evaluations: list[dict[str, Any]],
    monitoring: dict[str, Any] | None = None,
    feature_importance: dict[str, float] | None = None,
    mlflow_run: str | None = None,
) -> dict[str, Any]:
    """``version.yml`` in reading order: lifecycle, training provenance, evaluations, monitoring.

    ``artifact`` is a path, a mapping with loading options (``trust_pickle``, ``trusted_types``), or
    None for a version whose model file was not kept."""
    doc: dict[str, Any] = {"created": release.created, "status": release.status, "summary": summary}
    if release.previous:
        doc["previous"] = release.previous
    doc["training"] = {
        "datasets": [release.training],
        "algorithm": release.algorithm,
        "code": {"repository": f"{CODE_HOST}/{model_id}", "commit": fake_commit(model_id, version)},
        "params": release.params,
        "environment": environment(),
    }
    if artifact is not None:
        doc["training"]["artifact"] = artifact
    if feature_importance:
        doc["training"]["feature_importance"] = feature_importance
    if mlflow_run:
        doc["training"]["mlflow_run"] = mlflow_run
    doc["evaluations"] = evaluations
    if monitoring:
        doc["monitoring"] = monitoring
    return doc


def approval(
    role: str,
    by: str,
    decision: str,
    date: dt.date,
    comment: str | None = None,
    conditions: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    entry: dict[str, Any] = {"role": role, "by": by, "decision": decision, "date": date}
    if comment:
        entry["comment"] = comment
    if conditions:
        entry["conditions"] = conditions
    return entry


def prose(text: str) -> str:
    """Dedent a triple-quoted paragraph block and end it with exactly one newline.

    Paragraphs are kept as written (one line each), so the YAML shows them as readable blocks.
    """
    lines = [line.strip() for line in text.strip("\n").splitlines()]
    return "\n".join(lines).strip() + "\n"
