"""Hash every workspace file the build reads, exactly once.

The SHA-256 of each input goes into the manifest so that every number on the site can be traced to
the bytes it was computed from, and so that two builds can be compared input by input.
"""

from __future__ import annotations

import hashlib
import os
import stat
import threading
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from modelgov.cache_files import describe_mode
from modelgov.workspace.paths import PathRefused, require

_CHUNK = 1 << 20


@dataclass(frozen=True)
class HashedFile:
    path: str
    sha256: str
    bytes: int
    identity: str = "content"  # "listing": a remote object, identified by its listing (see monitoring.remote)


class _Stopped(Exception):
    """Background hashing was stopped part-way through a file."""


class NotARegularFile(OSError):
    """What was opened is not a regular file; the message says what it is."""


#: Opened without blocking: a FIFO put where a checked file was would otherwise wait forever.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


def sha256_file(path: Path, stop: threading.Event | None = None) -> str:
    """SHA-256 of the file at ``path``, read a megabyte at a time; with ``stop``, given up (raising
    :class:`_Stopped`) within a megabyte of it being set. The path was checked before (a regular
    file inside the workspace); what is opened is checked again, without blocking, so a file
    swapped for a FIFO or a device in between is refused rather than waited on or read forever."""
    digest = hashlib.sha256()
    fd = os.open(path, _OPEN_FLAGS)
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        os.close(fd)
        raise
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise NotARegularFile(f"it is {describe_mode(mode)}, not a regular file; refusing to read it")
    with open(fd, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            if stop is not None and stop.is_set():
                raise _Stopped(path)
            digest.update(chunk)
    return digest.hexdigest()


class FileRegistry:
    """Workspace-relative path → :class:`HashedFile`, computed on first registration."""

    def __init__(self, root: Path):
        self.root = root
        self._real_root = root.resolve()
        self._files: dict[str, HashedFile] = {}
        self._listings: dict[str, list[HashedFile]] = {}  # URI → its objects, listed once per build
        self._hasher: ThreadPoolExecutor | None = None
        self._pending: dict[str, Future[HashedFile]] = {}
        self._stop = threading.Event()

    def register(self, rel_path: str) -> HashedFile:
        """Hash ``rel_path`` on its first registration. The path is checked again (inside the workspace,
        a regular file) before it is opened: the loader refuses bad paths with a problem first, so this
        only stops a reader that skipped that check from hashing ``/dev/zero`` or waiting on a FIFO.
        A file :meth:`prefetch` hashed is taken from there; one it could not hash is hashed here, and
        refused here as it would have been."""
        known = self._files.get(rel_path)
        if known is None:
            pending = self._pending.pop(rel_path, None)
            hashed = pending is not None and pending.exception() is None
            known = pending.result() if hashed else self._hash(rel_path)
            self._files[rel_path] = known
        return known

    def _hash(self, rel_path: str, stop: threading.Event | None = None) -> HashedFile:
        path = require(self._real_root, rel_path)
        try:
            digest = sha256_file(path, stop)
        except NotARegularFile as exc:
            raise PathRefused(rel_path, str(exc)) from None
        return HashedFile(rel_path, digest, path.stat().st_size)

    def prefetch(self, rel_paths: Iterable[str]) -> None:
        """Start hashing ``rel_paths`` in one background thread while the loader goes on reading
        YAML: hashing releases Python's lock (reading a file, and SHA-256 over each megabyte), so the
        two share the machine's cores. A 100-model fleet's 577 MB of tables and logs took 0.7 s to
        hash, one after another with the YAML. The paths are checked in the thread exactly as
        :meth:`register` checks them; nothing is registered until the loader registers it. Without a
        thread (one cannot be started) files are hashed when registered, as before."""
        for rel_path in rel_paths:
            if rel_path in self._files or rel_path in self._pending:
                continue
            try:
                if self._hasher is None:
                    self._hasher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="modelgov-hash")
                self._pending[rel_path] = self._hasher.submit(self._hash, rel_path, self._stop)
            except RuntimeError:  # no thread can be started here
                self.end_prefetch()
                return

    def end_prefetch(self) -> None:
        """Stop the background hashing: files not hashed yet are hashed when registered. Called when
        the loader is done, so that a workspace sent to a worker process carries no thread. A file
        being hashed is given up within a megabyte: a load that fails early (a workspace with
        problems) does not wait for a large log to be hashed that nothing will read."""
        if self._hasher is not None:
            self._stop.set()
            self._hasher.shutdown(wait=True, cancel_futures=True)
            self._hasher = None
            self._stop = threading.Event()
        self._pending = {
            rel: f for rel, f in self._pending.items() if f.done() and not f.cancelled() and f.exception() is None
        }

    def __getstate__(self) -> dict:
        """Sent to a worker without the background hashing (a thread cannot be sent)."""
        state = self.__dict__.copy()
        state["_hasher"] = None
        state["_pending"] = {}
        state["_stop"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state, _stop=threading.Event())

    def listing(self, uri: str) -> list[HashedFile] | None:
        """The objects ``uri`` named when it was listed earlier in this build."""
        return self._listings.get(uri)

    def add_listing(self, uri: str, objects: list[tuple[str, str, int]]) -> list[HashedFile]:
        """Record the (object URI, listing fingerprint, size) of the objects ``uri`` names, which the
        Spark engine reads where they live (see :mod:`modelgov.monitoring.remote`)."""
        known = [HashedFile(path, fingerprint, size, "listing") for path, fingerprint, size in objects]
        for hashed in known:
            self._files[hashed.path] = hashed
        self._listings[uri] = known
        return known

    def merge(self, files: list[HashedFile]) -> None:
        """Adopt files another process hashed (parallel analysis), so the manifest lists every input."""
        for hashed in files:
            self._files.setdefault(hashed.path, hashed)

    def path(self, rel_path: str) -> Path:
        return self.root / rel_path

    def all(self) -> list[HashedFile]:
        return [self._files[key] for key in sorted(self._files)]
