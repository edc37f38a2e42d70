"""Hash every workspace file the build reads, exactly once.

The SHA-256 of each input goes into the manifest so that every number on the site can be traced to
the bytes it was computed from, and so that two builds can be compared input by input.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

_CHUNK = 1 << 20


@dataclass(frozen=True)
class HashedFile:
    path: str
    sha256: str
    bytes: int


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
        self._files: dict[str, HashedFile] = {}

    def register(self, rel_path: str) -> HashedFile:
        known = self._files.get(rel_path)
        if known is None:
            path = self.root / rel_path
            known = HashedFile(rel_path, sha256_file(path), path.stat().st_size)
            self._files[rel_path] = known
        return known

    def merge(self, files: list[HashedFile]) -> None:
        """Adopt files another process hashed (parallel analysis), so the manifest lists every input."""
        for hashed in files:
            self._files.setdefault(hashed.path, hashed)

    def path(self, rel_path: str) -> Path:
        return self.root / rel_path

    def all(self) -> list[HashedFile]:
        return [self._files[key] for key in sorted(self._files)]
