"""``modelgov approve``, ``waive``, ``promote`` and ``audit verify``: decisions written to the audit log
(``flag`` is in :mod:`modelgov.decisions.flag`).

Each command checks what it can before it writes anything — the chain verifies, the version exists,
the workspace loads, the signature would be accepted, the policy gate passes — so a refused
command leaves the workspace exactly as it was.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from modelgov.audit import LOG_PATH, compare_with_published, verify
from modelgov.decisions.evidence import STATUS_LINE, Evidence, version_evidence
from modelgov.decisions.promotion_record import promotion_record, record_json
from modelgov.decisions.review import OVERRIDE_ROLE
from modelgov.decisions.sign import sign, signing_key
from modelgov.decisions.signers import AllowedSigners, check_signature, locate
from modelgov.errors import ModelgovError

EXIT_OK = 0
EXIT_BLOCKED = 1


def run(args: argparse.Namespace) -> int:
    from modelgov.decisions import conditions, flag

    command = {
        "approve": approve,
        "promote": promote,
        "waive": waive,
        "audit": audit_verify,
        "flag": flag.run,
        "condition": conditions.run,
    }[args.command]
    return command(args)


# --------------------------------------------------------------------------- helpers


def _intact_log(root: Path) -> None:
    state = verify(root / LOG_PATH)
    if not state.ok:
        raise ModelgovError(f"{LOG_PATH}:{state.broken_line}: {state.reason}; nothing was changed")


def _version_file(root: Path, model: str, version: str) -> str:
    rel = f"models/{model}/versions/{version}/version.yml"
    if not (root / rel).is_file():
        raise ModelgovError(f"{root}: no version {version!r} of model {model!r} ({rel} is missing)")
    return rel


def _signer(args: argparse.Namespace, root: Path, role: str | None) -> Callable[[bytes], str] | None:
    """A function that signs an entry's bytes and proves the signature would be accepted (the key is
    listed for ``--by``, with ``role``) before anything is written; None when unsigned."""
    key = signing_key(args.key)
    if key is None:
        return None
    from modelgov.workspace.load import load_workspace

    configured = load_workspace(root).governance.signing.allowed_signers
    signers = locate(root, configured, args.allowed_signers)
    if signers is None:
        raise ModelgovError(
            "a signed entry needs an allowed-signers file to be checked against: set signing.allowed_signers in "
            "governance.yml, or give --allowed-signers / MODELGOV_ALLOWED_SIGNERS"
        )

    def signed(message: bytes) -> str:
        armored = sign(message, key)
        _accepted(signers, args.by, message, armored, role)
        return armored

    return signed


def _accepted(signers: AllowedSigners, principal: str, message: bytes, armored: str, role: str | None) -> None:
    checked = check_signature(signers, principal, message, armored, dt.datetime.now(tz=dt.UTC))
    if checked.status != "signed":
        raise ModelgovError(f"the signature would not be accepted: {checked.reason}; nothing was written")
    if role is not None and role not in checked.roles:
        held = ", ".join(sorted(checked.roles)) or "none"
        raise ModelgovError(
            f"{principal} does not hold the role {role!r} in {signers.path} (roles: {held}); nothing was written"
        )


def _current_evidence(root: Path, model: str, version: str) -> Evidence:
    """The version's evidence as the workspace holds it now (the workspace must load)."""
    from modelgov.workspace.load import load_workspace

    workspace = load_workspace(root)
    return version_evidence(workspace, model, workspace.models[model].versions[version])


def _signed_note(entry: dict[str, Any]) -> str:
    return "signed" if "signature" in entry else "unsigned: give --key to sign it"


# --------------------------------------------------------------------------- approve


def _known_role(root: Path, role: str) -> None:
    """Refuse a ``--role`` that reads as one the policies read without being it (``Model_Risk``):
    no rule would count the sign-off, nor see its conditions."""
    from modelgov.workspace.load import load_workspace
    from modelgov.workspace.scope_names import role_impersonation

    if (problem := role_impersonation(role, load_workspace(root).policies)) is not None:
        raise ModelgovError(f"{problem}; nothing was written")


def approve(args: argparse.Namespace) -> int:
    """Append a sign-off bound to the version's evidence as it is now (every file's SHA-256)."""
    from modelgov.audit import append
    from modelgov.decisions.conditions import condition_details

    root: Path = args.workspace
    version_file = _version_file(root, args.model, args.version)
    _intact_log(root)
    _known_role(root, args.role)
    details: dict[str, Any] = {"role": args.role}
    if args.condition:
        details["conditions"] = condition_details(args.condition, args.decision, dt.datetime.now(dt.UTC).date())
    evidence = _current_evidence(root, args.model, args.version)
    entry = append(
        root,
        actor=args.by,
        action="approval",
        model=args.model,
        version=args.version,
        outcome=args.decision,
        comment=args.comment,
        details=details,
        concerns=version_file,
        evidence=evidence.files,
        sign=_signer(args, root, args.role),
    )
    print(
        f"Recorded: {args.role} {args.decision} {args.model} {args.version} (entry {entry['seq']}, "
        f"{entry['hash'][:12]}; {_signed_note(entry)}); bound to {len(evidence.files)} evidence files, "
        f"digest {evidence.digest[:12]}"
    )
    return EXIT_OK


# --------------------------------------------------------------------------- promote


def _now() -> dt.datetime:
    """The time a promotion is recorded at, from the clock; its UTC date is the day it is checked on."""
    return dt.datetime.now(tz=dt.UTC)


def promote(args: argparse.Namespace) -> int:
    """Rewrite the ``status:`` line of version.yml (nothing else: the file is re-read to prove it),
    evaluate the policies on the promoted workspace exactly as ``check`` does, and either keep the
    change and record it, or put the file back and refuse (exit 1) naming the blocking rules."""
    from modelgov.audit import append

    root: Path = args.workspace
    rel = _version_file(root, args.model, args.version)
    path = root / rel
    _intact_log(root)
    if args.override is not None and not args.override.strip():
        raise ModelgovError("--override needs a reason")
    now = _now()
    today = now.date()
    if args.as_of is not None and args.as_of != today:
        # a gate checked on a chosen day would pass what blocks today (an expired waiver, a stale
        # sign-off, a late re-assessment): that is an override, and only the override role may make one
        raise ModelgovError(
            f"--as-of {args.as_of.isoformat()}: a promotion is checked against the policies on the day it is "
            f"recorded ({today.isoformat()}, UTC), not on another; to promote against rules that block on that "
            "day, give --override REASON, signed by a holder of the 'override' role"
        )
    text = path.read_text(encoding="utf-8")
    before = _yaml(text, rel)
    old = before.get("status") if isinstance(before, dict) else None
    if old is None:
        raise ModelgovError(f"{rel}: no top-level status key to change")
    if old == args.to:
        raise ModelgovError(f"{rel}: the status is already {args.to}")
    changed, count = STATUS_LINE.subn(f"status: {args.to}", text)
    after = _yaml(changed, rel) if count == 1 else None
    if after != {**before, "status": args.to}:
        raise ModelgovError(f"{rel}: the status line could not be changed on its own; edit it and record the change")
    sign_entry = _signer(args, root, OVERRIDE_ROLE if args.override else None)
    if args.override and sign_entry is None:
        raise ModelgovError("--override must be signed: give --key of a signer holding the 'override' role")
    _write(path, changed)
    try:
        details: dict[str, Any] = {"from": old, "to": args.to}
        gate = None
        if args.to in ("staging", "production"):
            gate = _gate(root, args, today)
            blocked = gate.blocking
            if blocked and args.override is None:
                raise _Blocked(blocked)
            if blocked:
                details["override"] = {"reason": args.override, "rules": [rule for rule, _ in blocked]}
        elif args.override is not None:
            raise ModelgovError(f"--override applies to a promotion to staging or production, not to {args.to}")
        evidence = _current_evidence(root, args.model, args.version)
        if gate is not None:
            record = promotion_record(gate.built, args.model, args.version, evidence.digest, gate.skipped)
            details["record"] = record_json(record)
        entry = append(
            root,
            actor=args.by,
            action="status",
            model=args.model,
            version=args.version,
            outcome=args.to,
            comment=args.comment,
            details=details,
            concerns=rel,
            evidence=evidence.files,
            sign=sign_entry,
            time=now,  # the day its gate was checked on
        )
    except _Blocked as exc:
        _write(path, text)
        print(
            f"{args.model} {args.version} stays {old}: the policy gate blocks {args.to}:\n"
            + "\n".join(f"  {rule}: {message}" for rule, message in exc.rules)
            + f"\nNothing was changed. Fix the evidence, add a waiver, or promote with --override REASON "
            f"signed by a holder of the '{OVERRIDE_ROLE}' role.",
            file=sys.stderr,
        )
        return EXIT_BLOCKED
    except BaseException:
        _write(path, text)
        raise
    overridden = f"; OVERRIDING {', '.join(r for r, _ in blocked)}" if "override" in details else ""
    print(
        f"{args.model} {args.version}: {old} -> {args.to} (audit entry {entry['seq']}, {entry['hash'][:12]}; "
        f"{_signed_note(entry)}){overridden}"
    )
    return EXIT_OK


@dataclass(frozen=True)
class _Gate:
    """The policy gate's verdict on a promotion, and the manifest it was evaluated on (its record)."""

    blocking: list[tuple[str, str]]
    built: Any  # manifest.Manifest
    skipped: set[tuple[str, str]]


class _Blocked(Exception):
    def __init__(self, rules: list[tuple[str, str]]):
        super().__init__("blocked")
        self.rules = rules


def _gate(root: Path, args: argparse.Namespace, today: dt.date) -> _Gate:
    """The version's blocking results, evaluated as ``check`` evaluates them on the promoted
    workspace; ``status_recorded`` rules are left out (the entry they ask for is the one this
    promotion writes), unless they require a signature and the promotion is unsigned."""
    from modelgov.assemble import build_manifest
    from modelgov.cache import default_cache_dir, open_cache
    from modelgov.policy.engine import is_blocking
    from modelgov.workspace.load import load_workspace

    workspace = load_workspace(root)
    cache = open_cache(default_cache_dir(), workspace.root)  # the analyses of the last build, when unchanged
    # the day the promotion is recorded, from the clock: not a chosen --as-of, not SOURCE_DATE_EPOCH
    built = build_manifest(workspace, as_of=today, allowed_signers=args.allowed_signers, cache=cache)
    report = built.governance
    if report is None:
        return _Gate([], built, set())
    rules = {(p.policy.id, r.id): r for p in workspace.policies for r in p.policy.rules}
    signed = signing_key(args.key) is not None
    blocking = []
    skipped = {key for key, rule in rules.items() if rule.kind == "status_recorded"}
    for result in report.results:
        if (result.model, result.version) != (args.model, args.version) or not is_blocking([result], report.fail_on):
            continue
        rule = rules.get((result.policy, result.rule))
        message = result.message
        if rule is not None and rule.kind == "status_recorded":
            if signed or not rule.require_signature:
                continue
            message = "this rule requires a signed promotion: give --key"
        blocking.append((f"{result.policy}/{result.rule}", message))
    return _Gate(blocking, built, skipped)


# --------------------------------------------------------------------------- waive


def waive(args: argparse.Namespace) -> int:
    """Append the waiver to waivers.yml as one new list item (the file is re-read to prove nothing
    else changed, and the whole workspace is validated with it), then record it in the audit log."""
    from modelgov.audit import append
    from modelgov.workspace.load import load_workspace

    root: Path = args.workspace
    _intact_log(root)
    granted = args.granted or dt.datetime.now(tz=dt.UTC).date()
    waiver = {
        "id": args.id,
        "policy": args.policy,
        "rule": args.rule,
        "models": args.model,
        **({"versions": args.version} if args.version else {}),
        "reason": args.reason,
        "approved_by": args.by,
        "ticket": args.ticket,
        "granted": granted.isoformat(),
        "expires": args.expires.isoformat(),
    }
    path = root / "waivers.yml"
    text = path.read_text(encoding="utf-8") if path.is_file() else "waivers:\n"
    before = _yaml(text, "waivers.yml") or {}
    if not isinstance(before, dict) or not isinstance(before.get("waivers") or [], list):
        raise ModelgovError("waivers.yml: expected a mapping with a waivers list")
    if any(isinstance(w, dict) and w.get("id") == args.id for w in before.get("waivers") or []):
        raise ModelgovError(f"waivers.yml: a waiver {args.id!r} exists already")
    item = "  - " + json.dumps(waiver, ensure_ascii=False)  # JSON is YAML: one flow mapping per line
    changed = text.replace("waivers: []", "waivers:") if "waivers: []" in text else text
    changed = (changed if changed.endswith("\n") else changed + "\n") + item + "\n"
    parsed = _yaml(changed, "waivers.yml")
    expected_items = [*(before.get("waivers") or []), yaml.safe_load(json.dumps(waiver))]
    if parsed != {**before, "waivers": expected_items}:
        raise ModelgovError("waivers.yml: the waiver could not be appended as the last list item; add it by hand")
    sign_entry = _signer(args, root, OVERRIDE_ROLE)  # a waiver lets a version through the gate
    original = text if path.is_file() else None
    _write(path, changed)
    try:
        load_workspace(root)  # an unknown policy or rule, or a waiver that runs too long: undo
        entry = append(
            root,
            actor=args.by,
            action="waiver",
            model=args.model[0] if len(args.model) == 1 else ",".join(args.model),
            version=args.version[0] if args.version and len(args.version) == 1 else None,
            outcome="granted",
            comment=args.reason,
            details=waiver_details(waiver),
            concerns="waivers.yml",
            sign=sign_entry,
        )  # fmt: skip
    except BaseException:
        if original is None:
            path.unlink()
        else:
            _write(path, original)
        raise
    print(
        f"Waiver {args.id} added to waivers.yml (audit entry {entry['seq']}, {entry['hash'][:12]}; {_signed_note(entry)})"
    )
    return EXIT_OK


# --------------------------------------------------------------------------- audit verify


def audit_verify(args: argparse.Namespace) -> int:
    root: Path = args.workspace
    result = verify(root / LOG_PATH)
    if not result.ok:
        print(
            f"{root / LOG_PATH}:{result.broken_line}: {result.reason}. "
            f"The {result.entries} entries before it verify (head {result.head}).",
            file=sys.stderr,
        )
        return EXIT_BLOCKED
    print(f"{root / LOG_PATH}: {result.entries} entries, chain intact; head {result.head}")
    if args.against is None:
        return EXIT_OK
    entries, head, hashes = _published_anchor(args.against)
    anchor = compare_with_published(result, entries, head, hashes)
    if anchor.ok:
        print(f"Against {args.against}: {anchor.message}")
        return EXIT_OK
    print(f"{root / LOG_PATH}: {anchor.message} (against {args.against})", file=sys.stderr)
    return EXIT_BLOCKED


def _published_anchor(source: Path) -> tuple[int, str, dict[int, str]]:
    """(entries, head, seq → hash) a published manifest recorded of the log."""
    from modelgov import manifest

    path = source / "manifest.json" if source.is_dir() else source
    if not path.is_file():
        raise ModelgovError(f"{source}: no manifest.json to compare with")
    try:
        published = manifest.read(path)
    except RecursionError:
        raise ModelgovError(f"{path}: nested too deeply to be a manifest") from None
    if published.audit is None:
        raise ModelgovError(f"{path}: the published build recorded no audit log")
    hashes = {event.seq: event.hash for event in published.audit.events}
    return published.audit.entries, published.audit.head, hashes


def waiver_details(waiver: dict[str, Any]) -> dict[str, Any]:
    """What a waiver's audit entry records of it: every field but the reason (the entry's comment),
    so the build can tell when waivers.yml no longer says what was signed."""
    return {
        "waiver": waiver["id"],
        **{key: waiver.get(key) for key in WAIVER_FIELDS if key != "reason"},
    }


#: The fields of a waiver its audit entry binds (see :func:`waiver_details`).
WAIVER_FIELDS = ("policy", "rule", "models", "versions", "reason", "approved_by", "ticket", "granted", "expires")


def _yaml(text: str, rel: str) -> Any:
    """The parsed file, or a clear error naming it (the loader reads it too, with every check)."""
    try:
        return yaml.safe_load(text)
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ModelgovError(f"{rel}: not YAML this command can change ({detail}); nothing was changed") from None


def _write(path: Path, text: str) -> None:
    partial = path.with_name(f".{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)
