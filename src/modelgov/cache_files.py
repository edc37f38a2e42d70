"""How the analysis cache and its key file are opened and read: never through a symbolic link,
never blocking on a FIFO, and in bounded chunks into one buffer of the size checked beforehand.

Shared by the entries (:mod:`modelgov.cache`) and the per-user key file
(:mod:`modelgov.cache_secret`), which are both untrusted storage and opened with the same flags.
"""

from __future__ import annotations

import os
import stat

_CHUNK = 1 << 20

_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
READ_FLAGS = os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | _CLOEXEC
DIR_FLAGS = os.O_RDONLY | _DIRECTORY | _NOFOLLOW | _CLOEXEC
CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC


def read_exactly(fd: int, size: int) -> bytearray:
    """``size`` bytes from ``fd`` in chunks of at most 1 MiB into one preallocated buffer (peak memory
    is the entry's size, checked beforehand); EOFError when the file is shorter than it said."""
    buffer = bytearray(size)
    view = memoryview(buffer)
    with open(fd, "rb", buffering=0, closefd=False) as stream:
        done = 0
        while done < size:
            read = stream.readinto(view[done : done + min(_CHUNK, size - done)])
            if not read:
                raise EOFError
            done += read
    return buffer


def describe_mode(mode: int) -> str:
    """What a file that is not a regular file is, in words (for the message that refuses it)."""
    kinds = [
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ]
    return next((name for test, name in kinds if test(mode)), "not a regular file")
