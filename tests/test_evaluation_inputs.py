"""The label, prediction and score columns must hold one value per row: a column of lists or
objects (a Parquet list column, a JSON object) is refused with the column named, whatever the
table's other dtypes, and plain columns pass through the check untouched."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from modelgov.analysis.evaluation import DataProblem, EvaluationColumns, prepare_arrays

COLUMNS = EvaluationColumns(label="y", prediction="p", score="s", sensitive=())


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
