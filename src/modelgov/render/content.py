"""What the site consists of, independent of the static-site builder.

``pages`` produces these plain values (Markdown text, plain-text titles, a nav tree, files to
copy); the site engine (``site_engine``; MkDocs in ``mkdocs_site``) turns them into its own project
and builds it. Keeping this boundary small means moving to another builder touches only the
engine's module.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

#: Where the site's single copy of plotly.js lives; pages with ``uses_plotly`` load it in the head.
PLOTLY_JS = "assets/javascripts/plotly.min.js"


@dataclass(frozen=True)
class SitePage:
    """One page: its path in the site source (``models/x/index.md``) and its Markdown body."""

    path: str
    title: str  # plain text, not escaped: the builder escapes it for its output format
    markdown: str
    uses_plotly: bool = False


@dataclass(frozen=True)
class NavItem:
    """A navigation entry: a page (``path``) or a section (``children``). ``title`` is plain text."""

    title: str
    path: str | None = None
    children: tuple[NavItem, ...] = ()


@dataclass(frozen=True)
class SiteFile:
    """A static file for the site: copied from ``source`` or written from ``content``."""

    path: str
    source: Path | None = None
    content: bytes | None = None


@dataclass(frozen=True)
class SiteSource:
    """Everything the builder needs."""

    title: str
    organisation: str
    pages: tuple[SitePage, ...]
    nav: tuple[NavItem, ...]
    files: tuple[SiteFile, ...]
    stylesheets: tuple[str, ...] = ()
    versioned: bool = False  # one of several site versions: show the version selector (versions.json)
    #: Folders (``models/credit/``) whose pages change together and are built, and reused, as one
    #: part, and pages (``lineage.md``) built and reused alone; every other page belongs to the
    #: site-wide part (see :mod:`.site_parts`).
    sections: tuple[str, ...] = ()
