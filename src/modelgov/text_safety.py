"""Invisible and terminal-controlling characters in user text, made visible.

Every string modelgov shows comes, directly or not, from a workspace that anyone who can open a pull
request writes. Some characters in such a string do not show as themselves:

* C0 and C1 control characters (``\\x1b`` starts an ANSI escape sequence that moves the cursor,
  repaints a CI log or sets a terminal's title; ``\\r`` overwrites the line; ``\\x00`` truncates);
* bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069), which reorder what is shown
  so that the text a reviewer reads is not the text that is there ("Trojan Source");
* the Unicode line and paragraph separators (U+2028, U+2029), which some viewers treat as line
  breaks where nothing else does;
* characters that take no space or show as blank: zero-width spaces and joiners, left-to-right and
  right-to-left marks (U+200B–U+200F), the word joiner and invisible operators (U+2060–U+2064), the
  byte-order mark (U+FEFF), the soft hyphen (U+00AD), the Arabic letter mark (U+061C), the
  Mongolian vowel separator (U+180E), the combining grapheme joiner (U+034F), the variation
  selectors (U+FE00–U+FE0F), the Khmer inherent vowels (U+17B4, U+17B5), the Braille blank
  (U+2800) and the Hangul fillers. ``F\u200b`` beside ``F`` would
  otherwise be two groups that read as one.

:func:`visible` replaces each of them by an escape a person can read (``\\x1b``, ``\\u202e``), so
whoever reads a page, a chart or a log sees that something was there and what it was, and nothing
hidden acts on their screen. It is the one helper for this: the site's text filters, the charts,
the lineage drawing, every line the command line prints, and the policy results (CSV, JUnit) use it.

:func:`spreadsheet_cell` does the same for a CSV cell and also keeps a spreadsheet from reading
the cell as a formula.
"""

from __future__ import annotations

import re
import unicodedata

__all__ = ["CONTROL_CHARACTERS", "drawn", "spreadsheet_cell", "visible"]

#: What :func:`visible` replaces: C0 controls, DEL, C1 controls, the line and paragraph separators,
#: the bidirectional marks, embeddings, overrides and isolates, and the characters that show as nothing.
CONTROL_CHARACTERS = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f\u2028\u2029"
    "\u202a-\u202e\u2060-\u2064\u2066-\u2069\u2800\u3164\ufe00-\ufe0f\ufeff\uffa0]"
)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(value: object, keep: str = "\n\t") -> str:
    """``value`` as a string with every control character outside ``keep`` shown as an escape.

    ``keep`` lists the controls that mean something where the text goes: a line break and a tab in
    a terminal message or a Markdown block; nothing (``keep=""``) for one line of a table or a
    chart label. A carriage return is never kept: it would let text overwrite what precedes it.
    """
    text = str(value)
    if not CONTROL_CHARACTERS.search(text):
        return text
    kept = set(keep) - {"\r"}
    return CONTROL_CHARACTERS.sub(lambda m: m.group() if m.group() in kept else _escape(m), text)


#: Characters drawn as a blank that are neither format characters (Cf) nor marks (Mn): the Hangul
#: fillers and the Braille blank.
_BLANKS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


#: The non-spacing marks Unicode makes default-ignorable (DerivedCoreProperties.txt,
#: Default_Ignorable_Code_Point): drawn as nothing. The combining grapheme joiner, the Khmer inherent
#: vowels, the Mongolian free variation selectors and the variation selectors.
_IGNORABLE_MARKS = re.compile("[\u034f\u17b4\u17b5\u180b-\u180d\u180f\ufe00-\ufe0f\U000e0100-\U000e01ef]")

#: Scripts written with marks: a non-spacing mark on one of their letters is part of the spelling
#: (a Thai tone mark, a Devanagari vowel sign, Hebrew and Arabic points) and is kept. On any other
#: letter (Latin, Greek, Cyrillic, and the Lisu or Cherokee letters drawn like Latin ones), a digit, a
#: sign or nothing, a mark NFKC cannot compose is left out: there it is an addition a reader does not
#: look for, and some draw over what is already there (a dot above an ``i``, a stroke over a hyphen
#: or an underscore, a slash over an ``x``). A list of the scripts that keep marks, not of those that
#: do not, so that a script nobody thought of reads as it did before marks were kept anywhere.
_SCRIPTS_SPELT_WITH_MARKS = tuple(
    f"{script} "
    for script in (
        "THAI", "LAO", "TIBETAN", "MYANMAR", "KHMER", "DEVANAGARI", "BENGALI", "GURMUKHI", "GUJARATI",
        "ORIYA", "TAMIL", "TELUGU", "KANNADA", "MALAYALAM", "SINHALA", "HEBREW", "ARABIC", "SYRIAC",
        "THAANA", "NKO", "JAVANESE", "BALINESE", "SUNDANESE", "TAI THAM", "TAI VIET", "NEW TAI LUE",
        "BUGINESE", "LEPCHA", "LIMBU", "CHAM", "BATAK", "TAGALOG", "SAMARITAN", "MANDAIC",
    )
)  # fmt: skip


def _spells_with_marks(base: str | None) -> bool:
    """Whether a non-spacing mark on ``base`` is part of how the word is spelt: ``base`` is a letter
    of a script written with marks (:data:`_SCRIPTS_SPELT_WITH_MARKS`)."""
    return (
        base is not None
        and unicodedata.category(base).startswith("L")
        and unicodedata.name(base, "").startswith(_SCRIPTS_SPELT_WITH_MARKS)
    )


def drawn(text: str) -> str:
    """``text`` as it is drawn: compatibility forms folded (NFKC: a full-width letter is the letter,
    a no-break space a space), and what takes no place of its own left out: format characters
    (zero-width spaces and joiners, the left-to-right and right-to-left marks, the byte-order mark,
    the soft hyphen), the non-spacing marks Unicode makes ignorable (the grapheme joiner, variation
    selectors) and blank fillers. The one reading of "what a reader sees" for the checks that
    compare text as it looks.

    Other non-spacing marks are kept where they spell the word: on a letter of a script written
    with marks (:data:`_SCRIPTS_SPELT_WITH_MARKS`; the letter they sit on, past any spacing vowel
    sign or invisible character), so Thai ``ป่า`` and ``ปา``, or Devanagari ``कुम`` and ``कम``, stay
    two words. A run of such marks is drawn once each and in no order: a mark typed twice is drawn
    on itself, and Thai's vowel and tone marks typed in either order draw the same. On any
    other letter a mark NFKC cannot compose is left out, as is one on a digit, a sign or nothing:
    ``religion`` with a dot above its ``i`` draws as ``religion`` (an ``i`` has its dot already),
    ``age_band`` with a low line on its underscore as ``age_band``. Accents NFKC composes (``ṣ``,
    ``ü``) are letters of their own, as before."""
    out: list[str] = []
    marks: set[str] = set()  # the run of kept marks on the current letter, drawn in no order
    base: str | None = None
    for c in unicodedata.normalize("NFKC", text):
        kind = unicodedata.category(c)
        if kind == "Cf" or c in _BLANKS or _IGNORABLE_MARKS.match(c):
            continue
        if kind == "Mn":
            if _spells_with_marks(base):
                marks.add(c)
            continue
        out.extend(sorted(marks))
        marks.clear()
        if not kind.startswith("M"):  # a spacing or enclosing mark leaves the letter before it the base
            base = c
        out.append(c)
    out.extend(sorted(marks))
    return "".join(out)


#: A spreadsheet reads a cell starting with one of these as a formula (OWASP, "CSV Injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def spreadsheet_cell(value: object) -> object:
    """A value for a CSV cell that a spreadsheet opens as data, never as a formula.

    A string starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
    ``'`` (OWASP's advice: ``=HYPERLINK(…)`` in a rule title would otherwise become a live formula
    in the reviewer's spreadsheet); its control characters are shown as escapes. Numbers stay
    numbers, including negative ones written as strings (``-0.03`` is a value, not a formula).
    """
    if not isinstance(value, str):
        return value
    text = visible(value, keep="\n\t")
    if text.startswith(_FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text
