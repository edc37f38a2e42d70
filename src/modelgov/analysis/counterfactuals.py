"""Counterfactuals: the nearest changes found that would flip an adverse decision.

A deterministic search of modelgov's own (DiCE, the usual library, would bring LightGBM, XGBoost and
CUDA's NCCL into every install). Distance is the normalised L1 of Wachter et al. (2017): a numeric
change costs |Δ| / MAD (the feature's median absolute deviation on the sample; its standard
deviation when the MAD is 0, else 1), a change of category costs 1.

The search, within a budget of model evaluations:

1. every allowed single change is scored in one batch: each mutable feature set to each value of its
   grid (observed quantiles, or categories) that its constraints allow — never an immutable or
   sensitive feature, only upward for ``monotone: increase``, only inside ``range``;
2. if some flip the decision, the nearest of them is the answer; if none does, the change that moves
   the score furthest toward the threshold per unit of distance is kept, and step 1 runs again from
   there over the other features, up to ``max_changes`` features;
3. a found answer is then shortened: each changed feature is moved back toward its original value as
   far as the decision stays flipped.

Limits, said on the page: the answer is the nearest the search found, not a proven nearest; values
come from the observed grid, so a smaller change between two grid values is not tried; and like
what-if curves it may combine values that rarely occur together. It says what the model would do,
not what the person can do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from modelgov.analysis.what_if import decision, grid, is_numeric


@dataclass(frozen=True)
class Constraint:
    """What a counterfactual may do with one feature."""

    immutable: bool = False
    monotone: str | None = None  # "increase" | "decrease"
    low: float | None = None
    high: float | None = None


@dataclass
class Result:
    found: bool
    changes: dict[str, tuple[object, object]] = field(default_factory=dict)
    score: float | None = None
    distance: float | None = None
    evaluations: int = 0


def scales(sample: pd.DataFrame) -> dict[str, float]:
    """Each numeric feature's MAD on the sample (its standard deviation when the MAD is 0, else 1)."""
    out = {}
    for column in sample.columns:
        if not is_numeric(sample[column]):
            continue
        values = sample[column].dropna().to_numpy(dtype=float)
        if values.size == 0:
            out[column] = 1.0
            continue
        mad = float(np.median(np.abs(values - np.median(values))))
        out[column] = mad if mad > 0 else (float(values.std()) or 1.0)
    return out


def allowed_values(original: object, candidates: Sequence, constraint: Constraint, numeric: bool) -> list:
    """The grid values a counterfactual may give a feature whose value is ``original``."""
    if constraint.immutable:
        return []
    out = []
    for value in candidates:
        if numeric:
            if pd.isna(original) or float(value) == float(original):
                continue
            if constraint.monotone == "increase" and float(value) < float(original):
                continue
            if constraint.monotone == "decrease" and float(value) > float(original):
                continue
            if constraint.low is not None and float(value) < constraint.low:
                continue
            if constraint.high is not None and float(value) > constraint.high:
                continue
        elif value == original or str(value) == str(original):
            continue
        out.append(value)
    return out


def search(
    score: Callable[[pd.DataFrame], np.ndarray],
    record: pd.DataFrame,
    sample: pd.DataFrame,
    constraints: Mapping[str, Constraint],
    *,
    threshold: float,
    adverse: str,
    budget: int,
    max_changes: int,
) -> Result:
    """The nearest flipping change found for ``record`` (one row, adverse) within ``budget`` evaluations."""
    mad = scales(sample)
    grids = {column: grid(sample[column]) for column in record.columns}
    numeric = {column: is_numeric(record[column]) for column in record.columns}
    original = record.iloc[0]
    sign = 1.0 if adverse == "high" else -1.0

    def cost(feature: str, value: object) -> float:
        if not numeric[feature]:
            return 1.0
        return abs(float(value) - float(original[feature])) / mad.get(feature, 1.0)

    used = 0
    current = record.copy()
    changed: dict[str, object] = {}
    current_score = float(score(current)[0])
    used += 1
    for _ in range(max_changes):
        candidates = [
            (feature, value)
            for feature in record.columns
            if feature not in changed
            for value in allowed_values(
                original[feature], grids[feature], constraints.get(feature, Constraint()), numeric[feature]
            )
        ]
        candidates.sort(key=lambda item: (cost(*item), item[0]))  # cut by the budget, the nearest are kept
        candidates = candidates[: max(0, budget - used)]
        if not candidates:
            break
        batch = pd.concat([current] * len(candidates), ignore_index=True)
        for row, (feature, value) in enumerate(candidates):
            batch.at[row, feature] = value
        scores = np.asarray(score(batch), dtype=float)
        used += len(candidates)
        flipped = ~decision(scores, threshold=threshold, adverse=adverse)
        base = sum(cost(f, v) for f, v in changed.items())
        if flipped.any():
            best = min(np.flatnonzero(flipped), key=lambda i: (base + cost(*candidates[i]), i))
            feature, value = candidates[best]
            changed[feature] = value
            current = batch.iloc[[best]].reset_index(drop=True)
            return _shorten(score, record, current, changed, grids, numeric, cost, threshold, adverse, budget, used)
        gains = [sign * (current_score - s) / max(cost(*c), 1e-9) for c, s in zip(candidates, scores, strict=True)]
        pick = int(np.argmax(gains))
        if gains[pick] <= 0:
            break
        changed[candidates[pick][0]] = candidates[pick][1]
        current = batch.iloc[[pick]].reset_index(drop=True)
        current_score = float(scores[pick])
    return Result(found=False, evaluations=used)


def _shorten(score, record, current, changed, grids, numeric, cost, threshold, adverse, budget, used) -> Result:
    """Move each changed numeric feature back toward its original value while the decision stays flipped."""
    original = record.iloc[0]
    for feature in list(changed):
        if not numeric[feature]:
            continue
        start, end = float(original[feature]), float(changed[feature])
        between = [v for v in grids[feature] if min(start, end) < v < max(start, end)]
        between.sort(key=lambda v: abs(v - start))
        between = between[: max(0, budget - used)]
        if not between:
            continue
        batch = pd.concat([current] * len(between), ignore_index=True)
        batch[feature] = pd.Series(between).astype(current[feature].dtype)
        flipped = ~decision(np.asarray(score(batch), dtype=float), threshold=threshold, adverse=adverse)
        used += len(between)
        if flipped.any():
            first = int(np.flatnonzero(flipped)[0])
            changed[feature] = between[first]
            current = batch.iloc[[first]].reset_index(drop=True)
    final = float(score(current)[0])
    used += 1
    return Result(
        found=True,
        changes={feature: (original[feature], value) for feature, value in changed.items()},
        score=final,
        distance=float(sum(cost(f, v) for f, v in changed.items())),
        evaluations=used,
    )
