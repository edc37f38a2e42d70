"""The audit trail: an append-only, hash-chained JSON Lines log in the workspace (``audit/log.jsonl``).

Each line is one event — an approval, a waiver, a status change, an evaluation registered, a flag
from the business or its resolution — with
who, when, what it concerns (model, version, the SHA-256 of the file it concerns and, for a
sign-off, of every file of the evidence it decided on), the outcome, a comment, the previous entry's
hash, optionally the SSH signature of the person (:mod:`modelgov.decisions.signers`), and its own
hash. An entry's hash is the SHA-256 of its canonical JSON (keys sorted, no spaces, UTF-8) without
the ``hash`` key; its signature covers the same JSON without ``hash`` and ``signature``, so it binds
the entry's place in the chain (``prev``) as well as its content. Then:

* editing any field of an entry changes its hash, which no longer matches;
* deleting or reordering entries breaks the ``prev`` link of the entry after the gap, and ``seq``;
* anyone who can write the file can still append a well-chained entry by hand, which is why a
  decision policies rely on should be *signed*: an unsigned entry is labelled so everywhere;
* truncating the log, or rewriting it from some entry on, leaves a valid chain: every build
  records the chain's length and head in ``manifest.json``, and ``modelgov audit verify --against``
  compares the log with a published manifest to find both (:func:`compare_with_published`).

Entries are read strictly: a line must be the canonical JSON of its entry (so duplicate keys, extra
whitespace or another key order are refused), with exactly the known keys and types, and a time that
is neither in the future nor earlier than the entry before it. The first line that fails any check
is where the chain breaks: the site says so and only the entries before it count; nothing crashes.

Entries are written by the CLI (``modelgov approve``, ``waive``, ``promote``, ``flag``), never by a build.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import hashlib
import json
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modelgov.audit_conditions import approval_problem as conditions_problem
from modelgov.audit_conditions import met_problem as condition_met_problem
from modelgov.audit_flags import FlagLedger
from modelgov.audit_flags import shape_problem as flag_shape_problem
from modelgov.decisions.promotion_record import shape_problem as record_shape_problem
from modelgov.errors import ModelgovError

LOG_PATH = "audit/log.jsonl"
GENESIS = "0" * 64
ACTIONS = ("approval", "waiver", "status", "evaluation", "flag", "condition")
DECISIONS = ("approved", "rejected", "pending")
#: Clock skew tolerated between the machine that wrote an entry and the one that reads it.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)
#: Limits that keep a hostile log from exhausting memory: bytes per line and in the whole log.
MAX_LINE_BYTES = 256 * 1024
MAX_LOG_BYTES = 256 * 1024 * 1024
#: Entries a log may hold; an entry beyond is where the chain breaks (a governance log gains a few
#: thousand a year; this bounds the time and memory of every build).
MAX_ENTRIES = 50_000
#: How deeply an entry may nest objects and lists (real entries use 3): deeper ones are refused
#: before anything renders or validates them.
MAX_DEPTH = 8

_REQUIRED = frozenset({"seq", "time", "actor", "action", "subject", "outcome", "comment", "details", "prev", "hash"})
_OPTIONAL = frozenset({"signature"})
_SUBJECT_KEYS = frozenset({"model", "version", "file", "sha256", "evidence"})
_HEX64 = re.compile(r"^[0-9a-f]{64}\Z")
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\Z")


class AuditError(ModelgovError):
    """The log cannot be read or appended to; the message names the line."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.line = line


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def entry_hash(entry: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical({k: v for k, v in entry.items() if k != "hash"})).hexdigest()


def signed_message(entry: Mapping[str, Any]) -> bytes:
    """The bytes a signature covers: the canonical entry without ``hash`` and ``signature``."""
    return canonical({k: v for k, v in entry.items() if k not in ("hash", "signature")})


def entry_time(entry: Mapping[str, Any]) -> dt.datetime:
    return dt.datetime.strptime(entry["time"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class Verification:
    entries: int
    head: str  # hash of the last entry that verifies (GENESIS for an empty log)
    broken_line: int | None = None  # 1-based line of the first entry that does not verify
    reason: str | None = None
    valid: tuple[dict[str, Any], ...] = field(default=(), repr=False)  # the entries that verify

    @property
    def ok(self) -> bool:
        return self.broken_line is None


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    seen: dict[str, Any] = {}
    for key, value in pairs:
        if key in seen:
            raise AuditError(f"the key {key!r} appears twice")
        seen[key] = value
    return seen


def parse_line(raw: bytes, number: int) -> dict[str, Any]:
    """One line as an entry, refused unless it is a well-formed, canonical entry."""
    if len(raw) > MAX_LINE_BYTES:
        raise AuditError(f"the line is longer than {MAX_LINE_BYTES} bytes", number)
    try:
        text = raw.decode("utf-8")
        entry = json.loads(text, object_pairs_hook=_no_duplicates)
    except UnicodeDecodeError:
        raise AuditError("not UTF-8 text", number) from None
    except json.JSONDecodeError as exc:
        raise AuditError(f"not valid JSON ({exc.msg})", number) from None
    except RecursionError:
        raise AuditError(f"nested more than {MAX_DEPTH} levels deep", number) from None
    except AuditError as exc:
        raise AuditError(str(exc), number) from None
    if not isinstance(entry, dict):
        raise AuditError("an entry must be a JSON object", number)
    if _depth(entry) > MAX_DEPTH:
        raise AuditError(f"nested more than {MAX_DEPTH} levels deep", number)
    problem = _shape_problem(entry)
    if problem:
        raise AuditError(problem, number)
    try:
        written = canonical(entry)
    except UnicodeEncodeError:  # a lone surrogate written as an escape (\ud800): no character UTF-8 can hold
        raise AuditError("holds an escaped lone surrogate (\\ud800 …), which is no character", number) from None
    if written != text.rstrip("\n").encode("utf-8"):
        raise AuditError("the line is not the entry's canonical JSON (keys sorted, no spaces)", number)
    return entry


def _depth(value: Any) -> int:
    """How deeply ``value`` nests lists and objects, counted without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            stack.extend((child, level + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _shape_problem(entry: dict[str, Any]) -> str | None:
    keys = set(entry)
    if missing := sorted(_REQUIRED - keys):
        return f"the entry has no {missing[0]!r}"
    if extra := sorted(keys - _REQUIRED - _OPTIONAL):
        return f"unknown key {extra[0]!r}"
    if not isinstance(entry["seq"], int) or isinstance(entry["seq"], bool):
        return "seq must be an integer"
    if not isinstance(entry["time"], str) or not _TIME.match(entry["time"]):
        return "time must be a UTC time like 2026-01-31T09:00:00Z"
    try:
        entry_time(entry)
    except ValueError:
        return f"time {entry['time']!r} is not a real date and time"
    if not isinstance(entry["actor"], str) or not entry["actor"].strip():
        return "actor must be a non-empty string"
    if entry["action"] not in ACTIONS:
        return f"action must be one of {', '.join(ACTIONS)}"
    subject = entry["subject"]
    if not isinstance(subject, dict) or not isinstance(subject.get("model"), str):
        return "subject must be an object with a model"
    if extra := sorted(set(subject) - _SUBJECT_KEYS):
        return f"subject: unknown key {extra[0]!r}"
    if subject.get("version") is not None and not isinstance(subject["version"], str):
        return "subject.version must be a string or null"
    if "evidence" in subject and not _valid_evidence(subject["evidence"]):
        return "subject.evidence must map workspace paths to SHA-256 digests"
    if not isinstance(entry["outcome"], str):
        return "outcome must be a string"
    if entry["comment"] is not None and not isinstance(entry["comment"], str):
        return "comment must be a string or null"
    if not isinstance(entry["details"], dict):
        return "details must be an object"
    if entry["action"] == "approval":
        if entry["outcome"] not in DECISIONS:
            return f"an approval's outcome must be one of {', '.join(DECISIONS)}"
        role = entry["details"].get("role")
        if not isinstance(role, str) or not role.strip():
            return "an approval needs details.role"
        if not isinstance(subject.get("version"), str):
            return "an approval needs subject.version"
        if problem := conditions_problem(entry):
            return problem
    if entry["action"] == "condition" and (problem := condition_met_problem(entry)):
        return problem
    if entry["action"] == "flag" and (problem := flag_shape_problem(entry)):
        return problem
    if "record" in entry["details"] and (problem := record_shape_problem(entry)):
        return problem
    for key in ("prev", "hash"):
        if not isinstance(entry[key], str) or not _HEX64.match(entry[key]):
            return f"{key} must be a SHA-256 in hex"
    if "signature" in entry and (
        not isinstance(entry["signature"], str) or "BEGIN SSH SIGNATURE" not in entry["signature"]
    ):
        return "signature must be an armored SSH signature"
    return None


def _valid_evidence(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and len(value) <= 10_000
        and all(isinstance(k, str) and isinstance(v, str) and _HEX64.match(v) for k, v in value.items())
    )


def _lines(path: Path):
    """(line number, bytes) for every non-blank line, each read with a bound, so a single huge line
    is refused after ``MAX_LINE_BYTES`` rather than read whole."""
    size = path.stat().st_size
    if size > MAX_LOG_BYTES:
        raise AuditError(f"the log is larger than {MAX_LOG_BYTES} bytes", 1)
    with path.open("rb") as handle:
        number = 0
        while raw := handle.readline(MAX_LINE_BYTES + 1):
            number += 1
            if len(raw) > MAX_LINE_BYTES:
                raise AuditError(f"the line is longer than {MAX_LINE_BYTES} bytes", number)
            if raw.strip():
                yield number, raw


def read_entries(path: Path) -> list[tuple[int, dict[str, Any]]]:
    """(line number, entry) for every non-blank line; the first malformed line raises."""
    return [(number, parse_line(raw, number)) for number, raw in _lines(path)]


def verify(path: Path, *, now: dt.datetime | None = None) -> Verification:
    """Recompute the chain from the first entry; stop at the first one that does not verify (a
    malformed line, a broken link, an edited entry, a time in the future or out of order, or a resolve
    that closes no open flag of its version: :mod:`modelgov.audit_flags`)."""
    if not path.is_file():
        return Verification(0, GENESIS)
    limit = (now or dt.datetime.now(tz=dt.UTC)) + FUTURE_TOLERANCE
    previous, previous_time = GENESIS, None
    valid: list[dict[str, Any]] = []
    flags = FlagLedger()

    def broken(number: int, reason: str) -> Verification:
        return Verification(len(valid), previous, number, reason, tuple(valid))

    try:
        for number, raw in _lines(path):
            try:
                entry = parse_line(raw, number)
            except AuditError as exc:
                return broken(number, str(exc))
            index = len(valid) + 1
            if index > MAX_ENTRIES:
                return broken(number, f"more than {MAX_ENTRIES} entries: archive the log and start a new one")
            if entry["seq"] != index:
                return broken(number, f"seq is {entry['seq']!r}, expected {index}")
            if entry["prev"] != previous:
                return broken(number, "prev does not match the hash of the entry before it (removed or reordered)")
            if entry["hash"] != entry_hash(entry):
                return broken(number, "hash does not match the entry's content (edited)")
            moment = entry_time(entry)
            if moment > limit:
                return broken(number, f"dated {entry['time']}, in the future: a future-dated entry is refused")
            if previous_time is not None and moment < previous_time:
                return broken(number, f"dated {entry['time']}, before the entry it follows (backdated)")
            if problem := flags.problem(entry):
                return broken(number, problem)
            flags.add(entry)
            valid.append(entry)
            previous, previous_time = entry["hash"], moment
    except AuditError as exc:
        return broken(exc.line or 1, str(exc))
    except OSError as exc:
        return broken(1, f"cannot be read ({exc.strerror or exc})")
    return Verification(len(valid), previous, valid=tuple(valid))


@dataclass(frozen=True)
class AnchorCheck:
    """The log compared with what a published manifest recorded of it."""

    ok: bool
    message: str


def compare_with_published(
    current: Verification, published_entries: int, published_head: str, published_hashes: Mapping[int, str]
) -> AnchorCheck:
    """Truncation (fewer entries than were published) and rewrites (an entry published with one
    hash now has another) relative to a published manifest; ``published_hashes`` (seq → hash) lets
    the first rewritten entry be named, the head alone only bounds it."""
    if current.entries < published_entries:
        return AnchorCheck(
            False,
            f"truncated: the log has {current.entries} verified entries, the published manifest recorded "
            f"{published_entries} (head {published_head[:12]})",
        )
    hashes = {entry["seq"]: entry["hash"] for entry in current.valid}
    for seq in sorted(published_hashes):
        if hashes.get(seq) != published_hashes[seq]:
            return AnchorCheck(False, f"rewritten: entry {seq} differs from the published entry {seq}")
    if published_entries and hashes.get(published_entries) != published_head:
        return AnchorCheck(
            False, f"rewritten: entry {published_entries} is not the published head {published_head[:12]}"
        )
    added = current.entries - published_entries
    return AnchorCheck(
        True,
        f"the published {published_entries} entries are intact"
        + (f"; {added} entr{'y' if added == 1 else 'ies'} added since" if added else ""),
    )


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
    evidence: Mapping[str, str] | None = None,
    sign: Callable[[bytes], str] | None = None,
    time: dt.datetime | None = None,
) -> dict[str, Any]:
    """Append one event to ``root/audit/log.jsonl`` and return it.

    ``concerns`` is the workspace-relative path of the file the event is about (e.g. the version's
    ``version.yml``); its SHA-256 goes into the entry. ``evidence`` (path → SHA-256) binds a
    sign-off to everything it decided on. ``sign`` turns the entry's bytes into an SSH signature.
    The log is locked while it is verified and extended; a broken chain is never extended, and an
    entry is never dated in the future.
    """
    if action not in ACTIONS:
        raise AuditError(f"unknown action {action!r}; one of {', '.join(ACTIONS)}")
    if not actor.strip():
        raise AuditError("an entry needs an actor (--by)")
    now = dt.datetime.now(tz=dt.UTC)
    moment = (time or now).astimezone(dt.UTC).replace(microsecond=0)
    if moment > now + FUTURE_TOLERANCE:
        raise AuditError(f"{moment:%Y-%m-%dT%H:%M:%SZ} is in the future: an entry is dated when it is written")
    subject: dict[str, Any] = {"model": model, "version": version}
    workspace = root.resolve()
    if concerns is not None:
        target = (root / concerns).resolve()
        if not target.is_relative_to(workspace) or not target.is_file():
            raise AuditError(f"{concerns}: no such file in the workspace")
        subject.update(file=concerns, sha256=file_digest(target))
    if evidence is not None:
        subject["evidence"] = dict(sorted(evidence.items()))
    path = root / LOG_PATH
    if (
        path.is_symlink()
        or path.parent.is_symlink()
        or not path.parent.resolve().is_relative_to(workspace)
        or (path.exists() and not path.is_file())
    ):
        raise AuditError(f"{LOG_PATH} must be a regular file inside the workspace, not a link, FIFO or device")
    created = [folder for folder in (path.parent,) if not folder.exists()] + ([] if path.exists() else [path])
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return _append_locked(path, now, moment, actor, action, subject, outcome, comment, details, sign)
    except BaseException:
        # a refused entry leaves the workspace as it was: no empty log or audit folder of ours remains
        for made in reversed(created):
            if made.is_file() and made.stat().st_size == 0:
                made.unlink()
            elif made.is_dir() and not any(made.iterdir()):
                made.rmdir()
        raise


def _append_locked(path, now, moment, actor, action, subject, outcome, comment, details, sign) -> dict[str, Any]:
    with path.open("a+", encoding="utf-8") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        state = verify(path, now=now)
        if not state.ok:
            raise AuditError(
                f"{LOG_PATH}:{state.broken_line}: {state.reason}; the log is not extended until this is resolved"
            )
        if state.valid and moment < entry_time(state.valid[-1]):
            raise AuditError(f"{moment:%Y-%m-%dT%H:%M:%SZ} is earlier than the last entry of the log")
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
        if sign is not None:
            entry["signature"] = sign(signed_message(entry))
        entry["hash"] = entry_hash(entry)
        problem = _shape_problem(entry)
        if problem:
            raise AuditError(f"the entry would be malformed: {problem}")
        ledger = FlagLedger()
        for earlier in state.valid:
            ledger.add(earlier)
        if problem := ledger.problem(entry):
            raise AuditError(f"the entry would break the chain: {problem}")
        handle.seek(0, os.SEEK_END)
        handle.write(canonical(entry).decode("utf-8") + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    return entry
