"""Additive SHAP attributions of individual records, with the base value they add up from.

An attribution explains one record: base value + Σ attributions = the model's output for the record,
on the scale the explainer works in. Three routes, chosen per model, each exact in that sense:

* **TreeExplainer** (tree-path-dependent: the trees' own training cover stands for the background)
  when the model, or the last step of a scikit-learn pipeline, is a tree ensemble shap supports. It
  explains the model's raw output: log-odds for gradient boosting, a probability for a random forest.
* **LinearExplainer** (interventional, against the background's mean) when the last step is a linear
  model with ``coef_``: φⱼ = βⱼ (xⱼ − E[xⱼ]) on the transformed columns, in log-odds for a logistic
  regression. For a pipeline both routes explain the transformed columns and add the values of the
  columns made from one input (one-hot columns), as :mod:`.shapley` does.
* **PermutationExplainer** otherwise, on the probability (or the regression value); with enough
  evaluations it is exact in the same sense (its values telescope from the background's mean output).

Which scale the values are on is not assumed: :func:`output_scale` compares base + Σ attributions
with the model's probability and its log-odds, record by record, and names the one that matches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from modelgov.analysis import shapley
from modelgov.analysis.shapley import (
    ShapUnavailable,
    _codec,
    _one_output,
    explain_sampled,
    import_shap,
    source_features,
)

#: Background rows the attributions are measured against.
BACKGROUND_ROWS = 100
#: ... for the sampled explainer, whose cost is its evaluations × these rows (at most; see RECORD_CELLS).
SAMPLED_BACKGROUND_ROWS = shapley.BACKGROUND_ROWS
#: Antithetic permutation passes of the sampled explainer per record: any number adds up exactly; more
#: passes split the total more precisely, at a cost linear in them (one pass: ~0.25 s a record on
#: the demo's boosted trees).
PERMUTATIONS = 1
#: Largest gap between base + Σ attributions and the model output still called additive.
ADDITIVITY_TOLERANCE = 1e-4
#: Masked values (rows × inputs) one call of the sampled explainer may score: 100 records of a 30-input
#: table against the full background. A record costs (2 × inputs + 1) × background rows × inputs, the
#: square of the table's width, so a wide table is cut (:func:`modelgov.analysis.shapley.sampled_plan`).
RECORD_CELLS = 100 * (2 * 30 + 1) * 30 * SAMPLED_BACKGROUND_ROWS


@dataclass(frozen=True)
class Attributions:
    """SHAP values of some records: ``values[i, j]`` is input ``features[j]``'s share of record i's
    output; ``base`` is the expected output over the background; ``output`` the explained output."""

    explainer: str
    features: list[str]
    values: np.ndarray
    base: float
    output: np.ndarray
    scale: str
    #: Background rows of the sampled explainer (None for the tree and linear routes, whose background is
    #: the trees' cover or BACKGROUND_ROWS rows); fewer than SAMPLED_BACKGROUND_ROWS when the bound binds.
    background_rows: int | None = None
    #: Positions, among the records given, of the records explained (the rows of ``values``): all of
    #: them unless the sampled explainer's bound binds (None stands for all).
    positions: tuple[int, ...] | None = None

    @property
    def explained(self) -> int:
        """How many records are explained."""
        return len(self.values)


def sampled_plan(rows: int, features: int, *, min_rows: int) -> tuple[int, int]:
    """(records explained, background rows) of the sampled explainer for ``rows`` records of a
    ``features``-input table, within :data:`RECORD_CELLS` (see :func:`.shapley.sampled_plan`)."""
    return shapley.sampled_plan(rows, features, min_rows=min_rows, budget=RECORD_CELLS // PERMUTATIONS)


def model_output(model: Any, X: pd.DataFrame, *, task: str, positive_index: int) -> np.ndarray:
    """The score a decision is made on: the positive class's probability, or the regression value."""
    if task == "regression":
        return np.asarray(model.predict(X), dtype=float)
    return np.asarray(model.predict_proba(X), dtype=float)[:, positive_index]


def attribute(
    model: Any,
    records: pd.DataFrame,
    background: pd.DataFrame,
    *,
    task: str,
    positive_index: int,
    seed: int,
    priority: Sequence[int] | None = None,
    keys: Sequence[int] | None = None,
) -> Attributions:
    """SHAP values of ``records`` (the model's input columns) against ``background``.

    The tree and linear routes explain every record. The sampled explainer explains as many records as
    its bounds allow (:func:`sampled_plan`): the first of ``priority`` (positions in ``records``; by
    default their own order), explained in ``records``' order. It draws each record's permutation from
    a seed of its own, made from ``seed`` and the record's key (``keys``, one per record: its position
    in the evaluation table; by default its position in ``records``), so a record's values do not
    depend on which other records are explained with it, unless a wide table's bounds cut the
    background, whose size depends on how many records are explained. It raises ShapUnavailable when
    not even one record fits."""
    shap = import_shap()
    background = _sample(background, BACKGROUND_ROWS, seed)
    exact = _exact(shap, model, records, background, task=task, positive_index=positive_index)
    if exact is not None:
        return exact
    found = _permutation_route(
        shap, model, records, background, task=task, positive_index=positive_index, seed=seed, priority=priority,
        keys=range(len(records)) if keys is None else keys,
    )  # fmt: skip
    return _finish(model, records, found, task=task, positive_index=positive_index)


def explainer_for(
    model: Any, records: pd.DataFrame, background: pd.DataFrame, *, task: str, positive_index: int, seed: int
) -> str:
    """The explainer :func:`attribute` would use on ``records``, found without running the sampled one
    (the tree and linear routes are cheap; when neither applies, it is PermutationExplainer)."""
    background = _sample(background, BACKGROUND_ROWS, seed)
    exact = _exact(import_shap(), model, records, background, task=task, positive_index=positive_index)
    return exact.explainer if exact is not None else "PermutationExplainer"


def _exact(
    shap: Any, model: Any, records: pd.DataFrame, background: pd.DataFrame, *, task: str, positive_index: int
) -> Attributions | None:
    """The tree or the linear route's attributions when one applies and adds up, else None."""
    for route in (_tree_route, _linear_route):
        found = route(shap, model, records, background, positive_index=positive_index)
        if found is not None:
            try:
                return _finish(model, records, found, task=task, positive_index=positive_index)
            except ShapUnavailable:
                # e.g. native categorical splits TreeExplainer does not follow: the sampled route is exact
                continue
    return None


def output_scale(total: np.ndarray, probability: np.ndarray, task: str) -> str:
    """``probability``, ``log-odds`` or ``value`` (regression): the scale on which base + Σ attributions
    equals the model's output for every record; ShapUnavailable when none does."""
    if task == "regression":
        if np.allclose(total, probability, atol=ADDITIVITY_TOLERANCE * max(1.0, float(np.abs(probability).max()))):
            return "value"
    else:
        if np.allclose(total, probability, atol=ADDITIVITY_TOLERANCE):
            return "probability"
        clipped = np.clip(probability, 1e-12, 1 - 1e-12)
        if np.allclose(total, np.log(clipped / (1 - clipped)), atol=1e-3):
            return "log-odds"
    raise ShapUnavailable(
        "Attributions not computed: the SHAP values do not add up to the model's output on any known scale"
    )


def _finish(
    model: Any,
    records: pd.DataFrame,
    found: tuple[str, np.ndarray, float] | tuple[str, np.ndarray, float, int, tuple[int, ...]],
    *,
    task: str,
    positive_index: int,
) -> Attributions:
    explainer, values, base, *sampled = found
    if not (np.all(np.isfinite(values)) and np.isfinite(base)):
        raise ShapUnavailable("Attributions not computed: shap returned non-finite values")
    explained = records.iloc[list(sampled[1])] if sampled else records
    score = model_output(model, explained, task=task, positive_index=positive_index)
    total = base + values.sum(axis=1)
    scale = output_scale(total, score, task)
    return Attributions(explainer, list(records.columns), values, float(base), total, scale, *sampled)


def record_seed(seed: int, key: int) -> int:
    """The seed of one record's permutation: the build's ``seed`` and the record's ``key`` mixed by
    NumPy's SeedSequence, as a 32-bit seed for the global stream shap draws from."""
    return int(np.random.SeedSequence([seed, key]).generate_state(1)[0])


def _sample(X: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    if len(X) <= rows:
        return X
    chosen = np.sort(np.random.default_rng(seed).choice(len(X), size=rows, replace=False))
    return X.iloc[chosen]


def _transformed(model: Any, records: pd.DataFrame, background: pd.DataFrame):
    """(final estimator, records and background as it sees them, the input of each column), or None
    when the pipeline's columns cannot be traced back to the inputs."""
    steps = getattr(model, "steps", None)
    if not steps:
        return model, records, background, list(records.columns)
    prep = model[:-1]
    try:
        names = [str(name) for name in prep.get_feature_names_out()]
        data = [prep.transform(frame) for frame in (records, background)]
    except Exception:
        return None
    sources = source_features(names, list(records.columns))
    if sources is None:
        return None
    dense = [np.asarray(d.toarray() if hasattr(d, "toarray") else d, dtype=float) for d in data]
    return steps[-1][1], dense[0], dense[1], sources


def _by_input(values: np.ndarray, sources: Sequence[str], features: Sequence[str]) -> np.ndarray:
    by_input = np.zeros((values.shape[0], len(features)))
    for column, source in enumerate(sources):
        by_input[:, list(features).index(source)] += values[:, column]
    return by_input


def _base(expected: Any, positive_index: int) -> float:
    expected = np.atleast_1d(np.asarray(expected, dtype=float))
    return float(expected[positive_index] if expected.size > 1 else expected[0])


def _tree_route(shap: Any, model: Any, records: pd.DataFrame, background: pd.DataFrame, *, positive_index: int):
    parts = _transformed(model, records, background)
    if parts is None:
        return None
    final, rows, _background, sources = parts
    try:
        # path-dependent: exact for every supported ensemble (the interventional variant did not add up
        # to scikit-learn's HistGradientBoosting output in shap 0.51)
        explainer = shap.TreeExplainer(final)
        values = _one_output(explainer.shap_values(rows, check_additivity=False), positive_index)
    except Exception:  # not a tree model shap supports
        return None
    if values.shape != (len(records), len(sources)):
        return None
    return (
        "TreeExplainer",
        _by_input(values, sources, list(records.columns)),
        _base(explainer.expected_value, positive_index),
    )


def _linear_route(shap: Any, model: Any, records: pd.DataFrame, background: pd.DataFrame, *, positive_index: int):
    parts = _transformed(model, records, background)
    if parts is None:
        return None
    final, rows, reference, sources = parts
    coef = getattr(final, "coef_", None)
    if coef is None or np.asarray(coef).ndim > 2 or (np.asarray(coef).ndim == 2 and np.asarray(coef).shape[0] != 1):
        return None  # a multiclass linear model has one set of coefficients per class
    try:
        masker = shap.maskers.Independent(np.asarray(reference, dtype=float), max_samples=BACKGROUND_ROWS)
        explainer = shap.LinearExplainer(final, masker)
        values = np.asarray(explainer.shap_values(np.asarray(rows, dtype=float)), dtype=float)
    except Exception:
        return None
    if values.shape != (len(records), len(sources)):
        return None
    base = _base(explainer.expected_value, 0)
    if positive_index == 0 and hasattr(final, "predict_proba"):  # coefficients describe classes_[1]
        values, base = -values, -base
    return "LinearExplainer", _by_input(values, sources, list(records.columns)), base


def _permutation_route(
    shap: Any,
    model: Any,
    records: pd.DataFrame,
    background: pd.DataFrame,
    *,
    task: str,
    positive_index: int,
    seed: int,
    priority: Sequence[int] | None,
    keys: Sequence[int],
):
    encode, decode = _codec(pd.concat([records, background]))

    def output(data: np.ndarray) -> np.ndarray:
        return model_output(model, decode(data), task=task, positive_index=positive_index)

    features = records.shape[1]
    explained, background_rows = sampled_plan(len(records), features, min_rows=len(records))
    if explained == 0:
        raise ShapUnavailable(f"Attributions not computed: {shapley.too_wide(features, RECORD_CELLS)}")
    positions = tuple(sorted((range(len(records)) if priority is None else priority)[:explained]))
    records = records.iloc[list(positions)]
    background = _sample(background, background_rows, seed)
    background_rows = len(background)
    masker = shap.maskers.Independent(encode(background), max_samples=background_rows)
    explainer = shap.PermutationExplainer(output, masker, seed=seed)
    try:
        explanation = explain_sampled(
            shap, explainer, encode(records), max_evals=PERMUTATIONS * (2 * features + 1),
            row_seeds=[record_seed(seed, keys[position]) for position in positions],
        )  # fmt: skip
    except Exception as exc:
        raise ShapUnavailable(f"Attributions not computed: the sampled explainer failed ({exc})") from None
    values = _one_output(explanation.values, positive_index)
    base = np.asarray(explanation.base_values, dtype=float).reshape(len(records), -1)[:, 0]
    return "PermutationExplainer", values, float(base[0]), background_rows, positions
