"""Escaping and number formatting for the Markdown that the site templates write.

The templates produce Markdown, not HTML, so Jinja's HTML autoescaping is off and every user-written
string goes through one of these filters instead:

* :func:`text` for a short inline value (a table cell, a name): nothing in it may become HTML,
  a link, emphasis or a table column, and it stays on one line.
* :func:`md` for a block the user wrote *as* Markdown (a card section): rendered and sanitised by
  :mod:`.usertext` (formatting kept; script, event handlers, images and ``javascript:`` links
  removed, and the removal stated), so a card cannot run script in a reviewer's browser.

Each user string goes through exactly one of these, once. What they return is *inert* Markdown:
every character that Markdown syntax uses is a character reference, so when MkDocs renders the page
(a second Markdown renderer) it finds nothing to turn into a link, an image, emphasis, a table
column or an attribute list. A filter's output is never passed to another filter.
* :func:`code` for paths, hashes and column names, shown in a monospace span.

Numbers go through :func:`num` / :func:`pct`. A metric that is undefined for the data (``None``)
is shown as the word *undefined* with a footnote marker, never as 0: a reviewer must not mistake
"could not be computed" for "perfect" or "none".
"""

from __future__ import annotations

import hashlib
import math
import re

from modelgov.render import usertext
from modelgov.text_safety import visible

__all__ = [
    "UNDEFINED_MARKER",
    "code",
    "count",
    "filesize",
    "interval",
    "md",
    "num",
    "pct",
    "plain",
    "safe_url",
    "signed",
    "slug",
    "text",
]

#: What an undefined number renders as. Pages that contain the footnote reference get the
#: footnote text appended (see ``pages``), so every "undefined" on a page is explained.
UNDEFINED_MARKER = "[^undefined]"
_UNDEFINED = '<span class="mg-undefined">undefined</span>' + UNDEFINED_MARKER

# Characters with a meaning in HTML or in (Python-)Markdown inline syntax, replaced by numeric
# character references: the browser shows the character, Markdown sees no syntax.
_INLINE_SPECIAL = "&<>\"'\\`*_[]{}|#~^"
_INLINE_TABLE = {ord(c): f"&#{ord(c)};" for c in _INLINE_SPECIAL}
_LINE_START = re.compile(r"^([-+=>])|^(\d+)([.)])")
_WHITESPACE_RUN = re.compile(r"\s+")

_SAFE_SLUG = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,79}\Z")
_RESERVED_SLUGS = frozenset({"index"})  # datasets/index.md is the dataset list


#: The longest user text shown in an inline position (a table cell, a label). MkDocs' Markdown pass
#: takes time quadratic in the number of escaped characters on one line (40 kB of ``*_`` took 1 s,
#: 80 kB 4 s), so a longer value is cut there, visibly, with the number of characters left out; the
#: whole text stays in manifest.json and in the workspace file it came from. Blocks (``md``) are not
#: cut: they reach MkDocs as raw HTML, which it does not parse.
INLINE_LIMIT = 4_000


def _cut(one_line: str) -> tuple[str, str]:
    """(the shown part, a visible note of what was cut) for an inline value (already made visible).
    A subdivision flag cut through leaves tag characters without their flag: they are escaped."""
    if len(one_line) <= INLINE_LIMIT:
        return one_line, ""
    left = len(one_line) - INLINE_LIMIT
    shown = visible(one_line[:INLINE_LIMIT], keep="")
    return shown, f" … [{left:,} more characters, not shown; the full text is in manifest.json]"


def plain(value: object) -> str:
    """A user string as one line of plain text: whitespace collapsed, and control characters and
    bidirectional overrides shown as escapes (``\\x1b``, ``\\u202e``), so a reviewer sees that they
    are there and they cannot reorder or hide what is shown (see :mod:`modelgov.text_safety`).

    Used for titles handed to the site builder, which escapes them for its own output format, and by
    every other filter here.
    """
    return _WHITESPACE_RUN.sub(" ", visible(value, keep="\t\n")).strip()


def text(value: object) -> str:
    """Escape a short user string for an inline Markdown position (table cell, label, link text)."""
    one_line, cut = _cut(plain(value))
    escaped = one_line.translate(_INLINE_TABLE) + cut.translate(_INLINE_TABLE)
    # A value at the start of a line must not become a list item, heading or quote.
    return _LINE_START.sub(lambda m: f"&#{ord(m.group(1))};" if m.group(1) else f"{m.group(2)}&#46;", escaped)


def code(value: object) -> str:
    """A user string (path, hash, column name) as inline monospace text, escaped like :func:`text`."""
    return f"<code>{text(value)}</code>"


# --------------------------------------------------------------------------- user Markdown


def md(value: object) -> str:
    """A user-written Markdown block, rendered and sanitised (see :mod:`.usertext`)."""
    if value is None:
        return ""
    source = visible(str(value).replace("\r\n", "\n").replace("\r", "\n"), keep="\n\t").strip("\n")
    return usertext.markdown_block(source) if source.strip() else ""


def md_inline(value: object) -> str:
    """A short user Markdown text for an inline position (a table cell), on one line."""
    if value is None:
        return ""
    source, cut = _cut(plain(value))
    return (usertext.markdown_inline(source) + cut.translate(_INLINE_TABLE)) if source else ""


# --------------------------------------------------------------------------- links and paths


def safe_url(value: object) -> str | None:
    """An http(s) URL fit for a Markdown link destination, or None if ``value`` is not one."""
    candidate = plain(value)
    if not re.match(r"^https?://[^\s<>\"'`\\]+$", candidate, re.I):
        return None
    return candidate.replace("(", "%28").replace(")", "%29").replace("|", "%7C")


def slug(value: object) -> str:
    """A file-name-safe path segment for an id; unusual ids get a short hash so they stay unique.

    Ids come from user files, so they never reach a path unchecked: no ``..``, no separators.
    """
    raw = str(value)
    if _SAFE_SLUG.match(raw) and raw.lower() not in _RESERVED_SLUGS and not raw.lower().endswith(".md"):
        return raw
    readable = re.sub(r"[^A-Za-z0-9._-]+", "-", raw).strip("-._")[:60] or "id"
    digest = hashlib.sha256(raw.encode("utf-8")).hexdigest()[:10]
    return f"{readable}-{digest}"


# --------------------------------------------------------------------------- numbers


def _is_undefined(value: object) -> bool:
    return value is None or (isinstance(value, float) and not math.isfinite(value))


def num(value: object, digits: int = 3) -> str:
    """A metric value with ``digits`` decimals (integers with thousands separators)."""
    if _is_undefined(value):
        return _UNDEFINED
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    formatted = f"{float(value):,.{digits}f}"  # type: ignore[arg-type]
    if formatted.startswith("-") and float(formatted.replace(",", "")) == 0:
        formatted = formatted[1:]
    return formatted


def pct(value: object, digits: int = 1) -> str:
    """A share (0–1) as a percentage."""
    if _is_undefined(value):
        return _UNDEFINED
    return f"{float(value) * 100:.{digits}f}%"  # type: ignore[arg-type]


def signed(value: object, digits: int = 3) -> str:
    """A difference with its sign always shown (``+0.028``, ``-0.012``, ``0.000``). A difference that
    is not zero but would round to it gets the digits it needs (``+0.0004``): an interval bound shown
    as 0.000 next to the verdict "better" would read as a contradiction."""
    if not _is_undefined(value) and not isinstance(value, bool) and isinstance(value, int | float):
        magnitude = abs(float(value))
        if 0 < magnitude < 0.5 * 10.0**-digits:
            digits = min(9, -math.floor(math.log10(magnitude)))
    shown = num(value, digits)
    if not _is_undefined(value) and float(shown.replace(",", "")) > 0:  # type: ignore[arg-type]
        return "+" + shown
    return shown


def interval(value: object, digits: int = 3, differences: bool = False) -> str:
    """A confidence interval (anything with ``low``, ``high`` and ``defined_share``) as
    ``0.741 – 0.779``; bounds of ``None`` show as *undefined* (never 0). When the metric was
    undefined in some resamples the share where it was defined is added, as it qualifies the bounds.
    ``None`` (no interval was computed) shows as *not computed*.

    ``differences=True`` is for intervals of a difference, which may straddle zero: the bounds
    carry their sign and are joined by "to" (``-0.012 to +0.031``), which reads unambiguously.
    """
    if value is None:
        return "not computed"
    low, high = getattr(value, "low", None), getattr(value, "high", None)
    share = float(getattr(value, "defined_share", 1.0))
    if _is_undefined(low) or _is_undefined(high):
        shown = _UNDEFINED
    elif differences:
        shown = f'<span class="mg-interval">{signed(low, digits)} to {signed(high, digits)}</span>'
    else:
        shown = f'<span class="mg-interval">{num(low, digits)} – {num(high, digits)}</span>'  # kept on one line
    if share < 1.0:
        shown += f" (defined in {math.floor(share * 1000) / 10:g}% of resamples)"  # never rounds up to 100%
    return shown


def count(value: object) -> str:
    """A count with thousands separators; ``None`` means "not recorded"."""
    if value is None:
        return "not recorded"
    return f"{int(value):,}"  # type: ignore[call-overload]


def filesize(value: int) -> str:
    """Bytes in a human unit, with the exact number kept alongside for auditors."""
    size = float(value)
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            break
        size /= 1000
    if unit == "bytes":
        return f"{value:,} bytes"
    return f"{size:.1f} {unit} ({value:,} bytes)"
