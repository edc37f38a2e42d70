"""The MkDocs engine (and ProperDocs, its maintained fork): the project layout, the config, the
theme override and the build of one part of the site.

This is the only module that imports mkdocs. :class:`MkDocsEngine` implements
:class:`.site_engine.SiteEngine`: it takes a builder-neutral :class:`SiteSource` (Markdown pages,
plain-text titles, a nav tree, static files), writes an MkDocs project into a temporary folder and
builds one part of it into ``site_dir``. The same code runs on ProperDocs, which keeps MkDocs' API
and answers its imports once :func:`.site_engine.load` has switched the process to it; the engine's
name only changes the versions recorded in cache keys, the logger its warnings are collected from
and the name in messages. Moving to another static-site builder means replacing this module and
nothing else (:mod:`.site_build` drives whichever engine is loaded).

Choices and why:

* Material theme with ``font: false`` and no ``navigation.instant``: Material's default fonts come
  from Google's CDN, and instant loading swaps page bodies without running their inline chart
  scripts.
* Material's ``offline`` plugin and ``use_directory_urls: false``: the site opens straight from
  disk (``file://``), search included. The offline plugin adds a worker shim from unpkg.com; the
  theme override replaces it with a small local one, so no page loads anything from the network.
* Strict mode with every link check at ``warn``: a broken link or anchor fails the build instead of
  shipping a site with dead evidence links.
* plotly.js is loaded once, in the head, and only on pages whose front matter says ``plotly: true``.
* Material puts page and nav titles and the site name into HTML unescaped, so every title is
  HTML-escaped here.
* The site is built in parts (:mod:`.site_parts`), one MkDocs build each, because MkDocs has no
  incremental build. A part's build is given the other parts' pages and the static files as
  *excluded* files, which MkDocs resolves but neither reads nor writes: links and navigation entries
  to them come out as in a whole-site build (the pages are byte-identical; a test keeps them so),
  and every part is cached on its own. Anchors linked across parts are checked after all parts are
  built, with MkDocs' own wording.
"""

from __future__ import annotations

import dataclasses
import functools
import html
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import metadata, resources
from pathlib import Path

import jinja2
import mkdocs.utils
from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import MkDocsException
from mkdocs.plugins import BasePlugin
from mkdocs.structure.files import File, Files, InclusionLevel

from modelgov.errors import BuildError
from modelgov.render import site_parts
from modelgov.render.compiled_templates import CompiledTemplates
from modelgov.render.content import PLOTLY_JS, NavItem, SitePage, SiteSource
from modelgov.render.site_parts import Part, PartOutput, safe_target
from modelgov.text_safety import visible

__all__ = ["MkDocsEngine"]

_FILE_WORKER_JS = "assets/javascripts/modelgov-file-worker.js"
_SEARCH_INDEX = "search/search_index.json"

# Asset paths go through MkDocs' `url` filter (page-relative, from base_url), as Material does for
# its own assets: a bare "{{ base_url }}/…" would become a network URL "//assets/…" on 404.html.
_MAIN_HTML = (
    """\
{#- Written by modelgov.render.mkdocs_site: Material's main.html, adapted for an offline site. -#}
{% extends "base.html" %}
{#- Material's polyfills are only the offline plugin's worker shim from unpkg.com: use a local one. -#}
{% block libs %}
  <script src="{{ '"""
    + _FILE_WORKER_JS
    + """' | url }}"></script>
{% endblock %}
{% block extrahead %}
  {{ super() }}
  {%- if page and page.meta and page.meta.plotly %}
  <script src="{{ '"""
    + PLOTLY_JS
    + """' | url }}"></script>
  {%- endif %}
{% endblock %}
"""
)

# Browsers refuse `new Worker()` for file:// pages, which Material's search needs. On file:// only,
# this script (render/file-worker.js) runs the worker script in a hidden same-page iframe and relays
# messages, so search works when the site is opened from disk. It loads nothing from the network.
_FILE_WORKER = resources.files("modelgov.render").joinpath("file-worker.js").read_text(encoding="utf-8")


#: Python-Markdown extensions for the pages. Pages carry user text (escaped, or rendered to inert
#: HTML by ``usertext``), so extensions that give text powers beyond formatting stay off:
#: ``pymdownx.snippets`` (``--8<--`` reads files of the building host), ``attr_list`` (``{: onclick=…}``
#: puts attributes on elements), ``md_in_html`` (re-parses Markdown inside raw HTML blocks) and
#: ``pymdownx.arithmatex``/``superfences`` custom fences. A test holds this list to that.
_MARKDOWN_EXTENSIONS: list[object] = [
    "tables",
    "footnotes",
    "admonition",
    "sane_lists",
    {"toc": {"permalink": True}},
]


def _builder_text(value: str) -> str:
    """A title for MkDocs or Material (site name, nav entry, page title), which insert it as HTML:
    escaped, with control characters shown as escapes (a YAML loader refuses some of them, and a
    bidi override would reorder the navigation)."""
    return html.escape(visible(value, keep=""))


def _nav_config(items: tuple[NavItem, ...]) -> list[dict[str, object]]:
    """MkDocs ``nav``: a list of one-key mappings, title → path or title → sub-list."""
    entries: list[dict[str, object]] = []
    for item in items:
        title = _builder_text(item.title)
        entries.append({title: item.path if item.path is not None else _nav_config(item.children)})
    return entries


def mkdocs_config(source: SiteSource, docs_dir: Path, theme_dir: Path, site_dir: Path) -> dict[str, object]:
    """The MkDocs configuration for ``source``, as the dict that ``mkdocs.yml`` would hold."""
    return {
        "site_name": _builder_text(source.title),
        "copyright": _builder_text(source.organisation),
        "docs_dir": str(docs_dir),
        "site_dir": str(site_dir),
        "use_directory_urls": False,
        "nav": _nav_config(source.nav),
        "theme": {
            "name": "material",
            "custom_dir": str(theme_dir),
            "font": False,
            "language": "en",
            "palette": {"scheme": "default", "primary": "indigo", "accent": "indigo"},
            "features": ["navigation.sections", "navigation.prune", "navigation.top", "search.highlight", "toc.follow"],
        },
        "plugins": ["search", "offline"],
        "markdown_extensions": _MARKDOWN_EXTENSIONS,
        "extra_css": list(source.stylesheets),
        # mike's provider: Material's selector reads ../versions.json, which modelgov writes
        "extra": {"generator": False, **({"version": {"provider": "mike"}} if source.versioned else {})},
        "validation": {
            "nav": {"omitted_files": "warn", "not_found": "warn", "absolute_links": "warn"},
            "links": {"not_found": "warn", "absolute_links": "warn", "unrecognized_links": "warn", "anchors": "warn"},
        },
    }


def _front_matter(page: SitePage) -> str:
    # JSON strings are valid YAML scalars; titles are HTML because Material inserts them unescaped.
    lines = ["---", f"title: {json.dumps(_builder_text(page.title), ensure_ascii=False)}"]
    if page.uses_plotly:
        lines.append("plotly: true")
    return "\n".join([*lines, "---", "", ""])


def write_project(source: SiteSource, project: Path, site_dir: Path) -> Path:
    """Write the MkDocs project (docs, theme override, config) into ``project``; return the config path."""
    docs_dir, theme_dir = project / "docs", project / "theme"
    for page in source.pages:
        # controls in a page are shown as escapes here too: whatever reached the page without a text
        # filter (a value a view formatted itself) still cannot hide text or reach MkDocs raw
        markdown = visible(page.markdown, keep="\n\t")
        safe_target(docs_dir, page.path).write_text(_front_matter(page) + markdown, encoding="utf-8")
    for file in source.files:
        target = safe_target(docs_dir, file.path)
        if file.source is not None:
            shutil.copyfile(file.source, target)
        else:
            target.write_bytes(file.content or b"")
    safe_target(theme_dir, "main.html").write_text(_MAIN_HTML, encoding="utf-8")
    safe_target(theme_dir, _FILE_WORKER_JS).write_text(_FILE_WORKER, encoding="utf-8")
    config_path = project / "mkdocs.yml"
    config = mkdocs_config(source, docs_dir, theme_dir, site_dir)
    # the navigation is handed to MkDocs as an object (see MkDocsEngine.build_part): a fleet's nav is thousands
    # of entries, and parsing them as YAML would cost every part's build half a second
    config.pop("nav")
    config_path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return config_path


class _Collect(logging.Handler):
    """Keeps the engine's warnings and errors, so a failed build can say what failed."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.levelname}: {record.getMessage()}")


@contextmanager
def _engine_logging(root: str, quiet: bool) -> Iterator[_Collect]:
    """Route the engine's log (logger ``root``: ``mkdocs`` or ``properdocs``) to a collector, and to
    stderr at INFO when not quiet, then restore it. Under ProperDocs, plugins written for MkDocs
    (Material's search and offline plugins) still log to ``mkdocs.*``: that logger is made a child of
    ``properdocs`` for the build, as ProperDocs' own command line does, so their warnings fail a
    strict build too."""
    logger = logging.getLogger(root)
    saved = (logger.level, logger.propagate, list(logger.handlers))
    legacy = logging.getLogger("mkdocs") if root != "mkdocs" else None
    saved_legacy = (legacy.parent, legacy.level, legacy.propagate, list(legacy.handlers)) if legacy else None
    collect = _Collect()
    logger.handlers = [collect]
    logger.propagate = False
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    if legacy is not None:
        legacy.parent, legacy.handlers, legacy.propagate = logger, [], True
        legacy.setLevel(logging.NOTSET)
    if not quiet:
        stream = logging.StreamHandler()
        stream.addFilter(_QuietExclusions())
        stream.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
        logger.addHandler(stream)
    try:
        yield collect
    finally:
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
        logger.handlers = saved[2]
        if legacy is not None and saved_legacy is not None:
            legacy.parent, legacy.handlers, legacy.propagate = saved_legacy[0], saved_legacy[3], saved_legacy[2]
            legacy.setLevel(saved_legacy[1])


#: The theme's templates compiled once per process (MkDocs makes a new environment for every part),
#: filed by name and source: the theme override is written into a new folder for every part.
_TEMPLATE_CODE = CompiledTemplates(by_file=False)


class _ThemeLoader(jinja2.FileSystemLoader):
    """The theme's template loader, listing each installed theme folder once per process.

    Every part's build lists all the theme's files (MkDocs copies the static ones), and Material's
    folder holds thousands of icons: walking it took about 0.3 s a part. The installed theme does
    not change while a build runs, so its listing is kept; the part's own override folder
    (``fresh``, a new temporary folder each time) is walked every time. The templates themselves
    are read exactly as before (this only answers :meth:`list_templates`).

    Names under a hidden folder or file at the top (Material's ``.icons``: 14,348 of its 14,509
    files) are left out of the listing: MkDocs, the listing's only reader, drops them with the first
    pattern of its filter (``.*``), after testing each one, 25 ms a part. Templates that include an
    icon load it by name, which this does not touch."""

    def __init__(self, searchpath: list[str], *, encoding: str, followlinks: bool, fresh: Path) -> None:
        super().__init__(searchpath, encoding=encoding, followlinks=followlinks)
        self.fresh = fresh

    def list_templates(self) -> list[str]:
        found: set[str] = set()
        for searchpath in self.searchpath:
            if Path(searchpath).resolve().is_relative_to(self.fresh):
                found.update(_visible_templates(searchpath, self.followlinks))
            else:
                found.update(_installed_templates(searchpath, self.followlinks))
        return sorted(found)


def _walk_templates(searchpath: str, followlinks: bool) -> frozenset[str]:
    """Template names under one folder, as :meth:`jinja2.FileSystemLoader.list_templates` names them."""
    found = set()
    for dirpath, _, filenames in os.walk(searchpath, followlinks=followlinks):
        for filename in filenames:
            template = os.path.join(dirpath, filename)[len(searchpath) :].strip(os.path.sep)
            template = template.replace(os.path.sep, "/")
            found.add(template[2:] if template[:2] == "./" else template)
    return frozenset(found)


def _visible_templates(searchpath: str, followlinks: bool) -> frozenset[str]:
    """:func:`_walk_templates` without the names under a hidden folder or file at the top."""
    return frozenset(name for name in _walk_templates(searchpath, followlinks) if not name.startswith("."))


_installed_templates = functools.lru_cache(maxsize=16)(_visible_templates)


def _list_theme_once(config: MkDocsConfig, fresh: Path) -> None:
    """Give each of this part's theme environments a :class:`_ThemeLoader` and the templates compiled
    once per process (:data:`_TEMPLATE_CODE`). MkDocs makes one for the pages; Material's search
    plugin makes three more while reading the configuration, each compiling the language partials."""
    make_env = config.theme.get_env

    def get_env() -> jinja2.Environment:
        env = make_env()
        env.bytecode_cache = _TEMPLATE_CODE
        loader = env.loader
        if type(loader) is jinja2.FileSystemLoader:
            env.loader = _ThemeLoader(
                list(loader.searchpath), encoding=loader.encoding, followlinks=loader.followlinks, fresh=fresh
            )
        return env

    config.theme.get_env = get_env  # type: ignore[method-assign]


#: MkDocs' own way of finding installed packages' entry points, kept as imported: the block below
#: puts it back, however blocks in different threads overlap.
_ENTRY_POINTS = mkdocs.utils.entry_points


@functools.cache
def _entry_points(group: str) -> tuple[metadata.EntryPoint, ...]:
    """The entry points of ``group`` (``mkdocs.themes``), found once per process."""
    return tuple(_ENTRY_POINTS(group=group))


@contextmanager
def _themes_found_once() -> Iterator[None]:
    """Within the block, MkDocs' list of installed themes is made from entry points found once per
    process.

    MkDocs keeps its list of installed themes (``mkdocs.utils.get_themes``) in a cache, but clears
    it each time it loads a theme, so that ``mkdocs serve`` sees a theme installed while it runs.
    Every part's configuration then searched the environment's entry points again: about a
    twentieth of a one-model build. The packages installed do not change while modelgov runs, so the
    search is done once; MkDocs still makes its list from it every time, with its own checks and
    warnings (two packages offering one theme name), which a strict build turns into errors."""

    def entry_points(**params: str) -> tuple[metadata.EntryPoint, ...]:
        if set(params) == {"group"}:
            return _entry_points(params["group"])
        return tuple(_ENTRY_POINTS(**params))  # pragma: no cover - MkDocs asks by group only

    mkdocs.utils.entry_points = entry_points  # type: ignore[assignment]
    try:
        yield
    finally:
        mkdocs.utils.entry_points = _ENTRY_POINTS


class _OtherParts(BasePlugin):
    """Makes one part's build see the whole site: the other parts' pages and the static files are
    added as *excluded* files, which MkDocs neither reads nor writes but does resolve, so links and
    navigation entries to them come out exactly as in a whole-site build. After the build it records
    what the part defines and what it points at in other parts (see :class:`.site_parts.PartOutput`)."""

    def __init__(self, external: list[str], *, skip_static: bool):
        super().__init__()
        self.external = external
        self.skip_static = skip_static  # the root part writes the theme's files; the others need not
        self.files: Files | None = None

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files:
        if self.skip_static:
            for file in files:
                if not file.is_documentation_page():
                    file.inclusion = InclusionLevel.EXCLUDED
        for uri in self.external:
            files.append(File.generated(config, uri, content=b"", inclusion=InclusionLevel.EXCLUDED))
        self.files = files
        return files

    def record(self, output: PartOutput) -> None:
        assert self.files is not None
        for file in self.files.documentation_pages():
            page = file.page
            if page is None:
                continue
            output.anchors[file.src_uri] = sorted(page.present_anchor_ids or ())
            for target, links in page.links_to_anchors.items():
                if target.inclusion.is_excluded():
                    output.links += [[file.src_uri, target.src_uri, a, written] for a, written in links.items()]


class _QuietExclusions(logging.Filter):
    """Every link into another part is reported at INFO as a link to an excluded file; it is not."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "excluded from the built site" not in record.getMessage()


class MkDocsEngine:
    """:class:`.site_engine.SiteEngine` on MkDocs 1.6 or ProperDocs (``name``), with Material."""

    def __init__(self, name: str, label: str) -> None:
        self.name = name  # "mkdocs" or "properdocs": the package that answers `import mkdocs` here
        self.label = label

    def versions(self) -> dict[str, str]:
        """The versions a built page depends on: the engine's, the theme's and Python-Markdown's."""
        return {package: metadata.version(package) for package in (self.name, "mkdocs-material", "markdown")}

    def cache_material(self, source: SiteSource) -> dict[str, object]:
        """The configuration (without this machine's paths), the theme override and the versions."""
        config = mkdocs_config(source, Path("docs"), Path("theme"), Path("site"))
        portable = {k: v for k, v in config.items() if k not in ("docs_dir", "site_dir")}
        portable["theme"] = {k: v for k, v in config["theme"].items() if k != "custom_dir"}  # type: ignore[union-attr]
        return {
            "engine": self.name,
            "config": portable,
            "theme_override": [_MAIN_HTML, _FILE_WORKER],
            "builder": self.versions(),
        }

    def build_part(self, source: SiteSource, part: Part, site_dir: Path, *, quiet: bool) -> PartOutput:
        """Build ``part`` into ``site_dir`` (the root part also writes the static files and the theme)."""
        own = {page.path for page in part.pages}
        external = [page.path for page in source.pages if page.path not in own]
        is_root = part.name == site_parts.ROOT
        if not is_root:
            external += [file.path for file in source.files]
        part_source = dataclasses.replace(source, pages=part.pages, files=source.files if is_root else ())
        output = PartOutput()
        with tempfile.TemporaryDirectory(prefix="modelgov-site-source-") as tmp:
            config_path = write_project(part_source, Path(tmp), site_dir)
            with _engine_logging(self.name, quiet) as collected:
                try:
                    with _themes_found_once():
                        config = load_config(str(config_path), strict=True, nav=_nav_config(source.nav))
                    if not is_root:  # the 404 page (and an empty sitemap) are written by the root part
                        config.theme.static_templates.clear()
                    _list_theme_once(config, Path(tmp).resolve())
                    others = _OtherParts(external, skip_static=not is_root)
                    config.plugins["modelgov/other-parts"] = others
                    mkdocs_build(config)
                except (MkDocsException, OSError) as exc:
                    details = "".join(f"\n  {message}" for message in collected.messages)
                    raise BuildError(f"the static site build ({self.label}) failed: {exc}{details}") from None
                if collected.messages:  # e.g. config warnings, which MkDocs logs before counting starts
                    details = "".join(f"\n  {message}" for message in collected.messages)
                    raise BuildError(f"the static site build ({self.label}) reported problems:{details}")
        others.record(output)
        for page in part.pages:
            html_path = site_parts.output_path(page.path)
            output.pages[html_path] = (site_dir / html_path).read_bytes()
        output.search = list(_read_search_index(site_dir).get("docs", []))
        return output

    def complete_search_index(self, site_dir: Path, entries: list[dict]) -> None:
        """Material's index, with the other parts' entries after the root part's."""
        root_index = _read_search_index(site_dir)
        if not root_index:
            return
        merged = site_parts.merge_search_indexes([root_index, {"docs": entries}])
        data = json.dumps(merged, separators=(",", ":"))
        (site_dir / _SEARCH_INDEX).write_text(data, encoding="utf-8")
        # Material's offline plugin inlines the index into a script for file:// pages; do the same
        (site_dir / _SEARCH_INDEX).with_suffix(".js").write_text(f"var __index = {data}", encoding="utf-8")


def _read_search_index(site_dir: Path) -> dict:
    path = site_dir / _SEARCH_INDEX
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
