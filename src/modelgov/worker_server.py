"""The one module the fork server of :mod:`modelgov.processes` imports: the workers' modules
(:mod:`.worker_preload`), then every object they made frozen (``gc.freeze``).

Every worker is forked from the server, so the objects of those modules are in every worker from its
start. Frozen, they are kept out of the worker's garbage collector's full passes, which would
otherwise traverse them again and again and write to (so copy) the memory pages the workers share
with the server, as Python's documentation for ``gc.freeze`` advises for forking servers. Only the
server imports this module: frozen objects are never collected, which suits a process that only
imports and forks, not one that builds.
"""

from __future__ import annotations

import gc

from modelgov import worker_preload  # noqa: F401 - imports the workers' modules

gc.freeze()
