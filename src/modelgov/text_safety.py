"""Invisible and terminal-controlling characters in user text, made visible.

Every string modelgov shows comes, directly or not, from a workspace that anyone who can open a pull
request writes. Some characters in such a string do not show as themselves:

* C0 and C1 control characters (``\\x1b`` starts an ANSI escape sequence that moves the cursor,
  repaints a CI log or sets a terminal's title; ``\\r`` overwrites the line; ``\\x00`` truncates);
* bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069), which reorder what is shown
  so that the text a reviewer reads is not the text that is there ("Trojan Source");
* the Unicode line and paragraph separators (U+2028, U+2029), which some viewers treat as line
  breaks where nothing else does;
* characters that take no space or show as blank: every code point Unicode makes
  default-ignorable (DerivedCoreProperties.txt, ``Default_Ignorable_Code_Point``: zero-width spaces
  and joiners, left-to-right and right-to-left marks, the word joiner and invisible operators, the
  byte-order mark, the soft hyphen, the grapheme joiner, the variation selectors, the Hangul fillers,
  the tag characters and the code points reserved for more of them), the Braille blank (U+2800), the
  interlinear annotation characters (U+FFF9–U+FFFB) and the Egyptian hieroglyph format controls
  (U+13430–U+1343F). ``F\u200b`` beside ``F`` would otherwise be two groups that read as one, and the
  tag characters (U+E0020–U+E007F) spell a whole sentence nobody sees ("ASCII smuggling").

Two uses of those characters draw something and are left as they are: the three subdivision flags
emoji fonts draw (the black flag U+1F3F4, the tags of ``gbeng``, ``gbsct`` or ``gbwls``, the cancel
tag: England's, Scotland's and Wales'), and one ideographic variation selector after a CJK ideograph
Unicode has assigned (the registered glyph of a Japanese name). So does the text or emoji
presentation selector after a symbol that has both forms (``⚠️`` as a phone types it) and in a keycap
(``1️⃣``). A flag carries nothing a reader does not see; a variation selector picks one of at most
240 glyphs of the ideograph before it, so a text of ideographs can carry a byte per ideograph that a
font without those glyphs does not show (a known limit, docs/security.md), and a presentation
selector on a symbol drawn one way only is a bit nobody sees. Any other flag's tags, a second selector, or one on anything else, is escaped.

:func:`visible` replaces each of them by an escape a person can read (``\\x1b``, ``\\u202e``), so
whoever reads a page, a chart or a log sees that something was there and what it was, and nothing
hidden acts on their screen. A run of tag characters is shown as the words it spells, in brackets
that say so (``⟦hidden text: Ignore the failing rules.⟧``); a tag for a sign that is syntax
somewhere (``<``, ``[``, ``*``, ``&``) stays an escape there. It is the one helper for this: the
site's text filters, the charts, the lineage drawing, every line the command line prints, and the
policy results (CSV, JUnit) use it.

:func:`spreadsheet_cell` does the same for a CSV cell and also keeps a spreadsheet from reading
the cell as a formula.
"""

from __future__ import annotations

import re
import unicodedata

from modelgov.feature_names import INTERSECTION

__all__ = ["CONTROL_CHARACTERS", "drawn", "hidden", "quoted_name", "spreadsheet_cell", "visible"]

#: Unicode's Default_Ignorable_Code_Point (DerivedCoreProperties.txt; the same list from Unicode 14
#: to 16): drawn as nothing where a font has no glyph for them, which is what a renderer is told to do.
#: The reserved code points among them (U+2065, U+FFF0–U+FFF8, most of U+E0000–U+E0FFF)
#: are default-ignorable already, so a character Unicode assigns there later is covered today.
_IGNORABLE_BMP = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f"
    "\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
)
_DEFAULT_IGNORABLE = _IGNORABLE_BMP + "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e0fff"

#: The other characters that show as nothing: the Braille blank, the interlinear annotation
#: characters, the Egyptian hieroglyph format controls (which this Python's Unicode may not know yet).
_OTHER_BLANKS = "\u2800\ufff9-\ufffb\U00013430-\U0001343f"

#: What :func:`visible` replaces: C0 controls, DEL, C1 controls, the line and paragraph separators,
#: the default-ignorable code points (the bidirectional marks, embeddings, overrides and isolates
#: among them) and the other characters that show as nothing.
CONTROL_CHARACTERS = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_OTHER_BLANKS}{_DEFAULT_IGNORABLE}]")

#: :func:`visible`'s first look, for the text that has nothing to escape (almost all of it): the
#: characters below U+10000 it may escape, and any character above, which one class tests faster
#: than the ranges of :data:`CONTROL_CHARACTERS` up there (a page's text took three times as long).
_MAYBE_HIDDEN = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029\u2800\ufff9-\ufffb{_IGNORABLE_BMP}\U00010000-\U0010ffff]")

#: The uses of those characters that draw something (module docstring), matched first: the three
#: subdivision flags emoji fonts draw, and an ideograph (the CJK unified ideographs, their extensions,
#: the compatibility ideographs) with one variation selector, kept when Unicode has assigned the
#: ideograph. Another flag draws as a black flag whatever its tags say, which would make them a
#: hidden message.
_FLAG = "\U0001f3f4(?:{})\U000e007f".format(
    "|".join("".join(chr(0xE0000 + ord(c)) for c in region) for region in ("gbeng", "gbsct", "gbwls"))
)
_IDEOGRAPH_VARIANT = (
    "(?P<ideograph>[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f])(?P<ivs>[\U000e0100-\U000e01ef])"
)
#: A symbol with the text or emoji presentation selector (U+FE0E, U+FE0F), as ``⚠️`` or ``❤️`` typed on a
#: phone: the selector picks how the symbol is drawn. Symbols with emoji forms are among these blocks
#: (©, ®, ‼, ⁉, ™, ℹ, arrows to the miscellaneous symbols, 〰, 〽, ㊗, ㊙, the pictographs); a keycap
#: (``1️⃣``) is a digit, ``#`` or ``*``, the selector and the enclosing keycap.
_SYMBOL_VARIANT = (
    "(?P<symbol>[\u00a9\u00ae\u203c\u2049\u2122\u2139\u2194-\u24ff\u25a0-\u27ff\u2900-\u2bff\u3030\u303d"
    "\u3297\u3299\U0001f000-\U0001faff])(?P<presentation>[\ufe0e\ufe0f])|[#*0-9]\ufe0f(?=\u20e3)"
)
#: Of those blocks (box drawing and Braille are left out of them), the characters that take a
#: presentation selector: the other symbols (So), and ‼ ⁉ ℹ ↔ ◻ ◼ ◽ ◾ ⤴ ⤵ 〰 〽, which Unicode files
#: under other categories. A selector on a mathematical sign (∑) picks nothing: escaped.
_PRESENTED_OTHERS = frozenset("\u203c\u2049\u2139\u2194\u25fb\u25fc\u25fd\u25fe\u2934\u2935\u3030\u303d")
#: A run of the tag characters that mirror printable ASCII (U+E0020–U+E007E): shown as the text it
#: spells, which is what a reader needs to know (a page full of ``\\U000e0049`` escapes says only
#: that something is there).
_TAG_TEXT = "(?P<tags>[\U000e0020-\U000e007e]+)"

#: The ASCII a run of tags is spelt with: letters, digits, the space and punctuation that no format
#: modelgov writes to reads as syntax. Every other tag (``<``, ``[``, ``*``, ``&``, ``#``, ``/``…)
#: stays an escape inside the brackets, so the spelt text is words and never markup: text is made
#: visible before a user's Markdown is rendered, and a red-team pass spelt ``**Approved**``, a link
#: and ``&#10215;`` (which would have closed the brackets) in tags.
_SPELT = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 .,;:!?'\"-")


def _spelt(tags: str) -> str:
    def shown(tag: str) -> str:
        letter = chr(ord(tag) - 0xE0000)
        return letter if letter in _SPELT else _escape(tag)

    return "⟦hidden text: " + "".join(map(shown, tags)) + "⟧"


_SHOWN_OR_ESCAPED = re.compile(
    f"(?P<flag>{_FLAG})|{_IDEOGRAPH_VARIANT}|{_SYMBOL_VARIANT}|{_TAG_TEXT}|(?P<other>{CONTROL_CHARACTERS.pattern})"
)


def _hidden_in(match: re.Match[str], kept: set[str]) -> str | None:
    """The character of ``match`` to show as an escape, or None when it shows as what it is: a
    selector is shown as an escape on a code point Unicode has not assigned (a missing-glyph box) or
    a character that does not take it. The escaped character of a sequence is always its last."""
    if match["other"] is not None:
        return None if match["other"] in kept else match["other"]
    if match["ideograph"] is not None:
        return match["ivs"] if unicodedata.category(match["ideograph"]) == "Cn" else None
    if match["symbol"] is not None:
        symbol = match["symbol"]
        takes_it = unicodedata.category(symbol) == "So" or symbol in _PRESENTED_OTHERS
        return None if takes_it else match["presentation"]
    return None  # a flag of England, Scotland or Wales, or a keycap


def hidden(text: str, keep: str = "\n\t") -> list[str]:
    """The characters of ``text`` that :func:`visible` (with the same ``keep``) shows as escapes, in
    order: empty when ``text`` shows as what it is."""
    kept = set(keep) - {"\r"}
    found: list[str] = []
    for match in _SHOWN_OR_ESCAPED.finditer(text):
        if match["tags"] is not None:
            found += match["tags"]
        elif (character := _hidden_in(match, kept)) is not None:
            found.append(character)
    return found


def _escape(character: str) -> str:
    code = ord(character)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def _shown(match: re.Match[str], kept: set[str]) -> str:
    if match["tags"] is not None:
        return _spelt(match["tags"])
    escaped = _hidden_in(match, kept)
    if escaped is None:
        return match.group()
    return match.group()[: -len(escaped)] + _escape(escaped)  # an unassigned ideograph stays, its selector not


def visible(value: object, keep: str = "\n\t") -> str:
    """``value`` as a string with every control character outside ``keep`` shown as an escape.

    ``keep`` lists the controls that mean something where the text goes: a line break and a tab in
    a terminal message or a Markdown block; nothing (``keep=""``) for one line of a table or a
    chart label. A carriage return is never kept: it would let text overwrite what precedes it.
    """
    text = str(value)
    if not _MAYBE_HIDDEN.search(text) or not CONTROL_CHARACTERS.search(text):  # the second, for emoji
        return text
    kept = set(keep) - {"\r"}
    return _SHOWN_OR_ESCAPED.sub(lambda m: _shown(m, kept), text)


#: The group of missing values, as modelgov names it (``analysis.fairness.MISSING_GROUP``).
_MISSING = "(missing)"

#: A name that reads as one inside a sentence: letters, digits and ``_ . + - /``, nothing else.
_ONE_WORD = re.compile(r"[\w.+\-/]+")


def quoted_name(name: str, *, parts: int = 1) -> str:
    """A workspace's name (a feature, a group) as modelgov's own sentence quotes it: as it is when it
    is one word, in double quotes (JSON's escapes for a quote or a backslash in it) otherwise.

    Text such as ``1 group left out: sex=F (3 rows)`` is modelgov's statement; a group named
    ``F (0.5) and sex=M`` written bare in it reads as two groups and a figure that are not there.
    An intersection's name of ``parts`` parts (``F × 18-29``, ``sex × age_band``: 2) is one word a
    part: modelgov joins the parts with `` × ``. A name with another count of parts is quoted, so a
    plain feature's group of that spelling does not read as an intersection, nor an intersection's
    group whose value holds `` × `` as another combination. The group modelgov names for missing values, ``(missing)``,
    is one word. Hidden characters are for :func:`visible` to show afterwards."""
    pieces = name.split(INTERSECTION) if parts > 1 else [name]
    if len(pieces) == parts and all(_ONE_WORD.fullmatch(piece) or piece == _MISSING for piece in pieces):
        return name
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


#: What :func:`drawn` leaves out besides format characters: every default-ignorable code point,
#: assigned or reserved (the grapheme joiner, the Khmer inherent vowels, the variation selectors, the
#: Hangul fillers among them), the Braille blank, and the format characters this Python's Unicode may
#: not know yet (the interlinear annotation characters, the Egyptian hieroglyph format controls).
_DRAWN_AS_NOTHING = re.compile(f"[{_DEFAULT_IGNORABLE}{_OTHER_BLANKS}]")

#: What :func:`drawn` reads one at a time: a subdivision flag whole, any other character alone.
_FLAG_OR_CHARACTER = re.compile(f"{_FLAG}|.", re.DOTALL)

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
    the soft hyphen, the tag characters), every other code point Unicode makes default-ignorable,
    assigned or reserved (the grapheme joiner, the variation selectors), and blank fillers. A
    flag of England, Scotland or Wales keeps its tags: they are what tells one from another. The one
    reading of "what a reader sees" for the checks that compare text as it looks.

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
    for c in _FLAG_OR_CHARACTER.findall(unicodedata.normalize("NFKC", text)):
        if len(c) > 1:  # a subdivision flag, drawn whole: England's is not Scotland's
            out.extend(sorted(marks))
            marks.clear()
            base = c[0]
            out.append(c)
            continue
        kind = unicodedata.category(c)
        if kind == "Cf" or _DRAWN_AS_NOTHING.match(c):
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
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\Z")
#: Where a spreadsheet whose list separator is not the comma (a semicolon in German or French
#: locales, a tab) splits a cell: it does so wherever one stands, quoted or not, so the piece after
#: one must not start a formula either.
_FORMULA_AFTER_SEPARATOR = re.compile(r"([;\t])(?=[=+\-@])")


def spreadsheet_cell(value: object) -> object:
    """A value for a CSV cell that a spreadsheet opens as data, never as a formula.

    A string starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
    ``'`` (OWASP's advice: ``=HYPERLINK(…)`` in a rule title would otherwise become a live formula
    in the reviewer's spreadsheet); its control characters are shown as escapes. Numbers stay
    numbers, including negative ones written as strings (``-0.03`` is a value, not a formula).
    A semicolon or tab followed by one of those characters gets the ``'`` too (``ok;'=1+2``): a
    spreadsheet that splits at semicolons or tabs would start a cell there.
    """
    if not isinstance(value, str):
        return value
    text = _FORMULA_AFTER_SEPARATOR.sub(r"\1'", visible(value, keep="\n\t"))
    if text.startswith(_FORMULA_START) and not _NUMBER.match(text):
        return "'" + text
    return text
