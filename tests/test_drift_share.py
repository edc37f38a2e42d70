"""What the share of drifted columns counts, and that with the model's output counted it is
Evidently's DriftedColumnsCount, month by month on Bike Sharing.

Evidently does not import under pandas 3, so its figures are a fixture,
``benchmarks/results-evidently-bike-sharing.json``, written by ``benchmarks/evidently_agreement.py
--bike-sharing`` in a separate environment (the command is in the file). The report here runs the
whole monitoring path: a CSV log of 2012 scanned by DuckDB into monthly windows, each tested against
2011 as a reference table.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from manifest_factory import make_manifest
from modelgov import manifest
from modelgov.analysis.evaluation import EvaluationColumns
from modelgov.monitoring.aggregates import WindowSpec
from modelgov.monitoring.report import monitoring_report
from modelgov.monitoring.report_inputs import MonitoringInputs, Reference
from modelgov.render import monitoring_views as mv
from modelgov.render.pages import render_pages
from shared_builds import SHARED_DATA

ROOT = Path(__file__).resolve().parents[1]
BIKE_DAY = SHARED_DATA / "bike_day.csv"
FIXTURE = ROOT / "benchmarks" / "results-evidently-bike-sharing.json"
COLUMNS = EvaluationColumns(label="y", prediction="y", score=None, sensitive=(), positive_label=1)


def report_of(
    log: Path,
    reference: pd.DataFrame,
    features: list[str],
    *,
    output: str,
    count_output: bool,
    timestamp: str = "ts",
    window: str = "month",
    share: float = 0.5,
) -> manifest.MonitoringReport:
    inputs = MonitoringInputs(
        logs=[log], timestamp=timestamp, features=features, log_output=output, reference_output=output,
        window=WindowSpec(window), window_label=window, overrides={}, dataset_share=share, count_output=count_output,
    )  # fmt: skip
    table = Reference(load=reference.__getitem__, columns=frozenset(reference.columns), kind="data", name="reference")
    return monitoring_report(inputs, table, task="regression", columns=COLUMNS)


# --------------------------------------------------------------------------- the output as one more column


@pytest.fixture(scope="module")
def shifted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    """Two features, one of which (``b``) moves, and an output that moves: one month of records."""
    rng = np.random.default_rng(5)
    n = 2000
    reference = pd.DataFrame({"a": rng.normal(0, 1, n), "b": rng.normal(0, 1, n), "out": rng.normal(0, 1, n)})
    log = pd.DataFrame({"a": rng.normal(0, 1, n), "b": rng.normal(2, 1, n), "out": rng.normal(2, 1, n)})
    log["ts"] = (pd.Timestamp("2026-03-01", tz="UTC") + pd.to_timedelta(np.arange(n) * 600, "s")).strftime(
        "%Y-%m-%dT%H:%M:%SZ"
    )
    path = tmp_path_factory.mktemp("share") / "log.csv"
    log.to_csv(path, index=False)
    return path, reference


def test_by_default_the_share_counts_the_features_alone(shifted) -> None:
    log, reference = shifted
    report = report_of(log, reference, ["a", "b"], output="out", count_output=False, share=0.6)
    window = report.windows[0]
    assert not report.share_counts_output
    assert (window.columns_drifted, window.columns_compared, window.share_drifted) == (1, 2, 0.5)
    assert window.prediction is not None and window.prediction.drifted  # judged on its own
    assert not window.dataset_drift  # 1 of 2 < 60%
    assert window.drifted  # the window still drifts: its output did


def test_counting_the_output_adds_it_as_one_more_column(shifted) -> None:
    log, reference = shifted
    report = report_of(log, reference, ["a", "b"], output="out", count_output=True, share=0.6)
    window = report.windows[0]
    assert report.share_counts_output
    assert (window.columns_drifted, window.columns_compared) == (2, 3)
    assert window.share_drifted == pytest.approx(2 / 3)
    assert window.dataset_drift  # 2 of 3 ≥ 60%
    assert [f.feature for f in window.features] == ["a", "b"]  # the output keeps its own row


def test_a_reference_without_the_output_has_nothing_more_to_count(shifted) -> None:
    log, reference = shifted
    inputs = MonitoringInputs(
        logs=[log], timestamp="ts", features=["a", "b"], log_output="out", reference_output=None,
        window=WindowSpec("month"), window_label="month", overrides={}, dataset_share=0.5, count_output=True,
    )  # fmt: skip
    table = Reference(load=reference.__getitem__, columns=frozenset(["a", "b"]), kind="data", name="reference")
    window = monitoring_report(inputs, table, task="regression", columns=COLUMNS).windows[0]
    assert window.prediction is None and (window.columns_drifted, window.columns_compared) == (1, 2)


# --------------------------------------------------------------------------- Evidently on Bike Sharing


@pytest.fixture(scope="module")
def evidently() -> dict:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def bike(evidently: dict, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pd.DataFrame]:
    if not BIKE_DAY.exists():
        pytest.skip(f"Bike Sharing data not found at {BIKE_DAY} (UCI bike_day.csv, shared data folder)")
    digest = hashlib.sha256(BIKE_DAY.read_bytes()).hexdigest()
    assert digest == evidently["data"]["sha256"], f"{BIKE_DAY} is not the file the Evidently fixture was made from"
    day = pd.read_csv(BIKE_DAY)
    columns = ["dteday", *evidently["numerical"], *evidently["categorical"], evidently["output"]]
    log = tmp_path_factory.mktemp("bike") / "2012.csv"
    day[day.yr == 1][columns].to_csv(log, index=False)
    return log, day[day.yr == 0][columns].reset_index(drop=True)


@pytest.mark.parametrize(("count_output", "run"), [(True, "output_counted"), (False, "features_only")])
def test_bike_sharing_shares_and_verdicts_equal_evidentlys_in_every_month(
    bike, evidently: dict, count_output: bool, run: str
) -> None:
    """2011 against each month of 2012, ``cnt`` the model's output: with it counted, modelgov's
    drifted share and dataset-drift verdict are Evidently's DriftedColumnsCount over every column;
    without, Evidently's over the features alone."""
    log, reference = bike
    features = [*evidently["numerical"], *evidently["categorical"]]
    report = report_of(
        log, reference, features, output=evidently["output"], count_output=count_output, timestamp="dteday"
    )
    expected = evidently[run]
    assert [w.start[:7] for w in report.windows] == list(expected)
    for window, (month, theirs) in zip(report.windows, expected.items(), strict=True):
        results = {f.feature: f for f in window.features}
        results[evidently["output"]] = window.prediction
        for column, other in theirs["columns"].items():
            mine = results[column]
            assert (mine.method, mine.drifted) == (other["method"], other["drifted"]), f"{month} {column}"
            assert mine.statistic == pytest.approx(other["score"], rel=1e-6, abs=1e-12), f"{month} {column}"
        assert window.columns_compared == len(theirs["columns"]), month
        assert window.columns_drifted == theirs["count"], month
        assert window.share_drifted == theirs["share"], month
        assert window.dataset_drift == theirs["dataset_drift"], month


def test_without_the_output_three_months_change_their_verdict(evidently: dict) -> None:
    """Why the setting matters on this data: counting the output or not turns March, September and
    October from no dataset drift to dataset drift (in Evidently's figures alike)."""
    differ = [m for m in evidently["output_counted"] if evidently["output_counted"][m]["dataset_drift"] != evidently[
        "features_only"][m]["dataset_drift"]]  # fmt: skip
    assert differ == ["2012-03", "2012-09", "2012-10"]


# --------------------------------------------------------------------------- what the page says


def counted(report_update: dict) -> tuple[str, manifest.ModelVersion, manifest.Model]:
    built = make_manifest()
    model = built.model("credit-default")
    version = next(v for v in model.versions if v.version == "1.1.0")
    assert version.drift is not None
    drift = version.drift.model_copy(update=report_update)
    versions = [v.model_copy(update={"drift": drift}) if v is version else v for v in model.versions]
    model = model.model_copy(update={"versions": versions})
    built = built.model_copy(update={"models": [model if m.id == model.id else m for m in built.models]})
    version = next(v for v in model.versions if v.version == "1.1.0")
    page = next(p for p in render_pages(built) if p.path.endswith("credit-default/1.1.0/monitoring.md")).markdown
    return page, version, model


def test_the_page_says_the_output_is_counted_and_counts_it() -> None:
    page, version, model = counted({"share_counts_output": True})
    view = mv.monitoring_view(model, version)
    assert view is not None and view.output_counted and view.counted == "columns"
    latest = view.latest
    assert latest is not None and latest.window.prediction is not None
    features = [f for f in latest.window.features if f.statistic is not None]
    assert latest.evaluated == len(features) + 1
    output = mv.output_name(version)
    assert (output in latest.drifted) == latest.window.prediction.drifted
    text = " ".join(page.split())
    assert f"{len(latest.drifted)} of {latest.evaluated} columns, {output} included, drifted" in text
    assert f"The share counts {output} as one more column beside the features" in text
    assert "| Columns drifted |" in page


def test_the_page_says_the_output_is_not_counted_by_default() -> None:
    page, version, model = counted({})
    view = mv.monitoring_view(model, version)
    assert view is not None and not view.output_counted and view.counted == "features"
    text = " ".join(page.split())
    assert f"The share counts the features only: drift of {mv.output_name(version)} is judged on its own" in text
    assert "monitoring.drift.count_output: true" in text and "| Features drifted |" in page
