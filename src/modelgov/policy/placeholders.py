"""What text counts as not yet written: ``TODO``, ``TBD``, ``n/a``, ``...`` and the like.

One definition for every reader: the policy rules fail a card field or a compared value that holds a
placeholder, the loader lists them (``modelgov validate``), and exports and pages flag them. Kept in
its own module because all of those use it and none of them needs the rules.
"""

from __future__ import annotations

import re

#: Text that marks a card field as not really written.
PLACEHOLDER = re.compile(
    r"^\W*(todo|tbd|tba|to be (done|written|completed|determined)|n/?a|none|lorem ipsum.*|xxx+|\.\.\.|-+|\?+)\W*$", re.I
)
#: Text that starts as a to-do (``TODO: what the model is for``, as ``modelgov init`` writes it).
TODO_PREFIX = re.compile(r"^\W*(todo|tbd)\b", re.I)


def is_placeholder(text: str) -> bool:
    """Text that stands in for what is still to be written: ``TODO``, ``TBD``, ``n/a``, ``...``, or
    anything starting ``TODO:`` / ``TBD``."""
    stripped = text.strip()
    return bool(PLACEHOLDER.match(stripped) or TODO_PREFIX.match(stripped))
