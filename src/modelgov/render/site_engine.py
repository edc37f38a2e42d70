"""The static-site engine: the program that turns the site's Markdown into HTML, behind one seam.

Everything the renderer asks of an engine is in :class:`SiteEngine`: build one part of the site
(:mod:`.site_parts`) and say what, besides the pages, a part's HTML depends on (for the cache key),
then complete the site-wide search index. :mod:`.site_build` drives it; nothing else in modelgov
imports an engine. Replacing the engine means one new module and one entry in :data:`ENGINES`.

Two engines exist, both implemented by :mod:`.mkdocs_site` because the second is a fork of the first:

* ``mkdocs`` (the default): MkDocs 1.6 with the Material theme.
* ``properdocs``: ProperDocs, the maintained continuation of MkDocs 1.x, with the same Material
  theme (``pip install "modelgov[properdocs]"``). A test builds the demo with both and compares the
  pages: they differ only in the ``generator`` meta tag.

``MODELGOV_SITE_ENGINE`` selects one. ProperDocs keeps MkDocs' Python API under its own name and
answers every ``mkdocs.*`` import once ``properdocs.replacement`` is imported, which is how Material
(written against ``mkdocs``) runs on it. That redirection is process-wide, so a process builds with
one engine: the first build loads it, and asking for the other one afterwards is an error rather
than a site built from a mix of both. Parts built in worker processes load the same engine by name.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Protocol

from modelgov.errors import BuildError
from modelgov.render.content import SiteSource
from modelgov.render.site_parts import Part, PartOutput

__all__ = ["DEFAULT_ENGINE", "ENGINES", "ENGINE_VARIABLE", "SiteEngine", "load", "selected"]

#: The environment variable that selects the engine.
ENGINE_VARIABLE = "MODELGOV_SITE_ENGINE"

#: Engine name → the name shown in progress lines and errors.
ENGINES = {"mkdocs": "MkDocs", "properdocs": "ProperDocs"}

DEFAULT_ENGINE = "mkdocs"


class SiteEngine(Protocol):
    """What the renderer needs from a static-site engine."""

    #: ``mkdocs`` or ``properdocs``: the name a worker process loads the same engine by.
    name: str
    #: ``MkDocs`` or ``ProperDocs``, for progress lines and error messages.
    label: str

    def cache_material(self, source: SiteSource) -> dict[str, object]:
        """Everything besides a part's pages that its HTML depends on (configuration, theme files,
        the engine's and theme's versions), JSON-serialisable, for the part's cache key."""
        ...

    def build_part(self, source: SiteSource, part: Part, site_dir: Path, *, quiet: bool) -> PartOutput:
        """Build ``part`` of ``source`` into ``site_dir``, every other page known as an excluded file;
        the root part also writes the static files and theme assets. Raise BuildError on any warning."""
        ...

    def complete_search_index(self, site_dir: Path, entries: list[dict]) -> None:
        """Add ``entries`` (the other parts' search entries) to the index the root part wrote."""
        ...


def selected() -> str:
    """The engine ``MODELGOV_SITE_ENGINE`` names (``mkdocs`` when unset or empty)."""
    name = os.environ.get(ENGINE_VARIABLE, "").strip().lower() or DEFAULT_ENGINE
    if name not in ENGINES:
        choices = ", ".join(ENGINES)
        raise BuildError(f"{ENGINE_VARIABLE}={name!r} is not a site engine modelgov knows; choose one of: {choices}")
    return name


def _loaded() -> str | None:
    """The engine that answers ``import mkdocs`` in this process, or None before any is imported."""
    module = sys.modules.get("mkdocs")
    if module is None:
        return None
    return "properdocs" if module.__name__ == "properdocs" else "mkdocs"


def load(name: str | None = None) -> SiteEngine:
    """The engine ``name`` (default: :func:`selected`), imported into this process.

    Raises BuildError when ProperDocs is asked for and not installed, or when this process already
    imported the other engine (one process builds with one engine; see the module docstring)."""
    name = selected() if name is None else name
    if name not in ENGINES:
        raise BuildError(f"{name!r} is not a site engine modelgov knows; choose one of: {', '.join(ENGINES)}")
    loaded = _loaded()
    if loaded is not None and loaded != name:
        raise BuildError(
            f"this process already loaded {ENGINES[loaded]}, so it cannot build with {ENGINES[name]}: "
            f"one process builds with one site engine; run the build in a new process with {ENGINE_VARIABLE}={name}"
        )
    if name == "properdocs":
        try:
            import properdocs.replacement  # noqa: F401  (routes every later `mkdocs.*` import to ProperDocs)
        except ImportError:
            raise BuildError(
                f"{ENGINE_VARIABLE}=properdocs, but ProperDocs is not installed: pip install 'modelgov[properdocs]'"
            ) from None
    from modelgov.render.mkdocs_site import MkDocsEngine

    return MkDocsEngine(name, ENGINES[name])
