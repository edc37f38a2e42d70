"""One function per rule kind: the checks a rule makes on one model version.

Each returns a list of :class:`~modelgov.manifest.PolicyCheck` (pass / fail / error), or ``None``
when the rule does not apply to the version (for example a drift limit on a version without a
monitoring log, or a rule whose wildcard matches nothing and says ``missing: not-applicable``).
Missing or malformed evidence is an ``error`` check, never a pass.

This module holds the dispatch (:func:`evaluate`), a rule's ``when`` (:func:`condition`) and the
kinds that read evidence paths and card text (``evidence``, ``documented``); the kinds about
decisions and their age are in :mod:`.approval_rules`, those about data in :mod:`.data_rules`, and
what they all share in :mod:`.rule_context`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from . import approval_rules, data_rules
from .paths import did_you_mean
from .placeholders import is_placeholder
from .risk_evidence import missing_reason
from .rule_context import Check, Context, compare, shown, threshold_check
from .schema import Rule


def evaluate(rule: Rule, ctx: Context) -> list[Check] | None:
    return _KINDS[rule.kind](rule, ctx)


# --------------------------------------------------------------------------- evidence + require


def _evidence(rule: Rule, ctx: Context) -> list[Check] | None:
    assert rule.evidence is not None and rule.require is not None
    requirement = f"{rule.evidence} {rule.require.text()}"
    found = ctx.matching(rule.evidence)
    if not found:
        if rule.missing == "not-applicable":
            return None
        hint = did_you_mean(rule.evidence, ctx.tree.near(rule.evidence)) if "*" not in rule.evidence else ""
        reason = missing_reason(rule.evidence, ctx.tree.heads(), ctx.model, ctx.today)
        return [
            Check(
                path=rule.evidence,
                observed=None,
                requirement=requirement,
                outcome="fail" if rule.missing == "fail" else "error",
                message=reason or f"no evidence {rule.evidence!r} for this version{hint}",
            )
        ]
    return [threshold_check(path, ev, rule.require) for path, ev in sorted(found.items())]


# --------------------------------------------------------------------------- when


@dataclass(frozen=True)
class Applies:
    """Whether a rule's ``when`` holds on a version, and the evidence that decided it, in words."""

    applies: bool
    because: str


def condition(rule: Rule, ctx: Context) -> Applies:
    """A rule's ``when`` on one version: it applies when any condition holds on any matching value.
    When none holds but some value could not be read (no path matches, or a value is undefined), the
    condition is unknown and ``when.missing`` decides: a change that cannot be measured is not taken
    for a small one unless the policy says so."""
    assert rule.when is not None
    unknown: list[str] = []
    closest: list[str] = []
    for item in rule.when.any_of:
        found = ctx.matching(item.evidence)
        if not found:
            unknown.append(f"no evidence {item.evidence!r}")
            continue
        for path, ev in sorted(found.items()):
            outcome, _ = compare(ev.value, item.require)
            if outcome == "pass":
                detail = f" [{ev.detail}]" if ev.detail else ""
                return Applies(True, f"applies because {path} = {shown(ev.value)} {item.require.text()}{detail}")
            if outcome == "error":
                unknown.append(f"{path} is undefined")
        known = [(path, ev.value) for path, ev in found.items() if isinstance(ev.value, int | float)]
        if known:
            path, value = max(known, key=lambda pair: abs(pair[1]))
            closest.append(f"{path} = {shown(value)}")
    if unknown and rule.when.missing == "apply":
        return Applies(True, f"applies because its condition cannot be evaluated ({'; '.join(unknown[:3])})")
    largest = f" (largest: {', '.join(closest)})" if closest else ""
    unread = f"; not evaluated: {'; '.join(unknown[:3])}" if unknown else ""
    return Applies(False, f"its condition does not hold: {rule.when.text()}{largest}{unread}")


# --------------------------------------------------------------------------- documentation


def _documented(rule: Rule, ctx: Context) -> list[Check]:
    assert rule.documented is not None
    checks = []
    for field in rule.documented:
        ev = ctx.index[f"card.{field}"]
        value = ev.value
        text = " ".join(value) if isinstance(value, list) else (value or "")
        if not str(text).strip():
            outcome, why = "fail", "is empty"
        elif is_placeholder(str(text)):
            outcome, why = "fail", f"is a placeholder ({str(text).strip()[:40]!r})"
        else:
            outcome, why = "pass", "is written"
        checks.append(
            Check(
                path=f"card.{field}",
                observed=(str(text)[:80] + "…") if len(str(text)) > 80 else str(text),
                requirement=f"card.{field} is written (not empty, not a placeholder)",
                outcome=outcome,  # type: ignore[arg-type]
                message=f"card.{field} {why}",
                page=ev.page,
            )
        )
    return checks


_KINDS: dict[str, Callable[[Rule, Context], list[Check] | None]] = {
    "evidence": _evidence,
    "documented": _documented,
    "approved_by": approval_rules.approved_by,
    "max_age_days": approval_rules.max_age_days,
    "drift_limits": data_rules.drift_limits,
    "prohibited_features": data_rules.prohibited_features,
    "pii_legal_basis": data_rules.pii_legal_basis,
    "datasheet_fields": data_rules.datasheet_fields,
    "status_recorded": approval_rules.status_recorded,
}
