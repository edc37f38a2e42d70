"""The reference's columns read one ahead of their profiling, each numeric column sorted in a thread
while the report profiles and plans the column before it.

Profiling a large numeric reference column is mostly sorting it: KS and Wasserstein need its exact
sorted values (:mod:`.reference`), and a million values take about 50 ms to sort, four fifths of the
column's profile. NumPy lets go of Python's lock while it sorts, so a thread sorts one column while
the report's own thread reads the next and profiles, plans and puts away the one before. The thread
only sorts, in place, an array the report's thread made: it allocates nothing, so no memory is
left behind in allocator heaps of its own. The sorted values are the same either way (the same sort
of the same array), so every figure is too.

What is held is bounded: while the report profiles a column, that column and the next (read, and
sorting); while the next but one is read, the next and that one. Nothing here keeps a column the
report has let go. A column that cannot be read keeps its error until the report reaches it, after
every column before it has been profiled, checked and planned, so a workspace with several problems
hears of them in the same order as when the columns were read in turn. Where the thread cannot be
started, each column is sorted in the report's thread, as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .reference import Kind, finite_values, infer_kind


@dataclass(frozen=True)
class ReadColumn:
    """One reference column as read, and, when it will be compared as numbers, its values sorted."""

    values: pd.Series
    kind: Kind  # the declared kind, else the inferred one (:func:`.reference.infer_kind`)
    ordered: np.ndarray | None  # finite_values(values), sorted; None: the profile sorts them itself


@dataclass
class _Started:
    values: pd.Series
    kind: Kind
    finite: np.ndarray | None
    sorting: Future[None] | None = None

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
        threaded = _started(pool)

        def start(column: str, declared: Kind | None) -> _Started | Exception:
            values = None
            try:
                values = load(column)
                kind = declared or infer_kind(values)
                # numbers held as numbers: others (text, flags, objects) are refused or converted by
                # the profile, in the report's thread, as before
                plain = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
                started = _Started(values, kind, finite_values(values) if kind == "numeric" and plain else None)
            except Exception as exc:  # kept until the caller reaches this column
                values = None  # the error's traceback keeps this frame: not the column with it
                return exc
            if started.finite is not None:
                if threaded:
                    started.sorting = pool.submit(started.finite.sort)
                else:
                    started.finite.sort()
            return started

        pending = [start(*wanted[0])]
        for index in range(len(wanted)):
            if index + 1 < len(wanted):
                pending.append(start(*wanted[index + 1]))  # read while the current column sorts
            if isinstance(pending[0], Exception):
                error = pending.pop(0)
                pending.clear()  # the error's traceback keeps this frame: not the column read ahead
                raise error
            # handed over without a name in this frame: the caller alone decides how long it lives
            yield pending.pop(0).finished()


def _started(pool: ThreadPoolExecutor) -> bool:
    """Whether the pool's one thread could be started (a container's limit on threads may refuse it).
    It is started here, before any column is queued: a refused start leaves the job it was for in
    the queue, and a later start would run it, sorting a column the caller is already reading. With
    one worker, the pool never starts another."""
    try:
        pool.submit(int).result()
    except RuntimeError:
        return False
    return True
