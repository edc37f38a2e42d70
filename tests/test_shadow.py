"""Shadow tests: every statistic against an independent computation (statsmodels, scipy, scikit-learn,
pandas on the raw log, simulations with a known effect), and bad input as a clear error."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from modelgov.analysis import paired_tests as pt
from modelgov.analysis.resampling import Resampling, row_draws
from modelgov.analysis.weighted import binary
from modelgov.errors import WorkspaceError
from modelgov.monitoring import shadow_scan
from modelgov.monitoring.aggregates import WindowSpec
from modelgov.monitoring.shadow_report import ShadowSettings, metric_values, shadow_report
from modelgov.monitoring.shadow_scan import Side, scan_shadow
from modelgov.render.shadow_views import group_finding
from workspace_factory import VERSION, write_workspace

LEVEL = 0.95


# --------------------------------------------------------------------------- closed-form statistics


@pytest.mark.parametrize(("k", "n"), [(0, 10), (3, 10), (50, 100), (999, 1000), (7, 7)])
def test_wilson_equals_statsmodels(k, n):
    from statsmodels.stats.proportion import proportion_confint

    assert pt.wilson(k, n, LEVEL) == pytest.approx(proportion_confint(k, n, alpha=0.05, method="wilson"), abs=1e-12)


@pytest.mark.parametrize(("x1", "n1", "x2", "n2"), [(12, 80, 3, 90), (0, 20, 5, 40), (400, 1000, 380, 1000)])
def test_newcombe_independent_equals_statsmodels(x1, n1, x2, n2):
    from statsmodels.stats.proportion import confint_proportions_2indep

    expected = confint_proportions_2indep(x1, n1, x2, n2, method="newcomb", compare="diff", alpha=0.05)
    assert pt.newcombe_independent(x1, n1, x2, n2, LEVEL) == pytest.approx(expected, abs=1e-10)


@pytest.mark.parametrize(("b", "c"), [(0, 5), (3, 9), (12, 12), (40, 61), (200, 150)])
def test_mcnemar_exact_and_mid_p(b, c):
    from statsmodels.stats.contingency_tables import mcnemar

    exact = mcnemar(np.array([[30, b], [c, 40]]), exact=True).pvalue
    assert pt.mcnemar_exact(b, c) == pytest.approx(exact, rel=1e-10)
    # mid-p: the exact p-value less the probability of the observed split (Fagerland et al., 2013)
    assert pt.mcnemar_mid_p(b, c) == pytest.approx(exact - stats.binom.pmf(min(b, c), b + c, 0.5), abs=1e-12)
    assert pt.mcnemar_mid_p(0, 0) is None


def test_paired_t_equals_scipy():
    rng = np.random.default_rng(3)
    a, b = rng.random(200), rng.random(200)
    d = b - a
    expected = stats.ttest_rel(b, a).confidence_interval(LEVEL)
    got = pt.paired_t(len(d), float(d.mean()), float(d.var(ddof=1)), LEVEL)
    assert got == pytest.approx((expected.low, expected.high), rel=1e-10)
    assert pt.paired_t(1, 0.1, 0.0, LEVEL) is None


def test_newcombe_paired_matches_wald_on_large_samples_and_covers_on_small_ones():
    """No library implements Newcombe's paired interval; on a large sample it must agree with the Wald
    interval of the paired differences computed directly, and on small ones cover at about its level."""
    a, b, c, d = 3000, 400, 300, 6300
    n = a + b + c + d
    diff = np.r_[np.zeros(a + d), np.ones(b), -np.ones(c)]
    half = 1.959964 * diff.std(ddof=1) / np.sqrt(n)
    low, high = pt.newcombe_paired(a, b, c, d, LEVEL)
    assert low == pytest.approx(diff.mean() - half, abs=5e-4)
    assert high == pytest.approx(diff.mean() + half, abs=5e-4)
    # coverage with few discordant pairs: 60 requests, both decide alike 90 % of the time
    rng = np.random.default_rng(11)
    probabilities = np.array([0.30, 0.07, 0.03, 0.60])  # a, b, c, d
    truth = probabilities[1] - probabilities[2]
    covered = 0
    runs = 2000
    for table in rng.multinomial(60, probabilities, size=runs):
        low, high = pt.newcombe_paired(*table, LEVEL)
        covered += low <= truth <= high
    assert 0.93 <= covered / runs <= 0.985


def _delong_direct(y: np.ndarray, a: np.ndarray, b: np.ndarray) -> tuple[float, float, float]:
    """DeLong's test written out from its definition, pair by pair (O(m·n)): AUCs and the SE of b − a."""
    pos, neg = y == 1, y == 0

    def psi(x, z):
        return (x[:, None] > z[None, :]) + 0.5 * (x[:, None] == z[None, :])

    pa, pb = psi(a[pos], a[neg]), psi(b[pos], b[neg])
    v10 = np.vstack([pa.mean(axis=1), pb.mean(axis=1)])
    v01 = np.vstack([pa.mean(axis=0), pb.mean(axis=0)])
    s10, s01 = np.cov(v10), np.cov(v01)
    contrast = np.array([-1.0, 1.0])
    var = contrast @ s10 @ contrast / pos.sum() + contrast @ s01 @ contrast / neg.sum()
    return float(pa.mean()), float(pb.mean()), float(np.sqrt(var))


# --------------------------------------------------------------------------- the scan on a raw log


def _shadow_log(rng: np.random.Generator, n: int, *, flip: dict[str, float] | None = None) -> pd.DataFrame:
    """A log in which the challenger's score is the champion's plus noise, and (with ``flip``) the
    challenger's decision is flipped with a known probability per group."""
    ts = pd.Timestamp("2026-08-03", tz="UTC") + pd.to_timedelta(rng.integers(0, 21 * 86400, n), unit="s")
    sex = rng.choice(np.array(["F", "M", "X"], dtype=object), n, p=[0.48, 0.48, 0.04])
    champion = np.round(rng.beta(2, 3, n), 3)  # rounded: ties, as real scores have
    challenger = np.round(np.clip(champion + rng.normal(0.01, 0.08, n), 0, 1), 3)
    outcome = (rng.random(n) < champion).astype(int)
    frame = pd.DataFrame(
        {
            "ts": ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "rid": [f"r{i:06d}" for i in range(n)],
            "sex": sex,
            "champion_score": champion,
            "challenger_score": challenger,
            "champion_pred": (champion >= 0.5).astype(int),
            "challenger_pred": (challenger >= 0.5).astype(int),
            "y": outcome,
        }
    )
    if flip:
        p = frame["sex"].map(flip).fillna(0.0).to_numpy()
        flipped = rng.random(n) < p
        frame["challenger_pred"] = np.where(flipped, 1 - frame["champion_pred"], frame["champion_pred"])
    frame.loc[rng.choice(n, 15, replace=False), "challenger_score"] = np.nan  # a few requests not scored
    return frame


def _settings(resamples: int = 0) -> ShadowSettings:
    return ShadowSettings(
        champion="1.0",
        window_label="week",
        positive_label=1,
        decided_by={},
        level=LEVEL,
        min_group_size=30,
        exclude_small_groups=True,
        resampling=Resampling(resamples, LEVEL, 0),
        logs=[],
    )


def _report(scan, resamples: int = 400):
    return shadow_report(scan, _settings(resamples))


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    folder = tmp_path_factory.mktemp("shadow")
    frame = _shadow_log(np.random.default_rng(5), 4000)
    frame.drop(columns="y").to_parquet(folder / "log.parquet")
    labelled = frame.sample(frac=0.6, random_state=1)
    labelled[["rid", "y"]].to_csv(folder / "outcomes.csv", index=False)
    frame["y_known"] = frame["rid"].isin(labelled["rid"])
    return folder, frame


def _scan(folder: Path, **extra):
    arguments = {
        "timestamp": "ts",
        "window": WindowSpec("week"),
        "challenger": Side(prediction="challenger_pred", score="challenger_score"),
        "champion": Side(score="champion_score", threshold=0.5),
        "positive_label": 1,
        "request_id": "rid",
        "sensitive": ["sex"],
        "truth": folder / "outcomes.csv",
        "truth_id": "rid",
        "truth_label": "y",
    }
    return scan_shadow(folder / "log.parquet", **(arguments | extra))


def _direct(frame: pd.DataFrame) -> dict:
    """Every figure of one grouping, by pandas on the raw rows."""
    cp = (frame["champion_score"] >= 0.5).astype(int)
    ch = frame["challenger_pred"]
    both = frame.dropna(subset=["champion_score", "challenger_score"])
    diff = both["challenger_score"] - both["champion_score"]
    return {
        "requests": len(frame),
        "decided": len(frame),
        "agreement": (cp == ch).mean(),
        "champion_rate": cp.mean(),
        "challenger_rate": ch.mean(),
        "decision_rate_delta": ch.mean() - cp.mean(),
        "challenger_only": int(((ch == 1) & (cp == 0)).sum()),
        "champion_only": int(((ch == 0) & (cp == 1)).sum()),
        "scored": len(both),
        "mean_score_delta": diff.mean(),
        "champion_mean_score": both["champion_score"].mean(),
        "labelled": int(frame["y_known"].sum()),
    }


@pytest.mark.parametrize(("distinct", "kept"), [(100, True), (150, False), (4000, False)])
def test_a_sensitive_column_with_more_than_100_values_is_not_a_grouping(raw, tmp_path, monkeypatch, distinct, kept):
    """A value per request (4,000) is left out of the grouping before it is grouped, so the scan does
    not bring back a row of counts per request; 150 is found on the groups themselves."""
    folder, frame = raw
    wide = frame.drop(columns=["y", "y_known"]).assign(code=[f"c{i % distinct}" for i in range(len(frame))])
    wide.to_parquet(tmp_path / "log.parquet")
    (tmp_path / "outcomes.csv").write_bytes((folder / "outcomes.csv").read_bytes())
    fetched: list[int] = []
    aggregate = shadow_scan._aggregate
    monkeypatch.setattr(
        shadow_scan, "_aggregate", lambda con, n: fetched.append(len(rows := aggregate(con, n))) or rows
    )
    scan = _scan(tmp_path, sensitive=["sex", "code"])
    assert ("code" in scan.groups) is kept and ("code" in scan.too_many_groups) is not kept
    if distinct > 2 * 100:  # left out before grouping: a row per window, the whole log and each sex
        assert fetched == [len(scan.windows) + 1 + len(scan.groups["sex"])]
    assert scan.groups["sex"].keys() == _scan(folder).groups["sex"].keys()
    if not kept:
        notes = {f.feature: f.note for f in _report(scan, resamples=0).features}
        assert notes["code"] == "more than 100 distinct values: not a grouping column"


def test_a_group_respelt_in_the_shadow_log_is_refused(raw, tmp_path):
    """As in the evaluation and the production log: some F requests written "F\u200b" would be a group
    that reads as F, perhaps too small to be compared; the shadow scan refuses the column."""
    from modelgov.monitoring.logsource import ScanError

    folder, frame = raw
    respelt = frame.drop(columns=["y", "y_known"])
    respelt.loc[respelt.index[respelt["sex"] == "F"][:25], "sex"] = "F\u200b"
    respelt.to_parquet(tmp_path / "log.parquet")
    (tmp_path / "outcomes.csv").write_bytes((folder / "outcomes.csv").read_bytes())
    with pytest.raises(ScanError, match=r"column 'sex': 1 set\(s\) of groups look alike") as caught:
        _scan(tmp_path)
    assert "log.parquet" in str(caught.value) and "'F\\u200b'" in str(caught.value)


def test_scan_matches_pandas_overall_per_window_and_per_group(raw):
    from statsmodels.stats.proportion import proportion_confint

    folder, frame = raw
    report = _report(_scan(folder))

    def check(node, rows):
        for key, value in _direct(rows).items():
            assert getattr(node, key) == pytest.approx(value, abs=1e-12), key

    check(report.overall, frame)
    weeks = pd.to_datetime(frame["ts"]).dt.tz_localize(None).dt.to_period("W-SUN").dt.start_time
    assert [w.start[:10] for w in report.windows] == [f"{d:%Y-%m-%d}" for d in sorted(weeks.unique())]
    for window in report.windows:
        check(window, frame[weeks == pd.Timestamp(window.start[:10])])
    (sex,) = report.features
    assert {g.group for g in sex.groups} == {"F", "M", "X"}
    for group in sex.groups:
        check(group, frame[frame["sex"] == group.group])
    # the agreement's interval is Wilson's; the mean score delta's is scipy's paired t
    changes = report.overall.challenger_only + report.overall.champion_only
    agree = report.overall.decided - changes
    assert (report.overall.agreement_interval.low, report.overall.agreement_interval.high) == pytest.approx(
        proportion_confint(agree, report.overall.decided, method="wilson"), abs=1e-12
    )
    both = frame.dropna(subset=["challenger_score"])
    t = stats.ttest_rel(both["challenger_score"], both["champion_score"]).confidence_interval(LEVEL)
    interval = report.overall.mean_score_delta_interval
    assert (interval.low, interval.high) == pytest.approx((t.low, t.high), rel=1e-9)


def test_group_gap_uses_large_groups_only(raw):
    folder, _ = raw
    report = _report(_scan(folder))
    (sex,) = report.features
    small = next(g for g in sex.groups if g.group == "X")
    assert small.small == (small.decided < 30)
    gap = sex.max_change_gap
    rates = {g.group: g.change_rate for g in sex.groups if not g.small}
    assert {gap.high_group, gap.low_group} <= set(rates)
    assert gap.value == pytest.approx(max(rates.values()) - min(rates.values()))


def test_outcome_deltas_match_scikit_learn_and_statsmodels(raw):
    from statsmodels.stats.contingency_tables import mcnemar

    folder, frame = raw
    report = _report(_scan(folder))
    known = frame[frame["y_known"]]
    y, cp, ch = known["y"], (known["champion_score"] >= 0.5).astype(int), known["challenger_pred"]
    outcomes = report.outcomes
    assert outcomes.labelled == len(known)
    by_name = {m.name: m for m in outcomes.metrics}
    accuracy = by_name["accuracy"]
    assert accuracy.champion == pytest.approx((y == cp).mean())
    assert accuracy.challenger == pytest.approx((y == ch).mean())
    b = int(((ch == y) & (cp != y)).sum())
    c = int(((cp == y) & (ch != y)).sum())
    assert (outcomes.challenger_right_champion_wrong, outcomes.champion_right_challenger_wrong) == (b, c)
    exact = mcnemar(pd.crosstab(cp == y, ch == y).to_numpy(), exact=True).pvalue
    assert accuracy.p_value == pytest.approx(exact - stats.binom.pmf(min(b, c), b + c, 0.5))
    recall = by_name["recall"]
    assert recall.challenger - recall.champion == pytest.approx(ch[y == 1].mean() - cp[y == 1].mean())
    fpr = by_name["false_positive_rate"]
    assert fpr.delta == pytest.approx(ch[y == 0].mean() - cp[y == 0].mean())
    precision = by_name["precision"]
    assert precision.champion == pytest.approx(y[cp == 1].mean())
    assert accuracy.interval.low < accuracy.delta < accuracy.interval.high
    # ROC AUC on the labelled requests both versions scored: scikit-learn's values, DeLong's SE
    scored = known.dropna(subset=["challenger_score"])
    auc = by_name["roc_auc"]
    assert auc.champion == pytest.approx(roc_auc_score(scored["y"], scored["champion_score"]), abs=1e-12)
    assert auc.challenger == pytest.approx(roc_auc_score(scored["y"], scored["challenger_score"]), abs=1e-12)
    auc_a, auc_b, se = _delong_direct(
        scored["y"].to_numpy(), scored["champion_score"].to_numpy(), scored["challenger_score"].to_numpy()
    )
    assert (auc.champion, auc.challenger) == pytest.approx((auc_a, auc_b), abs=1e-12)
    assert (auc.interval.high - auc.interval.low) / (2 * 1.959964) == pytest.approx(se, rel=1e-6)


def test_delong_agrees_with_the_paired_row_bootstrap(raw):
    """Why DeLong can stand in for the comparison's paired bootstrap: on a shadow log's sample sizes
    their standard errors of the AUC difference agree."""
    folder, frame = raw
    report = _report(_scan(folder))
    auc = next(m for m in report.outcomes.metrics if m.name == "roc_auc")
    scored = frame[frame["y_known"]].dropna(subset=["challenger_score"])
    y = scored["y"].to_numpy()
    resampling = Resampling(400, LEVEL, 2)
    deltas = []
    for draws in row_draws(len(y), resampling):
        a = binary(y, y, scored["champion_score"].to_numpy(), draws)["roc_auc"]
        b = binary(y, y, scored["challenger_score"].to_numpy(), draws)["roc_auc"]
        deltas.append(b - a)
    bootstrap_se = np.concatenate(deltas).std(ddof=1)
    delong_se = (auc.interval.high - auc.interval.low) / (2 * 1.959964)
    assert delong_se == pytest.approx(bootstrap_se, rel=0.15)


def test_two_logs_joined_on_the_request_id_give_the_same_report(raw, tmp_path):
    folder, frame = raw
    shadow = frame.drop(columns=["champion_score", "champion_pred", "y", "y_known"]).iloc[:-7]  # 7 unmatched
    champion = frame[["rid", "champion_score"]].sample(frac=1.0, random_state=3)
    champion = champion[champion["rid"] != frame["rid"].iloc[0]]  # one shadow request without a champion record
    shadow.to_parquet(tmp_path / "log.parquet")
    champion.to_csv(tmp_path / "champion.csv", index=False)
    pd.read_csv(folder / "outcomes.csv").to_csv(tmp_path / "outcomes.csv", index=False)
    scan = _scan(tmp_path, champion_logs=tmp_path / "champion.csv")
    assert scan.unmatched == 1
    joined = frame.iloc[1:-7]
    report = _report(scan)
    for key, value in _direct(joined).items():
        assert getattr(report.overall, key) == pytest.approx(value, abs=1e-12), key


def test_metric_values_equal_the_projects_weighted_metrics():
    rng = np.random.default_rng(8)
    y, cp, ch = (rng.random((3, 500)) < [[0.4], [0.5], [0.45]]).astype(int)
    table = np.zeros((2, 2, 2))
    np.add.at(table, (y, cp, ch), 1)
    values = metric_values(table)
    ones = np.arange(500)[None, :]
    for side, pred in ((0, cp), (1, ch)):
        expected = binary(y, pred, None, ones)
        assert values["accuracy"][side] == pytest.approx(expected["accuracy"][0])
        assert values["recall"][side] == pytest.approx(expected["recall"][0])
        assert values["precision"][side] == pytest.approx(expected["precision"][0])


def _decisions_by_sex(log: Path):
    """The scan of a shadow log of decisions only (no scores), weekly, grouped by sex."""
    return scan_shadow(
        log,
        timestamp="ts",
        window=WindowSpec("week"),
        challenger=Side(prediction="challenger_pred"),
        champion=Side(prediction="champion_pred"),
        positive_label=1,
        sensitive=["sex"],
    )


def test_a_planted_group_difference_in_decision_changes_is_found(tmp_path):
    """Simulation with a known effect: the challenger changes 12 % of women's decisions, 3 % of others'."""
    frame = _shadow_log(np.random.default_rng(21), 6000, flip={"F": 0.12, "M": 0.03, "X": 0.03})
    frame.drop(columns="y").to_parquet(tmp_path / "log.parquet")
    scan = _decisions_by_sex(tmp_path / "log.parquet")
    report = _report(scan)
    gap = report.features[0].max_change_gap
    assert gap.high_group == "F" and gap.low_group in ("M", "X")
    assert gap.interval.low <= 0.09 <= gap.interval.high
    assert gap.interval.low > 0.05
    assert report.outcomes is None


def test_a_group_decided_positive_more_often_is_named_even_when_change_rates_are_alike(tmp_path):
    """Simulation with a known effect: the challenger changes about 8 % of every group's decisions, but
    for women it only ever turns a negative decision positive, while for men it turns as many each way.
    The change rates do not differ; the direction does, and the page says so for F, not for M."""
    from modelgov.render.shadow_views import direction_sentence, excludes_zero, moved_groups

    rng = np.random.default_rng(8)
    frame = _shadow_log(rng, 8000)
    frame = frame[frame["sex"] != "X"].reset_index(drop=True)
    champion = frame["champion_pred"].to_numpy()
    women = (frame["sex"] == "F").to_numpy()
    share_negative = (champion[~women] == 0).mean()  # half the changes each way: 4 % of all up, 4 % down
    both_ways = ~women & (
        rng.random(len(frame)) < np.where(champion == 0, 0.04 / share_negative, 0.04 / (1 - share_negative))
    )
    upward = women & (champion == 0) & (rng.random(len(frame)) < 0.08 / (champion[women] == 0).mean())
    frame["challenger_pred"] = np.where(both_ways, 1 - champion, np.where(upward, 1, champion))
    frame.drop(columns="y").to_parquet(tmp_path / "log.parquet")
    scan = _decisions_by_sex(tmp_path / "log.parquet")
    report = _report(scan)
    feature = report.features[0]
    overall = report.overall.decision_rate_delta
    rates = {g.group: g for g in feature.groups}
    assert abs(rates["F"].change_rate - rates["M"].change_rate) < 0.02  # alike in how often
    assert [g.group for g in moved_groups(feature, overall)] == ["F"]
    assert rates["F"].decision_rate_delta > 0.05
    sentence = direction_sentence(feature, overall)
    assert sentence.startswith(
        "**The challenger moves some groups' share of positive decisions otherwise than everyone's"
    )
    assert "by sex: for F from" in sentence and "for M" not in sentence
    assert group_finding(report) == [feature]

    # every group moved alike: the overall change, no group's
    alike = _shadow_log(np.random.default_rng(9), 8000)
    champion = alike["champion_pred"].to_numpy()
    up = (champion == 0) & (np.random.default_rng(10).random(len(alike)) < 0.12)
    alike["challenger_pred"] = np.where(up, 1, champion)
    alike.drop(columns="y").to_parquet(tmp_path / "alike.parquet")
    scan = _decisions_by_sex(tmp_path / "alike.parquet")
    shifted = _report(scan)
    (feature,) = shifted.features
    assert shifted.overall.decision_rate_delta > 0.05
    assert all(excludes_zero(g.decision_rate_delta_interval) for g in feature.groups if not g.small)
    assert moved_groups(feature, shifted.overall.decision_rate_delta) == [] and group_finding(shifted) == []


def test_no_difference_between_identical_versions(tmp_path):
    frame = _shadow_log(np.random.default_rng(4), 500)
    frame["challenger_pred"] = frame["champion_pred"]
    frame["challenger_score"] = frame["champion_score"]
    frame.to_parquet(tmp_path / "log.parquet")
    report = _report(
        scan_shadow(
            tmp_path / "log.parquet",
            timestamp="ts",
            window=WindowSpec("rows", rows=100),
            challenger=Side(prediction="challenger_pred", score="challenger_score"),
            champion=Side(prediction="champion_pred", score="champion_score"),
            positive_label=1,
        )
    )
    assert report.overall.agreement == 1.0
    assert report.overall.decision_rate_delta == 0.0
    assert report.overall.decision_rate_p is None
    assert [w.decided for w in report.windows] == [100] * 5
    assert not group_finding(report)


# --------------------------------------------------------------------------- the workspace


SHADOW = """\
shadow:
  logs: data/shadow.csv
  timestamp: ts
  id: rid
  champion:
    version: "1.0"
    score: champion_score
    threshold: 0.5
  challenger:
    prediction: challenger_pred
    score: challenger_score
  sensitive: [sex]
  ground_truth:
    data: data/outcomes.csv
    id: rid
    label: y
"""


@pytest.fixture
def workspace(tmp_path) -> Path:
    root = write_workspace(tmp_path / "ws")
    folder = root / "models/loans/versions/2.0"
    folder.mkdir(parents=True)
    version = VERSION.replace("status: production", "status: candidate").replace("First version.", "Challenger.")
    (folder / "version.yml").write_text(textwrap.dedent(version) + "previous: '1.0'\n" + SHADOW, encoding="utf-8")
    frame = _shadow_log(np.random.default_rng(2), 800)
    frame.drop(columns="y").to_csv(root / "data/shadow.csv", index=False)
    frame[["rid", "y"]].iloc[:500].to_csv(root / "data/outcomes.csv", index=False)
    return root


def _problems(root: Path) -> list[str]:
    from modelgov.workspace.load import load_workspace

    with pytest.raises(WorkspaceError) as info:
        load_workspace(root)
    return [str(p) for p in info.value.problems]


def _set(root: Path, old: str, new: str) -> None:
    path = root / "models/loans/versions/2.0/version.yml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_workspace_builds_the_shadow_report(workspace):
    from modelgov.assemble import build_manifest
    from modelgov.workspace.load import load_workspace

    built = build_manifest(load_workspace(workspace))
    version = next(v for v in built.models[0].versions if v.version == "2.0")
    assert version.shadow is not None and version.shadow.champion == "1.0"
    assert version.shadow.overall.decided == 800
    assert version.shadow.outcomes.labelled == 500
    assert version.shadow.decided_by == {"champion": "champion_score ≥ 0.5", "challenger": "challenger_pred = 1"}
    assert [ref.path for ref in version.shadow.logs] == ["data/shadow.csv"]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("score: champion_score", "score: champion_scor", "shadow.champion.score: column 'champion_scor' is not in"),
        ("[sex]", "[gender]", "shadow.sensitive[0]: column 'gender' is not in data/shadow.csv"),
        ('version: "1.0"', 'version: "0.9"', "shadow.champion.version: version '0.9' of loans not found"),
        ('version: "1.0"', 'version: "2.0"', "shadow.champion.version: a version cannot shadow itself"),
        ("    label: y", "    label: outcome", "shadow.ground_truth.label: column 'outcome' is not in"),
        ("logs: data/shadow.csv", "logs: data/missing.csv", "shadow.logs: "),
        ("    threshold: 0.5\n", "", "shadow.champion: a decision needs a prediction column"),
        ("ts\n  id: rid\n", "ts\n", "shadow: ground_truth is joined to the shadow log on the request id: set id too"),
        ("[sex]", "[sex, sex]", "shadow: sensitive: 'sex' and 'sex' would both be shadow.groups.sex in policy paths"),
        ("[sex]", "[age.band, age_band]", "would both be shadow.groups.age_band in policy paths"),
    ],
)
def test_bad_shadow_sections_name_file_line_and_key(workspace, old, new, expected):
    _set(workspace, old, new)
    problems = _problems(workspace)
    found = [p for p in problems if expected in p]
    assert found, problems
    assert found[0].startswith("models/loans/versions/2.0/version.yml:")


def test_a_duplicate_request_id_is_a_clear_error(workspace):
    from modelgov.assemble import build_manifest
    from modelgov.workspace.load import load_workspace

    log = pd.read_csv(workspace / "data/shadow.csv")
    log.loc[1, "rid"] = log.loc[0, "rid"]
    log.to_csv(workspace / "data/shadow.csv", index=False)
    with pytest.raises(Exception) as info:
        build_manifest(load_workspace(workspace))
    message = str(info.value)
    assert "shadow" in message and "appear more than once" in message and "'rid'" in message


def test_the_cookbook_recipe_reads_the_shadow_evidence(workspace):
    import re

    from modelgov.assemble import build_manifest
    from modelgov.workspace.load import load_workspace

    cookbook = (Path(__file__).resolve().parents[1] / "docs" / "policy-cookbook.md").read_text(encoding="utf-8")
    (recipe,) = re.findall(r"```yaml\n# policies/shadow.yml\n(.*?)```", cookbook, flags=re.S)
    (workspace / "policies").mkdir()
    (workspace / "policies/shadow.yml").write_text(recipe, encoding="utf-8")
    built = build_manifest(load_workspace(workspace))
    results = {r.rule: r for r in built.governance.results if r.policy == "shadow" and r.version == "2.0"}
    shadow = next(v for v in built.models[0].versions if v.version == "2.0").shadow
    changed = results["few-decisions-changed"]
    assert changed.outcome == ("pass" if shadow.overall.change_rate < 0.15 else "fail")
    (check,) = changed.checks
    assert check.path == "shadow.change_rate.ci_high"
    assert check.observed == pytest.approx(1 - shadow.overall.agreement_interval.low)
    assert check.page == "models/loans/2.0/shadow.html#summary"
    gap = shadow.features[0].max_change_gap
    assert results["changes-even-across-groups"].outcome == ("fail" if gap.joint_interval.low > 0 else "pass")
    accuracy = next(m for m in shadow.outcomes.metrics if m.name == "accuracy")
    assert results["accuracy-not-inferior"].outcome == ("pass" if accuracy.interval.low >= -0.02 else "fail")


def test_the_pages_state_the_shadow_test_in_words(workspace):
    from modelgov.assemble import build_manifest
    from modelgov.render.page_paths import shadow_path, version_path
    from modelgov.render.pages import render_pages
    from modelgov.workspace.load import load_workspace

    built = build_manifest(load_workspace(workspace))
    pages = {page.path: page.markdown for page in render_pages(built)}
    model = built.models[0]
    challenger = next(v for v in model.versions if v.version == "2.0")
    champion = next(v for v in model.versions if v.version == "1.0")
    page, shadow = pages[shadow_path(model, challenger)], challenger.shadow
    assert f"The challenger changes **{shadow.overall.change_rate * 100:.1f}%** of decisions" in page
    for group in shadow.features[0].groups:
        assert f"for {group.group} {group.change_rate * 100:.1f}%" in page
    assert "## What each test assumes" in page and "DeLong" in page
    assert "| ROC AUC |" in page  # outcomes have arrived for 500 requests
    assert "**Shadow test.**" in pages[version_path(model, challenger)]
    assert "**Being shadowed.**" in pages[version_path(model, champion)]
    assert shadow_path(model, champion) is None


@pytest.mark.parametrize("outside", ["../shadow.csv", "/etc/passwd", "data/../../shadow.csv"])
def test_a_shadow_log_outside_the_workspace_is_refused(workspace, outside: str) -> None:
    """A version.yml may name only files inside the workspace: a pull request cannot make the build
    read (and publish aggregates of) a file elsewhere on the CI machine."""
    (workspace.parent / "shadow.csv").write_text((workspace / "data/shadow.csv").read_text(), encoding="utf-8")
    _set(workspace, "  logs: data/shadow.csv", f"  logs: {outside!r}")
    problems = _problems(workspace)
    assert any(p.startswith("models/loans/versions/2.0/version.yml:") and "shadow" in p for p in problems), problems


def _group_cells(rng: np.random.Generator, sizes: dict[str, int], change: dict[str, float]):
    from modelgov.monitoring.shadow_scan import Cells

    out = {}
    for group, n in sizes.items():
        changed = int(rng.binomial(n, change[group]))
        up = int(rng.binomial(changed, 0.5))
        out[group] = Cells(
            requests=n, decided=n, both_positive=(n - changed) // 3, challenger_only=up, champion_only=changed - up
        )
    return out


def test_the_largest_gap_among_equal_groups_is_rarely_called_a_finding():
    """Known truth: six groups whose decisions the challenger changes equally often (10 %). The
    largest gap's own 95 % interval excludes zero far more often than 5 % of the time (it is picked
    as the extreme pair); the interval over every pair, which the finding uses, at most about 5 %."""
    from modelgov.monitoring.shadow_report import _feature
    from modelgov.render.shadow_views import is_finding

    rng = np.random.default_rng(8)
    sizes = {f"g{i}": 800 for i in range(6)}
    studies, naive, findings = 1000, 0, 0
    for _ in range(studies):
        gap = _feature("band", _group_cells(rng, sizes, dict.fromkeys(sizes, 0.10)), _settings()).max_change_gap
        assert gap.pairs == 15
        naive += gap.interval.low > 0
        findings += is_finding(gap)
    assert naive / studies > 0.12
    assert findings / studies <= 0.06


def test_the_joint_interval_is_newcombes_at_the_bonferroni_level():
    from statsmodels.stats.proportion import confint_proportions_2indep

    from modelgov.monitoring.shadow_report import _feature

    rng = np.random.default_rng(9)
    sizes = {"a": 900, "b": 700, "c": 500}
    cells = _group_cells(rng, sizes, {"a": 0.2, "b": 0.1, "c": 0.12})
    gap = _feature("band", cells, _settings()).max_change_gap
    high, low = cells[gap.high_group], cells[gap.low_group]
    changed = {name: c.challenger_only + c.champion_only for name, c in cells.items()}
    expected = confint_proportions_2indep(
        changed[gap.high_group], high.decided, changed[gap.low_group], low.decided, method="newcomb", alpha=0.05 / 3
    )
    assert (gap.joint_interval.low, gap.joint_interval.high) == pytest.approx(expected, abs=1e-9)
    assert gap.joint_interval.level == LEVEL and "Bonferroni over 3 pairs" in gap.joint_interval.method
    assert gap.joint_interval.low < gap.interval.low and gap.joint_interval.high > gap.interval.high
    assert gap.joint_interval.low > 0, "a real difference of ten points on hundreds of requests is still found"


def test_a_gap_only_the_unadjusted_interval_excludes_is_said_to_be_possibly_chance():
    from modelgov.manifest import Interval, ShadowFeature, ShadowGap, ShadowGroup
    from modelgov.render.shadow_views import groups_sentence

    def interval(low, high):
        return Interval(low=low, high=high, level=LEVEL, resamples=0, method="m")

    gap = ShadowGap(
        high_group="60+",
        low_group="45-59",
        high_rate=0.131,
        low_rate=0.083,
        value=0.048,
        interval=interval(0.006, 0.100),
        pairs=6,
        joint_interval=interval(-0.005, 0.112),
    )
    groups = [
        ShadowGroup(group=g, requests=1000, decided=1000, agreement=1 - rate)
        for g, rate in (("60+", 0.131), ("45-59", 0.083))
    ]
    sentence = groups_sentence(ShadowFeature(feature="age_band", groups=groups, max_change_gap=gap))
    assert "could be chance" in sentence and "largest of 6 pairs" in sentence and "Fairness finding" not in sentence
    assert "+0.6 to +10.0" in sentence and "-0.5 to +11.2" in sentence
    found = gap.model_copy(update={"joint_interval": interval(0.001, 0.11)})
    sentence = groups_sentence(ShadowFeature(feature="age_band", groups=groups, max_change_gap=found))
    assert "Fairness finding" in sentence


def test_score_means_do_not_depend_on_the_order_the_rows_are_added_in(tmp_path):
    """A rebuild must give the same bytes: the means and the variance of the score differences are
    exact sums divided once, so the log's rows in another order (as DuckDB's threads may add them)
    give bit-identical figures, equal to numpy's to the last few ulps."""
    frame = _shadow_log(np.random.default_rng(13), 20_000).drop(columns="y")
    frame.to_parquet(tmp_path / "a.parquet", row_group_size=997)
    frame.sample(frac=1, random_state=3).to_parquet(tmp_path / "b.parquet", row_group_size=1499)

    def overall(name):
        scan = scan_shadow(
            tmp_path / name,
            timestamp="ts",
            window=WindowSpec("week"),
            challenger=Side(prediction="challenger_pred", score="challenger_score"),
            champion=Side(score="champion_score", threshold=0.5),
            positive_label=1,
            sensitive=["sex"],
        )
        return scan.overall

    a, b = overall("a.parquet"), overall("b.parquet")
    for field in ("champion_mean", "challenger_mean", "diff_mean", "diff_var"):
        assert getattr(a, field) == getattr(b, field), field
    both = frame.dropna(subset=["champion_score", "challenger_score"])
    diff = both["challenger_score"] - both["champion_score"]
    assert a.diff_mean == pytest.approx(diff.mean(), rel=1e-12)
    assert a.diff_var == pytest.approx(diff.var(ddof=1), rel=1e-10)
    assert a.champion_mean == pytest.approx(both["champion_score"].mean(), rel=1e-12)
