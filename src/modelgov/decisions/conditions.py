"""``modelgov approve --condition`` and ``modelgov condition``: conditions of approval kept in the
signed, hash-chained audit log rather than in ``approvals.yml``, which a pull request can edit.

A sign-off made with ``--condition DUE TEXT`` carries its conditions in its own entry; ``modelgov
condition --entry N --number K`` records that the K-th was met, signed by a holder of the sign-off's
role; a condition of a signed sign-off is met only by a signed record, since anyone who can write
the log can append an unsigned one. Everything is checked before anything is written: the chain
verifies, the entry is a sign-off of this version with that condition, and a condition of a signed
sign-off is not recorded met without a key. Recording one met twice is allowed (a record whose
signature was not accepted can be made again); the card shows the earliest that counts."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path
from typing import Any

from modelgov.audit import LOG_PATH, append, read_entries
from modelgov.audit_conditions import MAX_CONDITIONS, MAX_TEXT
from modelgov.audit_flags import parse_date
from modelgov.decisions.sign import signing_key
from modelgov.errors import ModelgovError


def condition_details(pairs: list[list[str]], decision: str, today: dt.date) -> list[dict[str, Any]]:
    """``details.conditions`` of a sign-off from ``--condition DUE TEXT`` pairs (an approval's only,
    each due today or later)."""
    if decision != "approved":
        raise ModelgovError(f"--condition goes with an approval; a {decision} decision sets no condition")
    if len(pairs) > MAX_CONDITIONS:
        raise ModelgovError(f"at most {MAX_CONDITIONS} conditions per sign-off")
    conditions = []
    for due, text in pairs:
        if due != "standing" and parse_date(due) is None:
            raise ModelgovError(f"--condition {due!r} {text!r}: DUE is a date like 2026-10-31, or `standing`")
        if due != "standing" and dt.date.fromisoformat(due) < today:
            raise ModelgovError(f"--condition {due!r} {text!r}: DUE is before today ({today}), when it is set")
        if not text.strip() or len(text) > MAX_TEXT:
            raise ModelgovError(f"--condition {due!r}: TEXT must be non-empty, at most {MAX_TEXT} characters")
        conditions.append({"text": text.strip(), "due": None if due == "standing" else due})
    return conditions


def run(args: argparse.Namespace) -> int:
    """Record that condition ``--number`` of the sign-off at ``--entry`` is met."""
    from modelgov.decisions.commands import _intact_log, _signed_note, _signer, _version_file

    root: Path = args.workspace
    version_file = _version_file(root, args.model, args.version)
    _intact_log(root)
    if not args.note.strip():
        raise ModelgovError("--note must say how the condition was met")
    role, text, signed = _condition(root, args.model, args.version, args.entry, args.number)
    if signed and signing_key(args.key) is None:
        raise ModelgovError(
            f"{LOG_PATH}: entry {args.entry} is a signed sign-off: its condition is met only by a signed record "
            "(give --key, or set MODELGOV_SIGNING_KEY)"
        )
    entry = append(
        root,
        actor=args.by,
        action="condition",
        model=args.model,
        version=args.version,
        outcome="met",
        comment=args.note,
        details={"approval": args.entry, "condition": args.number, "role": role},
        concerns=version_file,
        sign=_signer(args, root, role),
    )
    print(
        f"Recorded: condition {args.number} of entry {args.entry} ({text!r}) met, {args.model} {args.version} "
        f"(entry {entry['seq']}, {entry['hash'][:12]}; {_signed_note(entry)})"
    )
    return 0


def _condition(root: Path, model: str, version: str, seq: int, number: int) -> tuple[str, str, bool]:
    """(role, text, whether the sign-off is signed) of condition ``number`` of the sign-off at entry
    ``seq``; refused when there is none."""
    entries = [entry for _, entry in read_entries(root / LOG_PATH)] if (root / LOG_PATH).is_file() else []
    found = next((e for e in entries if e["seq"] == seq), None)
    if found is None or found["action"] != "approval":
        raise ModelgovError(f"{LOG_PATH}: entry {seq} is not a sign-off")
    if found["subject"].get("model") != model or found["subject"].get("version") != version:
        raise ModelgovError(f"{LOG_PATH}: entry {seq} is a sign-off of another version")
    conditions = found["details"].get("conditions") or []
    if not 1 <= number <= len(conditions):
        raise ModelgovError(f"{LOG_PATH}: entry {seq} has {len(conditions)} condition(s); there is no number {number}")
    return found["details"]["role"], conditions[number - 1]["text"], "signature" in found
