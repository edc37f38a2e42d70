"""Business KPIs per monitoring window (monitoring/kpis.py and its kpi_* modules), checked against independent computations.

* the DuckDB statistics equal pandas' on the raw log, outcomes joined by id included, windows without
  records kept as gaps, windows of N records cut as the drift scan cuts them;
* the intervals equal statsmodels' (Student's t, Wilson) and, for a ratio of sums, the delta-method
  variance computed with scipy's numerical gradient and numpy's covariance matrix;
* a simulation with known truth covers the true value in about 95 % of windows;
* bad input stops with the file and the column (or the key and line of model.yml), never a traceback;
* the demo: credit losses miss their target in the downturn weeks, the churn KPI stays level with its
  control group while accuracy holds, and the pages and policies say so.
"""

from __future__ import annotations

import dataclasses
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import optimize, stats

from modelgov import manifest
from modelgov.errors import WorkspaceError
from modelgov.monitoring.aggregates import WindowSpec
from modelgov.monitoring.kpi_definitions import KpiSpec, Measure, Statistics
from modelgov.monitoring.kpi_scan import kpi_windows
from modelgov.monitoring.kpis import kpi_series, measure, wilson
from modelgov.monitoring.logsource import ScanError
from modelgov.monitoring.scan import scan_windows
from modelgov.workspace.load import load_workspace

START = pd.Timestamp("2026-08-03T00:00:00Z")


def simulated_log(folder: Path, *, n: int = 4000, seed: int = 5, text_ids: bool = False) -> tuple[Path, Path]:
    """Four weeks (the third empty): an amount with missing values, a 0/1 flag, a baseline flag filled
    on half the records, and outcomes for two records in three with a loss and an exposure."""
    rng = np.random.default_rng(seed)
    week = rng.choice([0, 1, 3], size=n)
    stamps = START + pd.to_timedelta(week * 7 * 86400 + rng.integers(0, 7 * 86400, n), unit="s")
    amount = rng.gamma(2.0, 150.0, n)
    amount[rng.random(n) < 0.05] = np.nan
    amount[:3] = np.inf
    flag = (rng.random(n) < 0.1 + 0.05 * week).astype(float)
    handled = rng.random(n) < 0.5
    log = pd.DataFrame(
        {
            "ts": stamps.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "rid": np.arange(n),
            "amount": amount,
            "flag": flag.astype(bool),
            "rule_flag": np.where(handled, (rng.random(n) < 0.12).astype(float), np.nan),
        }
    )
    known = rng.choice(n, size=2 * n // 3, replace=False)
    exposure = rng.gamma(3.0, 100.0, len(known))
    loss = np.where(rng.random(len(known)) < 0.08, exposure * rng.beta(2, 5, len(known)), 0.0)
    loss[:5] = np.nan
    truth = pd.DataFrame({"rid": known, "loss": loss, "exposure": exposure})
    truth = pd.concat([truth, truth.iloc[:20]])  # a repeated row counts once
    if text_ids:
        truth["rid"] = truth["rid"].astype(str)
    log_path, truth_path = folder / "log.parquet", folder / "truth.parquet"
    log.to_parquet(log_path, index=False)
    truth.to_parquet(truth_path, index=False)
    return log_path, truth_path


SPECS = [
    KpiSpec("avg", Measure("mean", ("amount",)), "log", "higher", 280.0),
    KpiSpec("total", Measure("sum", ("amount",)), "log", "lower", 3.0e5),
    KpiSpec("flagged", Measure("rate", ("flag",)), "log", "lower", 0.15, baseline=Measure("rate", ("rule_flag",))),
    KpiSpec("loss", Measure("ratio", ("loss", "exposure")), "outcomes", "lower", 0.02, baseline_value=0.025),
]


def by_hand(log: pd.DataFrame, truth: pd.DataFrame, weeks: pd.Series) -> dict:
    """The statistics straight from the frames with pandas: week → measure → (n, missing, Σ, var…)."""
    truth = truth.drop_duplicates()
    truth = truth.assign(rid=truth["rid"].astype(str))
    joined = log.assign(rid=log["rid"].astype(str)).merge(truth, on="rid", how="left", indicator=True)
    out = {}
    for week, frame in joined.groupby(weeks.to_numpy()):
        amount = frame["amount"].replace([np.inf, -np.inf], np.nan)
        rule = frame["rule_flag"]
        matched = frame[frame["_merge"] == "both"]
        both = matched.dropna(subset=["loss", "exposure"])
        out[week] = {
            "amount": (amount.count(), amount.isna().sum(), amount.sum(), amount.var(ddof=1)),
            "flag": (len(frame), 0, frame["flag"].sum()),
            "rule_flag": (rule.count(), rule.isna().sum(), rule.sum()),
            "ratio": (
                len(both),
                len(matched) - len(both),
                both["loss"].sum(),
                both["loss"].var(ddof=1),
                both["exposure"].sum(),
                both["exposure"].var(ddof=1),
                np.cov(both["loss"], both["exposure"], ddof=1)[0, 1],
                len(matched),
            ),
        }
    return out


@pytest.mark.parametrize("text_ids", [False, True])
def test_duckdb_statistics_equal_pandas_on_the_raw_log(tmp_path: Path, text_ids: bool) -> None:
    log_path, truth_path = simulated_log(tmp_path, text_ids=text_ids)
    windows = kpi_windows(
        log_path, SPECS, timestamp="ts", window=WindowSpec("week"), log_id="rid", truth=truth_path, truth_id="rid"
    )
    log, truth = pd.read_parquet(log_path), pd.read_parquet(truth_path)
    weeks = ((pd.to_datetime(log["ts"]) - START).dt.days // 7).rename("week")
    expected = by_hand(log, truth, weeks)
    assert [w.start for w in windows] == [START + pd.Timedelta(weeks=k) for k in range(4)]
    assert windows[2].rows == 0 and windows[2].measures == {}  # the empty week: a gap, not zeros
    for k, window in enumerate(windows):
        if k == 2:
            continue
        hand = expected[k]
        assert window.rows == int((weeks == k).sum())
        mean = window.measures[Measure("mean", ("amount",))]
        assert (mean.n, mean.missing) == hand["amount"][:2]
        assert mean.total == pytest.approx(hand["amount"][2], rel=1e-12)
        assert mean.variance == pytest.approx(hand["amount"][3], rel=1e-9)
        rate = window.measures[Measure("rate", ("flag",))]
        assert (rate.n, rate.missing, rate.total) == hand["flag"]
        base = window.measures[Measure("rate", ("rule_flag",))]
        assert (base.n, base.missing, base.total) == hand["rule_flag"]
        ratio = window.measures[Measure("ratio", ("loss", "exposure"))]
        n, missing, sy, vy, sx, vx, cov, matched = hand["ratio"]
        assert (ratio.n, ratio.missing, window.matched) == (n, missing, matched)
        assert (ratio.total, ratio.total_x) == (pytest.approx(sy, rel=1e-12), pytest.approx(sx, rel=1e-12))
        assert ratio.variance == pytest.approx(vy, rel=1e-9)
        assert ratio.variance_x == pytest.approx(vx, rel=1e-9)
        assert ratio.covariance == pytest.approx(cov, rel=1e-9)


def test_row_windows_are_the_drift_scans_and_the_series_follows_the_report(tmp_path: Path) -> None:
    log_path, _ = simulated_log(tmp_path, n=2500)
    spec = WindowSpec("rows", rows=1000)
    windows = kpi_windows(log_path, SPECS[:3], timestamp="ts", window=spec)
    drift = scan_windows(log_path, timestamp="ts", window=spec, numeric=[], categorical=[])
    assert [w.rows for w in windows] == [w.rows for w in drift] == [1000, 1000, 500]
    assert [w.start for w in windows] == [w.start for w in drift]
    report_windows = [
        manifest.DriftWindow(start=f"{w.start:%Y-%m-%dT%H:%M:%SZ}", end=f"{w.end:%Y-%m-%dT%H:%M:%SZ}", rows=w.rows,
                             share_drifted=None, dataset_drift=False)
        for w in drift
    ]  # fmt: skip
    series = kpi_series(SPECS[:3], windows, report_windows, 0.95)
    flagged = next(s for s in series if s.name == "flagged")
    assert [w.status for w in flagged.windows] == ["measured"] * 3
    assert flagged.windows[0].baseline is not None and flagged.windows[0].against_baseline is not None
    assert flagged.latest == report_windows[-1].start


def test_windows_without_outcomes_say_so(tmp_path: Path) -> None:
    log_path, _ = simulated_log(tmp_path)
    log = pd.read_parquet(log_path)
    early = log[pd.to_datetime(log["ts"]) < START + pd.Timedelta(weeks=1)]
    truth = pd.DataFrame({"rid": early["rid"], "loss": 1.0, "exposure": 10.0})
    truth.to_parquet(tmp_path / "early.parquet", index=False)
    windows = kpi_windows(log_path, SPECS[3:], timestamp="ts", window=WindowSpec("week"), log_id="rid",
                          truth=tmp_path / "early.parquet", truth_id="rid")  # fmt: skip
    report = [
        manifest.DriftWindow(start=f"{w.start:%Y-%m-%dT%H:%M:%SZ}", end=f"{w.end:%Y-%m-%dT%H:%M:%SZ}", rows=w.rows,
                             share_drifted=None, dataset_drift=False)
        for w in windows
    ]  # fmt: skip
    (series,) = kpi_series(SPECS[3:], windows, report, 0.95)
    assert [w.status for w in series.windows] == ["measured", "no outcomes yet", "no records", "no outcomes yet"]
    assert series.windows[0].kpi.value == pytest.approx(0.1)
    assert series.windows[1].kpi is None and series.windows[1].outcome_rows == 0
    assert series.latest == report[0].start and series.meets_target is False and series.windows_missing_target == 1


# --------------------------------------------------------------------------- intervals


def stats_of(values: np.ndarray) -> Statistics:
    return Statistics(len(values), 0, float(values.sum()), float(values.var(ddof=1)) if len(values) > 1 else None)


def test_mean_and_sum_intervals_equal_statsmodels() -> None:
    from statsmodels.stats.weightstats import DescrStatsW

    rng = np.random.default_rng(1)
    for n in (2, 7, 40, 1000):
        x = rng.lognormal(3, 1, n)
        low, high = DescrStatsW(x).tconfint_mean(alpha=0.05)
        mean = measure("mean", stats_of(x), 0.95)
        assert mean.value == pytest.approx(x.mean(), rel=1e-12)
        assert (mean.interval.low, mean.interval.high) == (pytest.approx(low, rel=1e-9), pytest.approx(high, rel=1e-9))
        total = measure("sum", stats_of(x), 0.95)
        assert total.value == pytest.approx(x.sum(), rel=1e-12)
        assert total.interval.low == pytest.approx(n * low, rel=1e-9)
        assert total.interval.high == pytest.approx(n * high, rel=1e-9)
    single = measure("mean", stats_of(np.array([3.0])), 0.95)
    assert single.value == 3.0 and single.interval is None


def test_rate_interval_is_wilsons_as_statsmodels_computes_it() -> None:
    from statsmodels.stats.proportion import proportion_confint

    for k, n in [(0, 10), (1, 10), (5, 10), (10, 10), (3, 250), (137, 400), (999, 1000)]:
        rate = measure("rate", Statistics(n, 0, float(k)), 0.95)
        low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
        assert rate.value == k / n
        assert (rate.interval.low, rate.interval.high) == (
            pytest.approx(low, abs=1e-12),
            pytest.approx(high, abs=1e-12),
        )
    assert measure("rate", Statistics(0, 4), 0.95).value is None


def test_ratio_interval_is_the_delta_method_computed_independently() -> None:
    """Var(R̂) = ∇g' Σ ∇g / n with g(ȳ, x̄) = ȳ / x̄, the gradient taken numerically by scipy and Σ the
    sample covariance matrix of (y, x) from numpy."""
    rng = np.random.default_rng(2)
    x = rng.gamma(3.0, 100.0, 600)
    y = 0.04 * x + rng.normal(0, 5, 600)
    ratio = measure(
        "ratio",
        Statistics(600, 0, float(y.sum()), float(y.var(ddof=1)), float(x.sum()), float(x.var(ddof=1)),
                   float(np.cov(y, x, ddof=1)[0, 1])),
        0.95,
    )  # fmt: skip
    centre = np.array([y.mean(), x.mean()])
    gradient = optimize.approx_fprime(centre, lambda m: m[0] / m[1], 1e-6)
    se = math.sqrt(gradient @ np.cov(np.vstack([y, x]), ddof=1) @ gradient / 600)
    z = stats.norm.ppf(0.975)
    assert ratio.value == pytest.approx(y.sum() / x.sum(), rel=1e-12)
    assert ratio.stderr == pytest.approx(se, rel=1e-5)
    assert ratio.interval.low == pytest.approx(ratio.value - z * se, rel=1e-5)
    assert ratio.interval.high == pytest.approx(ratio.value + z * se, rel=1e-5)


def test_intervals_cover_the_known_truth_in_about_95_percent_of_windows() -> None:
    rng = np.random.default_rng(3)
    trials = 2000
    covered = {"mean": 0, "sum": 0, "rate": 0, "ratio": 0}
    for _ in range(trials):
        n = int(rng.integers(40, 400))
        x = rng.gamma(2.0, 50.0, n)  # mean 100
        mean = measure("mean", stats_of(x), 0.95).interval
        covered["mean"] += mean.low <= 100.0 <= mean.high
        total = measure("sum", stats_of(x), 0.95).interval
        covered["sum"] += total.low <= 100.0 * n <= total.high
        k = int(rng.binomial(n, 0.07))
        rate = measure("rate", Statistics(n, 0, float(k)), 0.95).interval
        covered["rate"] += rate.low <= 0.07 <= rate.high
        y = 0.05 * x + rng.normal(0, 2, n)  # E[y] / E[x] = 0.05
        s = Statistics(n, 0, float(y.sum()), float(y.var(ddof=1)), float(x.sum()), float(x.var(ddof=1)),
                       float(np.cov(y, x, ddof=1)[0, 1]))  # fmt: skip
        ratio = measure("ratio", s, 0.95).interval
        covered["ratio"] += ratio.low <= 0.05 <= ratio.high
    for name, count in covered.items():
        assert abs(count / trials - 0.95) < 0.015, (name, count / trials)


def test_the_difference_from_the_baseline_is_judged_by_its_interval() -> None:
    spec = SPECS[2]  # a rate, lower is better, with a baseline column
    k, b = measure("rate", Statistics(400, 0, 40.0), 0.95), measure("rate", Statistics(400, 0, 80.0), 0.95)
    window = kpi_series([spec], [], [], 0.95)
    assert window[0].windows == []
    from modelgov.monitoring.kpis import compare

    difference, interval, verdict = compare(k, b, spec, 0.95)
    se = math.sqrt(0.1 * 0.9 / 400 + 0.2 * 0.8 / 400)
    assert difference == pytest.approx(-0.1)
    assert interval.low == pytest.approx(-0.1 - stats.norm.ppf(0.975) * se)
    assert verdict == "better"  # lower is better
    assert compare(k, 0.105, spec, 0.95)[2] == "no clear difference"
    assert wilson(0, 10, 1.96)[0] == 0.0


# --------------------------------------------------------------------------- bad input


def test_a_rate_column_that_is_not_true_or_false_is_refused_with_file_and_column(tmp_path: Path) -> None:
    log_path, _ = simulated_log(tmp_path)
    log = pd.read_parquet(log_path)
    log["flag"] = log["flag"].map({True: "yes", False: "no"})
    log.loc[7, "flag"] = "maybe"
    log.to_csv(tmp_path / "log.csv", index=False)
    with pytest.raises(ScanError, match=r"log\.csv: column 'flag' holds 'maybe' that is not true or false"):
        kpi_windows(tmp_path / "log.csv", SPECS[2:3], timestamp="ts", window=WindowSpec("week"))


def test_an_id_with_two_different_outcome_rows_is_refused(tmp_path: Path) -> None:
    log_path, truth_path = simulated_log(tmp_path)
    truth = pd.read_parquet(truth_path)
    bad = truth.head(2).assign(exposure=1.0)
    pd.concat([truth, bad]).to_parquet(truth_path, index=False)
    with pytest.raises(ScanError, match=r"2 id\(s\) in column 'rid' have different values in 'loss', 'exposure'"):
        kpi_windows(log_path, SPECS[3:], timestamp="ts", window=WindowSpec("week"), log_id="rid",
                    truth=truth_path, truth_id="rid")  # fmt: skip


@pytest.fixture
def demo_copy(tmp_path: Path, demo_build) -> Path:
    target = tmp_path / "ws"
    shutil.copytree(demo_build.workspace, target)
    return target


def edit_card(workspace: Path, change) -> str:
    path = workspace / "models/credit-default/model.yml"
    card = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(card["business"]["kpis"])
    path.write_text(yaml.safe_dump(card, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return path.read_text(encoding="utf-8")


def problems_of(workspace: Path) -> list[str]:
    with pytest.raises(WorkspaceError) as caught:
        load_workspace(workspace)
    return [str(p) for p in caught.value.problems]


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_an_unknown_kpi_column_names_the_card_line_key_version_and_file(demo_copy: Path) -> None:
    def misspell(kpis):
        kpis[1]["definition"]["numerator"] = "loss_amont"
        kpis[0]["baseline"]["column"] = "scorecard"

    text = edit_card(demo_copy, misspell)
    problems = problems_of(demo_copy)
    numerator = next(p for p in problems if "loss_amont" in p)
    assert numerator.startswith(f"models/credit-default/model.yml:{line_of(text, 'loss_amont')}: ")
    assert "business.kpis[1].definition.numerator" in numerator
    assert "data/credit-default/monitoring/1.1-outcomes.parquet, the outcome table of version 1.1" in numerator
    assert "did you mean 'loss_amount'" in numerator
    baseline = next(p for p in problems if "'scorecard'" in p)
    assert "business.kpis[0].baseline.column" in baseline and "the log of version 1.1" in baseline


def test_a_ratio_without_denominator_and_a_bad_aggregation_are_schema_errors(demo_copy: Path) -> None:
    def break_it(kpis):
        del kpis[1]["definition"]["denominator"]
        kpis[0]["definition"]["aggregation"] = "median"

    text = edit_card(demo_copy, break_it)
    problems = problems_of(demo_copy)
    ratio = next(p for p in problems if "denominator" in p)
    assert re.match(r"models/credit-default/model\.yml:\d+: business\.kpis\[1\]\.definition", ratio)
    assert "a ratio needs denominator" in ratio
    aggregation = next(p for p in problems if "median" in p or "aggregation" in p)
    assert aggregation.startswith(f"models/credit-default/model.yml:{line_of(text, 'median')}: ")


# --------------------------------------------------------------------------- the demo


def demo_manifest(demo_build) -> manifest.Manifest:
    return manifest.read(demo_build.site / "manifest.json")


def test_the_demo_credit_model_misses_one_kpi_in_the_downturn_weeks(demo_build) -> None:
    built = demo_manifest(demo_build)
    credit = built.model("credit-default")
    version = next(v for v in credit.versions if v.version == "1.1")
    assert [k.name for k in credit.business.kpis] == ["approval_rate", "loss_rate"]
    series = {s.name: s for s in version.drift.kpis}
    assert series["approval_rate"].meets_target is True
    losses = series["loss_rate"]
    assert losses.meets_target is False and losses.windows_missing_target >= 3
    statuses = [w.status for w in losses.windows]
    assert statuses[-3:] == ["no outcomes yet"] * 3  # the last weeks' outcomes have not arrived
    early = [w for w in losses.windows[:8] if w.status == "measured"]
    assert all(w.meets_target for w in early)  # on target before the downturn

    from modelgov.policy.evidence_index import evidence_index

    index = evidence_index(credit, version, __import__("datetime").date(2026, 11, 24))
    assert index["kpis.loss_rate.meets_target"].value is False
    assert index["kpis.loss_rate.latest"].value == pytest.approx(losses.latest_value)
    assert index["kpis.loss_rate.baseline"].value == 0.038
    assert index["kpis.approval_rate.latest.ci_low"].value > 0.6
    assert index["kpis.loss_rate.latest"].page.endswith("monitoring.html#business-kpis")


def test_the_demo_churn_kpi_does_not_move_while_accuracy_holds(demo_build) -> None:
    from modelgov.render.kpi_views import kpi_views

    built = demo_manifest(demo_build)
    churn = built.model("customer-churn")
    version = next(v for v in churn.versions if v.drift is not None and v.drift.kpis)
    (view,) = kpi_views(churn, version)
    assert view.accuracy is not None and view.flat and view.flat_while_accurate
    assert view.verdict == "misses"
    page = (demo_build.site / f"models/customer-churn/{version.version}/monitoring.html").read_text(encoding="utf-8")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert "Business KPIs" in text
    # against a baseline the warning says what it measured: no better than the baseline (the KPI itself fell)
    assert f"Accurate, but {view.kpi.title} is no better than its baseline" in text
    # the claim is scoped to the measure it rests on: the page's summary may find other measures worse
    assert f"By {view.accuracy[0]}, the model predicts as well as it was validated to" in text
    assert "Flagged customers retained after a call" in text
    card = (demo_build.site / f"models/customer-churn/{version.version}/index.html").read_text(encoding="utf-8")
    assert "mg-outcome--fail" in card and "Flagged customers retained after a call:" in card
    assert "does not move" in card  # the badge beside the KPI's line
    home = (demo_build.site / "index.html").read_text(encoding="utf-8")
    assert "Credit losses:" in home and "misses its target" in home and "Approval rate:" in home


def test_the_kpi_line_says_when_the_model_no_longer_predicts_as_validated(demo_build) -> None:
    """ "Although the model predicts as validated" rests on the median over every week with outcomes,
    which can hide the last few: when the latest three weeks fall short, the line and the warning
    say the model predicted as validated before them, not that it still does."""
    from modelgov.render.kpi_views import RECENT_WINDOWS, kpi_views
    from modelgov.render.pages import render_pages

    built = demo_manifest(demo_build)
    churn = built.model("customer-churn")
    version = next(v for v in churn.versions if v.drift is not None and v.drift.kpis)
    (view,) = kpi_views(churn, version)
    assert view.accuracy.holds_recently  # the demo's latest weeks are as validated
    windows = list(version.drift.windows)
    # two of the latest three weeks fall well short: their median does, the median over all 13 does not
    for i in [i for i, w in enumerate(windows) if w.labelled_rows][-(RECENT_WINDOWS - 1) :]:
        performance = [
            m.model_copy(update={"value": 0.70}) if m.name == "accuracy" else m for m in windows[i].performance
        ]
        windows[i] = windows[i].model_copy(update={"performance": performance})
    degraded = version.model_copy(update={"drift": version.drift.model_copy(update={"windows": windows})})
    (view,) = kpi_views(churn, degraded)
    assert view.flat_while_accurate and not view.accuracy.holds_recently and view.accuracy.recent == 0.70
    assert view.accuracy.left_out == 0 and all(w.labelled_rows >= 30 for w in windows if w.labelled_rows)
    assert view.summary().endswith(
        f"although the model predicted as validated before its latest {RECENT_WINDOWS} weeks with outcomes"
    )

    # a latest week with a handful of outcomes cannot say that on its own: it is left out, and said to be.
    # The four latest weeks set to 0.85, 0.85, 0.70 and, on 5 records, 0: counted, the tiny week makes
    # two of the latest three fall short (median 0.70); left out, the latest three are 0.85, 0.85, 0.70
    small = list(version.drift.windows)
    labelled = [i for i, w in enumerate(small) if w.labelled_rows]
    for i, value in zip(labelled[-4:], (0.85, 0.85, 0.70, 0.0), strict=True):
        performance = [
            m.model_copy(update={"value": value}) if m.name == "accuracy" else m for m in small[i].performance
        ]
        small[i] = small[i].model_copy(update={"performance": performance})
    small[labelled[-1]] = small[labelled[-1]].model_copy(update={"labelled_rows": 5})
    few = version.model_copy(update={"drift": version.drift.model_copy(update={"windows": small})})
    (view,) = kpi_views(churn, few)
    assert view.accuracy.recent == 0.85 >= view.accuracy.bound > 0.70
    assert view.accuracy.holds_recently and view.accuracy.left_out == 1
    page = next(
        p.markdown
        for p in render_pages(
            built.model_copy(
                update={
                    "models": [
                        churn.model_copy(
                            update={"versions": [few if v.version == version.version else v for v in churn.versions]}
                        )
                        if m.id == churn.id
                        else m
                        for m in built.models
                    ]
                }
            )
        )
        if p.path == f"models/customer-churn/{version.version}/monitoring.md"
    )
    assert "1 week with fewer than 30 records with outcomes is left out, too few to tell" in page


def test_the_one_line_summary_gives_the_interval_the_records_and_whether_chance_could_explain_it(demo_build) -> None:
    """The line on the card and the inventory says how firmly: the latest value's interval and its
    record count, and, when that interval reaches the target, that the verdict could be chance."""
    from modelgov.render.kpi_views import interval_text, kpi_views

    built = demo_manifest(demo_build)
    credit = built.model("credit-default")
    version = next(v for v in credit.versions if v.drift is not None and v.drift.kpis)
    views = {view.kpi.name: view for view in kpi_views(credit, version)}
    losses = views["loss_rate"]
    latest = losses.latest.window.kpi
    line = losses.summary()
    window = losses.latest.window
    assert latest.count < window.outcome_rows  # a loss rate counts only the loans granted
    assert (
        f"(95% interval {interval_text(losses.kpi, latest)}, computed on the {latest.count:,} of the "
        f"{window.outcome_rows:,} records with outcomes that have every column it reads; target at most 4.00 %)"
    ) in line
    assert losses.clearly and "could lie on either side" not in line
    # the same week with an interval that reaches the target: the verdict stands, with its caveat
    wide = latest.model_copy(update={"interval": latest.interval.model_copy(update={"low": 0.035})})
    row = losses.latest
    moved = dataclasses.replace(row, window=row.window.model_copy(update={"kpi": wide}))
    widened = dataclasses.replace(losses, rows=[moved if r is row else r for r in losses.rows])
    assert not widened.clearly
    assert widened.summary().endswith("though its interval reaches the target: it could lie on either side by chance")


def test_the_week_by_week_table_is_a_table_and_marks_a_small_baseline(demo_build) -> None:
    """The churn KPI's table is rendered (it sat in an HTML block and reached the page as raw Markdown),
    gives the records each value was computed on against those in the log, and marks a week whose
    baseline (the customers not called) rests on fewer than 30 records, as its legend says."""
    from modelgov.render.kpi_views import SMALL_WINDOW, kpi_views

    built = demo_manifest(demo_build)
    churn = built.model("customer-churn")
    version = next(v for v in churn.versions if v.drift is not None and v.drift.kpis)
    (view,) = kpi_views(churn, version)
    small = [r for r in view.rows if r.window.baseline is not None and 0 < r.window.baseline.count < SMALL_WINDOW]
    assert small and all(r.small_baseline for r in small)
    page = (demo_build.site / f"models/customer-churn/{version.version}/monitoring.html").read_text(encoding="utf-8")
    section = page[page.index("week by week") :]
    table = section[: section.index("</table>")]
    assert "|---|" not in table and "<td>" in table
    first = small[0].window
    cells = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", table))
    assert f"{first.kpi.count:,} of {first.outcome_rows:,} with outcomes, {first.rows:,} in the log" in cells
    assert f"{first.baseline.count:,} records, small" in cells
