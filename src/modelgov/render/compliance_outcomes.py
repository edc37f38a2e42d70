"""The words every compliance page shares: the outcomes of policy results (their order, labels,
meanings and counts), what a severity means, the anchors the pages link to, and how a check's
requirement and observed value are shown.

The policy engine (``modelgov.policy``) decides every outcome and whether the release is blocked;
here outcomes are only ordered, counted and worded. The overview (:mod:`.compliance_views`), each
policy's page (:mod:`.policy_views`), the waivers page (:mod:`.waiver_views`), the model cards and
the dossiers all read them from here, so an outcome is named and ranked the same way everywhere.
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from modelgov.free_values import as_written
from modelgov.manifest import PolicyResult
from modelgov.policy.engine import is_blocking
from modelgov.render import text

__all__ = [
    "ATTENTION",
    "CHECK_LABELS",
    "OUTCOMES",
    "OUTCOME_ORDER",
    "SEVERITIES",
    "OutcomeInfo",
    "blocks",
    "breakable_code",
    "counts_phrase",
    "days_phrase",
    "observed_text",
    "requirement_html",
    "rule_anchor",
    "shown_outcome",
    "tally",
    "version_anchor",
    "waiver_anchor",
    "worst",
]

#: Outcomes from worst to best: a cell of the matrix shows the first one among its results.
#: ``not-in-force`` is not an outcome of the engine: it is how the pages show a result that is not met
#: (fail, warn or error) under a text not in force on the date checked (:func:`shown_outcome`).
OUTCOME_ORDER = ("error", "fail", "warn", "waived", "not-in-force", "pass", "not-applicable")

#: Outcomes listed under "Results that need attention".
ATTENTION = ("error", "fail", "warn", "waived", "not-in-force")

#: The engine's outcomes that a text not in force turns into ``not-in-force`` on the pages.
_DORMANT = ("error", "fail", "warn")


def shown_outcome(result: PolicyResult) -> str:
    """The outcome the pages rank, count and badge a result by: its own, except that a rule of a text
    not in force on the date checked (an obligation still to come, or one rescinded) that is not met
    or cannot be checked is ``not-in-force``. The engine never counts such a result against the
    release (``policy.engine``), so a red "fail" badge, which the legend says blocks, would tell a
    reviewer the opposite of the verdict. The result keeps its own outcome in the manifest and the
    JSON and CSV files, with ``not_in_force`` beside it."""
    if result.not_in_force and result.outcome in _DORMANT:
        return "not-in-force"
    return result.outcome


@dataclass(frozen=True)
class OutcomeInfo:
    key: str  # the value in the manifest, policy-results.json and .csv
    label: str  # what the badge says
    meaning: str  # in plain language, for the legend


OUTCOMES: dict[str, OutcomeInfo] = {
    o.key: o
    for o in (
        OutcomeInfo(
            "error",
            "error",
            "the rule could not be checked: its evidence is missing or malformed. An error is never counted "
            "as a pass; on a blocking rule it blocks the release.",
        ),
        OutcomeInfo("fail", "fail", "a blocking rule is not met. This blocks the release."),
        OutcomeInfo(
            "warn",
            "warning",
            "a warning (or information) rule is not met. It is reported but does not block, unless the check "
            "is set to fail on warnings.",
        ),
        OutcomeInfo(
            "waived",
            "waived",
            "the rule is not met or could not be checked, but an approved waiver in force covers it, so it "
            "does not block. The outcome without the waiver is kept and shown.",
        ),
        OutcomeInfo(
            "not-in-force",
            "not met, not in force",
            "the rule is not met or could not be checked, but the text it implements is not in force on the "
            "date checked (an obligation still to come, or one rescinded). It is reported to show how ready the "
            "version is, and does not block.",
        ),
        OutcomeInfo("pass", "pass", "every check of the rule is met."),
        OutcomeInfo(
            "not-applicable",
            "not applicable",
            "the version is outside the scope of the policy or of the rule, or there is nothing to check on it "
            "(for example a drift limit on a version that is not in production).",
        ),
    )
}

#: Outcomes as counted nouns (singular, plural): "1 failure, 3 passes, 2 not applicable".
_COUNTED = {
    "error": ("error", "errors"),
    "fail": ("failure", "failures"),
    "warn": ("warning", "warnings"),
    "waived": ("waived", "waived"),
    "not-in-force": ("not met under a text not in force", "not met under texts not in force"),
    "pass": ("pass", "passes"),
    "not-applicable": ("not applicable", "not applicable"),
}


def tally(results: Iterable[PolicyResult]) -> dict[str, int]:
    """Results by the outcome the pages show (:func:`shown_outcome`), in :data:`OUTCOME_ORDER`,
    outcomes with none left out."""
    found = Counter(shown_outcome(r) for r in results)
    return {key: found[key] for key in OUTCOME_ORDER if found[key]}


def counts_phrase(counts: dict[str, int]) -> str:
    """``1 failure, 3 passes, 2 not applicable``: outcome counts in running text, zeros left out."""
    parts = [f"{n:,} {_COUNTED.get(key, (key, key))[n != 1]}" for key, n in counts.items() if n]
    return ", ".join(parts) or "no results"


#: A check (one comparison inside a rule) is met or not; the rule's outcome follows from its checks.
CHECK_LABELS = {"pass": "met", "fail": "not met", "error": "cannot check"}

#: What each severity means for the release.
SEVERITIES = {
    "blocking": "blocking: a failure, or evidence that cannot be checked, blocks the release",
    "warning": "warning: a failure is reported but does not block",
    "info": "information: a failure is reported but does not block",
}


def worst(outcomes: Iterable[str]) -> str | None:
    """The worst of some outcomes in the order of :data:`OUTCOME_ORDER`; None when there are none.
    An outcome the order does not know counts as worst of all, so it is never hidden."""
    found = list(outcomes)
    if not found:
        return None
    rank = {key: i for i, key in enumerate(OUTCOME_ORDER)}
    return min(found, key=lambda key: rank.get(key, -1))


def blocks(result: PolicyResult, fail_on: str) -> bool:
    """True when this result on its own blocks the release: the engine's rule (a ``fail``; an
    ``error`` on a blocking rule; with ``fail_on: warning`` also a ``warn`` and any ``error``)."""
    return is_blocking([result], fail_on)


def version_anchor(model_id: str, version: str) -> str:
    """The HTML id of a model version's entry on the compliance pages (matrix row, policy section)."""
    return f"{text.slug(model_id)}--{text.slug(version)}"


def rule_anchor(rule_id: str) -> str:
    return f"rule-{text.slug(rule_id)}"


def waiver_anchor(waiver_id: str) -> str:
    return f"waiver-{text.slug(waiver_id)}"


_BREAK_AFTER = re.compile(r"\.(?=[A-Za-z*])|&#95;")


def breakable_code(value: object) -> str:
    """Like the ``code`` filter, with a line-break opportunity after each dot and underscore of an
    evidence path, so ``fairness.sex.demographic_parity_ratio`` wraps at a name in a narrow cell."""
    escaped = text.text(value)
    return '<code class="mg-path">' + _BREAK_AFTER.sub(lambda m: m.group(0) + "<wbr>", escaped) + "</code>"


_LEADING_PATH = re.compile(r"^([A-Za-z_][\w-]*(?:\.[\w*+%-]+)+)(\s.*)?$", re.S)


#: Requirements any number meets (``> -inf``): the rule checks that the figure is there, not its value.
ANY_NUMBER = frozenset({(">", "-inf"), (">=", "-inf"), ("<", "inf"), ("<=", "inf")})
ANY_NUMBER_WORDS = "is a number (any value)"


def requirement_words(requirement: str) -> str:
    """A requirement as text, with one any number meets (``path > -inf``) put as what it checks:
    ``path is a number (any value)``."""
    head, _, tail = requirement.rpartition(" ")
    path, _, operator = head.rpartition(" ")
    if (operator, tail) in ANY_NUMBER:
        return f"{path} {ANY_NUMBER_WORDS}".strip()
    return requirement


def requirement_html(value: object) -> str:
    """A requirement as the pages show it: a leading evidence path in monospace (breakable, as
    :func:`breakable_code`), the rest as text — ``fairness.sex.demographic_parity_ratio`` ``>= 0.8``,
    ``card.caveats`` ``is written``; a requirement in words (``approved by: compliance``) as text."""
    match = _LEADING_PATH.match(requirement_words(text.plain(value)))
    if match is None:
        return text.text(value)
    rest = (match.group(2) or "").strip()
    return breakable_code(match.group(1)) + (f" {text.text(rest)}" if rest else "")


#: What a page says for a number JSON cannot hold, by the text the manifest holds it as (:func:`as_written`).
_NOT_A_NUMBER = {"NaN": "not a number", "Infinity": "infinity", "-Infinity": "minus infinity"}


def observed_text(value: Any) -> str:
    """A check's observed value as a short plain text, as the engine's messages show it: numbers
    to four significant digits, true/false, lists joined by commas; ``—`` when nothing was found."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float) and not math.isfinite(value):
        value = as_written(value)
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, str) and value in _NOT_A_NUMBER:
        return _NOT_A_NUMBER[value]
    if isinstance(value, list | tuple):
        return ", ".join(observed_text(v) for v in value) if value else "none"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def days_phrase(days: int | None) -> str:
    """``in 20 days``, ``tomorrow``, ``today``, ``yesterday``, ``11 days ago``; empty when unknown."""
    if days is None:
        return ""
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    if days == -1:
        return "yesterday"
    return f"in {days:,} days" if days > 0 else f"{-days:,} days ago"
