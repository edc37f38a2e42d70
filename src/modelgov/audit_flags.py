"""What a flag from the business is in the audit log: its shape, its id, and the chain's rule for
closing one.

A flag says that a model version's results do not match what the business expects. It is an audit
entry with ``action: flag`` and ``outcome: open``: the version in ``subject``, what it is about in
``details.scope`` (the version as a whole, a window of dates, or some records by id) and the text
in ``comment``. It is closed by a second entry with ``outcome: resolved``, naming the flag's id in
``details.flag`` and the note in ``comment``.

A flag's id is the first :data:`ID_LENGTH` hex digits of its entry's hash: short enough to type,
fixed once the entry is written, and impossible to choose without rewriting the entry. The chain
rule lives here, not in the commands, because a log is also edited by hand: a resolve that names no
earlier flag, a flag of another version, or a flag already closed breaks the chain at its line, just
as an edited hash does, so a forged resolve can never close a flag quietly.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

#: Hex digits of the entry's hash that make a flag's id.
ID_LENGTH = 12
OUTCOMES = ("open", "resolved")
SCOPES = ("version", "window", "records")
#: Records one flag may name (the rest belong in a ticket the text links to).
MAX_RECORDS = 1000
_ID = re.compile(rf"^[0-9a-f]{{{ID_LENGTH}}}\Z")
_DATE = re.compile(r"^\d{4}-\d\d-\d\d\Z")


def flag_id(entry: Mapping[str, Any]) -> str:
    """The id of the flag an ``open`` entry records."""
    return str(entry["hash"])[:ID_LENGTH]


def parse_date(text: str) -> dt.date | None:
    """A ``YYYY-MM-DD`` date, or None when ``text`` is not one (a real calendar date)."""
    if not isinstance(text, str) or not _DATE.match(text):
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        return None


def shape_problem(entry: Mapping[str, Any]) -> str | None:
    """Why a ``flag`` entry is malformed on its own, or None."""
    if not isinstance(entry["subject"].get("version"), str):
        return "a flag needs subject.version"
    if entry["outcome"] not in OUTCOMES:
        return f"a flag's outcome must be one of {', '.join(OUTCOMES)}"
    comment = entry["comment"]
    if not isinstance(comment, str) or not comment.strip():
        return "a flag needs its text (or a resolve its note) in comment"
    details = entry["details"]
    if entry["outcome"] == "resolved":
        if set(details) != {"flag"} or not isinstance(details["flag"], str) or not _ID.match(details["flag"]):
            return f"a resolve names the flag it closes in details.flag ({ID_LENGTH} hex digits), and nothing else"
        return None
    return scope_problem(details)


def scope_problem(details: Mapping[str, Any]) -> str | None:
    """Why ``details`` is not the scope of a flag, or None."""
    scope = details.get("scope")
    if scope == "version":
        return None if set(details) == {"scope"} else "a flag on the whole version has only details.scope"
    if scope == "window":
        if set(details) != {"scope", "start", "end"}:
            return "a flag on a window has details.scope, start and end"
        start = parse_date(details["start"])
        end = parse_date(details["end"]) if details["end"] is not None else None
        if start is None or (details["end"] is not None and end is None):
            return "a flag's window is given by dates like 2026-10-05"
        if end is not None and end < start:
            return "a flag's window ends before it starts"
        return None
    if scope == "records":
        records = details.get("records")
        if set(details) != {"scope", "records"} or not isinstance(records, list) or not records:
            return "a flag on records lists their ids in details.records"
        if len(records) > MAX_RECORDS:
            return f"a flag names at most {MAX_RECORDS} records"
        if not all(isinstance(r, str) and r.strip() and r == r.strip() for r in records):
            return "a flag's record ids are non-empty text"
        if len(set(records)) != len(records):
            return "a flag names a record twice"
        return None
    return f"a flag's details.scope is one of {', '.join(SCOPES)}"


@dataclass
class FlagLedger:
    """The flags of a log read so far, in order: what a resolve is checked against."""

    flags: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → the open entry
    resolved: dict[str, dict[str, Any]] = field(default_factory=dict)  # id → the resolve entry

    def problem(self, entry: Mapping[str, Any]) -> str | None:
        """Why ``entry`` cannot follow the flags recorded so far, or None (only flag entries are checked)."""
        if entry["action"] != "flag":
            return None
        subject = entry["subject"]
        if entry["outcome"] == "open":
            if flag_id(entry) in self.flags:
                return f"flag id {flag_id(entry)} is already used by an earlier flag"
            return None
        target = entry["details"]["flag"]
        flag = self.flags.get(target)
        if flag is None:
            return f"resolves flag {target}, which no earlier entry raised"
        raised = flag["subject"]
        if (raised["model"], raised["version"]) != (subject["model"], subject["version"]):
            return (
                f"resolves flag {target} as one of {subject['model']} {subject['version']}, "
                f"but it was raised on {raised['model']} {raised['version']}"
            )
        if target in self.resolved:
            return f"resolves flag {target}, already resolved by entry {self.resolved[target]['seq']}"
        return None

    def add(self, entry: Mapping[str, Any]) -> None:
        """Record a verified entry."""
        if entry["action"] != "flag":
            return
        if entry["outcome"] == "open":
            self.flags[flag_id(entry)] = dict(entry)
        else:
            self.resolved[entry["details"]["flag"]] = dict(entry)
