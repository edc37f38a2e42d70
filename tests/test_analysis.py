"""Every number the manifest holds equals an independent computation (scikit-learn, fairlearn, or a
published figure)."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_ratio,
    false_negative_rate,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)
from sklearn import metrics as skm

from modelgov.analysis.fairness import MISSING_GROUP, fairness_by_group
from modelgov.analysis.performance import regression_performance
from modelgov.assemble import build_manifest
from modelgov.errors import WorkspaceError
from modelgov.workspace.load import load_workspace
from shared_builds import SHARED_DATA
from workspace_factory import edit, holdout_table, write_workspace

VERSION = "models/loans/versions/1.0/version.yml"


def manifest_of(root: Path):
    return build_manifest(load_workspace(root))


def metric_values(performance) -> dict[str, float | None]:
    return {m.name: m.value for m in performance.metrics}


def test_binary_performance_equals_scikit_learn(tmp_path: Path) -> None:
    table = holdout_table()
    run = manifest_of(write_workspace(tmp_path, table=table)).models[0].versions[0].evaluations[0]
    got = metric_values(run.performance)
    y, p, s = table.defaulted, table.predicted, table.score
    expected = {
        "accuracy": skm.accuracy_score(y, p),
        "balanced_accuracy": skm.balanced_accuracy_score(y, p),
        "precision": skm.precision_score(y, p),
        "recall": skm.recall_score(y, p),
        "f1": skm.f1_score(y, p),
        "roc_auc": skm.roc_auc_score(y, s),
        "average_precision": skm.average_precision_score(y, s),
        "log_loss": skm.log_loss(y, s),
        "brier": skm.brier_score_loss(y, s),
    }
    assert got == pytest.approx(expected, rel=1e-12)
    assert run.performance.rows == len(table)
    assert run.data.path == "data/holdout.csv" and len(run.data.sha256) == 64


def test_per_group_numbers_equal_fairlearn_metricframe(tmp_path: Path) -> None:
    table = holdout_table()
    run = manifest_of(write_workspace(tmp_path, table=table)).models[0].versions[0].evaluations[0]
    for feature in ("sex", "age_band"):
        frame = MetricFrame(
            metrics={
                "selection_rate": selection_rate,
                "tpr": true_positive_rate,
                "fpr": false_positive_rate,
                "fnr": false_negative_rate,
            },
            y_true=table.defaulted,
            y_pred=table.predicted,
            sensitive_features=table[feature],
        )
        result = next(f for f in run.fairness if f.feature == feature)
        assert [g.group for g in result.groups] == [str(g) for g in frame.by_group.index]
        for group in result.groups:
            expected = frame.by_group.loc[group.group]
            for key in ("selection_rate", "tpr", "fpr", "fnr"):
                assert group.metrics[key] == pytest.approx(expected[key], rel=1e-12), (feature, group.group, key)
            assert group.count == int((table[feature] == group.group).sum())
        for key in ("selection_rate", "tpr", "fpr", "fnr"):
            assert result.overall[key] == pytest.approx(frame.overall[key], rel=1e-12)


def test_undefined_rates_are_none_not_zero() -> None:
    # group "b" has no positives: fairlearn's true_positive_rate returns 0.0, we say undefined
    y_true = np.array([1, 0, 1, 0, 0, 0])
    y_pred = np.array([1, 0, 0, 0, 1, 0])
    sensitive = pd.Series(["a", "a", "a", "b", "b", "b"])
    assert true_positive_rate(y_true[3:], y_pred[3:]) == 0.0  # fairlearn's silent zero
    result = fairness_by_group("g", sensitive, y_true, y_pred, classification=True, min_group_size=1)
    b = next(g for g in result.groups if g.group == "b")
    assert b.metrics["tpr"] is None and b.metrics["fnr"] is None
    assert b.metrics["fpr"] == pytest.approx(1 / 3)
    assert b.metrics["precision"] == 0.0  # one predicted positive, not a true one: defined, and zero


def test_missing_sensitive_values_form_their_own_group_and_small_groups_are_flagged() -> None:
    y_true = np.array([1, 0, 1, 0, 1, 0, 1])
    y_pred = np.array([1, 0, 0, 0, 1, 1, 1])
    sensitive = pd.Series(["a", "a", "a", "a", None, np.nan, "b"])
    result = fairness_by_group("g", sensitive, y_true, y_pred, classification=True, min_group_size=3)
    groups = {g.group: g for g in result.groups}
    assert [g.group for g in result.groups] == ["a", "b", MISSING_GROUP]
    assert groups[MISSING_GROUP].count == 2
    assert groups["b"].small and groups[MISSING_GROUP].small and not groups["a"].small
    assert sum(g.count for g in result.groups) == len(y_true)


def test_regression_metrics_equal_scikit_learn() -> None:
    rng = np.random.default_rng(3)
    y = rng.normal(100, 20, 300)
    yhat = y + rng.normal(2, 10, 300)
    got = metric_values(regression_performance(y, yhat))
    assert got["mae"] == pytest.approx(skm.mean_absolute_error(y, yhat))
    assert got["rmse"] == pytest.approx(math.sqrt(skm.mean_squared_error(y, yhat)))
    assert got["r2"] == pytest.approx(skm.r2_score(y, yhat))
    assert got["mean_error"] == pytest.approx(np.mean(yhat - y))


def multiclass_workspace(root: Path, labels, predictions) -> Path:
    """The factory's workspace as a three-class classifier without scores."""
    root = write_workspace(root, table=holdout_table().assign(defaulted=labels, predicted=predictions))
    edit(root, "models/loans/model.yml", "task: binary_classification", "task: multiclass_classification")
    edit(root, VERSION, "    score: score\n    threshold: 0.5\n", "")
    return root


def three_classes() -> tuple[np.ndarray, np.ndarray]:
    """400 labels of three classes (0, 1, 2) and predictions that are right about 80% of the time."""
    rng = np.random.default_rng(3)
    labels = rng.integers(0, 3, 400)
    return labels, np.where(rng.random(400) < 0.7, labels, rng.integers(0, 3, 400))


#: The multiclass figures of :func:`three_classes` as the build computed them before class labels
#: were written exactly (``1e19`` was the 64-bit integer's minimum, like every label of 2**63 or more).
MULTICLASS_FIGURES = {
    "accuracy": 0.7925,
    "balanced_accuracy": 0.7921188630490956,
    "precision_macro": 0.7929153952339436,
    "recall_macro": 0.7921188630490956,
    "f1_macro": 0.7913721408957278,
}


@pytest.mark.parametrize(
    "written",
    ["text", "integers", "float labels, integer predictions", "numeric text labels", "2**53 - 3 and up"],
)
def test_multiclass_figures_equal_scikit_learn_whatever_the_classes_are_written_as(
    written: str, tmp_path: Path
) -> None:
    """The same three classes, however the table writes them, give scikit-learn's figures, the ones
    the build gave before class labels were written exactly; and error slices compare classes as the
    evaluation does (a label of 1.0 and a prediction of 1 were an error for the slices, and right for
    the accuracy)."""
    labels, predictions = three_classes()
    names = {
        "text": np.array(["low", "medium", "high"]),
        "integers": np.array([0, 1, 2]),
        "float labels, integer predictions": np.array([0, 1, 2]),
        "numeric text labels": np.array([0, 1, 2]),
        "2**53 - 3 and up": np.array([2**53 - 3, 2**53 - 2, 2**53 - 1]),  # integers: exact in int64
    }[written]
    y, p = names[labels], names[predictions]
    written_labels = y.astype(float) if written.startswith("float") else y.astype(str) if "text" in written else y
    run = manifest_of(multiclass_workspace(tmp_path, written_labels, p)).models[0].versions[0].evaluations[0]
    got = metric_values(run.performance)
    expected = {
        "accuracy": skm.accuracy_score(y, p),
        "balanced_accuracy": skm.balanced_accuracy_score(y, p),
        "precision_macro": skm.precision_score(y, p, average="macro"),
        "recall_macro": skm.recall_score(y, p, average="macro"),
        "f1_macro": skm.f1_score(y, p, average="macro"),
    }
    assert got == pytest.approx(expected, rel=1e-12)
    assert got == pytest.approx(MULTICLASS_FIGURES, rel=1e-12)
    matrix = run.performance.confusion_matrix
    assert matrix.labels == sorted(map(str, names), key=str)
    order = sorted(names, key=str)
    assert matrix.counts == skm.confusion_matrix(y, p, labels=order).tolist()
    assert run.explainability.error_slices[0].overall_error == pytest.approx(1 - got["accuracy"], rel=1e-12)


def test_single_class_labels_give_undefined_auc(tmp_path: Path) -> None:
    table = holdout_table()
    table["defaulted"] = 0
    run = manifest_of(write_workspace(tmp_path, table=table)).models[0].versions[0].evaluations[0]
    metrics = {m.name: m for m in run.performance.metrics}
    assert metrics["roc_auc"].value is None
    assert "only one class" in metrics["roc_auc"].note
    assert metrics["recall"].value is None


def test_scores_outside_unit_interval_name_file_and_column(tmp_path: Path) -> None:
    table = holdout_table()
    table.loc[3, "score"] = 1.7
    root = write_workspace(tmp_path, table=table)
    with pytest.raises(WorkspaceError) as info:
        manifest_of(root)
    (problem,) = info.value.problems
    assert problem.file == "data/holdout.csv"
    assert problem.key == "column 'score'"
    assert "outside [0, 1]" in problem.message


def test_positive_label_that_never_occurs(tmp_path: Path) -> None:
    table = holdout_table()
    table["defaulted"] = table["defaulted"].map({0: "no", 1: "yes"})
    table["predicted"] = table["predicted"].map({0: "no", 1: "yes"})
    root = write_workspace(tmp_path, table=table)
    with pytest.raises(WorkspaceError) as info:
        manifest_of(root)
    assert "positive_label 1 does not occur" in str(info.value)
    edit(root, VERSION, "threshold: 0.5", "threshold: 0.5\n    positive_label: 'yes'")
    run = manifest_of(root).models[0].versions[0].evaluations[0]
    assert metric_values(run.performance)["recall"] is not None


def compas_workspace(tmp_path: Path, sensitive: str = "sensitive_features: [race, sex]") -> tuple[pd.DataFrame, Path]:
    """ProPublica's COMPAS table (decile_score >= 5 is "higher risk") as the evaluation of a workspace."""
    raw = pd.read_csv(SHARED_DATA / "compas-scores-two-years.csv")
    table = pd.DataFrame(
        {
            "race": raw["race"],
            "sex": raw["sex"],
            "two_year_recid": raw["two_year_recid"],
            "higher_risk": (raw["decile_score"] >= 5).astype(int),
        }
    )
    root = write_workspace(tmp_path, table=holdout_table())
    table.to_csv(root / "data" / "compas.csv", index=False)
    edit(root, VERSION, "data: data/holdout.csv", "data: data/compas.csv")
    edit(root, VERSION, "label: defaulted", "label: two_year_recid")
    edit(root, VERSION, "prediction: predicted", "prediction: higher_risk")
    edit(root, VERSION, "    score: score\n", "")
    edit(root, VERSION, "features: [income, age]", "features: []")
    edit(root, "models/loans/model.yml", "sensitive_features: [sex, age_band]", sensitive)
    return table, root


@pytest.mark.skipif(
    not (SHARED_DATA / "compas-scores-two-years.csv").is_file(),
    reason="ProPublica COMPAS data not found in ../shared/data",
)
def test_compas_reproduces_propublica_error_rates(tmp_path: Path) -> None:
    """ProPublica (2016): FPR 44.85% / 23.45%, FNR 27.99% / 47.72%, all 7,214 rows, decile_score >= 5."""
    table, root = compas_workspace(tmp_path)
    assert len(table) == 7214
    run = manifest_of(root).models[0].versions[0].evaluations[0]
    race = {g.group: g for g in next(f for f in run.fairness if f.feature == "race").groups}
    assert race["African-American"].count == 3696 and race["Caucasian"].count == 2454
    assert round(100 * race["African-American"].metrics["fpr"], 2) == 44.85
    assert round(100 * race["Caucasian"].metrics["fpr"], 2) == 23.45
    assert round(100 * race["African-American"].metrics["fnr"], 2) == 27.99
    assert round(100 * race["Caucasian"].metrics["fnr"], 2) == 47.72
    overall = next(f for f in run.fairness if f.feature == "race").overall
    assert round(100 * overall["fpr"], 2) == 32.35 and round(100 * overall["fnr"], 2) == 37.40
    assert race["Native American"].small  # 18 people: kept, flagged


@pytest.mark.skipif(
    not (SHARED_DATA / "compas-scores-two-years.csv").is_file(),
    reason="ProPublica COMPAS data not found in ../shared/data",
)
def test_compas_summaries_name_their_groups_and_leave_small_ones_out(tmp_path: Path) -> None:
    """The African-American vs Caucasian pair a reviewer expects (selection rates 0.588 and 0.348, ratio
    0.592), the groups behind each summary, and the small groups left out by each rate's denominator."""
    table, root = compas_workspace(
        tmp_path,
        "sensitive_features: [race, sex]\ngroup_comparisons:\n  race: {pairs: [[African-American, Caucasian]]}",
    )
    built = manifest_of(root)
    model, version = built.models[0], built.models[0].versions[0]
    race = next(f for f in version.evaluations[0].fairness if f.feature == "race")
    rates = {g.group: g for g in race.groups}
    assert round(rates["African-American"].metrics["selection_rate"], 3) == 0.588
    assert round(rates["Caucasian"].metrics["selection_rate"], 3) == 0.348
    # "Asian": 32 rows, but its TPR rests on 9 people and its FPR on 23
    assert not rates["Asian"].small and rates["Asian"].denominators["tpr"] == 9 and "tpr" in rates["Asian"].few

    (pair,) = race.comparisons
    assert (pair.group, pair.reference) == ("African-American", "Caucasian") and pair.note is None
    dp_pair = next(d for d in pair.disparities if d.name == "demographic_parity_ratio")
    assert round(dp_pair.value, 3) == 0.592 and dp_pair.groups == ["Caucasian", "African-American"]
    two = table["race"].isin(["African-American", "Caucasian"])
    assert dp_pair.value == pytest.approx(
        demographic_parity_ratio(
            table["two_year_recid"][two], table["higher_risk"][two], sensitive_features=table["race"][two]
        )
    )

    summaries = {(d.name, d.method): d for d in race.disparities}
    dp = summaries["demographic_parity_ratio", "between_groups"]
    assert dp.groups == ["Other", "African-American"] and round(dp.value, 3) == 0.356  # not 0.314 with Native American
    assert [e.group for e in dp.excluded] == ["Native American"]
    kept = table["race"] != "Native American"
    assert dp.value == pytest.approx(
        demographic_parity_ratio(
            table["two_year_recid"][kept], table["higher_risk"][kept], sensitive_features=table["race"][kept]
        )
    )
    eo = summaries["equalized_odds_difference", "between_groups"]
    assert [e.group for e in eo.excluded] == ["Asian", "Native American"] and eo.groups == ["African-American", "Other"]

    from modelgov.policy.evidence_index import evidence_index

    index = evidence_index(model, version, dt.date(2026, 12, 1))
    found = index["fairness.race.pairs.African-American.Caucasian.demographic_parity_ratio"]
    assert round(found.value, 3) == 0.592 and "Caucasian 0.348 ÷ African-American 0.588" in found.detail
    summary = index["fairness.race.demographic_parity_ratio"]
    assert "Other 0.210 ÷ African-American 0.588" in summary.detail and "left out: Native American" in summary.detail
