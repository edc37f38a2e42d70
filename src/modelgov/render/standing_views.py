"""How the compliance pages word whether a pack, or one of its clauses, applies on the check date.

The standing itself is computed by :mod:`modelgov.policy.standing` and stored in the manifest; here
it is only put into words a compliance reader uses: "in force since 17 April 2026", "coming: applies
from 2 December 2027, in 362 days", "rescinded on 17 April 2026 by SR 26-2".
"""

from __future__ import annotations

from dataclasses import dataclass

from modelgov.manifest import GovernanceReport, Policy, Standing

__all__ = ["STANDING_LABELS", "ComingGroup", "coming_groups", "standing_label", "standing_text"]

#: The short label of each state, for a badge or a table cell.
STANDING_LABELS = {
    "in force": "in force",
    "coming": "coming",
    "rescinded": "rescinded",
    "no dates": "no dates declared",
}


def standing_label(standing: Standing | None) -> str:
    if standing is None:
        return STANDING_LABELS["no dates"]
    return STANDING_LABELS.get(standing.state, standing.state)


def _in_days(days: int) -> str:
    if days == 0:
        return "today"
    if days == 1:
        return "tomorrow"
    return f"in {days:,} days"


def _ago(days: int) -> str:
    if days == 0:
        return "today"
    if days == -1:
        return "yesterday"
    return f"{-days:,} days ago"


def standing_text(standing: Standing | None) -> str:
    """One plain sentence fragment (no markup: the template escapes it)."""
    if standing is None or standing.state == "no dates":
        return "no dates declared"
    if standing.state == "rescinded":
        when = f" on {standing.date}" if standing.date else ""
        ago = f" ({_ago(standing.days)})" if standing.days is not None else ""
        by = f", replaced by {standing.by}" if standing.by else ""
        return f"rescinded{when}{ago}{by}"
    if standing.state == "coming":
        if standing.date is None:
            return "not yet applicable; no date declared"
        days = f", {_in_days(standing.days)}" if standing.days is not None else ""
        return f"coming: applies from {standing.date}{days}"
    return f"in force since {standing.date}" if standing.date else "in force"


@dataclass(frozen=True)
class ComingGroup:
    """The clauses of one policy that start to apply on the same day."""

    policy: Policy
    standing: Standing
    clauses: list[str]

    @property
    def whole_policy(self) -> bool:
        return len(self.clauses) == len(self.policy.coverage)


def coming_groups(report: GovernanceReport) -> list[ComingGroup]:
    """Every clause not yet in force on the check date, grouped by policy and day, soonest first:
    what a compliance team has to get ready for, with the days left. A policy without a coverage
    list that is coming counts as one group with no clause named."""
    groups: dict[tuple[str, str | None], ComingGroup] = {}
    for policy in report.policies:
        coming = [c for c in policy.coverage if c.standing is not None and c.standing.state == "coming"]
        if not policy.coverage and policy.standing is not None and policy.standing.state == "coming":
            groups[(policy.id, policy.standing.date)] = ComingGroup(policy, policy.standing, [])
        for clause in coming:
            assert clause.standing is not None
            key = (policy.id, clause.standing.date)
            groups.setdefault(key, ComingGroup(policy, clause.standing, [])).clauses.append(clause.clause)
    never = 10**9
    return sorted(groups.values(), key=lambda g: g.standing.days if g.standing.days is not None else never)
