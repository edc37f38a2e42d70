"""The worker processes of a build's parallel parts (analysis, site parts, dossiers): one way to
start them, shared by every pool.

A spawned worker is a new interpreter that imports NumPy, Arrow, the manifest's pydantic models and
the rest before its first task: about a second of CPU with compiled bytecode and several without it
(a read-only or ``PYTHONDONTWRITEBYTECODE`` environment compiles every module again), paid by every
worker of every pool; a build with ``--jobs 2`` starts up to six. Where the platform has it, workers
are forked from a *fork server* instead: a fresh interpreter, started by the first pool a process
creates and kept until the process ends or the ``modelgov`` command stops it (:func:`stop_server`;
a long-lived process, such as the test suite, keeps one for all its builds), which imports the
workers' modules (:mod:`modelgov.worker_server`) once and forks each worker from itself. The
build's own process is never forked: it holds DuckDB connections, Arrow's thread pools and open
files.

The server finds modules exactly as the process that started it does: it is started with that
process's ``sys.path`` and with ``PYTHONSAFEPATH``, so the folder the build runs in is not searched
first (unless Python runs with ``-E``, which ignores both variables). (multiprocessing starts the
server as ``python -c``, which would put the working folder at the head of the path, and does not
apply the caller's path to what the server imports: a ``yaml.py`` in the folder where ``modelgov
build`` runs, which a pull request can write, would have run in the server and every worker forked
from it. A test plants one.)

What a worker takes from the process that created its pool, when the pool is created:

- the working folder and ``sys.path``: :mod:`multiprocessing` sets them in every worker;
- the environment and the file-creation mask (umask): a fork inherits the *server's*, taken when
  the server started, so each worker first takes its pool creator's (a cache key or
  ``SOURCE_DATE_EPOCH`` set since then reaches it, as it would a spawned worker).

What a worker still has from the server's start, which matters only in a process that creates pools
after changing them: its standard error and output, and what libraries read from the environment
when they are imported (``OPENBLAS_NUM_THREADS``, for one). The server runs only imports; no result
of one build can reach another through it.

Figures do not depend on the start method: every worker computes from what it is sent, and tests
compare builds made in one process with builds made in several, byte for byte.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

__all__ = ["START_METHOD", "stop_server", "worker_pool"]

#: ``forkserver`` where the platform has it (Linux, macOS), else ``spawn``.
START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"

#: The one module the server imports (it imports the others, survives their failures, and freezes
#: what they made: see :mod:`modelgov.worker_server`).
_PRELOAD = "modelgov.worker_server"


@contextmanager
def _server_environment() -> Iterator[None]:
    """This process's environment, while the server starts, with this process's ``sys.path`` as
    ``PYTHONPATH`` and ``PYTHONSAFEPATH`` set (see the module docstring); put back afterwards. The
    workers do not keep it: each takes its pool creator's environment."""
    changed = {
        "PYTHONSAFEPATH": "1",
        "PYTHONPATH": os.pathsep.join(os.path.abspath(p) for p in sys.path if p),
    }
    saved = {name: os.environ.get(name) for name in changed}
    os.environ.update(changed)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def _context() -> multiprocessing.context.BaseContext:
    context = multiprocessing.get_context(START_METHOD)
    if START_METHOD == "forkserver":
        from multiprocessing import forkserver

        context.set_forkserver_preload([_PRELOAD])
        with _server_environment():
            forkserver.ensure_running()  # started here, once per process (again if it died)
    return context


def _current_umask() -> int:
    """This process's umask, read without changing it where Linux says it (setting it to read it
    would change it for a moment for every thread of the build)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o22)
    os.umask(mask)
    return mask


def _start_worker(
    environment: dict[str, str], umask: int, initializer: Callable[..., Any] | None, initargs: tuple
) -> None:
    """In the worker, before its first task: the pool creator's environment and umask, then its own
    initializer."""
    os.environ.clear()
    os.environ.update(environment)
    os.umask(umask)
    if initializer is not None:
        initializer(*initargs)


def worker_pool(
    workers: int, *, initializer: Callable[..., Any] | None = None, initargs: tuple = ()
) -> ProcessPoolExecutor:
    """A pool of ``workers`` processes started as this module describes; use it in a ``with`` block."""
    return ProcessPoolExecutor(
        max_workers=workers,
        mp_context=_context(),
        initializer=_start_worker,
        initargs=(dict(os.environ), _current_umask(), initializer, initargs),
    )


def stop_server() -> None:
    """Stop this process's fork server, if one runs, and wait for it to end.

    The ``modelgov`` command does so before it exits: the workers are the server's children, so only
    once the server has been waited for do their CPU time and peak memory count in the command's
    (GNU time, a CI job's accounting), as a spawned worker's did; and no server outlives the command.
    A later pool starts a new server. multiprocessing has no public way to do this; where its private
    one is missing, the server ends with the process, as it would anyway."""
    if START_METHOD != "forkserver":
        return
    from multiprocessing import forkserver

    stop = getattr(getattr(forkserver, "_forkserver", None), "_stop", None)
    if stop is not None:
        stop()
