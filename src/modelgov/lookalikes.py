"""Names that a reader cannot tell apart: one key for each name as it looks.

A policy that names a column (``prohibited_features: [sex]``) is read by people who see names, not
code points. Whoever writes the workspace can give a column a name that looks like a prohibited one
and is not equal to it: ``sex`` with a zero-width space after it, a full-width ``ｓｅｘ``, a Cyrillic
``ѕ`` (U+0455) for the Latin ``s``, ``age‑band`` with a non-breaking hyphen for ``age_band``. A
comparison of the names as written, even without case, lets each of them through.

:func:`lookalike_key` gives every such spelling of a name the same key: compatibility forms folded
(NFKC), invisible characters removed, case folded, the Cyrillic and Greek letters that are drawn
like Latin ones read as those (the common part of Unicode's confusables, TR39), ``0`` and ``1`` as
``o`` and ``l``, and spaces, dashes, dots and underscores left out. Two names with the same key
may be different names; a check that must not be fooled treats them as the same and says so.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

__all__ = ["lookalike_key", "lookalike_sets"]

#: Letters drawn like a Latin letter in common fonts (from Unicode's confusables.txt), and the digits
#: read as letters; mapped before case is folded, so both cases are listed.
_AS_LATIN = str.maketrans(
    {
        # Cyrillic
        "а": "a", "в": "b", "е": "e", "ё": "e", "һ": "h", "і": "i", "ї": "i", "ј": "j", "к": "k", "ӏ": "l",
        "м": "m", "н": "h", "о": "o", "р": "p", "ԛ": "q", "ѕ": "s", "т": "t", "у": "y", "ԝ": "w",
        "х": "x", "ԁ": "d", "с": "c", "ү": "y", "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M",
        "Н": "H", "О": "O", "Р": "P", "С": "C", "Т": "T", "Х": "X", "Ѕ": "S", "І": "I", "Ј": "J",
        "Ү": "Y", "Ԛ": "Q", "Ԝ": "W", "Ӏ": "l",
        # Greek
        "α": "a", "ο": "o", "ν": "v", "ρ": "p", "τ": "t", "ι": "i", "κ": "k", "υ": "u", "χ": "x",
        "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N",
        "Ο": "O", "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X",
        # Latin letters drawn like others
        "ı": "i", "ɡ": "g", "ƒ": "f", "ℓ": "l", "ɑ": "a", "ǀ": "l",
        # digits read as letters
        "0": "o", "1": "l",
    }
)  # fmt: skip

#: Left out of a key: what separates the words of a name (spaces, dashes, dots, underscores).
_SEPARATORS = frozenset(" \t_-.·‐‑‒–—―−")


def lookalike_key(name: str) -> str:
    """The key of ``name`` as it looks: equal for ``sex``, ``SEX``, ``ｓｅｘ``, ``ѕex`` (Cyrillic),
    ``sex\\u200b`` and ``s-e-x``; equal for ``age_band``, ``Age band`` and ``age‑band``."""
    folded = unicodedata.normalize("NFKC", name)
    visible = "".join(c for c in folded if unicodedata.category(c) != "Cf")
    latin = visible.translate(_AS_LATIN).casefold()
    return "".join(c for c in latin if c not in _SEPARATORS and not c.isspace())


def lookalike_sets(names: Iterable[str]) -> list[list[str]]:
    """The sets of two or more distinct ``names`` that share a key, each sorted, in order. Names that
    read as numbers are left out: a number is written one way (``1.5`` and ``15`` are two numbers,
    not one respelt)."""
    by_key: dict[str, set[str]] = {}
    for name in names:
        if not _is_number(name):
            by_key.setdefault(lookalike_key(name), set()).add(name)
    return sorted(sorted(same) for same in by_key.values() if len(same) > 1)


def _is_number(name: str) -> bool:
    try:
        float(name)
    except ValueError:
        return False
    return True
