"""Names compared as they look: every spelling a reader takes for one name has one key, and names
a reader tells apart keep theirs."""

from __future__ import annotations

import pytest

from modelgov.lookalikes import lookalike_key, lookalike_sets


@pytest.mark.parametrize(
    "spelling",
    ["sex", "SEX", "Sex", "ｓｅｘ", "\u0455ex", "s\u0435x", "sex\u200b", "\ufeffsex", "se\u00adx", "s-e-x", " sex "],
)
def test_every_spelling_that_reads_as_sex_has_its_key(spelling: str) -> None:
    assert lookalike_key(spelling) == lookalike_key("sex")


@pytest.mark.parametrize(
    "spelling",
    [
        *("age_band", "Age band", "age\u2011band", "age.band", "AGE–BAND", "ageband", "age\u0640band", "age\u07faband"),
        *("age\u05beband", "age\u058aband", "age\u203fband", "age\u02cdband", "age\u2e3aband", "age\u2043band"),
        "age\u2500band",
    ],
)
def test_separators_are_set_aside(spelling: str) -> None:
    assert lookalike_key(spelling) == lookalike_key("age_band")


@pytest.mark.parametrize(("one", "other"), [("sex", "sec"), ("age", "ages"), ("F", "M"), ("Müller", "Muller")])
def test_names_a_reader_tells_apart_keep_their_keys(one: str, other: str) -> None:
    assert lookalike_key(one) != lookalike_key(other)


def test_sets_name_each_group_of_lookalikes_and_leave_numbers_alone() -> None:
    assert lookalike_sets(["F", "M", "f", "F\u200b", "X"]) == [["F", "F\u200b", "f"]]
    assert lookalike_sets(["1.5", "15", "1", "l0"]) == []  # numbers are written one way
    assert lookalike_sets(["18-29", "30-44", "45+"]) == []


@pytest.mark.parametrize(
    ("name", "other"),
    [
        *[("reIigion", "religion"), ("Уход", "уход"), ("rnarital", "marital"), ("Income", "income")],
        *[("|ncome", "income"), ("REL\u0130G\u0130ON", "religion"), ("\u0130ncome", "income")],  # Turkish İ
        # the red team's: Greek lunate sigma (NFKC turns it into σ, so it is read first), digamma, a vocal
        # notation symbol
        *[("ra\u03f2e", "race"), ("Ra\u03f9e", "race"), ("\u03dc", "F"), ("\U0001d213", "F")],
    ],
)
def test_a_capital_i_a_bar_rn_and_upper_case_cyrillic_are_taken_for_what_they_look_like(name: str, other: str) -> None:
    from modelgov.lookalikes import looks_like

    assert looks_like(name, other) and looks_like(other, name)


@pytest.mark.parametrize(
    "respelt",
    [
        *("re\u05d5igion", "re\u05c0igion", "re\u0627igion", "re\u07caigion", "re\u0627\u0640igion"),
        *("re\u0661igion", "re\u06f1igion", "religi\u05e1n", "religi\u0647n", "religi\u0665n", "religi\u07c0n"),
    ],
    ids=[
        *("hebrew-vav", "hebrew-paseq", "arabic-alef", "nko-a", "alef-and-tatweel"),
        *("arabic-indic-one", "persian-one", "hebrew-samekh", "arabic-heh", "arabic-indic-five", "nko-zero"),
    ],
)
def test_one_stroke_or_ring_of_a_right_to_left_script_reads_as_an_l_or_an_o(respelt: str) -> None:
    """Unicode's confusables reads a Hebrew vav, the paseq, an Arabic alef, the Arabic-Indic and
    Persian ones and the NKo letter a as an ``l``, and a samekh, a heh, the Arabic-Indic five and
    the NKo zero as an ``o``: set among Latin letters, each draws as one (``reוigion``)."""
    from modelgov.lookalikes import looks_like

    assert looks_like(respelt, "religion")


def test_an_arabic_word_stretched_by_a_kashida_is_the_word() -> None:
    """A tatweel lengthens the line between two Arabic letters without changing the word: مـحمد and
    محمد are one name written two ways."""
    assert lookalike_sets(["\u0645\u0640\u062d\u0645\u062f", "\u0645\u062d\u0645\u062f"]) == [
        ["\u0645\u062d\u0645\u062f", "\u0645\u0640\u062d\u0645\u062f"]
    ]


def test_numbers_respelt_with_spaces_or_full_width_digits_are_a_set() -> None:
    """Plain numbers are two numbers each; a 1 written with a space or as a full-width digit is a
    respelling of the number 1, as F with a space is of F."""
    assert lookalike_sets(["0", "1", "1 "]) == [["1", "1 "]]
    assert lookalike_sets(["0", "1", "\uff11"]) == [["1", "\uff11"]]
    assert lookalike_sets(["1", "2", "10", "1.0e1"]) == []


@pytest.mark.parametrize(
    "respelt",
    [
        *("\u039c", "M\u034f", "M\ufe0f", "M\ufe00", "M\u17b4", "M\u2800", "\ua4df", "\u039c\u0301"[:1], "\u1d0d"),
        *("M\u180b", "M\u180f", "M\U000e0100", "M\U000e0041", "\u0301M"),  # selectors, a tag, a mark on nothing
    ],
)
def test_greek_capitals_invisible_marks_and_other_scripts_drawn_as_m_read_as_m(respelt: str) -> None:
    """The second red-team pass: a Greek capital Mu, M with a combining grapheme joiner, a variation
    selector, a Khmer inherent vowel or a Braille blank, Lisu's M and a small capital M each read as
    M, and split a group without the check noticing."""
    assert lookalike_sets(["F", "M", respelt]) == [sorted(["M", respelt])]


def test_letters_with_accents_are_letters_of_their_own() -> None:
    assert lookalike_sets(["Müller", "Muller", "José", "Jose"]) == []


@pytest.mark.parametrize(
    ("small", "capital"),
    [("сельский", "СЕЛЬСКИЙ"), ("город", "ГОРОД"), ("пол", "ПОЛ"), ("σοφία", "ΣΟΦΊΑ"), ("λόγος", "ΛΌΓΟΣ"), ("ő", "Ő")],
)
def test_case_is_set_aside_in_every_script(small: str, capital: str) -> None:
    """A group respelt in capitals reads as the same group in Cyrillic and Greek as in Latin (a
    mapping of letters applied before case is folded once split these)."""
    from modelgov.lookalikes import looks_like

    assert looks_like(small, capital)


@pytest.mark.parametrize(
    "groups",
    [
        ["\u0413\u0410\u0417", "\u0423\u0410\u0417"],  # ГАЗ, УАЗ: two car makers
        ["\u05d1\u05df", "\u05d1\u05d5"],  # בן, בו
        ["\u05d5\u05d5", "\u05df\u05df", "\u05d5\u05df"],  # וו, ןן, ון: only one of the two Hebrew strokes reads as l
        ["\u0627\u0644", "\u0644\u0627", "\u0661\u0662"],  # Arabic ال, لا and the number 12
        # marks on the letters read as l (a red-team pass: a second reading after folding case dropped them)
        ["\u05d3\u05bc\u05d5\u05b9\u05d3", "\u05d3\u05bc\u05d5\u05bc\u05d3"],  # Hebrew דּוֹד, דּוּד
        ["\u07d3\u07ca", "\u07d3\u07ca\u07eb", "\u07d3\u07ca\u07ec"],  # NKo ߓߊ with its tones
        ["\u0628\u0627\u0646", "\u0628\u0627\u065f\u0646"],  # Kashmiri بان, باٟن
        ["\u30d3\u30fc\u30eb", "\u30d3\u30eb"],  # Japanese ビール, ビル: the long vowel is a letter
        ["\u0e14\u0e35", "\u0e15\u0e35"],  # ดี, ตี
        ["\u0661", "\u0661\u0660", "\u0661\u0660\u0660"],  # 1, 10 and 100 in Arabic-Indic digits
        ["\u0562", "\u0566", "\u0563"],  # Armenian բ, զ, գ
        ["\u571f", "\u58eb"],  # 土, 士
        ["\u00d6T", "\u0150T"],  # Hungarian ÖT, ŐT
        ["\u03c3", "\u03bf"],  # σ, ο
    ],
)
def test_what_readers_tell_apart_in_other_scripts_stays_apart(groups: list[str]) -> None:
    """Letters a reader of the script tells apart are groups of their own: a table of lookalikes
    joined into sets (a letter drawn like one, drawn like another) refused these as one group."""
    assert lookalike_sets(groups) == []


@pytest.mark.parametrize(
    "groups",
    [
        ["\u0e1b\u0e48\u0e32", "\u0e1b\u0e32", "\u0e1b\u0e49\u0e32"],  # Thai ป่า, ปา, ป้า: tone marks
        ["\u0915\u0941\u092e", "\u0915\u092e"],  # Devanagari कुम, कम: a vowel sign
        ["\u05e9\u05c1", "\u05e9\u05c2"],  # Hebrew shin and sin: the dot's side is the letter
        ["\u0e1b\u0e35\u0e48", "\u0e1b\u0e35"],  # Thai: a tone mark over a vowel mark
        ["\u0932\u094b\u0917\u094b\u0902", "\u0932\u094b\u0917\u094b"],  # Hindi: a mark after a spacing vowel sign
        ["\u1785\u17b6\u17c6", "\u1785\u17b6"],  # Khmer: the same
    ],
)
def test_a_mark_that_spells_a_word_is_part_of_it(groups: list[str]) -> None:
    """In a script written with marks, a mark is part of the spelling: Thai words that differ by a
    tone mark, or Hindi ones by a vowel sign, are different groups (leaving every mark out once
    refused such a column as groups that look alike)."""
    assert lookalike_sets(groups) == []


@pytest.mark.parametrize(
    ("respelt", "name"),
    [
        ("reli\u0307gion", "religion"),  # a dot above an i, which has one
        ("ethni\u0307city", "ethnicity"),
        ("se-\u0335x", "sex"),  # a short stroke over the hyphen
        ("age_\u0332band", "age_band"),  # a low line on the underscore
        ("sex\u0337", "sex"),  # a short slash over the x
        ("x\u0323", "x"),  # a dot below that NFKC cannot compose
        ("1\u0301", "1"),  # a mark on a digit
        ("\u0455\u0301ex", "sex"),  # on a Cyrillic letter drawn like s
        ("\u03bf\u0335\u03c1", "op"),  # on Greek letters
        ("\ua4e2\u0301ex", "sex"),  # on a Lisu letter drawn like S
        ("S\ua4f0\u0335X", "sex"),  # a stroke over a Lisu E's middle bar
        ("re\ua4f2\u20d2igion", "religion"),  # a vertical line over a Lisu I
        ("age_\ua4d0\u0332and", "age_band"),
        ("sex\u3164\u0301", "sex"),  # on a blank filler, which is left out
        ("sex\u200b\u0307", "sex"),  # after a zero-width space: on the x
    ],
)
def test_a_mark_added_to_a_latin_name_does_not_make_it_another(respelt: str, name: str) -> None:
    """On Latin (and Greek, Cyrillic) letters, digits and signs, a mark NFKC cannot compose is left
    out: several draw over what is already there, and the red team used them to pass a prohibited
    column. Accents NFKC composes (ü, ṣ) stay letters of their own."""
    from modelgov.lookalikes import looks_like

    assert looks_like(respelt, name)


@pytest.mark.parametrize(
    "ignorable",
    ["\u034f", "\u17b4", "\u17b5", "\u180b", "\u180d", "\u180f", "\ufe00", "\ufe0f", "\U000e0100", "\U000e01ef"],
)
def test_the_marks_unicode_makes_ignorable_are_left_out_even_where_marks_spell(ignorable: str) -> None:
    from modelgov.text_safety import drawn

    assert drawn(f"\u0e1b{ignorable}\u0e48\u0e32") == "\u0e1b\u0e48\u0e32"  # ป่า: the tone mark stays
    assert drawn(f"a \u0301b{ignorable}") == "a b"  # a mark on a space is on nothing


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("\u0e1b\u0e48\u0e32", "\u0e1b\u0e48\u0e48\u0e32"),  # Thai mai ek typed twice: drawn on itself
        ("\u05e9\u05b0", "\u05e9\u05b0\u05b0"),  # a Hebrew sheva typed twice
        ("\u0e1b\u0e48\u0e49\u0e32", "\u0e1b\u0e49\u0e48\u0e32"),  # two tone marks in either order
        ("\u0e1b\u0e34\u0e48", "\u0e1b\u0e48\u0e34"),  # a vowel and a tone mark in either typing order
    ],
)
def test_marks_kept_on_a_letter_are_read_once_each_in_any_order(one: str, other: str) -> None:
    """Marks that spell a word are read as a set: the same marks typed twice, or in another order
    that NFKC does not put right, draw the same, and would split a group unseen."""
    assert lookalike_sets([one, other]) == [sorted([one, other])]
