"""The report's summary: a version is drifting when its latest windows are, and since when."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from modelgov import manifest
from modelgov.monitoring.aggregates import NumericAggregate
from modelgov.monitoring.drift import feature_drift, plan_feature
from modelgov.monitoring.report_drift import drifting_since


def window(day: int, rows: int, dataset: bool, output: bool) -> manifest.DriftWindow:
    prediction = manifest.FeatureDrift(
        feature="(prediction)", kind="numeric", method="ks", statistic=0.5, threshold=0.05, drifted=output, rows=rows
    )
    return manifest.DriftWindow(
        start=f"2026-08-{day:02d}T00:00:00Z",
        end=f"2026-08-{day + 1:02d}T00:00:00Z",
        rows=rows,
        share_drifted=0.6 if dataset else 0.1,
        dataset_drift=dataset,
        prediction=prediction,
    )


def test_drifting_since_is_the_unbroken_run_reaching_the_latest_window() -> None:
    windows = [
        window(1, 10, True, False),  # an early false alarm, then calm
        window(2, 10, False, False),
        window(3, 10, False, True),  # output drift starts
        window(4, 0, False, False),  # a gap in logging does not break the run
        window(5, 10, True, True),
        window(6, 10, True, False),
    ]
    assert drifting_since(windows) == "2026-08-03T00:00:00Z"


def test_no_drift_when_the_latest_window_is_calm() -> None:
    assert drifting_since([window(1, 10, True, True), window(2, 10, False, False)]) is None
    assert drifting_since([window(1, 0, False, False)]) is None


# --------------------------------------------------------------------------- wording and exactness (issue 16)


def test_the_jensen_shannon_wording_states_the_natural_log_maximum() -> None:
    from scipy.spatial.distance import jensenshannon

    from modelgov.render.monitoring_views import DRIFT_METHODS

    no_overlap = float(jensenshannon([1.0, 0.0], [0.0, 1.0]))  # natural log, as drift.py calls it
    assert no_overlap == pytest.approx(math.sqrt(math.log(2)))
    meaning = DRIFT_METHODS["jensenshannon"].what
    assert "1 means" not in meaning
    assert f"{no_overlap:.3f}" in meaning and "√ln 2" in meaning


def _window(values: np.ndarray, edges: np.ndarray) -> NumericAggregate:
    left = np.searchsorted(edges, values, "left")
    on_edge = np.searchsorted(edges, values, "right") > left
    m = len(edges)
    return NumericAggregate(
        missing=0,
        between=np.bincount(left[~on_edge], minlength=m + 1).astype("int64"),
        at=np.bincount(left[on_edge], minlength=m).astype("int64"),
        between_sum=np.bincount(left[~on_edge], weights=values[~on_edge], minlength=m + 1),
        minimum=float(values.min()),
        maximum=float(values.max()),
    )


@pytest.mark.parametrize("method", ["ks", "wasserstein"])
@pytest.mark.parametrize("shape", ["one value per cell", "a cell holding only the window's minimum"])
def test_no_error_bound_is_shown_when_the_aggregates_determine_the_result(method: str, shape: str) -> None:
    rng = np.random.default_rng(16)
    reference = pd.Series(rng.normal(0, 1, 20_000), name="x")  # > 5,000 distinct: quantile edges
    plan = plan_feature(reference, method=method)
    edges = plan.aggregate.edges
    ref = np.sort(reference.to_numpy())
    inside = [i for i in range(len(edges) - 1) if ((ref > edges[i]) & (ref < edges[i + 1])).sum() >= 2]
    cells = inside[50::300][:12]
    # A value strictly between two reference values inside each chosen cell: the cell holds reference
    # values, so only the aggregates' exactness (one value, or all equal) makes the result exact.
    picks = []
    for i in cells:
        within = ref[(ref > edges[i]) & (ref < edges[i + 1])]
        picks.append((within[0] + within[1]) / 2)
    current = np.array(picks)
    if shape != "one value per cell":
        current = np.concatenate([np.repeat(current[0], 7), current[1:]])
    result = feature_drift(plan, reference, _window(current, edges))
    if method == "ks":
        expected = stats.ks_2samp(ref, current).statistic
    else:
        expected = stats.wasserstein_distance(ref, current) / np.std(ref)
    assert result.statistic == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert result.error_bound == 0
    assert "approximate" not in (result.note or "")


def test_the_error_bound_is_still_shown_when_a_cell_holds_several_different_values() -> None:
    rng = np.random.default_rng(17)
    reference = pd.Series(rng.normal(0, 1, 20_000), name="x")
    plan = plan_feature(reference, method="ks")
    current = rng.normal(0.1, 1, 3000)
    result = feature_drift(plan, reference, _window(current, plan.aggregate.edges))
    assert result.error_bound > 0 and "approximate from binned aggregates" in result.note
    assert abs(result.statistic - stats.ks_2samp(reference.to_numpy(), current).statistic) <= result.error_bound


# --------------------------------------------------------------------------- performance intervals per window


def _labelled_log(tmp_path, rows_per_day: list[int], seed: int = 3):
    """A binary classifier's log over consecutive days, with every outcome arrived."""
    rng = np.random.default_rng(seed)
    frames = []
    for day, n in enumerate(rows_per_day):
        label = rng.integers(0, 2, n)
        score = np.clip(0.5 + (label - 0.5) * 0.4 + rng.normal(0, 0.3, n), 0, 1)
        stamp = pd.Timestamp("2026-08-03", tz="UTC") + pd.Timedelta(days=day) + pd.to_timedelta(np.arange(n), "s")
        frames.append(pd.DataFrame({"ts": stamp.strftime("%Y-%m-%dT%H:%M:%SZ"), "label": label, "score": score}))
    frame = pd.concat(frames, ignore_index=True)
    frame["id"] = np.arange(len(frame))
    frame["p"] = (frame["score"] >= 0.5).astype(int)
    frame[["ts", "id", "p", "score"]].to_csv(tmp_path / "log.csv", index=False)
    frame[["id", "label"]].to_csv(tmp_path / "truth.csv", index=False)
    return frame


def _inputs(tmp_path, resampling=None):
    from modelgov.analysis.resampling import DEFAULT_RESAMPLING
    from modelgov.monitoring.aggregates import WindowSpec
    from modelgov.monitoring.report_inputs import MonitoringInputs

    return MonitoringInputs(
        logs=[tmp_path / "log.csv"], timestamp="ts", features=[], log_output="score", reference_output=None,
        window=WindowSpec("day"), window_label="day", overrides={}, dataset_share=0.5, log_id="id",
        log_prediction="p", log_score="score", truth=tmp_path / "truth.csv", truth_id="id", truth_label="label",
        resampling=resampling or DEFAULT_RESAMPLING,
    )  # fmt: skip


def _per_window(tmp_path, resampling=None):
    from modelgov.analysis.evaluation import EvaluationColumns
    from modelgov.monitoring.report_performance import performance_by_window

    columns = EvaluationColumns(label="label", prediction="p", score="score", sensitive=(), positive_label=1)
    found = performance_by_window(_inputs(tmp_path, resampling), task="binary_classification", columns=columns)
    return [entry[:2] for key in sorted(found) for entry in found[key]]  # (labelled rows, metrics)


def test_each_windows_metrics_carry_a_bootstrap_interval_that_a_direct_bootstrap_reproduces(tmp_path) -> None:
    frame = _labelled_log(tmp_path, [400, 150])
    windows = _per_window(tmp_path)
    assert [labelled for labelled, _ in windows] == [400, 150]
    rng = np.random.default_rng(99)  # an independent bootstrap, with numpy only, on each day's rows
    for (labelled, metrics), day in zip(windows, (frame.iloc[:400], frame.iloc[400:]), strict=True):
        by_name = {m.name: m for m in metrics}
        y, p = day["label"].to_numpy(), day["p"].to_numpy()
        draws = rng.integers(0, labelled, size=(20_000, labelled))
        accuracy = (y[draws] == p[draws]).mean(axis=1)
        low, high = np.percentile(accuracy, [2.5, 97.5])
        interval = by_name["accuracy"].interval
        assert interval is not None and interval.level == 0.95 and interval.resamples == 1000
        assert by_name["accuracy"].value == pytest.approx((y == p).mean())
        assert interval.low == pytest.approx(low, abs=0.01) and interval.high == pytest.approx(high, abs=0.01)
        # and the normal approximation for a proportion, a second independent check
        se = math.sqrt(by_name["accuracy"].value * (1 - by_name["accuracy"].value) / labelled)
        assert interval.high - interval.low == pytest.approx(2 * 1.96 * se, rel=0.15)
        assert by_name["roc_auc"].interval is not None and by_name["roc_auc"].interval.low is not None


def test_per_window_intervals_cover_the_true_accuracy_at_about_their_level(tmp_path) -> None:
    """A simulation with known truth: each of 40 days' predictions are right with probability 0.8."""
    from modelgov.analysis.resampling import Resampling

    rng = np.random.default_rng(5)
    n, days = 200, 40
    label = rng.integers(0, 2, n * days)
    right = rng.random(n * days) < 0.8
    stamp = pd.Timestamp("2026-08-03", tz="UTC") + pd.to_timedelta(np.repeat(np.arange(days), n), "D")
    stamp = stamp + pd.to_timedelta(np.tile(np.arange(n), days), "s")
    frame = pd.DataFrame(
        {"ts": stamp.strftime("%Y-%m-%dT%H:%M:%SZ"), "id": np.arange(n * days), "p": np.where(right, label, 1 - label)}
    )
    frame["score"] = frame["p"].astype(float)
    frame[["ts", "id", "p", "score"]].to_csv(tmp_path / "log.csv", index=False)
    frame.assign(label=label)[["id", "label"]].to_csv(tmp_path / "truth.csv", index=False)
    windows = _per_window(tmp_path, Resampling(resamples=400))
    assert len(windows) == days
    covered = 0
    for _, metrics in windows:
        interval = next(m.interval for m in metrics if m.name == "accuracy")
        covered += interval.low <= 0.8 <= interval.high
    assert covered >= 33  # 95% of 40 is 38; the seeded run would fail by chance far less than 1% of the time


def test_intervals_can_be_turned_off_as_for_the_evaluation(tmp_path) -> None:
    from modelgov.analysis.resampling import Resampling

    _labelled_log(tmp_path, [120])
    [(_, metrics)] = _per_window(tmp_path, Resampling(resamples=0))
    assert all(m.interval is None for m in metrics)


def test_a_window_whose_outcomes_are_all_one_class_still_gets_its_metrics(tmp_path) -> None:
    """Sparse ground truth: a day whose arrived outcomes are all positive, with negative predictions."""
    frame = _labelled_log(tmp_path, [200, 40])
    frame.loc[frame.index >= 200, "label"] = 1
    frame.loc[frame.index >= 200, "p"] = np.where(np.arange(40) % 4 == 0, 0, 1)
    frame[["ts", "id", "p", "score"]].to_csv(tmp_path / "log.csv", index=False)
    frame[["id", "label"]].to_csv(tmp_path / "truth.csv", index=False)
    windows = _per_window(tmp_path)
    by_name = {m.name: m for m in windows[1][1]}
    assert windows[1][0] == 40 and by_name["accuracy"].value == pytest.approx(0.75)


def test_a_window_with_a_third_value_among_binary_predictions_is_still_refused(tmp_path) -> None:
    from modelgov.monitoring.logsource import ScanError

    frame = _labelled_log(tmp_path, [50])
    frame["p"] = frame["p"].astype(str)
    frame.loc[0, "p"] = "yes"
    frame[["ts", "id", "p", "score"]].to_csv(tmp_path / "log.csv", index=False)
    # named by the log's file and its own column, not the window table's "prediction"
    with pytest.raises(ScanError, match=r"log\.csv: column 'p': 1 predictions \('yes'\) are not values of the label"):
        _per_window(tmp_path)


def test_a_windows_interval_does_not_depend_on_the_order_of_its_records(tmp_path) -> None:
    """DuckDB and Spark return a window's records in different orders: the intervals must agree."""
    frame = _labelled_log(tmp_path, [300])
    first = _per_window(tmp_path)
    shuffled = frame.sample(frac=1, random_state=5)
    shuffled[["ts", "id", "p", "score"]].to_csv(tmp_path / "log.csv", index=False)
    shuffled[["id", "label"]].sample(frac=1, random_state=6).to_csv(tmp_path / "truth.csv", index=False)
    assert _per_window(tmp_path) == first
