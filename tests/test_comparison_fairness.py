"""Paired group-rate and disparity deltas between two versions: the point values equal fairlearn's on
each version's rows, and the intervals equal a direct paired bootstrap of the rows written here."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from fairlearn.metrics import (
    MetricFrame,
    demographic_parity_difference,
    demographic_parity_ratio,
    equalized_odds_difference,
    false_positive_rate,
    selection_rate,
    true_positive_rate,
)

from modelgov.analysis.comparison import RunArrays, pair_rows
from modelgov.analysis.comparison_fairness import GroupsDiffer, fairness_deltas
from modelgov.analysis.resampling import Resampling


def champion_and_challenger(n: int = 3000, seed: int = 7):
    """Three groups; the challenger selects group B far more often than the champion, the others alike."""
    rng = np.random.default_rng(seed)
    group = rng.choice(np.array(["A", "B", "C"], dtype=object), size=n, p=[0.5, 0.3, 0.2])
    y = (rng.random(n) < 0.35).astype(int)
    noise = rng.normal(0, 1, n)
    champion = (1.2 * y + noise > 0.9).astype(int)
    challenger = champion.copy()
    lift = (group == "B") & (rng.random(n) < 0.25)
    challenger[lift] = 1
    ids = pd.Series([f"r{i}" for i in range(n)])
    new = RunArrays(y, challenger, None, ids, groups={"region": group})
    old = RunArrays(y, champion, None, ids, groups={"region": group})
    return new, old


def by_name(result):
    groups = {(g.group, g.rate): g for g in result.groups}
    disparities = {(d.name, d.method): d for d in result.disparities}
    return groups, disparities


def test_point_deltas_equal_fairlearn_on_each_versions_rows() -> None:
    new, old = champion_and_challenger()
    [result] = fairness_deltas(new, old, pair_rows(new, old, row_id="id"), resampling=Resampling(0), min_group_size=30)
    assert result.feature == "region"
    groups, disparities = by_name(result)
    sensitive = pd.Series(new.groups["region"])
    frames = {
        name: MetricFrame(
            metrics={"selection_rate": selection_rate, "tpr": true_positive_rate, "fpr": false_positive_rate},
            y_true=run.y_true,
            y_pred=run.y_pred,
            sensitive_features=sensitive,
        ).by_group
        for name, run in (("new", new), ("old", old))
    }
    for group in ("A", "B", "C"):
        for rate in ("selection_rate", "tpr", "fpr"):
            item = groups[group, rate]
            assert item.this == pytest.approx(frames["new"].loc[group, rate])
            assert item.other == pytest.approx(frames["old"].loc[group, rate])
            assert item.delta == pytest.approx(frames["new"].loc[group, rate] - frames["old"].loc[group, rate])
    for name, function in (
        ("demographic_parity_difference", demographic_parity_difference),
        ("demographic_parity_ratio", demographic_parity_ratio),
        ("equalized_odds_difference", equalized_odds_difference),
    ):
        for method in ("between_groups", "to_overall"):
            expected = [
                function(run.y_true, run.y_pred, sensitive_features=sensitive, method=method) for run in (new, old)
            ]
            item = disparities[name, method]
            assert item.this == pytest.approx(expected[0])
            assert item.other == pytest.approx(expected[1])
            assert item.delta == pytest.approx(expected[0] - expected[1])
    gap = disparities["demographic_parity_difference", "between_groups"]
    assert gap.this_groups[0] == "B", "the challenger's gap is B's selection rate against the lowest group"
    assert groups["A", "selection_rate"].delta == 0 and groups["C", "selection_rate"].delta == 0


def test_intervals_match_a_direct_paired_row_bootstrap() -> None:
    """Rows drawn with replacement, both versions' predictions read on the same drawn rows, and the
    rates and the gap recomputed from each resample's rows: the bounds agree within Monte Carlo error
    (the module draws the joint cell counts from a multinomial, which is the same distribution)."""
    new, old = champion_and_challenger(n=800, seed=2)
    resampling = Resampling(resamples=4000, level=0.9, seed=5)
    [result] = fairness_deltas(new, old, pair_rows(new, old, row_id="id"), resampling=resampling, min_group_size=1)
    groups, disparities = by_name(result)
    rng = np.random.default_rng(17)
    names, codes = np.unique(np.asarray(new.groups["region"]), return_inverse=True)
    drawn = rng.integers(0, 800, size=(4000, 800))  # each row: one resample's rows
    # each resample's rows per group, and its positive predictions per group under each version
    cell = (codes[drawn] + len(names) * np.arange(4000)[:, None]).ravel()

    def per_group(weights: np.ndarray | None) -> np.ndarray:
        found = np.bincount(
            cell, weights=None if weights is None else weights[drawn].ravel(), minlength=4000 * len(names)
        )
        return found.reshape(4000, len(names))

    rows = per_group(None)
    with np.errstate(invalid="ignore"):  # a group no row of a resample drew has no rate (pandas leaves it out)
        rate_new = per_group(np.asarray(new.y_pred, dtype=float)) / rows
        rate_old = per_group(np.asarray(old.y_pred, dtype=float)) / rows
    b = int(np.flatnonzero(names == "B")[0])
    rate_b = rate_new[:, b] - rate_old[:, b]
    spread = lambda rates: np.nanmax(rates, axis=1) - np.nanmin(rates, axis=1)  # noqa: E731
    gap = spread(rate_new) - spread(rate_old)
    for item, samples in (
        (groups["B", "selection_rate"], rate_b),
        (disparities["demographic_parity_difference", "between_groups"], gap),
    ):
        low, high = np.percentile(samples, [5, 95])
        assert item.interval.low == pytest.approx(low, abs=0.006)
        assert item.interval.high == pytest.approx(high, abs=0.006)
        assert item.interval.method.startswith("paired")
    assert groups["B", "selection_rate"].interval.low > 0, "B's planted rise is clear of zero"


def test_a_row_chosen_twice_counts_twice_in_both_versions() -> None:
    """The joint counts are the rows' (group, this cell, other cell): a resample that draws every row
    once is the data itself, so the multinomial's mean is the observed difference."""
    new, old = champion_and_challenger(n=1200, seed=8)
    [result] = fairness_deltas(
        new, old, pair_rows(new, old, row_id="id"), resampling=Resampling(20000, seed=3), min_group_size=1
    )
    groups, _ = by_name(result)
    item = groups["B", "selection_rate"]
    assert (item.interval.low + item.interval.high) / 2 == pytest.approx(item.delta, abs=0.004)


def test_paired_interval_is_narrower_than_the_two_separate_ones() -> None:
    new, old = champion_and_challenger(n=2000, seed=4)
    [result] = fairness_deltas(
        new, old, pair_rows(new, old, row_id="id"), resampling=Resampling(300, seed=1), min_group_size=30
    )
    groups, _ = by_name(result)
    item = groups["A", "tpr"]
    width = item.interval.high - item.interval.low
    # unpaired: independent resamples of each version's rows
    rng = np.random.default_rng(9)
    mask = (new.groups["region"] == "A") & (new.y_true == 1)
    values = []
    for run in (new, old):
        rows = run.y_pred[mask]
        values.append([rows[rng.integers(0, len(rows), len(rows))].mean() for _ in range(300)])
    unpaired = np.subtract(*values)
    assert width < (np.percentile(unpaired, 97.5) - np.percentile(unpaired, 2.5)) / 3


def test_rows_shuffled_by_id_give_the_same_deltas() -> None:
    new, old = champion_and_challenger(n=600)
    order = np.random.default_rng(3).permutation(600)
    shuffled = RunArrays(
        old.y_true[order],
        old.y_pred[order],
        None,
        old.row_ids[order].reset_index(drop=True),
        groups={"region": old.groups["region"][order]},
    )
    settings = {"resampling": Resampling(100), "min_group_size": 30}
    [direct] = fairness_deltas(new, old, pair_rows(new, old, row_id="id"), **settings)
    [paired] = fairness_deltas(new, shuffled, pair_rows(new, shuffled, row_id="id"), **settings)
    assert direct == paired


def test_rows_in_different_groups_are_refused() -> None:
    new, old = champion_and_challenger(n=300)
    relabelled = RunArrays(old.y_true, old.y_pred, None, old.row_ids, groups={"region": old.groups["region"][::-1]})
    with pytest.raises(GroupsDiffer, match="region"):
        fairness_deltas(
            new, relabelled, pair_rows(new, relabelled, row_id="id"), resampling=Resampling(0), min_group_size=1
        )


def test_small_groups_are_left_out_of_both_summaries() -> None:
    new, old = champion_and_challenger(n=3000)
    [result] = fairness_deltas(new, old, pair_rows(new, old, row_id="id"), resampling=Resampling(0), min_group_size=700)
    left_out = {e.group for e in result.excluded}
    assert "C" in left_out
    _, disparities = by_name(result)
    item = disparities["demographic_parity_difference", "between_groups"]
    assert "C" not in item.this_groups + item.other_groups
