"""The one orchestrating function: workspace → manifest → site, readable top to bottom.

    load_workspace ─▶ build_manifest ─▶ render_site (into a staging folder) ─▶ swap into place

The output folder is replaced only after everything succeeded, so a failed build leaves the previous
site and manifest exactly as they were.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from modelgov import __version__, manifest
from modelgov.analysis.evaluation import DataProblem, EvaluationColumns, analyse_evaluation
from modelgov.analysis.resampling import Resampling
from modelgov.errors import BuildError, OutputPathError, Problem, WorkspaceError
from modelgov.sources.tables import TableError, read_table
from modelgov.workspace.files import FileRegistry
from modelgov.workspace.load import ModelEntry, VersionEntry, Workspace, load_workspace
from modelgov.workspace.schema import Evaluation

Progress = Callable[[str], None]

#: Workspace folders a site must never be written into.
_PROTECTED = ("models", "datasets", "templates", "policies", "audit")


def _silent(_: str) -> None:
    pass


@dataclass(frozen=True)
class BuildResult:
    manifest: manifest.Manifest
    site_dir: Path

    @property
    def index(self) -> Path:
        return self.site_dir / "index.html"


def build_site(workspace_root: Path, out_dir: Path, *, progress: Progress = _silent) -> BuildResult:
    """Build the governance site for ``workspace_root`` into ``out_dir`` (replaced atomically)."""
    workspace_root = workspace_root.resolve()
    out_dir = out_dir.resolve()
    check_output_dir(workspace_root, out_dir)
    progress(f"Loading workspace {workspace_root}")
    workspace = load_workspace(workspace_root)
    the_manifest = build_manifest(workspace, progress=progress)
    return render_manifest(the_manifest, out_dir, template_dir=workspace.templates_dir, progress=progress)


def render_manifest(
    the_manifest: manifest.Manifest,
    out_dir: Path,
    *,
    template_dir: Path | None = None,
    progress: Progress = _silent,
) -> BuildResult:
    """Render a manifest into ``out_dir``: staged beside it, then swapped in only on success."""
    from modelgov.render import render_site  # keeps `modelgov validate` free of the MkDocs import cost

    out_dir = out_dir.resolve()
    _check_replaceable(out_dir)
    progress("Rendering site")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.parent / f".{out_dir.name}.building-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        render_site(the_manifest, staging, template_dir=template_dir)
        manifest.write(the_manifest, staging / "manifest.json")
        _swap_into_place(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    progress(f"Site written to {out_dir}")
    return BuildResult(the_manifest, out_dir)


def check_output_dir(workspace_root: Path, out_dir: Path) -> None:
    """Refuse outputs that would overwrite the workspace or something that is not a modelgov site."""
    if out_dir == workspace_root or workspace_root.is_relative_to(out_dir):
        raise OutputPathError(f"output {out_dir} would contain the workspace; choose a folder outside it")
    for name in _PROTECTED:
        if out_dir.is_relative_to(workspace_root / name):
            raise OutputPathError(f"output {out_dir} is inside the workspace's {name}/ folder")
    _check_replaceable(out_dir)


def _check_replaceable(out_dir: Path) -> None:
    if out_dir.exists():
        if not out_dir.is_dir():
            raise OutputPathError(f"output {out_dir} exists and is not a folder")
        if any(out_dir.iterdir()) and not _is_modelgov_site(out_dir):
            raise OutputPathError(
                f"output {out_dir} is not empty and holds no modelgov manifest.json; "
                "refusing to replace it (choose an empty or new folder)"
            )


def _is_modelgov_site(folder: Path) -> bool:
    try:
        return manifest.read(folder / "manifest.json").generator.name == "modelgov"
    except Exception:
        return False


def _swap_into_place(staging: Path, out_dir: Path) -> None:
    old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
    try:
        if out_dir.exists():
            out_dir.rename(old)
        staging.rename(out_dir)
    except OSError as exc:
        if old.exists() and not out_dir.exists():
            old.rename(out_dir)
        raise BuildError(f"cannot move the new site into {out_dir}: {exc}") from None
    shutil.rmtree(old, ignore_errors=True)


# --------------------------------------------------------------------------- the manifest


def build_time() -> str:
    """UTC build time, from ``SOURCE_DATE_EPOCH`` when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = (
        dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC) if epoch else dt.datetime.now(tz=dt.UTC).replace(microsecond=0)
    )
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def build_manifest(workspace: Workspace, *, progress: Progress = _silent) -> manifest.Manifest:
    """Analyse every model version and assemble the manifest. Raises :class:`WorkspaceError` with every
    data problem found (a column with gaps, scores outside [0, 1], …)."""
    problems: list[Problem] = []
    models = []
    for model in workspace.models.values():
        progress(f"Analysing {model.id} ({len(model.versions)} version{'s' if len(model.versions) != 1 else ''})")
        versions = []
        for version in model.versions.values():
            versions.append(_version_entry(workspace, model, version, problems))
        models.append(_model_entry(workspace, model, versions))
    if problems:
        raise WorkspaceError(problems)

    gov = workspace.governance
    return manifest.Manifest(
        generator=manifest.Generator(version=__version__),
        built_at=build_time(),
        site=manifest.Site(title=gov.title, organisation=gov.organisation, description=gov.description),
        risk_tiers=[
            manifest.RiskTier(id=t.id, title=t.title or t.id.title(), description=t.description) for t in gov.risk_tiers
        ],
        inputs=[_ref(workspace.files, f.path) for f in workspace.files.all()],
        models=sorted(models, key=lambda m: m.id),
        datasets=_datasets(workspace),
    )


def _ref(files: FileRegistry, rel_path: str) -> manifest.FileRef:
    hashed = files.register(rel_path)
    return manifest.FileRef(path=hashed.path, sha256=hashed.sha256, bytes=hashed.bytes)


def _version_sort_key(version: manifest.ModelVersion) -> tuple:
    parts = tuple(int(p) if p.isdigit() else -1 for p in version.version.replace("-", ".").split("."))
    return (version.created, parts, version.version)


def _model_entry(workspace: Workspace, model: ModelEntry, versions: list) -> manifest.Model:
    card = model.card
    newest_first = sorted((v for v in versions if v is not None), key=_version_sort_key, reverse=True)
    live = next((v.version for v in newest_first if v.status == "production"), None)
    return manifest.Model(
        id=model.id,
        name=card.name,
        owner=manifest.Owner(name=card.owner.name, email=card.owner.email, team=card.owner.team),
        task=card.task.value,
        risk_tier=card.risk_tier,
        tags=list(card.tags),
        sensitive_features=list(card.sensitive_features),
        card=manifest.Card(
            description=card.description,
            primary_uses=card.intended_use.primary_uses,
            primary_users=card.intended_use.primary_users,
            out_of_scope=card.intended_use.out_of_scope,
            factors_relevant=card.factors.relevant,
            factors_evaluation=card.factors.evaluation,
            performance_measures=card.metrics.performance_measures,
            decision_threshold=card.metrics.decision_threshold,
            variation_approaches=card.metrics.variation_approaches,
            ethical_considerations=card.ethical_considerations,
            caveats=card.caveats,
            licence=card.licence,
            references=list(card.references),
        ),
        source=_ref(workspace.files, model.source),
        live_version=live,
        versions=newest_first,
    )


def _version_entry(
    workspace: Workspace, model: ModelEntry, version: VersionEntry, problems: list[Problem]
) -> manifest.ModelVersion | None:
    spec = version.spec
    evaluations = []
    for evaluation in spec.evaluations:
        run = _evaluation_run(workspace, model, evaluation, problems)
        if run is not None:
            evaluations.append(run)
    if len(evaluations) != len(spec.evaluations):
        return None
    training = spec.training
    monitoring = None
    if spec.monitoring is not None:
        mon = spec.monitoring
        monitoring = manifest.MonitoringSource(
            logs=_ref(workspace.files, mon.logs),
            timestamp=mon.timestamp,
            prediction=mon.prediction,
            score=mon.score,
            features=list(mon.features),
            ground_truth=_ref(workspace.files, mon.ground_truth.data) if mon.ground_truth else None,
        )
    approvals_ref = _ref(workspace.files, version.approvals_source) if version.approvals_source else None
    return manifest.ModelVersion(
        version=version.id,
        status=spec.status.value,
        created=spec.created.isoformat(),
        summary=spec.summary,
        previous=spec.previous,
        source=_ref(workspace.files, version.source),
        training=manifest.TrainingRecord(
            datasets=list(training.datasets),
            algorithm=training.algorithm,
            code_repository=training.code.repository if training.code else None,
            code_commit=training.code.commit if training.code else None,
            params=dict(training.params),
            python=training.environment.python,
            packages=dict(training.environment.packages),
            artifact=_ref(workspace.files, training.artifact_spec.path) if training.artifact_spec else None,
        ),
        evaluations=sorted(evaluations, key=lambda e: (e.date, e.id), reverse=True),
        monitoring=monitoring,
        approvals=[
            manifest.Approval(
                role=a.role,
                by=a.by,
                decision=a.decision.value,
                date=a.date.isoformat(),
                comment=a.comment,
                source=approvals_ref,
            )
            for a in sorted(version.approvals, key=lambda a: (a.date, a.role))
        ]
        if approvals_ref
        else [],
    )


def _evaluation_run(
    workspace: Workspace, model: ModelEntry, evaluation: Evaluation, problems: list[Problem]
) -> manifest.EvaluationRun | None:
    card = model.card
    columns = EvaluationColumns(
        label=evaluation.label,
        prediction=evaluation.prediction,
        score=evaluation.score,
        sensitive=tuple(card.sensitive_features),
        positive_label=evaluation.positive_label,
        threshold=evaluation.threshold,
        intersections=tuple(tuple(c) for c in card.intersections),
        expected_groups=tuple((k, tuple(v)) for k, v in card.expected_groups.items()),
    )
    settings = workspace.governance.analysis
    needed = [
        evaluation.label,
        evaluation.prediction,
        *filter(None, [evaluation.score]),
        *card.sensitive_features,
    ]
    try:
        table = read_table(workspace.files.path(evaluation.data), needed)
        analysis = analyse_evaluation(
            table,
            columns,
            task=card.task.value,
            min_group_size=settings.min_group_size,
            resampling=Resampling(settings.bootstrap_resamples, settings.confidence_level, settings.seed),
        )
    except TableError as exc:
        problems.append(Problem(evaluation.data, None, "", str(exc)))
        return None
    except DataProblem as exc:
        problems.append(Problem(evaluation.data, None, f"column {exc.column!r}", exc.message))
        return None
    return manifest.EvaluationRun(
        id=evaluation.id,
        dataset=evaluation.dataset,
        date=evaluation.date.isoformat(),
        data=_ref(workspace.files, evaluation.data),
        label=evaluation.label,
        prediction=evaluation.prediction,
        score=evaluation.score,
        features=list(evaluation.features),
        performance=analysis.performance,
        fairness=list(analysis.fairness),
    )


def _datasets(workspace: Workspace) -> list[manifest.Dataset]:
    used_by: dict[str, set[str]] = {dataset_id: set() for dataset_id in workspace.datasets}
    for model in workspace.models.values():
        for version in model.versions.values():
            refs = [*version.spec.training.datasets, *(e.dataset for e in version.spec.evaluations)]
            for dataset_id in refs:
                used_by[dataset_id].add(f"{model.id}/{version.id}")
    result = []
    for dataset_id, entry in sorted(workspace.datasets.items()):
        sheet = entry.sheet
        result.append(
            manifest.Dataset(
                id=dataset_id,
                name=sheet.name,
                description=sheet.description,
                source=sheet.source,
                licence=sheet.licence,
                collection_method=sheet.collection.method,
                collection_period=sheet.collection.period,
                rows=sheet.rows,
                contains_pii=sheet.contains_pii,
                pii_fields=list(sheet.pii_fields),
                legal_basis=sheet.legal_basis,
                known_gaps=sheet.known_gaps,
                files=[_ref(workspace.files, f.path) for f in sheet.files],
                references=list(sheet.references),
                datasheet=_ref(workspace.files, entry.source),
                used_by=sorted(used_by[dataset_id]),
            )
        )
    return result
