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


@pytest.mark.parametrize("spelling", ["age_band", "Age band", "age\u2011band", "age.band", "AGE–BAND", "ageband"])
def test_separators_are_set_aside(spelling: str) -> None:
    assert lookalike_key(spelling) == lookalike_key("age_band")


@pytest.mark.parametrize(("one", "other"), [("sex", "sec"), ("age", "ages"), ("F", "M"), ("Müller", "Muller")])
def test_names_a_reader_tells_apart_keep_their_keys(one: str, other: str) -> None:
    assert lookalike_key(one) != lookalike_key(other)


def test_sets_name_each_group_of_lookalikes_and_leave_numbers_alone() -> None:
    assert lookalike_sets(["F", "M", "f", "F\u200b", "X"]) == [["F", "F\u200b", "f"]]
    assert lookalike_sets(["1.5", "15", "1", "l0"]) == []  # numbers are written one way
    assert lookalike_sets(["18-29", "30-44", "45+"]) == []
