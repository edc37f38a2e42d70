"""Run the stages: every model's analyses (in worker processes when asked), then the workspace-wide
stages in order, with the cache and the file registry kept here and nowhere else.

For each model, each version's evaluation runs go through the ``run`` stages (a run any of them
fails is left out), then the version through the ``version`` stages, then the model through the
``model`` stages. A stage's result is read from the cache when an entry exists for the key of its
inputs, and written there when computed; an entry that is not a valid result is reported and
recomputed. Data problems are collected over every model and raised together.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelgov import long_lived, manifest
from modelgov.cache import AnalysisCache, cache_key
from modelgov.errors import Problem, WorkspaceError
from modelgov.stages import records
from modelgov.stages.base import (
    SCOPES,
    Inputs,
    ManifestSubject,
    ModelSubject,
    Outcome,
    Progress,
    Scope,
    Stage,
    StageFailed,
    VersionSubject,
    _silent,
)
from modelgov.workspace.files import HashedFile

if TYPE_CHECKING:
    from modelgov.workspace.load import ModelEntry, VersionEntry, Workspace


def run_stages(
    workspace: Workspace,
    stages: Sequence[Stage],
    *,
    progress: Progress = _silent,
    as_of: dt.date | None = None,
    fail_on: str | None = None,
    cache: AnalysisCache | None = None,
    jobs: int = 1,
    allowed_signers: Path | None = None,
) -> manifest.Manifest:
    """The manifest of ``workspace``: every model through the analysis stages, then the manifest
    through the workspace-wide ones. Raises :class:`WorkspaceError` with every problem found."""
    _check_order(stages)
    problems: list[Problem] = []
    models = []
    for result in analyse_models(workspace, stages, cache, progress, jobs):
        problems.extend(result.problems)
        models.append(result.model)
    if problems:
        raise WorkspaceError(problems)
    built = records.manifest_of(workspace, models, as_of)
    subject = ManifestSubject(
        workspace=workspace,
        progress=progress,
        manifest=built,
        as_of=as_of,
        fail_on=fail_on,
        allowed_signers=allowed_signers,
    )
    for stage in (s for s in stages if s.scope == "manifest"):
        try:
            result = stage.compute(subject)
        except StageFailed as failed:
            raise WorkspaceError(failed.problems) from None
        if result is not None:
            subject.manifest = stage.contribute(subject.manifest, subject, result)
    # every file a stage read, hashed once
    return subject.manifest.model_copy(update={"inputs": [records.file_ref(f) for f in workspace.files.all()]})


def _check_order(stages: Sequence[Stage]) -> None:
    ranks = [SCOPES.index(stage.scope) for stage in stages]
    if ranks != sorted(ranks):
        raise ValueError(f"stages must be listed by scope ({', '.join(SCOPES)}): {[s.name for s in stages]}")


# ---------------------------------------------------------------------- models, in parallel


@dataclass(frozen=True)
class ModelResult:
    """One model analysed: what a worker process sends back."""

    model: manifest.Model
    problems: list[Problem]
    hashed: list[HashedFile]  # every file the analysis hashed, for the manifest's inputs
    hits: int = 0
    misses: int = 0
    corrupted: tuple[str, ...] = ()
    messages: tuple[str, ...] = ()


def analyse_model(
    workspace: Workspace, model_id: str, stages: Sequence[Stage], cache_folder: Path | None
) -> ModelResult:
    """Every version of one model, then the model. Models are independent of each other, so this is
    the unit of parallel work; it runs the same in a worker or in-process."""
    messages: list[str] = []
    cache = AnalysisCache(cache_folder, report=messages.append) if cache_folder is not None else None
    analysis = ModelAnalysis(workspace, workspace.models[model_id], stages, cache)
    built = analysis.run()
    stats = cache.stats if cache is not None else None
    return ModelResult(
        built,
        analysis.problems,
        workspace.files.all(),
        hits=stats.hits if stats else 0,
        misses=stats.misses if stats else 0,
        corrupted=tuple(stats.corrupted) if stats else (),
        messages=tuple(messages),
    )


def analyse_models(
    workspace: Workspace, stages: Sequence[Stage], cache: AnalysisCache | None, progress: Progress, jobs: int
) -> list[ModelResult]:
    """Analyse every model, in ``jobs`` processes when there is more than one model to share out.

    Workers are never forks of this process, which may hold thread pools (BLAS, DuckDB) that a forked
    child would inherit in an unusable state; they come from :func:`modelgov.processes.worker_pool`
    (forked from a fork server that has only imported modules). Each worker gets a copy of the
    loaded workspace (small: metadata, not tables) and sends back the model's manifest entry, its
    problems, the files it hashed and its cache statistics; results are merged in model order, so
    the manifest does not depend on which worker finished first."""
    ids = list(workspace.models)
    folder = cache.folder if cache is not None else None
    analyses = [s for s in stages if s.scope != "manifest"]
    results: dict[str, ModelResult] = {}

    def absorb(model_id: str, result: ModelResult) -> None:
        results[model_id] = result
        long_lived.keep()  # the model's results stay to the end of the build
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
    todo = []
    if jobs > 1 and len(ids) > 1:
        todo = [i for i in ids if cache is None or not fully_cached(workspace, workspace.models[i], analyses, cache)]
    if len(todo) <= 1:
        todo = []
    for model_id in (i for i in ids if i not in todo):
        progress(f"Analysing {label(model_id)}")
        absorb(model_id, analyse_model(workspace, model_id, analyses, folder))
    if todo:
        from concurrent.futures import as_completed

        from modelgov.processes import worker_pool

        workers = min(jobs, len(todo))
        progress(f"Analysing {len(todo)} models in {workers} processes")
        with worker_pool(workers) as pool:
            futures = {pool.submit(analyse_model, workspace, model_id, analyses, folder): model_id for model_id in todo}
            for done, future in enumerate(as_completed(futures), start=1):
                model_id = futures[future]
                absorb(model_id, future.result())
                progress(f"Analysed {label(model_id)} [{done}/{len(todo)}]")
    return [results[i] for i in ids]


def fully_cached(workspace: Workspace, model: ModelEntry, stages: Sequence[Stage], cache: AnalysisCache) -> bool:
    """True when every result of the model's stages has a cache entry (not yet verified: a corrupted
    one is found and recomputed when it is read)."""
    try:
        return all(cache.has(key) for key in ModelAnalysis(workspace, model, stages, cache).cache_keys())
    except StageFailed:  # a log URI that cannot be listed: reported when the model is analysed
        return False


# ---------------------------------------------------------------------- one model


class ModelAnalysis:
    """One model through the analysis stages, collecting its problems."""

    def __init__(self, workspace: Workspace, model: ModelEntry, stages: Sequence[Stage], cache: AnalysisCache | None):
        self.workspace = workspace
        self.model = model
        self.cache = cache
        self.problems: list[Problem] = []
        self.stages: dict[Scope, list[Stage]] = {scope: [s for s in stages if s.scope == scope] for scope in SCOPES}

    def run(self) -> manifest.Model:
        subject = ModelSubject(workspace=self.workspace, model=self.model)
        versions = [self._version(subject, version) for version in self.model.versions.values()]
        node = records.model_entry(self.workspace, self.model, [v for v in versions if v is not None])
        for stage in self.stages["model"]:
            for unit in stage.units(subject):
                node = self._contribute(stage, node, unit)
        return node

    def cache_keys(self) -> Iterator[str]:
        """The cache key of every result :meth:`run` would read, computing none of them."""
        subject = ModelSubject(workspace=self.workspace, model=self.model)
        for version in self.model.versions.values():
            parent = self._version_subject(subject, version)
            for evaluation in version.spec.evaluations:
                run = parent.for_run(evaluation)
                for stage in self.stages["run"]:
                    key = self._key(stage, run)
                    subject.outcomes.setdefault((version.id, evaluation.id), {})[stage.name] = Outcome(key, None)
                    if key:
                        yield key
            parent.logs = self._logs(version)
            for stage in self.stages["version"]:
                yield from (key for unit in stage.units(parent) if (key := self._key(stage, unit)))
        for stage in self.stages["model"]:
            yield from (key for unit in stage.units(subject) if (key := self._key(stage, unit)))

    def _version_subject(self, parent: ModelSubject, version: VersionEntry) -> VersionSubject:
        return VersionSubject(
            workspace=self.workspace,
            progress=parent.progress,
            model=self.model,
            outcomes=parent.outcomes,
            version=version,
        )

    def _version(self, parent: ModelSubject, version: VersionEntry) -> manifest.ModelVersion | None:
        subject = self._version_subject(parent, version)
        for evaluation in version.spec.evaluations:
            run = self._run(subject, evaluation)
            if run is not None:
                subject.runs.append(run)
        if len(subject.runs) != len(version.spec.evaluations):
            return None
        try:
            subject.logs = self._logs(version)
        except StageFailed as failed:
            self.problems.extend(failed.problems)
            return None
        node = records.version_entry(self.workspace, version, subject.runs, subject.logs)
        for stage in self.stages["version"]:
            for unit in stage.units(subject):
                node = self._contribute(stage, node, unit)
        return node

    def _run(self, parent: VersionSubject, evaluation: Any) -> manifest.EvaluationRun | None:
        subject = parent.for_run(evaluation)
        node = None
        for stage in self.stages["run"]:
            outcome = self._outcome(stage, subject)
            if outcome is None:
                return None
            subject.outcomes.setdefault((parent.version.id, evaluation.id), {})[stage.name] = outcome
            if outcome.value is not None:
                node = stage.contribute(node, subject, outcome.value)
        return node

    def _contribute(self, stage: Stage, node: Any, subject: Any) -> Any:
        outcome = self._outcome(stage, subject)
        if outcome is None or outcome.value is None:
            return node
        return stage.contribute(node, subject, outcome.value)

    def _logs(self, version: VersionEntry) -> list[HashedFile]:
        """The version's log files, identified (none without monitoring)."""
        mon = version.spec.monitoring
        if mon is None:
            return []
        from modelgov.sources.tables import is_uri

        if not is_uri(mon.logs):
            return records.log_files(self.workspace, mon)
        from modelgov.monitoring.logsource import ScanError

        try:
            return records.log_files(self.workspace, mon)
        except ScanError as exc:
            raise StageFailed(Problem(version.source, None, "monitoring.logs", str(exc))) from None

    # ------------------------------------------------------------------ one result, through the cache

    def _outcome(self, stage: Stage, subject: Any) -> Outcome | None:
        """The stage's result for ``subject``, from the cache when it holds one; None when the stage
        failed (its problems are recorded)."""
        try:
            key = self._key(stage, subject)
            if key is not None:
                assert self.cache is not None
                label = stage.label(subject)
                hit = self.cache.get(key, label, raw_json=True)
                if hit is not None:
                    try:
                        return Outcome(key, stage.load(*hit))
                    except (ValueError, KeyError, TypeError) as exc:  # pydantic's ValidationError included
                        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                        self.cache.reject(key, label, f"not a valid result: {reason}")
            value = stage.compute(subject)
        except StageFailed as failed:
            self.problems.extend(failed.problems)
            return None
        if key is not None and value is not None and (encoded := stage.dump(value)) is not None:
            assert self.cache is not None
            self.cache.put(key, *encoded)
        return Outcome(key, value)

    def _key(self, stage: Stage, subject: Any) -> str | None:
        if self.cache is None or (inputs := stage.inputs(subject)) is None:
            return None
        return _key_of(stage, inputs, self.workspace)


def _key_of(stage: Stage, inputs: Inputs, workspace: Workspace) -> str:
    def digest(item: Any) -> Any:
        if item is None:
            return None
        if isinstance(item, HashedFile):
            return item.sha256
        if isinstance(item, str):
            return workspace.files.register(item).sha256
        return [digest(part) for part in item]

    return cache_key(
        {
            "stage": stage.name,
            "files": {role: digest(item) for role, item in inputs.files.items()},
            "results": dict(inputs.results),
            "settings": dict(inputs.settings),
        }
    )
