"""The worker processes of a build's parallel parts (analysis, site parts, dossiers): one way to
start them, shared by every pool.

A spawned worker is a new interpreter that imports NumPy, pandas, pydantic's models, Jinja and
MkDocs before its first task: about a second of CPU with compiled bytecode and several without it
(a read-only or ``PYTHONDONTWRITEBYTECODE`` environment compiles every module again), paid by every
worker of every pool; a build with ``--jobs 2`` starts up to six. Where the platform has it, workers
are forked from a *fork server* instead: one fresh interpreter, started on the first pool, which
imports the workers' modules (:data:`PRELOAD`) once and forks each worker from itself. The build's
own process is never forked: it holds DuckDB connections, Arrow's thread pools and open files; the
server has done nothing but import.

What a spawned worker got from the build at its start it still gets:

- the working folder and ``sys.path``: :mod:`multiprocessing` sets them in every worker;
- the environment: a fork inherits the *server's*, which was the build's when the server started,
  so each worker first takes the one its pool was created with (a cache key or
  ``SOURCE_DATE_EPOCH`` set since then reaches it, as it would a spawned worker);
- nothing else: the server imports modules and runs no modelgov code, so no result of one build can
  reach another through it (the test suite runs many builds in one process).

Figures do not depend on the start method: every worker computes from what it is sent, and tests
compare builds made in one process with builds made in several, byte for byte.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

__all__ = ["PRELOAD", "START_METHOD", "worker_pool"]

#: What the fork server imports before it forks the first worker: the modules every pool's tasks
#: start from, with NumPy, pandas, Arrow and the manifest's models. Not the site engine: a process
#: builds with one engine, chosen by name in each worker (:mod:`.render.site_engine`), so the server
#: must not have imported MkDocs (a test checks). A module that fails to import is skipped: the worker
#: imports it again and reports the error.
PRELOAD = (
    "modelgov.stages.runner",
    "modelgov.render.site_build",
    "modelgov.dossier.site",
)

#: ``forkserver`` where the platform has it (Linux, macOS), else ``spawn``.
START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


def _context() -> multiprocessing.context.BaseContext:
    context = multiprocessing.get_context(START_METHOD)
    if START_METHOD == "forkserver":
        # read when the server starts, the first time any pool needs it; later calls change nothing
        context.set_forkserver_preload(list(PRELOAD))
    return context


def _start_worker(environment: dict[str, str], initializer: Callable[..., Any] | None, initargs: tuple) -> None:
    """In the worker, before its first task: the pool creator's environment, then its own initializer."""
    os.environ.clear()
    os.environ.update(environment)
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
        initargs=(dict(os.environ), initializer, initargs),
    )
