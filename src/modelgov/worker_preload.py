"""What the fork server of :mod:`modelgov.processes` imports before it forks the first worker.

The server imports this one module; it imports the modules every pool's tasks start from, each on
its own, and lets a failure pass, so that the server keeps running (it skips only an
``ImportError`` itself: any other error would stop it, and every pool of the process would then
fail with an unexplained end of file). A module the server could not import is imported again by
each worker when its first task arrives: if it fails there too, the worker writes the error to
standard error and stops, and the build stops with a message that a worker stopped; if it was a
passing failure, the build goes on, only slower.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable

__all__ = ["MODULES", "preload"]

#: The modules the workers' tasks start from: the analysis runner, the site-part builder and the
#: dossier writer, which bring NumPy, Arrow, YAML and the manifest's pydantic models with them. Not
#: the site engine: a process builds with one engine, chosen by name in each worker
#: (:mod:`.render.site_engine`), so the server must not have imported MkDocs (a test checks).
MODULES = ("modelgov.stages.runner", "modelgov.render.site_build", "modelgov.dossier.site")


def preload(names: Iterable[str]) -> list[str]:
    """Import each of ``names``; return those that failed (for tests: the server ignores them)."""
    failed = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # the worker meets it again, with its task
            failed.append(name)
    return failed


preload(MODULES)
