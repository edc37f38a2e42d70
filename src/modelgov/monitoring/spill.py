"""The reference's sorted values kept on disk while the log is scanned, and read back one column at
a time for the windows' drift statistics.

Drift compares each window with the reference's exact sorted values (:mod:`.reference`), 8 bytes a
row and column: a 1M-row reference with 21 numeric columns holds 168 MB of them. Nothing needs them
while the log is scanned, which is when the scan's own buffers are at their largest, so after
planning each large column is written to a file in the report's temporary folder and its profile
keeps a read-only memory map of it (the same values, in the same order: every figure is unchanged,
and a read of the map, such as a profile's minimum, still works). While the map's pages are not
read they are no part of the build's resident memory; the file's pages sit in the operating
system's page cache (in RAM when the temporary folder is a tmpfs), which the system can write out
and drop when memory is short, as it cannot the process's own. For the statistics, :func:`loaded`
reads one column's values back into memory, for every window at once, and lets them go before the
next column.

Each map holds an open file, so at most :data:`MAX_SPILLED` columns are spilled (a wide or seasonal
reference keeps the rest in memory), and a temporary folder that cannot be written (full, read-only)
only keeps the values in memory, as before.
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
#: At most this many columns on disk per report: each memory map holds an open file descriptor.
MAX_SPILLED = 128


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
        if self._count >= MAX_SPILLED:
            return profile
        try:
            if self._folder is None:
                self._folder = tempfile.TemporaryDirectory(prefix="modelgov-reference-")
            path = Path(self._folder.name) / f"{self._count + 1}.f8"
            np.ascontiguousarray(values, dtype="float64").tofile(path)
            mapped = np.memmap(path, dtype="float64", mode="r", shape=values.shape)
        except OSError:  # no room, or no writable temporary folder: the values stay in memory
            return profile
        self._count += 1
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
