"""The reference side of drift: everything computed once from the in-memory reference data.

The reference (the evaluation table the model was judged on) is small enough to keep whole, so its
values are exact: sorted numeric values, its standard deviation, its deciles, its category counts.
A window of the production log, on the other hand, is only known through the aggregates of
:mod:`modelgov.monitoring.aggregates`, counted on bin edges chosen here (:func:`numeric_edges`).

Profiling once and passing the :class:`ReferenceProfile` to every window avoids sorting a large
reference again for each window and feature.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

Kind = Literal["numeric", "categorical"]

#: Up to this many distinct reference values, every one is a bin edge and KS is exact.
MAX_EXACT_EDGES = 5000
#: Above it, this many reference quantile intervals, plus :data:`EVEN_EDGES` equal-width intervals
#: over the reference's range, plus the deciles, are the edges.
QUANTILE_EDGES = 2000
EVEN_EDGES = 1000
#: Evidently's ``INTEGER_CARDINALITY_LIMIT`` (evidently/core/datasets.py): integer columns with at
#: most this many distinct values are categorical when the kind is inferred.
INTEGER_CARDINALITY_LIMIT = 10
DECILES = np.linspace(0.1, 0.9, 9)
#: Drift methods that compare values in order, so need a numeric feature (Evidently refuses them for
#: categorical columns too); the others count values and take either kind.
NUMERIC_ONLY = frozenset({"ks", "wasserstein"})


def infer_kind(series: pd.Series) -> Kind:
    """Evidently 0.7's ``infer_column_type``: floats are numeric, integers numeric only with more than
    ten distinct values, booleans, strings and everything else categorical.

    The one rule for a feature whose kind the workspace does not declare: drift applies it to the
    reference column, and ``modelgov init`` to the evaluation table, so what init writes is what drift
    would have decided (see :func:`kind_reason` for the same decision in words)."""
    return _inferred(series)[0]


def kind_reason(series: pd.Series) -> str:
    """Why :func:`infer_kind` decides what it does, in a few words (``whole numbers, 4 distinct values``)."""
    return _inferred(series)[1]


def _inferred(series: pd.Series) -> tuple[Kind, str]:
    if pd.api.types.is_bool_dtype(series):
        return "categorical", "true/false values"
    if pd.api.types.is_float_dtype(series):
        return "numeric", "floating-point numbers"
    if pd.api.types.is_integer_dtype(series):
        distinct = int(series.nunique())
        if distinct <= INTEGER_CARDINALITY_LIMIT:
            return "categorical", f"whole numbers, {distinct} distinct values (at most {INTEGER_CARDINALITY_LIMIT})"
        return "numeric", f"whole numbers, {distinct} distinct values (more than {INTEGER_CARDINALITY_LIMIT})"
    return "categorical", "text" if pd.api.types.is_string_dtype(series) else f"values of type {series.dtype}"


def not_numbers(series: pd.Series) -> str | None:
    """Why the column cannot be compared as numbers (``values that are not numbers ('low', 'high')``), or
    None when it can: numbers of any width, missing values allowed; booleans and text are not numbers."""
    if pd.api.types.is_bool_dtype(series):
        return "true/false values"
    if pd.api.types.is_numeric_dtype(series):
        return None
    present = series.dropna()
    if series.dtype == object:
        present = present[[isinstance(v, bool) or not isinstance(v, int | float | np.number) for v in present]]
        if present.empty:
            return None
    examples = ", ".join(repr(v) for v in pd.unique(present.astype(str))[:3])
    return f"values that are not numbers ({examples})" if examples else f"values of type {series.dtype}"


def kind_mismatch(method: str | None, kind: Kind, *, declarable: bool = True) -> str | None:
    """Why ``method`` cannot test a feature of ``kind``, or None when it can (:data:`NUMERIC_ONLY`).
    ``declarable``: the message may suggest declaring the kind (a feature's can be, the output's not)."""
    if method not in NUMERIC_ONLY or kind != "categorical":
        return None
    remedy = "; or declare `kind: numeric` if its values are quantities" if declarable else ""
    return f"{method} compares numbers in order and needs a numeric feature: use chisquare, z, jensenshannon or psi{remedy}"


def category_key(value: object) -> str | None:
    """One category's text, matching DuckDB's ``CAST(x AS VARCHAR)`` for the usual types (so the
    reference's keys meet the log's): integers as ``1``, booleans as ``true``/``false``, floats in
    their shortest round-trip form. Integral floats are written as integers (``1.0`` → ``1``) so that
    a column read as float on one side (pandas turns an integer column with gaps into floats) and as
    integer on the other still matches. ``None`` for missing values."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, int | np.integer):
        return str(int(value))
    if isinstance(value, float | np.floating):
        number = float(value)
        if math.isnan(number):
            return None
        if number.is_integer() and abs(number) < 2**53:
            return str(int(number))
        return repr(number)
    return str(value)


def canonical_text(text: str, numeric_keys: bool) -> str:
    """A log aggregate's category text, made comparable with :func:`category_key` of the reference.

    Only for columns whose reference is numeric or boolean is the text re-read as a number, so that a
    string category such as a postcode ``"01"`` is never merged with ``"1"``."""
    if not numeric_keys:
        return text
    lowered = text.strip().lower()
    if lowered in ("true", "false"):
        return lowered
    try:
        number = float(text)
    except ValueError:
        return text
    return category_key(number) or text


@dataclass(frozen=True)
class ReferenceProfile:
    """What drift needs from the reference column, computed once."""

    column: str
    kind: Kind
    rows: int  # non-missing values (NaN and ±inf are missing, as in Evidently)
    missing: int
    values: np.ndarray = field(repr=False)  # numeric: sorted finite float64; categorical: empty
    distinct: int  # distinct non-missing values
    std: float | None = None  # numeric: population standard deviation (ddof=0, numpy's default)
    deciles: np.ndarray = field(default_factory=lambda: np.empty(0))  # numeric: unique, linear interpolation
    categories: dict[str, int] = field(default_factory=dict)  # categorical: key → rows
    numeric_keys: bool = False  # categorical keys are numbers or booleans (see canonical_text)

    @property
    def minimum(self) -> float | None:
        return float(self.values[0]) if self.kind == "numeric" and self.rows else None

    @property
    def maximum(self) -> float | None:
        return float(self.values[-1]) if self.kind == "numeric" and self.rows else None


def finite_values(reference: pd.Series) -> np.ndarray:
    """A numeric column's values as float64, without the missing ones (NaN and ±inf, as in Evidently),
    in the column's order: a new array, which :func:`profile_reference` sorts in place."""
    raw = pd.to_numeric(reference, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    return raw[np.isfinite(raw)]


class _InOrder(np.ndarray):
    """A view of values already in ascending order, which are therefore partitioned at every index:
    NumPy's quantile partitions a copy of its input before reading the order statistics it needs,
    10 ms for a million values and 2,001 quantiles, and here asks an array that is already done."""

    def partition(self, *args: object, **kwargs: object) -> None:
        return None


def _both_zeros(values: np.ndarray) -> bool:
    """Whether sorted ``values`` hold both -0.0 and 0.0. They compare equal, so a sort or a partition
    may put either first, and ``np.unique`` and ``np.quantile`` may pick the other one than a read of
    the values in their present order; the two shortcuts below step aside for such columns."""
    low, high = np.searchsorted(values, 0.0, "left"), np.searchsorted(values, 0.0, "right")
    if high <= low:
        return False
    negative = np.signbit(values[low:high])
    return bool(negative.any() and not negative.all())


def sorted_quantile(values: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``np.quantile(values, q)`` (linear) of values in ascending order: NumPy's own computation, to
    the bit, on its own copy, which it does not partition. Were NumPy to stop asking the array to
    partition itself, it would partition that copy as before (the values given are never touched);
    the figures are the same either way."""
    if _both_zeros(values):
        return np.quantile(values, q)
    return np.asarray(np.quantile(values.view(_InOrder), q))


def _run_starts(values: np.ndarray) -> np.ndarray:
    """Where each run of equal values begins in sorted, non-empty ``values``."""
    return np.flatnonzero(np.concatenate([[True], values[1:] != values[:-1]]))


def run_firsts(values: np.ndarray) -> np.ndarray:
    """The first value of each run of equal values in sorted ``values``: their distinct values, for a
    computation that only compares them (of -0.0 and 0.0 either may stand for both)."""
    return values[_run_starts(values)] if len(values) else values[:0].copy()


def sorted_unique(values: np.ndarray, *, return_counts: bool = False):
    """``np.unique(values)`` (and its counts) of an array already in ascending order, to the bit,
    without sorting it again (``np.unique`` sorts a copy: for a million values, as long as the
    profile's own sort)."""
    if _both_zeros(values) or not len(values):
        return np.unique(values, return_counts=return_counts)
    starts = _run_starts(values)
    if return_counts:
        return values[starts], np.diff(np.append(starts, len(values)))
    return values[starts]


def profile_reference(
    reference: pd.Series, kind: Kind | None = None, column: str | None = None, *, ordered: np.ndarray | None = None
) -> ReferenceProfile:
    """Profile one reference column; ``kind`` is inferred as Evidently does when not given.

    ``ordered``: :func:`finite_values` of ``reference`` already sorted, when the caller has it (it
    sorted the column in a thread while the column before was profiled)."""
    name = column if column is not None else str(reference.name)
    kind = kind or infer_kind(reference)
    total = len(reference)
    if kind == "numeric":
        if (why := not_numbers(reference)) is not None:
            raise ValueError(f"column {name!r} holds {why}, so it cannot be compared as numbers")
        if ordered is not None:
            values = ordered
        else:
            values = finite_values(reference)
            values.sort()
        rows = len(values)
        deciles = np.unique(sorted_quantile(values, DECILES)) if rows else np.empty(0)
        return ReferenceProfile(
            column=name,
            kind="numeric",
            rows=rows,
            missing=total - rows,
            values=values,
            distinct=int(np.count_nonzero(values[1:] != values[:-1])) + 1 if rows else 0,
            std=float(np.std(values)) if rows else None,
            deciles=deciles,
        )
    numeric_keys = pd.api.types.is_numeric_dtype(reference) or pd.api.types.is_bool_dtype(reference)
    counts: dict[str, int] = {}
    for value, n in _value_counts(reference):
        key = category_key(value)
        if numeric_keys and key in ("inf", "-inf"):  # ±inf is missing in a numeric column
            key = None
        if key is not None:
            counts[key] = counts.get(key, 0) + n
    rows = sum(counts.values())
    return ReferenceProfile(
        column=name,
        kind="categorical",
        rows=rows,
        missing=total - rows,
        values=np.empty(0),
        distinct=len(counts),
        categories=counts,
        numeric_keys=numeric_keys,
    )


def _value_counts(series: pd.Series) -> list[tuple[object, int]]:
    """Each distinct value of ``series`` (as ``tolist`` gives it, in order of first appearance) and
    how many rows hold it, so that :func:`category_key` runs once per value rather than once per row
    (five 1M-row columns: 2.5 s row by row). Missing values (``pd.factorize``'s) are left out, except
    in object columns, where :func:`category_key` decides about each. Object columns holding more than
    strings go row by row, since their values can be equal with different keys (``1 == 1.0 == True``)."""
    if series.dtype == object and pd.api.types.infer_dtype(series, skipna=True) != "string":
        return [(value, 1) for value in series.tolist()]
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    codes = np.asarray(codes)
    # factorize numbers values in order of appearance: a value's first row is where the code
    # exceeds every code before it.
    before = np.concatenate([[-1], np.maximum.accumulate(codes)[:-1]]) if len(codes) else codes
    first = np.flatnonzero(codes > before)
    if not np.array_equal(codes[first], np.arange(len(uniques))):
        _, first = np.unique(codes, return_index=True)
        first = first[codes[first] >= 0]
    counts = np.bincount(codes[codes >= 0], minlength=len(uniques))
    pairs = list(zip(series.iloc[first].tolist(), counts[codes[first]].tolist(), strict=True))
    if series.dtype == object:
        pairs += [(value, 1) for value in series.iloc[np.flatnonzero(codes < 0)].tolist()]
    return pairs


def numeric_edges(profile: ReferenceProfile) -> tuple[np.ndarray, bool]:
    """Bin edges for a numeric column, and whether they hold every distinct reference value.

    With at most :data:`MAX_EXACT_EDGES` distinct values every value is an edge: the window's ECDF is
    then known at every reference value, which is all the KS statistic and (between edges, through the
    exact ``between_sum``) the Wasserstein integral need. Otherwise :data:`QUANTILE_EDGES` reference
    quantiles (minimum and maximum included) keep the cells' reference mass small, and
    :data:`EVEN_EDGES` equal-width edges keep their width small: Wasserstein's error in a cell grows
    with width × mass, and with quantiles alone the last cell of a long tail (adult ``fnlwgt``: the
    top 0.05 % spans 923,000–1,455,000) dominated it, at 1.1–1.3e-3 relative; with both it stays below
    5e-4 on the same data. The deciles are always edges, so PSI is a sum of cells."""
    values = profile.values
    if not profile.rows:
        return np.empty(0), True
    exact = profile.distinct <= MAX_EXACT_EDGES
    if exact:
        base = sorted_unique(values)
    else:
        quantiles = sorted_quantile(values, np.linspace(0.0, 1.0, QUANTILE_EDGES + 1))
        even = np.linspace(values[0], values[-1], EVEN_EDGES + 1)
        base = np.concatenate([quantiles, even])
    edges = np.unique(np.concatenate([base, profile.deciles]))
    return edges.astype("float64"), exact
