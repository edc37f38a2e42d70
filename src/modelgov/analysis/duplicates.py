"""Rows of an evaluation table that repeat another row in every column the evaluation reads.

A record counted twice pulls every figure toward it, and the bootstrap resamples it as two records,
so every interval is narrower than the data supports. A table can be padded with copies of real
rows, say the approved applicants of one group, to lift that group's rate: the model file, run on
the table, still reproduces every row, so nothing else would catch it.

Rows are compared on the columns the figures read (label, prediction, score, features, sensitive
features), as values (a score written ``"0.250"`` is ``0.25``), not on the whole row: a copy given a
new id, or a changed value in a column no figure reads, is still a copy for every figure. Copies are
not always wrong (two applicants can share every answer of a short questionnaire), so the count is
reported as a fact, and called implausible only when some compared column is a measurement (with
fractions, like a score to six decimals, or whole numbers taking at least :data:`MANY_WHOLE_NUMBERS`
values, like an income in cents; not a class, a code or a small count) whose values differ between
at least :data:`NEARLY_UNIQUE` of the distinct rows, and another column is compared beside it: two
records equal in such a value and in every other column by chance are not to be expected. The share
is taken over the distinct rows, so padding a table with copies cannot bring it under the bar.
(Data-quality tools such as Deepchecks' ``DataDuplicates`` report the share of duplicate rows with
a condition on it, at most 5 % by default; a few copies of one small group's rows move that group's
rate while the share stays far below, hence a test of plausibility rather than of share.)

What this cannot see: a copy changed by a hair (a score moved by 1e-9, an income by one cent) is a
new row as far as any check of the table can tell, as a fabricated applicant is. The defence against
rows added to a table is its SHA-256: a sign-off bound to the table goes stale when it changes.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from modelgov.manifest import DuplicateRows

__all__ = ["NEARLY_UNIQUE", "duplicate_rows"]

#: A column whose values differ between at least this share of the distinct rows makes a copy of a
#: whole row by chance implausible.
NEARLY_UNIQUE = 0.9
#: Whole numbers taking at least this many values among the distinct rows count as a measurement.
MANY_WHOLE_NUMBERS = 1000
#: The groups of a sensitive feature whose copies are listed, most copies first.
MAX_GROUPS_SHOWN = 10


def duplicate_rows(table: pd.DataFrame, columns: Sequence[str], sensitive: Sequence[str] = ()) -> DuplicateRows | None:
    """The rows of ``table`` that repeat an earlier row in every one of ``columns``, compared as
    values (numbers written as text, decimals or categories read as numbers: ``0.25`` and ``"0.250"``
    are one score); ``None`` when none does. The columns hold single values: the evaluation refuses
    lists before it gets here (:func:`modelgov.analysis.evaluation.scalars_only`)."""
    compared = [c for c in dict.fromkeys(columns) if c in table.columns]
    if len(table) < 2 or not compared:
        return None
    frame = pd.DataFrame({column: _as_values(table[column]) for column in compared})
    repeated = _repeated(frame)
    count = int(repeated.sum())
    if count == 0:
        return None
    distinct = frame[~repeated]
    records = len(frame[repeated].drop_duplicates())
    best, share = None, 0.0
    for column in compared if len(compared) > 1 else ():  # one column alone: its copies are its ties
        values = distinct[column]
        distinct_values = values.nunique(dropna=False)
        if not _measurement(values, distinct_values):
            continue
        column_share = distinct_values / len(distinct)
        if column_share > share:
            best, share = column, column_share
    by_group = {}
    for feature in (f for f in dict.fromkeys(sensitive) if f in table.columns):
        counts = table[feature][repeated].astype(object).where(table[feature][repeated].notna(), "(missing)")
        top = counts.astype(str).value_counts().head(MAX_GROUPS_SHOWN)
        by_group[feature] = {str(group): int(n) for group, n in sorted(top.items(), key=lambda kv: (-kv[1], kv[0]))}
    return DuplicateRows(
        rows=count,
        records=records,
        columns=compared,
        distinct_column=best if share >= NEARLY_UNIQUE else None,
        distinct_share=share if share >= NEARLY_UNIQUE else None,
        by_group=by_group,
    )


def _repeated(frame: pd.DataFrame) -> np.ndarray:
    """``frame.duplicated(keep="first")``, in a fraction of its time on a large table: each row is
    hashed (64 bits), and only rows that share a hash are compared by pandas. Equal rows share a
    hash (pandas hashes ``-0.0`` as ``0.0`` and every NaN alike, as it compares them; the property
    test holds both), so a row whose hash is its own repeats nothing; a row that shares one is
    compared exactly, so a collision is never taken for a copy."""
    hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    shared = pd.Series(hashes).duplicated(keep=False).to_numpy()
    repeated = np.zeros(len(frame), dtype=bool)
    if shared.any():
        repeated[shared] = frame[shared].duplicated(keep="first").to_numpy()
    return repeated


def _as_values(values: pd.Series) -> pd.Series:
    """Numbers as numbers whatever they are stored as (text, decimals, categories), so that a copy
    written ``0.250`` for ``0.25`` is still a copy; anything else as it is."""
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values  # whole numbers stay whole: two ids above 2**53 are not one float
    numbers = pd.to_numeric(values.astype(object), errors="coerce")
    if numbers.notna().sum() == values.notna().sum() and values.notna().any():
        return numbers.astype("float64")
    return values


def _measurement(values: pd.Series, distinct_values: int) -> bool:
    """A measurement that records do not share by nature: with fractions (a score, an income in
    cents written as a decimal), or whole numbers taking at least :data:`MANY_WHOLE_NUMBERS` values (an
    income in cents). Not a class, a code or a small count (ages, postcodes of a small table, classes)."""
    if pd.api.types.is_bool_dtype(values.dtype) or not pd.api.types.is_numeric_dtype(values.dtype):
        return False
    if values.dtype.kind in "iu":
        return distinct_values >= MANY_WHOLE_NUMBERS
    numbers = values.to_numpy(dtype="float64", na_value=np.nan)
    finite = numbers[np.isfinite(numbers)]
    if not finite.size:
        return False
    return bool((finite != np.round(finite)).any()) or distinct_values >= MANY_WHOLE_NUMBERS
