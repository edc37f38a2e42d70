"""Each version's flags from the business, read from the verified audit log, for the manifest.

Flags are read only from ``workspace.audit_entries``: the entries whose hash chain verifies, where a
resolve that names no open flag of its version already broke the chain (:mod:`modelgov.audit_flags`).
Each flag and each resolution gets its signature checked as a sign-off's is. A resolution closes its
flag only when it counts: never with a signature that is not accepted, and not unsigned when the CI
requires signatures (``MODELGOV_REQUIRE_SIGNATURES``) — otherwise anyone who can write the log could
close the flags a policy is waiting on. An open flag is shown whatever its signature: feedback is
never hidden, only labelled.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from modelgov import manifest
from modelgov.audit_flags import flag_id
from modelgov.decisions.review import signature_of
from modelgov.decisions.signers import AllowedSigners, signatures_required
from modelgov.grace import counts_on


def flag_models(
    models: Iterable[manifest.Model],
    entries: Iterable[dict[str, Any]],
    signers: AllowedSigners | None,
    as_of: dt.date,
) -> list[manifest.Model]:
    """The models with each version's flags filled in (versions without flags are left as they are)."""
    raised: dict[tuple[str, str], list[dict[str, Any]]] = {}
    closed: dict[str, dict[str, Any]] = {}
    for entry in entries:
        if entry["action"] != "flag":
            continue
        if entry["outcome"] == "open":
            raised.setdefault((entry["subject"]["model"], entry["subject"]["version"]), []).append(entry)
        else:
            closed[entry["details"]["flag"]] = entry
    if not raised:
        return list(models)
    required = signatures_required()
    updated = []
    for model in models:
        versions = [
            version.model_copy(
                update={
                    "flags": [_flag(e, closed, signers, as_of, required) for e in raised[(model.id, version.version)]]
                }
            )
            if (model.id, version.version) in raised
            else version
            for version in model.versions
        ]
        updated.append(model.model_copy(update={"versions": versions}))
    return updated


def _flag(
    entry: dict[str, Any],
    closed: dict[str, dict[str, Any]],
    signers: AllowedSigners | None,
    as_of: dt.date,
    required: bool,
) -> manifest.Flag:
    ident = flag_id(entry)
    checked = signature_of(entry, signers, None)
    details = entry["details"]
    resolution = _resolution(closed[ident], signers, required) if ident in closed else None
    # a resolution dated after the check date had not happened on it: the flag was open then
    resolved = resolution is not None and resolution.accepted and counts_on(resolution.time, as_of)
    raised_on = dt.date.fromisoformat(entry["time"][:10])
    until = dt.date.fromisoformat(resolution.time[:10]) if resolved and resolution is not None else as_of
    return manifest.Flag(
        id=ident,
        entry=entry["seq"],
        by=entry["actor"],
        time=entry["time"],
        scope=details["scope"],
        start=details.get("start"),
        end=details.get("end"),
        records=list(details.get("records") or []),
        text=entry["comment"],
        signature=checked.status,  # type: ignore[arg-type]
        signer_key=checked.fingerprint,
        signature_problem=checked.reason,
        state="resolved" if resolved else "open",
        age_days=max(0, (until - raised_on).days),
        resolution=resolution,
    )


def _resolution(entry: dict[str, Any], signers: AllowedSigners | None, required: bool) -> manifest.FlagResolution:
    checked = signature_of(entry, signers, None)
    accepted = checked.status == "signed" or (checked.status == "unsigned" and not required)
    return manifest.FlagResolution(
        entry=entry["seq"],
        by=entry["actor"],
        time=entry["time"],
        note=entry["comment"],
        signature=checked.status,  # type: ignore[arg-type]
        signer_key=checked.fingerprint,
        signature_problem=checked.reason,
        accepted=accepted,
    )
