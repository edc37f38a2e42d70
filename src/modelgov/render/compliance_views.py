"""What the compliance overview reads off the manifest's :class:`GovernanceReport`: the matrix of
model versions against policies, the results that need a reader's attention, and what blocks the
release.

The policy engine (``modelgov.policy``) decides every outcome; here results are only grouped and
ordered: the worst outcome of a cell of the matrix (:func:`.compliance_outcomes.worst`), the
results that need attention worst first. Each policy's own page is :mod:`.policy_views`, the
waivers page :mod:`.waiver_views`. Each rule is stated in a docstring so the pages can explain it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from modelgov.manifest import GovernanceReport, Manifest, Model, ModelVersion, Policy, PolicyResult, PolicyRule
from modelgov.render.compliance_outcomes import ATTENTION, OUTCOME_ORDER, blocks, shown_outcome, version_anchor, worst
from modelgov.render.waiver_views import WAIVER_GROUPS, WaiverRow, waiver_rows

__all__ = ["ComplianceView", "MatrixRow", "compliance_view", "ordered_versions"]


def ordered_versions(
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
        """Results by the outcome the pages show, in :data:`OUTCOME_ORDER`: the counts of
        ``policy-results.json``, except that a result not met under a text not in force is counted as
        ``not-in-force`` (:func:`.compliance_outcomes.shown_outcome`), not as the failure it is there."""
        found = Counter(shown_outcome(r) for r in self.report.results)
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
        found = Counter(shown_outcome(r) for r in self.report.results if r.policy == policy_id)
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
        by_cell.setdefault((result.model, result.version, result.policy), []).append(shown_outcome(result))
    rows = [
        MatrixRow(
            model_id=model_id,
            version_name=name,
            model=model,
            version=version,
            cells={p.id: worst(by_cell.get((model_id, name, p.id), [])) for p in report.policies},
        )
        for model_id, name, model, version in ordered_versions(manifest, report.results)
    ]
    order = {key: i for i, key in enumerate(OUTCOME_ORDER)}
    attention = sorted(
        (r for r in report.results if shown_outcome(r) in ATTENTION), key=lambda r: order.get(shown_outcome(r), -1)
    )  # sorted() is stable: manifest order within an outcome
    return ComplianceView(
        report=report,
        rows=rows,
        attention=attention,
        blocking=[r for r in report.results if blocks(r, report.fail_on)],
        waivers=waiver_rows(manifest),
    )
