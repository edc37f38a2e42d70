"""Hash every workspace file the build reads, exactly once.

The SHA-256 of each input goes into the manifest so that every number on the site can be traced to
the bytes it was computed from, and so that two builds can be compared input by input.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from modelgov.workspace.paths import require

_CHUNK = 1 << 20


@dataclass(frozen=True)
class HashedFile:
    path: str
    sha256: str
    bytes: int
    identity: str = "content"  # "listing": a remote object, identified by its listing (see monitoring.remote)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class FileRegistry:
    """Workspace-relative path → :class:`HashedFile`, computed on first registration."""

    def __init__(self, root: Path):
        self.root = root
        self._real_root = root.resolve()
        self._files: dict[str, HashedFile] = {}
        self._listings: dict[str, list[HashedFile]] = {}  # URI → its objects, listed once per build

    def register(self, rel_path: str) -> HashedFile:
        """Hash ``rel_path`` on its first registration. The path is checked again (inside the workspace,
        a regular file) before it is opened: the loader refuses bad paths with a problem first, so this
        only stops a reader that skipped that check from hashing ``/dev/zero`` or waiting on a FIFO."""
        known = self._files.get(rel_path)
        if known is None:
            path = require(self._real_root, rel_path)
            known = HashedFile(rel_path, sha256_file(path), path.stat().st_size)
            self._files[rel_path] = known
        return known

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
