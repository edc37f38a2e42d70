"""Assemble the manifest: every model version of a loaded workspace, analysed and mapped to the
output contract (:mod:`modelgov.manifest`).

This is where workspace input models meet analysis results; ``build`` only orchestrates and writes.
Data problems found while analysing (a column with gaps, scores outside [0, 1]) are collected over
the whole workspace and raised together, like the loader's problems.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from modelgov import __version__, manifest
from modelgov.analysis.comparison import NotComparable, RunArrays, metric_deltas, pair_rows
from modelgov.analysis.evaluation import DataProblem, EvaluationColumns, analyse_evaluation
from modelgov.analysis.explain import explain
from modelgov.analysis.resampling import Resampling
from modelgov.audit import LOG_PATH
from modelgov.cache import AnalysisCache, cache_key
from modelgov.decisions.review import audit_event, review_models, signers_summary, waiver_records
from modelgov.decisions.signers import AllowedSigners, SignersError, signatures_required
from modelgov.decisions.signers import locate as locate_signers
from modelgov.errors import Problem, WorkspaceError
from modelgov.lineage.join import build_lineage
from modelgov.policy.engine import govern
from modelgov.sources.models import LoadedModel, ModelUnavailable, load_model
from modelgov.sources.tables import TableError, expand_table_paths, is_uri, read_columns, read_table, rows_at_most
from modelgov.workspace.files import FileRegistry, HashedFile
from modelgov.workspace.load import ModelEntry, VersionEntry, Workspace
from modelgov.workspace.schema import Evaluation, Version
from modelgov.workspace.schema import Monitoring as MonitoringSpec
from modelgov.workspace.schema import Reference as ReferenceSpec

if TYPE_CHECKING:
    from pathlib import Path

    from modelgov.monitoring.aggregates import WindowSpec
    from modelgov.monitoring.report import Reference

Progress = Callable[[str], None]


def _silent(_: str) -> None:
    pass


def build_time() -> str:
    """UTC build time, from ``SOURCE_DATE_EPOCH`` when set (reproducible builds)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    moment = (
        dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC) if epoch else dt.datetime.now(tz=dt.UTC).replace(microsecond=0)
    )
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def build_manifest(
    workspace: Workspace,
    *,
    progress: Progress = _silent,
    as_of: dt.date | None = None,
    fail_on: str | None = None,
    cache: AnalysisCache | None = None,
    jobs: int = 1,
    allowed_signers: Path | None = None,
) -> manifest.Manifest:
    """Analyse every model version, evaluate the policies and assemble the manifest. Raises
    :class:`WorkspaceError` with every data problem found (a column with gaps, scores outside [0, 1], …).

    ``as_of`` is the day policies are checked on (freshness, waiver expiry): the build date unless
    given, so a re-check of old evidence can be dated. ``fail_on`` overrides governance.yml's.
    With a ``cache``, an evaluation whose inputs are unchanged is read from it instead of recomputed.
    With ``jobs`` > 1, models are analysed in that many processes (see :func:`_analyse_models`).
    Signatures are checked against ``allowed_signers`` (a file outside the workspace), else
    ``MODELGOV_ALLOWED_SIGNERS``, else the workspace's ``signing.allowed_signers``."""
    problems: list[Problem] = []
    models = []
    for result in _analyse_models(workspace, cache, progress, jobs):
        problems.extend(result.problems)
        models.append(result.model)
    if problems:
        raise WorkspaceError(problems)
    gov = workspace.governance
    try:
        signers = locate_signers(workspace.root, gov.signing.allowed_signers, allowed_signers)
    except SignersError as exc:
        raise WorkspaceError([Problem("governance.yml", None, "signing.allowed_signers", str(exc))]) from None
    models = review_models(models, workspace, signers)

    built_at = build_time()
    progress("Joining lineage")
    lineage = build_lineage(workspace)  # before `inputs`: it may hash files no analysis read
    built = manifest.Manifest(
        generator=manifest.Generator(version=__version__),
        built_at=built_at,
        site=manifest.Site(title=gov.title, organisation=gov.organisation, description=gov.description),
        risk_tiers=[
            manifest.RiskTier(id=t.id, title=t.title or t.id.title(), description=t.description) for t in gov.risk_tiers
        ],
        inputs=[_file_ref(f) for f in workspace.files.all()],
        models=sorted(models, key=lambda m: m.id),
        datasets=_datasets(workspace),
        audit=_audit_summary(workspace, signers),
        lineage=lineage,
    )
    if not workspace.policies:
        return built
    progress(f"Checking {len(workspace.policies)} polic{'ies' if len(workspace.policies) != 1 else 'y'}")
    records = waiver_records(workspace, signers)
    report = govern(
        built,
        workspace.policies,
        [dataclasses.replace(w, record=records[w.waiver.id]) for w in workspace.waivers],
        as_of or dt.date.fromisoformat(built_at[:10]),
        fail_on=fail_on or gov.policies.fail_on,
        require_signed_waivers=gov.policies.require_signed_waivers,
        require_signatures=signatures_required(),
    )
    return built.model_copy(update={"governance": report})


@dataclass(frozen=True)
class _ModelResult:
    """One model analysed: what a worker process sends back."""

    model: manifest.Model
    problems: list[Problem]
    hashed: list[HashedFile]  # every file the analysis hashed, for the manifest's inputs
    hits: int = 0
    misses: int = 0
    corrupted: tuple[str, ...] = ()
    messages: tuple[str, ...] = ()


def _analyse_model(workspace: Workspace, model_id: str, cache_folder: Path | None) -> _ModelResult:
    """Every version of one model, then the comparisons between them. Models are independent of
    each other, so this is the unit of parallel work; it runs the same in a worker or in-process."""
    messages: list[str] = []
    cache = AnalysisCache(cache_folder, report=messages.append) if cache_folder is not None else None
    model = workspace.models[model_id]
    problems: list[Problem] = []
    arrays: dict[tuple[str, str], RunArrays] = {}
    versions = [
        _version_entry(workspace, model, version, problems, arrays, cache) for version in model.versions.values()
    ]
    built = _with_comparisons(workspace, model, _model_entry(workspace, model, versions), arrays)
    stats = cache.stats if cache is not None else None
    return _ModelResult(
        built,
        problems,
        workspace.files.all(),
        hits=stats.hits if stats else 0,
        misses=stats.misses if stats else 0,
        corrupted=tuple(stats.corrupted) if stats else (),
        messages=tuple(messages),
    )


def _analyse_models(
    workspace: Workspace, cache: AnalysisCache | None, progress: Progress, jobs: int
) -> list[_ModelResult]:
    """Analyse every model, in ``jobs`` processes when there is more than one model to share out.

    Workers are started with *spawn*, not fork: the parent may hold thread pools (BLAS, DuckDB) that a
    forked child would inherit in an unusable state. Each worker gets a copy of the loaded workspace
    (small: metadata, not tables) and sends back the model's manifest entry, its problems, the files
    it hashed and its cache statistics; results are merged in model order, so the manifest does not
    depend on which worker finished first."""
    ids = list(workspace.models)
    folder = cache.folder if cache is not None else None
    results: dict[str, _ModelResult] = {}

    def absorb(model_id: str, result: _ModelResult) -> None:
        results[model_id] = result
        workspace.files.merge(result.hashed)
        if cache is not None:
            for message in result.messages:
                cache.report(message)
            cache.stats.hits += result.hits
            cache.stats.misses += result.misses
            cache.stats.corrupted.extend(result.corrupted)

    def label(model_id: str) -> str:
        count = len(workspace.models[model_id].versions)
        return f"{model_id} ({count} version{'s' if count != 1 else ''})"

    # a model whose every result is already cached is read here: starting a worker costs more
    todo = [i for i in ids if cache is None or not _fully_cached(workspace, workspace.models[i], cache)]
    if jobs <= 1 or len(todo) <= 1:
        todo = []
    for model_id in (i for i in ids if i not in todo):
        progress(f"Analysing {label(model_id)}")
        absorb(model_id, _analyse_model(workspace, model_id, folder))
    if todo:
        workers = min(jobs, len(todo))
        progress(f"Analysing {len(todo)} models in {workers} processes")
        with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            futures = {pool.submit(_analyse_model, workspace, model_id, folder): model_id for model_id in todo}
            for done, future in enumerate(as_completed(futures), start=1):
                model_id = futures[future]
                absorb(model_id, future.result())
                progress(f"Analysed {label(model_id)} [{done}/{len(todo)}]")
    return [results[i] for i in ids]


def _fully_cached(workspace: Workspace, model: ModelEntry, cache: AnalysisCache) -> bool:
    """True when every evaluation and drift report of the model has a cache entry (not yet verified:
    a corrupted one is found and recomputed when it is read)."""
    for version in model.versions.values():
        keys = [_analysis_key(workspace, model, version.spec, e) for e in version.spec.evaluations]
        if version.spec.monitoring is not None:
            from modelgov.monitoring.logsource import ScanError

            try:
                keys.append(_monitoring_key(workspace, model, version))
            except ScanError:  # a log URI that cannot be listed: reported when the model is analysed
                return False
        if not all(cache.has(key) for key in keys):
            return False
    return True


def _audit_summary(workspace: Workspace, signers: AllowedSigners | None) -> manifest.AuditSummary | None:
    state = workspace.audit
    if state is None:
        return None
    return manifest.AuditSummary(
        log=_ref(workspace.files, LOG_PATH),
        entries=state.entries,
        head=state.head,
        intact=state.ok,
        broken_line=state.broken_line,
        reason=state.reason,
        events=[audit_event(entry, signers) for entry in workspace.audit_entries],
        signers=signers_summary(signers),
    )


def _ref(files: FileRegistry, rel_path: str) -> manifest.FileRef:
    hashed = files.register(rel_path)
    return _file_ref(hashed)


def _file_ref(hashed: HashedFile) -> manifest.FileRef:
    identity = "listing" if hashed.identity == "listing" else "content"
    return manifest.FileRef(path=hashed.path, sha256=hashed.sha256, bytes=hashed.bytes, identity=identity)


def _log_files(workspace: Workspace, mon: MonitoringSpec) -> list[HashedFile]:
    """The version's log files, identified: workspace files by their content's SHA-256; a URI (Spark
    engine) by the listing of the objects it names (see :mod:`.monitoring.remote`)."""
    if not is_uri(mon.logs):
        return [workspace.files.register(p) for p in expand_table_paths(workspace.root, mon.logs)]
    if (known := workspace.files.listing(mon.logs)) is not None:
        return known
    from modelgov.monitoring.remote import list_objects
    from modelgov.monitoring.spark_scan import spark_session

    engine = workspace.governance.monitoring
    session = spark_session(engine.master, dict(engine.conf))
    objects = list_objects(session, mon.logs)  # raises ScanError naming the URI
    return workspace.files.add_listing(mon.logs, [(o.uri, o.fingerprint, o.bytes) for o in objects])


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
    workspace: Workspace,
    model: ModelEntry,
    version: VersionEntry,
    problems: list[Problem],
    arrays: dict[tuple[str, str], RunArrays],
    cache: AnalysisCache | None = None,
) -> manifest.ModelVersion | None:
    spec = version.spec
    loaded = _load_model(workspace, spec)
    evaluations = []
    for evaluation in spec.evaluations:
        analysed = _cached_evaluation_run(workspace, model, version, loaded, evaluation, problems, cache)
        if analysed is not None:
            evaluations.append(analysed[0])
            arrays[version.id, evaluation.id] = analysed[1]
    if len(evaluations) != len(spec.evaluations):
        return None
    training = spec.training
    monitoring = None
    if spec.monitoring is not None:
        mon = spec.monitoring
        from modelgov.monitoring.logsource import ScanError

        try:
            logs = _log_files(workspace, mon)
        except ScanError as exc:
            problems.append(Problem(version.source, None, "monitoring.logs", str(exc)))
            return None
        monitoring = manifest.MonitoringSource(
            logs=[_file_ref(hashed) for hashed in logs],
            timestamp=mon.timestamp,
            prediction=mon.prediction,
            score=mon.score,
            features=list(mon.features),
            ground_truth=_ref(workspace.files, mon.ground_truth.data) if mon.ground_truth else None,
        )
    drift = _cached_drift_report(workspace, model, version, evaluations, problems, cache) if spec.monitoring else None
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
        drift=drift,
        approvals=sorted(
            [
                *(
                    manifest.Approval(
                        role=a.role,
                        by=a.by,
                        decision=a.decision.value,
                        date=a.date.isoformat(),
                        comment=a.comment,
                        source=approvals_ref,
                    )
                    for a in (version.approvals if approvals_ref else [])
                ),
            ],
            key=lambda a: (a.date, a.role),
        ),
    )


def _load_model(workspace: Workspace, spec: Version) -> LoadedModel | ModelUnavailable | None:
    """The version's model file, loaded under its artifact's rules; None when none is declared."""
    artifact = spec.training.artifact_spec
    if artifact is None:
        return None
    return load_model(workspace.files.path(artifact.path), artifact, refuse_pickle=workspace.refuse_pickle)


def _explainability(
    workspace: Workspace,
    card_sensitive: list[str],
    spec: Version,
    loaded: LoadedModel | ModelUnavailable | None,
    evaluation: Evaluation,
    table: pd.DataFrame,
    task: str,
) -> manifest.Explainability:
    artifact = spec.training.artifact_spec
    return explain(
        loaded.estimator if isinstance(loaded, LoadedModel) else None,
        table,
        features=list(evaluation.features),
        label=evaluation.label,
        prediction=evaluation.prediction,
        task=task,
        positive_label=evaluation.positive_label,
        settings=workspace.governance.analysis,
        precomputed=spec.training.feature_importance,
        model_ref=_ref(workspace.files, artifact.path) if artifact else None,
        unavailable_reason=loaded.reason if isinstance(loaded, ModelUnavailable) else None,
        model_notes=loaded.notes if isinstance(loaded, LoadedModel) else (),
        slice_features=list(dict.fromkeys([*evaluation.features, *card_sensitive])),
    )


def _cached_evaluation_run(
    workspace: Workspace,
    model: ModelEntry,
    version: VersionEntry,
    loaded: LoadedModel | ModelUnavailable | None,
    evaluation: Evaluation,
    problems: list[Problem],
    cache: AnalysisCache | None,
) -> tuple[manifest.EvaluationRun, RunArrays] | None:
    """:func:`_evaluation_run`, read from ``cache`` when everything it depends on is unchanged."""
    spec = version.spec
    if cache is None:
        return _evaluation_run(workspace, model, spec, loaded, evaluation, problems)
    key = _analysis_key(workspace, model, spec, evaluation)
    label = f"{model.id} {version.id} {evaluation.id}"
    hit = cache.get(key, label)
    if hit is not None:
        try:
            return _decode_run(*hit)
        except ValueError as exc:  # pydantic's ValidationError included: not a result of this schema
            cache.reject(key, label, f"not a valid result: {str(exc).splitlines()[0]}")
    analysed = _evaluation_run(workspace, model, spec, loaded, evaluation, problems)
    if analysed is not None and (encoded := _encode_run(*analysed)) is not None:
        cache.put(key, *encoded)
    return analysed


def _encode_run(run: manifest.EvaluationRun, arrays: RunArrays) -> tuple[dict, dict[str, np.ndarray]] | None:
    """A run and its arrays as a cache entry; None when the row ids cannot be stored exactly."""
    stored = {"y_true": arrays.y_true, "y_pred": arrays.y_pred}
    if arrays.y_score is not None:
        stored["y_score"] = arrays.y_score
    payload: dict = {"run": run.model_dump(mode="json"), "row_ids": None}
    ids = arrays.row_ids
    if ids is not None:
        if ids.dtype.kind in "biuf":
            stored["row_ids"] = ids.to_numpy()
            payload["row_ids"] = {"name": ids.name, "stored": "array"}
        else:
            values = ids.tolist()
            if not all(v is None or isinstance(v, str | int | float | bool) for v in values):
                return None  # ids such as timestamps would come back as text and pair differently
            payload["row_ids"] = {"name": ids.name, "stored": "json", "values": values}
    return payload, stored


def _decode_run(payload: dict, stored: dict[str, np.ndarray]) -> tuple[manifest.EvaluationRun, RunArrays]:
    run = manifest.EvaluationRun.model_validate(payload["run"])
    ids = payload.get("row_ids")
    row_ids = None
    if ids is not None:
        values = stored["row_ids"] if ids["stored"] == "array" else ids["values"]
        row_ids = pd.Series(values, name=ids["name"], dtype=None if ids["stored"] == "array" else object)
    try:
        arrays = RunArrays(stored["y_true"], stored["y_pred"], stored.get("y_score"), row_ids=row_ids)
    except KeyError as exc:
        raise ValueError(f"missing array {exc}") from None
    return run, arrays


def _analysis_key(workspace: Workspace, model: ModelEntry, spec: Version, evaluation: Evaluation) -> str:
    """Everything an evaluation's analysis reads: the table's content, the model file's content and
    how it may be loaded, the evaluation and card settings, and the analysis settings."""
    card = model.card
    artifact = spec.training.artifact_spec
    return cache_key(
        {
            "table": workspace.files.register(evaluation.data).sha256,
            "evaluation": evaluation.model_dump(mode="json"),
            "task": card.task.value,
            "sensitive": list(card.sensitive_features),
            "intersections": [list(c) for c in card.intersections],
            "expected_groups": {k: list(v) for k, v in card.expected_groups.items()},
            "group_comparisons": {k: v.model_dump(mode="json") for k, v in card.group_comparisons.items()},
            "settings": workspace.governance.analysis.model_dump(mode="json"),
            "artifact": artifact.model_dump(mode="json") if artifact else None,
            "artifact_sha256": workspace.files.register(artifact.path).sha256 if artifact else None,
            "feature_importance": spec.training.model_dump(mode="json").get("feature_importance"),
        }
    )


def _evaluation_run(
    workspace: Workspace,
    model: ModelEntry,
    spec: Version,
    loaded: LoadedModel | ModelUnavailable | None,
    evaluation: Evaluation,
    problems: list[Problem],
) -> tuple[manifest.EvaluationRun, RunArrays] | None:
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
        comparisons=tuple(
            (k, tuple((pair[0], pair[1]) for pair in spec_.pairs)) for k, spec_ in card.group_comparisons.items()
        ),
        reference_groups=tuple((k, spec_.reference) for k, spec_ in card.group_comparisons.items() if spec_.reference),
    )
    settings = workspace.governance.analysis
    needed = [*evaluation.column_roles().values(), *card.sensitive_features]
    try:
        path = workspace.files.path(evaluation.data)
        rows = rows_at_most(path, settings.max_evaluation_rows)
        if rows is not None:
            problems.append(
                Problem(
                    evaluation.data,
                    None,
                    "",
                    f"the table has about {rows:,} rows, more than analysis.max_evaluation_rows "
                    f"({settings.max_evaluation_rows:,}) in governance.yml; evaluation tables are loaded into "
                    "memory, so evaluate on a sample, or raise the limit if this machine has the memory",
                )
            )
            return None
        table = read_table(path, needed)
        analysis = analyse_evaluation(
            table,
            columns,
            task=card.task.value,
            min_group_size=settings.min_group_size,
            exclude_small_groups=settings.exclude_small_groups,
            resampling=_resampling(workspace),
            row_id=evaluation.row_id,
        )
        explainability = _explainability(
            workspace, card.sensitive_features, spec, loaded, evaluation, table, card.task.value
        )
    except TableError as exc:
        problems.append(Problem(evaluation.data, None, "", str(exc)))
        return None
    except DataProblem as exc:
        problems.append(Problem(evaluation.data, None, f"column {exc.column!r}", exc.message))
        return None
    run = manifest.EvaluationRun(
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
        explainability=explainability,
    )
    return run, analysis.arrays


def _cached_drift_report(
    workspace: Workspace,
    model: ModelEntry,
    version: VersionEntry,
    evaluations: list[manifest.EvaluationRun],
    problems: list[Problem],
    cache: AnalysisCache | None,
) -> manifest.MonitoringReport | None:
    """:func:`_drift_report`, read from ``cache`` when the logs, outcomes, reference and settings are unchanged."""
    if cache is None:
        return _drift_report(workspace, model, version, evaluations, problems)
    key = _monitoring_key(workspace, model, version)
    label = f"{model.id} {version.id} monitoring"
    hit = cache.get(key, label)
    if hit is not None:
        try:
            return manifest.MonitoringReport.model_validate(hit[0])
        except ValueError as exc:
            cache.reject(key, label, f"not a valid result: {str(exc).splitlines()[0]}")
    report = _drift_report(workspace, model, version, evaluations, problems)
    if report is not None:
        cache.put(key, report.model_dump(mode="json"), {})
    return report


def _monitoring_key(workspace: Workspace, model: ModelEntry, version: VersionEntry) -> str:
    """Everything a drift report reads: the logs', outcomes' and reference's content and the settings."""
    mon = version.spec.monitoring
    assert mon is not None
    files = workspace.files
    reference = mon.reference_spec(version.spec.evaluations)
    return cache_key(
        {
            "kind": "monitoring",
            "monitoring": mon.model_dump(mode="json"),
            "logs": [hashed.sha256 for hashed in _log_files(workspace, mon)],
            "ground_truth": files.register(mon.ground_truth.data).sha256 if mon.ground_truth else None,
            "reference_data": files.register(reference.data).sha256 if reference.data else None,
            # an evaluation reference: its table and columns, via the run's own record
            "evaluations": [e.model_dump(mode="json") for e in version.spec.evaluations],
            "evaluation_tables": [files.register(e.data).sha256 for e in version.spec.evaluations],
            "task": model.card.task.value,
            "settings": workspace.governance.analysis.model_dump(mode="json"),
        }
    )


def _drift_report(
    workspace: Workspace,
    model: ModelEntry,
    version: VersionEntry,
    evaluations: list[manifest.EvaluationRun],
    problems: list[Problem],
) -> manifest.MonitoringReport | None:
    """Drift and performance over time of the version's logs against its reference: an evaluation
    table (the default), another table, or one window of the log."""
    from modelgov.monitoring.aggregates import WindowSpec
    from modelgov.monitoring.logsource import ScanError
    from modelgov.monitoring.report import PREDICTION, MonitoringInputs, monitoring_report

    mon = version.spec.monitoring
    assert mon is not None
    chosen = mon.reference_spec(version.spec.evaluations)
    specs = {e.id: e for e in version.spec.evaluations}
    evaluation = specs.get(chosen.evaluation) if chosen.evaluation else None
    if chosen.evaluation and not any(r.id == chosen.evaluation for r in evaluations):
        return None  # the evaluation itself failed and is already reported
    log_output = mon.score or mon.prediction
    if evaluation is not None:
        # a score is compared with a score, a prediction with a prediction
        reference_output = evaluation.score if mon.score and evaluation.score else evaluation.prediction
        log_output = mon.score if mon.score and evaluation.score else mon.prediction
    else:
        reference_output = log_output  # a table or window of the same shape as the log
    window = mon.window
    spec_window = WindowSpec(kind="rows", rows=window.rows) if not isinstance(window, str) else WindowSpec(kind=window)
    # A feature's own method comes with its own threshold (or that method's default), never the
    # workspace default's, which may be a p-value where a distance is meant.
    overrides = {
        feature: (test.method, test.threshold)
        if test.method
        else (mon.drift.default.method, test.threshold or mon.drift.default.threshold)
        for feature, test in mon.drift.features.items()
    }
    default = (mon.drift.default.method, mon.drift.default.threshold)
    if default != (None, None):
        for feature in [*mon.features, PREDICTION]:
            overrides.setdefault(feature, default)
    truth = mon.ground_truth
    logs: list[Path | str] = [
        hashed.path if hashed.identity == "listing" else workspace.files.path(hashed.path)
        for hashed in _log_files(workspace, mon)
    ]
    try:
        reference = _reference(workspace, chosen, evaluation, evaluations, logs, mon, spec_window, reference_output)
        if reference_output not in reference.columns:
            reference_output = None  # a table without the output column: the inputs are compared, not the output
        inputs = MonitoringInputs(
            logs=logs,
            timestamp=mon.timestamp,
            features=list(mon.features),
            log_output=log_output,
            reference_output=reference_output,
            window=spec_window,
            window_label=window if isinstance(window, str) else f"{window.rows:,} rows",
            overrides=overrides,
            kinds={feature: test.kind for feature, test in mon.drift.features.items() if test.kind},
            dataset_share=mon.drift.dataset_share,
            count_output=mon.drift.count_output,
            seasonal=chosen.seasonal,
            log_id=mon.id,
            log_prediction=mon.prediction,
            log_score=mon.score,
            truth=workspace.files.path(truth.data) if truth else None,
            truth_id=truth.id if truth else None,
            truth_label=truth.label if truth else None,
            spark=_spark_engine(workspace),
            resampling=_resampling(workspace),  # the workspace's bootstrap settings, as for evaluations
        )
        positive = evaluation.positive_label if evaluation else next(iter(specs.values())).positive_label
        columns = EvaluationColumns(
            label=evaluation.label if evaluation else "label",
            prediction=evaluation.prediction if evaluation else "prediction",
            score=evaluation.score if evaluation else None,
            sensitive=(),
            positive_label=positive,
        )
        return monitoring_report(inputs, reference, task=model.card.task.value, columns=columns)
    except ScanError as exc:  # DuckDB names files by absolute path; the user knows them by workspace path
        message = str(exc).replace(f"{workspace.root}{os.sep}", "")
        # a single log file is named once, not as the key's value and again by the scan
        message = message.removeprefix(f"{mon.logs}: ")
        problems.append(Problem(mon.logs, None, "", message))
    except TableError as exc:
        problems.append(Problem(chosen.data or mon.logs, None, "", str(exc)))
    except (DataProblem, ValueError) as exc:
        problems.append(Problem(version.source, None, "monitoring", str(exc)))
    return None


def _spark_engine(workspace: Workspace):  # -> SparkEngine | None
    from modelgov.monitoring.report import SparkEngine

    engine = workspace.governance.monitoring
    return SparkEngine(engine.master, dict(engine.conf)) if engine.engine == "spark" else None


def _reference(
    workspace: Workspace,
    chosen: ReferenceSpec,
    evaluation: Evaluation | None,
    evaluations: list[manifest.EvaluationRun],
    logs: list[Path],
    mon: MonitoringSpec,
    window: WindowSpec,
    output: str,
) -> Reference:
    """Read the reference the workspace chose: only the monitored columns (and the output's)."""
    from modelgov.monitoring.report import Reference, iso
    from modelgov.monitoring.scan import read_window
    from modelgov.monitoring.seasonal import parse_times

    def from_table(rel_path: str) -> dict:
        path = workspace.files.path(rel_path)
        columns = frozenset(read_columns(path))

        def load(column: str) -> pd.Series:
            return read_table(path, [column])[column]

        # The rows' time: the column the workspace names, else one named like the log's. Only a column
        # the workspace named, or a seasonal reference, must hold times; otherwise one that does not
        # (an unrelated column of that name) only leaves the reference's span unknown.
        timestamp = chosen.timestamp or (mon.timestamp if mon.timestamp in columns else None)
        strict = bool(chosen.timestamp or chosen.seasonal)

        def times() -> pd.Series | None:
            try:
                return parse_times(load(timestamp), timestamp, rel_path)
            except ValueError:
                if strict:
                    raise
                return None

        return {
            "load": load,
            "columns": columns,
            "file": _ref(workspace.files, rel_path),
            "timestamp": timestamp,
            "times": times if timestamp is not None else None,
        }

    if evaluation is not None:
        run = next(r for r in evaluations if r.id == evaluation.id)
        return Reference(
            kind="evaluation",
            name=evaluation.id,
            performance=list(run.performance.metrics),
            **from_table(evaluation.data),
        )
    if chosen.data is not None:
        return Reference(kind="data", name=chosen.data, description=chosen.description, **from_table(chosen.data))
    assert chosen.window is not None
    picked = read_window(
        logs, timestamp=mon.timestamp, window=window, columns=[*mon.features, output], which=chosen.window
    )
    frame = picked.frame
    return Reference(
        load=frame.__getitem__,
        columns=frozenset(frame.columns),
        kind="window",
        name=iso(picked.start),
        span=(picked.start, picked.end),
    )


def _resampling(workspace: Workspace) -> Resampling:
    settings = workspace.governance.analysis
    return Resampling(settings.bootstrap_resamples, settings.confidence_level, settings.seed)


def _with_comparisons(
    workspace: Workspace, model: ModelEntry, built: manifest.Model, arrays: dict[tuple[str, str], RunArrays]
) -> manifest.Model:
    """Compare each version with its previous version and with the live one, on every evaluation
    dataset both were run on, when their rows can be paired."""
    versions = []
    for version in built.versions:
        targets = []
        if version.previous:
            targets.append((version.previous, "previous"))
        if built.live_version and built.live_version not in (version.version, version.previous):
            targets.append((built.live_version, "live"))
        comparisons = []
        for other_id, relation in targets:
            other = next((v for v in built.versions if v.version == other_id), None)
            if other is None:
                continue
            for run in version.evaluations:
                other_run = next((r for r in other.evaluations if r.dataset == run.dataset), None)
                this_arrays = arrays.get((version.version, run.id))
                other_arrays = arrays.get((other_id, other_run.id)) if other_run else None
                if other_run is None or this_arrays is None or other_arrays is None:
                    continue
                try:
                    pairing = pair_rows(this_arrays, other_arrays, row_id=_row_id(model, version.version, run.id))
                except NotComparable:
                    continue
                comparisons.append(
                    manifest.Comparison(
                        other_version=other_id,
                        relation=relation,
                        evaluation=run.id,
                        other_evaluation=other_run.id,
                        dataset=run.dataset,
                        rows=len(pairing.this_rows),
                        matched_by=pairing.matched_by,
                        deltas=metric_deltas(
                            this_arrays, other_arrays, pairing, task=built.task, resampling=_resampling(workspace)
                        ),
                    )
                )
        versions.append(version.model_copy(update={"comparisons": comparisons}) if comparisons else version)
    return built.model_copy(update={"versions": versions})


def _row_id(model: ModelEntry, version: str, run_id: str) -> str | None:
    spec = model.versions[version].spec
    return next((e.row_id for e in spec.evaluations if e.id == run_id), None)


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
