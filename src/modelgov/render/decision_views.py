"""How decisions read on the pages: signature and evidence states in words, and the promotions that
overrode the policy gate (shown on the compliance overview and on the version's card)."""

from __future__ import annotations

from modelgov.manifest import Approval, Manifest, Model, ModelVersion, StatusChange


def signature_words(state: str, problem: str | None = None, key: str | None = None) -> str:
    """``signed (SHA256:abc…)``, ``unsigned`` or ``signature not accepted: why``."""
    if state == "signed":
        return f"signed ({key[:19]}…)" if key else "signed"
    if state == "invalid":
        return f"signature not accepted: {problem}" if problem else "signature not accepted"
    return "unsigned"


def overrides(manifest: Manifest) -> list[tuple[Model, ModelVersion, StatusChange]]:
    """Every version whose current status was set by a promotion that overrode a blocked gate."""
    return [
        (model, version, version.status_change)
        for model in manifest.models
        for version in model.versions
        if version.status_change is not None and version.status_change.override_reason
    ]


def unrecorded_statuses(manifest: Manifest) -> list[tuple[Model, ModelVersion]]:
    """Versions in staging, production or retired whose status no audit entry set (written by hand),
    when the workspace keeps an audit log; a retired one only if it existed once the log had begun
    (created or evaluated since, or named by an entry): one older may have been retired before. Retired counts too: the built-in packs check candidates,
    staging and production only, so a version retired by hand leaves every one of their rules, its
    failures with them."""
    if manifest.audit is None:
        return []
    # a version created before the log's first entry may have been retired before there was a log
    began = manifest.audit.events[0].time[:10] if manifest.audit.events else None
    # versions the log speaks of existed while it did, whatever `created` says (the workspace writes it)
    logged = {(event.model, event.version) for event in manifest.audit.events}

    def unrecorded(model: Model, version: ModelVersion) -> bool:
        if version.status_change is not None:
            return False
        if version.status == "retired":
            dates = [str(version.created)[:10], *(str(run.date)[:10] for run in version.evaluations)]
            since = began is not None and max(dates) >= began
            return since or (model.id, version.version) in logged
        return version.status in ("staging", "production")

    return [(model, version) for model in manifest.models for version in model.versions if unrecorded(model, version)]


def stale_sign_offs(version: ModelVersion, check_date: str) -> list[Approval]:
    """Each role's latest sign-off made by the check date, when it is stale (its evidence changed
    since): the decisions the version stands on that no longer cover it. A stale sign-off that a later
    one of its role replaces is history, not a gap. The sign-off is the one the policies' findings name
    (:meth:`~modelgov.manifest.ModelVersion.latest_sign_off`)."""
    roles = dict.fromkeys(a.role for a in version.approvals)
    latest = [version.latest_sign_off(role, check_date) for role in roles]
    return [a for a in latest if a is not None and a.evidence == "stale"]


def promoted_on_other_evidence(version: ModelVersion, change: StatusChange) -> str:
    """What a promotion whose evidence changed since means, in one sentence shared by the card and
    the exports: whether the model file itself changed, or only the evidence around it."""
    artifact = version.training.artifact
    if artifact is not None and artifact.path in change.changed:
        return f"the model file itself changed, so what is in {version.status} is not what passed the gate"
    if artifact is not None:
        return (
            "the gate was passed on evidence that is no longer the version's. The model file is unchanged: "
            "check the promotion against what changed"
        )
    return (
        "the gate was passed on evidence that is no longer the version's, and no model file is recorded, so "
        "whether the model itself changed is not known"
    )
