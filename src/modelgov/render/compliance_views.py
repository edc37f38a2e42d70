"""What the compliance pages read off the manifest's :class:`GovernanceReport`.

The policy engine (``modelgov.policy``) decides every outcome and whether the release is blocked;
here results are only grouped, counted and ordered: the worst outcome of a cell of the matrix,
the results that need a reader's attention, the waivers by state. Each rule is stated in a
docstring so the pages can explain it.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from modelgov.manifest import (
    CoverageClause,
    GovernanceReport,
    Manifest,
    Model,
    ModelVersion,
    Policy,
    PolicyResult,
    PolicyRule,
    WaiverState,
)
from modelgov.policy.engine import is_blocking
from modelgov.render import text

__all__ = [
    "ATTENTION",
    "CHECK_LABELS",
    "COVERAGE_KINDS",
    "OUTCOMES",
    "OUTCOME_ORDER",
    "SEVERITIES",
    "WAIVER_GROUPS",
    "ComplianceView",
    "CoverageRow",
    "MatrixRow",
    "OutcomeInfo",
    "PolicyView",
    "RuleResult",
    "VersionSection",
    "WaiverRow",
    "blocks",
    "breakable_code",
    "compliance_view",
    "counts_phrase",
    "days_phrase",
    "observed_text",
    "policy_status",
    "policy_view",
    "requirement_html",
    "rule_anchor",
    "tally",
    "version_anchor",
    "version_results",
    "waiver_anchor",
    "waiver_rows",
    "worst",
]

#: Outcomes from worst to best: a cell of the matrix shows the first one among its results.
OUTCOME_ORDER = ("error", "fail", "warn", "waived", "pass", "not-applicable")

#: Outcomes listed under "Results that need attention".
ATTENTION = ("error", "fail", "warn", "waived")


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
    "pass": ("pass", "passes"),
    "not-applicable": ("not applicable", "not applicable"),
}


def tally(results: Iterable[PolicyResult]) -> dict[str, int]:
    """Results by outcome, in :data:`OUTCOME_ORDER`, outcomes with none left out."""
    found = Counter(r.outcome for r in results)
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


_LEADING_PATH = re.compile(r"^([A-Za-z_][\w-]*(?:\.[\w*+-]+)+)(\s.*)?$", re.S)


def requirement_html(value: object) -> str:
    """A requirement as the pages show it: a leading evidence path in monospace (breakable, as
    :func:`breakable_code`), the rest as text — ``fairness.sex.demographic_parity_ratio`` ``>= 0.8``,
    ``card.caveats`` ``is written``; a requirement in words (``approved by: compliance``) as text."""
    match = _LEADING_PATH.match(text.plain(value))
    if match is None:
        return text.text(value)
    rest = (match.group(2) or "").strip()
    return breakable_code(match.group(1)) + (f" {text.text(rest)}" if rest else "")


def observed_text(value: Any) -> str:
    """A check's observed value as a short plain text, as the engine's messages show it: numbers
    to four significant digits, true/false, lists joined by commas; ``—`` when nothing was found."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}" if math.isfinite(value) else "not a number"
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


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _key(model_id: str, version: str) -> tuple[str, str]:
    return (model_id, version)


def _versions(manifest: Manifest) -> dict[tuple[str, str], tuple[Model, ModelVersion]]:
    return {_key(m.id, v.version): (m, v) for m in manifest.models for v in m.versions}


def _ordered_versions(
    manifest: Manifest, results: Iterable[PolicyResult]
) -> list[tuple[str, str, Model | None, ModelVersion | None]]:
    """Every model version of the manifest, in its order, then any version the results name that
    the manifest lacks (a hand-edited manifest), so no result is left off a page."""
    out: list[tuple[str, str, Model | None, ModelVersion | None]] = [
        (m.id, v.version, m, v) for m in manifest.models for v in m.versions
    ]
    known = {(a, b) for a, b, _, _ in out}
    for result in results:
        if (result.model, result.version) not in known:
            known.add((result.model, result.version))
            out.append((result.model, result.version, None, None))
    return out


# --------------------------------------------------------------------------- the overview


@dataclass(frozen=True)
class MatrixRow:
    model_id: str
    version_name: str
    model: Model | None
    version: ModelVersion | None
    cells: dict[str, str | None]  # policy id → worst outcome of its rules on this version; None: no result

    @property
    def anchor(self) -> str:
        return version_anchor(self.model_id, self.version_name)

    @property
    def worst(self) -> str | None:
        return worst(c for c in self.cells.values() if c is not None)


@dataclass(frozen=True)
class ComplianceView:
    report: GovernanceReport
    rows: list[MatrixRow]
    attention: list[PolicyResult]  # error, fail, warn, waived: worst first, then in manifest order
    blocking: list[PolicyResult]  # the results that block the release
    waivers: list[WaiverRow]

    @property
    def waiver_counts(self) -> dict[str, int]:
        """Waivers by group (see :attr:`WaiverRow.group`), in page order, groups with none left out."""
        found = Counter(row.group for row in self.waivers)
        return {key: found[key] for key in WAIVER_GROUPS if found[key]}

    @property
    def policies(self) -> list[Policy]:
        return self.report.policies

    @property
    def counts(self) -> dict[str, int]:
        """Results by outcome, in :data:`OUTCOME_ORDER` (the counts of ``policy-results.json``)."""
        found = Counter(r.outcome for r in self.report.results)
        return {key: found.get(key, 0) for key in OUTCOME_ORDER}

    @property
    def blocked_versions(self) -> list[tuple[str, str]]:
        """(model id, version) of every version with a result that blocks the release, in order."""
        return list(dict.fromkeys((r.model, r.version) for r in self.blocking))

    @property
    def has_gaps(self) -> bool:
        """Some cell of the matrix has no result (a policy that produced none for a version)."""
        return any(cell is None for row in self.rows for cell in row.cells.values())

    @property
    def versions_checked(self) -> int:
        """Model versions with at least one result other than not-applicable."""
        return len({(r.model, r.version) for r in self.report.results if r.outcome != "not-applicable"})

    def policy(self, policy_id: str) -> Policy | None:
        return next((p for p in self.report.policies if p.id == policy_id), None)

    def rule(self, policy_id: str, rule_id: str) -> PolicyRule | None:
        policy = self.policy(policy_id)
        return next((r for r in policy.rules if r.id == rule_id), None) if policy else None

    def policy_counts(self, policy_id: str) -> dict[str, int]:
        found = Counter(r.outcome for r in self.report.results if r.policy == policy_id)
        return {key: found[key] for key in OUTCOME_ORDER if found[key]}

    def blocks(self, result: PolicyResult) -> bool:
        return blocks(result, self.report.fail_on)


def compliance_view(manifest: Manifest) -> ComplianceView | None:
    """The overview page's facts, or None when the manifest has no policy results."""
    report = manifest.governance
    if report is None:
        return None
    by_cell: dict[tuple[str, str, str], list[str]] = {}
    for result in report.results:
        by_cell.setdefault((result.model, result.version, result.policy), []).append(result.outcome)
    rows = [
        MatrixRow(
            model_id=model_id,
            version_name=name,
            model=model,
            version=version,
            cells={p.id: worst(by_cell.get((model_id, name, p.id), [])) for p in report.policies},
        )
        for model_id, name, model, version in _ordered_versions(manifest, report.results)
    ]
    order = {key: i for i, key in enumerate(OUTCOME_ORDER)}
    attention = sorted(
        (r for r in report.results if r.outcome in ATTENTION), key=lambda r: order.get(r.outcome, -1)
    )  # sorted() is stable: manifest order within an outcome
    return ComplianceView(
        report=report,
        rows=rows,
        attention=attention,
        blocking=[r for r in report.results if blocks(r, report.fail_on)],
        waivers=waiver_rows(manifest),
    )


# --------------------------------------------------------------------------- one policy


@dataclass(frozen=True)
class RuleResult:
    rule: PolicyRule | None  # None when the result names a rule the policy does not list
    result: PolicyResult

    @property
    def title(self) -> str:
        return self.rule.title if self.rule else self.result.rule


@dataclass(frozen=True)
class VersionSection:
    """The results of one policy on one model version, in the policy's rule order."""

    model_id: str
    version_name: str
    model: Model | None
    version: ModelVersion | None
    results: list[RuleResult]

    @property
    def anchor(self) -> str:
        return version_anchor(self.model_id, self.version_name)

    @property
    def applicable(self) -> list[RuleResult]:
        return [r for r in self.results if r.result.outcome != "not-applicable"]

    @property
    def not_applicable(self) -> list[RuleResult]:
        return [r for r in self.results if r.result.outcome == "not-applicable"]

    @property
    def worst(self) -> str | None:
        return worst(r.result.outcome for r in self.results)

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(r.result.outcome for r in self.applicable)
        return {key: found[key] for key in OUTCOME_ORDER if found[key]}

    @property
    def why_not_applicable(self) -> str:
        """Why none of the rules applies, from the results' own messages."""
        return "; ".join(dict.fromkeys(r.result.message for r in self.results)) or "no result"


COVERAGE_KINDS = {
    "automatic": "checked automatically",
    "attestation": "needs a human attestation",
    "open": "open: not covered",
}


@dataclass(frozen=True)
class CoverageRow:
    clause: CoverageClause
    rules: list[tuple[str, PolicyRule | None]]  # the rule ids the clause names, with the rule if it exists
    tally: dict[str, int]  # outcomes of those rules' results on all versions, not-applicable left out

    @property
    def kind(self) -> str:
        """``automatic`` when rules check the clause (an attestation may be asked for as well),
        ``attestation`` when only a person can, ``open`` when neither."""
        if self.clause.rules:
            return "automatic"
        return "attestation" if self.clause.attestation else "open"


@dataclass(frozen=True)
class PolicyView:
    policy: Policy
    sections: list[VersionSection]
    coverage: list[CoverageRow]
    counts: dict[str, int]

    @property
    def applicable_sections(self) -> list[VersionSection]:
        """Versions on which at least one rule of the policy applies."""
        return [s for s in self.sections if s.applicable]

    @property
    def out_of_scope_sections(self) -> list[VersionSection]:
        return [s for s in self.sections if not s.applicable]

    @property
    def severity_counts(self) -> dict[str, int]:
        """Rules by severity: blocking, warning, info (those present)."""
        found = Counter(rule.severity for rule in self.policy.rules)
        return {key: found[key] for key in SEVERITIES if found[key]}

    @property
    def coverage_counts(self) -> dict[str, int]:
        found = Counter(row.kind for row in self.coverage)
        return {key: found[key] for key in COVERAGE_KINDS}


def policy_view(manifest: Manifest, policy: Policy) -> PolicyView:
    """The policy page's facts: every result of the policy, by model version."""
    report = manifest.governance
    results = [r for r in report.results if r.policy == policy.id] if report else []
    rules = {rule.id: rule for rule in policy.rules}
    position = {rule.id: i for i, rule in enumerate(policy.rules)}
    sections = []
    for model_id, name, model, version in _ordered_versions(manifest, results):
        mine = [r for r in results if (r.model, r.version) == (model_id, name)]
        if not mine:
            continue
        mine.sort(key=lambda r: position.get(r.rule, len(position)))
        sections.append(
            VersionSection(model_id, name, model, version, [RuleResult(rules.get(r.rule), r) for r in mine])
        )
    coverage = []
    for clause in policy.coverage:
        outcomes = Counter(r.outcome for r in results if r.rule in clause.rules and r.outcome != "not-applicable")
        coverage.append(
            CoverageRow(
                clause=clause,
                rules=[(rule_id, rules.get(rule_id)) for rule_id in clause.rules],
                tally={key: outcomes[key] for key in OUTCOME_ORDER if outcomes[key]},
            )
        )
    found = Counter(r.outcome for r in results)
    return PolicyView(
        policy=policy,
        sections=sections,
        coverage=coverage,
        counts={key: found[key] for key in OUTCOME_ORDER if found[key]},
    )


# --------------------------------------------------------------------------- model versions


def version_results(manifest: Manifest, model: Model, version: ModelVersion) -> list[tuple[Policy, RuleResult]]:
    """The version's results other than not-applicable, worst first (see :data:`OUTCOME_ORDER`),
    then policy by policy in rule order."""
    report = manifest.governance
    if report is None:
        return []
    mine = [r for r in report.results if (r.model, r.version) == _key(model.id, version.version)]
    out = []
    for policy in report.policies:
        position = {rule.id: i for i, rule in enumerate(policy.rules)}
        rules = {rule.id: rule for rule in policy.rules}
        applicable = [r for r in mine if r.policy == policy.id and r.outcome != "not-applicable"]
        applicable.sort(key=lambda r: position.get(r.rule, len(position)))
        out += [(policy, RuleResult(rules.get(r.rule), r)) for r in applicable]
    rank = {key: i for i, key in enumerate(OUTCOME_ORDER)}
    return sorted(out, key=lambda pair: rank.get(pair[1].result.outcome, -1))


def policy_status(manifest: Manifest, model: Model, version: ModelVersion | None) -> str | None:
    """The worst outcome over every policy's results on the version (not-applicable only when no
    rule applies); None when the manifest has no policy results for it."""
    report = manifest.governance
    if report is None or version is None:
        return None
    return worst(r.outcome for r in report.results if (r.model, r.version) == _key(model.id, version.version))


# --------------------------------------------------------------------------- waivers

#: The groups of the waivers page, in page order, with their headings.
WAIVER_GROUPS = {
    "not-accepted": "Not accepted",
    "expired": "Expired",
    "expiring": "Expiring within 30 days",
    "unused": "Unused",
    "active": "Active",
}


@dataclass(frozen=True)
class WaiverRow:
    waiver: WaiverState
    days_left: int | None  # expires − as_of; negative once expired
    waived: list[PolicyResult]  # the results this waiver turned into "waived"
    would_cover: list[PolicyResult]  # expired: the results it would cover if it still applied
    unmatched: list[str]  # used_by / would_apply_to entries with no result in the report
    rule: PolicyRule | None = None  # the rule it waives, if the report's policies list it

    @property
    def group(self) -> str:
        """``not-accepted`` (unsigned or changed, where signed waivers are required); else
        ``expired`` (past its expiry date); else ``unused`` (it waived no result); else
        ``expiring`` (it ends within 30 days of the check date); else ``active``."""
        if self.waiver.state == "not accepted":
            return "not-accepted"
        if self.waiver.state == "expired":
            return "expired"
        if not self.waiver.used_by:
            return "unused"
        return "expiring" if self.waiver.state == "expiring" else "active"

    @property
    def anchor(self) -> str:
        return waiver_anchor(self.waiver.id)

    @property
    def scope(self) -> str:
        """``models credit-default; versions 1.1`` (ids or shell-style patterns)."""
        models = ", ".join(self.waiver.models)
        if self.waiver.versions is None:
            return f"models {models}; all versions"
        return f"models {models}; versions {', '.join(self.waiver.versions)}"


def waiver_rows(manifest: Manifest) -> list[WaiverRow]:
    """Every waiver of the report, in the report's order, with the results it waived or would cover."""
    report = manifest.governance
    if report is None:
        return []
    as_of = _date(report.as_of)
    rows = []
    for waiver in report.waivers:
        waived = [r for r in report.results if r.waiver == waiver.id]
        covered_keys = {f"{r.model}@{r.version}" for r in waived}
        would = [
            r
            for r in report.results
            if (r.policy, r.rule) == (waiver.policy, waiver.rule) and f"{r.model}@{r.version}" in waiver.would_apply_to
        ]
        would_keys = {f"{r.model}@{r.version}" for r in would}
        unmatched = [k for k in waiver.used_by if k not in covered_keys]
        unmatched += [k for k in waiver.would_apply_to if k not in would_keys]
        expires = _date(waiver.expires)
        policy = next((p for p in report.policies if p.id == waiver.policy), None)
        rows.append(
            WaiverRow(
                rule=next((r for r in policy.rules if r.id == waiver.rule), None) if policy else None,
                waiver=waiver,
                days_left=(expires - as_of).days if expires and as_of else None,
                waived=waived,
                would_cover=would,
                unmatched=unmatched,
            )
        )
    return rows
