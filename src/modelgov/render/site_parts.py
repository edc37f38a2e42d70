"""How the site is cut into parts that are built, and reused, one at a time.

MkDocs has no incremental build: it renders every page on every build, and at fleet scale (1,500
pages) that full rebuild alone costs more than a tenth of a cold build, so a rebuild after one card
changed could never be cheap. The site is therefore built in parts: the site-wide pages (home,
audit trail, build record), and each section the page layer declares in
:attr:`~.content.SiteSource.sections`: a folder (one per model, the compliance pages, the datasets)
or a page built alone (the lineage page, which draws the whole fleet). Every part
is built with the whole navigation and with every page of the other parts known to the builder, so
its pages are exactly those of a whole-site build; only a part whose inputs changed is built again.

This module holds the builder-independent half: which page belongs to which part, what a part's
output consists of, how the parts' search indexes are merged, and the check of links between
parts (which no single part's build can see). :mod:`.site_build` has the parts built by the
site engine (:mod:`.site_engine`), reuses cached ones and puts the site together.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from modelgov.errors import BuildError
from modelgov.render.content import SitePage, SiteSource

__all__ = ["Part", "PartOutput", "cross_link_problems", "merge_search_indexes", "safe_target", "split"]

#: The part holding every page outside the declared sections, and the site's static files.
ROOT = ""


@dataclass(frozen=True)
class Part:
    """Some of the site's pages, built together."""

    name: str  # ROOT, a section folder such as "models/credit/", or a section page such as "lineage.md"
    pages: tuple[SitePage, ...]

    @property
    def label(self) -> str:
        if self.name == ROOT:
            return "the site-wide pages"
        return f"the pages under {self.name}" if self.name.endswith("/") else f"the page {self.name}"


@dataclass
class PartOutput:
    """What building a part produced, all a later build needs to reuse it.

    ``pages``: output path → HTML (UTF-8 bytes, as the engine wrote it); ``search``: the part's
    search index entries; ``anchors``: page → the ids its content defines; ``links``: (page, target
    page, anchor, link as written) for every link from this part to an anchor on another part's page."""

    pages: dict[str, bytes] = field(default_factory=dict)
    search: list[dict] = field(default_factory=list)
    anchors: dict[str, list[str]] = field(default_factory=dict)
    links: list[list[str]] = field(default_factory=list)

    def to_cache(self) -> tuple[dict, dict[str, np.ndarray]]:
        """(JSON result, arrays) as the analysis cache stores them. Each page's HTML is an array of
        its bytes, not a JSON string: a fleet's parts hold hundreds of megabytes of HTML, which a
        warm build then copies to the site as it is, instead of unescaping it from JSON and encoding
        it again (most of a warm fleet build's reading of its parts)."""
        paths = list(self.pages)
        arrays = {_page_array(i): np.frombuffer(self.pages[path], dtype=np.uint8) for i, path in enumerate(paths)}
        return {"pages": paths, "search": self.search, "anchors": self.anchors, "links": self.links}, arrays

    @classmethod
    def from_cache(cls, data: Mapping, arrays: Mapping[str, np.ndarray]) -> PartOutput:
        """The output :meth:`to_cache` stored; ValueError when the entry does not have its shape."""
        pages, search, anchors, links = data["pages"], data["search"], data["anchors"], data["links"]
        valid = (
            isinstance(pages, list)
            and all(isinstance(path, str) for path in pages)
            and len(set(pages)) == len(pages)
            and set(arrays) == {_page_array(i) for i in range(len(pages))}
            and all(isinstance(a, np.ndarray) and a.dtype == np.uint8 and a.ndim == 1 for a in arrays.values())
            and isinstance(search, list)
            and all(isinstance(e, dict) for e in search)
            and isinstance(anchors, dict)
            and all(isinstance(v, list) for v in anchors.values())
            and isinstance(links, list)
            and all(isinstance(link, list) and len(link) == 4 for link in links)
        )
        if not valid:
            raise ValueError("a part output has the wrong shape")
        html = {path: arrays[_page_array(i)].tobytes() for i, path in enumerate(pages)}
        return cls(pages=html, search=list(search), anchors=dict(anchors), links=list(links))


def _page_array(index: int) -> str:
    return f"page-{index}"


def section_of(path: str, sections: Iterable[str]) -> str:
    """The section holding the page ``path``: the page itself when it is a section, else the folder
    section holding it, else :data:`ROOT`."""
    return next((s for s in sections if path == s or (s.endswith("/") and path.startswith(s))), ROOT)


def split(source: SiteSource) -> list[Part]:
    """The root part first (it is always built: it carries the static files), then one part per
    section that has pages, in the order the sections were declared."""
    if malformed := [s for s in source.sections if not s.endswith(("/", ".md"))]:
        raise ValueError(f"a site section is a folder ending in '/' or a page ending in '.md', not {malformed}")
    sections = sorted(source.sections, key=len, reverse=True)  # the innermost section wins
    grouped: dict[str, list[SitePage]] = {ROOT: [], **{s: [] for s in source.sections}}
    for page in source.pages:
        grouped[section_of(page.path, sections)].append(page)
    return [Part(name, tuple(pages)) for name, pages in grouped.items() if name == ROOT or pages]


def output_path(page_path: str) -> str:
    """Where a page's HTML is written (``use_directory_urls: false``: ``a/b.md`` → ``a/b.html``)."""
    stem, _ = posixpath.splitext(page_path)
    return f"{stem}.html"


def safe_target(root: Path, relative: str) -> Path:
    """Where the site file ``relative`` goes under ``root`` (its folder created); refused outside it."""
    target = (root / relative).resolve()
    if not target.is_relative_to(root.resolve()):
        raise BuildError(f"refusing to write {relative!r} outside the site source folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    return target


def merge_search_indexes(indexes: list[dict]) -> dict:
    """One search index from the parts' indexes: the first one's settings and every part's entries,
    in part order (Material's search does not depend on the order of entries)."""
    if not indexes:
        return {}
    merged = {key: value for key, value in indexes[0].items() if key != "docs"}
    merged["docs"] = [entry for index in indexes for entry in index.get("docs", [])]
    return merged


def cross_link_problems(outputs: Mapping[str, PartOutput]) -> list[str]:
    """Links from one part to a missing anchor on another part's page, worded as MkDocs (and
    ProperDocs) word the same problem within one build (which strict mode turns into a failed build)."""
    anchors: dict[str, set[str]] = {}
    for output in outputs.values():
        for page, ids in output.anchors.items():
            anchors[page] = set(ids)
    problems = []
    for output in outputs.values():
        for page, target, anchor, written in output.links:
            if anchor not in anchors.get(target, set()):
                problems.append(
                    f"Doc file '{page}' contains a link '{written}', but the doc '{target}' "
                    f"does not contain an anchor '#{anchor}'."
                )
    return problems
