"""What a loaded workspace is: its models, their versions, its datasets, and what was read with
them. :mod:`.load` makes these from the files; every later step of a build reads them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelgov.audit import Verification
from modelgov.errors import Problem
from modelgov.policy.engine import LoadedPolicy, LoadedWaiver
from modelgov.workspace.approvals_schema import Approval
from modelgov.workspace.datasheet_schema import Datasheet
from modelgov.workspace.files import FileRegistry
from modelgov.workspace.governance_schema import Governance
from modelgov.workspace.lineage_sources import LineageRecords
from modelgov.workspace.model_schema import ModelCard
from modelgov.workspace.refusals import Refusals
from modelgov.workspace.version_schema import Version

__all__ = ["DatasetEntry", "ModelEntry", "VersionEntry", "Workspace"]


@dataclass(frozen=True)
class VersionEntry:
    model_id: str
    id: str
    spec: Version
    source: str
    #: :func:`~modelgov.decisions.evidence.parsed_version_digest` of the document ``spec`` was read
    #: from: what a sign-off records of this file (everything but ``status``).
    digest: str
    approvals: tuple[Approval, ...] = ()
    approvals_source: str | None = None


@dataclass(frozen=True)
class ModelEntry:
    id: str
    card: ModelCard
    source: str
    versions: dict[str, VersionEntry]


@dataclass(frozen=True)
class DatasetEntry:
    id: str
    sheet: Datasheet
    source: str


@dataclass
class Workspace:
    """A validated workspace. ``files`` hashes every file that was read, once."""

    root: Path
    governance: Governance
    models: dict[str, ModelEntry]
    datasets: dict[str, DatasetEntry]
    files: FileRegistry = field(repr=False)
    policies: list[LoadedPolicy] = field(default_factory=list)
    waivers: list[LoadedWaiver] = field(default_factory=list)
    audit: Verification | None = None  # None without audit/log.jsonl
    audit_entries: list[dict[str, Any]] = field(default_factory=list)  # the entries that verify
    lineage: LineageRecords = field(default_factory=LineageRecords)  # MLflow and OpenLineage records
    #: Text still a placeholder ("TODO: …", "TBD", "n/a"), e.g. left by `modelgov init`: not errors
    #: (the workspace builds), but `modelgov validate` lists them and policies can require the text.
    placeholders: list[Problem] = field(default_factory=list)
    #: What the build refuses whatever the workspace says (``--refuse-pickle``, ``--refuse-workspace-code``
    #: and their variables): the workspace loaded only because it asks for none of it.
    refusals: Refusals = field(default_factory=Refusals)

    @property
    def templates_dir(self) -> Path | None:
        """``templates/`` in the workspace overrides built-in site templates of the same name (only
        with ``trust_templates: true``; the loader refuses an untrusted ``templates/`` folder)."""
        candidate = self.root / "templates"
        trusted = self.governance.trust_templates and not self.refusals.templates
        return candidate if candidate.is_dir() and trusted else None
