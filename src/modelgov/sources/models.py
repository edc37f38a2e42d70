"""Load a model file, safely, or say in plain language why it was not loaded.

A model file is code as much as data: unpickling a ``.pkl`` or ``.joblib`` file runs whatever its
author put in it, so a governance build that loads every model it is pointed at is a way to run
someone else's code on a reviewer's machine. The rules here:

* ``.skops`` is the default. :func:`skops.io.get_untrusted_types` lists the types in the file that skops
  does not trust on its own; the file is loaded only if every one of them is in the artifact's
  ``trusted_types`` (a decision written down in version.yml, where it can be reviewed), and skops
  then builds the object without running pickle. A trusted type is code all the same: a function or
  class the file names, called when the model is built or used (``FunctionTransformer(func=…)``).
* ``.pkl``, ``.pickle`` and ``.joblib`` are refused unless the artifact says ``trust_pickle: true``.
  Without it the file is never opened.
* Small files must not become huge objects: a ``.skops`` file is a zip archive, and a zip can declare
  or hold gigabytes in a few kilobytes. The sizes its central directory declares are added up and
  limited to :data:`MAX_MODEL_BYTES` *and* every member is decompressed once, in chunks, counting
  what it really holds, before skops reads it — the directory can lie. A compressed joblib file
  (when trusted) is likewise decompressed once, counting, before it is unpickled.
* With ``refuse_model_code`` (CI's ``--refuse-pickle``, ``--refuse-workspace-code`` or their
  variables) no pickle is opened and no trusted type is used, whatever the artifact says; the loader
  has already refused the workspace in that case (:mod:`modelgov.workspace.refusals`).
* Anything else, and any failure while loading (a corrupt file, a model saved by an incompatible
  library version), is a :class:`ModelUnavailable` with the reason, never a traceback: the analyses
  that need only predictions still run, and the page says why the rest is missing.

Models are loaded by the build, when the analyses run — never while a workspace is validated.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import warnings
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from modelgov.workspace.training_schema import Artifact

SKOPS_SUFFIXES = (".skops",)
PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib")
#: Longest exception text quoted in a reason; a library's message can run to pages.
MAX_MESSAGE = 300

#: Largest expanded size of a model file: the members of a ``.skops`` archive together, or a
#: compressed joblib file decompressed. Models a governance site explains are far smaller.
MAX_MODEL_BYTES = 1 * 2**30

#: What turns ``refuse_model_code`` on, as a reason names it.
_REFUSED_BY = "--refuse-pickle, --refuse-workspace-code or their environment variables"

#: Most members a ``.skops`` archive may have (one per array or object; a model has hundreds).
MAX_MODEL_MEMBERS = 100_000


class _TooLarge(Exception):
    """A model file expands beyond the limits; the message says by how much and which limit."""


@dataclass(frozen=True)
class LoadedModel:
    """A model object ready to score, with anything worth telling a reader about how it loaded."""

    estimator: Any
    format: Literal["skops", "pickle"]
    notes: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class ModelUnavailable:
    """Why a model file was not loaded, in words a user can act on."""

    reason: str


def load_model(path: Path, artifact: Artifact, *, refuse_model_code: bool = False) -> LoadedModel | ModelUnavailable:
    """Load the model file at ``path`` (the resolved ``artifact.path``) under ``artifact``'s rules;
    ``refuse_model_code`` overrides ``trust_pickle`` and ``trusted_types`` (a build told by CI never
    to run a model file's code)."""
    suffix = path.suffix.lower()
    shown = artifact.path
    if suffix in PICKLE_SUFFIXES:
        if refuse_model_code:
            return ModelUnavailable(
                f"{shown} was not loaded: this build refuses pickle-based files whatever the workspace says "
                f"({_REFUSED_BY})"
            )
        if not artifact.trust_pickle:
            # Checked before the file is touched: refusing must not depend on what the file contains.
            return ModelUnavailable(
                f"{shown} was not loaded: it is a pickle-based file ({suffix}), and loading a pickle runs "
                "whatever code its author put in it. Save the model with skops instead "
                "(`skops.io.dump(model, 'model.skops')`), or, if you trust where this file came from, set "
                "`trust_pickle: true` under `training.artifact` in version.yml."
            )
        if not path.is_file():
            return ModelUnavailable(f"{shown} was not loaded: the file does not exist")
        return _load_pickle(path, shown)
    if suffix in SKOPS_SUFFIXES:
        if refuse_model_code and artifact.trusted_types:
            # Checked before the file is touched, like a refused pickle.
            return ModelUnavailable(
                f"{shown} was not loaded: this build refuses skops trusted types whatever the workspace says "
                f"({_REFUSED_BY}): each is code the model file calls"
            )
        if not path.is_file():
            return ModelUnavailable(f"{shown} was not loaded: the file does not exist")
        return _load_skops(path, shown, artifact.trusted_types)
    known = ", ".join((*SKOPS_SUFFIXES, *PICKLE_SUFFIXES))
    return ModelUnavailable(
        f"{shown} was not loaded: modelgov does not know the model format {suffix or '(no suffix)'!r}; "
        f"it loads {known} files (.skops is the safe default)"
    )


def _load_skops(path: Path, shown: str, trusted_types: list[str]) -> LoadedModel | ModelUnavailable:
    import skops.io

    try:
        _check_archive(path)
    except _TooLarge as exc:
        return ModelUnavailable(f"{shown} was not loaded: {exc}")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, zlib.error, NotImplementedError) as exc:
        return ModelUnavailable(f"{shown} was not loaded: it is not a readable .skops file ({_describe(exc)})")
    try:
        untrusted = skops.io.get_untrusted_types(file=path)
    except Exception as exc:  # any failure to read an external file is a reason, not a crash
        return ModelUnavailable(f"{shown} was not loaded: it is not a readable .skops file ({_describe(exc)})")
    missing = [name for name in untrusted if name not in trusted_types]
    if missing:
        listed = ", ".join(f"`{name}`" for name in missing)
        return ModelUnavailable(
            f"{shown} was not loaded: it contains types that skops does not trust by default and "
            f"version.yml does not list: {listed}. Each is called when the model is loaded or used: if you "
            "have checked them and trust where the file came from, add them to `trusted_types` under "
            "`training.artifact`."
        )
    return _loaded(lambda: skops.io.load(path, trusted=untrusted), "skops", shown)


def _load_pickle(path: Path, shown: str) -> LoadedModel | ModelUnavailable:
    import joblib

    try:
        _check_compressed_pickle(path)
    except _TooLarge as exc:
        return ModelUnavailable(f"{shown} was not loaded: {exc}")
    except (OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
        return ModelUnavailable(f"{shown} was not loaded: {_describe(exc)}")
    # joblib.load reads plain pickles as well as joblib's own format.
    return _loaded(lambda: joblib.load(path), "pickle", shown)


def _check_archive(path: Path) -> None:
    """Refuse a ``.skops`` archive that expands beyond :data:`MAX_MODEL_BYTES`.

    First by what its central directory declares (cheap: nothing is decompressed), then by what it
    holds: each member's compressed bytes are inflated in 1 MiB steps and counted, never kept, so the
    check needs no more memory than a step — and a member that holds more than its directory entry
    declares is refused as soon as it passes that size (the directory can lie; zipfile would stop at
    the declared size and fail on the checksum, and this check does not depend on that)."""
    with zipfile.ZipFile(path) as archive:
        members = archive.infolist()
        if len(members) > MAX_MODEL_MEMBERS:
            raise _TooLarge(f"the archive has {len(members):,} members, more than the {MAX_MODEL_MEMBERS:,} allowed")
        declared = sum(member.file_size for member in members)
        if declared > MAX_MODEL_BYTES:
            raise _TooLarge(
                f"its archive declares {declared:,} bytes when expanded, more than the {MAX_MODEL_BYTES:,} "
                "allowed for a model file (a zip bomb, or a model too large to explain here)"
            )
        total = 0
        with open(path, "rb") as raw:
            for member in members:
                for size in _inflated_sizes(archive, raw, member):
                    total += size
                    if size > member.file_size:
                        raise _TooLarge(
                            f"its member {member.filename!r} expands beyond what the archive declares "
                            f"({member.file_size:,} bytes): the archive's directory is false"
                        )
                    if total > MAX_MODEL_BYTES:
                        raise _TooLarge(f"its members expand to more than {MAX_MODEL_BYTES:,} bytes")


def _inflated_sizes(archive: zipfile.ZipFile, raw: Any, member: zipfile.ZipInfo) -> Iterator[int]:
    """The running expanded size of ``member``, growing by at most 1 MiB per step. Stored and
    deflated members (what skops writes) are read straight from the file — the local header, then
    the compressed bytes through zlib — so nothing stops at the declared size; other methods through
    zipfile, which does."""
    if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        held = 0
        with archive.open(member) as stream:
            while chunk := stream.read(1 << 20):
                held += len(chunk)
                yield held
        return
    raw.seek(member.header_offset)
    header = raw.read(30)
    if len(header) != 30 or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"bad local header for {member.filename!r}")
    name_length, extra_length = int.from_bytes(header[26:28], "little"), int.from_bytes(header[28:30], "little")
    raw.seek(member.header_offset + 30 + name_length + extra_length)
    left = member.compress_size
    if member.compress_type == zipfile.ZIP_STORED:
        yield left
        return
    inflate = zlib.decompressobj(-15)
    held = 0
    while left > 0 or inflate.unconsumed_tail:
        if inflate.unconsumed_tail:
            data = inflate.unconsumed_tail
        else:
            data = raw.read(min(left, 1 << 16))
            if not data:
                break
            left -= len(data)
        held += len(inflate.decompress(data, 1 << 20))
        yield held
        if inflate.eof:
            break


#: Leading bytes of the compressed formats joblib writes, and how to stream each one.
_COMPRESSED = (
    (b"\x1f\x8b", "gzip"),
    (b"BZh", "bz2"),
    (b"\xfd7zXZ", "xz"),
    (b"\x5d\x00\x00", "lzma"),
    (b"x", "zlib"),
)


def _check_compressed_pickle(path: Path) -> None:
    """Refuse a compressed joblib file that expands beyond :data:`MAX_MODEL_BYTES`, by decompressing
    it once in chunks and counting (an uncompressed pickle is as large as its file). Only called for
    a pickle the workspace trusts: what the pickle itself builds is its author's code, beyond any check."""
    with open(path, "rb") as handle:
        head = handle.read(6)
    kind = next((name for magic, name in _COMPRESSED if head.startswith(magic)), None)
    if kind is None:
        return
    if kind == "zlib" and (len(head) < 2 or (head[0] * 256 + head[1]) % 31):
        return  # not a zlib header: a plain file that happens to start with 'x'
    total = 0
    with _decompressing(path, kind) as stream:
        while chunk := stream.read(1 << 20):
            total += len(chunk)
            if total > MAX_MODEL_BYTES:
                raise _TooLarge(
                    f"it is {kind}-compressed and expands to more than {MAX_MODEL_BYTES:,} bytes, the limit for a "
                    "model file"
                )


def _decompressing(path: Path, kind: str) -> Any:
    """A file object reading ``path`` decompressed, for ``kind`` as :data:`_COMPRESSED` names it."""
    if kind == "zlib":
        return _ZlibReader(path)
    if kind == "gzip":
        return gzip.open(path, "rb")
    if kind == "bz2":
        return bz2.open(path, "rb")
    return lzma.open(path, "rb", format=lzma.FORMAT_XZ if kind == "xz" else lzma.FORMAT_ALONE)


class _ZlibReader:
    """A zlib stream read in chunks with a bounded output per call (``zlib`` has no file object)."""

    def __init__(self, path: Path):
        self._file = open(path, "rb")  # noqa: SIM115 - closed by __exit__
        self._inflate = zlib.decompressobj()

    def read(self, size: int) -> bytes:
        while True:
            if self._inflate.unconsumed_tail:
                return self._inflate.decompress(self._inflate.unconsumed_tail, size)
            data = self._file.read(1 << 16)
            if not data:
                return self._inflate.flush()
            out = self._inflate.decompress(data, size)
            if out:
                return out

    def __enter__(self) -> _ZlibReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self._file.close()


def _loaded(load: Any, fmt: Literal["skops", "pickle"], shown: str) -> LoadedModel | ModelUnavailable:
    """Run ``load``; turn exceptions into a reason and library-version warnings into notes."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            estimator = load()
        except Exception as exc:  # corrupt files and version mismatches raise all kinds of errors
            return ModelUnavailable(f"{shown} was not loaded: {_describe(exc)}")
    if not callable(getattr(estimator, "predict", None)):
        return ModelUnavailable(
            f"{shown} was loaded but holds a {type(estimator).__name__}, not a model with a `predict` method"
        )
    saved_with = sorted(
        {
            str(getattr(warning.message, "original_sklearn_version", "?"))
            for warning in caught
            if type(warning.message).__name__ == "InconsistentVersionWarning"
        }
    )
    notes = ()
    if saved_with:
        import sklearn

        notes = (
            f"{shown} was saved with scikit-learn {', '.join(saved_with)} and loaded with {sklearn.__version__}; "
            "scikit-learn does not promise the same predictions across versions, so the explanations "
            "may not describe the model that produced the evaluation table exactly.",
        )
    return LoadedModel(estimator, fmt, notes)


def _first_line(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= MAX_MESSAGE else line[: MAX_MESSAGE - 1] + "…"


def _describe(exc: Exception) -> str:
    message = _first_line(str(exc))
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__
