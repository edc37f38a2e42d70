"""Analyse one evaluation table: prepare its columns, then compute performance and fairness.

The table arrives as a DataFrame with the declared columns; this module checks what the schema
cannot (missing values, non-numeric scores, a positive label that never occurs), converts the
labels to the 0/1 form the metrics expect, and calls the pure metric modules. Problems are raised
as :class:`DataProblem` naming the column; the caller adds the file.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from modelgov.analysis.comparison import RunArrays
from modelgov.analysis.duplicates import duplicate_rows
from modelgov.analysis.fairness import MISSING_GROUP, combined_labels, fairness_by_group, group_labels
from modelgov.analysis.performance import binary_performance, multiclass_performance, regression_performance
from modelgov.analysis.resampling import DEFAULT_RESAMPLING, Resampling
from modelgov.feature_names import MAX_GROUPS, evidence_name
from modelgov.lookalikes import lookalike_problem
from modelgov.manifest import DuplicateRows, FairnessResult, Performance


class DataProblem(Exception):
    """A column's content makes an analysis impossible. ``key`` says where, when that is not one
    column (the columns of an intersection)."""

    def __init__(self, column: str, message: str, *, key: str | None = None):
        super().__init__(message)
        self.column = column
        self.message = message
        self.key = key if key is not None else f"column {column!r}"


@dataclass(frozen=True)
class EvaluationColumns:
    """Which columns of the table play which role."""

    label: str
    prediction: str
    score: str | None
    sensitive: tuple[str, ...]
    positive_label: object = 1
    threshold: float | None = None
    intersections: tuple[tuple[str, ...], ...] = ()
    #: the model's input columns: explanations slice the rows by them, so they too must hold single values
    features: tuple[str, ...] = ()
    expected_groups: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: feature → pairs (group, reference) to compare by name; a reference group becomes one pair per group
    comparisons: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()
    reference_groups: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class EvaluationAnalysis:
    performance: Performance
    fairness: tuple[FairnessResult, ...]
    arrays: RunArrays
    duplicates: DuplicateRows | None = None


def analyse_evaluation(
    table: pd.DataFrame,
    columns: EvaluationColumns,
    *,
    task: str,
    min_group_size: int,
    exclude_small_groups: bool = True,
    resampling: Resampling = DEFAULT_RESAMPLING,
    row_id: str | None = None,
) -> EvaluationAnalysis:
    """Performance and per-group fairness of one evaluation run."""
    arrays = prepare_arrays(table, columns, task=task, row_id=row_id)
    intersections: dict[tuple[str, ...], pd.Series] = {}
    if task != "multiclass_classification":  # the tasks whose rows are grouped
        for feature in columns.sensitive:  # labelled once here for both checks
            groups_look_distinct(_groups_bounded(group_labels(table[feature]), (feature,)), feature)
        for combination in columns.intersections:
            intersections[combination] = _groups_bounded(combined_labels(table, list(combination)), combination)
    y_true, y_pred = arrays.y_true, arrays.y_pred
    if task == "regression":
        performance = regression_performance(y_true, y_pred, resampling)
    elif task == "binary_classification":
        performance = binary_performance(
            y_true,
            y_pred,
            arrays.y_score,
            threshold=columns.threshold,
            positive_label=str(columns.positive_label),
            resampling=resampling,
        )
    else:
        performance = multiclass_performance(y_true, y_pred, resampling)

    fairness: list[FairnessResult] = []
    if task != "multiclass_classification":
        expected = dict(columns.expected_groups)
        pairs, references = dict(columns.comparisons), dict(columns.reference_groups)
        common = {
            "classification": task == "binary_classification",
            "min_group_size": min_group_size,
            "exclude_small_groups": exclude_small_groups,
        }
        for feature in columns.sensitive:
            fairness.append(
                fairness_by_group(
                    feature,
                    table[feature],
                    y_true,
                    y_pred,
                    expected_groups=list(expected.get(feature, ())),
                    reference_group=references.get(feature),
                    pairs=list(pairs.get(feature, ())),
                    resampling=resampling,
                    **common,
                )
            )
        for combination in columns.intersections:
            labels = intersections[combination]
            fairness.append(
                fairness_by_group(
                    str(labels.name),
                    labels,
                    y_true,
                    y_pred,
                    features=list(combination),
                    resampling=resampling,
                    **common,
                )
            )
    if fairness:
        arrays = replace(arrays, groups=_group_labels(table, columns))
    read = [columns.label, columns.prediction, *([columns.score] if columns.score else []), *columns.features]
    duplicates = duplicate_rows(table, [*read, *columns.sensitive], columns.sensitive)
    return EvaluationAnalysis(performance, tuple(fairness), arrays, duplicates)


def _groups_bounded(labels: pd.Series, features: tuple[str, ...]) -> pd.Series:
    """``labels`` (each row's group) when they make at most :data:`MAX_GROUPS` groups. More is not a
    sensitive feature but a value per person or nearly, and is refused naming the column and the
    count: analysed, its groups would be hundreds of rows of tables, charts and policy evidence that
    no reviewer can read, each too small to say anything (and the pages' cost grows with their square)."""
    groups = int(labels.nunique(dropna=False))
    if groups <= MAX_GROUPS:
        return labels
    shown = ", ".join(repr(str(v)) for v in labels.drop_duplicates().head(3))
    if len(features) == 1:
        what, fix = "distinct values", "bin it into groups, or take it out of sensitive_features in model.yml"
    else:
        what = "combinations of values"
        fix = "intersect fewer or coarser features, or take the intersection out of intersections in model.yml"
    raise DataProblem(
        features[0],
        f"{groups:,} {what} (e.g. {shown}), more than the {MAX_GROUPS:,} groups a sensitive feature may "
        f"have: that is a value per person or nearly, not a grouping of people; {fix}",
        key=f"column {features[0]!r}" if len(features) == 1 else "columns " + " × ".join(map(repr, features)),
    )


def _group_labels(table: pd.DataFrame, columns: EvaluationColumns) -> dict[str, np.ndarray]:
    """Each row's group for every sensitive feature and intersection, labelled as the fairness table
    labels it and keyed as evidence paths name it (``sex``, ``sex+age_band``): a comparison with
    another version groups the paired rows by these."""
    out = {feature: group_labels(table[feature].reset_index(drop=True)).to_numpy() for feature in columns.sensitive}
    for combination in columns.intersections:
        out[evidence_name(combination)] = combined_labels(table, list(combination)).to_numpy()
    return out


def prepare_arrays(
    table: pd.DataFrame,
    columns: EvaluationColumns,
    *,
    task: str,
    row_id: str | None = None,
    part_of_a_log: bool = False,
) -> RunArrays:
    """Check the label, prediction and score columns and convert them to the arrays metrics use:
    0/1 for binary tasks (1 = positive label), floats for regression, text for multiclass.

    ``part_of_a_log``: the table is one monitoring window, whose outcomes may all be one class; a
    binary prediction is then refused only when label, prediction and positive label together hold
    more than two values (a window of positive outcomes may rightly hold negative predictions)."""
    if table.empty:
        raise DataProblem(columns.label, "the evaluation table has no rows")
    for column in (columns.label, columns.prediction, *([columns.score] if columns.score else [])):
        missing = int(table[column].isna().sum())
        if missing:
            raise DataProblem(column, f"{missing:,} of {len(table):,} rows have no value")
    grouped = (*columns.sensitive, *columns.features, *([row_id] if row_id else []))  # grouped, or paired on
    for column in dict.fromkeys(
        (columns.label, columns.prediction, *([columns.score] if columns.score else []), *grouped)
    ):
        scalars_only(table, column)
    ids = table[row_id].reset_index(drop=True) if row_id else None
    if task == "regression":
        return RunArrays(_numeric(table, columns.label), _numeric(table, columns.prediction), row_ids=ids)
    if task == "binary_classification":
        _predictions_are_label_values(table, columns, two_classes_suffice=part_of_a_log)
        arrays = RunArrays(
            _is_positive(table, columns.label, columns.positive_label),
            _is_positive(table, columns.prediction, columns.positive_label),
            _probability(table, columns.score) if columns.score else None,
            row_ids=ids,
        )
        if arrays.y_score is not None and columns.threshold is not None:
            _threshold_holds(arrays, columns)
        return arrays
    labels = class_labels(table[columns.label], columns.label)
    predictions = class_labels(table[columns.prediction], columns.prediction)
    if not set(predictions) & set(labels):
        raise DataProblem(
            columns.prediction,
            f"no predicted class occurs among the labels (e.g. prediction {_shown(predictions[0])}, label {_shown(labels[0])})",
        )
    return RunArrays(labels, predictions, row_ids=ids)


def groups_look_distinct(labels: pd.Series, column: str) -> None:
    """Refuse a sensitive feature whose groups (``labels``, each row's, from :func:`group_labels`) a
    reader cannot tell apart.

    ``F``, ``f``, ``F `` (a trailing space), a full-width ``Ｆ`` and ``F`` followed by a zero-width
    space are different values, so the analysis would count them as five groups, each perhaps too small to be measured
    and left out of the disparity summaries, while the page shows five groups that read as one: a
    way to hide a gap by respelling one group. Groups whose labels share a look-alike key
    (:func:`modelgov.lookalikes.lookalike_key`: case, width, invisible characters, spaces, dashes
    and look-alike letters set aside) are refused, naming them, so that each group is spelt one way."""
    names = (str(name) for name in pd.unique(labels) if name != MISSING_GROUP)
    problem = lookalike_problem(names)
    if problem:
        raise DataProblem(column, problem)


def _shown(value: object) -> str:
    """A data value as the user wrote it: ``1.2`` and ``'high'``, not ``np.float64(1.2)``."""
    item = getattr(value, "item", None)
    return repr(item() if callable(item) else value)


#: What :func:`pandas.api.types.infer_dtype` says of an object column that holds single values only.
_SCALAR_KINDS = frozenset(
    {"string", "bytes", "integer", "floating", "mixed-integer-float", "decimal", "complex", "boolean", "empty"}
    | {"datetime64", "datetime", "date", "timedelta64", "timedelta", "time", "period", "interval"}
)


def scalars_only(table: pd.DataFrame, column: str) -> None:
    """Refuse a column of lists or objects (a Parquet list or struct column, objects in JSON Lines):
    a value that is not one value cannot be a class, a number, a group or an id."""
    values = table[column]
    dtype = values.dtype
    objects = pd.api.types.is_object_dtype(dtype)
    if not (objects or isinstance(dtype, pd.CategoricalDtype | pd.ArrowDtype)):
        return  # numbers, booleans, text, times: one value per row
    if isinstance(dtype, pd.ArrowDtype) and not _arrow_nested(dtype):
        return
    if objects and pd.api.types.infer_dtype(values, skipna=True) in _SCALAR_KINDS:
        return  # looked at in C, where only a mix of kinds is looked at value by value
    nested = values.map(lambda v: isinstance(v, dict | list | tuple | set | np.ndarray)).to_numpy()
    if nested.any():
        raise DataProblem(column, f"{int(nested.sum()):,} values are lists or objects, not single values")


def _arrow_nested(dtype: pd.ArrowDtype) -> bool:
    """Whether an Arrow-backed column holds lists, structs or maps (directly or as a dictionary's values)."""
    import pyarrow as pa

    kind = dtype.pyarrow_dtype
    return pa.types.is_nested(kind) or (pa.types.is_dictionary(kind) and pa.types.is_nested(kind.value_type))


#: Every whole number below this magnitude is exactly one floating-point value, and no other whole
#: number is rounded to it; from here on, neighbouring whole numbers share one (``2**53 + 1`` is read
#: as ``2**53``), so a label held as floating point cannot be told from its neighbours.
EXACT_WHOLE_FLOAT = 2**53


def class_labels(values: pd.Series, column: str) -> np.ndarray:
    """Class values as text, numbers written alike: ``1``, ``1.0`` and ``"1"`` are one class, and
    ``2.5`` and ``"2.50"`` another.

    A column whose every value reads as a number is compared as numbers: a whole number is written
    as an integer, exactly (an integer column's ``10000000000000000000`` stays itself), any other
    number as its shortest decimal. Refused, as :class:`DataProblem` naming ``column``: an infinite
    value, which is no class, and a whole number of 2**53 or more held as floating point, which
    cannot be told from its neighbours (distinct classes may have been rounded to one when the table
    was written or read). A column with any value that is not a number is compared as text."""
    numeric = pd.to_numeric(values, errors="coerce")
    if not numeric.notna().all():
        return values.astype(str).to_numpy()
    if pd.api.types.is_bool_dtype(numeric):
        return numeric.astype("int64").astype(str).to_numpy()
    if pd.api.types.is_integer_dtype(numeric):
        return numeric.astype(str).to_numpy()  # int64 or uint64: every value exactly
    numbers = numeric.to_numpy(dtype=float, na_value=np.nan)
    if np.isnan(numbers).any():  # text in an Arrow column reads as NaN, not as missing
        return values.astype(str).to_numpy()
    _finite_classes(numbers, column)
    whole = numbers == np.round(numbers)
    if whole.all():
        return numeric.astype("int64").astype(str).to_numpy()
    texts = numeric.astype(str).to_numpy()
    texts[whole] = numeric[whole].astype("int64").astype(str).to_numpy()
    return texts


def _finite_classes(numbers: np.ndarray, column: str) -> None:
    """Refuse the floating-point class values :func:`class_labels` cannot write as one class each."""
    infinite = np.isinf(numbers)
    if infinite.any():
        raise DataProblem(column, f"{int(infinite.sum()):,} values are infinite")
    beyond = np.abs(numbers) >= EXACT_WHOLE_FLOAT
    if beyond.any():
        raise DataProblem(
            column,
            f"{int(beyond.sum()):,} values are whole numbers of 2**53 ({EXACT_WHOLE_FLOAT:,}) or more read as "
            f"floating point (e.g. {_shown(numbers[beyond][0])}), where neighbouring whole numbers are one value: "
            "distinct classes could be counted as one; write the classes as 64-bit integers, or as names that "
            "are not numbers",
        )


def _predictions_are_label_values(
    table: pd.DataFrame, columns: EvaluationColumns, *, two_classes_suffice: bool = False
) -> None:
    """A prediction that is neither class would silently count as a negative: refuse it."""
    allowed = set(class_labels(table[columns.label], columns.label).tolist()) | {_positive_class(columns)}
    predicted = class_labels(table[columns.prediction], columns.prediction)
    if two_classes_suffice and len(allowed | set(predicted.tolist())) <= 2:
        return
    unknown = sorted(set(predicted.tolist()) - allowed)
    if unknown:
        count = int(np.isin(predicted, unknown).sum())
        shown = ", ".join(_shown(v) for v in unknown[:3])
        raise DataProblem(
            columns.prediction,
            f"{count:,} predictions ({shown}) are not values of the label column {columns.label!r}",
        )


def _positive_class(columns: EvaluationColumns) -> str:
    """``positive_label`` written as :func:`class_labels` writes the label column's values."""
    try:
        (text,) = class_labels(pd.Series([columns.positive_label]), columns.label)
    except DataProblem:
        raise DataProblem(
            columns.label,
            f"positive_label {columns.positive_label!r} cannot be a class: a class that is a number must be finite, "
            f"and below 2**53 ({EXACT_WHOLE_FLOAT:,}) unless written as an integer",
        ) from None
    return str(text)


def _threshold_holds(arrays: RunArrays, columns: EvaluationColumns) -> None:
    """The declared threshold is shown on every page: check it is the one that made the predictions."""
    implied = (arrays.y_score >= columns.threshold).astype(int)
    mismatched = int((implied != arrays.y_pred).sum())
    if mismatched:
        raise DataProblem(
            columns.prediction,
            f"{mismatched:,} of {len(implied):,} predictions differ from score >= threshold "
            f"({columns.threshold}); fix the threshold or the prediction column",
        )


def _numeric(table: pd.DataFrame, column: str) -> np.ndarray:
    values = pd.to_numeric(table[column], errors="coerce")
    bad = values.isna() & table[column].notna()
    if bad.any():
        example = table[column][bad].iloc[0]
        raise DataProblem(column, f"{int(bad.sum()):,} values are not numbers (e.g. {_shown(example)})")
    numbers = values.to_numpy(dtype=float)
    infinite = np.isinf(numbers)
    if infinite.any():
        raise DataProblem(column, f"{int(infinite.sum()):,} values are infinite")
    return numbers


def _probability(table: pd.DataFrame, column: str) -> np.ndarray:
    values = _numeric(table, column)
    outside = (values < 0) | (values > 1)
    if outside.any():
        raise DataProblem(
            column,
            f"{int(outside.sum()):,} scores are outside [0, 1] (e.g. {_shown(values[outside][0])}); "
            "the score must be the probability of the positive class",
        )
    return values


def _is_positive(table: pd.DataFrame, column: str, positive_label: object) -> np.ndarray:
    """1 where the column equals the positive label, else 0, comparing numbers as numbers.

    A CSV turns ``1`` into an integer and a JSON file may keep ``"1"`` as text; comparing as text
    when either side is not numeric makes both work.
    """
    values = table[column]
    numeric_label = isinstance(positive_label, int | float) and not isinstance(positive_label, bool)
    if numeric_label and pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        positive = values.to_numpy() == positive_label
    else:
        positive = (values.astype(str) == str(positive_label)).to_numpy()
    distinct = pd.unique(values)
    if len(distinct) > 2:
        shown = ", ".join(_shown(v) for v in sorted(distinct, key=str)[:5])
        raise DataProblem(column, f"a binary task needs two classes; found {len(distinct)} ({shown}, …)")
    if not positive.any() and len(distinct) == 2:
        shown = ", ".join(_shown(v) for v in sorted(distinct, key=str))
        raise DataProblem(
            column,
            f"positive_label {positive_label!r} does not occur (values are {shown}); set positive_label",
        )
    return positive.astype(int)
