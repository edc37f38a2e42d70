"""The objects a build keeps to its end, kept out of the garbage collector's full passes.

A build holds its workspace, every model's results and the manifest until it ends: for a fleet of
100 models, close to a million Python objects. CPython's collector passes over every object of its
oldest generation whenever that generation has grown by a quarter, so while a build's objects
accumulate it traverses them again and again: ten full passes in a warm build of that fleet, about
2 s of it, each finding almost nothing to free (docs/performance.md).

:func:`for_the_build` begins by moving every object the process holds into the collector's
permanent generation (``gc.freeze``), which its passes skip. :func:`keep` then collects what is
garbage among the objects made since the block began or since the last call (a pass over those
objects only: the older ones are frozen), and freezes the rest. Nothing the build made and dropped
is frozen, so its memory stays bounded by what it keeps, and objects made afterwards are collected
as before; only garbage the process held before the build waits for the build's end. The block
hands everything back at its end (``gc.unfreeze``), also when the build fails, so that a process
that builds again (``modelgov serve``, the tests) collects what the last build left. Outside it :func:`keep` does nothing, and so does a build in a process where something
else has frozen objects already: unfreezing at its end would undo that.

Builds in one process run one after another (``modelgov serve`` rebuilds in its main loop), never
at once: the block's depth is one count for the process.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["for_the_build", "keep"]

_depth = 0  # how many for_the_build() blocks the process is inside
_owned = False  # whether the outermost block found nothing frozen, and so may freeze and unfreeze


@contextmanager
def for_the_build() -> Iterator[None]:
    """Within the block, :func:`keep` freezes the objects alive; at its end, they are all unfrozen."""
    global _depth, _owned
    if _depth == 0:
        _owned = gc.get_freeze_count() == 0
        if _owned:  # what the process held before the build: its passes in the build skip it too
            gc.freeze()
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and _owned:
            _owned = False
            gc.unfreeze()


def keep() -> None:
    """Keep every object alive now out of the collector's full passes until the build ends. Call it
    after a step that made objects the build keeps (the workspace, a model's results, the manifest)."""
    if _depth and _owned:
        gc.collect()
        gc.freeze()
