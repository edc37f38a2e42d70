"""Rows of an evaluation table that repeat another row in every column the evaluation reads.

A record counted twice pulls every figure toward it, and the bootstrap resamples it as two records,
so every interval is narrower than the data supports. A table can be padded with copies of real
rows, say the approved applicants of one group, to lift that group's rate: the model file, run on
the table, still reproduces every row, so nothing else would catch it.

Rows are compared on the columns the figures read (label, prediction, score, features, sensitive
features), not on the whole row: a copy given a new id, or a changed value in a column no figure
reads, is still a copy for every figure. Copies are not always wrong (two applicants can share every
answer of a short questionnaire), so the count is reported as a fact, and called implausible only
when some compared column is a measurement with fractions (a score to six decimals, an income in
cents: not a count, a code or a class) whose values differ between at least :data:`NEARLY_UNIQUE`
of the distinct rows, and another column is compared beside it: two records equal in such a value
and in every other column by chance are not to be expected. The share is taken over the distinct
rows, so padding a table with copies cannot bring it under the bar. (Data-quality tools such as
Deepchecks' ``DataDuplicates`` report the share of duplicate rows with a condition on it, at most
5 % by default; a few copies of one small group's rows move that group's rate while the share stays
far below, hence a test of plausibility rather than of share.)
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd

from modelgov.manifest import DuplicateRows

__all__ = ["NEARLY_UNIQUE", "duplicate_rows"]

#: A column whose values differ between at least this share of the distinct rows makes a copy of a
#: whole row by chance implausible.
NEARLY_UNIQUE = 0.9


def duplicate_rows(table: pd.DataFrame, columns: Sequence[str]) -> DuplicateRows | None:
    """The rows of ``table`` that repeat an earlier row in every one of ``columns``; ``None`` when
    none does (or no column can be compared). A column whose cells cannot be compared (lists) is left
    out of the comparison, which can then only find more copies, never fewer."""
    compared = [c for c in dict.fromkeys(columns) if c in table.columns]
    if len(table) < 2:
        return None
    try:
        repeated = table[compared].duplicated(keep="first").to_numpy()
    except TypeError:  # a cell that is a list or an array
        compared = [c for c in compared if _hashable(table[c])]
        repeated = table[compared].duplicated(keep="first").to_numpy() if compared else None
    if repeated is None:
        return None
    frame = table[compared]
    count = int(repeated.sum())
    if count == 0:
        return None
    distinct = frame[~repeated]
    records = len(frame[repeated].drop_duplicates())
    best, share = None, 0.0
    for column in compared if len(compared) > 1 else ():  # one column alone: its copies are its ties
        values = distinct[column]
        if not _continuous(values):
            continue
        column_share = values.nunique(dropna=False) / len(distinct)
        if column_share > share:
            best, share = column, column_share
    return DuplicateRows(
        rows=count,
        records=records,
        columns=compared,
        distinct_column=best if share >= NEARLY_UNIQUE else None,
        distinct_share=share if share >= NEARLY_UNIQUE else None,
    )


def _continuous(values: pd.Series) -> bool:
    """A measurement with fractions (a score, an income in cents): not a count, a code or a label,
    whose values records share by nature (ages, postcodes, classes)."""
    if values.dtype.kind != "f":
        return False
    numbers = values.to_numpy()
    finite = numbers[np.isfinite(numbers)]
    return bool(finite.size) and bool((finite != np.round(finite)).any())


def _hashable(values: pd.Series) -> bool:
    return values.dtype != object or all(isinstance(value, Hashable) for value in values)
