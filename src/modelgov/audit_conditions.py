"""Conditions of approval in the audit log: the shape of what a signed sign-off carries
(``details.conditions``) and of the entry that records one met (action ``condition``).

A condition written with the sign-off in the hash-chained log cannot be dropped or edited without
breaking the chain, and one is met by a signed entry of its own, by a holder of the sign-off's role:
what a pull request could do to ``approvals.yml`` (delete a condition, write ``met:``) it cannot do
here. A malformed entry breaks the chain at its line, as any other."""

from __future__ import annotations

from typing import Any

from modelgov.audit_flags import parse_date

#: Conditions one sign-off may carry, and the longest text of one.
MAX_CONDITIONS = 100
MAX_TEXT = 2_000


def approval_problem(entry: dict[str, Any]) -> str | None:
    """What is wrong with an approval's ``details.conditions``, if it has any: each an object with a
    text and a due date (on or after the sign-off's day, or null), on an approval only."""
    details, outcome, day = entry["details"], entry["outcome"], entry["time"][:10]
    if "conditions" not in details:
        return None
    conditions = details["conditions"]
    if not isinstance(conditions, list) or not 0 < len(conditions) <= MAX_CONDITIONS:
        return f"details.conditions must be a list of 1 to {MAX_CONDITIONS} conditions"
    if outcome != "approved":
        return "details.conditions go with an approval: a rejection or a pending decision sets none"
    for index, condition in enumerate(conditions):
        where = f"details.conditions[{index}]"
        if not isinstance(condition, dict) or set(condition) != {"text", "due"}:
            return f"{where} must be an object with text and due (null for a standing condition)"
        text = condition.get("text")
        if not isinstance(text, str) or not text.strip() or len(text) > MAX_TEXT:
            return f"{where}.text must be a non-empty string of at most {MAX_TEXT} characters"
        due = condition.get("due")
        if due is not None and parse_date(due) is None:
            return f"{where}.due must be a date like 2026-10-31, or null for a standing condition"
        if due is not None and due < day:
            return f"{where}.due is before the sign-off ({day}): a condition is set when the approval is given"
    return None


def met_problem(entry: dict[str, Any]) -> str | None:
    """What is wrong with a ``condition`` entry: it names the sign-off (its entry number), the
    condition (its place in that sign-off's list, from 1) and the role, and its outcome is ``met``."""
    details = entry["details"]
    if entry["outcome"] != "met":
        return "a condition entry's outcome must be met"
    if set(details) != {"approval", "condition", "role"}:
        return "a condition entry's details are approval, condition and role"
    for key in ("approval", "condition"):
        value = details[key]
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            return f"details.{key} must be a whole number from 1"
    if details["approval"] >= entry["seq"]:
        return "details.approval must name an earlier entry: a condition is met after it is set"
    if not isinstance(details["role"], str) or not details["role"].strip():
        return "details.role must be a non-empty string"
    if not isinstance(entry["subject"].get("version"), str):
        return "a condition entry needs subject.version"
    return None
