"""Performance estimated without outcomes, through the whole monitoring path: a reference evaluation,
a CSV log scanned by DuckDB into daily windows, outcomes for the first days only.

The estimate a window gets from its aggregate of the score must equal the estimate from its raw rows
(:func:`modelgov.monitoring.estimation.estimate_rows`, which the unit tests check against
simulations, scikit-learn and NannyML): that shows the scan counted the score on every calibration
knot and the threshold. Under covariate shift with known P(y | x) the realized values fall inside the
intervals; under concept shift the page's check says they do not.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit

from manifest_factory import make_manifest
from modelgov import manifest
from modelgov.analysis.evaluation import EvaluationColumns
from modelgov.analysis.resampling import Resampling
from modelgov.monitoring.aggregates import WindowSpec
from modelgov.monitoring.cbpe_calibration import calibrate, refit
from modelgov.monitoring.estimation import estimate_rows
from modelgov.monitoring.report import monitoring_report
from modelgov.monitoring.report_inputs import MonitoringInputs, Reference

COLUMNS = EvaluationColumns(label="label", prediction="pred", score="score", sensitive=(), positive_label=1)
RESAMPLING = Resampling(resamples=300, seed=3)
THRESHOLD = 0.5


def _scores(x: np.ndarray) -> np.ndarray:
    """A miscalibrated but monotone score of the true probability: calibration is needed."""
    return expit(1.7 * x - 0.4) ** 1.6


def _reference(rng: np.random.Generator, n: int = 4000) -> pd.DataFrame:
    x = rng.normal(0, 1, n)
    label = (rng.random(n) < expit(x)).astype(int)
    score = _scores(x)
    return pd.DataFrame({"label": label, "score": score, "pred": (score >= THRESHOLD).astype(int)})


def _log(
    tmp_path,
    rng: np.random.Generator,
    *,
    days: int,
    rows: int,
    labelled_days: int,
    concept_shift: float,
    slope: float = 1.0,
):
    """Day d's inputs drift (the mean of x moves); outcomes follow P(y | x) plus ``concept_shift`` on
    the log-odds, and with the log-odds' slope in x times ``slope``, from day 2 on; outcomes only
    for the first ``labelled_days`` days."""
    frames = []
    for day in range(days):
        x = rng.normal(0.15 * day, 1, rows)
        shift, steep = (concept_shift, slope) if day >= 2 else (0.0, 1.0)
        label = (rng.random(rows) < expit(steep * x + shift)).astype(int)
        stamp = pd.Timestamp("2026-08-03", tz="UTC") + pd.Timedelta(days=day) + pd.to_timedelta(np.arange(rows), "s")
        score = _scores(x)
        frames.append(
            pd.DataFrame(
                {"ts": stamp.strftime("%Y-%m-%dT%H:%M:%SZ"), "score": score, "pred": (score >= THRESHOLD).astype(int),
                 "label": label, "day": day}
            )
        )  # fmt: skip
    frame = pd.concat(frames, ignore_index=True)
    frame["id"] = np.arange(len(frame))
    frame[["ts", "id", "pred", "score"]].to_csv(tmp_path / "log.csv", index=False)
    frame.loc[frame["day"] < labelled_days, ["id", "label"]].to_csv(tmp_path / "truth.csv", index=False)
    return frame


def _report(tmp_path, reference: pd.DataFrame, *, threshold=THRESHOLD, task="binary_classification"):
    inputs = MonitoringInputs(
        logs=[tmp_path / "log.csv"], timestamp="ts", features=[], log_output="score", reference_output="score",
        window=WindowSpec("day"), window_label="day", overrides={}, dataset_share=0.5, log_id="id",
        log_prediction="pred", log_score="score", truth=tmp_path / "truth.csv", truth_id="id", truth_label="label",
        resampling=RESAMPLING, threshold=threshold,
    )  # fmt: skip
    table = Reference(
        load=reference.__getitem__, columns=frozenset(reference.columns), kind="evaluation", name="holdout"
    )
    return monitoring_report(inputs, table, task=task, columns=COLUMNS)


@pytest.fixture(scope="module")
def covariate(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("covariate")
    rng = np.random.default_rng(21)
    reference = _reference(rng)
    frame = _log(tmp_path, rng, days=8, rows=1500, labelled_days=5, concept_shift=0.0)
    return reference, frame, _report(tmp_path, reference)


def test_every_window_is_estimated_from_its_aggregate_exactly_as_from_its_rows(covariate) -> None:
    reference, frame, report = covariate
    assert report.estimation is not None and report.estimation.estimated
    assert report.estimation.calibration == "isotonic" and report.estimation.threshold == THRESHOLD
    calibration = calibrate(reference["label"].to_numpy(), reference["score"].to_numpy(), seed=RESAMPLING.seed)
    refits = refit(calibration, reference["label"].to_numpy(), reference["score"].to_numpy(), RESAMPLING)
    assert len(report.windows) == 8
    for day, window in enumerate(report.windows):
        rows = frame[frame["day"] == day]
        direct = estimate_rows(
            calibration, rows["score"].to_numpy(), rows["score"].to_numpy() >= THRESHOLD,
            resampling=RESAMPLING, reference=refits,
        )  # fmt: skip
        assert window.estimated is not None and window.estimated.rows == len(rows)
        got = {m.name: m for m in window.estimated.metrics}
        for name in ("accuracy", "precision", "recall", "f1"):
            assert got[name].value == pytest.approx(direct.metrics[name].value, abs=1e-9), (day, name)
        # ROC AUC from cells lies at or below the row-level value, within the stated resolution
        gap = direct.metrics["roc_auc"].value - got["roc_auc"].value
        assert -1e-12 <= gap <= window.estimated.roc_auc_resolution + 1e-12


def test_windows_with_outcomes_set_the_estimate_beside_the_realized_value(covariate) -> None:
    _, frame, report = covariate
    labelled = [w for w in report.windows if w.labelled_rows]
    assert len(labelled) == 5 and all(not w.estimate_checks for w in report.windows[5:])
    inside = 0
    for day, window in enumerate(labelled):
        rows = frame[frame["day"] == day]
        checks = {c.name: c for c in window.estimate_checks}
        realized = {m.name: m.value for m in window.performance}
        truth = (rows["label"] == rows["pred"]).mean()
        assert checks["accuracy"].realized == pytest.approx(truth) == pytest.approx(realized["accuracy"])
        inside += sum(not c.disagrees for c in checks.values())
    # covariate shift only: P(y | x) holds, so the realized values fall inside nearly every interval
    assert inside >= 23  # of 25 (5 days × 5 metrics)


def test_concept_shift_is_caught_where_outcomes_arrive(tmp_path) -> None:
    rng = np.random.default_rng(8)
    reference = _reference(rng)
    _log(tmp_path, rng, days=6, rows=1500, labelled_days=6, concept_shift=-1.2)
    report = _report(tmp_path, reference)
    before = [[c.name for c in w.estimate_checks if c.disagrees] for w in report.windows[:2]]
    after = [{c.name for c in w.estimate_checks if c.disagrees} for w in report.windows[2:]]
    assert before == [[], []]
    # fewer positives than the scores promise: precision and F1 fall outside in every shifted day (accuracy,
    # which counts both kinds of error, may not move: in 2 of these 4 days it stayed inside)
    assert all({"precision", "f1"} <= found for found in after)


def test_the_report_says_why_nothing_is_estimated(tmp_path) -> None:
    rng = np.random.default_rng(2)
    reference = _reference(rng, 1000)
    _log(tmp_path, rng, days=2, rows=300, labelled_days=1, concept_shift=0.0)
    no_threshold = _report(tmp_path, reference, threshold=None)
    assert no_threshold.estimation == manifest.PerformanceEstimation(
        estimated=False, reason="the evaluation declares no decision threshold (evaluations[].threshold)"
    )
    assert all(w.estimated is None and not w.estimate_checks for w in no_threshold.windows)
    no_outcomes = _report(tmp_path, reference.drop(columns=["label"]))
    assert "not an evaluation with outcomes and scores" in no_outcomes.estimation.reason


def test_a_score_compared_as_categories_keeps_its_drift_and_is_not_estimated(tmp_path) -> None:
    """A score of whole numbers (0 or 1) is inferred categorical by the drift, as Evidently infers it.
    The scan counts a column one way: counting it as numbers for the estimate left the drift's
    categorical pass without it, and every window's output drift read "no rows" (never drifted)."""
    rng = np.random.default_rng(5)
    reference = _reference(rng, 1000)
    reference["score"] = (reference["score"] >= THRESHOLD).astype(int)
    frame = _log(tmp_path, rng, days=3, rows=300, labelled_days=1, concept_shift=0.0)
    log = pd.read_csv(tmp_path / "log.csv")
    log["score"] = (log["score"] >= THRESHOLD).astype(int)
    log.to_csv(tmp_path / "log.csv", index=False)
    report = _report(tmp_path, reference)
    assert not report.estimation.estimated
    assert "compares the score column (score) as categories" in report.estimation.reason
    assert all(w.estimated is None and not w.estimate_checks for w in report.windows)
    for day, window in enumerate(report.windows):
        output = window.prediction
        assert output.kind == "categorical" and output.rows == len(frame[frame["day"] == day]) == 300
        # two categories on small samples: Evidently's rule picks the two-proportion z-test, whose
        # p-value is the statistic shown
        from statsmodels.stats.proportion import proportions_ztest

        positives = [int(reference["score"].sum()), int(log[frame["day"] == day]["score"].sum())]
        _, p_value = proportions_ztest(positives, [len(reference), 300])
        assert output.method == "z" and output.statistic == pytest.approx(p_value, rel=1e-9)


def test_the_monitoring_page_states_the_assumption_and_flags_the_disagreeing_windows(tmp_path) -> None:
    from modelgov.render.pages import render_pages

    rng = np.random.default_rng(8)
    reference = _reference(rng)
    _log(tmp_path, rng, days=6, rows=1500, labelled_days=4, concept_shift=-1.2)
    report = _report(tmp_path, reference)
    built = make_manifest()
    model = built.models[0]
    version = model.versions[-1].model_copy(update={"drift": report})
    built.models[0] = model.model_copy(update={"versions": [*model.versions[:-1], version]})
    pages = {p.path: p.markdown for p in render_pages(built)}
    page = next(text for path, text in pages.items() if path.endswith(f"{version.version}/monitoring.md"))
    section = page.split("## Performance estimated before the outcomes arrive", 1)[1]
    assert "What the estimate assumes" in section and "no concept drift" in section
    assert "calibrated" in section and "isotonic regression" in section
    assert "outside" in section  # the disagreeing windows are named in the table
    assert "**Estimated performance**" in page
    # days 2 and 3 have outcomes and the shifted relation: two in a row, named, beside what chance gives
    assert "realized values fell outside the interval estimated for the same records" in page
    assert "by chance alone about 1 would" in page
    assert (
        "**Every day with outcomes since 2026-08-05** (2 in a row) has at least one of the five metrics outside" in page
    )
    # fewer positives than the scores promise: precision falls below its interval, recall above it
    assert "may be off in either direction" in page
    assert "none yet" in section  # the days without outcomes: the estimate is all there is
    # every miss the count covers can be found: those of metrics the table leaves out are listed under it
    labels = {m.name: m.label for w in report.windows if w.estimated for m in w.estimated.metrics}
    unshown = [
        (w.start[:10], labels[c.name])
        for w in report.windows
        for c in w.estimate_checks
        if c.disagrees and c.name not in ("roc_auc", "accuracy")
    ]
    assert unshown and f"in the metrics this table leaves out ({len(unshown)} of the" in section
    for day, label in unshown:
        assert f"{day}, {label} " in section, (day, label)


def test_policies_read_the_latest_estimate_and_the_windows_where_outcomes_contradicted_it(tmp_path) -> None:
    import datetime as dt

    from modelgov.policy.evidence_index import evidence_index

    rng = np.random.default_rng(8)
    reference = _reference(rng)
    _log(tmp_path, rng, days=6, rows=1500, labelled_days=4, concept_shift=-1.2)
    report = _report(tmp_path, reference)
    built = make_manifest()
    model = built.models[0]
    version = model.versions[-1].model_copy(update={"drift": report})
    index = evidence_index(model, version, dt.date(2026, 8, 20))
    latest = {m.name: m for m in report.windows[-1].estimated.metrics}  # the last day: no outcomes, an estimate
    assert index["monitoring.estimated.accuracy"].value == latest["accuracy"].value
    assert index["monitoring.estimated.roc_auc.ci_low"].value == latest["roc_auc"].interval.low
    assert index["monitoring.estimated.accuracy"].page.endswith("#performance-estimated-before-the-outcomes-arrive")
    outside = sum(c.disagrees for w in report.windows for c in w.estimate_checks if c.name == "precision")
    assert index["monitoring.estimate_outside.precision"].value == outside == 2  # the two shifted days with outcomes
    unestimated = version.model_copy(
        update={"drift": report.model_copy(update={"estimation": manifest.PerformanceEstimation(estimated=False)})}
    )
    assert not any(
        p.startswith("monitoring.estimate") for p in evidence_index(model, unestimated, dt.date(2026, 8, 20))
    )


def test_without_a_concept_shift_the_page_says_the_misses_are_what_chance_gives(covariate) -> None:
    from modelgov.render.pages import render_pages

    _, _, report = covariate
    built = make_manifest()
    model = built.models[0]
    version = model.versions[-1].model_copy(update={"drift": report})
    built.models[0] = model.model_copy(update={"versions": [*model.versions[:-1], version]})
    page = next(p.markdown for p in render_pages(built) if p.path.endswith(f"{version.version}/monitoring.md"))
    outside = sum(c.disagrees for w in report.windows for c in w.estimate_checks)
    assert f"{outside} of 25 realized values fell outside" in page
    assert "Not more than chance would give: no sign that the estimates are off." in page


@pytest.mark.slow
@pytest.mark.spark
def test_the_spark_engine_gives_every_window_the_same_estimate(covariate, tmp_path_factory) -> None:
    """The estimate rests on the scan's aggregate of the score; Spark's aggregates are DuckDB's, so
    are the estimates (and the checks, from the same labelled records)."""
    import shutil
    import signal

    pytest.importorskip("pyspark", reason="the Spark engine test needs PySpark: pip install 'modelgov[spark]'")
    if shutil.which("java") is None:
        pytest.skip("the Spark engine test needs Java 17+ on the PATH")
    from modelgov.monitoring.report_inputs import SparkEngine

    reference, frame, duck = covariate
    tmp_path = tmp_path_factory.mktemp("spark-estimate")
    frame[["ts", "id", "pred", "score"]].to_csv(tmp_path / "log.csv", index=False)
    frame.loc[frame["day"] < 5, ["id", "label"]].to_csv(tmp_path / "truth.csv", index=False)
    interrupt = signal.getsignal(signal.SIGINT)
    try:
        inputs = MonitoringInputs(
            logs=[str(tmp_path / "log.csv")], timestamp="ts", features=[], log_output="score",
            reference_output="score", window=WindowSpec("day"), window_label="day", overrides={}, dataset_share=0.5,
            log_id="id", log_prediction="pred", log_score="score", truth=tmp_path / "truth.csv", truth_id="id",
            truth_label="label", resampling=RESAMPLING, threshold=THRESHOLD,
            spark=SparkEngine("local[2]", {"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "4"}),
        )  # fmt: skip
        table = Reference(
            load=reference.__getitem__, columns=frozenset(reference.columns), kind="evaluation", name="holdout"
        )
        spark = monitoring_report(inputs, table, task="binary_classification", columns=COLUMNS)
    finally:
        signal.signal(signal.SIGINT, interrupt)
    assert [w.estimated for w in spark.windows] == [w.estimated for w in duck.windows]
    assert [w.estimate_checks for w in spark.windows] == [w.estimate_checks for w in duck.windows]


def test_when_the_relation_weakens_the_page_says_the_estimates_are_too_optimistic(tmp_path) -> None:
    """Outcomes that follow the inputs less closely than on the reference: every metric is realized
    below its estimate, so the estimates of the days without outcomes are too optimistic."""
    from modelgov.render.pages import render_pages

    rng = np.random.default_rng(8)
    reference = _reference(rng)
    _log(tmp_path, rng, days=6, rows=1500, labelled_days=4, concept_shift=0.0, slope=0.25)
    report = _report(tmp_path, reference)
    outside = [c for w in report.windows for c in w.estimate_checks if c.disagrees]
    assert outside and all(c.realized < c.interval.low for c in outside)
    built = make_manifest()
    model = built.models[0]
    version = model.versions[-1].model_copy(update={"drift": report})
    built.models[0] = model.model_copy(update={"versions": [*model.versions[:-1], version]})
    page = next(p.markdown for p in render_pages(built) if p.path.endswith(f"{version.version}/monitoring.md"))
    assert "probably too optimistic: every value outside its interval fell below it" in page
