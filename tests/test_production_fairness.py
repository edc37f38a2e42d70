"""Fairness in production: per-window group counts from the log (DuckDB) against pandas on the raw
log, disparities against fairlearn, estimated group rates against CBPE on each group's raw rows,
and a shift in one group's outcomes visible in that group's realized rate."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import MetricFrame, demographic_parity_ratio, selection_rate, true_positive_rate

from modelgov.analysis.disparity import SummaryRules
from modelgov.analysis.resampling import Resampling
from modelgov.monitoring import group_scan
from modelgov.monitoring.aggregates import WindowSpec
from modelgov.monitoring.estimated import prepare
from modelgov.monitoring.estimation import estimate_rows
from modelgov.monitoring.group_scan import scan_groups
from modelgov.monitoring.outcome_scan import scan_outcomes
from modelgov.monitoring.production_fairness import Collector, Settings, _estimated, _selection

WEEKS = 4


def _log(rng: np.random.Generator, shift_group: str | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    n = 4000
    week = rng.integers(0, WEEKS, n)
    stamps = pd.Timestamp("2026-08-03T00:00:00Z") + pd.to_timedelta(
        week * 7 * 86400 + rng.integers(0, 7 * 86400, n), "s"
    )
    sex = rng.choice(["F", "M", None], size=n, p=[0.48, 0.49, 0.03])
    x = rng.normal(0, 1, n)
    truth_p = 1 / (1 + np.exp(-(-0.5 + 1.5 * x)))
    score = np.clip(truth_p + rng.normal(0, 0.02, n), 0, 1).round(3)
    if shift_group is not None:  # in the last week, that group's outcomes no longer follow the score
        shifted = (week == WEEKS - 1) & (sex == shift_group)
        truth_p = np.where(shifted, 1 / (1 + np.exp(-(-2.5 + 1.5 * x))), truth_p)
    y = (rng.random(n) < truth_p).astype(int)
    log = pd.DataFrame({"ts": stamps.strftime("%Y-%m-%dT%H:%M:%SZ"), "id": np.arange(n), "sex": sex,
                        "prediction": (score >= 0.5).astype(int), "score": score})  # fmt: skip
    return log, pd.DataFrame({"id": np.arange(n), "y": y, "week": week})


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    log, truth = _log(np.random.default_rng(5))
    folder = tmp_path_factory.mktemp("pf")
    log.to_parquet(folder / "log.parquet")
    truth[["id", "y"]].to_parquet(folder / "truth.parquet")
    return folder, log, truth


def _groups(values: pd.Series) -> pd.Series:
    return values.fillna("(missing)")


def test_group_counts_equal_pandas_on_the_raw_log(data) -> None:
    folder, log, truth = data
    edges = np.array([0.2, 0.5, 0.8])
    windows = scan_groups(folder / "log.parquet", timestamp="ts", window=WindowSpec("week"), groups=["sex"],
                          prediction="prediction", positive_label=1, score="score", edges=edges)  # fmt: skip
    assert len(windows) == WEEKS
    frame = log.assign(week=truth["week"], g=_groups(log["sex"]))
    for index, window in enumerate(windows):
        counts = window.features["sex"]
        part = frame[frame.week == index]
        assert window.rows == len(part)
        for i, label in enumerate(counts.labels):
            rows = part[part.g == label]
            assert counts.rows[i] == len(rows)
            assert counts.positives[i] == int((rows.prediction == 1).sum())
            aggregate = counts.score(i)
            assert aggregate.between[0] == int((rows.score < 0.2).sum())
            assert aggregate.at[1] == int((rows.score == 0.5).sum())
            assert aggregate.between[2] == int(((rows.score > 0.5) & (rows.score < 0.8)).sum())
            inner = rows.score[(rows.score > 0.2) & (rows.score < 0.5)]
            assert aggregate.between_sum[1] == pytest.approx(inner.sum())


def test_selection_disparities_equal_fairlearn(data) -> None:
    folder, log, truth = data
    windows = scan_groups(folder / "log.parquet", timestamp="ts", window=WindowSpec("week"), groups=["sex"],
                          prediction="prediction", positive_label=1)  # fmt: skip
    counts = windows[0].features["sex"]
    present = [i for i, n in enumerate(counts.rows) if n > 0]
    rules = SummaryRules(min_size=30)
    snapshot = _selection(counts, present, rules, Resampling(resamples=200, seed=1))
    part = log[truth.week == 0]
    kept = part[part.sex.notna()]  # the (missing) group is too small (under 30), so left out
    ratio = next(
        d for d in snapshot.disparities if d.name == "demographic_parity_ratio" and d.method == "between_groups"
    )
    expected = demographic_parity_ratio(kept.prediction, kept.prediction, sensitive_features=kept.sex)
    assert ratio.value == pytest.approx(expected)
    assert [e.group for e in ratio.excluded] == ["(missing)"]
    frame = MetricFrame(metrics=selection_rate, y_true=part.prediction, y_pred=part.prediction,
                        sensitive_features=_groups(part.sex))  # fmt: skip
    for group in snapshot.groups:
        assert group.metrics["selection_rate"] == pytest.approx(frame.by_group[group.group])
    assert ratio.interval is not None and ratio.interval.low <= ratio.value <= ratio.interval.high


def test_realized_rates_and_a_shift_in_one_group(tmp_path) -> None:
    log, truth = _log(np.random.default_rng(9), shift_group="F")
    log.to_parquet(tmp_path / "log.parquet")
    truth[["id", "y"]].to_parquet(tmp_path / "truth.parquet")
    settings = Settings(("sex",), 30, True, Resampling(resamples=0), 1)
    collector = Collector(settings, ["sex"], [], None)
    for window in scan_outcomes(tmp_path / "log.parquet", timestamp="ts", window=WindowSpec("week"), log_id="id",
                                truth=tmp_path / "truth.parquet", truth_id="id", truth_label="y",
                                prediction="prediction", score="score", groups=["sex"]):  # fmt: skip
        collector.add_outcomes(window)
    windows = scan_groups(tmp_path / "log.parquet", timestamp="ts", window=WindowSpec("week"), groups=["sex"],
                          prediction="prediction", positive_label=1)  # fmt: skip
    (result,) = collector.finish(windows)
    joined = log.merge(truth, on="id")
    tprs = []
    for index, window in enumerate(result.windows):
        part = joined[(joined.week == index) & joined.sex.notna()]
        frame = MetricFrame(
            metrics=true_positive_rate, y_true=part.y, y_pred=part.prediction, sensitive_features=part.sex
        )
        by_group = {g.group: g for g in window.realized.groups}
        for sex in ("F", "M"):
            assert by_group[sex].metrics["tpr"] == pytest.approx(frame.by_group[sex])
        tprs.append(by_group["F"].metrics["precision"])
    # F's outcomes became rarer for the same scores in the last week: its realized precision falls
    assert tprs[-1] < min(tprs[:-1]) - 0.15


def test_estimated_group_rates_equal_cbpe_on_each_groups_rows(data) -> None:
    folder, log, truth = data
    rng = np.random.default_rng(2)
    ref_x = rng.normal(0, 1, 3000)
    ref_p = 1 / (1 + np.exp(-(-0.5 + 1.5 * ref_x)))
    estimator, _ = prepare(labels=(rng.random(3000) < ref_p).astype(np.int64), scores=ref_p.round(3), threshold=0.5,
                           score_column="score", resampling=Resampling(resamples=0), reference_rows=3000)  # fmt: skip
    windows = scan_groups(folder / "log.parquet", timestamp="ts", window=WindowSpec("week"), groups=["sex"],
                          prediction="prediction", positive_label=1, score="score", edges=estimator.edges)  # fmt: skip
    counts = windows[1].features["sex"]
    snapshot = _estimated(counts, list(range(len(counts.labels))), SummaryRules(min_size=30), estimator)
    part = log[truth.week == 1]
    for group in snapshot.groups:
        rows = part[_groups(part.sex) == group.group]
        direct = estimate_rows(estimator.calibration, rows.score.to_numpy(), rows.score.to_numpy() >= 0.5,
                               resampling=Resampling(resamples=0))  # fmt: skip
        e = direct.expected
        assert group.metrics["tpr"] == pytest.approx(e["tp"] / (e["tp"] + e["fn"]), abs=1e-9)
        assert group.metrics["fpr"] == pytest.approx(e["fp"] / (e["fp"] + e["tn"]), abs=1e-9)
        assert group.metrics["precision"] == pytest.approx(direct.metrics["precision"].value, abs=1e-9)
    assert all(d.interval is None for d in snapshot.disparities)


def test_a_group_respelt_in_the_log_to_look_like_another_is_refused(tmp_path) -> None:
    """The log's twin of the evaluation's check: some F records written "F\u200b" would be a group of
    their own that reads as F, perhaps too small to be measured; the scan refuses the column."""
    from modelgov.monitoring.logsource import ScanError

    log, _ = _log(np.random.default_rng(6))
    log.loc[log.index[log["sex"] == "F"][:30], "sex"] = "F\u200b"
    log.to_parquet(tmp_path / "log.parquet")
    with pytest.raises(ScanError, match=r"column 'sex': 1 set\(s\) of groups look alike") as caught:
        scan_groups(tmp_path / "log.parquet", timestamp="ts", window=WindowSpec("week"), groups=["sex"],
                    prediction="prediction", positive_label=1)  # fmt: skip
    assert "log.parquet" in str(caught.value) and "'F\\u200b'" in str(caught.value)


# --------------------------------------------------------------------------- too many groups


@pytest.mark.parametrize(("distinct", "kept"), [(100, True), (101, False), (4000, False)])
def test_a_column_with_more_than_100_values_is_not_counted_as_groups(
    data, tmp_path, monkeypatch, distinct, kept
) -> None:
    """A column with a value per record (an id logged as a sensitive feature) was counted in full in
    every window until the end of the scan: its counts grew with the log. It is now dropped from the
    batch where it passes 100 groups, and the feature reported as not measured."""
    folder, log, _truth = data
    wide = log.assign(code=[f"c{i % distinct}" for i in range(len(log))])
    wide.to_parquet(tmp_path / "log.parquet")
    labelled: list[str] = []
    codes = group_scan._Labeller.codes
    monkeypatch.setattr(group_scan._Labeller, "codes", lambda self, v: labelled.append(self.column) or codes(self, v))
    windows = scan_groups(tmp_path / "log.parquet", timestamp="ts", window=WindowSpec("week"), groups=["sex", "code"],
                          prediction="prediction", positive_label=1, batch_rows=256)  # fmt: skip
    assert all(("code" in w.features) is kept for w in windows)
    batches = labelled.count("sex")
    assert batches == -(-len(log) // 256)
    if kept:
        assert labelled.count("code") == batches
    else:  # counted up to the batch that passed 100 groups, and no further: the first batch of 256
        assert labelled.count("code") == 1 < batches  # records holds more than 100 of its values either way
    alone = scan_groups(folder / "log.parquet", timestamp="ts", window=WindowSpec("week"), groups=["sex"],
                        prediction="prediction", positive_label=1, batch_rows=256)  # fmt: skip
    for window, reference in zip(windows, alone, strict=True):  # the other column is counted as before
        assert window.features["sex"].rows.tolist() == reference.features["sex"].rows.tolist()
    if kept:
        assert len(windows[0].features["code"].labels) == distinct
    settings = Settings(features=("sex", "code"), min_group_size=30, exclude_small_groups=True,
                        resampling=Resampling(resamples=0), positive_label=1)  # fmt: skip
    entries = {e.feature: e for e in Collector(settings, ["sex", "code"], [], None).finish(windows)}
    assert entries["sex"].measured and entries["code"].measured is kept
    if not kept:
        assert (
            entries["code"].note
            == "column 'code' of the log holds more than 100 distinct values: too many to be groups"
        )
