"""The label, prediction and score columns must hold one value per row: a column of lists or
objects (a Parquet list column, a JSON object) is refused with the column named, whatever the
table's other dtypes, and plain columns pass through the check untouched. A sensitive feature, or
an intersection, of more than 100 groups is refused naming its columns and the count."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelgov.analysis.evaluation import DataProblem, EvaluationColumns, analyse_evaluation, prepare_arrays
from modelgov.analysis.resampling import Resampling
from modelgov.cli import main
from workspace_factory import edit, holdout_table, write_workspace

COLUMNS = EvaluationColumns(label="y", prediction="p", score="s", sensitive=())
VERSION = "models/loans/versions/1.0/version.yml"


def _table(**columns) -> pd.DataFrame:
    base = {"y": [0, 1, 1, 0], "p": [0, 1, 0, 0], "s": [0.1, 0.9, 0.4, 0.2]}
    return pd.DataFrame({**base, **columns})


def test_plain_columns_of_every_dtype_pass() -> None:
    for label in ([0, 1, 1, 0], ["no", "yes", "yes", "no"], [False, True, True, False]):
        positive = "yes" if isinstance(label[0], str) else True if isinstance(label[0], bool) else 1
        columns = EvaluationColumns(label="y", prediction="y", score="s", sensitive=(), positive_label=positive)
        arrays = prepare_arrays(_table(y=label), columns, task="binary_classification")
        assert arrays.y_true.tolist() == [0, 1, 1, 0]


@pytest.mark.parametrize(
    "values",
    [[[0.1], [0.9], [0.4], [0.2]], [{"v": 0.1}, {"v": 0.9}, {"v": 0.4}, {"v": 0.2}], [(0.1,), (0.9,), (0.4,), (0.2,)]],
    ids=["lists", "objects", "tuples"],
)
def test_a_score_column_of_lists_or_objects_is_refused_naming_it(values) -> None:
    with pytest.raises(DataProblem, match="4 values are lists or objects") as caught:
        prepare_arrays(_table(s=values), COLUMNS, task="binary_classification")
    assert caught.value.column == "s"


def test_a_parquet_list_column_is_refused(tmp_path: Path) -> None:
    """pyarrow reads a list column as NumPy arrays, one per row."""
    path = tmp_path / "eval.parquet"
    pq.write_table(pa.table({"y": [0, 1], "p": [0, 1], "s": [[0.1, 0.2], [0.9]]}), path)
    table = pd.read_parquet(path)
    assert isinstance(table["s"].iloc[0], np.ndarray)
    with pytest.raises(DataProblem, match="2 values are lists or objects"):
        prepare_arrays(table, COLUMNS, task="binary_classification")


def test_an_arrow_list_column_is_refused() -> None:
    """A column typed as an Arrow list is not an object column, and is looked at all the same."""
    table = _table(s=pd.Series([[0.1], [0.9], [0.4], [0.2]], dtype=pd.ArrowDtype(pa.list_(pa.float64()))))
    with pytest.raises(DataProblem, match="4 values are lists or objects"):
        prepare_arrays(table, COLUMNS, task="binary_classification")


# --------------------------------------------------------------------------- columns grouped or paired on

NESTED = {
    "list": [["F"], ["M"], ["F"], ["M"]],
    "dict": [{"v": "F"}, {"v": "M"}, {"v": "F"}, {"v": "M"}],
    "arrow-list": pd.Series([["F"], ["M"], ["F"], ["M"]], dtype=pd.ArrowDtype(pa.list_(pa.string()))),
    "arrow-struct": pd.Series(
        [{"v": "F"}, {"v": "M"}, {"v": "F"}, {"v": "M"}], dtype=pd.ArrowDtype(pa.struct([("v", pa.string())]))
    ),
    "one-among-text": ["F", "M", ["F"], "M"],
}


@pytest.mark.parametrize("role", ["sensitive", "feature", "row_id"])
@pytest.mark.parametrize("nested", list(NESTED), ids=list(NESTED))
def test_a_grouped_column_of_lists_or_objects_is_refused_naming_it(role: str, nested: str) -> None:
    """Sensitive features are grouped, features sliced, row ids paired: a list there was the internal
    error "unhashable type" (a Parquet list or struct column as a sensitive feature, the red team's case)."""
    table = _table(g=NESTED[nested])
    columns = EvaluationColumns(
        label="y",
        prediction="p",
        score="s",
        sensitive=("g",) if role == "sensitive" else (),
        features=("g",) if role == "feature" else (),
    )
    with pytest.raises(DataProblem, match="values are lists or objects, not single values") as caught:
        prepare_arrays(table, columns, task="binary_classification", row_id="g" if role == "row_id" else None)
    assert caught.value.column == "g"


def test_grouped_columns_of_single_values_of_every_dtype_pass() -> None:
    values = {
        "text": ["F", "M", "F", "M"],
        "objects": pd.Series(["F", 2, 2.5, None], dtype=object),
        "category": pd.Categorical(["F", "M", "F", "M"]),
        "times": pd.to_datetime(["2026-01-01", "2026-01-02", "2026-01-01", "2026-01-03"]),
        "arrow-text": pd.Series(["F", "M", "F", "M"], dtype=pd.ArrowDtype(pa.string())),
        "arrow-dictionary": pd.Series(
            ["F", "M", "F", "M"], dtype=pd.ArrowDtype(pa.dictionary(pa.int32(), pa.string()))
        ),
    }
    for name, column in values.items():
        columns = EvaluationColumns(label="y", prediction="p", score="s", sensitive=("g",), features=("g",))
        arrays = prepare_arrays(_table(g=column), columns, task="binary_classification", row_id="g")
        assert arrays.y_true.tolist() == [0, 1, 1, 0], name


@pytest.mark.parametrize("kind", ["list", "struct"])
def test_a_parquet_list_or_struct_sensitive_feature_stops_the_build_naming_the_file_and_column(
    kind: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = holdout_table()
    ws = write_workspace(tmp_path / "ws", table=table)
    arrow = pa.Table.from_pandas(table, preserve_index=False)
    nested = [[v] for v in table["sex"]] if kind == "list" else [{"code": v} for v in table["sex"]]
    arrow = arrow.set_column(arrow.column_names.index("sex"), "sex", pa.array(nested))
    pq.write_table(arrow, ws / "data/holdout.parquet")
    edit(ws, VERSION, "data: data/holdout.csv", "data: data/holdout.parquet")
    code, err = _build(ws, capsys)
    assert code == 2, err
    assert "data/holdout.parquet: column 'sex': 400 values are lists or objects, not single values" in err


# --------------------------------------------------------------------------- groups that look alike

LOOKALIKES = {
    "trailing space": "F ",
    "zero-width space": "F\u200b",
    "full width": "\uff26",
    "lower case": "f",
    "byte-order mark": "\ufeffF",
}


@pytest.mark.parametrize("respelt", list(LOOKALIKES.values()), ids=list(LOOKALIKES))
def test_a_group_respelt_to_look_like_another_is_refused_naming_both(respelt: str) -> None:
    """Respelling part of a group splits it into groups that read as one, each perhaps too small
    to be measured: the red team's way to make a fairness rule pass. The column is refused."""
    table = _table(g=["F", "M", respelt, "M"])
    columns = EvaluationColumns(label="y", prediction="p", score="s", sensitive=("g",))
    with pytest.raises(DataProblem, match="groups look alike but are different values") as caught:
        analyse_evaluation(table, columns, task="binary_classification", min_group_size=1, resampling=Resampling(0))
    assert caught.value.column == "g" and "'F'" in str(caught.value)


def test_groups_that_only_look_different_in_numbers_or_are_distinct_names_pass() -> None:
    for groups in (
        ["F", "M", "X", None],
        [1.5, 15.0, 1.5, 15.0],
        ["18-29", "30-44", "45-59", "60+"],
        ["a", "b", "c", "d"],
    ):
        columns = EvaluationColumns(label="y", prediction="p", score="s", sensitive=("g",))
        analyse_evaluation(
            _table(g=groups), columns, task="binary_classification", min_group_size=1, resampling=Resampling(0)
        )


def test_a_respelt_group_stops_the_build_naming_the_file_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = holdout_table()
    females = table.index[table["sex"] == "F"][:20]
    table.loc[females, "sex"] = "F\u200b"
    ws = write_workspace(tmp_path / "ws", table=table)
    code, err = _build(ws, capsys)
    assert code == 2, err
    assert "data/holdout.csv: column 'sex': 1 set(s) of groups look alike" in err and "'F\\u200b'" in err


# --------------------------------------------------------------------------- class labels


def _classes(label: str, prediction: str, **columns) -> EvaluationColumns:
    return EvaluationColumns(label=label, prediction=prediction, score=None, sensitive=(), **columns)


def test_whole_numbers_beyond_64_bits_stay_distinct_classes() -> None:
    """Every label of 2**63 or more was cast to int64's minimum: three classes became one, and a
    model wrong about every row scored an accuracy of 1.0. An integer column keeps them exactly."""
    big = pd.Series([10**19, 10**19 + 1, 18 * 10**18], dtype="uint64")
    table = pd.DataFrame({"y": big, "p": big.iloc[[1, 2, 0]].reset_index(drop=True)})
    arrays = prepare_arrays(table, _classes("y", "p"), task="multiclass_classification")
    assert arrays.y_true.tolist() == ["10000000000000000000", "10000000000000000001", "18000000000000000000"]
    assert (arrays.y_true == arrays.y_pred).sum() == 0


@pytest.mark.parametrize("task", ["multiclass_classification", "binary_classification"])
@pytest.mark.parametrize("column", ["y", "p"])
def test_whole_numbers_floating_point_cannot_tell_apart_are_refused_naming_the_column(task: str, column: str) -> None:
    """As floating point, 1e19 is also 10**19 + 1 (and 2**53 is 2**53 + 1): refused, not guessed."""
    table = pd.DataFrame({"y": [1.0, 2.0, 1.0, 2.0], "p": [1.0, 2.0, 2.0, 2.0]})
    table[column] = [1e19, 2.0**53, 1e19, 2.0**53]
    with pytest.raises(
        DataProblem, match=r"^4 values are whole numbers of 2\*\*53 \(9,007,199,254,740,992\)"
    ) as caught:
        prepare_arrays(table, _classes("y", "p"), task=task)
    assert caught.value.column == column
    assert "(e.g. 1e+19)" in caught.value.message


@pytest.mark.parametrize("task", ["multiclass_classification", "binary_classification"])
@pytest.mark.parametrize("column", ["y", "p"])
@pytest.mark.parametrize("value", [np.inf, -np.inf, "inf"], ids=["inf", "-inf", "text inf"])
def test_an_infinite_label_or_prediction_is_refused_naming_the_column(task: str, column: str, value) -> None:
    """``inf`` (or ``1e309``, which a CSV reader makes infinite) stopped the build with an internal error."""
    table = pd.DataFrame({"y": [0, 1, 1, 0], "p": [0, 1, 0, 0]}, dtype=object if isinstance(value, str) else float)
    table.loc[2, column] = value
    with pytest.raises(DataProblem, match=r"^1 values are infinite$") as caught:
        prepare_arrays(table, _classes("y", "p"), task=task)
    assert caught.value.column == column


def test_a_positive_label_that_cannot_be_a_class_is_refused_naming_it() -> None:
    table = pd.DataFrame({"y": [0, 1, 1, 0], "p": [0, 1, 0, 0]})
    for positive in (float("inf"), 1e19):
        with pytest.raises(DataProblem, match=re.escape(f"positive_label {positive!r} cannot be a class")) as caught:
            prepare_arrays(table, _classes("y", "p", positive_label=positive), task="binary_classification")
        assert caught.value.column == "y"


def test_numbers_are_compared_as_numbers_whole_or_not() -> None:
    """``1.0`` among ``2.5`` is the class ``1``, as it is among whole numbers: a float column mixing
    whole and other numbers was compared as text (``"1.0"``) with an integer column's ``"1"``."""
    table = pd.DataFrame({"y": [1.0, 2.5, 3.0, 1.0], "p": [1, 3, 3, 2], "t": ["1", "2.50", "3.0", "1"]})
    arrays = prepare_arrays(table, _classes("y", "p"), task="multiclass_classification")
    assert arrays.y_true.tolist() == ["1", "2.5", "3", "1"]
    assert (arrays.y_true == arrays.y_pred).tolist() == [True, False, True, False]
    written = prepare_arrays(table, _classes("t", "y"), task="multiclass_classification")
    assert written.y_true.tolist() == written.y_pred.tolist()  # "2.50" and 2.5, "3.0" and 3.0: one class each


# --------------------------------------------------------------------------- through the command line


def _build(ws: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = main(["build", str(ws), "-o", str(ws.parent / "site"), "--quiet", "--no-cache", "--jobs", "1"])
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err, err
    return code, err


def _multiclass(ws: Path) -> None:
    edit(ws, "models/loans/model.yml", "task: binary_classification", "task: multiclass_classification")
    edit(ws, VERSION, "    score: score\n    threshold: 0.5\n", "")


def test_labels_of_2_to_the_63_or_more_do_not_make_a_wrong_model_right(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The red team's case: three classes 1e19, 2e19 and 3e19, every prediction wrong, read an
    accuracy of 1.000 (each label was cast to the same 64-bit integer) and passed `>= 0.9`."""
    rng = np.random.default_rng(0)
    classes = rng.integers(1, 4, 400)
    table = holdout_table().assign(defaulted=classes * 1e19, predicted=(classes % 3 + 1) * 1e19)
    ws = write_workspace(tmp_path / "ws", table=table)
    _multiclass(ws)
    code, err = _build(ws, capsys)
    assert code == 2, err
    assert "data/holdout.csv: column 'defaulted': 400 values are whole numbers of 2**53" in err


@pytest.mark.parametrize("task", ["binary_classification", "multiclass_classification"])
@pytest.mark.parametrize("column", ["defaulted", "predicted"])
@pytest.mark.parametrize("written", ["inf", "1e309", "-inf"])
def test_an_infinite_label_or_prediction_stops_the_build_naming_the_file_and_column(
    task: str, column: str, written: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 3, "internal error: IntCastingNaNError", before: now the message the score column gets."""
    ws = write_workspace(tmp_path / "ws")
    if task == "multiclass_classification":
        _multiclass(ws)
    lines = (ws / "data/holdout.csv").read_text().splitlines()
    header = lines[0].split(",")
    cells = lines[5].split(",")
    cells[header.index(column)] = written
    lines[5] = ",".join(cells)
    (ws / "data/holdout.csv").write_text("\n".join(lines) + "\n")
    code, err = _build(ws, capsys)
    assert code == 2, err
    assert f"data/holdout.csv: column {column!r}: 1 values are infinite" in err


# --------------------------------------------------------------------------- how many groups


def _grouped(**columns) -> pd.DataFrame:
    rows = 1_000
    rng = np.random.default_rng(3)
    score = rng.random(rows).round(3)
    return pd.DataFrame({"y": rng.integers(0, 2, rows), "p": (score >= 0.5).astype(int), "s": score, **columns})


@pytest.mark.parametrize("task", ["binary_classification", "regression"])
@pytest.mark.parametrize(("distinct", "refused"), [(100, False), (101, True)])
def test_a_sensitive_feature_has_at_most_100_groups(task: str, distinct: int, refused: bool) -> None:
    """More distinct values are a value per person or nearly, not a grouping: refused naming the column
    and the count, before anything is computed (5,000 groups took 81 s; 50,000, 10 minutes and 9 GB)."""
    table = _grouped(g=[f"g{i % distinct}" for i in range(1_000)])
    columns = EvaluationColumns(label="y", prediction="p", score=None, sensitive=("g",))
    if not refused:
        analysis = analyse_evaluation(table, columns, task=task, min_group_size=5, resampling=Resampling(0))
        assert len(analysis.fairness[0].groups) == distinct
        return
    with pytest.raises(DataProblem) as caught:
        analyse_evaluation(table, columns, task=task, min_group_size=5, resampling=Resampling(0))
    assert caught.value.key == "column 'g'"
    assert caught.value.message.startswith(
        "101 distinct values (e.g. 'g0', 'g1', 'g2'), more than the 100 groups a sensitive feature may have"
    )
    assert "take it out of sensitive_features in model.yml" in caught.value.message


def test_missing_values_are_one_of_the_groups_counted() -> None:
    values = [f"g{i % 100}" if i % 7 else None for i in range(1_000)]
    columns = EvaluationColumns(label="y", prediction="p", score=None, sensitive=("g",))
    with pytest.raises(DataProblem, match=r"^101 distinct values"):
        analyse_evaluation(_grouped(g=values), columns, task="binary_classification", min_group_size=5)


def test_an_intersection_has_at_most_100_groups() -> None:
    """Two features of 20 and 10 groups make 200 combinations: the intersection is refused, naming
    both columns; each feature alone is fine."""
    table = _grouped(a=[f"a{i % 20}" for i in range(1_000)], b=[f"b{(i // 20) % 10}" for i in range(1_000)])
    columns = EvaluationColumns(
        label="y", prediction="p", score=None, sensitive=("a", "b"), intersections=(("a", "b"),)
    )
    with pytest.raises(DataProblem) as caught:
        analyse_evaluation(table, columns, task="binary_classification", min_group_size=5, resampling=Resampling(0))
    assert caught.value.key == "columns 'a' × 'b'"
    assert caught.value.message.startswith("200 combinations of values (e.g. 'a0 × b0', 'a1 × b0', 'a2 × b0')")
    assert "take the intersection out of intersections in model.yml" in caught.value.message
