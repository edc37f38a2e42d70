"""A content-addressed cache of analysis results and rendered pages, kept as *untrusted storage*.

An entry is keyed by the SHA-256 of everything the result depends on (the evaluation table's and the
model file's hashes, the evaluation's and the card's settings, modelgov's and the numerical
libraries' versions), so an entry is never stale: a change to any input is a different key.

Why untrusted: whoever can write the cache folder could otherwise choose the numbers, policy verdicts
and HTML a build publishes (a forged entry once showed a ROC AUC of 0.527 as 0.999 and put a live
``<script>`` on every page). So:

- **It never lives in the workspace.** The default is the user's cache folder (platformdirs;
  ``MODELGOV_CACHE_DIR`` or ``--cache-dir`` override it), and a folder inside the workspace, or one
  containing it, is refused (:func:`check_location`): anyone who can open a pull request can write
  the workspace, and a build never writes into it.
- **Every entry is authenticated** with HMAC-SHA256 over the format, the key the entry is read for,
  and the body, with a secret that is never in the workspace (:func:`~modelgov.cache_secret.load_secret`): the CI's
  ``MODELGOV_CACHE_KEY``, so runners can share a cache, or else a per-user key file created on first
  use with owner-only permissions. A copied, swapped, edited or forged entry fails the check.
- **Reads are bounded and never follow links.** The folder is resolved once; below it, shard folders
  and entries are opened with ``O_NOFOLLOW`` relative to their verified parent, an entry must be a
  regular file of at most :data:`MAX_ENTRY_BYTES`, and it is read in bounded chunks (a link to
  ``/dev/zero`` or a FIFO is refused at once, never read from).

An entry that fails any check is reported (which result, which file, why), ignored and recomputed;
the new entry then replaces it by an atomic rename (nothing is ever deleted through a path, so a
planted link or FIFO is replaced, never followed). Writes go to a temporary file created with
``O_EXCL|O_NOFOLLOW`` in the verified shard folder and renamed into place, so a build killed mid-write
leaves no half entry under a real key. A cache that cannot be written (a read-only disk) is skipped
with a note; a cache whose key file is unusable is switched off for the build with a note saying how
to fix it. Neither ever fails a build.
Entries a build did not use are removed only when it is asked to (:mod:`modelgov.cache_prune`).
The secret is found, checked and created by :mod:`modelgov.cache_secret`, and files are opened
without following links by :mod:`modelgov.cache_files`; this module keeps the keys, the location
and the entries.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import hmac
import io
import json
import os
import re
import secrets
import stat
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import platformdirs

from modelgov import __version__
from modelgov.cache_archive import PAYLOAD, ArchiveArrays, CorruptEntry
from modelgov.cache_files import CREATE_FLAGS, DIR_FLAGS, READ_FLAGS, describe_mode, read_exactly
from modelgov.cache_prune import BuildMarker
from modelgov.cache_secret import KeyUnusable, load_secret
from modelgov.errors import CacheError
from modelgov.manifest import SCHEMA_VERSION

#: Bumped when the entry layout or the meaning of a cached result changes (3: HMAC-authenticated;
#: 4: each sampled record attribution drawn from its own seed, permutation importance bounded).
FORMAT = 4

#: The largest entry read (or written). An entry above it is refused before a byte of it is read, so
#: a planted sparse file or device cannot make a build allocate more than this for one entry.
MAX_ENTRY_BYTES = 512 * 1024 * 1024

#: Overrides the default cache folder (``--cache-dir`` overrides both).
CACHE_DIR_ENV = "MODELGOV_CACHE_DIR"

#: Libraries whose versions can change a number: those that compute them, those that read the data
#: they are computed from (DuckDB and PyArrow scan the tables and logs, PySpark where a workspace asks
#: for it) and those a model file may need to predict (its explanations run it); their versions are
#: part of every key (None for one not installed).
_NUMERICAL_LIBRARIES = (
    *("numpy", "pandas", "scipy", "scikit-learn", "fairlearn", "shap", "skops"),
    *("duckdb", "pyarrow", "pyspark"),
    *("xgboost", "lightgbm", "catboost"),
)

_MAX_HEADER = 1024  # the header line holds the format, a 64-digit key and a 64-digit MAC
_KEY_PATTERN = re.compile(r"[0-9a-f]{64}")


@functools.cache
def package_versions(names: tuple[str, ...]) -> dict[str, str | None]:
    """The installed versions of the packages ``names`` (None: not installed), read once per process
    for each tuple: a package-metadata lookup scans site-packages, and a fleet build computes
    thousands of keys (it was 6 s of a warm 100-model build). A process never sees its libraries
    change."""
    versions: dict[str, str | None] = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


@functools.cache
def code_digest() -> str:
    """SHA-256 over modelgov's own files: its code, the site's templates and assets, the built-in
    policy packs, the dossier's stylesheet (every file of the package and of its data folders, the
    bytecode left out). Read once per process.

    Part of every key, beside the version: a source checkout, or an install from a git commit, keeps
    the version number from one commit to the next, and a result, a page or a dossier that other
    code made must not be read back as this code's."""
    from modelgov import resources

    package = Path(__file__).resolve().parent
    return files_digest(dict.fromkeys([package, resources.site_templates_dir(), resources.policies_dir()]))


def files_digest(roots: Iterable[Path]) -> str:
    """SHA-256 over the names and contents of every file under ``roots``, in order, bytecode left out."""
    digest = hashlib.sha256()
    for root in roots:
        files = (p for p in root.rglob("*") if "__pycache__" not in p.relative_to(root).parts and p.suffix != ".pyc")
        for path in sorted((p for p in files if p.is_file()), key=lambda p: p.relative_to(root).as_posix()):
            name = path.relative_to(root).as_posix().encode("utf-8", "surrogateescape")
            digest.update(len(name).to_bytes(4, "big") + name + hashlib.sha256(path.read_bytes()).digest())
        digest.update(b"\0")
    return digest.hexdigest()


def cache_key(material: Mapping[str, Any]) -> str:
    """SHA-256 of ``material`` (JSON-serialisable) together with the code (its version and
    :func:`code_digest`) and the library versions."""
    # the manifest's schema version too: an entry holds manifest nodes, and a field added to them
    # (a minor version) must not be read back as its default from an entry written before it existed
    document = {
        "format": FORMAT,
        "modelgov": __version__,
        "code": code_digest(),
        # what is escaped on a page, and which groups look alike, follow this Python's Unicode tables
        "unicode": unicodedata.unidata_version,
        "manifest": SCHEMA_VERSION,
        "libraries": package_versions(_NUMERICAL_LIBRARIES),
        **material,
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------- location


def default_cache_dir() -> Path:
    """Where ``build``, ``check``, ``demo``, ``serve`` and ``export`` keep the cache: ``$MODELGOV_CACHE_DIR``, else the
    user's cache folder (``~/.cache/modelgov`` on Linux, honouring ``XDG_CACHE_HOME``). Never the
    workspace: whoever can write the workspace must not be able to write the cache."""
    given = os.environ.get(CACHE_DIR_ENV, "").strip()
    return Path(given).expanduser() if given else user_cache_dir()


def user_cache_dir() -> Path:
    """The user's own cache folder, which the builds of every workspace share."""
    return Path(platformdirs.user_cache_dir("modelgov"))


def check_location(folder: Path, workspace_root: Path) -> None:
    """Refuse a cache ``folder`` inside ``workspace_root`` or containing it, as given and with every
    link resolved (a link in the workspace pointing out of it is still the workspace's to redirect;
    a folder above the workspace would put shard folders beside, or into, its files)."""
    places = {Path(os.path.abspath(folder)), Path(os.path.realpath(folder))}
    roots = {Path(os.path.abspath(workspace_root)), Path(os.path.realpath(workspace_root))}
    for place in places:
        for root in roots:
            if place.is_relative_to(root):
                raise CacheError(
                    f"the analysis cache {folder} is inside the workspace {workspace_root}; a build never "
                    "writes into the workspace, because whoever can change it could forge cached results. "
                    f"Leave out --cache-dir (the default is {default_cache_dir()}), choose a folder outside "
                    f"the workspace (--cache-dir or {CACHE_DIR_ENV}), or use --no-cache"
                )
            if root.is_relative_to(place):
                raise CacheError(
                    f"the analysis cache {folder} contains the workspace {workspace_root}; choose a folder "
                    f"outside it (--cache-dir or {CACHE_DIR_ENV}), or use --no-cache"
                )


# ---------------------------------------------------------------------- the secret


def _mac(secret: bytes, key: str, body: bytes | memoryview) -> str:
    """HMAC-SHA256 binding the entry to this format, to the key it is read for and to its body: an
    entry copied to another key's file, or from another format, fails as surely as an edited one."""
    mac = hmac.new(secret, f"modelgov analysis cache\nformat {FORMAT}\nkey {key}\n".encode(), hashlib.sha256)
    mac.update(body)
    return mac.hexdigest()


# ---------------------------------------------------------------------- entries


class _Refused(Exception):
    """An entry, or its folder, is something a build does not read (a link, a FIFO, too large)."""


@dataclass
class CacheStats:
    """What one build did with the cache: entries used, results computed, and the labels of entries
    rejected (``corrupted``: the name predates authentication; a forged entry counts here too)."""

    hits: int = 0
    misses: int = 0
    corrupted: list[str] = field(default_factory=list)


class AnalysisCache:
    """Entries under ``folder`` (resolved once; created on first write, with a ``.gitignore`` so a
    cache kept in a repository is never committed), authenticated with ``secret`` (default:
    :func:`~modelgov.cache_secret.load_secret`; when the key file is unusable the cache is off and
    :attr:`disabled` says why).
    """

    def __init__(self, folder: Path, *, report: Callable[[str], None] = lambda _: None, secret: bytes | None = None):
        self.folder = Path(os.path.realpath(folder))
        self.report = report
        self.stats = CacheStats()
        self._writable = True
        self._root_ready = False
        self._marked: set[str] = set()
        self.disabled: str | None = None
        if os.open not in os.supports_dir_fd:  # links are refused by opening relative to a verified folder
            self.disabled, secret = "this system cannot open files relative to a folder, which the cache needs", None
        elif secret is None:
            try:
                secret = load_secret()
            except KeyUnusable as exc:
                self.disabled = str(exc)
        self._secret = secret
        if self.disabled:
            report(f"Analysis cache off for this build: {self.disabled}")

    def entry_path(self, key: str) -> Path:
        """Where ``key``'s entry lives (for messages and tests; reads never go through this path)."""
        return self.folder / key[:2] / f"{key}.entry"

    # ------------------------------------------------------------------ folders, opened without links

    @contextlib.contextmanager
    def _shard(self, key: str, *, create: bool = False) -> Iterator[int]:
        """A descriptor of the folder holding ``key``'s entry: the root opened without following a
        link (it was resolved when the cache was opened; a link there now was put there since), the
        shard folder opened relative to it, also without following one."""
        if not _KEY_PATTERN.fullmatch(key):
            raise _Refused("its key is not a SHA-256")  # keys come from cache_key; never a path
        if create:
            self._ensure_root()
        root = self._open_folder(str(self.folder), None, f"the cache folder {self.folder}")
        try:
            if create:
                with contextlib.suppress(FileExistsError):
                    os.mkdir(key[:2], 0o700, dir_fd=root)
            shard = self._open_folder(key[:2], root, f"its folder {key[:2]}/")
            try:
                yield shard
            finally:
                os.close(shard)
        finally:
            os.close(root)

    @staticmethod
    def _open_folder(name: str, parent: int | None, what: str) -> int:
        try:
            return os.open(name, DIR_FLAGS, dir_fd=parent)
        except FileNotFoundError:
            raise
        except OSError as exc:
            if exc.errno in (errno.ENOTDIR, errno.ELOOP, errno.EMLINK):
                try:
                    mode = os.stat(name, dir_fd=parent, follow_symlinks=False).st_mode
                except OSError:
                    mode = 0
                raise _Refused(f"{what} is {describe_mode(mode)}") from None
            raise

    def _ensure_root(self) -> None:
        """Create the folder on first write (a link put there later is caught when it is opened)."""
        if self._root_ready or (self.folder.is_dir() and not self.folder.is_symlink()):
            self._root_ready = True
            return
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        root = self._open_folder(str(self.folder), None, f"the cache folder {self.folder}")
        try:
            fd = os.open(".gitignore", CREATE_FLAGS, 0o644, dir_fd=root)
            with open(fd, "wb") as out:
                out.write(b"# modelgov's analysis cache: safe to delete\n*\n")
        except FileExistsError:
            pass
        finally:
            os.close(root)
        self._root_ready = True

    def build_marker(self) -> BuildMarker | None:
        """The marker :func:`~modelgov.cache_prune.prune_unused` compares entries with, written now;
        None (with a note) when it cannot be written: the build then prunes nothing."""
        try:
            self._ensure_root()
            return BuildMarker(self.folder)
        except (OSError, _Refused) as exc:
            self.report(
                f"Analysis cache {self.folder} will not be pruned: the build's marker cannot be written ({exc})"
            )
            return None

    def mark_used(self, key: str) -> bool:
        """Mark ``key``'s entry used by this build without reading it (a caller that holds its
        content in memory from an earlier build in this process), as a read marks it: a pruning
        build keeps it (:mod:`modelgov.cache_prune`). False when there is no such entry to mark (a
        link, or a read-only disk, is left as it is)."""
        if self._secret is None:
            return False
        if key in self._marked:  # a template each of the build's environments loads: marked once
            return True
        try:
            with self._shard(key) as shard:
                os.utime(f"{key}.entry", dir_fd=shard, follow_symlinks=False)
        except (OSError, _Refused):
            return False
        self._marked.add(key)
        return True

    # ------------------------------------------------------------------ reading

    def has(self, key: str) -> bool:
        """A regular file exists for ``key`` (it is authenticated only when read)."""
        if self._secret is None:
            return False
        try:
            with self._shard(key) as shard:
                mode = os.stat(f"{key}.entry", dir_fd=shard, follow_symlinks=False).st_mode
        except (OSError, _Refused):
            return False
        return stat.S_ISREG(mode)

    def get(
        self, key: str, label: str, *, raw_json: bool = False, counted: bool = True
    ) -> tuple[Any, Mapping[str, np.ndarray]] | None:
        """The cached (JSON result, arrays) for ``key``, or None when absent or refused (``label``
        names the result in the build's messages). Nothing is used before its MAC is verified.

        ``raw_json``: the result as the JSON text it was stored as (``bytes``), not parsed, for a
        caller that validates it with pydantic's own JSON parser (:meth:`.Stage.load`), which does
        both steps in a fraction of the time ``json.loads`` and ``model_validate`` take.
        ``counted=False``: an entry that is not an analysis result (compiled templates) leaves the
        build's count of results reused and computed as it was; a refused one is still reported."""
        if self._secret is None:
            self.stats.misses += counted
            return None
        try:
            raw = self._read(key)
        except FileNotFoundError:
            self.stats.misses += counted
            return None
        except _Refused as exc:
            return self._refuse(key, label, str(exc), counted)
        except OSError as exc:
            return self._refuse(key, label, f"it cannot be read ({exc.strerror or exc})", counted)
        try:
            found = self._decode(raw, key, raw_json)
        except CorruptEntry as exc:
            return self._refuse(key, label, str(exc), counted)
        self.stats.hits += counted
        return found

    def _read(self, key: str) -> bytearray:
        with self._shard(key) as shard:
            try:
                fd = os.open(f"{key}.entry", READ_FLAGS, dir_fd=shard)
            except FileNotFoundError:
                raise
            except OSError as exc:
                if exc.errno in (errno.ELOOP, errno.EMLINK):
                    raise _Refused("it is a symbolic link") from None
                raise
            try:
                info = os.fstat(fd)
                if not stat.S_ISREG(info.st_mode):
                    raise _Refused(f"it is {describe_mode(info.st_mode)}, not a regular file")
                if info.st_size > MAX_ENTRY_BYTES:
                    raise _Refused(f"it is {info.st_size:,} bytes, over the limit of {MAX_ENTRY_BYTES:,}")
                try:
                    found = read_exactly(fd, info.st_size)
                except EOFError:
                    raise _Refused("it changed while it was read") from None
                # the entry was used now: `build --prune-cache` keeps it (modelgov.cache_prune); a
                # cache on a read-only disk keeps its times
                with contextlib.suppress(OSError):
                    os.utime(fd)
                return found
            finally:
                os.close(fd)

    def _decode(self, raw: bytearray, key: str, raw_json: bool = False) -> tuple[Any, ArchiveArrays]:
        end = raw.find(b"\n", 0, _MAX_HEADER)
        if end < 0:
            raise CorruptEntry("no header")
        try:
            header = json.loads(bytes(raw[:end]))
        except ValueError:
            raise CorruptEntry("the header is not JSON") from None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise CorruptEntry("it was written by another version of modelgov")
        if header.get("key") != key:
            raise CorruptEntry("its header names another entry")
        body = memoryview(raw)[end + 1 :]
        claimed = header.get("mac")
        if not isinstance(claimed, str) or not hmac.compare_digest(
            _mac(self._secret, key, body).encode(), claimed.encode("utf-8", "replace")
        ):
            raise CorruptEntry("its MAC does not match: it was forged, damaged, or written with another key")
        try:
            arrays = ArchiveArrays(np.load(io.BytesIO(body), allow_pickle=False))
            text = arrays.read(PAYLOAD).tobytes()
            payload = text if raw_json else json.loads(text.decode("utf-8"))
        except (ValueError, KeyError, OSError, UnicodeDecodeError) as exc:
            raise CorruptEntry(f"the archive does not load ({type(exc).__name__})") from None
        return payload, arrays

    def reject(self, key: str, label: str, reason: str, *, counted: bool = True) -> None:
        """The caller found an authenticated entry invalid (it does not match the result's schema)."""
        self.stats.hits -= counted
        self._refuse(key, label, reason, counted)

    def _refuse(self, key: str, label: str, reason: str, counted: bool = True) -> None:
        """Report an entry that is not used. It is not deleted: the recomputed result replaces it by
        an atomic rename, which replaces a planted link or FIFO rather than acting on what it names."""
        self.stats.corrupted.append(label)
        self.stats.misses += counted
        self.report(f"Cached result for {label} rejected ({reason}): {self.entry_path(key)}; recomputing it")

    # ------------------------------------------------------------------ writing

    def put(self, key: str, payload: Any, arrays: Mapping[str, np.ndarray]) -> None:
        """Store a result; arrays of Python objects (which would need pickle) make it uncacheable,
        and so does a result over :data:`MAX_ENTRY_BYTES` (it would be refused when read)."""
        if self._secret is None or not self._writable or any(a.dtype.hasobject for a in arrays.values()):
            return
        buffer = io.BytesIO()
        encoded = np.frombuffer(json.dumps(payload).encode("utf-8"), dtype=np.uint8)  # key order is content
        np.savez(buffer, **{PAYLOAD: encoded}, **arrays)
        body = buffer.getvalue()
        header = json.dumps({"format": FORMAT, "key": key, "mac": _mac(self._secret, key, body)}).encode()
        if len(header) + 1 + len(body) > MAX_ENTRY_BYTES:
            self.report(f"Not caching {self.entry_path(key)}: {len(body):,} bytes is over the cache's limit")
            return
        try:
            with self._shard(key, create=True) as shard:
                temporary = f".{secrets.token_hex(8)}.tmp"
                fd = os.open(temporary, CREATE_FLAGS, 0o600, dir_fd=shard)
                try:
                    with open(fd, "wb") as out:
                        out.write(header + b"\n")
                        out.write(body)
                    os.replace(temporary, f"{key}.entry", src_dir_fd=shard, dst_dir_fd=shard)
                except BaseException:
                    with contextlib.suppress(OSError):
                        os.unlink(temporary, dir_fd=shard)
                    raise
        except _Refused as exc:
            self.report(f"Not caching {self.entry_path(key)}: {exc}")
        except OSError as exc:
            self._writable = False
            where = f": {exc.filename}" if exc.filename else ""
            self.report(f"Analysis cache {self.folder} is not writable ({exc.strerror or exc}{where}); not caching")


def open_cache(
    folder: Path, workspace_root: Path, *, report: Callable[[str], None] = lambda _: None
) -> AnalysisCache | None:
    """The cache a build of ``workspace_root`` uses, or None when it is off for this build (the key
    file is unusable; ``report`` has said why and how to fix it). A folder inside the workspace, or a
    malformed ``MODELGOV_CACHE_KEY``, raises :class:`CacheError` (exit 2): those are settings the user
    must change, not conditions to work around silently."""
    check_location(folder, workspace_root)
    cache = AnalysisCache(folder, report=report)
    return None if cache.disabled else cache
