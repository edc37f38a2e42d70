"""Explainability: numbers equal scikit-learn (and shap, and pandas) run directly on the same rows;
model files are loaded only under the workspace's rules, and every failure becomes a note."""

from __future__ import annotations

import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import skops.io
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import GradientBoostingClassifier, GradientBoostingRegressor, HistGradientBoostingClassifier
from sklearn.exceptions import InconsistentVersionWarning
from sklearn.inspection import partial_dependence, permutation_importance
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from modelgov.analysis import explain as explain_module
from modelgov.analysis import shapley
from modelgov.analysis.explain import NO_MODEL_FILE, dependence, explain, permutation_rows, sample_rows
from modelgov.analysis.slices import DISCRETE_MAX, number, slice_labels
from modelgov.manifest import Explainability, FileRef
from modelgov.sources.models import LoadedModel, ModelUnavailable, load_model
from modelgov.workspace.governance_schema import AnalysisSettings
from modelgov.workspace.training_schema import Artifact

FEATURES = ["income", "debt_ratio", "late_payments", "employment"]


@pytest.fixture
def needs_shap() -> None:
    """Skips a test where shap does not import: checked when such a test runs, not when the module is
    collected (importing shap takes a second, paid by every test process that collects the suite)."""
    try:
        import shap  # noqa: F401
    except Exception:
        pytest.skip("shap, a dependency of modelgov, is not installed")


def applicants(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(
        {
            "income": np.round(rng.lognormal(10.3, 0.4, n), -2),
            "debt_ratio": np.round(rng.beta(2, 5, n), 3),
            "late_payments": rng.poisson(0.8, n).astype(np.int64),
            "employment": rng.choice(np.array(["salaried", "contract", "self_employed"], dtype=object), n),
        }
    )
    logit = -1 + 3 * frame["debt_ratio"] - (np.log(frame["income"]) - 10.3) + 0.5 * frame["late_payments"]
    logit += np.where(frame["employment"] == "contract", 0.8, 0.0)
    frame["default"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    return frame


def logistic() -> Pipeline:
    prep = ColumnTransformer(
        [
            ("num", StandardScaler(), ["income", "debt_ratio", "late_payments"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), ["employment"]),
        ]
    )
    return Pipeline([("prep", prep), ("model", LogisticRegression(max_iter=1000))])


@pytest.fixture(scope="module")
def binary() -> tuple[Pipeline, pd.DataFrame]:
    model = logistic().fit(applicants(1500, 1)[FEATURES], applicants(1500, 1)["default"])
    table = applicants(1200, 2)
    table["prediction"] = model.predict(table[FEATURES])
    return model, table


@pytest.fixture(scope="module")
def regression() -> tuple[Pipeline, pd.DataFrame]:
    train, table = applicants(800, 3), applicants(450, 4)
    target = lambda f: 2_000 * f["debt_ratio"] + 0.01 * f["income"] + 50 * f["late_payments"]  # noqa: E731
    prep = ColumnTransformer(
        [("num", StandardScaler(), FEATURES[:3]), ("cat", OneHotEncoder(handle_unknown="ignore"), ["employment"])]
    )
    model = Pipeline([("prep", prep), ("model", Ridge())]).fit(train[FEATURES], target(train))
    table["value"] = np.round(target(table) + np.random.default_rng(5).normal(0, 100, len(table)), 1)
    table["predicted"] = np.round(model.predict(table[FEATURES]), 1)
    return model, table


def wide_binary(width: int, rows: int, drivers: tuple[str, str], *, seed: int):
    """A logistic regression on ``width`` normal inputs whose label is the first driver minus the
    second plus noise: (model, table with `default` and `prediction`, the input columns)."""
    rng = np.random.default_rng(seed)
    features = [f"x{i}" for i in range(width)]
    table = pd.DataFrame(rng.normal(size=(rows, width)), columns=features)
    table["default"] = (table[drivers[0]] - table[drivers[1]] + rng.normal(size=rows) > 0).astype(int)
    model = LogisticRegression(max_iter=500).fit(table[features], table["default"])
    table["prediction"] = model.predict(table[features])
    return model, table, features


SETTINGS = AnalysisSettings(seed=7, permutation_repeats=4, explain_max_rows=500, min_group_size=25)


def run(model, table, task="binary_classification", **kwargs) -> Explainability:
    columns = {"label": "default", "prediction": "prediction"}
    if task == "regression":
        columns = {"label": "value", "prediction": "predicted"}
    options = {"features": FEATURES, "task": task, "settings": SETTINGS, **columns, **kwargs}
    return explain(model, table, **options)


# --------------------------------------------------------------------------- permutation importance


def test_sample_is_seeded_and_bounded(binary) -> None:
    _, table = binary
    sample = sample_rows(table, 500, 7)
    assert len(sample) == 500
    assert sample.equals(sample_rows(table, 500, 7))
    assert not sample.equals(sample_rows(table, 500, 8))
    assert sample_rows(table, 5000, 7).equals(table)
    merged = sample.merge(table.reset_index(), on=list(table.columns))
    assert merged["index"].is_monotonic_increasing  # kept in table order


def test_permutation_importance_rows_keep_its_work_within_the_bound() -> None:
    """rows × inputs² × shuffles never passes the bound, every table being charged for at least 100
    rows (below that the model calls are the cost); the defaults are untouched up to 30 inputs; a table
    too wide, however few its rows, is refused; the advice to shuffle less is given when it would help."""
    bound, floor = explain_module.PERMUTATION_CELLS, explain_module.PERMUTATION_MIN_ROWS
    assert permutation_rows(5_000, 30, 5) == 5_000
    assert permutation_rows(5_000, 31, 5) < 5_000
    assert permutation_rows(60, 200, 5) == 60  # a small sample of a table that fits is used whole
    for rows in (2, 60, 5_000):
        for features in (1, 10, 30, 31, 60, 100, 212, 213, 335, 474, 475):
            for repeats in (1, 5, 10, 100):
                try:
                    kept = permutation_rows(rows, features, repeats)
                except Exception:
                    assert floor * features * features * repeats > bound
                    continue
                assert max(kept, floor) * features * features * repeats <= bound
                assert kept == rows or (floor <= kept < rows and (kept + 1) * features * features * repeats > bound)
    assert permutation_rows(5_000, 212, 5) == floor
    assert permutation_rows(5_000, 474, 1) == floor
    with pytest.raises(
        Exception, match=r"with 213 inputs and 5 shuffles of each, the model would score more"
    ) as refused:
        permutation_rows(5_000, 213, 5)
    assert "at most 4 shuffles (`analysis.permutation_repeats`) would allow this width" in str(refused.value)
    with pytest.raises(Exception, match=r"with 335 inputs and 10 shuffles") as tiny:  # 2 rows: calls are the cost
        permutation_rows(2, 335, 10)
    assert "at most 2 shuffles" in str(tiny.value)
    with pytest.raises(Exception, match=r"on 100 rows, the fewest it is measured on$"):  # no advice that cannot help
        permutation_rows(5_000, 475, 1)


def test_a_wide_table_gets_permutation_importance_on_fewer_rows_and_says_so(monkeypatch) -> None:
    """With the bound cut so that 40 inputs allow 200 of the 500 sampled rows, the importances are
    scikit-learn's on those 200 rows (a seeded sample, in order) and a note says why; cut further, the
    importances are refused with a note and partial dependence falls back to the first inputs."""
    model, table, features = wide_binary(40, 800, ("x3", "x7"), seed=6)
    settings = SETTINGS.model_copy(update={"permutation_repeats": 2})
    monkeypatch.setattr(explain_module, "PERMUTATION_CELLS", 200 * 40 * 40 * 2)

    result = run(model, table, features=features, settings=settings)
    importance = result.permutation_importance
    assert importance is not None and importance.rows == 200
    sample = sample_rows(sample_rows(table, 500, settings.seed), 200, settings.seed)
    expected = permutation_importance(
        model, sample[features], sample["default"], scoring="roc_auc", n_repeats=2, random_state=settings.seed
    )
    by_feature = {item.feature: item for item in importance.features}
    for index, feature in enumerate(features):
        assert by_feature[feature].mean == pytest.approx(expected["importances_mean"][index], abs=1e-12)
    assert {item.feature for item in importance.features[:2]} == {"x3", "x7"}
    assert any(
        note.startswith("Permutation importance is measured on 200 of the 500 sampled rows: with 40 inputs and 2")
        for note in result.notes
    )

    monkeypatch.setattr(explain_module, "PERMUTATION_CELLS", 99 * 40 * 40 * 2)
    refused = run(model, table, features=features, settings=settings)
    assert refused.permutation_importance is None
    assert any(
        note.startswith("Permutation importance not computed: with 40 inputs and 2 shuffles of each, the model would")
        for note in refused.notes
    )
    assert [curve.feature for curve in refused.partial_dependence] == features[:3]


def test_permutation_importance_equals_scikit_learn(binary) -> None:
    model, table = binary
    result = run(model, table)
    sample = sample_rows(table, SETTINGS.explain_max_rows, SETTINGS.seed)
    expected = permutation_importance(
        model,
        sample[FEATURES],
        sample["default"],
        scoring="roc_auc",
        n_repeats=SETTINGS.permutation_repeats,
        random_state=SETTINGS.seed,
    )
    importance = result.permutation_importance
    assert importance is not None
    assert (importance.scoring, importance.repeats, importance.rows) == ("roc_auc", 4, 500)
    by_feature = {item.feature: item for item in importance.features}
    for index, feature in enumerate(FEATURES):
        assert by_feature[feature].mean == pytest.approx(expected["importances_mean"][index], abs=1e-12)
        assert by_feature[feature].std == pytest.approx(expected["importances_std"][index], abs=1e-12)
    means = [item.mean for item in importance.features]
    assert means == sorted(means, reverse=True)
    assert importance.features[0].feature in {"debt_ratio", "income"}
    assert result.precomputed_importance == {}


def test_regression_uses_r2(regression) -> None:
    model, table = regression
    assert len(table) <= SETTINGS.explain_max_rows  # so the sample is the whole table
    result = run(model, table, task="regression")
    direct = permutation_importance(
        model, table[FEATURES], table["value"], scoring="r2", n_repeats=4, random_state=SETTINGS.seed
    )
    importance = result.permutation_importance
    assert importance is not None and importance.scoring == "r2"
    assert {item.feature: item.mean for item in importance.features} == pytest.approx(
        dict(zip(FEATURES, direct["importances_mean"], strict=True))
    )


def test_text_labels_are_matched_to_numeric_classes(binary) -> None:
    model, table = binary
    as_text = table.assign(default=table["default"].astype(str), prediction=table["prediction"].astype(str))
    numeric = run(model, table).permutation_importance
    text = run(model, as_text, positive_label="1").permutation_importance
    assert numeric is not None and text == numeric


def test_multiclass_uses_accuracy_and_skips_curves() -> None:
    frame = applicants(900, 9)
    frame["band"] = pd.cut(frame["debt_ratio"], [0, 0.2, 0.35, 1], labels=["low", "mid", "high"]).astype(str)
    model = logistic().fit(frame[FEATURES], frame["band"])
    frame["predicted_band"] = model.predict(frame[FEATURES])
    result = explain(
        model,
        frame,
        features=FEATURES,
        label="band",
        prediction="predicted_band",
        task="multiclass_classification",
        settings=SETTINGS,
    )
    assert result.permutation_importance is not None and result.permutation_importance.scoring == "accuracy"
    assert result.partial_dependence == [] and result.shap is None
    assert any("binary classification and regression only" in note for note in result.notes)
    assert result.error_metric == "error rate"


# --------------------------------------------------------------------------- partial dependence


def direct_pd(model, X: pd.DataFrame, feature: str, **kwargs):
    if pd.api.types.is_integer_dtype(X[feature]):
        X = X.assign(**{feature: X[feature].astype(float)})
    categorical = not pd.api.types.is_numeric_dtype(X[feature])
    return partial_dependence(
        model,
        X,
        [feature],
        grid_resolution=20,
        percentiles=(0.05, 0.95),
        categorical_features=[feature] if categorical else None,
        method="brute",
        kind="both",
        **kwargs,
    )


@pytest.mark.parametrize("positive_label", [1, 0])
def test_partial_dependence_equals_scikit_learn(binary, positive_label: int) -> None:
    model, table = binary
    result = run(model, table, positive_label=positive_label)
    assert result.permutation_importance is not None
    top = [item.feature for item in result.permutation_importance.features[:3]]
    assert [curve.feature for curve in result.partial_dependence] == top
    X = sample_rows(table, SETTINGS.explain_max_rows, SETTINGS.seed)[FEATURES]
    for curve in result.partial_dependence:
        expected = direct_pd(model, X, curve.feature, response_method="predict_proba")
        average = expected["average"][0] if positive_label == 1 else 1 - expected["average"][0]
        individual = expected["individual"][0] if positive_label == 1 else 1 - expected["individual"][0]
        assert np.allclose(curve.average, average, rtol=0, atol=1e-12)
        if curve.kind == "categorical":
            assert curve.grid == [str(value) for value in expected["grid_values"][0]]
        else:
            assert np.allclose(curve.grid, expected["grid_values"][0])
            assert len(curve.grid) <= 20
        assert 0 < len(curve.ice) <= 50
        for line in curve.ice:  # every ICE line is one row's curve
            assert np.isclose(individual, line, rtol=0, atol=1e-12).all(axis=1).any()


def test_a_category_with_many_values_is_drawn_for_its_most_frequent(binary) -> None:
    """A categorical input with 60 values: partial dependence is drawn for its 20 most frequent (each
    value drawn scores every sampled row), each point the mean score with the column set to it,
    computed here by hand, and the notes say so."""
    _, table = binary
    rng = np.random.default_rng(3)
    cities = np.array([f"city-{i:02d}" for i in range(60)], dtype=object)
    weights = np.linspace(2, 1, 60)
    wide = table.assign(city=rng.choice(cities, len(table), p=weights / weights.sum()))
    features = ["income", "debt_ratio", "city"]  # three inputs: each gets its curve
    prep = ColumnTransformer(
        [("num", StandardScaler(), ["income", "debt_ratio"]), ("cat", OneHotEncoder(handle_unknown="ignore"), ["city"])]
    )
    model = Pipeline([("prep", prep), ("model", LogisticRegression(max_iter=1000))]).fit(
        wide[features], wide["default"]
    )
    curve = dependence(model, wide[features], "city", task="binary_classification", positive_index=1, seed=0)
    counts = wide["city"].value_counts()
    expected = sorted(counts.index, key=lambda value: (-counts[value], value))[:20]
    assert sorted(curve.grid) == sorted(expected) and len(curve.grid) == 20
    for value, average in zip(curve.grid, curve.average, strict=True):
        by_hand = model.predict_proba(wide[features].assign(city=value))[:, 1].mean()
        assert average == pytest.approx(by_hand, abs=1e-12)
    wide["prediction"] = model.predict(wide[features])
    result = run(model, wide, features=features, settings=SETTINGS.model_copy(update={"permutation_repeats": 1}))
    assert "city" in {item.feature for item in result.partial_dependence}
    assert any("`city` is drawn for its 20 most frequent of 60 categories" in note for note in result.notes)


def test_partial_dependence_for_regression_and_integer_inputs(regression) -> None:
    model, table = regression
    result = run(model, table, task="regression")
    assert len(result.partial_dependence) == 3
    for curve in result.partial_dependence:
        expected = direct_pd(model, table[FEATURES], curve.feature)
        assert np.allclose(curve.average, expected["average"][0], rtol=0, atol=1e-9)
    # an integer input (scikit-learn refuses those unless they are passed as floats)
    assert pd.api.types.is_integer_dtype(table["late_payments"])
    curve = dependence(model, table[FEATURES], "late_payments", task="regression", positive_index=0, seed=0)
    expected = direct_pd(model, table[FEATURES], "late_payments")
    assert curve.kind == "numeric" and np.allclose(curve.grid, expected["grid_values"][0])
    assert np.allclose(curve.average, expected["average"][0], rtol=0, atol=1e-9)


# --------------------------------------------------------------------------- error slices


def independent_labels(column: pd.Series) -> pd.Series:
    """Conditions computed with plain pandas: quartile bins named by their observed range."""
    if not pd.api.types.is_numeric_dtype(column):
        return column.astype(str)
    if column.nunique() <= DISCRETE_MAX:
        return column.map(number)
    bins = pd.qcut(column, 4, duplicates="drop")
    low, high = (
        column.groupby(bins, observed=True).transform("min"),
        column.groupby(bins, observed=True).transform("max"),
    )
    return pd.Series([f"{number(a)}–{number(b)}" for a, b in zip(low, high, strict=True)], index=column.index)


def independent_slices(table: pd.DataFrame, error: pd.Series, min_size: int) -> list[tuple]:
    labels = {feature: independent_labels(table[feature]) for feature in FEATURES}
    rows = []
    keys = [[f] for f in FEATURES] + [[a, b] for i, a in enumerate(FEATURES) for b in FEATURES[i + 1 :]]
    for key in keys:
        grouped = pd.DataFrame({**{f: labels[f] for f in key}, "e": error}).groupby(key)["e"]
        for values, group in grouped:
            if len(group) >= min_size:
                conditions = tuple(zip(key, values if isinstance(values, tuple) else (values,), strict=True))
                rows.append((-group.mean(), -len(group), len(key), conditions))
    return sorted(rows)[:10]


def as_rows(result: Explainability) -> list[tuple]:
    return [(-s.error, -s.count, len(s.conditions), tuple(s.conditions.items())) for s in result.error_slices]


def test_error_slices_equal_a_pandas_groupby(binary) -> None:
    model, table = binary
    result = run(model, table)
    error = (table["default"] != table["prediction"]).astype(float)
    assert result.error_metric == "error rate"
    got, expected = as_rows(result), independent_slices(table, error, SETTINGS.min_group_size)
    assert len(got) == 10
    assert [row[3] for row in got] == [row[3] for row in expected]
    assert np.allclose([row[:2] for row in got], [row[:2] for row in expected])
    assert all(s.overall_error == pytest.approx(error.mean()) for s in result.error_slices)
    assert all(s.count >= SETTINGS.min_group_size for s in result.error_slices)


def test_regression_slices_use_mean_absolute_error(regression) -> None:
    model, table = regression
    result = run(model, table, task="regression")
    error = (table["predicted"] - table["value"]).abs()
    assert result.error_metric == "mean absolute error"
    got, expected = as_rows(result), independent_slices(table, error, SETTINGS.min_group_size)
    assert [row[3] for row in got] == [row[3] for row in expected]
    assert np.allclose([row[:2] for row in got], [row[:2] for row in expected])


def test_slice_labels_are_readable_ranges_and_missing_values_are_kept() -> None:
    incomes = [12_000, 18_500, 25_000, 31_000, 40_000, 52_500, 61_000, 80_000, 95_000, 120_000, 150_000]
    income = pd.Series(np.repeat(incomes, 20), dtype=float)
    labels = slice_labels(income)
    assert labels is not None
    assert labels.iloc[0] == "12,000–25,000" and labels.iloc[-1] == "120,000–150,000"
    assert labels.nunique() == 4
    ratios = slice_labels(pd.Series(np.linspace(0.01, 0.9, 100)))
    assert ratios is not None and ratios.iloc[0] == "0.01–0.226"
    assert list(slice_labels(pd.Series([1, 2, None, 2]))) == ["1", "2", "(missing)", "2"]

    table = pd.DataFrame({"income": income, "region": ["north", None] * 110})
    table["label"] = (np.arange(len(table)) % 3 == 0).astype(int)
    table["prediction"] = 0
    result = explain(
        None,
        table,
        features=["income", "region"],
        label="label",
        prediction="prediction",
        task="binary_classification",
        settings=AnalysisSettings(min_group_size=20),
    )
    assert any(s.conditions == {"region": "(missing)"} for s in result.error_slices)
    assert {s.conditions.get("income") for s in result.error_slices} - {None} <= set(labels)


def test_slices_skip_identifier_columns_with_a_note(binary) -> None:
    _, table = binary
    with_ids = table.assign(customer=[f"C{i}" for i in range(len(table))])
    result = explain(
        None,
        with_ids,
        features=FEATURES,
        label="default",
        prediction="prediction",
        task="binary_classification",
        settings=SETTINGS,
        slice_features=[*FEATURES, "customer"],
    )
    assert all("customer" not in s.conditions for s in result.error_slices)
    assert any("`customer` was not used for error slices" in note for note in result.notes)


# --------------------------------------------------------------------------- without a model


def test_no_model_gives_precomputed_importance_and_a_note(binary) -> None:
    _, table = binary
    declared = {"income": 0.12, "debt_ratio": 0.09}
    ref = FileRef(path="models/m/versions/1/model.skops", sha256="0" * 64, bytes=10)
    result = run(None, table, precomputed=declared)
    assert result.permutation_importance is None and result.partial_dependence == [] and result.shap is None
    assert result.precomputed_importance == declared
    assert any(NO_MODEL_FILE in note for note in result.notes)
    assert len(result.error_slices) == 10  # slices need only label and prediction
    unavailable = run(None, table, precomputed=declared, model_ref=ref, unavailable_reason="it is a pickle")
    assert unavailable.model == ref
    assert any("it is a pickle" in note for note in unavailable.notes)
    assert not any(NO_MODEL_FILE in note for note in unavailable.notes)


def test_a_model_that_refuses_the_columns_is_a_note(binary) -> None:
    model, table = binary
    renamed = table.rename(columns={"income": "salary"})
    features = ["salary", "debt_ratio", "late_payments", "employment"]
    result = explain(
        model,
        renamed,
        features=features,
        label="default",
        prediction="prediction",
        task="binary_classification",
        settings=SETTINGS,
        precomputed={"salary": 1.0},
    )
    assert result.permutation_importance is None and result.partial_dependence == []
    assert any("could not score the evaluation table" in note and "income" in note for note in result.notes)
    assert result.precomputed_importance == {"salary": 1.0}
    assert result.error_slices


def test_unusable_columns_are_notes_not_crashes(regression) -> None:
    model, table = regression
    text_label = table.assign(value="high")
    result = run(model, text_label, task="regression")
    assert result.error_slices == [] and any("Error slices not computed" in n for n in result.notes)
    missing = run(model, table.drop(columns=["employment"]), task="regression")
    assert missing.permutation_importance is None
    assert any("could not score" in n and "employment" in n for n in missing.notes)


def test_explain_is_deterministic(binary) -> None:
    model, table = binary
    assert run(model, table) == run(model, table)


# --------------------------------------------------------------------------- SHAP


def test_shap_missing_gives_the_install_note(binary, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "shap", None)  # `import shap` now raises ImportError
    model, table = binary
    result = run(model, table)
    assert result.shap is None
    assert shapley.NOT_INSTALLED in result.notes and "dependency of modelgov" in shapley.NOT_INSTALLED
    assert result.permutation_importance is not None  # the rest is unaffected


@pytest.mark.usefixtures("needs_shap")
def test_shap_tree_explainer_equals_shap_directly(regression) -> None:
    import shap

    _, table = regression
    X = table[["income", "debt_ratio", "late_payments"]]
    model = GradientBoostingRegressor(n_estimators=30, random_state=0).fit(X, table["value"])
    summary = shapley.shap_summary(model, X, task="regression", positive_index=0, seed=0)
    direct = np.abs(shap.TreeExplainer(model).shap_values(X)).mean(axis=0)
    assert summary.explainer == "TreeExplainer" and summary.rows == len(X)
    assert summary.mean_abs == pytest.approx(dict(zip(X.columns, direct, strict=True)))
    assert list(summary.mean_abs.values()) == sorted(summary.mean_abs.values(), reverse=True)
    # the beeswarm keeps each feature's values on the first rows, coloured by the rank of its own value
    values = shap.TreeExplainer(model).shap_values(X)
    for item in summary.distribution:
        column = list(X.columns).index(item.feature)
        count = min(len(X), shapley.BEESWARM_ROWS)
        assert item.values == pytest.approx(values[:count, column], abs=1e-6)
        assert item.colour == pytest.approx(X[item.feature].iloc[:count].rank(pct=True).round(4).tolist())


@pytest.mark.usefixtures("needs_shap")
def test_shap_tree_explainer_in_a_pipeline_adds_one_hot_columns(binary) -> None:
    _, table = binary
    # sparse output on purpose: the explainer gets dense data, the model's own input stays sparse
    prep = ColumnTransformer(
        [("num", "passthrough", FEATURES[:3]), ("cat", OneHotEncoder(), ["employment"])], sparse_threshold=1.0
    )
    model = Pipeline([("prep", prep), ("model", GradientBoostingClassifier(n_estimators=30, random_state=0))])
    model.fit(table[FEATURES], table["default"])
    result = run(model, table)
    assert result.shap is not None and result.shap.explainer == "TreeExplainer"
    assert set(result.shap.mean_abs) == set(FEATURES)
    assert result.shap.rows == SETTINGS.explain_max_rows
    assert not any("SHAP" in note for note in result.notes)


@pytest.mark.usefixtures("needs_shap")
def test_shap_sampled_explainer_for_other_models(binary) -> None:
    model, table = binary
    result = run(model, table)
    assert result.shap is not None and result.shap.explainer == "PermutationExplainer"
    assert set(result.shap.mean_abs) == set(FEATURES)
    assert result.shap.rows == shapley.SAMPLED_ROWS
    assert max(result.shap.mean_abs, key=result.shap.mean_abs.get) in {"debt_ratio", "income"}


def test_the_sampled_plan_bounds_memory_and_work_whatever_the_width() -> None:
    """Each explained row masks (2 × inputs + 1) × background rows × inputs values at once: up to 30
    inputs every table gets SAMPLED_ROWS rows against BACKGROUND_ROWS (the figures of narrower tables
    do not move); beyond, the masked values stay within MAX_ROW_CELLS per row and the budget in all:
    rows are cut to the floor first, then the background, then rows below the floor; and a table too
    wide for one row gets none."""
    budget = shapley.SAMPLED_CELLS
    for features in range(1, 31):
        assert shapley.sampled_plan(200, features, min_rows=20, budget=budget) == (200, shapley.BACKGROUND_ROWS)
    assert shapley.sampled_plan(200, 60, min_rows=20, budget=budget) == (50, 50)
    for features in [*range(1, 460), 1_000, 10_000, 1_000_000]:
        per_row = (2 * features + 1) * features
        for rows, floor in ((200, 20), (100, 100), (20, 20), (1, 1)):
            explained, background = shapley.sampled_plan(rows, features, min_rows=floor, budget=budget)
            assert shapley.MIN_BACKGROUND_ROWS <= background <= shapley.BACKGROUND_ROWS and explained <= rows
            if explained == 0:  # too wide: even one row at the smallest background is out of bounds
                assert per_row * shapley.MIN_BACKGROUND_ROWS > min(shapley.MAX_ROW_CELLS, budget)
                continue
            assert per_row * background <= shapley.MAX_ROW_CELLS  # one row's masks, held at once
            assert explained * per_row * background <= budget
            if explained < min(rows, floor):  # rows below the floor only at the smallest background
                assert background == shapley.MIN_BACKGROUND_ROWS
                assert (explained + 1) * per_row * background > budget  # as many as fit
    assert shapley.sampled_plan(200, 446, min_rows=20, budget=budget)[0] > 0
    assert shapley.sampled_plan(200, 447, min_rows=20, budget=budget)[0] == 0


@pytest.mark.usefixtures("needs_shap")
def test_a_table_too_wide_to_explain_by_sampling_gets_a_note_not_a_crash() -> None:
    rng = np.random.default_rng(4)
    X = pd.DataFrame(rng.normal(size=(60, 500)), columns=[f"x{i}" for i in range(500)])
    model = LogisticRegression().fit(X, (X["x0"] > 0).astype(int))
    with pytest.raises(shapley.ShapUnavailable, match=r"SHAP values not computed: with 500 inputs, explaining one row"):
        shapley.shap_summary(model, X, task="binary_classification", positive_index=1, seed=2)


@pytest.mark.usefixtures("needs_shap")
def test_a_wide_model_is_explained_on_the_rows_its_width_allows() -> None:
    rng = np.random.default_rng(4)
    X = pd.DataFrame(rng.normal(size=(400, 60)), columns=[f"x{i}" for i in range(60)])
    model = LogisticRegression(max_iter=500).fit(X, (X["x0"] + X["x1"] + rng.normal(size=400) > 0).astype(int))
    summary = shapley.shap_summary(model, X, task="binary_classification", positive_index=1, seed=2)
    assert summary.explainer == "PermutationExplainer"
    assert summary.rows == shapley.sampled_plan(200, 60, min_rows=20, budget=shapley.SAMPLED_CELLS)[0] == 50
    assert set(list(summary.mean_abs)[:2]) == {"x0", "x1"}


@pytest.mark.usefixtures("needs_shap")
def test_a_smaller_background_is_said_on_the_page() -> None:
    """100 inputs: the summary is explained on 20 rows against 45 background rows, and a note says so."""
    model, table, features = wide_binary(100, 300, ("x0", "x1"), seed=4)
    assert shapley.sampled_plan(200, 100, min_rows=20, budget=shapley.SAMPLED_CELLS) == (20, 45)
    result = run(model, table, features=features, settings=SETTINGS.model_copy(update={"permutation_repeats": 1}))
    assert result.shap is not None and result.shap.explainer == "PermutationExplainer" and result.shap.rows == 20
    assert any("measured against 45 background rows, not 50: with 100 inputs" in note for note in result.notes)


@pytest.mark.usefixtures("needs_shap")
@pytest.mark.parametrize("task", ["binary_classification", "regression"])
def test_interpreted_kernels_give_the_bits_of_the_compiled_ones(binary, regression, task: str) -> None:
    """The sampled explainer, its numba kernels run as Python, gives the same bits as with numba's
    compiled kernels; and the block puts the compiled kernels back."""
    import shap
    from shap.maskers import _tabular
    from shap.utils import _masked_model

    model, table = binary if task == "binary_classification" else regression
    X = table[FEATURES]
    masking, averaging = _tabular._delta_masking, _masked_model._build_fixed_single_output
    if task == "regression":
        output = lambda data: model.predict(decode(data))  # noqa: E731
    else:
        output = lambda data: model.predict_proba(decode(data))[:, 1]  # noqa: E731
    encode, decode = shapley._codec(X)

    def values() -> np.ndarray:
        masker = shap.maskers.Independent(encode(X.iloc[:80]), max_samples=80)
        explainer = shap.PermutationExplainer(output, masker, seed=3)
        return explainer(encode(X.iloc[100:160]), max_evals=4 * len(FEATURES) + 2, silent=True).values

    with shapley.interpreted_kernels(shap):
        assert _tabular._delta_masking is masking.py_func
        assert not hasattr(_tabular._single_delta_mask, "py_func")  # a plain function, not a dispatcher
        assert _masked_model._build_fixed_single_output is not averaging
        with shapley.interpreted_kernels(shap):  # nested: left as the enclosing block set it
            pass
        assert _tabular._delta_masking is masking.py_func
        interpreted = values()
    assert (_tabular._delta_masking, _masked_model._build_fixed_single_output) == (masking, averaging)
    assert interpreted.tobytes() == values().tobytes()


@pytest.mark.usefixtures("needs_shap")
@pytest.mark.parametrize("task", ["binary_classification", "regression"])
def test_sampled_explanations_skip_the_main_effects_shap_computes_unasked(binary, regression, task: str) -> None:
    """shap 0.51 computes main effects from a PermutationExplainer's second row on although nobody asked
    (its row loop passes its own list of results as the flag); explain_sampled does not, so each row
    costs at most (2 × inputs + 1) × background model evaluations, with the same SHAP values' bits."""
    import shap

    model, table = binary if task == "binary_classification" else regression
    X = table[FEATURES]
    encode, decode = shapley._codec(X)
    scored: list[int] = []

    def output(data: np.ndarray) -> np.ndarray:
        scored.append(len(data))
        frame = decode(data)
        return model.predict(frame) if task == "regression" else model.predict_proba(frame)[:, 1]

    def explanation(run):
        scored.clear()
        masker = shap.maskers.Independent(encode(X.iloc[:40]), max_samples=40)
        explainer = shap.PermutationExplainer(output, masker, seed=3)
        return run(explainer, encode(X.iloc[100:130]), max_evals=2 * len(FEATURES) + 1), sum(scored)

    def plain(explainer, data, max_evals):
        with shapley.interpreted_kernels(shap):
            return explainer(data, max_evals=max_evals, silent=True)

    def ours(explainer, data, max_evals):
        return shapley.explain_sampled(shap, explainer, data, max_evals=max_evals)

    (asked, asked_evaluations), (unasked, unasked_evaluations) = explanation(ours), explanation(plain)
    assert asked.values.tobytes() == unasked.values.tobytes()
    assert np.asarray(asked.base_values).tobytes() == np.asarray(unasked.base_values).tobytes()
    bound = 30 * (2 * len(FEATURES) + 1) * 40
    assert asked_evaluations <= bound < unasked_evaluations  # the premise: shap's own call does more
    assert asked.main_effects is None


@pytest.mark.usefixtures("needs_shap")
def test_the_mean_adds_in_numbas_order_not_numpys() -> None:
    """numba's mean adds the values one after another; NumPy's adds them pairwise, which differs in
    the last digits. The interpreted kernel's mean is numba's, bit for bit."""
    import numba

    compiled_mean = numba.njit(lambda a: np.mean(a))
    rng = np.random.default_rng(11)
    arrays = [rng.random(n) * 10.0 ** rng.integers(-3, 4) for n in (1, 2, 7, 50, 80, 129, 1000) for _ in range(30)]
    assert all(shapley._sequential_mean(a) == compiled_mean(a) for a in arrays)
    assert any(np.mean(a) != compiled_mean(a) for a in arrays)  # the order matters
    assert np.isnan(shapley._sequential_mean(np.array([])))


def test_other_links_weights_and_types_keep_the_compiled_averaging() -> None:
    calls = []
    identity, logit = object(), object()
    build = shapley._averaged_outputs(lambda *args: calls.append(args[6:]), identity)
    averaged, last = np.zeros(2), np.zeros(3)
    outputs, positions = np.arange(6, dtype=float), np.array([0, 3, 6])
    varying, counts = np.ones((2, 3), dtype=bool), np.array([3, 3])
    build(averaged, last, outputs, positions, varying, counts, logit, None)
    build(averaged, last, outputs, positions, varying, counts, identity, np.ones(3))
    build(averaged, last.astype(np.float32), outputs, positions, varying, counts, identity, None)
    assert calls[0][0] is logit and calls[1][0] is identity and calls[2][0] is identity and len(calls) == 3
    assert not averaged.any()
    build(averaged, last, outputs, positions, varying, counts, identity, None)
    assert averaged.tolist() == [1.0, 4.0] and len(calls) == 3


@pytest.mark.usefixtures("needs_shap")
def test_a_sampled_explanation_compiles_no_kernel() -> None:
    """In a new process, a model explained by the sampled route leaves shap's kernels, and every other
    numba function, uncompiled: numba's compile of them (about 4.5 s) is not paid."""
    script = f"""
import sys
sys.path[:0] = {[str(Path(__file__).parent)]!r}
from test_explain import FEATURES, applicants, logistic
from modelgov.analysis import shapley
from shap.maskers import _tabular
from shap.utils import _masked_model
train = applicants(600, 1)
model = logistic().fit(train[FEATURES], train["default"])
summary = shapley.shap_summary(model, applicants(300, 2)[FEATURES], task="binary_classification", positive_index=1, seed=1)
assert summary.explainer == "PermutationExplainer", summary.explainer
kernels = [_tabular._delta_masking, _tabular._single_delta_mask, _masked_model._build_fixed_single_output]
print(*(len(kernel.signatures) for kernel in kernels))
import gc
from numba.core.dispatcher import Dispatcher
print(sorted(o.py_func.__qualname__ for o in gc.get_objects() if isinstance(o, Dispatcher) and o.signatures))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    counts, compiled = done.stdout.splitlines()
    assert counts.split() == ["0", "0", "0"]
    assert compiled == "[]", f"numba compiled {compiled} (every numba function in the process)"


@pytest.mark.usefixtures("needs_shap")
def test_a_shap_whose_averaging_kernel_changed_keeps_it_compiled(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Python averaging reproduces one version of shap's kernel: with any other source (another
    shap), shap's own compiled kernel runs; the copy kernels, run as their own source, still do."""
    import shap
    from shap.maskers import _tabular
    from shap.utils import _masked_model

    averaging = _masked_model._build_fixed_single_output
    assert shapley._source_digest(averaging.py_func) == shapley._AVERAGING_SOURCE  # this shap: replaced
    monkeypatch.setattr(shapley, "_AVERAGING_SOURCE", "0" * 64)
    with shapley.interpreted_kernels(shap):
        assert _masked_model._build_fixed_single_output is averaging
        assert not hasattr(_tabular._delta_masking, "py_func")
    assert hasattr(_tabular._delta_masking, "py_func")


def test_source_features_traces_transformed_columns() -> None:
    names = ["num__age", "cat__age_band_18-29", "cat__employment_type_self_employed", "income"]
    features = ["age", "age_band", "employment_type", "income"]
    assert shapley.source_features(names, features) == ["age", "age_band", "employment_type", "income"]
    assert shapley.source_features(["pca0"], features) is None


# --------------------------------------------------------------------------- loading model files


class Touch:
    """Unpickling this creates ``marker``: proof that a pickle was (or was not) loaded."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.mark.parametrize("suffix", [".pkl", ".pickle", ".joblib"])
def test_pickle_is_refused_without_trust_and_never_unpickled(
    tmp_path: Path, suffix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    marker = tmp_path / "unpickled"
    path = tmp_path / f"model{suffix}"
    path.write_bytes(pickle.dumps(Touch(marker)))
    opened: list[str] = []
    real_open = open

    def watching_open(file, *args, **kwargs):
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr("builtins.open", watching_open)
    result = load_model(path, Artifact(path=f"models/m/model{suffix}"))
    monkeypatch.undo()
    assert isinstance(result, ModelUnavailable)
    assert "trust_pickle: true" in result.reason and "runs whatever code" in result.reason and "skops" in result.reason
    assert not marker.exists() and str(path) not in opened

    # the control: with trust the pickle *is* loaded (and holds no model)
    trusted = load_model(path, Artifact(path=f"models/m/model{suffix}", trust_pickle=True))
    assert marker.exists()
    assert isinstance(trusted, ModelUnavailable) and "not a model" in trusted.reason


def test_trusted_joblib_loads(tmp_path: Path, binary) -> None:
    import joblib

    model, table = binary
    path = tmp_path / "model.joblib"
    joblib.dump(model, path)
    loaded = load_model(path, Artifact(path="model.joblib", trust_pickle=True))
    assert isinstance(loaded, LoadedModel) and loaded.format == "pickle"
    assert np.array_equal(loaded.estimator.predict(table[FEATURES]), model.predict(table[FEATURES]))


def test_skops_with_untrusted_types_is_refused_naming_them(tmp_path: Path, binary) -> None:
    _, table = binary
    # a native categorical input makes scikit-learn keep a preprocessor built on functools.partial
    X = table[["late_payments", "income", "debt_ratio"]]
    model = HistGradientBoostingClassifier(max_iter=5, categorical_features=[True, False, False])
    model.fit(X, table["default"])
    path = tmp_path / "model.skops"
    skops.io.dump(model, path)
    untrusted = skops.io.get_untrusted_types(file=path)
    predictor = "sklearn.ensemble._hist_gradient_boosting.predictor.TreePredictor"
    assert predictor in untrusted and len(untrusted) > 1
    refused = load_model(path, Artifact(path="m/model.skops"))
    assert isinstance(refused, ModelUnavailable)
    assert f"`{predictor}`" in refused.reason and "trusted_types" in refused.reason
    partly = load_model(path, Artifact(path="m/model.skops", trusted_types=[untrusted[0]]))
    assert isinstance(partly, ModelUnavailable) and f"`{untrusted[0]}`" not in partly.reason
    loaded = load_model(path, Artifact(path="m/model.skops", trusted_types=untrusted))
    assert isinstance(loaded, LoadedModel) and loaded.format == "skops"
    assert np.array_equal(loaded.estimator.predict_proba(X), model.predict_proba(X))


def test_skops_with_only_default_types_loads(tmp_path: Path, binary) -> None:
    model, table = binary
    path = tmp_path / "model.skops"
    skops.io.dump(model, path)
    assert skops.io.get_untrusted_types(file=path) == []
    loaded = load_model(path, Artifact(path="model.skops"))
    assert isinstance(loaded, LoadedModel) and loaded.notes == ()
    assert np.array_equal(loaded.estimator.predict_proba(table[FEATURES]), model.predict_proba(table[FEATURES]))


@pytest.mark.parametrize(
    ("name", "content", "trust", "expected"),
    [
        ("model.skops", b"not a zip file", False, "not a readable .skops file"),
        ("model.skops", None, False, "not a readable .skops file"),  # a valid file cut in half
        ("model.joblib", b"\x80\x04garbage", True, "was not loaded:"),
        ("model.onnx", b"", False, "does not know the model format '.onnx'"),
    ],
)
def test_unreadable_files_give_a_reason_not_a_traceback(
    tmp_path: Path, binary, name: str, content: bytes | None, trust: bool, expected: str
) -> None:
    path = tmp_path / name
    if content is None:
        whole = skops.io.dumps(binary[0])
        content = whole[: len(whole) // 2]
    path.write_bytes(content)
    result = load_model(path, Artifact(path=name, trust_pickle=trust))
    assert isinstance(result, ModelUnavailable)
    assert expected in result.reason and name in result.reason


def test_missing_file_gives_a_reason(tmp_path: Path) -> None:
    result = load_model(tmp_path / "gone.skops", Artifact(path="gone.skops"))
    assert isinstance(result, ModelUnavailable) and "does not exist" in result.reason


def test_library_version_mismatch_is_a_note(tmp_path: Path, binary, monkeypatch: pytest.MonkeyPatch) -> None:
    model, _ = binary
    path = tmp_path / "model.skops"
    skops.io.dump(model, path)

    def old_load(file, trusted=None):
        warnings.warn(
            InconsistentVersionWarning(
                estimator_name="LogisticRegression", current_sklearn_version="9.9", original_sklearn_version="1.0.2"
            ),
            stacklevel=2,
        )
        return model

    monkeypatch.setattr(skops.io, "load", old_load)
    loaded = load_model(path, Artifact(path="model.skops"))
    assert isinstance(loaded, LoadedModel)
    assert len(loaded.notes) == 1 and "scikit-learn 1.0.2" in loaded.notes[0]
    result = run(model, applicants(300, 11).assign(prediction=0), model_notes=loaded.notes)
    assert loaded.notes[0] in result.notes


def test_counted_slices_are_pandas_groupby_slices_bit_for_bit(binary) -> None:
    """0/1 errors are counted with ``bincount`` instead of grouped by pandas: every slice of every
    column and pair, with its rows and its error, comes out exactly as pandas' groupby gives it."""
    from modelgov.analysis import slices

    _, table = binary
    table = table.copy()
    table.loc[table.index[::7], FEATURES[0]] = np.nan  # a missing group too
    labelled = {f: labels for f in FEATURES if (labels := slices.slice_labels(table[f])) is not None}
    errors = (table["default"] != table["prediction"]).to_numpy(dtype=float)
    counted, grouped = slices._counted_stats(labelled, errors), slices._grouped_stats(labelled, errors)
    keys = [[f] for f in labelled] + [[a, b] for i, a in enumerate(labelled) for b in list(labelled)[i + 1 :]]
    assert len(keys) > len(labelled)
    for key in keys:
        assert sorted(counted(key)) == sorted(grouped(key)), key


def test_a_wide_table_slices_pairs_of_its_worst_features_only_and_says_so() -> None:
    """Every pair of 1,000 features is 499,500 pairs, each a pass over the rows: beyond
    MAX_PAIR_FEATURES usable features, pairs are formed among those whose single slices have the
    highest error, and a note says so. The planted weak spot (two features high together) is found."""
    from modelgov.analysis import slices

    rng = np.random.default_rng(8)
    width, rows = 60, 4000
    table = pd.DataFrame(rng.normal(size=(rows, width)), columns=[f"x{i}" for i in range(width)])
    table["label"] = rng.integers(0, 2, rows)
    wrong = (table["x7"] > 0.67) & (table["x42"] > 0.67)  # the top quartile of both, wrong on most rows
    flip = wrong.to_numpy() & (rng.random(rows) < 0.9) | (rng.random(rows) < 0.1)
    table["prediction"] = np.where(flip, 1 - table["label"], table["label"])
    features = [f"x{i}" for i in range(width)]
    common = dict(features=features, label="label", prediction="prediction", task="binary_classification")
    found, _, notes = slices.error_slices(table, **common, min_group_size=30)
    assert set(found[0].conditions) == {"x7", "x42"}
    assert any(f"among the {slices.MAX_PAIR_FEATURES} of {width} whose single slices" in note for note in notes)
    paired = {name for s in found for name in s.conditions if len(s.conditions) == 2}
    assert len(paired) <= slices.MAX_PAIR_FEATURES
    _, _, narrow_notes = slices.error_slices(table, **{**common, "features": features[:40]}, min_group_size=30)
    assert not [note for note in narrow_notes if "Pairs of features" in note]  # up to 40: every pair, as before


def test_a_hostile_feature_name_in_the_categories_note_stays_text(binary) -> None:
    """The note on a many-valued category names the feature as the workspace wrote it; rendered like
    every note, it is text on the page, never markup."""
    from modelgov.render.text import md_inline

    _, table = binary
    hostile = "</code><script>alert(1)</script>`x"
    rng = np.random.default_rng(5)
    wide = table.assign(**{hostile: rng.choice(np.array([f"v{i}" for i in range(30)], dtype=object), len(table))})
    features = ["income", "debt_ratio", hostile]
    prep = ColumnTransformer(
        [
            ("num", StandardScaler(), ["income", "debt_ratio"]),
            ("cat", OneHotEncoder(handle_unknown="ignore"), [hostile]),
        ]
    )
    model = Pipeline([("prep", prep), ("model", LogisticRegression(max_iter=1000))]).fit(
        wide[features], wide["default"]
    )
    wide["prediction"] = model.predict(wide[features])
    result = run(model, wide, features=features, settings=SETTINGS.model_copy(update={"permutation_repeats": 1}))
    (note,) = [note for note in result.notes if "most frequent of 30 categories" in note]
    shown = md_inline(note)
    assert "<script" not in shown and "&lt;script&gt;" in shown


# --------------------------------------------------------------------------- the table against the model


def test_a_table_the_model_did_not_score_is_said_to_be_so(binary) -> None:
    """The red team lowered one group's scores in an evaluation table (and the predictions with them):
    every figure, the fairness rule's included, came from the table, and the model file beside it
    was never asked. Loaded, the model is run on the sampled rows and its probability set beside the
    table's score: rounding to two decimals is not a difference, a moved score is, and the note is a
    degraded analysis (build, check, policy-results.json) and a banner on the version's card."""
    from modelgov import degraded
    from modelgov.analysis.explain import NOT_REPRODUCED, SCORE_TOLERANCE
    from modelgov.render import views

    model, table = binary
    table = table.copy()
    table["score"] = model.predict_proba(table[FEATURES])[:, 1]
    assert not [n for n in run(model, table, score="score").notes if n.startswith(NOT_REPRODUCED)]
    rounded = table.assign(score=table["score"].round(2))
    assert not [n for n in run(model, rounded, score="score").notes if n.startswith(NOT_REPRODUCED)]
    moved = table.copy()
    lowered = moved.index[: len(moved) // 3]
    moved.loc[lowered, "score"] *= 0.75
    moved.loc[lowered, "prediction"] = (moved.loc[lowered, "score"] >= 0.5).astype(int)
    (note,) = [n for n in run(model, moved, score="score").notes if n.startswith(NOT_REPRODUCED)]
    expected = int((np.abs(model.predict_proba(moved[FEATURES])[:, 1] - moved["score"]) > SCORE_TOLERANCE).sum())
    assert f"on {expected:,} of the {len(moved):,} rows," in note and "'score'" in note  # every row, not a sample
    assert NOT_REPRODUCED == views.NOT_REPRODUCED and NOT_REPRODUCED in degraded.FAILURE_NOTES
    # rows the explanations' seeded sample leaves out are checked too: the seed is the workspace's
    sample = sample_rows(moved, SETTINGS.explain_max_rows, SETTINGS.seed)
    unsampled = table.copy()
    outside = unsampled.index.difference(sample.index)[:20]
    unsampled.loc[outside, "score"] = 0.01
    (note,) = [n for n in run(model, unsampled, score="score").notes if n.startswith(NOT_REPRODUCED)]
    assert note.startswith(f"{NOT_REPRODUCED}: on 20 of the {len(table):,} rows,")
    # without a score column, a binary table's predicted classes are set beside the model's
    (note,) = [n for n in run(model, moved.drop(columns="score")).notes if n.startswith(NOT_REPRODUCED)]
    assert "its predicted class differs from the table's 'prediction'" in note


def test_a_regression_or_a_class_the_model_did_not_predict_is_said_to_be_so(regression, binary) -> None:
    from modelgov.analysis.explain import NOT_REPRODUCED

    model, table = regression
    assert not [n for n in run(model, table, task="regression").notes if n.startswith(NOT_REPRODUCED)]
    shifted = table.assign(predicted=table["predicted"] * 1.2)
    assert [n for n in run(model, shifted, task="regression").notes if n.startswith(NOT_REPRODUCED)]
    model, table = binary
    flipped = table.assign(prediction=1 - table["prediction"])
    notes = run(model, flipped, task="multiclass_classification").notes
    assert [n for n in notes if n.startswith(f"{NOT_REPRODUCED}: on ") and "predicted class" in n]


def test_the_card_leads_with_an_evaluation_the_model_did_not_score() -> None:
    from manifest_factory import make_manifest
    from modelgov.analysis.explain import NOT_REPRODUCED
    from modelgov.render.page_paths import version_path
    from modelgov.render.pages import render_pages

    built = make_manifest()
    model = built.models[0]
    version = model.versions[0]
    run = version.evaluations[0]
    note = f"{NOT_REPRODUCED}: on 12 of the 500 rows sampled, its probability of the positive label differs."
    explained = (run.explainability or Explainability()).model_copy(update={"notes": [note]})
    version = version.model_copy(update={"evaluations": [run.model_copy(update={"explainability": explained})]})
    built.models[0] = model.model_copy(update={"versions": [version, *model.versions[1:]]})
    card = {p.path: p.markdown for p in render_pages(built)}[version_path(built.models[0], version)]
    assert f'!!! danger "Evaluation {run.id}' in card.replace("&#46;", ".").replace("&#45;", "-")
    assert card.index("was not scored by this model file") < card.index("This is the model card of this version")


def test_the_model_table_comparison_has_no_false_alarms_on_ties_float_labels_or_columns() -> None:
    """A probability of exactly 0.375 rounded to 0.38 is a rounding; a class ``1.0`` from a model
    trained on float labels is the class ``1``; a regression answering in a column is compared row by
    row (it broadcast into rows × rows); a model that cannot predict is a note, not a crash."""
    from modelgov.analysis.explain import NOT_REPRODUCED, reproduces_table

    X = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0]})

    class Fixed:
        classes_ = np.array([0, 1])

        def predict_proba(self, frame):
            return np.column_stack([1 - np.full(len(frame), 0.375), np.full(len(frame), 0.375)])

        def predict(self, frame):
            return np.array([1.0, 0.0, 2.0, 1.0])

    table = X.assign(score=0.38, prediction=[1, 0, 2, 1])
    options = {"prediction": "prediction", "positive_label": 1}
    assert reproduces_table(Fixed(), X, table, score="score", task="binary_classification", **options) is None
    assert reproduces_table(Fixed(), X, table, score=None, task="multiclass_classification", **options) is None

    class Column:
        def predict(self, frame):
            return np.asarray(frame[["x"]], dtype=float) * 10

    regression = X.assign(prediction=X["x"] * 10)
    assert reproduces_table(Column(), X, regression, score=None, task="regression", **options) is None
    off = reproduces_table(
        Column(), X, regression.assign(prediction=[0, 10, 20, 99]), score=None, task="regression", **options
    )
    assert off.startswith(f"{NOT_REPRODUCED}: on 1 of the 4 rows,")

    class Broken(Fixed):
        def predict(self, frame):
            raise RuntimeError("no")

    model, table = Broken(), applicants(50, 9)
    table["prediction"] = 0
    notes = explain(
        model, table, features=FEATURES, label="default", prediction="prediction", task="multiclass_classification",
        settings=SETTINGS,
    ).notes  # fmt: skip
    assert any(n.startswith(f"{NOT_REPRODUCED}: the model could not be run") for n in notes), notes
