"""What-if: one record's score as one feature moves over its observed range, the others held.

This is the record's individual conditional expectation (ICE) curve (Goldstein et al., 2015), with
the decision at each grid value and the values where it flips. Its limit is the same as partial
dependence's: holding the other features fixed creates combinations that may never occur (a
20-year-old with 30 years of credit history), where the model extrapolates; a flip there says what
the model would do, not what such an applicant would get.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from modelgov.manifest import WhatIf

#: Grid values per numeric feature (quantiles of the observed values, so the range is observed).
GRID = 25
#: Categories per categorical feature, most frequent first.
MAX_CATEGORIES = 25


def is_numeric(column: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def grid(column: pd.Series, points: int = GRID) -> list:
    """Observed values to try: quantiles from the minimum to the maximum for a number (duplicates
    dropped), else the most frequent categories."""
    observed = column.dropna()
    if observed.empty:
        return []
    if is_numeric(observed):
        # observed values at evenly spaced quantiles (no interpolation: every grid value occurs in the data)
        values = np.quantile(observed.to_numpy(dtype=float), np.linspace(0, 1, points), method="inverted_cdf")
        return sorted({float(v) for v in values})
    counts = observed.astype(object).value_counts(sort=False)
    ranked = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))[:MAX_CATEGORIES]
    return [value for value, _ in ranked]


def decision(scores: np.ndarray, *, threshold: float, adverse: str) -> np.ndarray:
    """Whether each score is the adverse decision: at or above the threshold for ``high``, below for ``low``."""
    scores = np.asarray(scores, dtype=float)
    return scores >= threshold if adverse == "high" else scores < threshold


def what_if(
    score: Callable[[pd.DataFrame], np.ndarray],
    record: pd.DataFrame,
    feature: str,
    values: list,
    *,
    threshold: float,
    adverse: str,
    label: str,
) -> WhatIf:
    """``record`` (one row) scored with ``feature`` set to each of ``values``."""
    rows = pd.concat([record] * len(values), ignore_index=True)
    numeric = is_numeric(record[feature])
    rows[feature] = pd.Series(values, dtype=record[feature].dtype if numeric else object).astype(record[feature].dtype)
    scores = np.asarray(score(rows), dtype=float)
    flags = decision(scores, threshold=threshold, adverse=adverse)
    flips = [values[i] for i in range(1, len(values)) if flags[i] != flags[i - 1]] if numeric else []
    if not numeric:  # categories have no order: the ones whose decision differs from the record's own
        own = decision(np.asarray(score(record), dtype=float), threshold=threshold, adverse=adverse)[0]
        flips = [value for value, flag in zip(values, flags, strict=True) if flag != own]
    return WhatIf(
        feature=feature,
        label=label,
        kind="numeric" if numeric else "categorical",
        grid=[float(v) for v in values] if numeric else [str(v) for v in values],
        scores=[float(s) for s in scores],
        adverse=[bool(f) for f in flags],
        flips=[float(v) for v in flips] if numeric else [str(v) for v in flips],
    )
