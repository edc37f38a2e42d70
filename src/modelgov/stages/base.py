"""What a stage is, and what it is given.

A stage is one analysis, or one step of governance. It declares the inputs its result depends on
(workspace files by path, the results it builds on, settings), computes the result, and puts it in
its place in the manifest (its ``evidence``). The runner (:mod:`.runner`) owns everything else: the
order, the cache, the file registry and the worker processes. A stage never opens the cache or
hashes a file itself, so it can be run alone on a subject, and adding an analysis is one module and
one entry in :data:`modelgov.stages.STAGES`.

Each stage runs at one scope, once per subject of that scope:

- ``run``: one evaluation of one version (its table, its model file);
- ``version``: one model version, after all of its runs;
- ``model``: one model, after all of its versions (a stage may split it into units: pairs of versions);
- ``manifest``: the whole workspace, after every model, in the main process; not cached (these
  stages read the manifest the analyses made, and cost little).

A stage signals a failure by raising :class:`StageFailed` with the problems found; they are
collected over the whole workspace and reported together. A failed run drops its evaluation (and
so its version) from the manifest, as the build fails anyway; a stage that has nothing to add for a
subject returns None.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from modelgov import manifest
from modelgov.errors import Problem
from modelgov.stages import records
from modelgov.workspace.files import HashedFile

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from pydantic import BaseModel

    from modelgov.decisions.signers import AllowedSigners
    from modelgov.sources.models import LoadedModel, ModelUnavailable
    from modelgov.workspace.governance_schema import AnalysisSettings
    from modelgov.workspace.load import ModelEntry, VersionEntry, Workspace
    from modelgov.workspace.training_schema import Evaluation

Scope = Literal["run", "version", "model", "manifest"]
SCOPES: tuple[Scope, ...] = ("run", "version", "model", "manifest")

Progress = Callable[[str], None]


def _silent(_: str) -> None:
    pass


class StageFailed(Exception):
    """What a stage found wrong with its inputs (a column with gaps, a log that cannot be read)."""

    def __init__(self, *problems: Problem):
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = list(problems)


#: A file a result depends on: a workspace path, a file already identified (a log listing), or
#: several of either; None for an optional file that is not given.
FileInput = str | HashedFile | Sequence[str | HashedFile] | None


@dataclass(frozen=True)
class Inputs:
    """Everything a stage's result depends on, for its cache key: workspace ``files`` by role (the
    runner hashes them), the cache keys of the ``results`` it is computed from, and ``settings``
    (anything JSON holds). A change to any of them is a different key, so an entry is never stale."""

    files: Mapping[str, FileInput] = field(default_factory=dict)
    results: Mapping[str, str | None] = field(default_factory=dict)
    settings: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Outcome:
    """A stage's result for one subject, with the cache key of its inputs (None without a cache)."""

    key: str | None
    value: Any


# ---------------------------------------------------------------------- subjects


@dataclass(kw_only=True)
class Subject:
    """What every stage is given: the loaded workspace and the runner's file services."""

    workspace: Workspace
    progress: Progress = field(default=_silent, repr=False)

    @property
    def settings(self) -> AnalysisSettings:
        return self.workspace.governance.analysis

    def path(self, rel_path: str) -> Path:
        """Where a workspace file is on disk (the loader has checked it stays inside the workspace)."""
        return self.workspace.files.path(rel_path)

    def ref(self, rel_path: str) -> manifest.FileRef:
        """A workspace file as the manifest names it: path, SHA-256 and size."""
        return records.ref(self.workspace.files, rel_path)


@dataclass(kw_only=True)
class ModelSubject(Subject):
    """One model; ``outcomes`` holds every run's results so far, by (version, evaluation) and stage."""

    model: ModelEntry
    outcomes: dict[tuple[str, str], dict[str, Outcome]] = field(default_factory=dict, repr=False)

    def outcome(self, stage: str, version: str, evaluation: str) -> Outcome | None:
        return self.outcomes.get((version, evaluation), {}).get(stage)


@dataclass(kw_only=True)
class VersionSubject(ModelSubject):
    """One version: its log files (identified, for a version that declares monitoring) and the
    evaluation runs its run stages made."""

    version: VersionEntry
    logs: list[HashedFile] = field(default_factory=list)
    runs: list[manifest.EvaluationRun] = field(default_factory=list)
    #: shared by the version and its runs: the model file is loaded once, when a stage first asks
    loaded: dict[str, Any] = field(default_factory=dict, repr=False)

    def model_file(self) -> LoadedModel | ModelUnavailable | None:
        """The version's model file, loaded under its artifact's rules; None when none is declared."""
        if "model" not in self.loaded:
            from modelgov.sources.models import load_model

            artifact = self.version.spec.training.artifact_spec
            self.loaded["model"] = (
                None
                if artifact is None
                else load_model(
                    self.path(artifact.path), artifact, refuse_model_code=self.workspace.refusals.model_code
                )
            )
        return self.loaded["model"]

    def for_run(self, evaluation: Evaluation) -> RunSubject:
        return RunSubject(
            workspace=self.workspace,
            progress=self.progress,
            model=self.model,
            outcomes=self.outcomes,
            version=self.version,
            logs=self.logs,
            runs=self.runs,
            loaded=self.loaded,
            evaluation=evaluation,
        )


@dataclass(kw_only=True)
class RunSubject(VersionSubject):
    """One evaluation run: its table is read once, when a stage first asks, with every column any
    run stage reads (the evaluation's columns and the card's sensitive features)."""

    evaluation: Evaluation
    _table: pd.DataFrame | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return f"{self.model.id} {self.version.id} {self.evaluation.id}"

    def table(self) -> pd.DataFrame:
        """The evaluation table's columns (raises :class:`~modelgov.sources.tables.TableError`)."""
        if self._table is None:
            from modelgov.sources.tables import read_table

            needed = [*self.evaluation.column_roles().values(), *self.model.card.sensitive_features]
            self._table = read_table(self.path(self.evaluation.data), needed)
        return self._table

    def result(self, stage: str) -> Any:
        """An earlier run stage's result for this run."""
        found = self.outcome(stage, self.version.id, self.evaluation.id)
        return found.value if found is not None else None


@dataclass(kw_only=True)
class ManifestSubject(Subject):
    """The whole workspace, with the manifest the earlier stages made and the build's options."""

    manifest: manifest.Manifest
    as_of: dt.date | None = None
    fail_on: str | None = None
    allowed_signers: Path | None = None

    @property
    def check_date(self) -> dt.date:
        """The day ages, expiries and due dates are judged on, as the manifest records it (``as_of``,
        else the build's UTC date: :func:`~modelgov.stages.records.manifest_of`)."""
        return dt.date.fromisoformat(self.manifest.check_date())

    @functools.cached_property
    def signers(self) -> AllowedSigners | None:
        """The allowed signers: ``allowed_signers`` (outside the workspace), else
        ``MODELGOV_ALLOWED_SIGNERS``, else the workspace's ``signing.allowed_signers``."""
        from modelgov.decisions.signers import CONFIGURED_AT, SignersError
        from modelgov.decisions.signers import locate as locate_signers

        try:
            return locate_signers(
                self.workspace.root, self.workspace.governance.signing.allowed_signers, self.allowed_signers
            )
        except SignersError as exc:
            message = str(exc).removeprefix(f"{CONFIGURED_AT}: ")  # the problem names the file and key itself
            raise StageFailed(Problem("governance.yml", None, "signing.allowed_signers", message)) from None


# ---------------------------------------------------------------------- stages


class Stage:
    """One step of the build. A subclass sets :attr:`name`, :attr:`scope` and :attr:`evidence`, and
    writes :meth:`compute` and :meth:`contribute`; a cached one writes :meth:`inputs` too, and
    :meth:`dump` / :meth:`load` when its result is not one manifest node (:attr:`result`)."""

    #: Names the stage in cache keys and messages.
    name: ClassVar[str]
    scope: ClassVar[Scope]
    #: Where its result goes in the manifest (``models[].versions[].drift``).
    evidence: ClassVar[tuple[str, ...]]
    #: The manifest node its result is, for the default :meth:`dump` and :meth:`load`.
    result: ClassVar[type[BaseModel] | None] = None

    def units(self, subject: Any) -> Iterator[Any]:
        """The subjects a version or model stage runs on within one version or model: by default that
        one; none when the stage does not apply, several when it runs on parts (pairs of versions)."""
        yield subject

    def inputs(self, subject: Any) -> Inputs | None:
        """What the result depends on, for its cache key; None: the stage is not cached."""
        return None

    def label(self, subject: Any) -> str:
        """The result's name in the build's messages (a rejected cache entry names it)."""
        return self.name

    def compute(self, subject: Any) -> Any:
        """The result, None when there is nothing to add; raises :class:`StageFailed`."""
        raise NotImplementedError

    def contribute(self, node: Any, subject: Any, result: Any) -> Any:
        """``node`` (the manifest node of the scope) with ``result`` in its place."""
        raise NotImplementedError

    def dump(self, result: Any) -> tuple[Any, dict[str, np.ndarray]] | None:
        """The result as a cache entry (JSON and arrays); None when it cannot be stored exactly."""
        assert self.result is not None, f"stage {self.name} needs its own dump()"
        return result.model_dump(mode="json"), {}

    def load(self, payload: bytes, arrays: dict[str, np.ndarray]) -> Any:
        """A result from a cache entry (``payload``: the JSON text :meth:`dump`'s result was stored
        as); raises ValueError when it is not one. Validated by pydantic's own JSON parser, in one
        step: a warm build reads every result, and ``json.loads`` then ``model_validate`` was a tenth
        of a warm fleet build."""
        assert self.result is not None, f"stage {self.name} needs its own load()"
        return self.result.model_validate_json(payload)
