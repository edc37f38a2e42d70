"""What text counts as not yet written: ``TODO``, ``TBD``, ``n/a``, ``...`` and the like.

One definition for every reader: the policy rules fail a card field or a compared value that holds a
placeholder, the loader lists them (``modelgov validate``), and exports and pages flag them. Kept in
its own module because all of those use it and none of them needs the rules.
"""

from __future__ import annotations

import html
import re

from modelgov.text_safety import drawn

#: Text that marks a card field as not really written.
PLACEHOLDER = re.compile(
    r"^\W*(todo|tbd|tba|to be (done|written|completed|determined)|n/?a|none|lorem ipsum.*|xxx+|\.\.\.|-+|\?+)\W*$", re.I
)
#: Text that starts as a to-do (``TODO: what the model is for``, as ``modelgov init`` writes it).
TODO_PREFIX = re.compile(r"^\W*(todo|tbd)\b", re.I)


#: An HTML tag or comment: a card's Markdown may hold HTML, which a page shows as nothing.
_TAG = re.compile(r"<[^<>]*>")


def shown_text(text: str) -> str:
    """What a reader sees of ``text`` on a page: HTML tags and comments dropped, entities read
    (``&nbsp;``), compatibility forms folded (NFKC: a full-width letter is the letter, a no-break
    space a space), invisible characters removed (zero-width spaces and joiners, the soft hyphen,
    a byte-order mark, bidirectional marks, blank fillers), runs of space made one."""
    if text.isascii() and "<" not in text and "&" not in text:  # nothing to drop, read or fold
        return " ".join(text.split())
    return " ".join(drawn(html.unescape(_TAG.sub("", text))).split())


def is_placeholder(text: str) -> bool:
    """Text that stands in for what is still to be written: ``TODO``, ``TBD``, ``n/a``, ``...``, or
    anything starting ``TODO:`` / ``TBD``, read as a page shows it (:func:`shown_text`), so that
    ``TO\u00adDO`` is a to-do too; and text that is there but shows nothing (a zero-width space,
    ``<b></b>``, ``&nbsp;``). Empty text is not a placeholder: it is empty, which its readers say."""
    stripped = text.strip()
    if not stripped:
        return False
    seen = shown_text(stripped)
    return not seen or bool(PLACEHOLDER.match(seen) or TODO_PREFIX.match(seen))
