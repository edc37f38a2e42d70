"""The bundled example: a realistic governance workspace generated from a seed.

``generate_workspace`` writes three scikit-learn models with their datasets, datasheets, cards,
versions, sign-offs and monitoring logs — everything modelgov reads — so that a new user (and our own
tests) can build a complete site without first assembling their own evidence. The data is built to
contain things worth finding: a group disparity in the credit model, a drift at a known week in every
production model, a challenger evaluated on the same rows as its champion, a rejected version.

Same seed, same bytes: nothing depends on the clock, the machine or the order of dicts, so the site
built from the example is reproducible too.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from modelgov.demo import churn, credit, diabetes, governance, policies
from modelgov.demo.churn import CHURN_DRIFT_START_WEEK
from modelgov.demo.credit import CREDIT_DRIFT_START_WEEK
from modelgov.demo.diabetes import DIABETES_DRIFT_START_WEEK
from modelgov.demo.monitoring import MONITORING_START, MONITORING_WEEKS
from modelgov.demo.writer import WorkspaceWriter
from modelgov.errors import ModelgovError

#: Seed used when none is given (the example shipped in the docs is generated with it).
DEFAULT_SEED = 2026

__all__ = [
    "CHURN_DRIFT_START_WEEK",
    "CREDIT_DRIFT_START_WEEK",
    "DEFAULT_SEED",
    "DIABETES_DRIFT_START_WEEK",
    "MONITORING_START",
    "MONITORING_WEEKS",
    "generate_workspace",
]


def generate_workspace(target: Path, *, seed: int = DEFAULT_SEED) -> None:
    """Write the example governance workspace into ``target``.

    ``target`` may not exist yet; if it exists it must be an empty folder, because the example must
    never mix with (or overwrite) someone's real evidence. If generation fails part-way, whatever was
    written is removed again, so a failed run never leaves a half-written workspace behind.
    """
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise ModelgovError(f"the demo seed must be an integer, not {seed!r}")
    target = Path(target)
    existed = target.exists()
    if existed and not target.is_dir():
        raise ModelgovError(f"cannot generate the example workspace into {target}: it is not a folder")
    if existed and any(target.iterdir()):
        raise ModelgovError(
            f"cannot generate the example workspace into {target}: the folder is not empty "
            "(choose a new or empty folder so no existing files are overwritten)"
        )
    target.mkdir(parents=True, exist_ok=True)
    writer = WorkspaceWriter(target)
    try:
        credit.build(writer, seed)
        churn.build(writer, seed)
        diabetes.build(writer, seed)
        policies.build(writer)
        governance.build(writer, seed)
    except BaseException:
        _remove_partial(target, existed)
        raise


def _remove_partial(target: Path, existed: bool) -> None:
    """Undo a failed generation: the folder was new or empty, so everything in it is ours."""
    if not existed:
        shutil.rmtree(target, ignore_errors=True)
        return
    for child in target.iterdir():
        if child.is_dir() and not child.is_symlink():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
