"""The objects a build keeps to its end, kept out of the garbage collector's full passes.

A build holds its workspace, every model's results and the manifest until it ends: for a fleet of
100 models, close to a million Python objects. CPython's collector passes over every object of its
oldest generation whenever that generation has grown by a quarter, so while a build's objects
accumulate it traverses them again and again: ten full passes in a warm build of that fleet, 2–3 s
of its 17 s, each finding almost nothing to free (docs/performance.md). :func:`keep` moves every
object alive into the collector's permanent generation (``gc.freeze``), which it never traverses;
whatever is made afterwards is collected as before, so memory stays bounded by what is live.
:func:`for_the_build` hands them back at its end (``gc.unfreeze``), so that a process that builds
again (``modelgov serve``, the tests) collects what the last build left; :func:`keep` outside it
does nothing.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["for_the_build", "keep"]

_depth = 0  # how many for_the_build() blocks this thread of work is inside


@contextmanager
def for_the_build() -> Iterator[None]:
    """Within the block, :func:`keep` freezes the objects alive; at its end, they are all unfrozen."""
    global _depth
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0:
            gc.unfreeze()


def keep() -> None:
    """Keep every object alive now out of the collector's full passes until the build ends. Call it
    after a step that made objects the build keeps (the workspace, a model's results, the manifest)."""
    if _depth:
        gc.freeze()
