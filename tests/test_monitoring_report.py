"""The report's summary: a version is drifting when its latest windows are, and since when."""

from __future__ import annotations

from modelgov import manifest
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
