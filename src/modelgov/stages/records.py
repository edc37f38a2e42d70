"""The manifest's records of what the workspace declares: each model's card, each version's training
record, sign-offs and monitoring set-up, the datasheets, and the files they name, hashed.

These are not analyses: they are read from the workspace's own files and cost nothing to rebuild,
so they are never cached. The stages add the evidence to them.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from typing import TYPE_CHECKING

from modelgov import __version__, manifest
from modelgov.grace import grace_day
from modelgov.sources.tables import expand_table_paths, is_uri

if TYPE_CHECKING:
    from modelgov.workspace.files import FileRegistry, HashedFile
    from modelgov.workspace.load import ModelEntry, VersionEntry, Workspace
    from modelgov.workspace.monitoring_schema import Monitoring


def build_time() -> str:
    """UTC build time, from ``SOURCE_DATE_EPOCH`` when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = (
        dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC) if epoch else dt.datetime.now(tz=dt.UTC).replace(microsecond=0)
    )
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def ref(files: FileRegistry, rel_path: str) -> manifest.FileRef:
    return file_ref(files.register(rel_path))


def file_ref(hashed: HashedFile) -> manifest.FileRef:
    identity = "listing" if hashed.identity == "listing" else "content"
    return manifest.FileRef(path=hashed.path, sha256=hashed.sha256, bytes=hashed.bytes, identity=identity)


def log_files(workspace: Workspace, mon: Monitoring) -> list[HashedFile]:
    """The version's log files, identified: workspace files by their content's SHA-256; a URI (Spark
    engine) by the listing of the objects it names (see :mod:`modelgov.monitoring.remote`); raises
    :class:`~modelgov.monitoring.logsource.ScanError` naming a URI that cannot be listed."""
    if not is_uri(mon.logs):
        return [workspace.files.register(p) for p in expand_table_paths(workspace.root, mon.logs)]
    if (known := workspace.files.listing(mon.logs)) is not None:
        return known
    from modelgov.monitoring.remote import list_objects
    from modelgov.monitoring.spark_scan import spark_session

    engine = workspace.governance.monitoring
    session = spark_session(engine.master, dict(engine.conf))
    objects = list_objects(session, mon.logs)
    return workspace.files.add_listing(mon.logs, [(o.uri, o.fingerprint, o.bytes) for o in objects])


def version_order(created: str, version: str) -> tuple:
    """How versions sort, oldest first: by creation date, then by version number."""
    parts = tuple(int(p) if p.isdigit() else -1 for p in version.replace("-", ".").split("."))
    return (created, parts, version)


def newest_first(versions: Iterable[VersionEntry]) -> list[VersionEntry]:
    return sorted(versions, key=lambda v: version_order(v.spec.created.isoformat(), v.id), reverse=True)


def model_entry(workspace: Workspace, model: ModelEntry, versions: Iterable[manifest.ModelVersion]) -> manifest.Model:
    """The model's card, and its versions newest first; its live version is the newest in production."""
    card = model.card
    ordered = sorted(versions, key=lambda v: version_order(v.created, v.version), reverse=True)
    live = next((v.version for v in ordered if v.status == "production"), None)
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
        business=_business(card.business),
        risk=_risk(workspace, card),
        source=ref(workspace.files, model.source),
        live_version=live,
        versions=ordered,
    )


def _risk(workspace: Workspace, card) -> manifest.RiskAssessment | None:
    """The card's risk assessment rated on governance.yml's matrix (see :mod:`modelgov.risk.matrix`)."""
    if card.risk_assessment is None:
        return None
    from modelgov.risk.matrix import assess, rated_matrix

    gov = workspace.governance
    tiers = [tier.id for tier in gov.risk_tiers]
    return assess(card.risk_assessment, rated_matrix(gov.risk_matrix), card.risk_tier, tiers)


def _business(business) -> manifest.Business | None:
    """The card's business objective and KPI definitions, as pages and policies read them."""
    if business is None:
        return None
    kpis = []
    for kpi in business.kpis:
        baseline = kpi.baseline
        kpis.append(
            manifest.Kpi(
                name=kpi.name,
                title=kpi.label,
                description=kpi.description,
                aggregation=kpi.aggregation,
                columns=list(kpi.definition.columns),
                table=kpi.definition.table,
                direction=kpi.direction,
                target=kpi.target,
                unit=kpi.unit,
                symbol=kpi.symbol,
                decimals=kpi.decimals,
                baseline=manifest.KpiBaseline(
                    description=baseline.description,
                    column=baseline.column,
                    denominator=(baseline.denominator or kpi.definition.denominator) if baseline.column else None,
                    value=baseline.value,
                    source=baseline.source,
                )
                if baseline is not None
                else None,
            )
        )
    return manifest.Business(objective=business.objective, kpis=kpis)


def version_entry(
    workspace: Workspace,
    version: VersionEntry,
    runs: list[manifest.EvaluationRun],
    logs: list[HashedFile],
) -> manifest.ModelVersion:
    """The version's record: training, its evaluation runs (newest first), the monitoring it declares
    (its ``logs`` identified by the runner) and the sign-offs of approvals.yml."""
    spec = version.spec
    training = spec.training
    files = workspace.files
    mon = spec.monitoring
    monitoring = (
        manifest.MonitoringSource(
            logs=[file_ref(hashed) for hashed in logs],
            timestamp=mon.timestamp,
            prediction=mon.prediction,
            score=mon.score,
            features=list(mon.features),
            ground_truth=ref(files, mon.ground_truth.data) if mon.ground_truth else None,
        )
        if mon is not None
        else None
    )
    approvals_ref = ref(files, version.approvals_source) if version.approvals_source else None
    return manifest.ModelVersion(
        version=version.id,
        status=spec.status.value,
        created=spec.created.isoformat(),
        summary=spec.summary,
        previous=spec.previous,
        source=ref(files, version.source),
        training=manifest.TrainingRecord(
            datasets=list(training.datasets),
            algorithm=training.algorithm,
            code_repository=training.code.repository if training.code else None,
            code_commit=training.code.commit if training.code else None,
            params=dict(training.params),
            python=training.environment.python,
            packages=dict(training.environment.packages),
            artifact=ref(files, training.artifact_spec.path) if training.artifact_spec else None,
        ),
        evaluations=sorted(runs, key=lambda e: (e.date, e.id), reverse=True),
        monitoring=monitoring,
        approvals=sorted(
            (
                manifest.Approval(
                    role=a.role,
                    by=a.by,
                    decision=a.decision.value,
                    date=a.date.isoformat(),
                    comment=a.comment,
                    source=approvals_ref,
                    **_evaluated_since(a.date, runs),
                    conditions=[
                        manifest.ApprovalCondition(
                            number=number,
                            text=c.text,
                            due=c.due.isoformat() if c.due else None,
                            met=c.met.isoformat() if c.met else None,
                            met_by=c.met_by,
                            note=c.note,
                            met_signature="unsigned" if c.met else None,
                        )
                        for number, c in enumerate(a.conditions, start=1)
                    ],
                )
                for a in (version.approvals if approvals_ref else [])
            ),
            key=lambda a: (a.date, a.role),
        ),
    )


def _evaluated_since(day: dt.date, runs: list[manifest.EvaluationRun]) -> dict[str, object]:
    """An ``approvals.yml`` sign-off binds no files, but it cannot have decided on an evaluation made
    after it: when the version was evaluated after its day of grace (dates are local days), it is
    stale, as a logged sign-off is when its evidence changes, and ``changed`` names the new
    evaluations' tables. Without this an old unsigned sign-off kept counting where a signed one, bound
    to its evidence, stopped: signing put a version in a worse position than not signing."""
    latest = grace_day(day).isoformat()
    later = sorted({run.data.path for run in runs if run.date[:10] > latest})
    return {"evidence": "stale", "changed": later} if later else {}


def datasets(workspace: Workspace) -> list[manifest.Dataset]:
    """Each datasheet, with its files hashed and the versions that train or evaluate on it."""
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
                files=[ref(workspace.files, f.path) for f in sheet.files],
                references=list(sheet.references),
                datasheet=ref(workspace.files, entry.source),
                used_by=sorted(used_by[dataset_id]),
            )
        )
    return result


def _risk_matrix(workspace: Workspace, models: list[manifest.Model]) -> manifest.RiskMatrix | None:
    """The matrix, when governance.yml sets one or a model has an assessment rated on it."""
    spec = workspace.governance.risk_matrix
    if spec is None and not any(model.risk is not None for model in models):
        return None
    from modelgov.risk.matrix import rated_matrix

    return rated_matrix(spec)


def manifest_of(workspace: Workspace, models: list[manifest.Model], as_of: dt.date | None = None) -> manifest.Manifest:
    """The manifest before the workspace-wide stages: site, risk tiers, models and datasets, and the
    check date (``as_of``, else the build's UTC date). Its ``inputs`` are filled in last, when every
    stage has hashed what it read."""
    gov = workspace.governance
    built_at = build_time()
    return manifest.Manifest(
        generator=manifest.Generator(version=__version__),
        built_at=built_at,
        as_of=(as_of or dt.date.fromisoformat(built_at[:10])).isoformat(),
        site=manifest.Site(title=gov.title, organisation=gov.organisation, description=gov.description),
        risk_tiers=[
            manifest.RiskTier(id=t.id, title=t.title or t.id.title(), description=t.description) for t in gov.risk_tiers
        ],
        risk_matrix=_risk_matrix(workspace, models),
        inputs=[],
        models=sorted(models, key=lambda m: m.id),
        datasets=datasets(workspace),
    )
