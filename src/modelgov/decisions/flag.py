"""``modelgov flag``: feedback from the business, recorded in the audit log.

People who use a model's results — an underwriter, a collections team, a clinician — are often the
first to see that they stopped making sense, weeks before the outcomes arrive. A flag records what
they saw, about the version as a whole, a window of dates or some records, as a hash-chained audit
entry signed like a sign-off; ``--resolve`` closes it with a note. The site shows open flags with
their age, and a policy can require that none stays open too long.

Everything is checked before anything is written (the chain verifies, the version exists, the text
is not empty, the window is a date or a range, the flag to close is open and belongs to the
version, the signature would be accepted), so a refused command leaves the workspace as it was.
:func:`record_flag` and :func:`resolve_flag` are the one path that writes flags: the command and the
bundled example both go through them.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

from modelgov.audit import LOG_PATH, append, verify
from modelgov.audit_flags import MAX_RECORDS, FlagLedger, flag_id, parse_date
from modelgov.errors import ModelgovError

Signer = Callable[[bytes], str] | None


def run(args: argparse.Namespace) -> int:
    from modelgov.decisions.commands import _signed_note, _signer

    root: Path = args.workspace
    _check_before_signing(root, args)
    sign = _signer(args, root, None)
    if args.resolve is not None:
        entry = resolve_flag(root, args.model, args.version, args.resolve, by=args.by, note=args.text, sign=sign)
        print(
            f"Resolved flag {args.resolve} on {args.model} {args.version} (audit entry {entry['seq']}, "
            f"{entry['hash'][:12]}; {_signed_note(entry)})"
        )
        return 0
    entry = record_flag(root, args.model, args.version, by=args.by, scope=scope_of(args), text=args.text, sign=sign)
    print(
        f"Flag {flag_id(entry)} raised on {args.model} {args.version} (audit entry {entry['seq']}; "
        f"{_signed_note(entry)}). Close it with: modelgov flag {root} {args.model} {args.version} "
        f"--resolve {flag_id(entry)} --by NAME --text NOTE"
    )
    return 0


def _check_before_signing(root: Path, args: argparse.Namespace) -> None:
    """Every refusal that does not need the key, so ssh-keygen never asks for a passphrase in vain."""
    _text(args.text, "--text")
    if args.resolve is None:
        scope_of(args)
    _checked_log(root, args.model, args.version, args.resolve)


def scope_of(args: argparse.Namespace) -> dict[str, Any]:
    """``details`` of a new flag from ``--window`` / ``--records`` (neither: the version as a whole)."""
    if args.window is not None:
        return window_scope(args.window)
    if args.records is not None:
        return records_scope(args.records)
    return {"scope": "version"}


def window_scope(text: str) -> dict[str, Any]:
    """``START`` or ``START/END``, dates like 2026-10-05; END on or after START."""
    start_text, _, end_text = text.strip().partition("/")
    start = parse_date(start_text.strip())
    end = parse_date(end_text.strip()) if end_text.strip() else None
    if start is None or (end_text.strip() and end is None) or (text.strip().endswith("/")):
        raise ModelgovError(
            f"--window {text!r} is not a date or a range of dates: write START or START/END, e.g. 2026-10-05/2026-10-11"
        )
    if end is not None and end < start:
        raise ModelgovError(f"--window {text!r} ends before it starts")
    return {"scope": "window", "start": start.isoformat(), "end": end.isoformat() if end else None}


def records_scope(text: str) -> dict[str, Any]:
    """Comma-separated record ids, each named once."""
    records = [part.strip() for part in text.split(",")]
    if not records or any(not r for r in records):
        raise ModelgovError(f"--records {text!r}: give record ids separated by commas, none of them empty")
    if len(set(records)) != len(records):
        raise ModelgovError(f"--records {text!r} names a record twice")
    if len(records) > MAX_RECORDS:
        raise ModelgovError(f"--records names {len(records)} records; at most {MAX_RECORDS} (link a ticket in --text)")
    return {"scope": "records", "records": records}


def record_flag(
    root: Path,
    model: str,
    version: str,
    *,
    by: str,
    scope: dict[str, Any],
    text: str,
    sign: Signer = None,
    time: dt.datetime | None = None,
) -> dict[str, Any]:
    """Append an open flag on ``model`` ``version`` and return its entry (its id: :func:`flag_id`)."""
    rel = _checked_log(root, model, version, None)
    return append(
        root,
        actor=by,
        action="flag",
        model=model,
        version=version,
        outcome="open",
        comment=_text(text, "--text"),
        details=scope,
        concerns=rel,
        sign=sign,
        time=time,
    )


def resolve_flag(
    root: Path,
    model: str,
    version: str,
    flag: str,
    *,
    by: str,
    note: str,
    sign: Signer = None,
    time: dt.datetime | None = None,
) -> dict[str, Any]:
    """Append the resolve of the open flag ``flag`` of ``model`` ``version``, with ``note``."""
    rel = _checked_log(root, model, version, flag)
    return append(
        root,
        actor=by,
        action="flag",
        model=model,
        version=version,
        outcome="resolved",
        comment=_text(note, "--text"),
        details={"flag": flag},
        concerns=rel,
        sign=sign,
        time=time,
    )


def _text(text: str, option: str) -> str:
    if not text or not text.strip():
        raise ModelgovError(f"{option} is empty: say what does not match expectations (or, to resolve, what was done)")
    return text


def _checked_log(root: Path, model: str, version: str, resolving: str | None) -> str:
    """The version's version.yml (which the entry concerns), once the version exists, the chain
    verifies and, when ``resolving``, that flag is open on this version."""
    rel = f"models/{model}/versions/{version}/version.yml"
    if not (root / rel).is_file():
        raise ModelgovError(
            f"{root}: no version {version!r} of model {model!r} ({rel} is missing); nothing was written"
        )
    state = verify(root / LOG_PATH)
    if not state.ok:
        raise ModelgovError(f"{LOG_PATH}:{state.broken_line}: {state.reason}; nothing was written")
    if resolving is None:
        return rel
    ledger = FlagLedger()
    for entry in state.valid:
        ledger.add(entry)
    raised = ledger.flags.get(resolving)
    if raised is None:
        problem = f"no flag {resolving!r} was raised (flag ids are printed when a flag is recorded)"
    elif (raised["subject"]["model"], raised["subject"]["version"]) != (model, version):
        problem = (
            f"flag {resolving} was raised on {raised['subject']['model']} {raised['subject']['version']}, "
            f"not on {model} {version}"
        )
    elif resolving in ledger.resolved:
        done = ledger.resolved[resolving]
        problem = (
            f"flag {resolving} was already resolved by {done['actor']} on {done['time'][:10]} (entry {done['seq']})"
        )
    else:
        return rel
    raise ModelgovError(f"{LOG_PATH}: {problem}; nothing was written")
