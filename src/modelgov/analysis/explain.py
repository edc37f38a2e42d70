"""What explains a model's predictions on one evaluation table.

A pure function: a model object (or None), the evaluation table and the settings in,
:class:`modelgov.manifest.Explainability` out. Each part degrades on its own, with a note saying why,
because an explainability page that fails whole when one library or one column misbehaves is a page
reviewers learn not to trust:

* **error slices** need only the label and prediction columns, so they are computed for every run
  (:mod:`.slices`), on all rows;
* **permutation importance** (scikit-learn, seeded, with the spread across repeats), **partial
  dependence with ICE curves** for the three most important inputs, and **SHAP values**
  (:mod:`.shapley`, only when the optional ``shap`` package is installed) need the model. They run on
  a seeded sample of at most ``explain_max_rows`` rows (:func:`sample_rows`) so the cost of a build
  does not grow with the evaluation table;
* without a model — none declared, one that could not be loaded, or one that cannot score the
  table — the notes say which, and the importances declared in the training metadata are passed
  through instead.

Every random choice is seeded from ``AnalysisSettings.seed``, so a rebuild reproduces the numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from modelgov.analysis.shapley import BACKGROUND_ROWS, ShapUnavailable, shap_summary, summary_plan
from modelgov.analysis.slices import error_slices
from modelgov.degraded import NOT_REPRODUCED
from modelgov.manifest import (
    Explainability,
    FeatureImportance,
    FileRef,
    PartialDependence,
    PermutationImportance,
)
from modelgov.workspace.governance_schema import AnalysisSettings

PD_FEATURES = 3
PD_GRID = 20
PD_PERCENTILES = (0.05, 0.95)
ICE_LINES = 50
#: Permutation importance scores the sample once per input and shuffle, each time on every input: its
#: work grows with rows × inputs² × shuffles. Its bound, in values scored: the defaults' work on a
#: 30-input table (5,000 rows, 5 shuffles), so nothing changes up to 30 inputs with the defaults.
#: Beyond, the rows are cut (seeded, in table order), never below PERMUTATION_MIN_ROWS; a table too
#: wide even then, however few its rows, gets a note instead (:func:`permutation_rows`).
PERMUTATION_CELLS = 5_000 * 30 * 30 * 5
PERMUTATION_MIN_ROWS = 100
#: Longest exception text quoted in a note.
MAX_MESSAGE = 300

NO_MODEL_FILE = "no model file in the training metadata"


class _Skip(Exception):
    """One part of the explanation cannot be computed; the message is the note."""


def sample_rows(table: pd.DataFrame, max_rows: int, seed: int) -> pd.DataFrame:
    """The seeded sample the model-based parts run on: every row when there are at most
    ``max_rows``, else ``max_rows`` rows drawn without replacement, kept in table order."""
    return table.iloc[_subsample(len(table), max_rows, seed)].reset_index(drop=True)


def explain(
    model: Any | None,
    table: pd.DataFrame,
    *,
    features: Sequence[str],
    label: str,
    prediction: str,
    task: str,
    positive_label: object = 1,
    settings: AnalysisSettings,
    precomputed: Mapping[str, float] | None = None,
    model_ref: FileRef | None = None,
    unavailable_reason: str | None = None,
    model_notes: Sequence[str] = (),
    slice_features: Sequence[str] | None = None,
    score: str | None = None,
) -> Explainability:
    """Explain ``model`` on ``table``.

    ``model`` is a fitted scikit-learn-compatible estimator taking ``table[features]``, or None with
    ``unavailable_reason`` saying why (None without a reason means no model file was declared).
    ``model_notes`` are passed through (e.g. a library version mismatch found while loading).
    ``slice_features`` are the columns error slices are cut by; they default to ``features``.
    ``precomputed`` (the training metadata's importances) is carried into the result only when
    permutation importance could not be computed, which is when the page shows it.
    """
    notes: list[str] = []
    slices, error_metric, slice_notes = [], None, []
    try:
        slices, error_metric, slice_notes = error_slices(
            table,
            features=list(features if slice_features is None else slice_features),
            label=label,
            prediction=prediction,
            task=task,
            positive_label=positive_label,
            min_group_size=settings.min_group_size,
        )
    except (ValueError, TypeError, KeyError) as exc:  # e.g. a regression label that is not a number
        notes.append(f"Error slices not computed: {_describe(exc)}.")

    importance: PermutationImportance | None = None
    curves: list[PartialDependence] = []
    shap = None
    if model is None:
        why = unavailable_reason or NO_MODEL_FILE
        notes.append(
            f"Permutation importance, partial dependence and SHAP values need the model, which is not available: {why.rstrip('.')}."
        )
    elif not features:
        notes.append(
            "Permutation importance, partial dependence and SHAP values not computed: the evaluation run "
            "lists no model input columns (`features`)."
        )
    else:
        notes.extend(model_notes)
        sample = sample_rows(table, settings.explain_max_rows, settings.seed)
        try:
            X = sample[list(features)]
            with threadpool_limits(limits=1):
                _check_scores(model, X, task)
        except Exception as exc:  # a model that refuses the table is a finding, not a crash
            notes.append(
                "Permutation importance, partial dependence and SHAP values not computed: the model could "
                f"not score the evaluation table ({_describe(exc)}). Check that `features` lists the model's "
                "input columns in the order it was trained on."
            )
        else:
            checked = table if len(table) <= REPRODUCE_MAX_ROWS else sample
            try:
                with threadpool_limits(limits=1):
                    mismatch = reproduces_table(
                        model,
                        checked[list(features)],
                        checked,
                        score=score,
                        prediction=prediction,
                        task=task,
                        positive_label=positive_label,
                        sampled=checked is sample,
                    )
            except Exception as exc:  # a model that cannot predict what it was checked to score: said, not a crash
                mismatch = (
                    f"{NOT_REPRODUCED}: the model could not be run to compare its output with the table's "
                    f"({_describe(exc)})."
                )
            if mismatch:
                notes.append(mismatch)
            # One thread for the model's numerical libraries: results cannot depend on the machine's
            # cores, and OpenMP's spin-waiting made gradient boosting 100× slower on a busy 2-core box.
            with threadpool_limits(limits=1):
                importance, curves, shap = _model_parts(
                    model, X, sample[label], task=task, positive_label=positive_label, settings=settings, notes=notes
                )

    return Explainability(
        model=model_ref,
        permutation_importance=importance,
        partial_dependence=curves,
        shap=shap,
        error_slices=slices,
        error_metric=error_metric,
        notes=[*notes, *slice_notes],
        precomputed_importance=dict(precomputed or {}) if importance is None else {},
    )


def _model_parts(
    model: Any,
    X: pd.DataFrame,
    y: pd.Series,
    *,
    task: str,
    positive_label: object,
    settings: AnalysisSettings,
    notes: list[str],
) -> tuple[PermutationImportance | None, list[PartialDependence], Any]:
    """Permutation importance, partial dependence and SHAP, each skipped with a note on failure."""
    importance = None
    try:
        rows = permutation_rows(len(X), X.shape[1], settings.permutation_repeats)
        kept = _subsample(len(X), rows, settings.seed)
        target = _target(model, y, task)[kept]
        importance = permutation(model, X.iloc[kept].reset_index(drop=True), target, task=task, settings=settings)
        if rows < len(X):
            notes.append(_fewer_rows_note(rows, len(X), X.shape[1], settings.permutation_repeats))
    except Exception as exc:  # the model is third-party code: any failure is a note, not a crash
        notes.append(f"Permutation importance not computed: {_describe(exc)}.")

    if importance is not None:
        top = [item.feature for item in importance.features[:PD_FEATURES]]
    else:
        top = list(X.columns[:PD_FEATURES])
    curves: list[PartialDependence] = []
    if task == "multiclass_classification":
        notes.append("Partial dependence and SHAP values are computed for binary classification and regression only.")
        return importance, curves, None
    if importance is None:
        notes.append("Partial dependence is shown for the first inputs listed, as importance could not rank them.")
    index = positive_index(model, positive_label) if task == "binary_classification" else 0
    for feature in top:
        try:
            curves.append(dependence(model, X, feature, task=task, positive_index=index, seed=settings.seed))
            if is_categorical(X[feature]) and (categories := X[feature].nunique()) > PD_GRID:
                notes.append(
                    f"Partial dependence on `{feature}` is drawn for its {PD_GRID} most frequent of {categories:,} "
                    "categories in the sample: each category drawn scores every sampled row once more."
                )
        except Exception as exc:
            notes.append(f"Partial dependence on `{feature}` not computed: {_describe(exc)}.")

    shap = None
    try:
        shap = shap_summary(model, X, task=task, positive_index=index, seed=settings.seed)
    except ShapUnavailable as exc:
        notes.append(str(exc))
    except Exception as exc:
        notes.append(f"SHAP values not computed: {_describe(exc)}.")
    if shap is not None and shap.explainer == "PermutationExplainer":
        _, background = summary_plan(X.shape[1])  # the plan the summary was computed with
        usual = min(BACKGROUND_ROWS, len(X))
        if background < usual:
            notes.append(
                f"SHAP values are measured against {background} background rows, not {usual}: with "
                f"{X.shape[1]:,} inputs, that keeps the sampled explainer within its bounds. They still add up "
                "to each row's score; the base value they add up from is the mean score of fewer rows."
            )
    return importance, curves, shap


#: How far the model's own score may be from the evaluation table's before the table is said not to
#: come from it: half of the second decimal, so that a table whose scores were rounded to two places
#: still matches, while a score moved enough to change a decision or a group's rate does not.
SCORE_TOLERANCE = 0.005

#: The most rows of a table the model is run on to check that it wrote them: every row, up to this;
#: beyond it, the explanations' seeded sample (and the note says so). On a sample alone, rows left
#: out of it could be edited unseen: the seed is the workspace's.
REPRODUCE_MAX_ROWS = 500_000


def reproduces_table(
    model: Any,
    X: pd.DataFrame,
    sample: pd.DataFrame,
    *,
    score: str | None,
    prediction: str,
    task: str,
    positive_label: object,
    sampled: bool = False,
) -> str | None:
    """None when the model file, run on the table's rows (``sample``: all of them, or a sample when
    ``sampled``), gives the table's own outputs; else a note.

    Every metric, interval and fairness figure is computed from the table's columns, which whoever
    writes the workspace writes: a table whose scores were lowered for one group passes a fairness rule
    the model itself fails. When the model file is loaded, its output is set beside the table's: a
    binary classifier's probability of the positive label beside the score column (the prediction
    depends on a threshold the model does not know), a regression's prediction beside the prediction
    column, and otherwise (a binary table without scores, a multiclass one) the predicted class beside
    the prediction column."""
    rows = f"{len(sample):,} rows sampled" if sampled else f"{len(sample):,} rows"
    if task == "binary_classification" and score and score in sample and hasattr(model, "predict_proba"):
        ours = np.asarray(model.predict_proba(X), dtype=float)[:, positive_index(model, positive_label)].ravel()
        theirs = pd.to_numeric(sample[score], errors="coerce").to_numpy(dtype=float)
        column, what = score, "probability of the positive label"
    elif task == "regression":
        ours = np.asarray(model.predict(X), dtype=float).ravel()  # a model may answer in a column
        theirs = pd.to_numeric(sample[prediction], errors="coerce").to_numpy(dtype=float)
        column, what = prediction, "prediction"
    else:
        ours_text = _as_labels(np.asarray(model.predict(X)).ravel())
        theirs_text = _as_labels(sample[prediction].to_numpy())
        off = ours_text != theirs_text
        if not off.any():
            return None
        return (
            f"{NOT_REPRODUCED}: on {int(off.sum()):,} of the {rows}, its predicted class differs "
            f"from the table's {prediction!r}. Every figure of this evaluation is computed from the table, not "
            "from this model: check that the table was scored by this model file."
        )
    scale = np.maximum(1.0, np.abs(theirs)) if task == "regression" else 1.0
    gap = np.abs(ours - theirs)
    # a value exactly half a hundredth away (0.375 rounded to 0.38) is a rounding, not a difference;
    # a missing or non-numeric value in the table is off
    off = ~(gap <= SCORE_TOLERANCE * scale + 1e-9)
    if not off.any():
        return None
    largest = float(np.nanmax(gap)) if np.isfinite(gap).any() else float("nan")
    return (
        f"{NOT_REPRODUCED}: on {int(off.sum()):,} of the {rows}, its {what} differs from "
        f"the table's {column!r} by more than {SCORE_TOLERANCE:g}{' (relative)' if task == 'regression' else ''}"
        f" (at most by {largest:.3g}). Every figure of this evaluation is computed from the table, not from this "
        "model: check that the table was scored by this model file."
    )


def _as_labels(values: np.ndarray) -> np.ndarray:
    """Class labels as comparable text: a whole number held as a float (``1.0``, as a model trained on
    float labels answers) is the label ``1``."""

    def label(value: object) -> str:
        if isinstance(value, float | np.floating) and float(value).is_integer():
            return str(int(value))
        return str(value)

    return np.array([label(v) for v in values.tolist()], dtype=object)


def _check_scores(model: Any, X: pd.DataFrame, task: str) -> None:
    """Score the sample once, so a model that refuses the columns fails here with one clear note."""
    if task != "regression" and hasattr(model, "predict_proba"):
        model.predict_proba(X)
    else:
        model.predict(X)


def scoring(model: Any, task: str) -> str:
    """The scikit-learn scorer: ROC AUC for a binary model with probabilities (the ranking the
    score column is used for), accuracy otherwise, R² for regression."""
    if task == "regression":
        return "r2"
    if task == "binary_classification" and hasattr(model, "predict_proba"):
        return "roc_auc"
    return "accuracy"


def _target(model: Any, y: pd.Series, task: str) -> np.ndarray:
    """The label column in the model's own label values. A CSV may read the label as numbers where
    the model was trained on text (or the reverse); matching by text bridges that."""
    if task == "regression":
        return pd.to_numeric(y, errors="raise").to_numpy(dtype=float)
    classes = getattr(model, "classes_", None)
    if classes is None or y.isin(list(classes)).all():
        return y.to_numpy()
    by_text = {str(value): value for value in classes}
    mapped = y.astype(str).map(by_text)
    if mapped.isna().any():
        unknown = sorted(set(y.astype(str)) - set(by_text))[:5]
        raise _Skip(f"the labels {', '.join(map(repr, unknown))} are not among the model's classes")
    return np.asarray(mapped.tolist(), dtype=np.asarray(classes).dtype)


def positive_index(model: Any, positive_label: object) -> int:
    """Column of ``predict_proba`` that belongs to the positive label (compared as text if need be)."""
    classes = list(getattr(model, "classes_", [0, 1]))
    for index, value in enumerate(classes):
        if value == positive_label or str(value) == str(positive_label):
            return index
    return len(classes) - 1


def permutation_rows(rows: int, features: int, repeats: int) -> int:
    """How many of ``rows`` sampled rows permutation importance scores, so that the values the model
    scores (rows × inputs, for each input and shuffle) stay within :data:`PERMUTATION_CELLS`. Counted,
    not timed, so a table gets the same rows on every machine. Every table is charged for at least
    :data:`PERMUTATION_MIN_ROWS` rows, since with fewer the model calls (inputs × shuffles) are the
    cost; :class:`_Skip` when even those do not fit."""
    per_row = features * features * repeats
    if PERMUTATION_MIN_ROWS * per_row > PERMUTATION_CELLS:
        fitting = PERMUTATION_CELLS // (PERMUTATION_MIN_ROWS * features * features)
        advice = (
            f"; at most {fitting} shuffle{'s' if fitting > 1 else ''} (`analysis.permutation_repeats`) would allow "
            "this width"
            if fitting >= 1
            else ""
        )
        raise _Skip(
            f"with {features:,} inputs and {repeats} shuffle{'s' if repeats > 1 else ''} of each, the model would "
            f"score more than its bound of {PERMUTATION_CELLS:,} values (rows × inputs, for each input and shuffle) "
            f"on {PERMUTATION_MIN_ROWS} rows, the fewest it is measured on{advice}"
        )
    return min(rows, PERMUTATION_CELLS // per_row)


def _fewer_rows_note(rows: int, sampled: int, features: int, repeats: int) -> str:
    return (
        f"Permutation importance is measured on {rows:,} of the {sampled:,} sampled rows: with {features:,} inputs "
        f"and {repeats} shuffle{'s' if repeats > 1 else ''} of each, its work grows with the square of the width, "
        f"and more rows would pass its bound of {PERMUTATION_CELLS:,} values scored (rows × inputs, for each input "
        "and shuffle). Fewer rows make the importances noisier; the whiskers, their spread across shuffles on "
        "these rows, do not show that."
    )


def _subsample(rows: int, keep: int, seed: int) -> np.ndarray:
    """Positions of a seeded sample of ``keep`` of ``rows`` rows, in order (all of them if they fit)."""
    if keep >= rows:
        return np.arange(rows)
    return np.sort(np.random.default_rng(seed).choice(rows, size=keep, replace=False))


def permutation(
    model: Any, X: pd.DataFrame, y: np.ndarray, *, task: str, settings: AnalysisSettings
) -> PermutationImportance:
    """Mean and standard deviation of the score drop when each input is shuffled, most important first."""
    scorer = scoring(model, task)
    if scorer == "roc_auc" and len(np.unique(y)) < 2:
        raise _Skip("ROC AUC is undefined because the sampled labels contain only one class")
    # imported here: most versions have no model file to explain, and scikit-learn's inspection
    # module (with its ensembles, trees and neighbours) takes 0.15 s to import
    from sklearn.inspection import permutation_importance

    result = permutation_importance(
        model, X, y, scoring=scorer, n_repeats=settings.permutation_repeats, random_state=settings.seed
    )
    means, stds = result["importances_mean"], result["importances_std"]
    if not (np.all(np.isfinite(means)) and np.all(np.isfinite(stds))):
        raise _Skip(f"the {scorer} score was undefined on the shuffled data")
    order = sorted(range(X.shape[1]), key=lambda i: (-means[i], i))
    return PermutationImportance(
        scoring=scorer,
        repeats=settings.permutation_repeats,
        rows=len(X),
        features=[
            FeatureImportance(feature=str(X.columns[i]), mean=float(means[i]), std=float(stds[i])) for i in order
        ],
    )


def is_categorical(values: pd.Series) -> bool:
    return not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)


def as_pd_input(X: pd.DataFrame, feature: str) -> pd.DataFrame:
    """``X`` with an integer ``feature`` as floats: scikit-learn refuses integer columns for partial
    dependence, because writing a fractional grid value into them would silently round it."""
    if pd.api.types.is_integer_dtype(X[feature]) and not pd.api.types.is_bool_dtype(X[feature]):
        X = X.assign(**{feature: X[feature].astype(float)})
    return X


def pd_categories(values: pd.Series) -> list:
    """The :data:`PD_GRID` most frequent categories of ``values`` (ties by their text), in that order:
    the grid of a categorical input with more. Every grid point scores every sampled row, so a column
    with thousands of categories would cost thousands of passes."""
    counts = values.dropna().value_counts()
    ranked = sorted(counts.items(), key=lambda item: (-item[1], str(item[0])))
    return [value for value, _ in ranked[:PD_GRID]]


def dependence(
    model: Any, X: pd.DataFrame, feature: str, *, task: str, positive_index: int, seed: int
) -> PartialDependence:
    """Partial dependence of the prediction (the positive-class probability for a binary model) on
    one input: numbers on a grid of up to :data:`PD_GRID` points between their 5th and 95th
    percentiles, categories one by one (scikit-learn's rules; a number with fewer distinct values
    than grid points uses those values; a category with more than :data:`PD_GRID` values, its most
    frequent, :func:`pd_categories`), plus ICE curves for a seeded sample of at most
    :data:`ICE_LINES` rows."""
    categorical = is_categorical(X[feature])
    classifier = task != "regression"
    if classifier and not hasattr(model, "predict_proba"):
        raise _Skip("the model gives no probabilities (`predict_proba`)")
    grid = {feature: pd_categories(X[feature])} if categorical and X[feature].nunique() > PD_GRID else None
    from sklearn.inspection import partial_dependence  # imported here, as in :func:`permutation`

    result = partial_dependence(
        model,
        as_pd_input(X, feature),
        [feature],
        categorical_features=[feature] if categorical else None,
        custom_values=grid,
        percentiles=PD_PERCENTILES,
        grid_resolution=PD_GRID,
        method="brute",
        kind="both",
        response_method="predict_proba" if classifier else "auto",
    )
    # scikit-learn reports a binary model's curves for classes_[1] only
    flip = classifier and positive_index == 0
    average = np.asarray(result["average"][0], dtype=float)
    individual = np.asarray(result["individual"][0], dtype=float)
    if flip:
        average, individual = 1 - average, 1 - individual
    rows = np.arange(individual.shape[0])
    if len(rows) > ICE_LINES:
        rows = np.sort(np.random.default_rng(seed).choice(len(rows), size=ICE_LINES, replace=False))
    ice = individual[rows]
    if not (np.all(np.isfinite(average)) and np.all(np.isfinite(ice))):
        raise _Skip("the model returned non-finite predictions on the grid")
    grid = result["grid_values"][0]
    return PartialDependence(
        feature=feature,
        kind="categorical" if categorical else "numeric",
        grid=[str(value) for value in grid] if categorical else [float(value) for value in grid],
        average=[float(value) for value in average],
        ice=[[float(value) for value in line] for line in ice],
    )


def _describe(exc: BaseException) -> str:
    text = str(exc).strip()
    line = text.splitlines()[0] if text else type(exc).__name__
    if isinstance(exc, _Skip | ShapUnavailable):
        return line
    line = f"{type(exc).__name__}: {line}" if text else line
    return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 1] + "…"
