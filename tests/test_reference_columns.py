"""The reference's columns are read one ahead and sorted in a thread (:mod:`modelgov.monitoring.reference_columns`),
and the windows tested together share one column's prefix sums (:func:`.numeric_window.windows_share_prefix_sums`):
the profiles and the reports are what they were, errors come in the same order, and what is held stays bounded."""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelgov.monitoring import numeric_window
from modelgov.monitoring.reference import DECILES, profile_reference, sorted_quantile, sorted_unique
from modelgov.monitoring.reference_columns import read_ahead

RNG = np.random.default_rng(7)
COLUMNS = {
    "normal": pd.Series(RNG.normal(size=50_000)),
    "with gaps": pd.Series(np.where(RNG.random(20_000) < 0.1, np.nan, RNG.exponential(size=20_000))),
    "infinities": pd.Series([1.0, np.inf, -np.inf, -0.0, 0.0, 3.0, np.nan, 2.0]),
    "few integers": pd.Series(RNG.integers(0, 4, 30_000)),  # inferred categorical
    "many integers": pd.Series(RNG.integers(0, 1000, 30_000)),  # inferred numeric
    "text": pd.Series(RNG.choice(["a", "b", "c"], 1000)),
    "flags": pd.Series(RNG.random(1000) < 0.5),
    "empty": pd.Series([], dtype="float64"),
}


@pytest.mark.parametrize("declared", [None, "categorical"])
def test_each_column_is_profiled_as_when_read_in_turn(declared) -> None:
    wanted = [(name, declared) for name in COLUMNS]
    for (name, _), read in zip(wanted, read_ahead(COLUMNS.__getitem__, wanted), strict=True):
        assert read.values is COLUMNS[name]
        alone = profile_reference(COLUMNS[name], declared, column=name)
        ahead = profile_reference(read.values, read.kind, column=name, ordered=read.ordered)
        assert ahead.kind == alone.kind == read.kind
        assert ahead.values.tobytes() == alone.values.tobytes()  # every bit, -0.0 among them
        assert (ahead.rows, ahead.missing, ahead.distinct, ahead.std) == (
            alone.rows,
            alone.missing,
            alone.distinct,
            alone.std,
        )
        assert ahead.deciles.tobytes() == alone.deciles.tobytes() and ahead.categories == alone.categories
        assert (read.ordered is not None) == (alone.kind == "numeric")  # sorted ahead exactly when needed


def test_at_most_one_column_is_read_ahead_and_the_thread_only_sorts() -> None:
    loaded: list[tuple[str, str]] = []
    names = [f"c{i}" for i in range(6)]

    def load(column: str) -> pd.Series:
        loaded.append((column, threading.current_thread().name))
        return pd.Series(RNG.normal(size=10_000))

    for index, _ in enumerate(read_ahead(load, [(n, None) for n in names])):
        assert len(loaded) <= index + 2
    assert [c for c, _ in loaded] == names
    assert {thread for _, thread in loaded} == {threading.main_thread().name}  # read in the caller's thread


def test_an_unreadable_column_is_reported_only_when_reached() -> None:
    class Unreadable(Exception):
        pass

    def load(column: str) -> pd.Series:
        if column == "broken":
            raise Unreadable(column)
        return pd.Series(np.arange(20_000.0))

    got = []
    ahead = read_ahead(load, [("a", None), ("b", None), ("broken", None), ("c", None)])
    with pytest.raises(Unreadable):
        for read in ahead:
            got.append(read)  # the caller's own checks of "a" and "b" run before the error
    assert len(got) == 2


def test_a_caller_that_stops_early_leaves_no_work_running() -> None:
    before = threading.active_count()
    ahead = read_ahead(lambda c: pd.Series(RNG.normal(size=100_000)), [(f"c{i}", None) for i in range(5)])
    next(ahead)
    ahead.close()
    assert threading.active_count() == before


def test_sorted_unique_is_numpys_on_sorted_values() -> None:
    for values in [RNG.integers(0, 50, 10_000).astype(float), RNG.normal(size=1000), np.array([]), np.array([2.0])]:
        values = np.sort(values)
        assert np.array_equal(sorted_unique(values), np.unique(values))
        expected = np.unique(values, return_counts=True)
        got = sorted_unique(values, return_counts=True)
        assert np.array_equal(got[0], expected[0]) and np.array_equal(got[1], expected[1])


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False) | st.sampled_from([0.0, -0.0, 1.0]), min_size=1, max_size=400),
    st.lists(st.floats(0, 1), min_size=1, max_size=30),
)
def test_sorted_quantile_is_numpys_to_the_bit_and_leaves_the_values_alone(values: list[float], q: list[float]) -> None:
    values = np.sort(np.array(values))
    before = values.copy()
    for qs in (np.array(q), DECILES, np.linspace(0.0, 1.0, 2001)):
        got = sorted_quantile(values, qs)
        assert type(got) is np.ndarray and got.tobytes() == np.quantile(values, qs).tobytes()
    assert values.tobytes() == before.tobytes()


def test_windows_tested_together_share_one_pass_over_the_reference(monkeypatch) -> None:
    from test_drift import numeric_aggregate

    ref = np.sort(RNG.normal(size=40_000))
    edges = np.unique(np.quantile(ref, np.linspace(0, 1, 301)))
    windows = [RNG.normal(shift, 1, 5_000) for shift in (0.0, 0.1, 0.3)]
    passes = []
    made = numeric_window._prefix_sums
    monkeypatch.setattr(numeric_window, "_prefix_sums", lambda *a: passes.append(1) or made(*a))

    def distances() -> list[float]:
        out = []
        for values in windows:
            agg = numeric_aggregate(values, edges)
            cells = numeric_window.window_cells(edges, agg, ref)
            out.append(numeric_window.wasserstein(ref, edges, cells, agg.count))
        return out

    alone = distances()
    assert len(passes) == 3
    passes.clear()
    with numeric_window.windows_share_prefix_sums():
        shared = distances()
    assert len(passes) == 1 and shared == alone
    passes.clear()
    distances()  # after the block, nothing is kept
    assert len(passes) == 3
