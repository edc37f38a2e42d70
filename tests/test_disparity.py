"""Disparity summaries and group intervals equal fairlearn where fairlearn's value is defined, and
say "undefined" where fairlearn silently returns 0."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equal_opportunity_difference,
    equalized_odds_difference,
    equalized_odds_ratio,
    selection_rate,
)

from modelgov.analysis.fairness import _group_order, combined_labels, fairness_by_group
from modelgov.analysis.resampling import Resampling
from shared_builds import SHARED_DATA

FAIRLEARN = {
    "demographic_parity_difference": demographic_parity_difference,
    "demographic_parity_ratio": demographic_parity_ratio,
    "equalized_odds_difference": equalized_odds_difference,
    "equalized_odds_ratio": equalized_odds_ratio,
    "equal_opportunity_difference": equal_opportunity_difference,
}


def data(n: int = 3000, seed: int = 5):
    rng = np.random.default_rng(seed)
    group = pd.Series(rng.choice(["a", "b", "c"], n, p=[0.5, 0.3, 0.2]))
    base = group.map({"a": 0.2, "b": 0.35, "c": 0.5}).to_numpy()
    y = (rng.random(n) < base).astype(int)
    p = (rng.random(n) < 0.6 * y + 0.15 + 0.1 * (group == "c")).astype(int)
    return group, y, p


@pytest.mark.parametrize("method", ["between_groups", "to_overall"])
def test_disparities_equal_fairlearn(method: str) -> None:
    group, y, p = data()
    result = fairness_by_group("g", group, y, p, classification=True, min_group_size=30, resampling=Resampling(200))
    got = {d.name: d for d in result.disparities if d.method == method}
    for name, function in FAIRLEARN.items():
        expected = function(y, p, sensitive_features=group, method=method)
        assert got[name].value == pytest.approx(expected, rel=1e-12), name
        assert got[name].note is None
        interval = got[name].interval
        assert interval is not None and interval.low <= got[name].value <= interval.high


def test_group_rate_intervals_surround_fairlearn_values() -> None:
    group, y, p = data()
    result = fairness_by_group("g", group, y, p, classification=True, min_group_size=30, resampling=Resampling(500))
    frame = MetricFrame(metrics=selection_rate, y_true=y, y_pred=p, sensitive_features=group)
    for row in result.groups:
        interval = row.intervals["selection_rate"]
        assert interval.low <= frame.by_group[row.group] <= interval.high
        width = interval.high - interval.low
        expected_width = 2 * 1.96 * np.sqrt(frame.by_group[row.group] * (1 - frame.by_group[row.group]) / row.count)
        assert width == pytest.approx(expected_width, rel=0.25)  # close to the normal approximation


def test_a_group_without_positives_is_left_out_not_counted_as_zero() -> None:
    group = pd.Series(["a"] * 50 + ["b"] * 50 + ["c"] * 20)
    y = np.r_[np.tile([1, 0], 25), np.tile([1, 0], 25), np.zeros(20, dtype=int)]
    p = np.r_[np.tile([1, 1, 0, 0], 12), [1, 0], np.tile([1, 0, 0, 0], 12), [1, 0], np.zeros(20, dtype=int)]
    result = fairness_by_group(
        "g", group, y, p, classification=True, min_group_size=30, exclude_small_groups=False, resampling=Resampling(100)
    )
    eo = next(
        d for d in result.disparities if d.name == "equal_opportunity_difference" and d.method == "between_groups"
    )
    # fairlearn counts group c's TPR as 0.0 (it has no positives) and reports 0.5 + ...
    silent = equal_opportunity_difference(y, p, sensitive_features=group)
    tpr = {g.group: g.metrics["tpr"] for g in result.groups}
    assert tpr["c"] is None
    assert eo.value == pytest.approx(abs(tpr["a"] - tpr["b"]))
    assert eo.value != pytest.approx(silent)
    assert [(e.group, e.reason) for e in eo.excluded] == [("c", "true positive rate undefined: no actual positives")]


def test_a_ratio_with_a_zero_denominator_is_undefined() -> None:
    group = pd.Series(["a"] * 40 + ["b"] * 40)
    y = np.tile([1, 0], 40)
    p = np.zeros(80, dtype=int)  # nobody selected: selection rates 0 / 0
    result = fairness_by_group("g", group, y, p, classification=True, min_group_size=30, resampling=Resampling(50))
    ratio = next(d for d in result.disparities if d.name == "demographic_parity_ratio" and d.method == "between_groups")
    assert demographic_parity_ratio(y, p, sensitive_features=group) == 0.0 or np.isnan(
        demographic_parity_ratio(y, p, sensitive_features=group)
    )
    assert ratio.value is None and ratio.note.startswith("undefined")


def test_intersections_only_show_combinations_that_occur() -> None:
    frame = pd.DataFrame({"sex": ["F", "F", "M", "M", None] * 20, "band": ["x", "y", "x", "x", "y"] * 20})
    labels = combined_labels(frame, ["sex", "band"])
    y = np.tile([1, 0, 1, 0, 1], 20)
    p = np.tile([1, 0, 0, 0, 1], 20)
    result = fairness_by_group(
        str(labels.name), labels, y, p, classification=True, min_group_size=30, features=["sex", "band"]
    )
    assert result.feature == "sex × band"
    assert [g.group for g in result.groups] == ["F × x", "F × y", "M × x", "(missing) × y"]
    assert result.groups[0].values == {"sex": "F", "band": "x"}
    assert sum(g.count for g in result.groups) == 100


def test_expected_groups_missing_from_the_data_are_reported_absent() -> None:
    group, y, p = data(300)
    result = fairness_by_group(
        "g", group, y, p, classification=True, min_group_size=30, expected_groups=["a", "d"], resampling=Resampling(0)
    )
    absent = [g for g in result.groups if g.absent]
    assert [g.group for g in absent] == ["d"]
    assert absent[0].count == 0 and all(v is None for v in absent[0].metrics.values())


def test_regression_group_intervals() -> None:
    rng = np.random.default_rng(1)
    group = pd.Series(rng.choice(["a", "b"], 500))
    y = rng.normal(100, 10, 500)
    yhat = y + rng.normal(0, 5, 500) + 3 * (group == "b")
    result = fairness_by_group("g", group, y, yhat, classification=False, min_group_size=30, resampling=Resampling(200))
    for row in result.groups:
        interval = row.intervals["mae"]
        assert interval.low <= row.metrics["mae"] <= interval.high
    gap, bias = result.disparities
    assert gap.name == "mae_difference" and gap.groups == ["b", "a"]
    assert bias.name == "mean_error_difference" and bias.groups == ["b", "a"]  # b's predictions run 3 higher


def test_a_regressions_mae_gap_equals_fairlearns_difference_on_the_diabetes_data() -> None:
    """The real diabetes data (Efron et al. 2004, bundled with scikit-learn) and a linear model: the
    gap is fairlearn's MetricFrame.difference of the MAE between groups, over the groups with enough
    rows; a group below the minimum is left out and named, and the gap is then the others'."""
    from sklearn.datasets import load_diabetes
    from sklearn.linear_model import LinearRegression
    from sklearn.metrics import mean_absolute_error

    data = load_diabetes(as_frame=True, scaled=False)
    x, y = data.data, data.target.to_numpy()
    yhat = LinearRegression().fit(x, y).predict(x)
    band = pd.cut(x["age"], [0, 35, 50, 60, 200], labels=["<35", "35-49", "50-59", "60+"]).astype(str)
    sex = x["sex"].map({1.0: "sex_1", 2.0: "sex_2"})
    for groups, minimum in ((sex, 30), (band, 30), (band, 100)):
        result = fairness_by_group("g", groups, y, yhat, classification=False, min_group_size=minimum,
                                   resampling=Resampling(300, seed=2))  # fmt: skip
        sizes = groups.value_counts()
        kept = groups.isin(sizes[sizes >= minimum].index)
        frame = MetricFrame(metrics=mean_absolute_error, y_true=y[kept], y_pred=yhat[kept],
                            sensitive_features=groups[kept])  # fmt: skip
        gap, bias = result.disparities
        assert gap.value == pytest.approx(frame.difference(method="between_groups"), rel=1e-12)
        assert gap.groups == [frame.by_group.idxmax(), frame.by_group.idxmin()]
        assert [e.group for e in gap.excluded] == sorted(sizes[sizes < minimum].index, key=_group_order)
        assert gap.interval.low <= gap.value and gap.difference_interval.low < gap.difference_interval.high
        signed = MetricFrame(metrics=lambda t, p: float(np.mean(p - t)), y_true=y[kept], y_pred=yhat[kept],
                             sensitive_features=groups[kept])  # fmt: skip
        assert bias.name == "mean_error_difference"
        assert bias.value == pytest.approx(signed.difference(method="between_groups"), rel=1e-9)
        assert bias.groups == [signed.by_group.idxmax(), signed.by_group.idxmin()]
        # a group's figures all rest on its rows: a small group is left out of both gaps for one reason,
        # which the card's list gives once, not once per gap
        from modelgov.render.views import left_out_groups

        assert (
            [e.reason for e in gap.excluded]
            == [e.reason for e in bias.excluded]
            == [f"{sizes[e.group]:,} rows, fewer than {minimum}" for e in gap.excluded]
        )
        assert [(item.group, item.reasons, item.everywhere) for item in left_out_groups(result)] == [
            (e.group, [e.reason], True) for e in gap.excluded
        ]


@pytest.mark.skipif(not (SHARED_DATA / "adult.data").is_file(), reason="UCI Adult not found in ../shared/data")
def test_adult_group_rates_and_disparities_equal_fairlearn() -> None:
    from fairlearn.metrics import false_positive_rate, true_positive_rate
    from sklearn.linear_model import LogisticRegression

    names = ["age", "workclass", "fnlwgt", "education", "education_num", "marital_status", "occupation",
             "relationship", "race", "sex", "capital_gain", "capital_loss", "hours_per_week", "native_country",
             "income"]  # fmt: skip
    frame = pd.read_csv(SHARED_DATA / "adult.data", names=names, skipinitialspace=True)
    assert len(frame) == 32561
    y = frame["income"].eq(">50K").astype(int).to_numpy()
    x = frame[["age", "education_num", "capital_gain", "capital_loss", "hours_per_week"]].to_numpy(float)
    p = LogisticRegression(max_iter=1000).fit(x, y).predict(x)
    labels = combined_labels(frame, ["sex", "race"])
    result = fairness_by_group(
        str(labels.name), labels, y, p, classification=True, min_group_size=30, features=["sex", "race"]
    )
    reference = MetricFrame(
        metrics={"selection_rate": selection_rate, "tpr": true_positive_rate, "fpr": false_positive_rate},
        y_true=y,
        y_pred=p,
        sensitive_features=labels,
    ).by_group
    for group in result.groups:
        for key in ("selection_rate", "tpr", "fpr"):
            assert group.metrics[key] == pytest.approx(reference.loc[group.group, key], rel=1e-12)
    dp = next(d for d in result.disparities if d.name == "demographic_parity_ratio" and d.method == "between_groups")
    assert dp.value == pytest.approx(demographic_parity_ratio(y, p, sensitive_features=labels))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_named_groups_reproduce_each_summary(seed: int) -> None:
    """Whatever the data, the groups a summary names, with their rates, give back its value."""
    group, y, p = data(n=2000, seed=seed)
    result = fairness_by_group("g", group, y, p, classification=True, min_group_size=30, resampling=Resampling(0))
    rates = {g.group: g.metrics for g in result.groups}
    for item in result.disparities:
        assert item.rate in ("selection_rate", "tpr", "fpr")
        if item.method == "between_groups":
            first, second = (rates[name][item.rate] for name in item.groups)
            assert item.group_rates == pytest.approx([first, second])
            expected = first - second if item.name.endswith("_difference") else first / second
            others = [r[item.rate] for r in rates.values()]
            assert first == (max(others) if item.name.endswith("_difference") else min(others))
        else:
            (name,) = item.groups
            overall = result.overall[item.rate]
            mine = rates[name][item.rate]
            expected = (
                abs(mine - overall) if item.name.endswith("_difference") else min(mine, overall) / max(mine, overall)
            )
        assert item.value == pytest.approx(expected, rel=1e-12), item.name


def test_small_groups_are_left_out_by_each_rates_denominator() -> None:
    """Group c has 200 rows but only 12 actual positives: it counts for selection rate, not for TPR."""
    rng = np.random.default_rng(0)
    group = pd.Series(["a"] * 1000 + ["b"] * 1000 + ["c"] * 200 + ["d"] * 10)
    y = np.r_[rng.random(1000) < 0.3, rng.random(1000) < 0.4, np.r_[np.ones(12), np.zeros(188)], np.ones(10)]
    y = y.astype(int)
    p = np.r_[
        rng.random(1000) < 0.3, rng.random(1000) < 0.5, np.r_[np.zeros(12), np.ones(100), np.zeros(88)], np.ones(10)
    ]
    p = p.astype(int)
    result = fairness_by_group("g", group, y, p, classification=True, min_group_size=30, resampling=Resampling(0))
    got = {(d.name, d.method): d for d in result.disparities}
    keep = group.isin(["a", "b", "c"]).to_numpy()
    dp = got["demographic_parity_difference", "between_groups"]
    assert dp.value == pytest.approx(demographic_parity_difference(y[keep], p[keep], sensitive_features=group[keep]))
    assert [e.group for e in dp.excluded] == ["d"]
    assert dp.excluded[0].reason == "10 rows behind the selection rate, fewer than 30"
    keep = group.isin(["a", "b"]).to_numpy()
    eo = got["equal_opportunity_difference", "between_groups"]
    assert eo.value == pytest.approx(equal_opportunity_difference(y[keep], p[keep], sensitive_features=group[keep]))
    assert [e.group for e in eo.excluded] == ["c", "d"]
    assert eo.excluded[0].reason == "12 actual positives behind the true positive rate, fewer than 30"
    c = next(g for g in result.groups if g.group == "c")
    assert not c.small and c.few == ["tpr", "fnr"] and c.denominators["tpr"] == 12 and c.denominators["fpr"] == 188
    # the setting turns it off: fairlearn's summary over every group
    everyone = fairness_by_group(
        "g", group, y, p, classification=True, min_group_size=30, exclude_small_groups=False, resampling=Resampling(0)
    )
    eo_all = next(
        d for d in everyone.disparities if d.name == "equal_opportunity_difference" and d.method == "between_groups"
    )
    assert eo_all.value == pytest.approx(equal_opportunity_difference(y, p, sensitive_features=group))
    assert eo_all.excluded == []


def test_named_pairs_and_a_reference_group() -> None:
    group, y, p = data()
    result = fairness_by_group(
        "g",
        group,
        y,
        p,
        classification=True,
        min_group_size=30,
        reference_group="a",
        pairs=[("c", "b"), ("c", "zz")],
        resampling=Resampling(100),
    )
    pairs = [(c.group, c.reference) for c in result.comparisons]
    assert pairs == [("b", "a"), ("c", "a"), ("c", "b"), ("c", "zz")]
    for comparison in result.comparisons[:3]:
        two = group.isin([comparison.group, comparison.reference]).to_numpy()
        for item in comparison.disparities:
            expected = FAIRLEARN[item.name](y[two], p[two], sensitive_features=group[two])
            assert item.value == pytest.approx(expected, rel=1e-12)
            assert item.interval is not None and item.interval.low <= item.value <= item.interval.high
            assert set(item.groups) == {comparison.group, comparison.reference}
    missing = result.comparisons[3]
    assert missing.disparities == [] and "'zz' is not a group" in missing.note


def test_a_group_too_small_for_one_rate_of_equalized_odds_is_left_out_of_both() -> None:
    """Group c has 200 actual negatives but 12 positives: left out of equalized odds entirely, even
    where its FPR gap would win, so the summary equals fairlearn's on groups a and b alone."""
    rng = np.random.default_rng(3)
    group = pd.Series(["a"] * 1000 + ["b"] * 1000 + ["c"] * 212)
    y = np.r_[rng.random(2000) < 0.4, np.ones(12), np.zeros(200)].astype(int)
    p = np.r_[rng.random(1000) < 0.3, rng.random(1000) < 0.35, np.ones(12), np.ones(200)].astype(int)  # c: FPR 1.0
    result = fairness_by_group("g", group, y, p, classification=True, min_group_size=30, resampling=Resampling(200))
    keep = group.isin(["a", "b"]).to_numpy()
    for name in ("equalized_odds_difference", "equalized_odds_ratio"):
        item = next(d for d in result.disparities if d.name == name and d.method == "between_groups")
        assert item.value == pytest.approx(FAIRLEARN[name](y[keep], p[keep], sensitive_features=group[keep]))
        assert set(item.groups) == {"a", "b"} and [e.group for e in item.excluded] == ["c"]
    to_overall = next(
        d for d in result.disparities if d.name == "demographic_parity_difference" and d.method == "to_overall"
    )
    # against all rows: each counted group against the rate over every row, the left-out ones included
    assert to_overall.group_rates[-1] == pytest.approx(p.mean())


def test_equal_rates_name_two_groups_and_the_pair_says_equal() -> None:
    from modelgov.render.views import disparity_groups

    group = pd.Series(["a"] * 100 + ["b"] * 100)
    y = np.tile([1, 0], 100)
    p = np.tile([1, 1, 0, 0], 50)
    result = fairness_by_group(
        "g", group, y, p, classification=True, min_group_size=30, pairs=[("a", "b")], resampling=Resampling(0)
    )
    dp = next(
        d for d in result.disparities if d.name == "demographic_parity_difference" and d.method == "between_groups"
    )
    assert dp.value == 0 and sorted(dp.groups) == ["a", "b"]
    pair = next(d for d in result.comparisons[0].disparities if d.name == "demographic_parity_ratio")
    assert disparity_groups(pair, short=True) == "equal"


def test_a_reference_group_is_compared_with_the_largest_groups_and_says_how_many_it_left() -> None:
    from modelgov.analysis.fairness import MAX_REFERENCE_PAIRS

    rng = np.random.default_rng(1)
    names = [f"g{i:03d}" for i in range(MAX_REFERENCE_PAIRS + 11)]
    group = pd.Series(np.repeat(names, np.arange(len(names)) + 40))
    y = (rng.random(len(group)) < 0.4).astype(int)
    p = (rng.random(len(group)) < 0.4).astype(int)
    result = fairness_by_group(
        "g", group, y, p, classification=True, min_group_size=30, reference_group="g000", resampling=Resampling(0)
    )
    compared = [c for c in result.comparisons if c.disparities]
    assert len(compared) == MAX_REFERENCE_PAIRS and compared[0].group == "g011"  # the 50 largest, in order
    assert (
        result.comparisons[-1].group == "(10 smaller groups)" and "only the 50 largest" in result.comparisons[-1].note
    )


def test_a_value_containing_the_intersection_sign_does_not_break_the_intersection() -> None:
    frame = pd.DataFrame({"a": ["x × y", "z"] * 50, "b": ["1", "2", "2", "1"] * 25})
    labels = combined_labels(frame, ["a", "b"])
    y = np.tile([0, 1], 50)
    result = fairness_by_group(
        str(labels.name), labels, y, y, classification=True, min_group_size=1, features=["a", "b"]
    )
    odd = next(g for g in result.groups if g.group.startswith('"x × y" × '))  # the value quoted in the label
    assert odd.values == {} and odd.count == 25  # "x × y" with b = 1 (and 25 more with b = 2)


@pytest.mark.parametrize(
    ("rates_wanted", "measures"),
    [
        (("selection_rate",), ("demographic_parity_difference", "demographic_parity_ratio")),
        (("tpr", "fpr", "precision"), ("equalized_odds_ratio", "equal_opportunity_difference")),
        ((), ()),
        # asked for out of their usual order, and a summary whose rates were not asked for
        (("precision", "selection_rate"), ("equal_opportunity_difference", "demographic_parity_difference")),
        (("selection_rate",), iter(["equalized_odds_difference", "demographic_parity_ratio"])),
    ],
)
def test_asking_for_some_rates_and_summaries_computes_exactly_those(rates_wanted, measures) -> None:
    """Fairness in production asks each window for the few rates and summaries it reports: they are
    the ones all of them give, to the bit, intervals and named groups included, in the same order,
    and nothing else is computed (each is drawn from the same resamples)."""
    from modelgov.analysis import disparity

    rng = np.random.default_rng(3)
    cells = rng.integers(0, 60, size=(5, 4)).astype(float)
    cells[4] = [1, 0, 2, 3]  # a small group, left out of some summaries
    rules = disparity.SummaryRules(min_size=8, pairs=((1, 0), (2, 0)))
    resampling = Resampling(resamples=300, seed=11)
    labels = list("abcde")
    every = disparity.classification_statistics(cells, resampling, labels, rules)
    measures = list(measures)  # one of them is an iterator, read once by the call below
    some = disparity.classification_statistics(
        cells, resampling, labels, rules, rates_wanted=iter(rates_wanted), measures=iter(measures)
    )
    assert [d.model_dump() for d in some.disparities] == [
        d.model_dump() for d in every.disparities if d.name in measures
    ]
    for few, all_ in zip(some.group_intervals, every.group_intervals, strict=True):
        assert few == {k: v for k, v in all_.items() if k in rates_wanted}
    assert some.overall_intervals == {k: v for k, v in every.overall_intervals.items() if k in rates_wanted}
    assert some.denominators == every.denominators and some.few == every.few
    for mine, theirs in zip(some.comparisons, every.comparisons, strict=True):
        assert [d.model_dump() for d in mine.disparities] == [
            d.model_dump() for d in theirs.disparities if d.name in measures
        ]


def test_an_unknown_rate_or_summary_is_refused_not_left_out() -> None:
    from modelgov.analysis import disparity

    cells = np.array([[5.0, 2, 3, 10], [4, 3, 2, 11]])
    with pytest.raises(ValueError, match=r"unknown disparity summary name.*demographic_parity"):
        disparity.classification_statistics(cells, Resampling(resamples=0), measures=["demographic_parity"])
    with pytest.raises(ValueError, match=r"unknown rate name.*recall"):
        disparity.classification_statistics(cells, Resampling(resamples=0), rates_wanted=["tpr", "recall"])
    with pytest.raises(TypeError, match="got the text"):
        disparity.classification_statistics(cells, Resampling(resamples=0), measures="demographic_parity_ratio")
