"""Names that a reader cannot tell apart: one key for each name as it looks.

A policy that names a column (``prohibited_features: [sex]``) is read by people who see names, not
code points. Whoever writes the workspace can give a column a name that looks like a prohibited one
and is not equal to it: ``sex`` with a zero-width space after it, a full-width ``ｓｅｘ``, a Cyrillic
``ѕ`` (U+0455) for the Latin ``s``, ``age‑band`` with a non-breaking hyphen for ``age_band``. A
comparison of the names as written, even without case, lets each of them through.

:func:`lookalike_key` gives every such spelling of a name the same key: compatibility forms folded
(NFKC), invisible characters removed, case folded, the Cyrillic and Greek letters that are drawn
like Latin ones read as those (the common part of Unicode's confusables, TR39, with one stroke
of Hebrew, Arabic and NKo), ``0`` as ``o``, a
small ``l``, a capital ``I``, a bar and ``1`` as one stroke, ``rn`` as ``m``, and spaces, dashes,
dots and underscores left out. Two names with the same key
may be different names; a check that must not be fooled treats them as the same and says so.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from modelgov.text_safety import drawn, visible

__all__ = ["lookalike_key", "lookalike_problem", "lookalike_sets", "looks_like", "spelt_out"]

#: Letters drawn like a Latin letter in common fonts (from Unicode's confusables.txt), and the digits
#: read as letters; applied before case is folded and again after it.
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
        "β": "b", "ε": "e", "η": "n", "μ": "u", "ζ": "z",
        "ϳ": "j", "Ϝ": "F",  # yot, digamma (the lunate sigmas: _BEFORE_NFKC)
        "𝈓": "F",  # Greek vocal notation symbol-20
        # Armenian, Lisu, Latin small capitals
        "օ": "o", "ս": "u", "ո": "n", "ꓝ": "F", "ꓟ": "M", "ꓮ": "A", "ꓐ": "B", "ꓚ": "C", "ꓓ": "D", "ꓰ": "E",
        "ꓖ": "G", "ꓧ": "H", "ꓲ": "I", "ꓙ": "J", "ꓗ": "K", "ꓡ": "L", "ꓠ": "N", "ꓳ": "O", "ꓑ": "P",
        "ꓣ": "R", "ꓢ": "S", "ꓔ": "T", "ꓴ": "U", "ꓦ": "V", "ꓫ": "X", "ꓬ": "Y", "ꓜ": "Z",
        "ꜰ": "f", "ɪ": "i", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ʜ": "h", "ᴊ": "j", "ᴋ": "k", "ʟ": "l",
        "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ʀ": "r", "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w",
        "ʏ": "y", "ᴢ": "z",
        # Latin letters drawn like others
        "ı": "i", "ɡ": "g", "ƒ": "f", "ℓ": "l", "ɑ": "a", "ǀ": "l",
        # one stroke and one ring in scripts written right to left (Unicode's confusables): Hebrew vav
        # and paseq, samekh; Arabic alef and the Arabic-Indic and Persian ones, heh and the
        # Arabic-Indic five; NKo a and zero. At most one letter of a script for each Latin letter, so
        # that no two words of that script get one key (final nun, also a stroke, is left out: בן
        # and בו are two words; so is the Kurdish ە, drawn like heh: هەر has both)
        "ו": "l", "׀": "l", "ס": "o", "ا": "l", "١": "l", "۱": "l", "ه": "o", "٥": "o", "ߊ": "l", "߀": "o",
        # digits read as letters
        "0": "o", "1": "l",
    }
)  # fmt: skip

#: Letters drawn like a Latin one that NFKC would turn into another letter first (the lunate sigmas
#: into σ and Σ): read as Latin before it. Only these: a letter read as Latin before NFKC could be
#: composed with a mark that follows it into another letter (ѕ and an acute into ś).
_BEFORE_NFKC = str.maketrans({"ϲ": "c", "Ϲ": "C"})

#: After case is folded, a small l, a capital I (now i) and a bar are one letter: ``reIigion`` is
#: drawn as ``religion`` in most fonts, as Unicode's confusables has it.
_ONE_STROKE = str.maketrans({"l": "i", "|": "i"})

#: Left out of a key: what separates the words of a name (spaces, dots, and every dash and connector
#: of any script, by category, below: the Hebrew maqaf, the Armenian hyphen, the tie ‿), lines drawn
#: like one (the minus sign, the modifier low macron, the hyphen bullet, box-drawing and extension
#: lines), and the lines that stretch a word: the Arabic tatweel (a kashida inside an Arabic word,
#: drawn as a dash between Latin letters) and the NKo lajanyalan (drawn as a low line). Not the marks
#: that are letters: the Japanese long vowel ー (ビール is not ビル), the ideograph 一, the Hangul ㅡ.
_SEPARATORS = frozenset(" \t.·−\u02cd\u2043\u2500\u23af\u0640\u07fa")
_SEPARATOR_CATEGORIES = frozenset({"Pd", "Pc"})

#: A number as a table writes one, in ASCII: two such names are two numbers, never one respelt.
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?", re.ASCII)


def _squeezed(text: str) -> str:
    kept = (c for c in text if c not in _SEPARATORS and not c.isspace())
    return "".join(c for c in kept if unicodedata.category(c) not in _SEPARATOR_CATEGORIES).replace("rn", "m")


def lookalike_key(name: str) -> str:
    """The key of ``name`` as it looks; names with one key are taken for one another.

    Compatibility forms folded (NFKC: full-width letters, ligatures), invisible characters dropped,
    case folded, Cyrillic and Greek letters drawn like Latin ones read as those, ``0`` as ``o``, a
    small ``l``, a capital ``I``, a bar and ``1`` as one stroke, ``rn`` as ``m``, and spaces, dashes,
    dots and underscores left out. Equal for ``sex``, ``SEX``, ``ｓｅｘ``, ``ѕex`` (Cyrillic),
    ``sex\u200b`` and ``s-e-x``; for ``age_band``, ``Age band`` and ``age‑band``; for ``religion``
    and ``reIigion``."""
    # read as Latin before compatibility forms are folded where NFKC would make another letter of it
    # (the lunate sigma ϲ, drawn as a c, into σ), before case is folded (Greek Μ is M, not μ) and after (Cyrillic У is у, then y);
    # a Turkish İ folds to i with a dot above, the dot an i has already (as a dotless ı is read as i)
    folded = drawn(name.translate(_BEFORE_NFKC)).translate(_AS_LATIN).casefold().replace("i\u0307", "i")
    folded = folded.translate(_AS_LATIN).translate(_ONE_STROKE)
    return _squeezed(folded)


def looks_like(name: str, other: str) -> bool:
    """Whether a reader could take ``name`` for ``other``."""
    return lookalike_key(name) == lookalike_key(other)


def lookalike_sets(names: Iterable[str]) -> list[list[str]]:
    """The sets of two or more distinct ``names`` a reader could take for one another (one key),
    each sorted, in order. A set made only of plain ASCII numbers is
    left out: ``1.5`` and ``15`` are two numbers, not one respelt; ``1`` and ``１`` or ``1 `` are not."""
    distinct = sorted(set(names))
    parent = list(range(len(distinct)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[str, int] = {}
    for index, name in enumerate(distinct):
        seen = first.setdefault(lookalike_key(name), index)
        parent[root(index)] = root(seen)
    sets: dict[int, list[str]] = {}
    for index, name in enumerate(distinct):
        sets.setdefault(root(index), []).append(name)
    alike = [same for same in sets.values() if len(same) > 1 and not all(_PLAIN_NUMBER.fullmatch(n) for n in same)]
    return sorted(alike)


def lookalike_problem(names: Iterable[str]) -> str | None:
    """What to say of a sensitive column whose groups are ``names``, when some look alike: the sets,
    each name quoted with its invisible characters shown; ``None`` when every group reads as itself.
    One message for the evaluation table, the production log and the shadow test's log."""
    alike = lookalike_sets(names)
    if not alike:
        return None
    shown = "; ".join(", ".join(f"'{visible(name, keep='')}'" for name in same) for same in alike[:5])
    return (
        f"{len(alike)} set(s) of groups look alike but are different values ({shown}): they differ only in case, "
        "spacing, width, invisible characters or letters drawn alike, and would be measured as separate groups; "
        "write each group one way"
    )


def spelt_out(name: str, limit: int = 3) -> str:
    """The characters of ``name`` that are not plain ASCII, by their Unicode names (``U+0430 CYRILLIC
    SMALL LETTER A``): what a page must say of a name that reads as another, since it looks the same."""
    odd = [c for c in dict.fromkeys(name) if not c.isascii()]
    named = [f"U+{ord(c):04X} {unicodedata.name(c, 'unnamed')}" for c in odd[:limit]]
    return ", ".join(named) + (f" and {len(odd) - limit} more" if len(odd) > limit else "")
