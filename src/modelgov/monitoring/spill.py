"""The reference's sorted values kept on disk while the log is scanned, and read back one column at
a time for the windows' drift statistics.

Drift compares each window with the reference's exact sorted values (:mod:`.reference`), 8 bytes a
row and column: a 1M-row reference with 21 numeric columns holds 168 MB of them. Nothing needs them
while the log is scanned, which is when the scan's own buffers are at their largest, so after
planning each large column is written to a file in the report's temporary folder and its profile
keeps a read-only memory map of it (the same values, in the same order: every figure is unchanged,
and a read of the map, such as a profile's minimum, still works). The map's pages are not read, so
they take no memory. For the statistics, :func:`loaded` reads one column's values back into memory,
for every window at once, and lets them go before the next column.
"""

from __future__ import annotations

import dataclasses
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .reference import ReferenceProfile

#: Columns whose values take less than this stay in memory: a file would save nothing worth its cost.
SPILL_BYTES = 1 << 20


class ReferenceSpill:
    """A temporary folder of spilled columns, removed by :meth:`close` (or on leaving ``with``)."""

    def __init__(self) -> None:
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._count = 0

    def __enter__(self) -> ReferenceSpill:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def keep(self, profile: ReferenceProfile) -> ReferenceProfile:
        """``profile`` with its values on disk when they are large, else ``profile`` itself."""
        values = profile.values
        if not values.size or values.nbytes < SPILL_BYTES or isinstance(values, np.memmap):
            return profile
        if self._folder is None:
            self._folder = tempfile.TemporaryDirectory(prefix="modelgov-reference-")
        self._count += 1
        path = Path(self._folder.name) / f"{self._count}.f8"
        np.ascontiguousarray(values, dtype="float64").tofile(path)
        mapped = np.memmap(path, dtype="float64", mode="r", shape=values.shape)
        return dataclasses.replace(profile, values=mapped)

    def close(self) -> None:
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None


@contextmanager
def loaded(profiles: Iterable[dict[str, ReferenceProfile]], column: str) -> Iterator[None]:
    """Within the block, ``column``'s profile in each of ``profiles`` (the whole reference's, and each
    season's) holds its values in memory; afterwards the spilled profile is put back, and the values
    are let go."""
    saved: list[tuple[dict[str, ReferenceProfile], ReferenceProfile]] = []
    for by_column in profiles:
        profile = by_column.get(column)
        if profile is not None and isinstance(profile.values, np.memmap):
            saved.append((by_column, profile))
            # read through the file, not the map, whose pages would otherwise stay mapped in memory
            values = np.fromfile(profile.values.filename, dtype="float64")
            by_column[column] = dataclasses.replace(profile, values=values)
    try:
        yield
    finally:
        for by_column, profile in saved:
            by_column[column] = profile
