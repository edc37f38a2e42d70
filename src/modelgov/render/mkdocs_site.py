"""Everything MkDocs-specific: the project layout, the config, the theme override and the build.

This is the only module that imports mkdocs. It takes a builder-neutral :class:`SiteSource`
(Markdown pages, plain-text titles, a nav tree, static files), writes an MkDocs project into a
temporary folder and builds it into ``site_dir``. Moving to another static-site builder means
replacing this module and nothing else.

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
"""

from __future__ import annotations

import html
import json
import logging
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mkdocs.commands.build import build as mkdocs_build
from mkdocs.config import load_config
from mkdocs.exceptions import MkDocsException

from modelgov.errors import BuildError
from modelgov.render.content import PLOTLY_JS, NavItem, SitePage, SiteSource

__all__ = ["build_site"]

_FILE_WORKER_JS = "assets/javascripts/modelgov-file-worker.js"

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
# this runs the worker script in a hidden same-page iframe and relays messages, so search works
# when the site is opened from disk. It loads nothing from the network.
_FILE_WORKER = """\
/* modelgov: run Material's search worker on file:// pages (see modelgov.render.mkdocs_site). */
(function () {
  "use strict";
  if (location.protocol !== "file:" || typeof EventTarget !== "function") return;
  class FileWorker extends EventTarget {
    constructor(url) {
      super();
      this.onmessage = null;
      this.onerror = null;
      this.frame = document.createElement("iframe");
      this.frame.hidden = true;
      document.body.appendChild(this.frame);
      const scope = this.frame.contentWindow;
      const doc = scope.document;
      doc.open();
      doc.write("<!doctype html><html><head></head><body></body></html>");
      doc.close();
      const deliver = (data) => {
        const event = new MessageEvent("message", { data: data });
        this.dispatchEvent(event);
        if (typeof this.onmessage === "function") this.onmessage(event);
      };
      const load = (src) => new Promise((resolve, reject) => {
        const script = doc.createElement("script");
        script.onload = () => resolve();
        script.onerror = () => reject(new Error("cannot load " + src));
        script.src = src;
        doc.body.appendChild(script);
      });
      scope.postMessage = (data) => setTimeout(() => deliver(data), 0);
      scope.importScripts = (...urls) => urls.reduce((done, src) => done.then(() => load(src)), Promise.resolve());
      this.ready = load(String(url)).catch((error) => {
        const event = new ErrorEvent("error", { message: String(error), error: error });
        this.dispatchEvent(event);
        if (typeof this.onerror === "function") this.onerror(event);
        throw error;
      });
    }
    postMessage(data) {
      this.ready.then(() => {
        const scope = this.frame.contentWindow;
        scope.dispatchEvent(new scope.MessageEvent("message", { data: data }));
      }, () => {});
    }
    terminate() {
      this.frame.remove();
    }
  }
  window.Worker = FileWorker;
})();
"""

_MARKDOWN_EXTENSIONS: list[object] = [
    "tables",
    "footnotes",
    "admonition",
    "sane_lists",
    {"toc": {"permalink": True}},
]


def _nav_config(items: tuple[NavItem, ...]) -> list[dict[str, object]]:
    """MkDocs ``nav``: a list of one-key mappings, title → path or title → sub-list."""
    entries: list[dict[str, object]] = []
    for item in items:
        title = html.escape(item.title)
        entries.append({title: item.path if item.path is not None else _nav_config(item.children)})
    return entries


def mkdocs_config(source: SiteSource, docs_dir: Path, theme_dir: Path, site_dir: Path) -> dict[str, object]:
    """The MkDocs configuration for ``source``, as the dict that ``mkdocs.yml`` would hold."""
    return {
        "site_name": html.escape(source.title),
        "copyright": html.escape(source.organisation),
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
    lines = ["---", f"title: {json.dumps(html.escape(page.title), ensure_ascii=False)}"]
    if page.uses_plotly:
        lines.append("plotly: true")
    return "\n".join([*lines, "---", "", ""])


def _safe_target(root: Path, relative: str) -> Path:
    target = (root / relative).resolve()
    if not target.is_relative_to(root.resolve()):
        raise BuildError(f"refusing to write {relative!r} outside the site source folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def write_project(source: SiteSource, project: Path, site_dir: Path) -> Path:
    """Write the MkDocs project (docs, theme override, config) into ``project``; return the config path."""
    docs_dir, theme_dir = project / "docs", project / "theme"
    for page in source.pages:
        _safe_target(docs_dir, page.path).write_text(_front_matter(page) + page.markdown, encoding="utf-8")
    for file in source.files:
        target = _safe_target(docs_dir, file.path)
        if file.source is not None:
            shutil.copyfile(file.source, target)
        else:
            target.write_bytes(file.content or b"")
    _safe_target(theme_dir, "main.html").write_text(_MAIN_HTML, encoding="utf-8")
    _safe_target(theme_dir, _FILE_WORKER_JS).write_text(_FILE_WORKER, encoding="utf-8")
    config_path = project / "mkdocs.yml"
    config = mkdocs_config(source, docs_dir, theme_dir, site_dir)
    config_path.write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return config_path


class _Collect(logging.Handler):
    """Keeps MkDocs' warnings and errors, so a failed build can say what failed."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.levelname}: {record.getMessage()}")


@contextmanager
def _mkdocs_logging(quiet: bool) -> Iterator[_Collect]:
    """Route MkDocs' log to a collector (and to stderr at INFO when not quiet), then restore it."""
    logger = logging.getLogger("mkdocs")
    saved = (logger.level, logger.propagate, list(logger.handlers))
    collect = _Collect()
    logger.handlers = [collect]
    logger.propagate = False
    logger.setLevel(logging.WARNING if quiet else logging.INFO)
    if not quiet:
        stream = logging.StreamHandler()
        stream.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
        logger.addHandler(stream)
    try:
        yield collect
    finally:
        logger.setLevel(saved[0])
        logger.propagate = saved[1]
        logger.handlers = saved[2]


def build_site(source: SiteSource, site_dir: Path, *, quiet: bool = True) -> None:
    """Build ``source`` into ``site_dir`` with MkDocs in strict mode; raise BuildError on any warning."""
    site_dir = Path(site_dir).resolve()
    with tempfile.TemporaryDirectory(prefix="modelgov-site-source-") as tmp:
        config_path = write_project(source, Path(tmp), site_dir)
        with _mkdocs_logging(quiet) as collected:
            try:
                config = load_config(str(config_path), strict=True)
                mkdocs_build(config)
            except (MkDocsException, OSError) as exc:
                details = "".join(f"\n  {message}" for message in collected.messages)
                raise BuildError(f"the static site build (MkDocs) failed: {exc}{details}") from None
            if collected.messages:  # e.g. config warnings, which MkDocs logs before counting starts
                details = "".join(f"\n  {message}" for message in collected.messages)
                raise BuildError(f"the static site build (MkDocs) reported problems:{details}")
