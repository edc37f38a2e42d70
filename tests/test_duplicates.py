"""Rows counted more than once: an evaluation table padded with copies of real rows moved a group's
rate and narrowed every interval, and the model file, run on the table, reproduced each copy. The
copies are counted (against pandas' own `drop_duplicates`), said on the card, given to policies, and
called implausible where no chance makes rows equal."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hostile_corpus import with_policy
from modelgov.analysis.duplicates import duplicate_rows
from modelgov.cli import main
from workspace_factory import holdout_table, write_workspace

COLUMNS = ["defaulted", "predicted", "score", "income", "age", "sex", "age_band"]  # what the factory's evaluation reads


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.integers(0, 2),
            st.sampled_from(["a", "b", None]),
            # -0.0 beside 0.0, and a NaN of another payload: pandas takes each pair for one value
            st.sampled_from(
                [0.5, 1.25, np.nan, 0.0, -0.0, float(np.frombuffer(b"\x01\x00\x00\x00\x00\x00\xf8\x7f")[0])]
            ),
        ),
        min_size=0,
        max_size=40,
    )
)
def test_the_count_is_pandas_rows_less_its_distinct_rows(rows: list[tuple]) -> None:
    table = pd.DataFrame(rows, columns=["x", "y", "z"]) if rows else pd.DataFrame({"x": [], "y": [], "z": []})
    table["id"] = range(len(table))  # never compared: a copy with a new id is a copy
    found = duplicate_rows(table, ["x", "y", "z"])
    expected = len(table) - len(table[["x", "y", "z"]].drop_duplicates())
    assert (found.rows if found else 0) == expected
    if found:
        repeated = table[["x", "y", "z"]][table[["x", "y", "z"]].duplicated(keep=False)]
        assert found.records == len(repeated.drop_duplicates())
        assert found.columns == ["x", "y", "z"]


def test_copies_are_implausible_only_beside_a_nearly_unique_measurement() -> None:
    table = holdout_table()
    assert duplicate_rows(table, COLUMNS) is None  # the factory's table has no copies
    padded = pd.concat([table, table.iloc[:30]], ignore_index=True)
    found = duplicate_rows(padded, COLUMNS)
    assert (found.rows, found.records) == (30, 30)
    assert found.distinct_column in {"score", "income"} and found.distinct_share >= 0.9
    # a table of answers that records share by nature: copies are counted, not called implausible
    answers = pd.DataFrame({"age_band": ["18-29", "30-44"] * 50, "defaulted": [0, 1, 1, 0] * 25})
    found = duplicate_rows(answers, ["age_band", "defaulted"])
    assert found.rows == 96 and found.distinct_column is None
    # whole numbers (an age, a count) are shared by nature too, however many values they take
    ages = pd.DataFrame({"age": np.arange(200.0), "defaulted": 0})
    assert duplicate_rows(pd.concat([ages, ages.iloc[:5]]), ["age", "defaulted"]).distinct_column is None
    # one column alone: its copies are only its ties
    assert duplicate_rows(padded, ["score"]).distinct_column is None


def test_padding_the_table_cannot_bring_the_share_under_the_bar() -> None:
    """Tripling every row lowers the score's distinct share of all rows to a third; over the distinct
    rows it stays whole."""
    table = holdout_table()
    found = duplicate_rows(pd.concat([table] * 3, ignore_index=True), COLUMNS)
    assert found.rows == 2 * len(table) and found.distinct_share >= 0.9


def test_numbers_are_compared_as_numbers_whatever_they_are_stored_as() -> None:
    """A copy written `0.250` for `0.25` (text, as JSON Lines or a Parquet string column holds it) is
    still a copy; so is one in a Decimal column. Whole numbers with many values (an income in cents) are
    a measurement; a few whole numbers (ages) are not."""
    text = pd.DataFrame({"score": ["0.25", "0.5", "0.250"], "y": [0, 1, 0]})
    found = duplicate_rows(text, ["score", "y"])
    assert (found.rows, found.distinct_column) == (1, "score")
    decimals = pd.DataFrame({"score": [Decimal("0.25"), Decimal("0.5"), Decimal("0.250")], "y": [0, 1, 0]})
    assert duplicate_rows(decimals, ["score", "y"]).rows == 1
    cents = pd.DataFrame({"income_cents": np.arange(2000) * 7 + 100_000, "y": 0})
    found = duplicate_rows(pd.concat([cents, cents.iloc[:5]]), ["income_cents", "y"])
    assert (found.rows, found.distinct_column) == (5, "income_cents")
    assert duplicate_rows(pd.DataFrame({"flag": [True, False, True], "y": 0}), ["flag", "y"]).distinct_column is None
    # whole numbers stay whole: two ids above 2**53, one apart, are not one value
    big = pd.DataFrame({"id": [2**53, 2**53 + 1], "y": 0})
    assert duplicate_rows(big, ["id", "y"]) is None
    nullable = pd.DataFrame({"score": pd.array([0.25, None, 0.5, 0.25], dtype="Float64"), "y": [0, 0, 1, 0]})
    assert duplicate_rows(nullable, ["score", "y"]).rows == 1


def _padded_workspace(tmp_path: Path) -> Path:
    """The factory workspace with its 27 approved women copied in: their selection rate rises."""
    table = holdout_table()
    favoured = table[(table["sex"] == "F") & (table["predicted"] == 1)]
    assert len(favoured) == 27
    ws = write_workspace(tmp_path / "ws", table=pd.concat([table, favoured], ignore_index=True))
    with_policy(
        """\
        id: house
        title: House rules
        rules:
          - id: no-copies
            title: No row counted twice
            evidence: evaluation.duplicate_rows
            require: {le: 0}
        """
    )(ws)
    return ws


def test_a_padded_table_is_named_on_the_card_in_the_check_and_by_a_policy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = _padded_workspace(tmp_path)
    site = tmp_path / "site"
    code = main(["build", str(ws), "-o", str(site), "--no-cache", "-j", "1", "--fail-on-degraded"])
    out = capsys.readouterr().out
    assert code == 1
    assert "note  loans 1.0  evaluation: 27 of the 427 rows of evaluation holdout repeat another row" in out
    results = json.loads((site / "policy-results.json").read_text())
    [copied] = [d for d in results["degraded"] if d["analysis"] == "evaluation"]
    assert copied["page"] == "models/loans/1.0/index.html#evaluation-data"
    [rule] = [r for r in results["results"] if r["rule"] == "no-copies"]
    assert rule["outcome"] == "fail" and rule["checks"][0]["observed"] == 27
    card = (site / "models/loans/1.0/index.html").read_text()
    assert "Evaluation holdout counts some records more than once" in card
    assert "427, of which 27 repeat another row in every column the evaluation reads" in card
    manifest = json.loads((site / "manifest.json").read_text())
    run = manifest["models"][0]["versions"][0]["evaluations"][0]
    assert run["duplicates"]["rows"] == 27 and run["duplicates"]["records"] == 27
    assert run["duplicates"]["by_group"]["sex"] == {"F": 27}  # the group whose rate they move, named
    assert "27 distinct rows occur more than once; by sex: F 27; by age_band:" in out
    assert "copies by sex: F 27" in card
