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
from modelgov.monitoring.report import drifting_since


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
