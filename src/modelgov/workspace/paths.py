"""The one check every reader of a workspace file goes through: is this path safe to open?

A workspace is written by anyone who can open a pull request, so every file in it is hostile until
checked. Two things make a path unsafe even when its *name* is inside the workspace:

* **Its real location is elsewhere.** A symbolic link (to a file, or a folder on the way to it) can
  point at ``/etc/passwd``, a home folder or another checkout; reading through it would publish the
  host's files on the site. The path is resolved with every link followed, and refused unless the
  result is still inside the workspace. A link that stays inside is fine.
* **It is not a regular file or folder.** A FIFO (named pipe) blocks the reader forever, a device such
  as ``/dev/zero`` or ``/dev/urandom`` never ends, and a socket cannot be read as a file. These are
  refused by their type, found with ``stat`` — which never opens the path, so checking a FIFO cannot
  hang.

Every loader and reader calls :func:`refusal` (or :func:`require`) before it opens anything, so the
rule lives here once instead of as a ``resolve().is_relative_to()`` in each module.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from modelgov.errors import ModelgovError

__all__ = ["NUL_REFUSAL", "PathRefused", "inside", "kind_refusal", "refusal", "require"]


class PathRefused(ModelgovError):
    """A path that must not be read; ``rel`` is how the workspace names it, ``reason`` why."""

    def __init__(self, rel: str, reason: str):
        self.rel = rel
        self.reason = reason
        super().__init__(f"{rel}: {reason}")


#: Why a path holding a NUL character is refused: no file name can hold one, and the operating
#: system's calls raise on it instead of answering (``ValueError: embedded null byte``).
NUL_REFUSAL = "contains a NUL character (\\x00), which no file name can hold"


def _real(path: Path) -> Path | str:
    """``path`` with every symbolic link followed, or why that is impossible (a link loop, a NUL)."""
    if "\x00" in str(path):
        return NUL_REFUSAL
    try:
        return path.resolve()
    except (RuntimeError, OSError):  # Python 3.11 raises RuntimeError on a loop; later versions OSError
        return "is a symbolic link that loops back on itself"


def inside(root: Path, path: Path) -> bool:
    """Whether ``path``'s real location (links followed) is ``root`` or under it; ``root`` must
    already be resolved."""
    real = _real(path)
    return not isinstance(real, str) and (real == root or real.is_relative_to(root))


def kind_refusal(path: Path) -> str | None:
    """Why ``path`` (followed through links) is not something a reader may open: a FIFO, a device or
    a socket. None for a regular file, a folder, or a path that does not exist (the caller says
    "missing" in its own words). Uses ``stat`` only: the path is never opened."""
    if "\x00" in str(path):
        return NUL_REFUSAL
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:  # a link loop, a permission error on the way
        return f"cannot be examined ({exc.strerror or exc})"
    if stat.S_ISFIFO(mode):
        return "is a named pipe (FIFO), not a file; refusing to open it (reading a pipe can wait forever)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "is a device, not a file; refusing to read it"
    if stat.S_ISSOCK(mode):
        return "is a socket, not a file; refusing to read it"
    return None


def refusal(root: Path, path: Path) -> str | None:
    """Why the workspace path ``path`` must not be read, or None when it may be (or does not exist).

    ``root`` is the resolved workspace folder. The location is checked first: a link to
    ``/dev/zero`` is reported as pointing outside the workspace, which is the more useful thing to
    know. A dangling link is judged by where it points."""
    real = _real(path)
    if isinstance(real, str):
        return real
    if not (real == root or real.is_relative_to(root)):
        via = " (through a symbolic link)" if _has_link(root, path) else ""
        return f"points outside the workspace{via}"
    return kind_refusal(path)


def require(root: Path, rel: str) -> Path:
    """``root / rel`` when it may be read; otherwise :class:`PathRefused`. For readers that run after
    the loader checked the workspace: a second line of defence, never the only one."""
    path = root / rel
    reason = refusal(root, path)
    if reason is not None:
        raise PathRefused(rel, reason)
    return path


def _has_link(root: Path, path: Path) -> bool:
    """Whether some component of ``path`` below ``root`` is a symbolic link (for the message only)."""
    try:
        relative = path.relative_to(root)
    except ValueError:
        return False
    current = root
    for part in relative.parts:
        current = current / part
        if current.is_symlink():
            return True
    return False
