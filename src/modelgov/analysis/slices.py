"""Where the model is most often wrong: error by slice of the evaluation data.

This part of explainability needs only the label and prediction columns, so it runs for every
evaluation — with a model file, with one that cannot be loaded, or with none at all. A slice is one
feature condition (``employment_type = contract``) or two (``age 18–27`` and
``debt_ratio 0.45–0.92``); slices are ranked by their error and the worst ones are reported with
their row counts, so a reader can tell a real weak spot from a handful of unlucky rows.

How columns become conditions, chosen for readability over resolution:

* text, booleans and numbers with at most :data:`DISCRETE_MAX` distinct values: one slice per value;
* other numbers: quartiles (``pandas.qcut``, ties merged), labelled with the smallest and largest
  value actually in the bin (``12,000–25,000``), so neighbouring labels never overlap;
* missing values: their own slice, ``(missing)`` — the rows a reviewer should ask about are never
  dropped;
* columns with more than :data:`MAX_LEVELS` distinct text values (identifiers, free text) are not
  sliced: their slices would be too small to mean anything;
* pairs: every pair of up to :data:`MAX_PAIR_FEATURES` usable features; beyond, the pairs of those
  whose single slices have the highest error, with a note (the pairs of every feature would grow with
  the square of the table's width: 26 s at 300 features, hours at a few thousand).

Slices with fewer than ``min_group_size`` rows are left out: the page shows where error is high
*and* the evidence is large enough to act on. Error is 1 − accuracy for classification and the mean
absolute error for regression.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from itertools import combinations

import numpy as np
import pandas as pd

from modelgov.analysis.fairness import MISSING_GROUP
from modelgov.manifest import ErrorSlice

TOP_SLICES = 10
QUANTILE_BINS = 4
#: Numbers with at most this many distinct values are sliced by value, not by quartile.
DISCRETE_MAX = 10
#: Text columns with more distinct values than this are not sliced.
MAX_LEVELS = 30
#: Features whose pairs are sliced: beyond this many usable features, the pairs are formed among those
#: whose single slices have the highest error (a table of 1,000 features has 499,500 pairs).
MAX_PAIR_FEATURES = 40

ERROR_RATE = "error rate"
MAE = "mean absolute error"


def row_errors(
    label: pd.Series, prediction: pd.Series, *, task: str, positive_label: object = 1
) -> tuple[np.ndarray, str]:
    """Per-row error (0/1 for a wrong class, |prediction − label| for regression) and its name.
    Classes are compared as the evaluation compares them (:func:`.evaluation.class_labels`: ``1`` and
    ``1.0`` are one class), so the slices' overall error is 1 − the evaluation's accuracy."""
    if task == "regression":
        y_true = pd.to_numeric(label, errors="raise").to_numpy(dtype=float)
        y_pred = pd.to_numeric(prediction, errors="raise").to_numpy(dtype=float)
        return np.abs(y_pred - y_true), MAE
    if task == "binary_classification":
        wrong = positive(label, positive_label) != positive(prediction, positive_label)
    else:
        from modelgov.analysis.evaluation import class_labels

        wrong = class_labels(label, str(label.name)) != class_labels(prediction, str(prediction.name))
    return wrong.astype(float), ERROR_RATE


def positive(values: pd.Series, positive_label: object) -> np.ndarray:
    """True where ``values`` equals the positive label: numbers compared as numbers, otherwise as
    text (a CSV reads ``1`` as a number where a JSON file may keep ``"1"``), as the evaluation does."""
    numeric_label = isinstance(positive_label, int | float) and not isinstance(positive_label, bool)
    if numeric_label and pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
        return values.to_numpy() == positive_label
    return (values.astype(str) == str(positive_label)).to_numpy()


def slice_labels(values: pd.Series) -> pd.Series | None:
    """Each row's condition text for one column, or None when the column is not sliceable."""
    missing = values.isna()
    present = values[~missing]
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    if numeric and present.nunique() > DISCRETE_MAX:
        bins = pd.qcut(present.astype(float), QUANTILE_BINS, labels=False, duplicates="drop")
        bounds = present.groupby(bins).agg(["min", "max"])
        names = {
            code: number(low) if low == high else f"{number(low)}–{number(high)}"
            for code, (low, high) in bounds.iterrows()
        }
        text = bins.map(names)
    elif numeric:
        text = present.map(number)
    else:
        if present.nunique() > MAX_LEVELS:
            return None
        text = present.astype(str)
    labels = pd.Series(MISSING_GROUP, index=values.index, dtype=object)
    labels[~missing] = text.astype(object)
    return labels


Stats = Callable[[list[str]], Iterator[tuple[tuple[str, ...], int, float]]]


def _grouped_stats(labelled: dict[str, pd.Series], errors: np.ndarray) -> Stats:
    """Each slice's (condition values, rows, mean error) by pandas' groupby, whose compensated sum
    is what a continuous error (regression) is averaged with."""
    frame = pd.DataFrame({**labelled, "__error__": errors})

    def stats(key: list[str]) -> Iterator[tuple[tuple[str, ...], int, float]]:
        table = frame.groupby(key, sort=True)["__error__"].agg(["size", "mean"])
        for values, size, mean in zip(table.index, table["size"], table["mean"], strict=True):
            values = values if isinstance(values, tuple) else (values,)
            yield tuple(map(str, values)), int(size), float(mean)

    return stats


def _counted_stats(labelled: dict[str, pd.Series], errors: np.ndarray) -> Stats:
    """The same for 0/1 errors, by counting: each column's labels are numbered once and a slice of
    one or two columns is one ``bincount`` of rows and of errors. The sums are whole numbers, so each
    mean is the same division pandas makes (a test compares the two on every demo model)."""
    coded = {name: pd.factorize(labels, sort=False) for name, labels in labelled.items()}
    if any((codes < 0).any() for codes, _ in coded.values()):  # a label pandas would leave out
        return _grouped_stats(labelled, errors)

    def stats(key: list[str]) -> Iterator[tuple[tuple[str, ...], int, float]]:
        codes, levels = coded[key[0]]
        shape = [len(levels)]
        if len(key) == 2:
            second, second_levels = coded[key[1]]
            codes = codes.astype(np.int64) * len(second_levels) + second
            shape.append(len(second_levels))
        size = np.bincount(codes, minlength=int(np.prod(shape)))
        wrong = np.bincount(codes, weights=errors, minlength=len(size))
        for cell in np.flatnonzero(size):
            index = np.unravel_index(cell, shape)
            values = tuple(str(coded[name][1][i]) for name, i in zip(key, index, strict=True))
            yield values, int(size[cell]), float(wrong[cell] / size[cell])

    return stats


def number(value: float) -> str:
    """A readable number: thousands separators, whole numbers without decimals, and about three
    significant digits otherwise (``12,000``, ``0.452``, ``27.5``)."""
    value = float(value)
    if value.is_integer():
        return f"{int(value):,}"
    decimals = max(0, 2 - math.floor(math.log10(abs(value))))
    text = f"{value:,.{min(decimals, 6)}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def error_slices(
    table: pd.DataFrame,
    *,
    features: Sequence[str],
    label: str,
    prediction: str,
    task: str,
    positive_label: object = 1,
    min_group_size: int,
    top: int = TOP_SLICES,
) -> tuple[list[ErrorSlice], str, list[str]]:
    """The ``top`` slices (single features and pairs) with the highest error and at least
    ``min_group_size`` rows; also the error metric's name and notes on columns left out."""
    errors, metric = row_errors(table[label], table[prediction], task=task, positive_label=positive_label)
    overall = float(errors.mean())
    labelled: dict[str, pd.Series] = {}
    notes: list[str] = []
    for feature in dict.fromkeys(features):
        labels = slice_labels(table[feature])
        if labels is None:
            notes.append(
                f"`{feature}` was not used for error slices: it has {table[feature].nunique():,} distinct "
                f"values (more than {MAX_LEVELS}), too many for slices large enough to mean anything."
            )
        else:
            labelled[feature] = labels
    # 0/1 errors: a slice's mean is a count over a count, exact in any order
    stats_of = (_counted_stats if metric == ERROR_RATE else _grouped_stats)(labelled, errors)

    def slices(keys: list[list[str]]) -> list[ErrorSlice]:
        return [
            ErrorSlice(conditions=dict(zip(key, values, strict=True)), count=count, error=error, overall_error=overall)
            for key in keys
            for values, count, error in stats_of(key)
            if count >= min_group_size
        ]

    found = slices([[name] for name in labelled])
    paired = list(labelled)
    if len(paired) > MAX_PAIR_FEATURES:  # every pair would grow with the square of the table's width
        worst = {name: -1.0 for name in paired}
        for single in found:
            (name,) = single.conditions
            worst[name] = max(worst[name], single.error)
        paired = sorted(paired, key=lambda name: -worst[name])[:MAX_PAIR_FEATURES]  # stable: ties by order
        notes.append(
            f"Pairs of features are sliced among the {MAX_PAIR_FEATURES} of {len(labelled):,} whose single slices "
            f"have the highest error: slicing every pair would grow with the square of the number of features. "
            "A worse pair of two other features would not be found."
        )
    found += slices([list(pair) for pair in combinations([name for name in labelled if name in paired], 2)])
    # worst first; among equals the larger slice, then the simpler one, then by text (deterministic)
    found.sort(key=lambda s: (-s.error, -s.count, len(s.conditions), list(s.conditions.items())))
    return found[:top], metric, notes
