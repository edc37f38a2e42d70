"""Fairness in production for a regression model: each window's group errors against fairlearn's
MetricFrame on the log joined with its outcomes in pandas, the MAE gap and its interval against a
numpy bootstrap of the same draws, independence from the order of the records, a simulated group
whose errors grow named on top, groups that only look different refused, and a rule that cannot
pass on an older window when the latest one's gap is undefined (the demo's page: test_end_to_end)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, mean_prediction
from sklearn.metrics import mean_absolute_error, root_mean_squared_error

from modelgov import manifest
from modelgov.analysis.disparity import SummaryRules
from modelgov.analysis.fairness import _group_order
from modelgov.analysis.resampling import Resampling, row_draws
from modelgov.monitoring.aggregates import WindowSpec
from modelgov.monitoring.logsource import ScanError
from modelgov.monitoring.outcome_scan import scan_outcomes
from modelgov.monitoring.production_fairness import Collector, Settings, group_windows
from modelgov.monitoring.production_fairness_regression import snapshot
from modelgov.policy.evidence_index import _production_fairness

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


def _measure(folder, resampling: Resampling = RESAMPLING, min_size: int = 30) -> list:
    """What the report does: each window's outcomes to the collector, then the log's group scan
    (which decides which columns are groups), then the entries."""
    settings = Settings(("age_band",), min_size, True, resampling, None, regression=True)
    collector = Collector(settings, ["age_band"], [], None)
    for window in scan_outcomes(folder / "log.parquet", timestamp="ts", window=WindowSpec("week"), log_id="id",
                                truth=folder / "truth.parquet", truth_id="id", truth_label="y",
                                prediction="prediction", groups=["age_band"]):  # fmt: skip
        collector.add_outcomes(window)
    inputs = SimpleNamespace(
        logs=folder / "log.parquet", timestamp="ts", window=WindowSpec("week"), log_prediction="prediction",
        log_score=None, threshold=None, spark=None,
    )  # fmt: skip
    windows = group_windows(collector, inputs)
    return collector.finish(windows)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    log, truth = _log(np.random.default_rng(11), noisy_group="60+")
    folder = tmp_path_factory.mktemp("pfr")
    log.to_parquet(folder / "log.parquet")
    truth[["id", "y"]].to_parquet(folder / "truth.parquet")
    return folder, log, truth


def test_each_windows_group_errors_equal_metricframe(data) -> None:
    folder, log, truth = data
    (result,) = _measure(folder)
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
    (result,) = _measure(folder)
    joined = log.merge(truth, on="id")
    for index, window in enumerate(result.windows):
        part = joined[joined.week == index].assign(g=lambda f: f.age_band.fillna("(missing)"))
        mae = part.groupby("g").apply(lambda f: mean_absolute_error(f.y, f.prediction), include_groups=False)
        sizes = part.groupby("g").size()
        kept = mae[sizes >= 30]
        gap, bias = window.realized.disparities
        assert gap.name == "mae_difference" and gap.method == "between_groups"
        signed = part.assign(e=part.prediction - part.y).groupby("g")["e"].mean()[sizes >= 30]
        assert bias.name == "mean_error_difference" and bias.groups == [signed.idxmax(), signed.idxmin()]
        assert bias.value == pytest.approx(signed.max() - signed.min(), rel=1e-9)
        assert gap.value == pytest.approx(kept.max() - kept.min(), rel=1e-12)
        assert gap.groups == [kept.idxmax(), kept.idxmin()]
        assert [e.group for e in gap.excluded] == list(sizes[sizes < 30].index)
        assert all("fewer than 30" in e.reason for e in gap.excluded)


def test_the_group_the_simulation_made_noisier_is_named_on_top_in_that_week_only(data) -> None:
    folder, _, _ = data
    (result,) = _measure(folder)
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
    frame["signed"] = (predicted - actual)[order]
    gaps, pairs, a_mae, a_bias = [], [], [], []
    for draws in row_draws(n, RESAMPLING):
        for rows in draws:
            means = frame.iloc[rows].groupby("g")[["err", "signed"]].mean()
            mae = means["err"]
            gaps.append(mae[["a", "b"]].max() - mae[["a", "b"]].min())  # c has under 50 records
            pairs.append(mae["b"] - mae["a"])
            a_mae.append(mae["a"])
            a_bias.append(means.loc["a", "signed"])
    gap, bias = found.disparities
    assert [e.group for e in gap.excluded] == ["c"] and gap.groups == ["b", "a"]
    assert bias.name == "mean_error_difference" and [e.group for e in bias.excluded] == ["c"]
    assert gap.interval.low == pytest.approx(np.percentile(gaps, 2.5), rel=1e-9)
    assert gap.interval.high == pytest.approx(np.percentile(gaps, 97.5), rel=1e-9)
    # the named groups' own difference, and each group's figures, over the same resamples
    assert gap.difference_interval.low == pytest.approx(np.percentile(pairs, 2.5), rel=1e-9)
    assert gap.difference_interval.high == pytest.approx(np.percentile(pairs, 97.5), rel=1e-9)
    a = found.groups[0]
    assert a.intervals["mae"].low == pytest.approx(np.percentile(a_mae, 2.5), rel=1e-9)
    assert a.intervals["mean_error"].high == pytest.approx(np.percentile(a_bias, 97.5), rel=1e-9)
    assert a.metrics["mean_error"] == pytest.approx(float(np.mean(predicted[names == "a"] - actual[names == "a"])))
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
    gap, bias = found.disparities
    assert bias.value is None
    assert (
        gap.value is None
        and gap.note == "undefined: fewer than two groups have enough records with outcomes and a finite error"
    )
    assert snapshot(names[40:], actual[40:], predicted[40:], SummaryRules(), Resampling(resamples=0)) is None


def test_a_column_with_too_many_values_is_not_measured(tmp_path) -> None:
    log, truth = _log(np.random.default_rng(2))
    log["age_band"] = [f"person-{i}" for i in range(len(log))]
    log.to_parquet(tmp_path / "log.parquet")
    truth[["id", "y"]].to_parquet(tmp_path / "truth.parquet")
    (result,) = _measure(tmp_path, Resampling(resamples=0))
    assert not result.measured and "too many to be groups" in result.note


def test_groups_that_only_look_different_are_refused(tmp_path) -> None:
    """Respelling one group ("60+", "60+ ", a full-width "６0+") would split it into small groups that
    drop out of the gap: the log's scan refuses it, as for a classifier."""
    log, truth = _log(np.random.default_rng(3))
    spelt = log.age_band == "60+"
    log.loc[spelt, "age_band"] = np.resize(["60+", "60+ ", "\uff160+"], int(spelt.sum()))
    log.to_parquet(tmp_path / "log.parquet")
    truth[["id", "y"]].to_parquet(tmp_path / "truth.parquet")
    with pytest.raises(ScanError, match="age_band"):
        _measure(tmp_path, Resampling(resamples=0))


def test_labels_that_read_as_nan_keep_one_order() -> None:
    """ "NAN" is a number to float() and equal to nothing: as a sort key it left the order of the groups,
    and so the row bootstrap, to the order a set gave them, which varies between runs."""
    labels = ["x", "NAN", "2", "1", "+nan"]
    orders = {tuple(sorted(labels[i:] + labels[:i], key=_group_order)) for i in range(len(labels))}
    assert orders == {("1", "2", "+nan", "NAN", "x")}


def test_a_group_whose_errors_overflow_is_left_out_and_named() -> None:
    names = np.array(["a"] * 40 + ["b"] * 40 + ["c"] * 40, dtype=object)
    actual = np.full(120, 10.0)
    predicted = np.concatenate([np.full(40, 12.0), np.full(40, 15.0), [-1e308] * 40])
    found = snapshot(names, actual, predicted, SummaryRules(min_size=30), Resampling(resamples=50, seed=1))
    gap, bias = found.disparities
    assert gap.groups == ["b", "a"] and gap.value == pytest.approx(3.0)
    assert bias.groups == ["b", "a"] and bias.value == pytest.approx(3.0) and bias.excluded[0].group == "c"
    assert [(e.group, "too large to add up" in e.reason) for e in gap.excluded] == [("c", True)]
    c = found.groups[2]
    assert c.metrics["mae"] is None and c.metrics["mean_error"] is None


def test_a_rule_reads_the_latest_window_even_when_its_gap_is_undefined() -> None:
    """A log that makes its latest window's gap undefined must not let a rule pass on an older week."""

    def window(start: str, value: float | None) -> manifest.ProductionFairnessWindow:
        gap = manifest.Disparity(name="mae_difference", label="gap", method="between_groups", value=value,
                                 groups=["a", "b"] if value is not None else [], group_rates=[5.0, 3.0] if value else [],
                                 note=None if value is not None else "undefined: fewer than two groups")  # fmt: skip
        snap = manifest.FairnessSnapshot(basis="realized", rows=100, groups=[], disparities=[gap])
        return manifest.ProductionFairnessWindow(start=start, end=start, rows=100, realized=snap)

    result = manifest.ProductionFairness(
        feature="age_band",
        measured=True,
        windows=[window("2026-10-19T00:00:00Z", 2.0), window("2026-10-26T00:00:00Z", None)],
    )
    report = SimpleNamespace(fairness=[result])
    found: dict[str, tuple] = {}
    _production_fairness(lambda path, value, page, detail=None: found.__setitem__(path, (value, detail)), report, "p")
    for path in ("production_fairness.age_band.mae_difference", "production_fairness.age_band.realized.mae_difference"):
        value, detail = found[path]
        assert value is None and "2026-10-26" in detail and "undefined" in detail
