"""A content-addressed cache of analysis results, so a rebuild recomputes only what changed.

An entry is keyed by the SHA-256 of everything the result depends on (the evaluation table's and the
model file's hashes, the evaluation's and the card's settings, modelgov's and the numerical
libraries' versions), so an entry is never stale: a change to any input is a different key.

An entry is one file: a JSON header line naming its key and the SHA-256 of the body, then the body,
an ``.npz`` archive holding the arrays and the JSON result. Reading checks the key, the digest, and
that the archive loads without pickle (``allow_pickle=False``); the caller then validates the result
against its schema. Anything that fails — a truncated write, a flipped bit, a file from another
version of modelgov, an edited file — counts as corrupted: the entry is deleted, the result is
recomputed and written again, and the build says so. Writes go to a temporary file that is renamed
into place, so a build killed mid-write leaves no half entry under a real key.

A cache that cannot be written (a read-only checkout) is skipped with a note; it never fails a build.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from modelgov import __version__

#: Where ``modelgov build`` keeps the cache, relative to the workspace.
DEFAULT_CACHE = Path(".modelgov") / "cache"

#: Bumped when the entry layout or the meaning of a cached result changes.
FORMAT = 2

#: Libraries whose versions can change a number; their versions are part of every key.
_NUMERICAL_LIBRARIES = ("numpy", "pandas", "scipy", "scikit-learn", "fairlearn", "shap", "skops")

_PAYLOAD = "__payload__"


def _library_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in _NUMERICAL_LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def cache_key(material: Mapping[str, Any]) -> str:
    """SHA-256 of ``material`` (JSON-serialisable) together with the code and library versions."""
    document = {"format": FORMAT, "modelgov": __version__, "libraries": _library_versions(), **material}
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class CorruptEntry(Exception):
    """A cache entry failed a check; the message says which."""


@dataclass
class CacheStats:
    hits: int = 0
    misses: int = 0
    corrupted: list[str] = field(default_factory=list)


class AnalysisCache:
    """Entries under ``folder`` (created on first write, with a ``.gitignore`` so it is never committed)."""

    def __init__(self, folder: Path, *, report: Callable[[str], None] = lambda _: None):
        self.folder = folder
        self.report = report
        self.stats = CacheStats()
        self._writable = True

    def _path(self, key: str) -> Path:
        return self.folder / key[:2] / f"{key}.entry"

    # ------------------------------------------------------------------ reading

    def has(self, key: str) -> bool:
        """An entry exists for ``key`` (it is verified only when read)."""
        return self._path(key).is_file()

    def get(self, key: str, label: str) -> tuple[Any, dict[str, np.ndarray]] | None:
        """The cached (JSON result, arrays) for ``key``, or None when absent or corrupted
        (``label`` names the result in the build's messages)."""
        path = self._path(key)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            self.stats.misses += 1
            return None
        except OSError as exc:
            return self._discard(path, label, f"unreadable ({exc.strerror or exc})")
        try:
            return self._decode(raw, key)
        except CorruptEntry as exc:
            return self._discard(path, label, str(exc))

    def _decode(self, raw: bytes, key: str) -> tuple[Any, dict[str, np.ndarray]]:
        header_line, newline, body = raw.partition(b"\n")
        if not newline:
            raise CorruptEntry("no header")
        try:
            header = json.loads(header_line)
        except ValueError:
            raise CorruptEntry("the header is not JSON") from None
        if not isinstance(header, dict) or header.get("format") != FORMAT or header.get("key") != key:
            raise CorruptEntry("the header does not name this entry")
        if hashlib.sha256(body).hexdigest() != header.get("sha256"):
            raise CorruptEntry("its content does not match its SHA-256")
        try:
            with np.load(io.BytesIO(body), allow_pickle=False) as archive:
                arrays = {name: archive[name] for name in archive.files}
            payload = json.loads(arrays.pop(_PAYLOAD).tobytes().decode("utf-8"))
        except (ValueError, KeyError, OSError, UnicodeDecodeError) as exc:
            raise CorruptEntry(f"the archive does not load ({type(exc).__name__})") from None
        self.stats.hits += 1
        return payload, arrays

    def reject(self, key: str, label: str, reason: str) -> None:
        """The caller found a decoded entry invalid (it does not match the result's schema)."""
        self.stats.hits -= 1
        self._discard(self._path(key), label, reason)

    def _discard(self, path: Path, label: str, reason: str) -> None:
        self.stats.corrupted.append(label)
        self.stats.misses += 1
        self.report(f"Cached analysis of {label} was corrupted ({reason}); recomputing it")
        with contextlib.suppress(OSError):
            path.unlink()

    # ------------------------------------------------------------------ writing

    def put(self, key: str, payload: Any, arrays: Mapping[str, np.ndarray]) -> None:
        """Store a result; arrays of Python objects (which would need pickle) make it uncacheable."""
        if not self._writable or any(a.dtype.hasobject for a in arrays.values()):
            return
        buffer = io.BytesIO()
        encoded = np.frombuffer(json.dumps(payload).encode("utf-8"), dtype=np.uint8)  # key order is content
        np.savez(buffer, **{_PAYLOAD: encoded}, **arrays)
        body = buffer.getvalue()
        header = json.dumps({"format": FORMAT, "key": key, "sha256": hashlib.sha256(body).hexdigest()})
        path = self._path(key)
        try:
            self._ensure_folder()
            path.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
            try:
                with os.fdopen(handle, "wb") as out:
                    out.write(header.encode("utf-8") + b"\n" + body)
                os.replace(temporary, path)
            except BaseException:
                Path(temporary).unlink(missing_ok=True)
                raise
        except OSError as exc:
            self._writable = False
            self.report(f"Analysis cache {self.folder} is not writable ({exc.strerror or exc}); not caching")

    def _ensure_folder(self) -> None:
        if not self.folder.is_dir():
            self.folder.mkdir(parents=True, exist_ok=True)
            (self.folder / ".gitignore").write_text(
                "# modelgov's analysis cache: safe to delete\n*\n", encoding="utf-8"
            )
