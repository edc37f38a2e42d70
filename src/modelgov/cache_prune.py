"""Removing the cache entries a build did not use (``modelgov build --prune-cache``).

The cache is content-addressed, so an entry is never stale, but it is never reused once its inputs
change either: a CI that saves its cache after every run keeps every result, page part and compiled
template of every earlier workspace and every earlier modelgov, and restores all of them each time.
A build can instead leave exactly what it used.

How a build knows what it used, across its worker processes: every entry it reads has its
modification time set to the moment it was read (:meth:`~modelgov.cache.AnalysisCache.get`), and every
entry it writes is new. A marker file written into the cache folder when the build starts records
the cache file system's own clock; after the build, an entry older than the marker was neither read
nor written by it. Comparing with the marker, not with this machine's clock, keeps a file system
whose clock differs (a network share), or that keeps times to the second, from making a used entry
look old.

What is removed, and only that: files named as the cache names entries (``ab/ab…(64 hex).entry``)
and its writers' temporary files, in shard folders named by two hex digits. Folders are opened
without following links, relative to the folder above, and files are removed relative to their
folder, so a link planted in the cache is removed itself, never followed: nothing outside the
cache folder can be reached. Anything else in the folder (the ``.gitignore``, a user's own files)
is left as it is.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import secrets
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from modelgov.cache_files import CREATE_FLAGS, DIR_FLAGS

_SHARD = re.compile(r"[0-9a-f]{2}")
_ENTRY = re.compile(r"([0-9a-f]{64})\.entry")
_TEMPORARY = re.compile(r"\.[0-9a-f]{16}\.tmp")  # AnalysisCache.put's, left by a build killed mid-write
_MARKER = re.compile(r"\.build-[0-9a-f]{16}\.started")


@dataclass(frozen=True)
class Pruned:
    """What :func:`prune_unused` removed and kept."""

    removed: int = 0
    freed_bytes: int = 0
    kept: int = 0

    def describe(self) -> str:
        return (
            f"Analysis cache pruned: {self.removed:,} entr{'y' if self.removed == 1 else 'ies'} this build did not "
            f"use removed ({self.freed_bytes / 2**20:,.1f} MiB), {self.kept:,} kept"
        )


class BuildMarker:
    """A file written into the cache folder when a build starts: its modification time is the cache
    file system's clock at that moment (see the module's docstring). Removed by :meth:`remove`."""

    def __init__(self, folder: Path) -> None:
        """Raises OSError when the folder is not one (a link put there since the cache was opened)
        or cannot be written."""
        self.folder = folder
        self.name = f".build-{secrets.token_hex(8)}.started"
        with _opened(str(folder), None) as root:
            fd = os.open(self.name, CREATE_FLAGS, 0o600, dir_fd=root)
            try:
                self.started_ns = os.fstat(fd).st_mtime_ns  # the file made, not one swapped in for it
            finally:
                os.close(fd)

    def remove(self) -> None:
        with contextlib.suppress(OSError), _opened(str(self.folder), None) as root:
            os.unlink(self.name, dir_fd=root)


def prune_unused(marker: BuildMarker) -> Pruned:
    """Remove the entries (and stale temporary files and markers) of ``marker``'s cache folder last
    read or written before ``marker`` was: those the build that wrote it did not use."""
    removed = freed = kept = 0
    with _opened(str(marker.folder), None) as root:
        for name, mode, mtime_ns, _size in _listing(root):
            if _MARKER.fullmatch(name) and name != marker.name and mtime_ns < marker.started_ns:
                _unlink(name, root)  # a marker a build killed before it ended left
            if not (_SHARD.fullmatch(name) and stat.S_ISDIR(mode)):
                continue
            try:
                with _opened(name, root) as shard:
                    for entry, entry_mode, entry_ns, entry_size in _listing(shard):
                        matched = _ENTRY.fullmatch(entry)
                        ours = matched is not None and matched.group(1).startswith(name)
                        if not (ours or _TEMPORARY.fullmatch(entry)) or stat.S_ISDIR(entry_mode):
                            continue
                        if entry_ns >= marker.started_ns:
                            kept += ours
                        elif _unlink(entry, shard):
                            removed += ours
                            freed += entry_size if ours and stat.S_ISREG(entry_mode) else 0
            except _NotAFolder:
                continue  # replaced by a link since it was listed: nothing of the cache's is there
    return Pruned(removed=removed, freed_bytes=freed, kept=kept)


@contextlib.contextmanager
def _opened(name: str, parent: int | None) -> Iterator[int]:
    """A folder's descriptor, opened without following a link: a link, or a folder that is gone,
    raises :class:`_NotAFolder`."""
    try:
        fd = os.open(name, DIR_FLAGS, dir_fd=parent)
    except OSError as exc:
        if exc.errno in (errno.ENOTDIR, errno.ELOOP, errno.EMLINK, errno.ENOENT):
            raise _NotAFolder from None
        raise
    try:
        yield fd
    finally:
        os.close(fd)


class _NotAFolder(OSError):
    pass


def _listing(folder: int) -> Iterator[tuple[str, int, int, int]]:
    """(name, mode, modification time in ns, size) of each file in ``folder``, without following links."""
    with os.scandir(folder) as entries:
        for entry in entries:
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue  # removed meanwhile
            yield entry.name, info.st_mode, info.st_mtime_ns, info.st_size


def _unlink(name: str, folder: int) -> bool:
    """Remove ``name``; False when it is gone already or cannot be removed (it is then kept)."""
    try:
        os.unlink(name, dir_fd=folder)
    except OSError:
        return False
    return True
