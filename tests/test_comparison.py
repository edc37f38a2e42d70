"""Version comparisons: rows are paired, deltas equal scikit-learn differences, intervals are paired."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from modelgov.analysis.comparison import NotComparable, RunArrays, metric_deltas, pair_rows
from modelgov.analysis.resampling import Resampling


def two_models(n: int = 2000, seed: int = 3):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    signal = rng.normal(0, 1, n)
    old = 1 / (1 + np.exp(-(1.0 * (2 * y - 1) + signal)))
    new = 1 / (1 + np.exp(-(1.3 * (2 * y - 1) + 0.8 * signal)))  # a genuinely better retrain
    ids = pd.Series([f"r{i}" for i in range(n)])
    return (
        RunArrays(y, (new >= 0.5).astype(int), new, ids),
        RunArrays(y, (old >= 0.5).astype(int), old, ids),
    )


def test_deltas_equal_scikit_learn_differences_and_intervals_are_paired() -> None:
    with_ids, old_with_ids = two_models()
    new = RunArrays(with_ids.y_true, with_ids.y_pred, with_ids.y_score)
    old = RunArrays(old_with_ids.y_true, old_with_ids.y_pred, old_with_ids.y_score)
    pairing = pair_rows(new, old, row_id=None)
    assert pairing.matched_by.startswith("row order")
    deltas = {
        d.name: d for d in metric_deltas(new, old, pairing, task="binary_classification", resampling=Resampling(400))
    }
    auc = deltas["roc_auc"]
    assert auc.this == pytest.approx(skm.roc_auc_score(new.y_true, new.y_score))
    assert auc.other == pytest.approx(skm.roc_auc_score(old.y_true, old.y_score))
    assert auc.delta == pytest.approx(auc.this - auc.other)
    assert auc.interval.low <= auc.delta <= auc.interval.high
    assert auc.interval.low > 0, "a clearly better retrain: the paired interval excludes zero"
    assert deltas["log_loss"].higher_is_better is False


def test_rows_are_paired_by_id_when_the_other_table_is_shuffled() -> None:
    new, old = two_models(500)
    order = np.random.default_rng(1).permutation(500)
    shuffled = RunArrays(
        old.y_true[order], old.y_pred[order], old.y_score[order], old.row_ids[order].reset_index(drop=True)
    )
    pairing = pair_rows(new, shuffled, row_id="request_id")
    assert pairing.matched_by == "id column request_id"
    plain_new = RunArrays(new.y_true, new.y_pred, new.y_score)
    plain_old = RunArrays(old.y_true, old.y_pred, old.y_score)
    by_position = metric_deltas(
        plain_new,
        plain_old,
        pair_rows(plain_new, plain_old, row_id=None),
        task="binary_classification",
        resampling=Resampling(0),
    )
    by_id = metric_deltas(new, shuffled, pairing, task="binary_classification", resampling=Resampling(0))
    assert [d.delta for d in by_id] == pytest.approx([d.delta for d in by_position])


def test_different_rows_are_not_compared() -> None:
    new, old = two_models(300)
    flipped = RunArrays(1 - old.y_true, old.y_pred, old.y_score)
    with pytest.raises(NotComparable, match="labels differ"):
        pair_rows(RunArrays(new.y_true, new.y_pred, new.y_score), flipped, row_id=None)
    shorter = RunArrays(old.y_true[:200], old.y_pred[:200], old.y_score[:200])
    with pytest.raises(NotComparable, match="different row counts"):
        pair_rows(RunArrays(new.y_true, new.y_pred, new.y_score), shorter, row_id=None)


def test_regression_deltas() -> None:
    rng = np.random.default_rng(0)
    y = rng.normal(0, 1, 400)
    a = RunArrays(y, y + rng.normal(0, 0.3, 400))
    b = RunArrays(y, y + rng.normal(0, 0.6, 400))
    deltas = {
        d.name: d
        for d in metric_deltas(a, b, pair_rows(a, b, row_id=None), task="regression", resampling=Resampling(200))
    }
    assert deltas["mae"].delta == pytest.approx(
        skm.mean_absolute_error(y, a.y_pred) - skm.mean_absolute_error(y, b.y_pred)
    )
    assert deltas["mae"].interval.high < 0


def test_a_mean_error_nearer_zero_is_better_whichever_its_sign() -> None:
    """A mean error is best at 0: one of -2 is better than one of -4, though it is higher. The verdict
    reads the change in distance from 0 on the same resamples (a paired bootstrap computed here with
    numpy alone), and the page says "closer to 0" where it said "lower"."""
    from modelgov.manifest import Metric
    from modelgov.render.views import delta_verdict, holds_jointly

    rng = np.random.default_rng(5)
    n = 3000
    y = rng.normal(100, 20, n)
    noise = rng.normal(0, 5, n)
    nearer = RunArrays(y, y - 2 + noise)  # mean error about -2
    further = RunArrays(y, y - 4 + noise)  # about -4: lower, and worse
    pairing = pair_rows(nearer, further, row_id=None)
    resampling = Resampling(500, seed=2)
    deltas = {d.name: d for d in metric_deltas(nearer, further, pairing, task="regression", resampling=resampling)}
    mean_error = deltas["mean_error"]
    this, other = float(np.mean(nearer.y_pred - y)), float(np.mean(further.y_pred - y))
    assert mean_error.this == pytest.approx(this) and mean_error.other == pytest.approx(other)
    assert mean_error.delta == pytest.approx(this - other) and mean_error.delta > 0  # higher...
    assert mean_error.best_value == 0 and mean_error.better == "closer to 0"
    assert mean_error.distance == pytest.approx(abs(this) - abs(other)) and mean_error.distance < 0  # ...and nearer
    # the distance's interval, against a paired bootstrap of the same statistic
    draws = np.random.default_rng(0).integers(0, n, size=(400, n))
    boot = np.abs((nearer.y_pred - y)[draws].mean(axis=1)) - np.abs((further.y_pred - y)[draws].mean(axis=1))
    low, high = np.quantile(boot, [0.025, 0.975])
    assert mean_error.distance_interval.low == pytest.approx(low, abs=0.05)
    assert mean_error.distance_interval.high == pytest.approx(high, abs=0.05)
    assert delta_verdict(mean_error).word == "better"  # "lower is better" called this worse
    assert holds_jointly(mean_error) is True
    # the joint band covers the difference as for any metric (a policy's `.delta.joint_low` reads it),
    # and the distance too, which is what judging the mean error together reads
    assert mean_error.joint_interval.low <= mean_error.delta <= mean_error.joint_interval.high
    assert mean_error.joint_interval.low > 0 and mean_error.distance_joint_interval.high < 0
    assert mean_error.distance_joint_interval.method.endswith("(4 metrics together)")  # mae, rmse, r2, mean error
    reverse = {d.name: d for d in metric_deltas(further, nearer, pairing, task="regression", resampling=resampling)}
    assert delta_verdict(reverse["mean_error"]).word == "worse"
    # over-prediction by the same amount is as far from 0: no clear difference
    mirrored = RunArrays(y, y + 2 + noise)
    both = {d.name: d for d in metric_deltas(nearer, mirrored, pairing, task="regression", resampling=resampling)}
    assert delta_verdict(both["mean_error"]).word == "no clear difference"
    assert deltas["mae"].better == "lower" and deltas["r2"].better == "higher"
    assert Metric(name="mean_error", label="Mean error", value=-3.0, best_value=0.0).better == "closer to 0"


def test_a_promotion_record_judges_a_mean_error_by_its_distance_from_zero() -> None:
    from modelgov.manifest import RecordedDelta
    from modelgov.render.promotion_views import recorded_verdict

    nearer = RecordedDelta(
        name="mean_error", label="Mean error", this=-2.0, other=-4.0, delta=2.0, low=1.5, high=2.5,
        higher_is_better=False, best_value=0.0, distance_low=-2.5, distance_high=-1.5,
    )  # fmt: skip
    assert recorded_verdict(nearer).word == "better"
    assert recorded_verdict(nearer.model_copy(update={"distance_low": None})).word == "cannot tell"
    further = nearer.model_copy(update={"distance_low": 1.0, "distance_high": 3.0})
    assert recorded_verdict(further).word == "worse"
    # a record of another metric reads its difference, as before
    auc = RecordedDelta(name="roc_auc", label="ROC AUC", delta=0.02, low=0.01, high=0.03, higher_is_better=True)
    assert recorded_verdict(auc).word == "better"


def test_an_older_manifest_without_the_best_value_never_calls_a_nearer_mean_error_worse() -> None:
    """A manifest or a promotion record written before `best_value` existed has a mean error marked
    "lower is better": read now, the mean error is still best at 0 (by its name), and without the
    distance's interval the verdict is "cannot tell", never "worse"."""
    from modelgov.manifest import Interval, MetricDelta, RecordedDelta
    from modelgov.render.promotion_views import recorded_verdict
    from modelgov.render.views import delta_verdict

    interval = Interval(low=1.5, high=2.5, level=0.95, resamples=500, method="paired")
    old = MetricDelta(name="mean_error", label="Mean error", this=-2.0, other=-4.0, delta=2.0, interval=interval,
                      higher_is_better=False)  # fmt: skip
    assert old.better == "closer to 0" and delta_verdict(old).word == "cannot tell"
    recorded = RecordedDelta(name="mean_error", label="Mean error", this=-2.0, other=-4.0, delta=2.0, low=1.5,
                             high=2.5, higher_is_better=False)  # fmt: skip
    assert recorded_verdict(recorded).word == "cannot tell"


def test_a_policy_reads_a_mean_errors_distance_from_zero_at_its_own_path() -> None:
    """`comparison.previous.mean_error.delta` stays the signed difference; the distance a verdict reads,
    with its interval and joint band, is at `….mean_error.distance` (below zero: nearer 0)."""
    from types import SimpleNamespace

    from modelgov.manifest import Comparison
    from modelgov.policy.comparison_evidence import comparison_evidence
    from modelgov.policy.paths import TEMPLATES

    rng = np.random.default_rng(5)
    y = rng.normal(100, 20, 3000)
    noise = rng.normal(0, 5, 3000)
    nearer, further = RunArrays(y, y - 2 + noise), RunArrays(y, y - 4 + noise)
    deltas = metric_deltas(nearer, further, pair_rows(nearer, further, row_id=None), task="regression",
                           resampling=Resampling(300, seed=1))  # fmt: skip
    comparison = Comparison(other_version="1.0", relation="previous", evaluation="e", other_evaluation="e",
                            dataset="d", rows=3000, matched_by="row order", deltas=deltas)  # fmt: skip
    version = SimpleNamespace(comparisons=[comparison], version="2.0", status="candidate")
    model = SimpleNamespace(versions=[version])
    found: dict[str, object] = {}
    comparison_evidence(lambda path, value, *_: found.__setitem__(path, value), model, version, None, "page")
    (mean_error,) = [d for d in deltas if d.name == "mean_error"]
    assert found["comparison.previous.mean_error.delta"] == mean_error.delta > 0
    assert found["comparison.previous.mean_error.distance"] == mean_error.distance < 0
    assert found["comparison.previous.mean_error.distance.ci_high"] == mean_error.distance_interval.high < 0
    assert found["comparison.previous.mean_error.distance.joint_high"] == mean_error.distance_joint_interval.high
    assert "comparison.previous.mae.distance" not in found  # only for a metric best at a value
    assert "comparison.previous.<metric>.distance.ci_high" in TEMPLATES
