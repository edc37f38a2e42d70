"""An analysis-cache entry's archive of arrays (NumPy's ``.npz``), read once the entry's MAC is
verified: every member's header checked when the entry is opened, each array read only when asked for.
"""

from __future__ import annotations

import math
import tokenize
import zipfile
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

__all__ = ["PAYLOAD", "ArchiveArrays", "CorruptEntry"]

#: The member holding the entry's JSON result.
PAYLOAD = "__payload__"


class CorruptEntry(Exception):
    """A cache entry failed a check; the message says which."""


def _check_member(archive: Any, member: Any) -> None:
    """Refuse (:class:`CorruptEntry`) a zip member ``np.load`` could not read as an array without
    pickle: checked from its header, without reading its data."""
    header_readers = {(1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0}
    if member.compress_type != zipfile.ZIP_STORED:
        # never written (np.savez stores its members); a header could inflate without bound
        raise CorruptEntry("the archive holds a compressed member")
    with archive.open(member) as stream:
        if stream.read(len(np.lib.format.MAGIC_PREFIX)) != np.lib.format.MAGIC_PREFIX:
            raise CorruptEntry("the archive holds a member that is not an array")
        stream.seek(0)
        try:
            reader = header_readers.get(np.lib.format.read_magic(stream))
            if reader is None:
                raise ValueError("a format version modelgov does not write")
            shape, _, dtype = reader(stream)
            if dtype.hasobject or dtype.itemsize == 0 or any(size < 0 for size in shape):
                raise ValueError("an array of objects, of empty items, or of a negative size")
            if stream.tell() + dtype.itemsize * math.prod(shape) != member.file_size:
                raise ValueError("data other than its header says")
        except (ValueError, TypeError, SyntaxError, OverflowError, tokenize.TokenError) as exc:
            raise CorruptEntry(f"the archive does not load ({type(exc).__name__})") from None


class ArchiveArrays(Mapping[str, np.ndarray]):
    """The arrays of an authenticated entry (its MAC already verified), each read from the archive the
    first time it is asked for. Most are never asked for: a warm build reuses an evaluation's result
    without the label, prediction and score arrays kept for comparisons with a later version (a
    third of a 100-model fleet's cache), and reading every member of every entry was 3 % of such a
    build. Every member's header is read when the entry is opened, so an entry that would not load
    is refused (and recomputed) there, as when every array was read at once, not where an array is
    first used: a member that is not in NumPy's format (``np.load`` gives those as raw bytes), an
    array of Python objects, a header that does not parse, or data shorter or longer than its header
    says. Reading a header costs little next to the data."""

    def __init__(self, archive: Any):
        for member in archive.zip.infolist():
            _check_member(archive.zip, member)
        self._archive = archive
        self._names = tuple(name for name in archive.files if name != PAYLOAD)
        self._read: dict[str, np.ndarray] = {}

    def read(self, name: str) -> np.ndarray:
        """Member ``name``, the payload included."""
        found = self._read.get(name)
        if found is None:
            found = self._read[name] = self._archive[name]
        return found

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._names:
            raise KeyError(name)
        return self.read(name)

    def __contains__(self, name: object) -> bool:  # without reading the member, as Mapping's would
        return name in self._names

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)
