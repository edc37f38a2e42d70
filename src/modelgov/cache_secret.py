"""The analysis cache's secret: the key every entry is authenticated with (HMAC-SHA256), never
kept in the workspace or beside the entries.

It is the CI's ``MODELGOV_CACHE_KEY`` when set, so runners can share a cache, or else a per-user key
file created on first use with owner-only permissions (:func:`load_secret`). Its own module because
how the key is found, checked and created is a security boundary of its own, separate from how the
entries are stored (:mod:`modelgov.cache`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import stat
from pathlib import Path

import platformdirs

from modelgov.cache_files import CREATE_FLAGS, READ_FLAGS, read_exactly
from modelgov.errors import CacheError

#: The cache's secret, given by the CI; any string of at least :data:`MIN_SECRET_BYTES` bytes.
CACHE_KEY_ENV = "MODELGOV_CACHE_KEY"

#: HMAC-SHA256 is as strong as its key up to the hash's 32 bytes; a shorter secret is refused.
MIN_SECRET_BYTES = 32

#: Size of the generated per-user key file.
KEY_FILE_BYTES = 32


class KeyUnusable(Exception):
    """The per-user key file cannot be trusted or created; the message says why and how to fix it."""


def key_file_path() -> Path:
    """The per-user key: in the user's *config* folder, not beside the cache, because a cache folder
    is something CI systems save and restore from shared storage; a key stored with the entries would
    be restored (or forged) together with them."""
    return Path(platformdirs.user_config_dir("modelgov")) / "cache.key"


def load_secret() -> bytes:
    """The HMAC key: ``$MODELGOV_CACHE_KEY`` when set and not empty (its UTF-8 bytes, surrounding
    whitespace removed; at least 32 bytes, or :class:`CacheError`), else the per-user key file,
    generated on first use (:class:`KeyUnusable` when it exists but cannot be trusted).

    An empty variable counts as unset because CI systems give an empty string for a secret a job may
    not see (pull requests from forks): such a build then uses its runner's own key, finds restored
    entries unauthenticated and recomputes them, which is slow but honest."""
    given = os.environ.get(CACHE_KEY_ENV, "").strip()
    if given:
        secret = given.encode("utf-8")
        if len(secret) < MIN_SECRET_BYTES:
            raise CacheError(
                f"{CACHE_KEY_ENV} is {len(secret)} bytes long; it must be a secret of at least "
                f"{MIN_SECRET_BYTES} bytes (for example the 64 characters of `openssl rand -hex 32`)"
            )
        return secret
    path = key_file_path()
    try:
        return _read_key_file(path)
    except FileNotFoundError:
        pass
    _create_key_file(path)
    return _read_key_file(path)


def _read_key_file(path: Path) -> bytes:
    """The key file's bytes, after checking it is a regular file (not a link), owned by this user,
    readable and writable by nobody else, and exactly :data:`KEY_FILE_BYTES` long."""
    fix = f"delete {path} and a new key is made on the next build (cached results are then computed once more)"
    try:
        fd = os.open(path, READ_FLAGS)
    except FileNotFoundError:
        raise
    except OSError as exc:
        if exc.errno == errno.ELOOP or path.is_symlink():
            raise KeyUnusable(f"the key file {path} is a symbolic link; {fix}") from None
        raise KeyUnusable(f"the key file {path} cannot be read ({exc.strerror}); {fix}") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise KeyUnusable(f"the key file {path} is not a regular file; {fix}")
        if hasattr(os, "getuid") and info.st_uid != os.getuid():
            raise KeyUnusable(f"the key file {path} belongs to user id {info.st_uid}, not to you; {fix}")
        if info.st_mode & 0o077:
            raise KeyUnusable(
                f"the key file {path} can be read or written by other users (mode "
                f"{stat.S_IMODE(info.st_mode):04o}); run `chmod 600 {path}` if nobody else could have read "
                f"it, or {fix}"
            )
        if info.st_size != KEY_FILE_BYTES:
            raise KeyUnusable(f"the key file {path} is {info.st_size} bytes, not {KEY_FILE_BYTES}; {fix}")
        return bytes(read_exactly(fd, KEY_FILE_BYTES))
    except EOFError:
        raise KeyUnusable(f"the key file {path} changed while it was read; {fix}") from None
    finally:
        os.close(fd)


def _create_key_file(path: Path) -> None:
    """Write 32 random bytes to ``path``, mode 0600, never replacing a file that is already there.

    The bytes go to a temporary file (``O_CREAT|O_EXCL``, 0600) that is then hard-linked to the final
    name, so a reader never sees a half-written key and two builds starting at once agree on one key
    (the second link fails and that build reads the first one's). Filesystems without hard links get
    the final name created directly with ``O_EXCL``."""
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        temporary = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
        fd = os.open(temporary, CREATE_FLAGS, 0o600)
        try:
            os.write(fd, os.urandom(KEY_FILE_BYTES))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another build made it first: use that one
        except OSError as exc:
            if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
                raise
            with contextlib.suppress(FileExistsError):
                fd = os.open(path, CREATE_FLAGS, 0o600)
                try:
                    os.write(fd, os.urandom(KEY_FILE_BYTES))
                finally:
                    os.close(fd)
        finally:
            temporary.unlink(missing_ok=True)
    except OSError as exc:
        raise KeyUnusable(
            f"the key file {path} cannot be created ({exc.strerror or exc}); set {CACHE_KEY_ENV} to a secret "
            "of at least 32 bytes, or build with --no-cache"
        ) from None
