"""Load a governance workspace from disk into typed objects, collecting *every* problem first.

Three passes, each adding problems instead of stopping:

1. find the files the layout expects (``governance.yml``, ``models/*/model.yml``, …);
2. parse each YAML file and validate it against its model in :mod:`modelgov.workspace.schema`,
   turning pydantic's locations into ``file:line: key.path: message`` with "did you mean" hints;
3. check what spans files: references between them (risk tiers, datasets, previous versions),
   unique ids, paths that must stay inside the workspace, and the columns of every table.

Only if no problem was found is a :class:`Workspace` returned; otherwise :class:`WorkspaceError`
carries the full list, so a user fixes everything in one round.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from modelgov.audit import LOG_PATH, Verification, verify
from modelgov.decisions.evidence import parsed_version_digest
from modelgov.errors import Problem, WorkspaceError
from modelgov.inputs import IDENTIFIER, IDENTIFIER_HINT
from modelgov.policy.placeholders import is_placeholder
from modelgov.sources.tables import TableError, read_columns, table_format
from modelgov.workspace.approvals_schema import Approvals
from modelgov.workspace.checks import check_cross_references, check_mlflow_runs
from modelgov.workspace.datasheet_schema import Datasheet
from modelgov.workspace.entries import DatasetEntry, ModelEntry, VersionEntry, Workspace
from modelgov.workspace.files import FileRegistry
from modelgov.workspace.governance_schema import Governance
from modelgov.workspace.lineage_sources import LineageRecords, load_lineage_sources
from modelgov.workspace.model_schema import ModelCard
from modelgov.workspace.monitoring_schema import Reference
from modelgov.workspace.paths import refusal
from modelgov.workspace.policy_files import load_policies, load_waivers
from modelgov.workspace.refusals import REFUSE_PICKLE_ENV, REFUSE_WORKSPACE_CODE_ENV, Refusals
from modelgov.workspace.schema_errors import did_you_mean, kind_of, problem_from_pydantic, without_union_noise
from modelgov.workspace.scope_names import check_scope_names
from modelgov.workspace.version_schema import Version
from modelgov.workspace.yamlsource import Loc, YamlDocument, format_loc, read_yaml

__all__ = [
    "KIND_CHECK_MAX_BYTES",
    "REFUSE_PICKLE_ENV",
    "REFUSE_WORKSPACE_CODE_ENV",
    "DatasetEntry",
    "Loader",
    "ModelEntry",
    "Refusals",
    "VersionEntry",
    "Workspace",
    "did_you_mean",
    "load_workspace",
]


#: Largest reference table whose columns validation reads to check drift kinds against the data and
#: the methods (a larger one, or a window of the log, is checked by the build, without a line number).
KIND_CHECK_MAX_BYTES = 64 * 2**20


def load_workspace(root: Path, *, refusals: Refusals = Refusals()) -> Workspace:  # noqa: B008 - frozen
    """Load and validate the workspace at ``root``; raise :class:`WorkspaceError` listing all problems.

    ``refusals``, with those the environment adds (:data:`REFUSE_PICKLE_ENV`,
    :data:`REFUSE_WORKSPACE_CODE_ENV`), make each opt-in they refuse a problem (``trust_pickle: true``
    and ``trusted_types``; with ``workspace_code``, ``trust_templates: true`` too): the workspace asks
    for what the build will not do, and saying so beats a model silently missing from the explanations."""
    return Loader(root, refusals=refusals.with_environment()).load()


class Loader:
    """One load of a workspace: what has been read so far (``docs``, ``files``), the problems found,
    and the reading primitives the checks share (:mod:`.checks`, :mod:`.monitoring_checks`,
    :mod:`.policy_files`)."""

    def __init__(self, root: Path, *, refusals: Refusals = Refusals()):  # noqa: B008 - frozen
        self.root = root.resolve()
        self.refusals = refusals
        #: The day the workspace is loaded (UTC): no record in it may be dated later (:meth:`refuse_future`).
        #: Neither ``--as-of`` nor ``SOURCE_DATE_EPOCH``: those set the day policies are checked on, which
        #: may be earlier than records that exist, and the freshness rules say so (see policies.md, "Dates").
        self.today = dt.datetime.now(tz=dt.UTC).date()
        self.kind_check_max_bytes = KIND_CHECK_MAX_BYTES
        self.engine: str | None = None  # governance.yml's monitoring engine, once it is read
        self.problems: list[Problem] = []
        self.files = FileRegistry(self.root)
        self.docs: dict[str, YamlDocument] = {}
        #: ids whose file exists but is invalid: references to them are not reported a second time.
        self.invalid_datasets: set[str] = set()
        self.invalid_versions: set[tuple[str, str]] = set()

    # ------------------------------------------------------------------ pass 1 + 2: files and schema

    def load(self) -> Workspace:
        try:
            return self._load()
        finally:
            self.files.end_prefetch()

    def _load(self) -> Workspace:
        if not self.root.is_dir():
            raise WorkspaceError([Problem(str(self.root), None, "", "workspace folder does not exist")])
        governance = self.parse("governance.yml", Governance, required=True)
        self.engine = governance.monitoring.engine if governance is not None else None
        datasets = self._load_datasets()
        models = self._load_models()
        if governance is not None:
            check_cross_references(self, governance, models, datasets)
        policies = load_policies(self, governance) if governance is not None else []
        if governance is not None:
            check_scope_names(self, governance, models, policies)
        waivers = load_waivers(self, governance, policies) if governance is not None else []
        lineage = LineageRecords()
        if governance is not None:
            lineage = load_lineage_sources(
                self.root, governance, self.docs["governance.yml"], self.files, self.problems
            )
            check_mlflow_runs(self, governance, models, lineage)
        self._check_tree("templates/")
        self._check_audit_location()
        if governance is not None:
            self._check_templates(governance)
        if self.problems or governance is None:
            raise WorkspaceError(self.problems)
        audit, entries = self._read_audit()
        return Workspace(
            self.root,
            governance,
            models,
            datasets,
            self.files,
            policies,
            waivers,
            audit,
            entries,
            lineage,
            placeholders=self._placeholders(),
            refusals=self.refusals,
        )

    def _check_templates(self, governance: Governance) -> None:
        """A ``templates/`` folder needs ``trust_templates: true``, which a build that refuses the
        workspace's code refuses (templates write the pages' HTML, script included)."""
        if governance.trust_templates and self.refusals.templates:
            self.problems.append(
                self.docs["governance.yml"].problem(
                    ("trust_templates",),
                    f"this build refuses the workspace's templates whatever the workspace says "
                    f"({self.refusals.asked_by}): a template writes the pages' HTML, script included, and can "
                    "show any verdict. Remove trust_templates and the templates/ folder",
                )
            )
        elif (self.root / "templates").is_dir() and not governance.trust_templates:
            self.problems.append(
                Problem(
                    "templates/",
                    None,
                    "",
                    "the workspace overrides the site's templates; a template can put script in every reviewer's "
                    "browser, so set `trust_templates: true` in governance.yml to use them (or remove the folder)",
                )
            )

    def _placeholders(self) -> list[Problem]:
        """Every text value of the workspace's YAML that is still a placeholder, by file and line."""
        found: list[Problem] = []

        def walk(doc: YamlDocument, value: Any, loc: Loc) -> None:
            if isinstance(value, dict):
                for key, item in value.items():
                    walk(doc, item, (*loc, str(key)))
            elif isinstance(value, list):
                for index, item in enumerate(value):
                    walk(doc, item, (*loc, index))
            elif isinstance(value, str) and is_placeholder(value):
                shown = value.strip() if len(value.strip()) <= 60 else value.strip()[:57] + "…"
                found.append(doc.problem(loc, f"still to be written ({shown!r})"))

        for name in sorted(self.docs):
            walk(self.docs[name], self.docs[name].data, ())
        return found

    def may_read(self, rel: str) -> bool:
        """Whether the workspace path ``rel`` may be opened (see :mod:`.paths`); if not, the refusal is
        recorded as a problem naming it. Called before anything is opened, so a FIFO never blocks and
        a link out of the workspace is never followed — discovery included (``models/x`` may be a link)."""
        reason = refusal(self.root, self.root / rel)
        if reason is None:
            return True
        self.problems.append(Problem(rel, None, "", reason))
        return False

    def _check_tree(self, rel_folder: str) -> None:
        """Every entry under ``rel_folder`` (templates are read by the renderer, file by file, with links
        followed): each must stay inside the workspace and be a plain file or folder. Links to folders
        are checked, not descended into."""
        if not self.may_read(rel_folder) or not (self.root / rel_folder).is_dir():
            return
        for folder, dirs, files in os.walk(self.root / rel_folder):
            for name in sorted([*dirs, *files]):
                self.may_read((Path(folder) / name).relative_to(self.root).as_posix())

    def _check_audit_location(self) -> None:
        """The audit log is read only where the workspace keeps it: ``audit/`` and ``audit/log.jsonl``
        must not lead outside the workspace, and the log must not be a FIFO or a device (its entries
        are checked by :mod:`modelgov.audit`)."""
        if self.may_read("audit/"):
            self.may_read(LOG_PATH)

    def _read_audit(self) -> tuple[Verification | None, list[dict[str, Any]]]:
        """The audit log and how far its chain verifies. A broken chain is not a load error: the
        site says where it breaks, and only the entries before the break are used."""
        path = self.root / LOG_PATH
        if not path.is_file():
            return None, []
        self.files.register(LOG_PATH)
        state = verify(path)  # strict: a malformed entry is where the chain breaks, never a crash
        return state, list(state.valid)

    def parse(self, rel: str, model: type[BaseModel], *, required: bool = False) -> Any:
        doc = self.read(rel, required=required)
        return self.validate(doc, model) if doc is not None else None

    def read(self, rel: str, *, required: bool = False) -> YamlDocument | None:
        """The YAML of workspace file ``rel``, or None (its problems recorded) when it cannot be read
        or is not a mapping; :meth:`validate` then checks it against its model."""
        path = self.root / rel
        if not self.may_read(rel):
            return None
        if not path.is_file():
            if required:
                self.problems.append(Problem(rel, None, "", "file is missing"))
            return None
        doc = read_yaml(path, rel)
        self.docs[rel] = doc
        self.problems.extend(doc.problems)
        if doc.problems:
            return None
        self.files.register(rel)
        data = doc.data if doc.data is not None else {}
        if not isinstance(data, dict):
            self.problems.append(Problem(rel, 1, "", f"expected a mapping of keys, found {kind_of(data)}"))
            return None
        return doc

    def validate(self, doc: YamlDocument, model: type[BaseModel]) -> Any:
        try:
            return model.model_validate(doc.data if doc.data is not None else {})
        except ValidationError as exc:
            for error in without_union_noise(exc.errors()):
                self.problems.append(problem_from_pydantic(doc, model, error))
            return None

    def _load_datasets(self) -> dict[str, DatasetEntry]:
        datasets: dict[str, DatasetEntry] = {}
        folder = self.root / "datasets"
        if not self.may_read("datasets/") or not folder.is_dir():
            return datasets
        for path in sorted(folder.iterdir()):
            rel = f"datasets/{path.name}"
            if path.suffix not in {".yml", ".yaml"} or not self.may_read(rel) or not path.is_file():
                continue
            dataset_id = path.stem
            if not self._check_identifier(rel, dataset_id, "dataset id (file name)"):
                continue
            if dataset_id in datasets:
                other = datasets[dataset_id].source
                self.problems.append(Problem(rel, None, "", f"duplicate dataset id {dataset_id!r} (also {other})"))
                continue
            sheet = self.parse(rel, Datasheet)
            if sheet is None:
                self.invalid_datasets.add(dataset_id)
            else:
                datasets[dataset_id] = DatasetEntry(dataset_id, sheet, rel)
        return datasets

    def _load_models(self) -> dict[str, ModelEntry]:
        models: dict[str, ModelEntry] = {}
        folder = self.root / "models"
        if not self.may_read("models/"):
            return models
        if not folder.is_dir():
            self.problems.append(Problem("models/", None, "", "folder is missing; add models/<model-id>/model.yml"))
            return models
        for model_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
            model_id = model_dir.name
            rel = f"models/{model_id}/model.yml"
            if not self.may_read(f"models/{model_id}/") or not self.may_read(rel):
                continue
            if not (model_dir / "model.yml").is_file():
                self.problems.append(Problem(rel, None, "", "file is missing (every folder under models/ is a model)"))
                continue
            if not self._check_identifier(rel, model_id, "model id (folder name)"):
                continue
            card = self.parse(rel, ModelCard)
            versions = self._load_versions(model_dir, model_id)
            if card is not None:
                models[model_id] = ModelEntry(model_id, card, rel, versions)
        if not models and not self.problems:
            self.problems.append(Problem("models/", None, "", "no models found; add models/<model-id>/model.yml"))
        return models

    def _load_versions(self, model_dir: Path, model_id: str) -> dict[str, VersionEntry]:
        versions: dict[str, VersionEntry] = {}
        folder = model_dir / "versions"
        rel_folder = f"models/{model_id}/versions/"
        if not self.may_read(rel_folder):
            return versions
        if not folder.is_dir():
            self.problems.append(Problem(rel_folder, None, "", "folder is missing; a model needs at least one version"))
            return versions
        for version_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
            rel = f"{rel_folder}{version_dir.name}/version.yml"
            if not self.may_read(f"{rel_folder}{version_dir.name}/") or not self.may_read(rel):
                continue
            if not (version_dir / "version.yml").is_file():
                self.problems.append(
                    Problem(rel, None, "", "file is missing (every folder under versions/ is a version)")
                )
                continue
            if not self._check_identifier(rel, version_dir.name, "version (folder name)"):
                continue
            spec = self.parse(rel, Version)
            if spec is not None:
                self._check_version_dates(rel, spec)
                self.files.prefetch(_tables_named(spec))
            approvals_rel = f"{rel_folder}{version_dir.name}/approvals.yml"
            approvals = self.parse(approvals_rel, Approvals)
            if approvals is not None:
                self._check_approval_dates(approvals_rel, approvals)
            if spec is None:
                self.invalid_versions.add((model_id, version_dir.name))
            else:
                versions[version_dir.name] = VersionEntry(
                    model_id,
                    version_dir.name,
                    spec,
                    rel,
                    parsed_version_digest(self.docs[rel].raw, self.docs[rel].data),
                    tuple(approvals.approvals) if approvals else (),
                    approvals_rel if approvals else None,
                )
        if not versions and not any(p.file.startswith(rel_folder) for p in self.problems):
            self.problems.append(Problem(rel_folder, None, "", "no versions found; add versions/<version>/version.yml"))
        return versions

    def refuse_future(self, rel: str, loc: Loc, day: dt.date, dated: str) -> None:
        """A record dated after :attr:`today` is refused, at the line of its key: it would pass every
        freshness rule until that day (its age counted negative), and the most recent evaluation, the
        one policies read, is chosen by date. ``dated`` says when such a record is dated.

        A day of grace: :attr:`today` is the UTC date, and east of UTC the local date (what a person,
        or ``modelgov init``, writes as today) is already the next day for part of every day."""
        if day > self.today + dt.timedelta(days=1):
            self.problems.append(
                self.docs[rel].problem(loc, f"{day} is in the future (today is {self.today} in UTC); {dated}")
            )

    def _check_version_dates(self, rel: str, spec: Version) -> None:
        self.refuse_future(rel, ("created",), spec.created, "a version is dated when it is created")
        for index, evaluation in enumerate(spec.evaluations):
            self.refuse_future(
                rel, ("evaluations", index, "date"), evaluation.date, "an evaluation is dated when it is run"
            )

    def _check_approval_dates(self, rel: str, approvals: Approvals) -> None:
        for index, approval in enumerate(approvals.approvals):
            self.refuse_future(rel, ("approvals", index, "date"), approval.date, "a sign-off is dated when it is made")
            for number, condition in enumerate(approval.conditions):
                if condition.met is not None:
                    loc = ("approvals", index, "conditions", number, "met")
                    self.refuse_future(rel, loc, condition.met, "a condition is dated when it is met")

    def _check_identifier(self, rel: str, value: str, what: str) -> bool:
        if IDENTIFIER.match(value):
            return True
        self.problems.append(Problem(rel, None, "", f"{what} {value!r} must be {IDENTIFIER_HINT}"))
        return False

    # ------------------------------------------------------------------ primitives of the checks

    def check_table(
        self,
        doc: YamlDocument,
        loc: Loc,
        rel_path: str,
        needed: dict[str, str],
        sensitive: dict[str, str],
        model: ModelEntry,
    ) -> None:
        path = self.resolve(doc, loc, rel_path)
        if path is None:
            return
        try:
            table_format(path)
        except TableError as exc:  # the path is what is wrong, so point at where it is written
            self.problems.append(doc.problem(loc, str(exc)))
            return
        try:
            columns = read_columns(path)
        except TableError as exc:
            self.problems.append(Problem(rel_path, None, "", f"{exc} (named by {format_loc(loc)} in {doc.file})"))
            return
        self.files.register(rel_path)
        duplicated = sorted({c for c in columns if columns.count(c) > 1})
        if duplicated:
            self.problems.append(Problem(rel_path, None, "", f"duplicate column name(s): {', '.join(duplicated)}"))
        present = set(columns)
        for key, column in needed.items():
            if column not in present:
                self.problems.append(
                    doc.problem(
                        (*loc[:-1], key.split("[")[0]),
                        f"column {column!r} is not in {rel_path}{did_you_mean(column, columns)}",
                    )
                )
        model_doc = self.docs[model.source]
        for key, column in sensitive.items():
            if column not in present:
                self.problems.append(
                    Problem(
                        model_doc.file,
                        model_doc.line_of(("sensitive_features",)),
                        key,
                        f"sensitive feature {column!r} is not a column of {rel_path} "
                        f"({format_loc(loc)} in {doc.file}){did_you_mean(column, columns)}",
                    )
                )

    def resolve(self, doc: YamlDocument, loc: Loc, rel_path: str) -> Path | None:
        """Resolve a workspace-relative path, refusing anything that escapes the workspace."""
        candidate = Path(rel_path)
        if candidate.is_absolute() or "\\" in rel_path:
            self.problems.append(doc.problem(loc, f"{rel_path!r} must be a relative path with '/' separators"))
            return None
        reason = refusal(self.root, self.root / candidate)
        if reason is not None:
            self.problems.append(doc.problem(loc, f"{rel_path!r} {reason}"))
            return None
        resolved = (self.root / candidate).resolve()
        if not resolved.is_file():
            self.problems.append(doc.problem(loc, f"file {rel_path!r} does not exist"))
            return None
        return resolved


def _tables_named(spec: Version) -> list[str]:
    """The tables a version names by a plain relative path, under the names the checks register
    them by, for :meth:`FileRegistry.prefetch`: its evaluations' and its reference table as written,
    its log as the log's pattern is expanded (``logs/./a.csv`` is ``logs/a.csv``). Globs, folders and
    URIs are left to the checks that expand them. Only a hint: the checks decide what is read."""

    def plain(rel: str) -> bool:
        return "://" not in rel and not any(c in rel for c in "*?[") and not rel.endswith("/")

    named = [evaluation.data for evaluation in spec.evaluations]
    if spec.monitoring is not None:
        reference = spec.monitoring.reference
        if isinstance(reference, Reference) and reference.data is not None:
            named.append(reference.data)
        if plain(spec.monitoring.logs):
            named.append(Path(spec.monitoring.logs).as_posix())
    return [rel for rel in named if plain(rel)]
