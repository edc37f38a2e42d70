"""Bootstrap intervals and curves: the batched metrics equal scikit-learn, resamples are exact
bootstrap resamples, and intervals are reproducible whatever the batch size."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn.calibration import calibration_curve

from modelgov.analysis import resampling, weighted
from modelgov.analysis.performance import binary_performance, calibration, regression_performance, roc_curve
from modelgov.analysis.resampling import Resampling, cell_counts, identity, percentile_interval, row_draws


def binary_data(n: int = 800, seed: int = 1):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.3).astype(int)
    score = np.clip(0.3 * y + rng.normal(0.35, 0.2, n), 0, 1).round(2)  # rounded: many ties
    return y, (score >= 0.5).astype(int), score


def sklearn_binary(y, p, s) -> dict[str, float]:
    return {
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


def test_batched_binary_metrics_on_every_row_equal_scikit_learn() -> None:
    y, p, s = binary_data()
    got = {k: float(v[0]) for k, v in weighted.binary(y, p, s, identity(len(y))).items()}
    assert got == pytest.approx(sklearn_binary(y, p, s), rel=1e-10)


def test_each_bootstrap_resample_equals_scikit_learn_on_the_repeated_rows() -> None:
    y, p, s = binary_data(300)
    draws = next(row_draws(len(y), Resampling(resamples=5, seed=3)))
    assert draws.shape == (5, len(y)) and draws.min() >= 0 and draws.max() < len(y)
    batch = weighted.binary(y, p, s, draws)
    for b in range(5):
        rows = draws[b]
        expected = sklearn_binary(y[rows], p[rows], s[rows])
        assert {k: float(v[b]) for k, v in batch.items()} == pytest.approx(expected, rel=1e-10)


def test_weighted_regression_metrics_equal_scikit_learn() -> None:
    rng = np.random.default_rng(2)
    y = rng.normal(50, 10, 400)
    yhat = y + rng.normal(1, 5, 400)
    drawn = next(row_draws(400, Resampling(resamples=1, seed=9)))
    got = weighted.regression(y, yhat, np.vstack([identity(400), drawn]))
    rows = drawn[0]
    for b, idx in enumerate([np.arange(400), rows]):
        assert got["mae"][b] == pytest.approx(skm.mean_absolute_error(y[idx], yhat[idx]))
        assert got["rmse"][b] == pytest.approx(skm.root_mean_squared_error(y[idx], yhat[idx]))
        assert got["r2"][b] == pytest.approx(skm.r2_score(y[idx], yhat[idx]))


def test_intervals_are_seeded_and_surround_the_estimate() -> None:
    y, p, s = binary_data(2000)
    first = binary_performance(y, p, s, threshold=0.5, positive_label="1", resampling=Resampling(300, 0.95, 7))
    again = binary_performance(y, p, s, threshold=0.5, positive_label="1", resampling=Resampling(300, 0.95, 7))
    other = binary_performance(y, p, s, threshold=0.5, positive_label="1", resampling=Resampling(300, 0.95, 8))
    assert first == again and first != other
    for metric in first.metrics:
        assert metric.interval is not None and metric.interval.resamples == 300
        assert metric.interval.low <= metric.value <= metric.interval.high, metric.name
    auc = next(m for m in first.metrics if m.name == "roc_auc").interval
    assert 0.005 < auc.high - auc.low < 0.2


@pytest.mark.parametrize("limit", [400, 7_000, 10**9])
def test_the_batch_size_never_changes_an_interval(monkeypatch: pytest.MonkeyPatch, limit: int) -> None:
    """Memory is bounded by the batch of draws; the resamples, and so every figure, are not."""
    y, p, s = binary_data(2000)
    expected = binary_performance(y, p, s, threshold=0.5, positive_label="1", resampling=Resampling(150, 0.95, 4))
    monkeypatch.setattr(resampling, "MAX_DRAW_CELLS", limit)
    got = binary_performance(y, p, s, threshold=0.5, positive_label="1", resampling=Resampling(150, 0.95, 4))
    assert got == expected


@pytest.mark.parametrize("decimals", [1, 3, 8])
def test_the_ranking_step_never_changes_a_value(monkeypatch: pytest.MonkeyPatch, decimals: int) -> None:
    """ROC AUC and AP are computed a few resamples at a time to stay in cache; bit for bit the same
    as the whole batch at once (a step of 10⁹ cells is the earlier single pass)."""
    rng = np.random.default_rng(decimals)
    y = rng.random(3000) < 0.3
    score = np.clip(0.25 * y + rng.random(3000) * 0.8, 0, 1).round(decimals)
    draws = np.vstack(list(row_draws(len(y), Resampling(97, 0.95, 5))))
    monkeypatch.setattr(weighted, "RANKING_STEP_CELLS", 10**9)
    predicted = score >= 0.5
    whole = weighted._ranking_metrics(y, score, draws, predicted)
    for step in (1, 5_000, 60_000):
        monkeypatch.setattr(weighted, "RANKING_STEP_CELLS", step)
        auc, ap, cells = weighted._ranking_metrics(y, score, draws, predicted)
        assert np.array_equal(auc, whole[0]) and np.array_equal(ap, whole[1]) and np.array_equal(cells, whole[2])


def _ranking_by_ascending_levels(y: np.ndarray, score: np.ndarray, draws: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ROC AUC and AP as they were computed before the levels ran downwards: counts per level in
    ascending score, negatives and positives below each level, precision where something is flagged."""
    levels, level_of = np.unique(score, return_inverse=True)
    size = len(levels)
    by_level = resampling.counts(level_of.astype(np.int64) + size * y, draws, 2 * size)
    negative, positive = by_level[:, :size], by_level[:, size:]
    negatives_upto, positives_upto = np.cumsum(negative, axis=1), np.cumsum(positive, axis=1)
    total_neg, total_pos = negatives_upto[:, -1], positives_upto[:, -1]
    auc = resampling.safe_divide(((negatives_upto - 0.5 * negative) * positive).sum(axis=1), total_pos * total_neg)
    flagged_pos = total_pos[:, None] - positives_upto + positive
    flagged = flagged_pos + total_neg[:, None] - negatives_upto + negative
    precision = np.divide(flagged_pos, flagged, out=np.zeros_like(flagged), where=flagged > 0) * positive
    return auc, resampling.safe_divide(precision.sum(axis=1), total_pos)


@pytest.mark.parametrize("seed", range(12))
def test_ranking_metrics_are_the_ascending_formulas_to_the_last_bit(seed: int) -> None:
    """The running sums from the highest score down are whole numbers, so exact: every AUC and AP
    equals the formulas over ascending levels bit for bit (ties, one class only, a single row)."""
    rng = np.random.default_rng(seed)
    n = [1, 2, 7, 60, 900, 4000][seed % 6]
    y = rng.random(n) < [0.0, 0.02, 0.3, 0.95, 1.0, 0.5][seed // 2 % 6]
    score = np.clip(0.25 * y + rng.random(n) * 0.8, 0, 1).round([0, 2, 12][seed % 3])
    draws = np.vstack(list(row_draws(n, Resampling(150, 0.95, seed))))
    got, expected = weighted._ranking_metrics(y, score, draws)[:2], _ranking_by_ascending_levels(y, score, draws)
    for value, reference in zip(got, expected, strict=True):
        assert np.array_equal(value, reference, equal_nan=True)


@pytest.mark.parametrize("seed", range(6))
def test_confusion_counts_from_the_score_levels_are_the_counts_of_the_drawn_rows(seed: int) -> None:
    """When every row of a score level has the same prediction, the confusion counts are read from
    the counts per level that ROC AUC needs; they are the counts of every drawn row's cell, bit for
    bit, whether the prediction is a threshold on the score or any other function of it; when a
    level holds both predictions they are counted from the rows."""
    rng = np.random.default_rng(seed)
    n = [1, 5, 80, 700, 3000, 3000][seed]
    y = rng.random(n) < [0.5, 0.4, 0.3, 0.05, 0.5, 0.99][seed]
    score = np.clip(0.25 * y + rng.random(n) * 0.8, 0, 1).round([1, 2, 2, 3, 12, 2][seed])
    draws = np.vstack(list(row_draws(n, Resampling(120, 0.95, seed))))
    by_rows = resampling.counts(2 * y.astype(np.int64) + (score >= 0.5), draws, 4)
    assert np.array_equal(weighted._ranking_metrics(y, score, draws, score >= 0.5)[2], by_rows)
    levels = np.unique(score)
    chosen = set(rng.choice(levels, size=len(levels) // 2 + 1, replace=False).tolist())
    not_monotone = np.isin(score, list(chosen))
    expected = resampling.counts(2 * y.astype(np.int64) + not_monotone, draws, 4)
    assert np.array_equal(weighted._ranking_metrics(y, score, draws, not_monotone)[2], expected)
    if n > 1 and len(levels) < n:  # a level shared by two rows, given different predictions
        tied = np.flatnonzero(score == levels[np.argmax(np.bincount(np.unique(score, return_inverse=True)[1]))])
        mixed = not_monotone.copy()
        mixed[tied[0]], mixed[tied[1]] = True, False
        assert weighted._ranking_metrics(y, score, draws, mixed)[2] is None
        metrics = weighted.binary(y, mixed, score, draws)
        cells = resampling.counts(2 * y.astype(np.int64) + mixed, draws, 4)
        assert np.array_equal(metrics["accuracy"], resampling.safe_divide(cells[:, 0] + cells[:, 3], cells.sum(axis=1)))


def test_intervals_can_be_turned_off() -> None:
    y, p, s = binary_data()
    performance = binary_performance(y, p, s, threshold=0.5, positive_label="1", resampling=Resampling(0))
    assert all(m.interval is None for m in performance.metrics)


def test_undefined_resamples_are_left_out_and_counted() -> None:
    samples = np.array([0.1, 0.2, np.nan, 0.3] * 25)
    interval = percentile_interval(samples, Resampling(100), "test")
    assert interval.defined_share == 0.75 and interval.low is not None
    mostly_undefined = percentile_interval(np.array([0.1] + [np.nan] * 9), Resampling(10), "test")
    assert mostly_undefined.low is None and mostly_undefined.defined_share == 0.1


def test_cell_resamples_keep_the_total_and_the_shape() -> None:
    cells = np.array([[10, 5, 3, 82], [1, 0, 0, 4]])
    drawn = cell_counts(cells, Resampling(50, seed=1))
    assert drawn.shape == (50, 2, 4)
    assert (drawn.sum(axis=(1, 2)) == cells.sum()).all()


def test_calibration_bins_match_scikit_learn_and_ece_is_their_weighted_gap() -> None:
    y, _, s = binary_data(1000)
    result = calibration(y, s)
    prob_true, prob_pred = calibration_curve(y, s, n_bins=10, strategy="uniform")
    filled = [b for b in result.bins if b.count]
    assert [b.fraction_positive for b in filled] == pytest.approx(prob_true.tolist())
    assert [b.mean_predicted for b in filled] == pytest.approx(prob_pred.tolist())
    ece = sum(b.count / len(y) * abs(b.fraction_positive - b.mean_predicted) for b in filled)
    assert result.expected_calibration_error == pytest.approx(ece)
    assert sum(b.count for b in result.bins) == len(y)


def test_roc_curve_is_thinned_but_keeps_its_ends() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(20_000) < 0.4).astype(int)
    s = rng.random(20_000)
    curve = roc_curve(y, s)
    assert len(curve.x) <= 200
    assert (curve.x[0], curve.y[0]) == (0.0, 0.0) and (curve.x[-1], curve.y[-1]) == (1.0, 1.0)
    assert all(0 <= t <= 1 for t in curve.thresholds)


def test_regression_performance_has_residuals_and_a_sample() -> None:
    rng = np.random.default_rng(4)
    y = rng.normal(0, 1, 3000)
    yhat = y + rng.normal(0, 0.5, 3000)
    performance = regression_performance(y, yhat, Resampling(100))
    assert sum(performance.residuals.counts) == 3000
    assert len(performance.predicted_vs_actual.x) == 1000
