"""What every rule kind's checks share: the version under check (:class:`Context`), how an
observed value is compared with a requirement (:func:`compare`, :func:`threshold_check`), and how
values and day counts are written in a check's message.

Kept apart from the rule kinds (:mod:`.rules`, :mod:`.approval_rules`, :mod:`.data_rules`) so that
each kind's module reads this vocabulary without importing the others.
"""

from __future__ import annotations

import datetime as dt
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from modelgov import manifest

from .paths import Evidence
from .placeholders import is_placeholder
from .schema import Requirement

Check = manifest.PolicyCheck

_COMPARE: dict[str, Callable[[Any, Any], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}


@dataclass(frozen=True)
class Context:
    model: manifest.Model
    version: manifest.ModelVersion
    index: dict[str, Evidence]
    datasets: dict[str, manifest.Dataset]
    today: dt.date
    #: set by the CI (``MODELGOV_REQUIRE_SIGNATURES``): every sign-off and promotion rule requires a
    #: signature, whatever the workspace's policies say
    require_signatures: bool = False


def shown(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def compare(observed: Any, requirement: Requirement) -> tuple[str, str]:
    """(``pass`` | ``fail`` | ``error``, why) for one observed value."""
    want = requirement.value
    if observed is None:
        return "error", "the value is undefined (for example a rate with no eligible rows)"
    if isinstance(observed, str) and is_placeholder(observed):
        return "fail", f"{shown(observed)} is a placeholder, still to be written"
    if isinstance(want, bool) or isinstance(observed, bool):
        if not isinstance(observed, bool) or not isinstance(want, bool):
            return "error", f"{shown(observed)} and {shown(want)} are not both true/false"
    elif isinstance(want, int | float):
        if not isinstance(observed, int | float):
            return "error", f"{shown(observed)} is not a number"
        if isinstance(observed, float) and math.isnan(observed):
            return "error", "the value is not a number (NaN)"
    elif requirement.operator not in ("==", "!="):
        return "error", f"{requirement.operator} compares numbers, and {shown(want)} is text"
    ok = _COMPARE[requirement.operator](observed, want)
    return ("pass" if ok else "fail"), f"{shown(observed)} {'meets' if ok else 'does not meet'} {requirement.text()}"


def threshold_check(path: str, ev: Evidence | None, requirement: Requirement) -> Check:
    """One evidence value against one comparison: the check every threshold-like rule records."""
    observed = ev.value if ev else None
    outcome, why = compare(observed, requirement)
    return Check(
        path=path,
        observed=observed,
        requirement=f"{path} {requirement.text()}",
        outcome=outcome,  # type: ignore[arg-type]
        message=f"{path}: {why}" + (f" [{ev.detail}]" if ev and ev.detail else ""),
        page=ev.page if ev else None,
    )
