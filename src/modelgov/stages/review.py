"""Stage: sign-offs reviewed (:mod:`modelgov.decisions.review`). Each version's evidence digest, its
sign-offs from approvals.yml and the audit log marked signed, unsigned or invalid and current or
stale, the audit entry that set its status, its flags from the business (open or resolved, with their
age on the check date), and the audit log's summary with every event's
signature checked against the allowed signers.

It runs after the analyses, in the main process: analyses know nothing of signatures, and policies
and pages read one verdict per sign-off from the manifest.
"""

from __future__ import annotations

from dataclasses import dataclass

from modelgov import manifest
from modelgov.stages import records
from modelgov.stages.base import ManifestSubject, Stage


@dataclass(frozen=True)
class Reviewed:
    models: list[manifest.Model]
    audit: manifest.AuditSummary | None


class ReviewStage(Stage):
    name = "review"
    scope = "manifest"
    evidence = (
        "models[].versions[].evidence",
        "models[].versions[].approvals",
        "models[].versions[].status_change",
        "models[].versions[].flags",
        "audit",
    )

    def compute(self, subject: ManifestSubject) -> Reviewed:
        from modelgov.audit import LOG_PATH
        from modelgov.decisions.flag_review import flag_models
        from modelgov.decisions.review import audit_event, review_models, signers_summary

        workspace = subject.workspace
        signers = subject.signers
        models = review_models(subject.manifest.models, workspace, signers)
        models = flag_models(models, workspace.audit_entries, signers, subject.check_date)
        state = workspace.audit
        audit = (
            manifest.AuditSummary(
                log=records.ref(workspace.files, LOG_PATH),
                entries=state.entries,
                head=state.head,
                intact=state.ok,
                broken_line=state.broken_line,
                reason=state.reason,
                events=[audit_event(entry, signers) for entry in workspace.audit_entries],
                signers=signers_summary(signers),
            )
            if state is not None
            else None
        )
        return Reviewed(models, audit)

    def contribute(self, node: manifest.Manifest, subject: ManifestSubject, result: Reviewed) -> manifest.Manifest:
        return node.model_copy(update={"models": result.models, "audit": result.audit})


STAGE = ReviewStage()
