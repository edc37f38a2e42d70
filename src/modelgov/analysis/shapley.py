"""SHAP values of a sample of the evaluation table (``shap`` is a dependency of modelgov).

Two routes, chosen per model:

* **TreeExplainer** when the model (or the last step of a scikit-learn pipeline) is a tree ensemble
  shap supports and its values add up to the model's own output (:func:`_adds_up`; they do not on
  scikit-learn's native categorical splits): exact, and fast enough for a few hundred rows (:func:`tree_rows`). For a pipeline it explains the last step on the transformed
  columns, then adds the values of the columns made from the same input (the one-hot columns of
  ``employment_type``) — SHAP values are additive, so the sum is the input's value. When the
  transformed columns cannot be traced back to the inputs, the sampled route is used instead.
* **PermutationExplainer** otherwise: model-agnostic and sampled, so it is kept small
  (:data:`SAMPLED_ROWS` rows against a :data:`BACKGROUND_ROWS`-row background, one antithetic
  permutation pass per row; fewer rows, then a smaller background, for a table of more than 30
  inputs, and none beyond 446 (:func:`sampled_plan`)) to stay within seconds and bounded
  memory for any scikit-learn model. Text columns are given integer codes for shap's masker
  and decoded before the model sees them.

For binary classification the values explain the positive class: TreeExplainer in the model's raw
output (log-odds for gradient boosting), PermutationExplainer in probability. Kept: the mean absolute
value per input (a ranking) and, for a beeswarm chart, each input's values on at most
:data:`BEESWARM_ROWS` rows with the rank of the input's own value on the row (its colour).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from modelgov.manifest import ShapDistribution, ShapSummary

#: Rows explained by TreeExplainer: at most TREE_ROWS, fewer for big ensembles so that rows × tree
#: nodes × depth stays within TREE_WORK (about two seconds on one core: a default random forest on
#: 2,500 rows gets ~200 rows), never fewer than MIN_TREE_ROWS. Counted, not timed, so the same model
#: is explained on the same rows on every machine.
TREE_ROWS = 500
MIN_TREE_ROWS = 50
TREE_WORK = 500_000_000
#: Rows explained by the sampled explainer, and its background sample (at most; see sampled_plan).
SAMPLED_ROWS = 200
BACKGROUND_ROWS = 50
#: For each row it explains, the sampled explainer masks (2 × inputs + 1) × background rows of all the
#: inputs, holds them at once and scores them: its memory and time grow with the square of the
#: table's width. Its bounds, in masked values (rows × inputs): per row explained (memory: 32 MB of
#: float64, a few copies of which shap holds), and in all for the summary (SAMPLED_ROWS rows of a
#: 30-input table against the full background); see :func:`sampled_plan`.
MAX_ROW_CELLS = 4_000_000
SAMPLED_CELLS = SAMPLED_ROWS * (2 * 30 + 1) * 30 * BACKGROUND_ROWS
#: Fewest rows the summary is cut to before its background shrinks, and fewest background rows.
MIN_SAMPLED_ROWS = 20
MIN_BACKGROUND_ROWS = 10

#: Rows of each input's SHAP values kept for the beeswarm chart.
BEESWARM_ROWS = 200

NOT_INSTALLED = (
    "SHAP values not computed: the shap package, a dependency of modelgov, is not installed in the environment "
    "that ran the build (reinstall modelgov)"
)


class ShapUnavailable(Exception):
    """SHAP values cannot be computed for this model or data; the message says why."""


def import_shap() -> Any:
    """The ``shap`` module, or :class:`ShapUnavailable` with the install hint."""
    try:
        import shap
    except ImportError:
        raise ShapUnavailable(NOT_INSTALLED) from None
    except Exception as exc:  # shap imports numba and llvmlite, whose failures are not ImportErrors
        raise ShapUnavailable(f"SHAP values not computed: the shap package failed to import ({exc})") from None
    return shap


#: shap's tabular-masker kernels that only copy values (``shap.maskers._tabular``), see :func:`interpreted_kernels`.
_COPY_KERNELS = ("_delta_masking", "_single_delta_mask")
#: SHA-256 of the source of shap's ``_build_fixed_single_output`` that :func:`_averaged_outputs`
#: reproduces (shap 0.51). Another source (another shap) keeps the compiled kernel.
_AVERAGING_SOURCE = "0e66bf5290b2797c91b67159cbe556dedb421c845ccc8b2820140faf55da5e5b"


@contextmanager
def interpreted_kernels(shap: Any) -> Iterator[None]:
    """Run a sampled explanation's numba kernels as Python while the block runs, with the same bits.

    shap's PermutationExplainer masks rows and averages the model's outputs with three numba kernels
    (for one output per row), which numba compiles in every process that calls them: about 4.5 s of
    one core, most of a small model's explanation, paid again by each worker of a build. As Python
    they take about 0.07 s per 200 rows. Two of them only copy values (the masker's), so their own
    source (numba's ``py_func``) runs. The one that averages is :func:`_averaged_outputs`, which sums
    in numba's order; it replaces shap's only when that kernel's source is the one it reproduces
    (:data:`_AVERAGING_SOURCE`). Other cases (several outputs, a link other than the identity) keep
    shap's compiled kernels; so does a shap that lacks these kernels."""
    tabular = getattr(getattr(shap, "maskers", None), "_tabular", None)
    masked_model = getattr(getattr(shap, "utils", None), "_masked_model", None)
    kernels = {name: getattr(tabular, name, None) for name in _COPY_KERNELS}
    averaging = getattr(masked_model, "_build_fixed_single_output", None)
    identity = getattr(getattr(shap, "links", None), "identity", None)
    if not all(callable(getattr(k, "py_func", None)) for k in [*kernels.values(), averaging]) or identity is None:
        yield  # another shap, or already interpreted by an enclosing block
        return
    known = _source_digest(averaging.py_func) == _AVERAGING_SOURCE
    try:
        for name, kernel in kernels.items():
            setattr(tabular, name, kernel.py_func)
        if known:
            masked_model._build_fixed_single_output = _averaged_outputs(averaging, identity)
        yield
    finally:
        for name, kernel in kernels.items():
            setattr(tabular, name, kernel)
        masked_model._build_fixed_single_output = averaging


def explain_sampled(
    shap: Any, explainer: Any, data: Any, *, max_evals: int, row_seeds: Sequence[int] | None = None
) -> Any:
    """``explainer(data)`` for a PermutationExplainer, without the work nobody asked for.

    shap 0.51's ``Explainer.__call__`` collects each row's main effects in a list that shadows its own
    ``main_effects`` argument and passes that list to ``explain_row``: from the second row on, the
    list is not empty, so it counts as true and every row also computes main effects, one more masked
    evaluation per input: about a third of the model evaluations, for a result modelgov never reads.
    Each row is told ``main_effects=False`` (what was asked); the SHAP values are the same bits (a
    test compares them). The kernels run as Python (:func:`interpreted_kernels`).

    shap draws every row's permutation from NumPy's global stream, seeded once by the explainer, so a
    row's values depend on the rows explained before it. With ``row_seeds`` (one per row of ``data``),
    the stream is seeded again before each row, so each row's values depend on its own seed alone."""
    row = explainer.explain_row
    seeds = iter(row_seeds) if row_seeds is not None else None

    def explain_row(*args: Any, **kwargs: Any) -> Any:
        kwargs["main_effects"] = False
        if seeds is not None:
            np.random.seed(next(seeds))
        return row(*args, **kwargs)

    explainer.explain_row = explain_row
    with interpreted_kernels(shap):
        return explainer(data, max_evals=max_evals, silent=True)


@functools.cache
def _source_digest(function: Callable[..., Any]) -> str | None:
    """SHA-256 of a function's source text, or None when it cannot be read; read once per process,
    not once per explanation."""
    import hashlib
    import inspect

    try:
        return hashlib.sha256(inspect.getsource(function).encode("utf-8")).hexdigest()
    except (OSError, TypeError):
        return None


def _averaged_outputs(compiled: Any, identity: Any) -> Callable[..., None]:
    """shap's ``_build_fixed_single_output`` in Python: for each mask, the model's outputs on the
    background rows it changed replace those rows' last outputs, and the mask's value is their mean.
    numba's mean adds the values one after another (NumPy's adds them pairwise, which changes the last
    digits), so :func:`_sequential_mean` does too, in float64, as numba does for shap's float64 last
    outputs. With a link other than the identity, linearising weights or last outputs of another
    type, shap's compiled kernel runs."""

    def build(averaged, last, outputs, positions, varying, counts, link, weights) -> None:
        if link is not identity or weights is not None or last.dtype != np.float64:
            compiled(averaged, last, outputs, positions, varying, counts, link, weights)
            return
        rows = last.shape[0]
        for i in range(len(averaged)):
            if positions[i] < positions[i + 1]:
                if counts[i] == rows:
                    last[:] = outputs[positions[i] : positions[i + 1]]
                else:
                    last[varying[i]] = outputs[positions[i] : positions[i + 1]]
                averaged[i] = _sequential_mean(last)
            else:
                averaged[i] = averaged[i - 1]

    return build


def _sequential_mean(values: np.ndarray) -> float:
    """The mean as numba computes it: a float64 sum from the first value to the last, then one division."""
    if values.size == 0:
        return float("nan")
    total = 0.0
    for value in values.ravel().tolist():
        total += value
    return total / values.size


def shap_summary(model: Any, X: pd.DataFrame, *, task: str, positive_index: int, seed: int) -> ShapSummary:
    """Mean |SHAP value| per input column of ``X``, most important first."""
    shap = import_shap()
    tree = _tree_route(shap, model, X, task=task, positive_index=positive_index, seed=seed)
    if tree is not None:
        return tree
    return _sampled_route(shap, model, X, task=task, positive_index=positive_index, seed=seed)


def _sample(X: pd.DataFrame, rows: int, seed: int) -> pd.DataFrame:
    if len(X) <= rows:
        return X
    chosen = np.sort(np.random.default_rng(seed).choice(len(X), size=rows, replace=False))
    return X.iloc[chosen]


def _summary(explainer: str, values: np.ndarray, features: Sequence[str], rows: pd.DataFrame) -> ShapSummary:
    means = np.abs(values).mean(axis=0)
    if not np.all(np.isfinite(means)):
        raise ShapUnavailable("SHAP values not computed: shap returned non-finite values")
    order = sorted(range(len(features)), key=lambda i: (-means[i], i))
    return ShapSummary(
        explainer=explainer,
        rows=int(values.shape[0]),
        mean_abs={features[i]: float(means[i]) for i in order},
        distribution=[beeswarm(features[i], values[:, i], rows[features[i]]) for i in order],
    )


def beeswarm(feature: str, values: np.ndarray, column: pd.Series) -> ShapDistribution:
    """One input's SHAP values on the first :data:`BEESWARM_ROWS` rows, each with the rank (0 to 1) of
    the row's own value among the rows — what colours a beeswarm's points (None: not a number)."""
    values = np.asarray(values[:BEESWARM_ROWS], dtype=float)
    column = column.iloc[:BEESWARM_ROWS]
    colour: list[float | None] = [None] * len(values)
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        ranks = pd.to_numeric(column, errors="coerce").rank(pct=True, method="average")
        colour = [None if pd.isna(rank) else round(float(rank), 4) for rank in ranks]
    return ShapDistribution(feature=feature, values=[round(float(v), 6) for v in values], colour=colour)


def _one_output(values: Any, positive_index: int) -> np.ndarray:
    """shap returns (rows, columns), (rows, columns, classes) or a list per class; keep one output."""
    if isinstance(values, list):
        values = values[positive_index if len(values) > 1 else 0]
    values = np.asarray(values, dtype=float)
    if values.ndim == 3:
        values = values[:, :, positive_index if values.shape[2] > 1 else 0]
    return values


def _tree_route(
    shap: Any, model: Any, X: pd.DataFrame, *, task: str, positive_index: int, seed: int
) -> ShapSummary | None:
    """TreeExplainer on the model's last step, or None when that is not a supported tree model."""
    steps = getattr(model, "steps", None)
    final = steps[-1][1] if steps else model
    try:
        explainer = shap.TreeExplainer(final)
    except Exception:  # shap raises a bare Exception ("Model type not yet supported") for other models
        return None
    rows = _sample(X, tree_rows(explainer), seed)
    features = list(X.columns)
    if steps:
        prep = model[:-1]
        try:
            transformed = prep.transform(rows)
            names = [str(name) for name in prep.get_feature_names_out()]
        except Exception:
            return None
        sources = source_features(names, features)
        if sources is None:
            return None
        data = transformed.toarray() if hasattr(transformed, "toarray") else np.asarray(transformed)
    else:
        sources, data = features, rows
    try:
        values = _one_output(explainer.shap_values(data, check_additivity=False), positive_index)
    except Exception:
        return None
    if values.shape != (len(rows), len(sources)):
        return None
    if not _adds_up(model, rows, values, explainer.expected_value, task=task, positive_index=positive_index):
        return None
    by_input = np.zeros((len(rows), len(features)))
    for column, source in enumerate(sources):
        by_input[:, features.index(source)] += values[:, column]
    return _summary("TreeExplainer", by_input, features, rows)


def _adds_up(
    model: Any, rows: pd.DataFrame, values: np.ndarray, expected: Any, *, task: str, positive_index: int
) -> bool:
    """Whether base + Σ values equals the model's own output on the rows (on some scale). TreeExplainer
    does not follow every split it accepts (scikit-learn's native categorical splits), and values that do
    not add up would rank the inputs wrongly: the sampled route is used instead."""
    from modelgov.analysis.record_attributions import model_output, output_scale

    base = np.atleast_1d(np.asarray(expected, dtype=float))
    base_value = float(base[positive_index] if base.size > 1 else base[0])
    try:
        output_scale(
            base_value + values.sum(axis=1), model_output(model, rows, task=task, positive_index=positive_index), task
        )
    except ShapUnavailable:
        return False
    return True


def tree_rows(explainer: Any) -> int:
    """How many rows a TreeExplainer gets (see :data:`TREE_WORK`)."""
    try:
        work = int(np.sum(explainer.model.num_nodes)) * max(1, int(explainer.model.max_depth))
    except (AttributeError, TypeError, ValueError):
        return TREE_ROWS
    return int(np.clip(TREE_WORK // max(work, 1), MIN_TREE_ROWS, TREE_ROWS))


def source_features(names: Sequence[str], features: Sequence[str]) -> list[str] | None:
    """The input each transformed column comes from, by name (``cat__employment_type_contract`` →
    ``employment_type``): the longest input that the name, with or without its transformer prefix,
    equals or starts with followed by ``_``. None if any column cannot be traced."""
    sources = []
    for name in names:
        candidates = [name, name.split("__", 1)[1]] if "__" in name else [name]
        matches = [
            feature
            for feature in features
            for candidate in candidates
            if candidate == feature or candidate.startswith(f"{feature}_")
        ]
        if not matches:
            return None
        sources.append(max(matches, key=len))
    return sources


def sampled_plan(rows: int, features: int, *, min_rows: int, budget: int) -> tuple[int, int]:
    """(rows explained, background rows) for ``rows`` rows of a ``features``-input table, so that the
    sampled explainer masks at most MAX_ROW_CELLS values per row and ``budget`` in all.

    Counted, not timed, so a table gets the same plan on every machine; up to 30 inputs, with the
    budgets used here, nothing is cut. Beyond, in this order: the background, if one row's masks would
    not fit in memory; the rows down to ``min_rows`` (a sample can lose rows; records asked for by
    name, passed with ``min_rows=rows``, cannot); the background down to MIN_BACKGROUND_ROWS (the
    values still add up exactly; their reference, the background's mean output, is measured on fewer
    rows); and only then the rows below ``min_rows``. (0, …) when not even one row fits: the table is
    too wide to explain by sampling."""
    per_background_row = (2 * features + 1) * features
    background = min(BACKGROUND_ROWS, MAX_ROW_CELLS // per_background_row)
    if background < MIN_BACKGROUND_ROWS:
        return 0, MIN_BACKGROUND_ROWS
    if rows * per_background_row * background <= budget:
        return rows, background
    rows = max(min(rows, min_rows), budget // (per_background_row * background))
    if rows * per_background_row * background <= budget:
        return rows, background
    background = budget // (rows * per_background_row)
    if background >= MIN_BACKGROUND_ROWS:
        return rows, int(background)
    return int(budget // (per_background_row * MIN_BACKGROUND_ROWS)), MIN_BACKGROUND_ROWS


def summary_plan(features: int) -> tuple[int, int]:
    """(rows, background rows) of the sampled summary of a ``features``-input table."""
    return sampled_plan(SAMPLED_ROWS, features, min_rows=MIN_SAMPLED_ROWS, budget=SAMPLED_CELLS)


def too_wide(features: int, budget: int) -> str:
    """Why a ``features``-input table is not explained by sampling (:func:`sampled_plan` gave 0 rows)."""
    return (
        f"with {features:,} inputs, explaining one row by sampling needs more than the sampled explainer's "
        f"bounds ({MAX_ROW_CELLS:,} masked values per row, {budget:,} in all, against at least "
        f"{MIN_BACKGROUND_ROWS} background rows)"
    )


def _sampled_route(shap: Any, model: Any, X: pd.DataFrame, *, task: str, positive_index: int, seed: int) -> ShapSummary:
    features = list(X.columns)
    encode, decode = _codec(X)
    explained, background_rows = summary_plan(len(features))
    if explained == 0:
        raise ShapUnavailable(f"SHAP values not computed: {too_wide(len(features), SAMPLED_CELLS)}")
    rows = _sample(X, explained, seed)
    background = _sample(X, background_rows, seed + 1)
    if task == "regression":

        def output(data: np.ndarray) -> np.ndarray:
            return np.asarray(model.predict(decode(data)), dtype=float)
    else:

        def output(data: np.ndarray) -> np.ndarray:
            return np.asarray(model.predict_proba(decode(data)), dtype=float)[:, positive_index]

    masker = shap.maskers.Independent(encode(background), max_samples=background_rows)
    explainer = shap.PermutationExplainer(output, masker, seed=seed)
    try:
        explanation = explain_sampled(shap, explainer, encode(rows), max_evals=2 * len(features) + 1)
    except Exception as exc:
        raise ShapUnavailable(f"SHAP values not computed: the sampled explainer failed ({exc})") from None
    return _summary("PermutationExplainer", _one_output(explanation.values, positive_index), features, rows)


def _codec(X: pd.DataFrame) -> tuple[Callable[[pd.DataFrame], np.ndarray], Callable[[np.ndarray], pd.DataFrame]]:
    """Numeric array ↔ the model's DataFrame: shap's masker mixes rows arithmetically, so every
    non-numeric column travels as integer codes of its categories (missing values as -1)."""
    categories = {
        column: pd.Index(pd.unique(X[column].dropna()))
        for column in X.columns
        if not pd.api.types.is_numeric_dtype(X[column]) or pd.api.types.is_bool_dtype(X[column])
    }
    dtypes = X.dtypes

    def encode(frame: pd.DataFrame) -> np.ndarray:
        columns = []
        for column in X.columns:
            if column in categories:
                columns.append(categories[column].get_indexer(frame[column]).astype(float))
            else:
                columns.append(frame[column].to_numpy(dtype=float))
        return np.column_stack(columns)

    def decode(data: np.ndarray) -> pd.DataFrame:
        result = {}
        for index, column in enumerate(X.columns):
            values = data[:, index]
            if column in categories:
                codes = np.rint(values).astype(int)
                decoded = pd.Series(categories[column].take(np.maximum(codes, 0)), dtype=object)
                decoded[codes < 0] = None
                result[column] = decoded.astype(dtypes[column]) if codes.min() >= 0 else decoded
            else:
                # values are the original numbers (from the row or the background), so the cast is exact
                result[column] = pd.Series(values).astype(dtypes[column])
        return pd.DataFrame(result)

    return encode, decode
