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
import difflib
import hashlib
import os
import types
import typing
import urllib.parse
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from modelgov import manifest
from modelgov.audit import LOG_PATH, Verification, verify
from modelgov.errors import Problem, WorkspaceError
from modelgov.policy import schema as policy_schema
from modelgov.policy.engine import LoadedPolicy, LoadedWaiver
from modelgov.policy.rules import is_placeholder
from modelgov.resources import builtin_packs
from modelgov.sources.tables import TableError, expand_table_paths, is_uri, read_columns, read_table, table_format
from modelgov.workspace import schema
from modelgov.workspace.files import FileRegistry
from modelgov.workspace.lineage_sources import LineageRecords, load_lineage_sources
from modelgov.workspace.paths import inside, refusal
from modelgov.workspace.yamlsource import Loc, YamlDocument, format_loc, read_yaml


@dataclass(frozen=True)
class VersionEntry:
    model_id: str
    id: str
    spec: schema.Version
    source: str
    approvals: tuple[schema.Approval, ...] = ()
    approvals_source: str | None = None


@dataclass(frozen=True)
class ModelEntry:
    id: str
    card: schema.ModelCard
    source: str
    versions: dict[str, VersionEntry]


@dataclass(frozen=True)
class DatasetEntry:
    id: str
    sheet: schema.Datasheet
    source: str


@dataclass
class Workspace:
    """A validated workspace. ``files`` hashes every file that was read, once."""

    root: Path
    governance: schema.Governance
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
    #: The build refuses pickles whatever the workspace says (``--refuse-pickle``, ``MODELGOV_REFUSE_PICKLE``).
    refuse_pickle: bool = False

    @property
    def templates_dir(self) -> Path | None:
        """``templates/`` in the workspace overrides built-in site templates of the same name (only
        with ``trust_templates: true``; the loader refuses an untrusted ``templates/`` folder)."""
        candidate = self.root / "templates"
        return candidate if candidate.is_dir() and self.governance.trust_templates else None


#: Largest reference table whose columns validation reads to check drift kinds against the data and
#: the methods (a larger one, or a window of the log, is checked by the build, without a line number).
KIND_CHECK_MAX_BYTES = 64 * 2**20

#: Set to 1 (by CI) to refuse every pickle, whatever ``trust_pickle`` a workspace sets.
REFUSE_PICKLE_ENV = "MODELGOV_REFUSE_PICKLE"


def pickles_refused(flag: bool = False) -> bool:
    """Whether pickles are refused: ``flag`` (``--refuse-pickle``) or :data:`REFUSE_PICKLE_ENV` set to
    anything but empty, ``0``, ``false``, ``no`` or ``off``. The variable exists because a pull request
    can edit ``trust_pickle`` in the workspace but not the CI job's environment; an unexpected value
    counts as *refuse*, the safe reading."""
    value = os.environ.get(REFUSE_PICKLE_ENV, "").strip().lower()
    return flag or value not in ("", "0", "false", "no", "off")


def load_workspace(root: Path, *, refuse_pickle: bool = False) -> Workspace:
    """Load and validate the workspace at ``root``; raise :class:`WorkspaceError` listing all problems.

    With ``refuse_pickle`` (or :data:`REFUSE_PICKLE_ENV` set), an artifact with ``trust_pickle: true``
    is a problem: the workspace asks for what the build will not do, and saying so beats a model
    silently missing from the explanations."""
    return _Loader(root, refuse_pickle=pickles_refused(refuse_pickle)).load()


def did_you_mean(word: str, candidates: Iterable[str], cutoff: float = 0.6) -> str:
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=cutoff)
    return f"; did you mean {matches[0]!r}?" if matches else ""


class _Loader:
    def __init__(self, root: Path, *, refuse_pickle: bool = False):
        self.root = root.resolve()
        self.refuse_pickle = refuse_pickle
        self.problems: list[Problem] = []
        self.files = FileRegistry(self.root)
        self.docs: dict[str, YamlDocument] = {}
        #: ids whose file exists but is invalid: references to them are not reported a second time.
        self.invalid_datasets: set[str] = set()
        self.invalid_versions: set[tuple[str, str]] = set()

    # ------------------------------------------------------------------ pass 1 + 2: files and schema

    def load(self) -> Workspace:
        if not self.root.is_dir():
            raise WorkspaceError([Problem(str(self.root), None, "", "workspace folder does not exist")])
        governance = self._parse("governance.yml", schema.Governance, required=True)
        self.engine = governance.monitoring.engine if governance is not None else None
        datasets = self._load_datasets()
        models = self._load_models()
        if governance is not None:
            self._check_cross_references(governance, models, datasets)
        policies = self._load_policies(governance) if governance is not None else []
        waivers = self._load_waivers(governance, policies) if governance is not None else []
        lineage = LineageRecords()
        if governance is not None:
            lineage = load_lineage_sources(
                self.root, governance, self.docs["governance.yml"], self.files, self.problems
            )
            self._check_mlflow_runs(governance, models, lineage)
        self._check_tree("templates/")
        self._check_audit_location()
        if governance is not None and (self.root / "templates").is_dir() and not governance.trust_templates:
            self.problems.append(
                Problem(
                    "templates/",
                    None,
                    "",
                    "the workspace overrides the site's templates; a template can put script in every reviewer's "
                    "browser, so set `trust_templates: true` in governance.yml to use them (or remove the folder)",
                )
            )
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
            refuse_pickle=self.refuse_pickle,
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

    def _check_mlflow_runs(
        self, governance: schema.Governance, models: dict[str, ModelEntry], lineage: LineageRecords
    ) -> None:
        """A version's ``training.mlflow_run`` must name a run of the configured store."""
        known = {run.run_id for run in lineage.mlflow.runs} if lineage.mlflow is not None else set()
        for model in models.values():
            for version in model.versions.values():
                run_id = version.spec.training.mlflow_run
                if run_id is None:
                    continue
                doc = self.docs[version.source]
                loc: Loc = ("training", "mlflow_run")
                if governance.lineage.mlflow is None:
                    self.problems.append(
                        doc.problem(loc, "names an MLflow run, but governance.yml sets no lineage.mlflow store")
                    )
                elif lineage.mlflow is not None and run_id not in known:
                    self.problems.append(
                        doc.problem(loc, f"run {run_id} is not in the MLflow store {governance.lineage.mlflow}")
                    )

    def _may_read(self, rel: str) -> bool:
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
        if not self._may_read(rel_folder) or not (self.root / rel_folder).is_dir():
            return
        for folder, dirs, files in os.walk(self.root / rel_folder):
            for name in sorted([*dirs, *files]):
                self._may_read((Path(folder) / name).relative_to(self.root).as_posix())

    def _check_audit_location(self) -> None:
        """The audit log is read only where the workspace keeps it: ``audit/`` and ``audit/log.jsonl``
        must not lead outside the workspace, and the log must not be a FIFO or a device (its entries
        are checked by :mod:`modelgov.audit`)."""
        if self._may_read("audit/"):
            self._may_read(LOG_PATH)

    def _read_audit(self) -> tuple[Verification | None, list[dict[str, Any]]]:
        """The audit log and how far its chain verifies. A broken chain is not a load error: the
        site says where it breaks, and only the entries before the break are used."""
        path = self.root / LOG_PATH
        if not path.is_file():
            return None, []
        self.files.register(LOG_PATH)
        state = verify(path)  # strict: a malformed entry is where the chain breaks, never a crash
        return state, list(state.valid)

    # ------------------------------------------------------------------ policies and waivers

    def _load_policies(self, governance: schema.Governance) -> list[LoadedPolicy]:
        """Built-in packs named in governance.yml, then the workspace's ``policies/*.yml``; policy
        ids are unique across both."""
        loaded: list[LoadedPolicy] = []
        available = builtin_packs()
        listed: set[str] = set()
        for index, name in enumerate(governance.policies.packs):
            path = available.get(name)
            if name in listed:
                self.problems.append(
                    self.docs["governance.yml"].problem(("policies", "packs", index), f"pack {name!r} is listed twice")
                )
                continue
            listed.add(name)
            if path is None:
                self.problems.append(
                    self.docs["governance.yml"].problem(
                        ("policies", "packs", index),
                        f"no built-in policy pack {name!r}{did_you_mean(name, available)}; "
                        f"packs: {', '.join(sorted(available))}",
                    )
                )
                continue
            policy = self._parse_path(path, f"(built-in pack) {path.name}", policy_schema.PolicyFile)
            if policy is not None:
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                ref = manifest.FileRef(path=f"modelgov:policies/{path.name}", sha256=digest, bytes=path.stat().st_size)
                loaded.append(LoadedPolicy(policy, ref, pack=name))
        folder = self.root / "policies"
        if self._may_read("policies/") and folder.is_dir():
            for path in sorted(folder.iterdir()):
                rel = f"policies/{path.name}"
                if path.suffix not in {".yml", ".yaml"} or not self._may_read(rel) or not path.is_file():
                    continue
                policy = self._parse(rel, policy_schema.PolicyFile)
                if policy is not None:
                    hashed = self.files.register(rel)
                    ref = manifest.FileRef(path=hashed.path, sha256=hashed.sha256, bytes=hashed.bytes)
                    loaded.append(LoadedPolicy(policy, ref))
        seen: dict[str, str] = {}
        for item in loaded:
            if item.policy.id in seen:
                self.problems.append(
                    Problem(
                        item.source.path,
                        None,
                        "id",
                        f"policy id {item.policy.id!r} is also used by {seen[item.policy.id]}",
                    )
                )
            seen.setdefault(item.policy.id, item.source.path)
        return loaded

    def _parse_path(self, path: Path, display: str, model: type[BaseModel]) -> Any:
        """Like :meth:`_parse`, for a file outside the workspace (a built-in pack)."""
        doc = read_yaml(path, display)
        self.docs[display] = doc
        self.problems.extend(doc.problems)
        if doc.problems:
            return None
        try:
            return model.model_validate(doc.data if doc.data is not None else {})
        except ValidationError as exc:
            for error in _without_union_noise(exc.errors()):
                self.problems.append(self._problem_from_pydantic(doc, model, error))
            return None

    def _load_waivers(self, governance: schema.Governance, policies: list[LoadedPolicy]) -> list[LoadedWaiver]:
        parsed = self._parse("waivers.yml", policy_schema.WaiversFile)
        if parsed is None:
            return []
        doc = self.docs["waivers.yml"]
        hashed = self.files.register("waivers.yml")
        ref = manifest.FileRef(path=hashed.path, sha256=hashed.sha256, bytes=hashed.bytes)
        rules = {item.policy.id: [r.id for r in item.policy.rules] for item in policies}
        longest = governance.policies.waiver_max_days
        out = []
        for index, waiver in enumerate(parsed.waivers):
            loc: Loc = ("waivers", index)
            if waiver.policy not in rules:
                self.problems.append(
                    doc.problem((*loc, "policy"), f"no policy {waiver.policy!r}{did_you_mean(waiver.policy, rules)}")
                )
            elif waiver.rule not in rules[waiver.policy]:
                self.problems.append(
                    doc.problem(
                        (*loc, "rule"),
                        f"policy {waiver.policy!r} has no rule {waiver.rule!r}{did_you_mean(waiver.rule, rules[waiver.policy])}",
                    )
                )
            days = (waiver.expires - waiver.granted).days
            if days > longest:
                self.problems.append(
                    doc.problem(
                        (*loc, "expires"),
                        f"the waiver runs {days} days, longer than the {longest} allowed "
                        "(governance.yml policies.waiver_max_days)",
                    )
                )
            out.append(LoadedWaiver(waiver, ref))
        return out

    def _parse(self, rel: str, model: type[BaseModel], *, required: bool = False) -> Any:
        path = self.root / rel
        if not self._may_read(rel):
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
            self.problems.append(Problem(rel, 1, "", f"expected a mapping of keys, found {_kind(data)}"))
            return None
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            for error in _without_union_noise(exc.errors()):
                self.problems.append(self._problem_from_pydantic(doc, model, error))
            return None

    def _problem_from_pydantic(self, doc: YamlDocument, model: type[BaseModel], error: Any) -> Problem:
        kind = error["type"]
        loc = _user_loc(doc.data, tuple(error["loc"]))
        if kind == "extra_forbidden":
            allowed = _field_names_at(model, loc[:-1])
            hint = did_you_mean(str(loc[-1]), allowed)
            if not hint and allowed:
                hint = f"; allowed keys: {', '.join(sorted(allowed))}"
            return doc.problem(loc, f"unknown key{hint}")
        if kind == "missing":
            return doc.problem(loc, "required key is missing")
        message = error["msg"]
        message = message[0].lower() + message[1:]
        if kind not in {"value_error", "assertion_error"} and "input" in error:
            shown = repr(error["input"])
            if len(shown) <= 60:
                message = f"{message} (found {shown})"
            if isinstance(error["input"], bool) and kind != "bool_type":
                message += "; YAML reads yes/no/on/off/true/false as true or false: quote a word you meant as text"
        return doc.problem(loc, message.removeprefix("value error, "))

    def _load_datasets(self) -> dict[str, DatasetEntry]:
        datasets: dict[str, DatasetEntry] = {}
        folder = self.root / "datasets"
        if not self._may_read("datasets/") or not folder.is_dir():
            return datasets
        for path in sorted(folder.iterdir()):
            rel = f"datasets/{path.name}"
            if path.suffix not in {".yml", ".yaml"} or not self._may_read(rel) or not path.is_file():
                continue
            dataset_id = path.stem
            if not self._check_identifier(rel, dataset_id, "dataset id (file name)"):
                continue
            if dataset_id in datasets:
                other = datasets[dataset_id].source
                self.problems.append(Problem(rel, None, "", f"duplicate dataset id {dataset_id!r} (also {other})"))
                continue
            sheet = self._parse(rel, schema.Datasheet)
            if sheet is None:
                self.invalid_datasets.add(dataset_id)
            else:
                datasets[dataset_id] = DatasetEntry(dataset_id, sheet, rel)
        return datasets

    def _load_models(self) -> dict[str, ModelEntry]:
        models: dict[str, ModelEntry] = {}
        folder = self.root / "models"
        if not self._may_read("models/"):
            return models
        if not folder.is_dir():
            self.problems.append(Problem("models/", None, "", "folder is missing; add models/<model-id>/model.yml"))
            return models
        for model_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
            model_id = model_dir.name
            rel = f"models/{model_id}/model.yml"
            if not self._may_read(f"models/{model_id}/") or not self._may_read(rel):
                continue
            if not (model_dir / "model.yml").is_file():
                self.problems.append(Problem(rel, None, "", "file is missing (every folder under models/ is a model)"))
                continue
            if not self._check_identifier(rel, model_id, "model id (folder name)"):
                continue
            card = self._parse(rel, schema.ModelCard)
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
        if not self._may_read(rel_folder):
            return versions
        if not folder.is_dir():
            self.problems.append(Problem(rel_folder, None, "", "folder is missing; a model needs at least one version"))
            return versions
        for version_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
            rel = f"{rel_folder}{version_dir.name}/version.yml"
            if not self._may_read(f"{rel_folder}{version_dir.name}/") or not self._may_read(rel):
                continue
            if not (version_dir / "version.yml").is_file():
                self.problems.append(
                    Problem(rel, None, "", "file is missing (every folder under versions/ is a version)")
                )
                continue
            if not self._check_identifier(rel, version_dir.name, "version (folder name)"):
                continue
            spec = self._parse(rel, schema.Version)
            approvals_rel = f"{rel_folder}{version_dir.name}/approvals.yml"
            approvals = self._parse(approvals_rel, schema.Approvals)
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
                    tuple(approvals.approvals) if approvals else (),
                    approvals_rel if approvals else None,
                )
        if not versions and not any(p.file.startswith(rel_folder) for p in self.problems):
            self.problems.append(Problem(rel_folder, None, "", "no versions found; add versions/<version>/version.yml"))
        return versions

    def _check_approval_dates(self, rel: str, approvals: schema.Approvals) -> None:
        """A sign-off dated after today would pass every freshness rule until that day: refused."""
        today = dt.datetime.now(tz=dt.UTC).date()
        for index, approval in enumerate(approvals.approvals):
            if approval.date > today:
                self.problems.append(
                    self.docs[rel].problem(
                        ("approvals", index, "date"),
                        f"{approval.date} is in the future (today is {today}); a sign-off is dated when it is made",
                    )
                )

    def _check_identifier(self, rel: str, value: str, what: str) -> bool:
        if schema.IDENTIFIER.match(value):
            return True
        self.problems.append(Problem(rel, None, "", f"{what} {value!r} must be {schema.IDENTIFIER_HINT}"))
        return False

    # ------------------------------------------------------------------ pass 3: across files

    def _check_cross_references(
        self,
        governance: schema.Governance,
        models: dict[str, ModelEntry],
        datasets: dict[str, DatasetEntry],
    ) -> None:
        gov_doc = self.docs.get("governance.yml")
        tier_ids: list[str] = []
        for index, tier in enumerate(governance.risk_tiers):
            if tier.id in tier_ids and gov_doc is not None:
                self.problems.append(
                    gov_doc.problem(("risk_tiers", index, "id"), f"risk tier {tier.id!r} is declared twice")
                )
            tier_ids.append(tier.id)

        for dataset in datasets.values():
            self._check_datasheet_files(dataset)

        for model in models.values():
            doc = self.docs[model.source]
            if model.card.risk_tier not in tier_ids:
                self.problems.append(
                    doc.problem(
                        ("risk_tier",),
                        f"unknown risk tier {model.card.risk_tier!r}{did_you_mean(model.card.risk_tier, tier_ids)}"
                        f" (governance.yml declares: {', '.join(tier_ids)})",
                    )
                )
            self._check_sensitive_declarations(model, doc)
            for version in model.versions.values():
                self._check_version(model, version, datasets)

    def _check_sensitive_declarations(self, model: ModelEntry, doc: YamlDocument) -> None:
        declared = model.card.sensitive_features
        for index, combination in enumerate(model.card.intersections):
            if len(combination) < 2 or len(set(combination)) != len(combination):
                self.problems.append(
                    doc.problem(("intersections", index), "an intersection combines two or more different features")
                )
            for position, feature in enumerate(combination):
                if feature not in declared:
                    self.problems.append(
                        doc.problem(
                            ("intersections", index, position),
                            f"{feature!r} is not one of sensitive_features{did_you_mean(feature, declared)}",
                        )
                    )
        for key in ("expected_groups", "group_comparisons"):
            for feature in getattr(model.card, key):
                if feature not in declared:
                    self.problems.append(
                        doc.problem(
                            (key, feature),
                            f"{feature!r} is not one of sensitive_features{did_you_mean(feature, declared)}",
                        )
                    )

    def _check_datasheet_files(self, dataset: DatasetEntry) -> None:
        doc = self.docs[dataset.source]
        for index, data_file in enumerate(dataset.sheet.files):
            loc: Loc = ("files", index, "path")
            if self._resolve(doc, loc, data_file.path) is None:
                continue
            actual = self.files.register(data_file.path).sha256
            if data_file.sha256 is not None and data_file.sha256 != actual:
                self.problems.append(
                    doc.problem(
                        ("files", index, "sha256"),
                        f"does not match {data_file.path} (file has {actual}); the data changed since the "
                        "datasheet was written",
                    )
                )

    def _check_version(self, model: ModelEntry, version: VersionEntry, datasets: dict[str, DatasetEntry]) -> None:
        doc = self.docs[version.source]
        spec = version.spec
        task = model.card.task
        known_previous = spec.previous in model.versions or (model.id, spec.previous) in self.invalid_versions
        if spec.previous is not None and not known_previous:
            hint = did_you_mean(spec.previous, model.versions)
            self.problems.append(doc.problem(("previous",), f"version {spec.previous!r} of {model.id} not found{hint}"))
        if spec.previous == version.id:
            self.problems.append(doc.problem(("previous",), "a version cannot be its own previous version"))
        elif (cycle := _previous_cycle(model, version.id)) is not None:
            self.problems.append(
                doc.problem(("previous",), f"previous versions form a cycle: {' → '.join(cycle)}; one must be first")
            )
        for index, dataset_id in enumerate(spec.training.datasets):
            self._check_dataset_ref(doc, ("training", "datasets", index), dataset_id, datasets)
        artifact = spec.training.artifact_spec
        if artifact is not None:
            loc: Loc = (
                ("training", "artifact")
                if isinstance(spec.training.artifact, str)
                else ("training", "artifact", "path")
            )
            if self._resolve(doc, loc, artifact.path) is not None:
                self.files.register(artifact.path)
            if artifact.trust_pickle and self.refuse_pickle:
                self.problems.append(
                    doc.problem(
                        ("training", "artifact", "trust_pickle"),
                        "this build refuses pickles whatever the workspace says (--refuse-pickle or "
                        f"{REFUSE_PICKLE_ENV}=1): loading a pickle runs its author's code. Save the model with "
                        "skops (`skops.io.dump(model, 'model.skops')`), or remove trust_pickle",
                    )
                )

        seen_ids: dict[str, int] = {}
        for index, evaluation in enumerate(spec.evaluations):
            if evaluation.id in seen_ids:
                self.problems.append(
                    doc.problem(
                        ("evaluations", index, "id"),
                        f"duplicate evaluation id {evaluation.id!r} (also evaluations[{seen_ids[evaluation.id]}])",
                    )
                )
            seen_ids.setdefault(evaluation.id, index)
            self._check_dataset_ref(doc, ("evaluations", index, "dataset"), evaluation.dataset, datasets)
            if task == schema.Task.regression and evaluation.score is not None:
                self.problems.append(
                    doc.problem(("evaluations", index, "score"), "a regression model has no score column; remove it")
                )
            needed = evaluation.column_roles()
            sensitive = {f"sensitive_features[{i}]": name for i, name in enumerate(model.card.sensitive_features)}
            self._check_table(doc, ("evaluations", index, "data"), evaluation.data, needed, sensitive, model)

        if spec.monitoring is not None:
            monitoring = spec.monitoring
            needed = {"timestamp": monitoring.timestamp, "prediction": monitoring.prediction}
            if monitoring.id:
                needed["id"] = monitoring.id
            if monitoring.score:
                needed["score"] = monitoring.score
            needed.update({f"features[{i}]": name for i, name in enumerate(monitoring.features)})
            self._check_logs(doc, monitoring, needed, model)
            if monitoring.timestamp in monitoring.features:
                self.problems.append(
                    doc.problem(
                        ("monitoring", "features", monitoring.features.index(monitoring.timestamp)),
                        f"the timestamp column {monitoring.timestamp!r} cannot also be a feature: it places each "
                        "record in a window; remove it from features",
                    )
                )
            self._check_reference(doc, spec, model)
            self._check_drift_kinds(doc, spec)
            for feature in monitoring.drift.features:
                if feature not in monitoring.features:
                    self.problems.append(
                        doc.problem(
                            ("monitoring", "drift", "features", feature),
                            f"{feature!r} is not one of monitoring.features"
                            f"{did_you_mean(feature, monitoring.features)}",
                        )
                    )
            if monitoring.ground_truth is not None:
                truth = monitoring.ground_truth
                if monitoring.id is None:
                    self.problems.append(
                        doc.problem(
                            ("monitoring", "ground_truth"),
                            "ground truth is joined to scoring records by id: set monitoring.id too",
                        )
                    )
                self._check_table(
                    doc,
                    ("monitoring", "ground_truth", "data"),
                    truth.data,
                    {"id": truth.id, "label": truth.label},
                    {},
                    model,
                )

    def _check_reference(self, doc: YamlDocument, spec: schema.Version, model: ModelEntry) -> None:
        """The reference must hold every monitored feature: an evaluation's table, or the named table
        (whose output column is optional: without it, only the inputs are compared)."""
        monitoring = spec.monitoring
        assert monitoring is not None
        reference = monitoring.reference_spec(spec.evaluations)
        features = {f"features[{i}]": name for i, name in enumerate(monitoring.features)}
        if reference.data is not None:
            self._check_table(doc, ("monitoring", "reference"), reference.data, features, {}, model)
            self._check_reference_time(doc, monitoring, reference, reference.data)
            return
        if reference.evaluation is None:
            return  # a window of the log: it has the features by construction
        by_id = {e.id: e for e in spec.evaluations}
        evaluation = by_id.get(reference.evaluation)
        if evaluation is None:
            key = (
                ("monitoring", "reference")
                if isinstance(monitoring.reference, str)
                else ("monitoring", "reference", "evaluation")
            )
            self.problems.append(
                doc.problem(
                    key,
                    f"no evaluation {reference.evaluation!r} in this version{did_you_mean(reference.evaluation, by_id)}",
                )
            )
            return
        path = self.root / evaluation.data
        if Path(evaluation.data).is_absolute() or refusal(self.root, path) is not None or not path.is_file():
            return  # reported with the evaluation
        try:
            columns = read_columns(path)
        except TableError:
            return  # reported with the evaluation
        missing = [name for name in monitoring.features if name not in columns]
        if missing:
            self.problems.append(
                doc.problem(
                    ("monitoring", "features"),
                    f"{', '.join(map(repr, missing))} not in {evaluation.data}, the table of the reference "
                    f"evaluation {evaluation.id!r}: drift compares each logged feature with the same column there",
                )
            )
        self._check_reference_time(doc, monitoring, reference, evaluation.data)

    def _check_reference_time(
        self, doc: YamlDocument, monitoring: schema.Monitoring, reference: schema.Reference, table: str
    ) -> None:
        """A seasonal reference places each row in its period by its time: the table must have the time
        column (the one named by ``timestamp``, else one named like the log's)."""
        if reference.seasonal is None and reference.timestamp is None:
            return
        path = self.root / table
        if Path(table).is_absolute() or refusal(self.root, path) is not None or not path.is_file():
            return  # reported with the table
        try:
            columns = read_columns(path)
        except TableError:
            return  # reported with the table
        column = reference.timestamp or monitoring.timestamp
        if column in columns:
            return
        if reference.timestamp is not None:
            key: Loc = ("monitoring", "reference", "timestamp")
            message = f"column {column!r} is not in {table}{did_you_mean(column, columns)}"
        else:
            key = ("monitoring", "reference", "seasonal")
            message = (
                f"a seasonal reference places each row of {table} in its {reference.seasonal} by its time, but the "
                f"table has no column {column!r} (the log's timestamp column); name its time column with "
                f"reference.timestamp{did_you_mean(column, columns)}"
            )
        self.problems.append(doc.problem(key, message))

    def _check_drift_kinds(self, doc: YamlDocument, spec: schema.Version) -> None:
        """Each monitored feature's drift method against its kind — the declared one, or the one drift
        will infer from the reference column (:func:`modelgov.monitoring.reference.infer_kind`) — and a
        declared numeric kind against the reference's values. The columns that need it are read from
        the reference table when it is at most :data:`KIND_CHECK_MAX_BYTES`; otherwise the build makes
        the same checks."""
        from modelgov.monitoring.reference import infer_kind, kind_mismatch, kind_reason, not_numbers

        monitoring = spec.monitoring
        assert monitoring is not None
        drift = monitoring.drift
        default: tuple[str | None, Loc] = (drift.default.method, ("monitoring", "drift", "default", "method"))
        # (feature, or None for the model's output; its reference column; its method and where that is set)
        to_read: list[tuple[str | None, str, str | None, Loc]] = []
        for feature in monitoring.features:
            test = drift.features.get(feature)
            declared = test.kind if test is not None else None
            method, loc = (
                (test.method, ("monitoring", "drift", "features", feature, "method"))
                if test is not None and test.method
                else default
            )
            if declared == "categorical" and (mismatch := kind_mismatch(method, declared)) is not None:
                line = doc.line_of(("monitoring", "drift", "features", feature, "kind"))
                self.problems.append(doc.problem(loc, f"{feature!r} is declared categorical (line {line}); {mismatch}"))
            elif declared == "numeric" or (declared is None and kind_mismatch(method, "categorical")):
                to_read.append((feature, feature, method, loc))
        reference = monitoring.reference_spec(spec.evaluations)
        evaluation = next((e for e in spec.evaluations if e.id == reference.evaluation), None)
        table = reference.data or (evaluation.data if evaluation is not None else None)
        if kind_mismatch(drift.default.method, "categorical"):
            output = monitoring.score or monitoring.prediction
            if evaluation is not None:  # paired as the build pairs them: a score with a score
                output = evaluation.score if monitoring.score and evaluation.score else evaluation.prediction
            to_read.append((None, output, *default))
        if table is None or not to_read:
            return  # a window of the log as reference: the build reads it and checks
        path = self.root / table
        if Path(table).is_absolute() or refusal(self.root, path) is not None or not path.is_file():
            return  # reported with the reference
        try:
            present = set(read_columns(path))
            if path.stat().st_size > KIND_CHECK_MAX_BYTES:
                return
            frame = read_table(path, [column for _, column, _, _ in to_read if column in present])
        except (TableError, OSError):
            return  # reported with the reference
        for feature, column, method, loc in to_read:
            if column not in frame.columns:
                continue  # reported with the reference
            values = frame[column]
            if feature is not None and feature in drift.features and drift.features[feature].kind == "numeric":
                if (why := not_numbers(values)) is not None:
                    self.problems.append(
                        doc.problem(
                            ("monitoring", "drift", "features", feature, "kind"),
                            f"column {column!r} of {table} (the reference) holds {why}, so it cannot be compared "
                            "as numbers; declare it categorical, or correct the data",
                        )
                    )
            elif infer_kind(values) == "categorical":
                label = repr(feature) if feature is not None else f"the model's output {column!r}"
                mismatch = kind_mismatch(method, "categorical", declarable=feature is not None)
                self.problems.append(
                    doc.problem(
                        loc, f"{label} is categorical as inferred from {table} ({kind_reason(values)}); {mismatch}"
                    )
                )

    def _check_logs(
        self, doc: YamlDocument, monitoring: schema.Monitoring, needed: dict[str, str], model: ModelEntry
    ) -> None:
        """A log may be a file, a glob or a folder: every file must exist inside the workspace and
        carry the declared columns (checked on the header of each)."""
        loc: Loc = ("monitoring", "logs")
        pattern = monitoring.logs
        if is_uri(pattern):
            self._check_log_uri(doc, monitoring)
            return
        if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
            self.problems.append(doc.problem(loc, f"{pattern!r} must be a relative path inside the workspace"))
            return
        try:
            files = expand_table_paths(self.root, pattern)
        except TableError as exc:
            self.problems.append(doc.problem(loc, str(exc)))
            return
        if not files:
            self.problems.append(doc.problem(loc, f"no table file matches {pattern!r}"))
            return
        for rel_path in files:
            self._check_table(doc, loc, rel_path, needed, {}, model)

    def _check_log_uri(self, doc: YamlDocument, monitoring: schema.Monitoring) -> None:
        """A URI log is read where it lives by the Spark engine, which checks its columns when it
        scans it; a ``file://`` URI must still point inside the workspace."""
        loc: Loc = ("monitoring", "logs")
        uri = monitoring.logs
        if self.engine != "spark":
            self.problems.append(
                doc.problem(
                    loc,
                    f"{uri!r} is a URI: logs in object storage or a cluster file system are read by the Spark "
                    "engine, so set `monitoring: {engine: spark}` in governance.yml (or give a path inside the workspace)",
                )
            )
            return
        if uri.lower().startswith("file:"):
            local = Path(urllib.parse.unquote(urllib.parse.urlsplit(uri).path))
            if not inside(self.root, local):
                self.problems.append(doc.problem(loc, f"{uri!r} points outside the workspace"))
        if isinstance(monitoring.window, schema.RowWindow):
            self.problems.append(
                doc.problem(
                    ("monitoring", "window"),
                    "the Spark engine cuts calendar windows (day, week or month); windows of a number of rows "
                    "need a global order of the log, which only the embedded engine keeps",
                )
            )
        reference = monitoring.reference
        if isinstance(reference, schema.Reference) and reference.window is not None:
            self.problems.append(
                doc.problem(
                    ("monitoring", "reference", "window"),
                    "a window of a log in object storage cannot be the reference yet; use an evaluation or "
                    "a table in the workspace (for example a sample of the first weeks' records)",
                )
            )

    def _check_dataset_ref(
        self, doc: YamlDocument, loc: Loc, dataset_id: str, datasets: dict[str, DatasetEntry]
    ) -> None:
        if dataset_id not in datasets and dataset_id not in self.invalid_datasets:
            hint = did_you_mean(dataset_id, datasets)
            self.problems.append(
                doc.problem(loc, f"unknown dataset {dataset_id!r}{hint} (expected datasets/{dataset_id}.yml)")
            )

    def _check_table(
        self,
        doc: YamlDocument,
        loc: Loc,
        rel_path: str,
        needed: dict[str, str],
        sensitive: dict[str, str],
        model: ModelEntry,
    ) -> None:
        path = self._resolve(doc, loc, rel_path)
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

    def _resolve(self, doc: YamlDocument, loc: Loc, rel_path: str) -> Path | None:
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


def _kind(value: object) -> str:
    return {list: "a list", str: "text", int: "a number", float: "a number", bool: "true/false"}.get(
        type(value), type(value).__name__
    )


def _without_union_noise(errors: list[Any]) -> list[Any]:
    """For a ``str | Mapping`` key given a mapping, pydantic reports both "should be a valid string"
    and what is wrong with the mapping; only the second helps, so the first is dropped."""

    def place(error: Any) -> Loc:
        return tuple(part for part in error["loc"] if not _is_union_tag(part))

    detailed = {place(e)[:n] for e in errors if e["type"] != "string_type" for n in range(len(place(e)) + 1)}
    return [
        e
        for e in errors
        if not (e["type"] == "string_type" and isinstance(e.get("input"), dict) and place(e) in detailed)
    ]


def _user_loc(data: Any, parts: tuple[Any, ...]) -> Loc:
    """Pydantic's error location without the type names it inserts for unions — but a part that is a
    key the user wrote stays, whatever it looks like (``str``, ``[``)."""
    loc: list[str | int] = []
    current = data
    for part in parts:
        in_dict = isinstance(current, dict) and part in current
        in_list = isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current)
        if in_dict or in_list:
            current = current[part]
        elif _is_union_tag(part):
            continue
        else:
            current = None
        loc.append(part)
    return tuple(loc)


def _is_union_tag(part: object) -> bool:
    """Pydantic inserts type names (``'function-after[...]'``, ``'list[str]'``, ``'constrained-str'``,
    a model's class name such as ``'Artifact'`` for ``Text | Artifact``) into some locations."""
    return isinstance(part, str) and (
        "[" in part or part in {"str", "int", "float", "bool", "dict", "constrained-str"} or part in _MODEL_NAMES
    )


#: Class names of the input models, which pydantic uses as union tags in error locations.
_MODEL_NAMES = frozenset(
    name
    for module in (schema, policy_schema)
    for name, value in vars(module).items()
    if isinstance(value, type) and issubclass(value, BaseModel)
)


def _field_names_at(model: type[BaseModel], loc: Loc) -> list[str]:
    """The keys allowed at ``loc`` inside ``model`` (for "did you mean" on unknown keys)."""
    current: Any = model
    for part in loc:
        current = _unwrap(current)
        if isinstance(part, int):
            continue
        if isinstance(current, type) and issubclass(current, BaseModel):
            info = current.model_fields.get(str(part))
            if info is None:
                return []
            current = info.annotation
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return list(current.model_fields)
    return []


def _unwrap(annotation: Any) -> Any:
    """``list[X]`` / ``X | None`` / ``Annotated[X, …]`` → ``X``."""
    while True:
        origin = typing.get_origin(annotation)
        if origin in (list, tuple, typing.Union, types.UnionType, typing.Annotated):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if not args:
                return annotation
            annotation = args[0]
            continue
        return annotation


def _previous_cycle(model: ModelEntry, start: str) -> list[str] | None:
    """The chain ``start → previous → …`` when it comes back to ``start``, else None.
    Diffs, comparisons and lineage walk this chain, so a cycle must be an error, not an endless loop."""
    chain = [start]
    current = model.versions[start].spec.previous
    while current is not None and current in model.versions:
        chain.append(current)
        if current == start:
            return chain
        if chain.count(current) > 1:
            return None  # a cycle further back, reported on the versions that form it
        current = model.versions[current].spec.previous
    return None
