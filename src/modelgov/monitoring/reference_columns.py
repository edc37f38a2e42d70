"""The reference's columns read one ahead of their profiling, each numeric column sorted in a thread
while the report profiles and plans the column before it.

Profiling a large numeric reference column is mostly sorting it: KS and Wasserstein need its exact
sorted values (:mod:`.reference`), and a million values take about 50 ms to sort, four fifths of the
column's profile. NumPy lets go of Python's lock while it sorts, so a thread sorts one column while
the report's own thread reads the next and profiles, plans and puts away the one before. The thread
only sorts, in place, an array the report's thread made: it allocates nothing, so no memory is
left behind in an allocator arena of its own. The sorted values are the same either way (the same
sort of the same array), so every figure is too.

What is held is bounded: the column being profiled and one column read ahead. A column that cannot
be read keeps its error until the report reaches it, after every column before it has been
profiled, checked and planned, so a workspace with several problems hears of them in the same order
as when the columns were read in turn.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .reference import Kind, finite_values, infer_kind, not_numbers


@dataclass(frozen=True)
class ReadColumn:
    """One reference column as read, and, when it will be compared as numbers, its values sorted."""

    values: pd.Series
    kind: Kind  # the declared kind, else the inferred one (:func:`.reference.infer_kind`)
    ordered: np.ndarray | None  # finite_values(values), sorted: for a numeric column holding numbers


@dataclass
class _Started:
    values: pd.Series
    kind: Kind
    finite: np.ndarray | None
    sorting: Future[None] | None

    def finished(self) -> ReadColumn:
        if self.sorting is not None:
            self.sorting.result()
        return ReadColumn(self.values, self.kind, self.finite)


def read_ahead(load: Callable[[str], pd.Series], wanted: Sequence[tuple[str, Kind | None]]) -> Iterator[ReadColumn]:
    """Each ``(column, declared kind)`` of ``wanted`` through ``load``, in order, its values sorted in a
    thread while the caller works on the column before."""
    if not wanted:
        return
    with ThreadPoolExecutor(1, thread_name_prefix="modelgov-reference") as pool:

        def start(column: str, declared: Kind | None) -> _Started | Exception:
            try:
                values = load(column)
                kind = declared or infer_kind(values)
                if kind != "numeric" or not_numbers(values) is not None:
                    return _Started(values, kind, None, None)
                finite = finite_values(values)
                return _Started(values, kind, finite, pool.submit(finite.sort))
            except Exception as exc:  # kept until the caller reaches this column
                return exc

        ahead = start(*wanted[0])
        for index in range(len(wanted)):
            current = ahead
            if index + 1 < len(wanted):
                ahead = start(*wanted[index + 1])  # read while the current column sorts
            if isinstance(current, Exception):
                raise current
            yield current.finished()
            del current
