"""The crosswalk: one table of every clause of every enabled policy against the evidence that covers it.

A compliance team asks two questions the per-policy pages cannot answer: which single piece of
evidence satisfies which obligations across frameworks, and which obligations nothing covers. Both
are read off the manifest's policies alone:

* a **row** is one piece of evidence, as the rules name what they read (``evaluation.rows``;
  ``card.description, card.primary_uses``; ``approvals.model_risk``). Every rule whose list of
  evidence is the same sits in that row, with the clauses it cites in its references; so each
  clause appears once for each rule that covers it, and rows are ordered by how many frameworks
  the evidence serves (most first);
* the **uncovered** list is every clause of a policy's coverage that no rule checks: those a person
  must attest, and those left open; and the clauses whose only evidence is a person's sign-off (every
  rule covering them is an ``approved_by`` rule), which a reader should know rest on an attestation.

Clauses keep their standing (in force, coming, rescinded) so the table separates what applies today
from what is coming and what is history.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from modelgov.feature_names import group_name
from modelgov.manifest import CoverageClause, GovernanceReport, Policy, PolicyReference, PolicyRule

__all__ = ["CrosswalkRow", "CrosswalkRule", "CrosswalkView", "UncoveredClause", "crosswalk_view", "evidence_words"]


@dataclass(frozen=True)
class CrosswalkRule:
    policy: Policy
    rule: PolicyRule

    @property
    def clauses(self) -> list[PolicyReference]:
        return list(self.rule.references)


@dataclass
class CrosswalkRow:
    reads: tuple[str, ...]  # the evidence, as the rules name it
    rules: list[CrosswalkRule] = field(default_factory=list)

    @property
    def frameworks(self) -> list[str]:
        """The frameworks the evidence serves, in first-seen order."""
        found = [ref.framework for item in self.rules for ref in item.rule.references]
        return list(dict.fromkeys(found))

    @property
    def clause_count(self) -> int:
        return sum(len(item.rule.references) for item in self.rules)


@dataclass(frozen=True)
class UncoveredClause:
    policy: Policy
    clause: CoverageClause

    @property
    def kind(self) -> str:
        """``attestation`` when a person must attest it, else ``open``."""
        return "attestation" if self.clause.attestation else "open"


@dataclass(frozen=True)
class CrosswalkView:
    rows: list[CrosswalkRow]
    uncovered: list[UncoveredClause]
    uncited: list[CrosswalkRule]  # rules that cite no clause at all (a workspace policy without references)
    signed_only: list[UncoveredClause] = field(default_factory=list)  # every covering rule is a sign-off

    @property
    def clause_total(self) -> int:
        return sum(row.clause_count for row in self.rows)

    @property
    def shared_rows(self) -> list[CrosswalkRow]:
        """Evidence that serves more than one framework."""
        return [row for row in self.rows if len(row.frameworks) > 1]


def crosswalk_view(report: GovernanceReport) -> CrosswalkView:
    rows: dict[tuple[str, ...], CrosswalkRow] = {}
    uncited: list[CrosswalkRule] = []
    for policy in report.policies:
        for rule in policy.rules:
            item = CrosswalkRule(policy, rule)
            if not rule.references:
                uncited.append(item)
                continue
            key = tuple(rule.reads) or (f"rule {rule.id}",)
            rows.setdefault(key, CrosswalkRow(key)).rules.append(item)
    ordered = sorted(rows.values(), key=lambda row: (-len(row.frameworks), -row.clause_count, row.reads))
    uncovered = [
        UncoveredClause(policy, clause) for policy in report.policies for clause in policy.coverage if not clause.rules
    ]
    signed_only = []
    for policy in report.policies:
        kinds = {rule.id: rule.kind for rule in policy.rules}
        for clause in policy.coverage:
            if clause.rules and all(kinds.get(rule_id) == "approved_by" for rule_id in clause.rules):
                signed_only.append(UncoveredClause(policy, clause))
    return CrosswalkView(rows=ordered, uncovered=uncovered, uncited=uncited, signed_only=signed_only)


#: Evidence named in words, for a reader who does not know the evidence paths (exact paths first).
_WORDS = {
    "evaluation.rows": "Held-out evaluation: its rows",
    "evaluation.age_days": "Age of the latest evaluation",
    "monitoring.rows": "Production monitoring log: its records",
    "monitoring.age_days": "Production monitoring log: days since its latest record",
    "monitoring.last_window.*": "Production performance on realised outcomes (latest window with outcomes)",
    "drift.status": "Production monitoring compared with its reference",
    "drift.drifting_windows": "Input drift: windows in a row",
    "drift.share_drifted": "Input drift: share of drifted features",
    "drift.features.*.psi": "Input drift: each feature's PSI",
    "drift.output.drifted": "Drift of the model's output",
    "model.owner.email": "Inventory: the owner's e-mail",
    "model.risk_tier": "Inventory: the model's risk tier",
    "training.code_commit": "Training record: the code commit",
    "fairness.*.groups.*.count": "Evaluation rows of each group of the sensitive features",
    "flags.oldest_open_days": "Flags from the business: the oldest open one",
    "model inputs": "The model's inputs",
    "audit log: promotions": "Audit log: the recorded promotions",
}
_PREFIXES = (
    ("card.", "Model card: "),
    ("datasheets.", "Datasheets: "),
    ("performance.", "Evaluation: "),
    ("fairness.", "Evaluation by group: "),
    ("monitoring.last_window.", "Production performance on realised outcomes: "),
)


def evidence_words(read: str) -> str:
    """``approvals.model_risk`` → "Sign-off by model_risk"; ``card.caveats`` → "Model card: caveats"."""
    if read in _WORDS:
        return _WORDS[read]
    if read.startswith("approvals.") and read.endswith(".age_days"):
        return f"Age of the latest sign-off by {read[len('approvals.') : -len('.age_days')]}"
    if read.startswith("approvals."):
        return f"Sign-off by {group_name(read[len('approvals.') :])}"
    for prefix, words in _PREFIXES:
        if read.startswith(prefix):
            return words + read[len(prefix) :].replace("_", " ")
    return read
