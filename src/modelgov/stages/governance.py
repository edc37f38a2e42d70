"""Stage: the policies checked against the manifest (:mod:`modelgov.policy.engine`), with each
waiver's audit record; the day checked is ``--as-of``, else the build's date, and what fails the
build is ``--fail-on``, else governance.yml's ``policies.fail_on``."""

from __future__ import annotations

import dataclasses

from modelgov import manifest
from modelgov.stages.base import ManifestSubject, Stage


class GovernanceStage(Stage):
    name = "governance"
    scope = "manifest"
    evidence = ("governance",)

    def compute(self, subject: ManifestSubject) -> manifest.GovernanceReport | None:
        from modelgov.decisions.review import waiver_records
        from modelgov.decisions.signers import signatures_required
        from modelgov.policy.engine import govern

        workspace = subject.workspace
        policies = workspace.policies
        if not policies:
            return None
        gov = workspace.governance
        subject.progress(f"Checking {len(policies)} polic{'ies' if len(policies) != 1 else 'y'}")
        records = waiver_records(workspace, subject.signers)
        built = subject.manifest
        return govern(
            built,
            policies,
            [dataclasses.replace(w, record=records[w.waiver.id]) for w in workspace.waivers],
            subject.check_date,
            fail_on=subject.fail_on or gov.policies.fail_on,
            require_signed_waivers=gov.policies.require_signed_waivers,
            require_signatures=signatures_required(),
            pinned_packs=workspace.refusals.packs,
        )

    def contribute(
        self, node: manifest.Manifest, subject: ManifestSubject, result: manifest.GovernanceReport
    ) -> manifest.Manifest:
        return node.model_copy(update={"governance": result})


STAGE = GovernanceStage()
