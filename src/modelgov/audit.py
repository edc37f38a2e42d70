"""The audit trail: an append-only, hash-chained JSON Lines log in the workspace (``audit/log.jsonl``).

Each line is one event — an approval, a waiver, a status change, an evaluation registered — with
who, when, what it concerns (model, version, and the SHA-256 of the file it concerns), the outcome,
a comment, the previous entry's hash and its own hash. An entry's hash is the SHA-256 of its
canonical JSON (keys sorted, no spaces, UTF-8) without the ``hash`` key, so:

* editing any field of an entry changes its hash, which no longer matches;
* deleting or reordering entries breaks the ``prev`` link of the entry after the gap, and ``seq``;
* but truncating the log (dropping its last entries) leaves a valid shorter chain: only a copy of
  the head hash kept elsewhere (a signed git tag, the published site) can show that.

Entries are written by the CLI (``modelgov approve``), never by hand, and never by a build.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modelgov.errors import ModelgovError

LOG_PATH = "audit/log.jsonl"
GENESIS = "0" * 64
ACTIONS = ("approval", "waiver", "status", "evaluation")


class AuditError(ModelgovError):
    """The log cannot be read or appended to; the message names the line."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(entry: dict[str, Any]) -> str:
    return hashlib.sha256(canonical({k: v for k, v in entry.items() if k != "hash"})).hexdigest()


@dataclass(frozen=True)
class Verification:
    entries: int
    head: str  # hash of the last entry (GENESIS for an empty log)
    broken_line: int | None = None  # 1-based line of the first entry that does not verify
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_line is None


def read_entries(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, entry) for every non-blank line; a line that is not a JSON object is an error."""
    entries = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError as exc:
                raise AuditError(f"not valid JSON ({exc.msg})", number) from None
            if not isinstance(entry, dict):
                raise AuditError("an entry must be a JSON object", number)
            entries.append((number, entry))
    return entries


def verify(path: Path) -> Verification:
    """Recompute the chain from the first entry; stop at the first one that does not verify."""
    if not path.is_file():
        return Verification(0, GENESIS)
    try:
        entries = read_entries(path)
    except AuditError as exc:
        return Verification(0, GENESIS, exc.line, str(exc))
    previous = GENESIS
    for index, (number, entry) in enumerate(entries, start=1):
        if entry.get("seq") != index:
            return Verification(index - 1, previous, number, f"seq is {entry.get('seq')!r}, expected {index}")
        if entry.get("prev") != previous:
            return Verification(
                index - 1,
                previous,
                number,
                "prev does not match the hash of the entry before it (removed or reordered)",
            )
        if entry.get("hash") != entry_hash(entry):
            return Verification(index - 1, previous, number, "hash does not match the entry's content (edited)")
        previous = entry["hash"]
    return Verification(len(entries), previous)


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def append(
    root: Path,
    *,
    actor: str,
    action: str,
    model: str,
    version: str | None,
    outcome: str,
    comment: str | None = None,
    details: dict[str, Any] | None = None,
    concerns: str | None = None,
    time: dt.datetime | None = None,
) -> dict[str, Any]:
    """Append one event to ``root/audit/log.jsonl`` and return it.

    ``concerns`` is the workspace-relative path of the file the event is about (e.g. the version's
    ``version.yml``); its SHA-256 goes into the entry, so the approval is tied to that exact content.
    The log is locked while it is verified and extended; a broken chain is never extended.
    """
    if action not in ACTIONS:
        raise AuditError(f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
    if not actor.strip():
        raise AuditError("an entry needs an actor (--by)")
    subject: dict[str, Any] = {"model": model, "version": version}
    if concerns is not None:
        target = (root / concerns).resolve()
        if not target.is_relative_to(root.resolve()) or not target.is_file():
            raise AuditError(f"{concerns}: no such file in the workspace")
        subject.update(file=concerns, sha256=file_digest(target))
    path = root / LOG_PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        state = verify(path)
        if not state.ok:
            raise AuditError(
                f"{LOG_PATH}:{state.broken_line}: {state.reason}; the log is not extended until this is resolved"
            )
        moment = (time or dt.datetime.now(tz=dt.UTC)).astimezone(dt.UTC).replace(microsecond=0)
        entry: dict[str, Any] = {
            "seq": state.entries + 1,
            "time": moment.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "actor": actor,
            "action": action,
            "subject": subject,
            "outcome": outcome,
            "comment": comment,
            "details": details or {},
            "prev": state.head,
        }
        entry["hash"] = entry_hash(entry)
        handle.seek(0, os.SEEK_END)
        handle.write(canonical(entry).decode("utf-8") + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return entry
