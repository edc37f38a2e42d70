"""What every rule kind's checks share: the version under check (:class:`Context`, whose
:meth:`~Context.matching` expands a pattern within the bounds on what one rule and one version's
rules may read, :data:`MAX_MATCHES` and :data:`MAX_CHECKS_PER_VERSION`), how an observed value is
compared with a requirement (:func:`compare`, :func:`threshold_check`), and how values and day
counts are written in a check's message.

Kept apart from the rule kinds (:mod:`.rules`, :mod:`.approval_rules`, :mod:`.data_rules`) so that
each kind's module reads this vocabulary without importing the others.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from modelgov import manifest

from .evidence_index import Evidence
from .paths import EvidenceTree
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


#: The most evidence values one pattern (a rule's ``evidence``, a condition of its ``when``, a drift
#: limit's features) may match on one version. Each is a check, a line of the compliance page and of
#: policy-results.json: a rule that matches more is an error naming its pattern, never expanded.
MAX_MATCHES = 10_000

#: The most evidence values all the rules of all the policies may read on one version (their checks,
#: and the values their conditions compare). Once a version's rules have read this many, every later
#: rule on it is an error, never evaluated: a page, a manifest and a build stay bounded whatever the
#: policies say. Rules are read in the order of the compliance overview.
MAX_CHECKS_PER_VERSION = 20_000

#: The most evidence values the rules may read on all versions together. Each check costs a line of a
#: page and of policy-results.json and some kilobytes while the build runs; without this, a policy
#: just under the per-version bound, copied onto many versions, grew the build with the versions
#: (21 versions: 4 min, 4.2 GB, a 494 MB site). A fleet of 1,000 versions with the demo's rules
#: reads about 60,000.
MAX_CHECKS_PER_WORKSPACE = 100_000


@dataclass
class WorkspaceBudget:
    """The evidence values the rules have read on every version so far (:data:`MAX_CHECKS_PER_WORKSPACE`)."""

    spent: int = 0


class TooManyChecks(Exception):
    """A rule would check more than the bounds above allow; the message says which and what to do."""


@dataclass
class Budget:
    """The evidence values the rules have read on one version so far (:data:`MAX_CHECKS_PER_VERSION`)."""

    spent: int = 0
    #: per (policy, rule) the values it read, to name the rules that spent the most
    by_rule: dict[tuple[str, str], int] = field(default_factory=dict)
    #: what every version's rules have read, shared by the versions' budgets
    workspace: WorkspaceBudget = field(default_factory=WorkspaceBudget)

    def spend(self, count: int) -> None:
        self.spent += count
        self.workspace.spent += count

    @property
    def exhausted(self) -> bool:
        return self.spent >= MAX_CHECKS_PER_VERSION or self.workspace.spent >= MAX_CHECKS_PER_WORKSPACE

    def why_not_checked(self) -> str:
        largest = sorted(self.by_rule.items(), key=lambda item: (-item[1], item[0]))[:3]
        named = ", ".join(f"{policy}/{rule} ({count:,})" for (policy, rule), count in largest)
        if self.spent < MAX_CHECKS_PER_VERSION:
            return (
                f"not checked: the rules read {self.workspace.spent:,} evidence values on the versions before "
                f"this one, and the policies may read at most {MAX_CHECKS_PER_WORKSPACE:,} in one workspace; "
                f"narrow the patterns of the rules that read the most ({named or 'on earlier versions'})"
            )
        return (
            f"not checked: the rules before it read {self.spent:,} evidence values on this version, and "
            f"the policies may read at most {MAX_CHECKS_PER_VERSION:,} on one version; narrow the patterns "
            f"of the rules that read the most ({named})"
        )


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
    budget: Budget = field(default_factory=Budget, compare=False)

    @functools.cached_property
    def tree(self) -> EvidenceTree:
        """The index's paths as a tree, built when a pattern is first matched on this version."""
        return EvidenceTree(self.index)

    def matching(self, pattern: str) -> dict[str, Evidence]:
        """The evidence ``pattern`` matches, charged to the version's :class:`Budget`. More than
        :data:`MAX_MATCHES` values, or more than the budget has left, raise :class:`TooManyChecks`
        without making a check of any of them."""
        found = self.tree.expand(pattern)
        if len(found) > MAX_MATCHES:
            raise TooManyChecks(
                f"{pattern} matches {len(found):,} evidence values on this version, more than the "
                f"{MAX_MATCHES:,} one pattern may check; name the feature, group or metric where it says '*'"
            )
        if self.budget.spent + len(found) > MAX_CHECKS_PER_VERSION:
            raise TooManyChecks(self.budget.why_not_checked())
        self.budget.spend(len(found))
        return {path: self.index[path] for path in found}


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
