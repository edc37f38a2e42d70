"""The reference's columns are read one ahead and sorted in a thread (:mod:`modelgov.monitoring.reference_columns`),
and the windows tested together share one column's prefix sums (:func:`.numeric_window.windows_share_prefix_sums`):
the profiles and the reports are what they were, errors come in the same order, and what is held stays bounded."""

from __future__ import annotations

import re
import threading
import weakref
from contextlib import closing

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelgov.monitoring import numeric_window
from modelgov.monitoring.reference import (
    DECILES,
    EVEN_EDGES,
    MAX_EXACT_EDGES,
    QUANTILE_EDGES,
    numeric_edges,
    profile_reference,
    sorted_quantile,
    sorted_unique,
)
from modelgov.monitoring.reference_columns import read_ahead

RNG = np.random.default_rng(7)
COLUMNS = {
    "normal": pd.Series(RNG.normal(size=50_000)),
    "with gaps": pd.Series(np.where(RNG.random(20_000) < 0.1, np.nan, RNG.exponential(size=20_000))),
    "infinities": pd.Series([1.0, np.inf, -np.inf, -0.0, 0.0, 3.0, np.nan, 2.0]),
    # small negatives rounded to zero: -0.0 and 0.0 together, which a sort may order either way
    "both zeros": pd.Series(np.round(RNG.normal(0.02, 0.05, 2000), 1)),
    "few integers": pd.Series(RNG.integers(0, 4, 30_000)),  # inferred categorical
    "many integers": pd.Series(RNG.integers(0, 1000, 30_000)),  # inferred numeric
    "nullable integers": pd.Series(pd.array([1, None, 3, 40, 5, 6, 70, 8, 9, 10, 11, 12], dtype="Int64")),
    "numbers as objects": pd.Series([1, 2.5, None, 4, 5, 6, 7, 8, 9, 10, 11, 12.5], dtype=object),
    "text": pd.Series(RNG.choice(["a", "b", "c"], 1000)),
    "flags": pd.Series(RNG.random(1000) < 0.5),
    "empty": pd.Series([], dtype="float64"),
}


def profiled_as_before(series: pd.Series, declared, name: str):
    """The numeric profile's figures as the code before the read-ahead computed them: NumPy's own
    sort, quantile and unique of the finite values (an independent computation)."""
    raw = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)
    values = raw[np.isfinite(raw)]
    values.sort()
    deciles = np.unique(np.quantile(values, DECILES)) if len(values) else np.empty(0)
    return values, deciles


@pytest.mark.parametrize("declared", [None, "categorical", "numeric"])
def test_each_column_is_profiled_as_when_read_in_turn(declared) -> None:
    wanted = [(name, declared) for name in COLUMNS]
    ahead = read_ahead(COLUMNS.__getitem__, wanted)
    for name, _ in wanted:
        read = next(ahead)
        assert read.values is COLUMNS[name]
        try:
            alone = profile_reference(COLUMNS[name], declared, column=name)
        except ValueError as refused:  # declared numeric, holding text or flags: the same refusal
            with pytest.raises(ValueError, match=re.escape(str(refused))):
                profile_reference(read.values, read.kind, column=name, ordered=read.ordered)
            continue
        got = profile_reference(read.values, read.kind, column=name, ordered=read.ordered)
        assert got.kind == alone.kind == read.kind
        assert (got.rows, got.missing, got.distinct, got.std) == (alone.rows, alone.missing, alone.distinct, alone.std)
        assert got.categories == alone.categories
        if got.kind == "numeric":
            values, deciles = profiled_as_before(COLUMNS[name], declared, name)
            assert got.values.tobytes() == values.tobytes()  # every bit, the sign of each zero among them
            assert got.deciles.tobytes() == deciles.tobytes()
            assert numeric_edges(got)[0].tobytes() == edges_as_before(values, deciles, got.distinct).tobytes()
    with pytest.raises(StopIteration):
        next(ahead)


def edges_as_before(values: np.ndarray, deciles: np.ndarray, distinct: int) -> np.ndarray:
    if not len(values):
        return np.empty(0)
    if distinct <= MAX_EXACT_EDGES:
        base = np.unique(values)
    else:
        base = np.concatenate(
            [
                np.quantile(values, np.linspace(0.0, 1.0, QUANTILE_EDGES + 1)),
                np.linspace(values[0], values[-1], EVEN_EDGES + 1),
            ]
        )
    return np.unique(np.concatenate([base, deciles])).astype("float64")


def test_only_numbers_held_as_numbers_are_sorted_ahead() -> None:
    wanted = [(name, None) for name in COLUMNS]
    for (name, _), read in zip(wanted, read_ahead(COLUMNS.__getitem__, wanted), strict=True):
        plain = pd.api.types.is_numeric_dtype(COLUMNS[name]) and not pd.api.types.is_bool_dtype(COLUMNS[name])
        assert (read.ordered is not None) == (read.kind == "numeric" and plain), name


class Tracked:
    """A loader of numeric columns that records, at each read, which columns read before (their
    Series or their sorted values) are still alive."""

    def __init__(self) -> None:
        self.alive: dict[str, list[weakref.ref]] = {}
        self.seen: list[tuple[str, list[str]]] = []

    def load(self, column: str) -> pd.Series:
        self.seen.append((column, self.living()))
        series = pd.Series(RNG.normal(size=10_000))
        self.alive[column] = [weakref.ref(series)]
        return series

    def track(self, column: str, read) -> None:
        if read.ordered is not None:
            self.alive[column].append(weakref.ref(read.ordered))

    def living(self) -> list[str]:
        return sorted(name for name, refs in self.alive.items() if any(ref() is not None for ref in refs))


def test_what_is_held_is_the_column_profiled_and_the_next() -> None:
    """In a loop like the report's, a column the caller has let go is gone before the next but one is read."""
    tracked, names = Tracked(), [f"c{i}" for i in range(6)]
    ahead = read_ahead(tracked.load, [(n, None) for n in names])
    for name in names:
        read = next(ahead)
        tracked.track(name, read)
        del read
    # each column is read while only the one before it (read ahead, not yet handed over) is alive
    assert tracked.seen == [("c0", []), ("c1", ["c0"]), *((f"c{i}", [f"c{i - 1}"]) for i in range(2, 6))]


def test_the_report_lets_each_column_go_before_the_next_but_one_is_read(tmp_path, monkeypatch) -> None:
    from modelgov.monitoring import report
    from test_monitoring_reference import report_for, workspace

    root, _ = workspace(tmp_path, "holdout")  # income, age and the model's output: three columns
    seen: list[list[str]] = []

    def tracking(load, wanted):
        alive: list[tuple[str, weakref.ref]] = []

        def tracked(column: str) -> pd.Series:
            seen.append([name for name, ref in alive if ref() is not None])
            series = load(column)
            alive.append((column, weakref.ref(series)))
            return series

        return read_ahead(tracked, wanted)

    monkeypatch.setattr(report, "read_ahead", tracking)
    report_for(root)
    assert len(seen) == 3 and all(len(living) <= 1 for living in seen), seen


def test_the_thread_only_sorts() -> None:
    loaded: list[str] = []

    def load(column: str) -> pd.Series:
        loaded.append(threading.current_thread().name)
        return pd.Series(RNG.normal(size=10_000))

    reads = list(read_ahead(load, [(f"c{i}", None) for i in range(4)]))
    assert set(loaded) == {threading.main_thread().name}  # read in the caller's thread
    assert all(np.all(r.ordered[1:] >= r.ordered[:-1]) for r in reads)


def test_where_the_thread_cannot_start_each_column_is_sorted_here_and_let_go(monkeypatch) -> None:
    start = threading.Thread.start

    def refused(self: threading.Thread) -> None:
        if self.name.startswith("modelgov-reference"):
            raise RuntimeError("can't start new thread")
        start(self)

    monkeypatch.setattr(threading.Thread, "start", refused)
    tracked, names = Tracked(), [f"c{i}" for i in range(5)]
    ahead = read_ahead(tracked.load, [(n, None) for n in names])
    for name in names:
        read = next(ahead)
        tracked.track(name, read)
        assert np.all(read.ordered[1:] >= read.ordered[:-1])
        del read
    # nothing left queued for a thread that never came: each column is let go as before
    assert tracked.seen == [("c0", []), ("c1", ["c0"]), *((f"c{i}", [f"c{i - 1}"]) for i in range(2, 5))]


class Unreadable(Exception):
    pass


def load_but_broken(column: str) -> pd.Series:
    """A column of numbers, except the one named "broken", which cannot be read."""
    if column == "broken":
        raise Unreadable(column)
    return pd.Series(np.arange(20_000.0))


def test_a_callers_error_comes_before_a_later_unreadable_column() -> None:
    class Refused(Exception):
        pass

    ahead = read_ahead(load_but_broken, [("a", None), ("broken", None)])
    with pytest.raises(Refused), closing(ahead):
        next(ahead)  # "broken" has been read (and failed) by now, ahead of its turn
        raise Refused("the caller's own check of the first column")


def test_an_unreadable_column_is_reported_only_when_reached() -> None:
    read_so_far: dict[str, weakref.ref] = {}

    def load(column: str) -> pd.Series:
        series = load_but_broken(column)
        read_so_far[column] = weakref.ref(series)
        return series

    got = []
    ahead = read_ahead(load, [("a", None), ("b", None), ("broken", None), ("c", None)])
    with pytest.raises(Unreadable) as raised:
        for read in ahead:
            got.append(read)  # the caller's own checks of "a" and "b" run before the error
    assert [r.values is read_so_far[n]() for r, n in zip(got, "ab", strict=True)] == [True, True]
    got.clear()
    assert raised.value.__traceback__ is not None  # kept, with the reader's frame
    assert set(read_so_far) == {"a", "b", "c"}  # "c" was read ahead of the broken column …
    assert read_so_far["c"]() is None  # … and the kept error does not keep it


def test_a_caller_that_stops_early_leaves_no_work_running() -> None:
    before = threading.active_count()
    ahead = read_ahead(lambda c: pd.Series(RNG.normal(size=100_000)), [(f"c{i}", None) for i in range(5)])
    next(ahead)
    ahead.close()
    assert threading.active_count() == before


def test_sorted_unique_is_numpys_on_sorted_values() -> None:
    both_zeros = [
        np.array([-0.0] + [0.0] * 8),
        np.array([0.0] * 5 + [-0.0] * 9),
        np.round(RNG.normal(0, 0.05, 3000), 1),
    ]
    for values in [
        RNG.integers(0, 50, 10_000).astype(float),
        RNG.normal(size=1000),
        np.array([]),
        np.array([2.0]),
        *both_zeros,
    ]:
        values = np.sort(values)
        assert sorted_unique(values).tobytes() == np.unique(values).tobytes()  # the sign of a zero too
        expected = np.unique(values, return_counts=True)
        got = sorted_unique(values, return_counts=True)
        assert got[0].tobytes() == expected[0].tobytes() and np.array_equal(got[1], expected[1])


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


@pytest.mark.parametrize(
    "values",
    [
        np.array([-0.0] * 8 + [0.0] * 34),  # in order as written: NumPy's partition reorders the zeros
        np.array([-2.0] + [0.0] * 40 + [-0.0] + [1.0]),
        np.sort(np.round(np.random.default_rng(1).normal(0.02, 0.05, 2000), 1)),
    ],
    ids=["-0 then 0", "0 then -0", "rounded"],
)
def test_sorted_quantile_of_both_zeros_is_numpys_to_the_bit(values: np.ndarray) -> None:
    for qs in (DECILES, np.linspace(0.0, 1.0, 2001), np.array([0.5])):
        assert sorted_quantile(values, qs).tobytes() == np.quantile(values, qs).tobytes()


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
