"""How flags from the business read on the pages: what a flag is, what one is about, and which are
open where (the version's card and monitoring page, the inventory and the compliance overview)."""

from __future__ import annotations

from dataclasses import dataclass

from modelgov.manifest import Flag, Manifest, Model, ModelVersion

#: One plain sentence for readers who have never met a flag.
MEANING = (
    "A flag is a note from someone who uses this model's results that they do not match what the business "
    "expects; it stays open until someone records what was found and done."
)
#: Record ids named in full before the rest are counted.
SHOWN_RECORDS = 10


def scope_words(flag: Flag) -> str:
    """What the flag is about: ``the version as a whole``, ``2026-10-05 to 2026-10-11``, ``records a, b``."""
    if flag.scope == "window" and flag.start:
        if flag.end and flag.end != flag.start:
            return f"{flag.start} to {flag.end}"
        return f"the window starting {flag.start}" if flag.end is None else flag.start
    if flag.scope == "records":
        shown = ", ".join(flag.records[:SHOWN_RECORDS])
        more = len(flag.records) - SHOWN_RECORDS
        noun = "record" if len(flag.records) == 1 else "records"
        return f"{noun} {shown}" + (f" and {more} more" if more > 0 else "")
    return "the version as a whole"


def days_words(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def open_flags(version: ModelVersion) -> list[Flag]:
    """Open flags, oldest first."""
    return sorted((f for f in version.flags if f.state == "open"), key=lambda f: (-f.age_days, f.entry))


def resolved_flags(version: ModelVersion) -> list[Flag]:
    """Resolved flags, the latest resolved first."""
    done = [f for f in version.flags if f.state == "resolved"]
    return sorted(done, key=lambda f: -(f.resolution.entry if f.resolution else f.entry))


def has_flags(manifest: Manifest) -> bool:
    """Whether any version has a flag, open or resolved (the inventory then gets its column)."""
    return any(version.flags for model in manifest.models for version in model.versions)


@dataclass(frozen=True)
class OpenFlag:
    model: Model
    version: ModelVersion
    flag: Flag


def all_open(manifest: Manifest) -> list[OpenFlag]:
    """Every open flag of the site, the oldest first."""
    found = [OpenFlag(m, v, f) for m in manifest.models for v in m.versions for f in v.flags if f.state == "open"]
    return sorted(found, key=lambda item: (-item.flag.age_days, item.model.id, item.flag.entry))


def other_versions_open(model: Model, shown: ModelVersion | None) -> int:
    """Open flags on the model's versions other than the one the inventory shows."""
    return sum(
        1
        for version in model.versions
        if shown is None or version.version != shown.version
        for flag in version.flags
        if flag.state == "open"
    )
