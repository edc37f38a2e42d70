"""What a policy's page reads off the manifest: every result of the policy, model version by
model version in the policy's rule order, and how its coverage clauses are checked; and the same
results rule by rule for one model version across every policy (its model card and dossier).

Outcomes are decided by the policy engine and ordered as in :mod:`.compliance_outcomes`; the
versions are listed in the order of the compliance overview (:func:`.compliance_views.ordered_versions`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from modelgov.manifest import CoverageClause, Manifest, Model, ModelVersion, Policy, PolicyResult, PolicyRule
from modelgov.render.compliance_outcomes import OUTCOME_ORDER, SEVERITIES, shown_outcome, version_anchor, worst
from modelgov.render.compliance_views import ordered_versions

__all__ = [
    "COVERAGE_KINDS",
    "CoverageRow",
    "PolicyView",
    "RuleResult",
    "VersionSection",
    "policy_status",
    "policy_view",
    "version_results",
]


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
        return worst(shown_outcome(r.result) for r in self.results)

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(shown_outcome(r.result) for r in self.applicable)
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
    for model_id, name, model, version in ordered_versions(manifest, results):
        mine = [r for r in results if (r.model, r.version) == (model_id, name)]
        if not mine:
            continue
        mine.sort(key=lambda r: position.get(r.rule, len(position)))
        sections.append(
            VersionSection(model_id, name, model, version, [RuleResult(rules.get(r.rule), r) for r in mine])
        )
    coverage = []
    for clause in policy.coverage:
        outcomes = Counter(
            shown_outcome(r) for r in results if r.rule in clause.rules and r.outcome != "not-applicable"
        )
        coverage.append(
            CoverageRow(
                clause=clause,
                rules=[(rule_id, rules.get(rule_id)) for rule_id in clause.rules],
                tally={key: outcomes[key] for key in OUTCOME_ORDER if outcomes[key]},
            )
        )
    found = Counter(shown_outcome(r) for r in results)
    return PolicyView(
        policy=policy,
        sections=sections,
        coverage=coverage,
        counts={key: found[key] for key in OUTCOME_ORDER if found[key]},
    )


# --------------------------------------------------------------------------- one model version, every policy


def version_results(manifest: Manifest, model: Model, version: ModelVersion) -> list[tuple[Policy, RuleResult]]:
    """The version's results other than not-applicable, worst first (see :data:`OUTCOME_ORDER`),
    then policy by policy in rule order."""
    report = manifest.governance
    if report is None:
        return []
    mine = [r for r in report.results if (r.model, r.version) == (model.id, version.version)]
    out = []
    for policy in report.policies:
        position = {rule.id: i for i, rule in enumerate(policy.rules)}
        rules = {rule.id: rule for rule in policy.rules}
        applicable = [r for r in mine if r.policy == policy.id and r.outcome != "not-applicable"]
        applicable.sort(key=lambda r: position.get(r.rule, len(position)))
        out += [(policy, RuleResult(rules.get(r.rule), r)) for r in applicable]
    rank = {key: i for i, key in enumerate(OUTCOME_ORDER)}
    return sorted(out, key=lambda pair: rank.get(shown_outcome(pair[1].result), -1))


def policy_status(manifest: Manifest, model: Model, version: ModelVersion | None) -> str | None:
    """The worst outcome over every policy's results on the version (not-applicable only when no
    rule applies); None when the manifest has no policy results for it."""
    report = manifest.governance
    if report is None or version is None:
        return None
    return worst(shown_outcome(r) for r in report.results if (r.model, r.version) == (model.id, version.version))
