"""Assemble the manifest: every model version of a loaded workspace, analysed and mapped to the
output contract (:mod:`modelgov.manifest`), by running the build's stages (:mod:`modelgov.stages`).

Data problems found while analysing (a column with gaps, scores outside [0, 1]) are collected over
the whole workspace and raised together, like the loader's problems.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING

from modelgov import long_lived
from modelgov.stages import STAGES
from modelgov.stages.base import Progress, _silent
from modelgov.stages.records import build_time
from modelgov.stages.runner import run_stages

if TYPE_CHECKING:
    from modelgov import manifest
    from modelgov.cache import AnalysisCache
    from modelgov.workspace.load import Workspace

__all__ = ["Progress", "build_manifest", "build_time"]


@long_lived.for_the_build()
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
    :class:`~modelgov.errors.WorkspaceError` with every data problem found (a column with gaps,
    scores outside [0, 1], …).

    ``as_of`` is the day policies are checked on (freshness, waiver expiry): the build date unless
    given, so a re-check of old evidence can be dated. ``fail_on`` overrides governance.yml's.
    With a ``cache``, a result whose inputs are unchanged is read from it instead of recomputed.
    With ``jobs`` > 1, models are analysed in that many processes
    (see :func:`~modelgov.stages.runner.analyse_models`). Signatures are checked against
    ``allowed_signers`` (a file outside the workspace), else ``MODELGOV_ALLOWED_SIGNERS``, else the
    workspace's ``signing.allowed_signers``."""
    return run_stages(
        workspace,
        STAGES,
        progress=progress,
        as_of=as_of,
        fail_on=fail_on,
        cache=cache,
        jobs=jobs,
        allowed_signers=allowed_signers,
    )
