"""Fairness in production for a regression model: each window's group errors against fairlearn's
MetricFrame on the log joined with its outcomes in pandas, the MAE gap and its interval against a
numpy bootstrap of the same draws, independence from the order of the records, a simulated group
whose errors grow named on top, and the section on the demo's diabetes monitoring page."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, mean_prediction
from sklearn.metrics import mean_absolute_error, root_mean_squared_error

from modelgov.analysis.disparity import SummaryRules
from modelgov.analysis.resampling import Resampling, row_draws
from modelgov.monitoring.aggregates import WindowSpec
from modelgov.monitoring.outcome_scan import scan_outcomes
from modelgov.monitoring.production_fairness import Collector, Settings
from modelgov.monitoring.production_fairness_regression import snapshot

WEEKS = 4
RESAMPLING = Resampling(resamples=300, seed=3)


def _log(rng: np.random.Generator, noisy_group: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A weekly regression log: bands of age, a target with a per-band level, and a prediction whose
    error is wider for ``noisy_group`` in the last week (the simulation's known truth)."""
    n = 3000
    week = rng.integers(0, WEEKS, n)
    stamps = pd.Timestamp("2026-08-03T00:00:00Z") + pd.to_timedelta(
        week * 7 * 86400 + rng.integers(0, 7 * 86400, n), "s"
    )
    band = rng.choice(["18-29", "30-44", "45-59", "60+", None], size=n, p=[0.2, 0.3, 0.3, 0.19, 0.01])
    level = pd.Series(band).map({"18-29": 120.0, "30-44": 150.0, "45-59": 170.0, "60+": 190.0}).fillna(160.0)
    actual = level.to_numpy() + rng.normal(0, 30, n)
    spread = np.full(n, 20.0)
    if noisy_group is not None:
        spread[(week == WEEKS - 1) & (band == noisy_group)] = 80.0
    predicted = actual + rng.normal(0, spread)
    log = pd.DataFrame({"ts": stamps.strftime("%Y-%m-%dT%H:%M:%SZ"), "id": np.arange(n), "age_band": band,
                        "prediction": predicted.round(3)})  # fmt: skip
    truth = pd.DataFrame({"id": np.arange(n), "y": actual.round(3), "week": week})
    return log, truth


def _collect(folder, resampling: Resampling = RESAMPLING, min_size: int = 30) -> Collector:
    settings = Settings(("age_band",), min_size, True, resampling, None, regression=True)
    collector = Collector(settings, ["age_band"], [], None)
    for window in scan_outcomes(folder / "log.parquet", timestamp="ts", window=WindowSpec("week"), log_id="id",
                                truth=folder / "truth.parquet", truth_id="id", truth_label="y",
                                prediction="prediction", groups=["age_band"]):  # fmt: skip
        collector.add_outcomes(window)
    return collector


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    log, truth = _log(np.random.default_rng(11), noisy_group="60+")
    folder = tmp_path_factory.mktemp("pfr")
    log.to_parquet(folder / "log.parquet")
    truth[["id", "y"]].to_parquet(folder / "truth.parquet")
    return folder, log, truth


def test_each_windows_group_errors_equal_metricframe(data) -> None:
    folder, log, truth = data
    (result,) = _collect(folder).finish([])
    assert result.measured and result.groups == ["18-29", "30-44", "45-59", "60+", "(missing)"]
    joined = log.merge(truth, on="id")
    assert len(result.windows) == WEEKS
    for index, window in enumerate(result.windows):
        part = joined[joined.week == index]
        assert window.rows == len(part) and window.realized.rows == len(part)
        frame = MetricFrame(
            metrics={"mae": mean_absolute_error, "rmse": root_mean_squared_error, "mean_prediction": mean_prediction},
            y_true=part.y,
            y_pred=part.prediction,
            sensitive_features=part.age_band.fillna("(missing)"),
        )
        for group in window.realized.groups:
            rows = part[part.age_band.fillna("(missing)") == group.group]
            assert group.count == len(rows)
            assert group.metrics["mae"] == pytest.approx(frame.by_group.loc[group.group, "mae"], rel=1e-12)
            assert group.metrics["rmse"] == pytest.approx(frame.by_group.loc[group.group, "rmse"], rel=1e-12)
            assert group.metrics["mean_prediction"] == pytest.approx(
                frame.by_group.loc[group.group, "mean_prediction"], rel=1e-12
            )
            assert group.metrics["mean_label"] == pytest.approx(rows.y.mean(), rel=1e-12)
            assert group.small == (len(rows) < 30)


def test_the_gap_is_the_largest_minus_the_smallest_mae_of_groups_with_enough_records(data) -> None:
    folder, log, truth = data
    (result,) = _collect(folder).finish([])
    joined = log.merge(truth, on="id")
    for index, window in enumerate(result.windows):
        part = joined[joined.week == index].assign(g=lambda f: f.age_band.fillna("(missing)"))
        mae = part.groupby("g").apply(lambda f: mean_absolute_error(f.y, f.prediction), include_groups=False)
        sizes = part.groupby("g").size()
        kept = mae[sizes >= 30]
        (gap,) = window.realized.disparities
        assert gap.name == "mae_difference" and gap.method == "between_groups"
        assert gap.value == pytest.approx(kept.max() - kept.min(), rel=1e-12)
        assert gap.groups == [kept.idxmax(), kept.idxmin()]
        assert [e.group for e in gap.excluded] == list(sizes[sizes < 30].index)
        assert all("fewer than 30" in e.reason for e in gap.excluded)


def test_the_group_the_simulation_made_noisier_is_named_on_top_in_that_week_only(data) -> None:
    folder, _, _ = data
    (result,) = _collect(folder).finish([])
    gaps = [window.realized.disparities[0] for window in result.windows]
    assert gaps[-1].groups[0] == "60+" and gaps[-1].interval.low > 20  # four times the error spread
    assert all(gap.value < gaps[-1].value / 3 for gap in gaps[:-1])


def test_the_interval_is_a_bootstrap_of_the_same_draws_in_one_order() -> None:
    rng = np.random.default_rng(4)
    n = 400
    names = rng.permutation(np.array(["a"] * 180 + ["b"] * 180 + ["c"] * 40, dtype=object))
    actual = rng.normal(100, 20, n).round(2)
    predicted = (actual + rng.normal(0, np.where(names == "a", 10.0, 15.0))).round(2)
    rules = SummaryRules(min_size=50)
    found = snapshot(names, actual, predicted, rules, RESAMPLING)
    # the same draws, on the records ordered by (group, outcome, prediction), computed with pandas
    order = np.lexsort((predicted, actual, pd.Categorical(names, categories=["a", "b", "c"]).codes))
    frame = pd.DataFrame({"g": names[order], "err": np.abs(predicted - actual)[order]})
    gaps = []
    for draws in row_draws(n, RESAMPLING):
        for rows in draws:
            means = frame.iloc[rows].groupby("g")["err"].mean()
            gaps.append(means[["a", "b"]].max() - means[["a", "b"]].min())  # c has under 50 records
    (gap,) = found.disparities
    assert [e.group for e in gap.excluded] == ["c"]
    assert gap.interval.low == pytest.approx(np.percentile(gaps, 2.5), rel=1e-9)
    assert gap.interval.high == pytest.approx(np.percentile(gaps, 97.5), rel=1e-9)
    # the engine's order of the records does not move a figure
    shuffled = rng.permutation(n)
    again = snapshot(names[shuffled], actual[shuffled], predicted[shuffled], rules, RESAMPLING)
    assert again == found


def test_records_that_are_not_numbers_are_left_out_and_one_group_gives_no_gap() -> None:
    names = np.array(["a"] * 40 + ["b"] * 5, dtype=object)
    actual = np.array([10.0] * 40 + ["n/a"] * 5, dtype=object)
    predicted = np.array([12.0] * 45, dtype=object)
    found = snapshot(names, actual, predicted, SummaryRules(min_size=30), Resampling(resamples=0))
    assert [g.group for g in found.groups] == ["a"] and found.rows == 40
    assert found.groups[0].metrics["mae"] == pytest.approx(2.0)
    (gap,) = found.disparities
    assert gap.value is None and "fewer than two groups" in gap.note
    assert snapshot(names[40:], actual[40:], predicted[40:], SummaryRules(), Resampling(resamples=0)) is None


def test_a_column_with_too_many_values_is_not_measured(tmp_path) -> None:
    log, truth = _log(np.random.default_rng(2))
    log["age_band"] = [f"person-{i}" for i in range(len(log))]
    log.to_parquet(tmp_path / "log.parquet")
    truth[["id", "y"]].to_parquet(tmp_path / "truth.parquet")
    (result,) = _collect(tmp_path, Resampling(resamples=0)).finish([])
    assert not result.measured and "too many to be groups" in result.note
