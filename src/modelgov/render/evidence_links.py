"""Where a policy result's evidence is on this site.

The policy engine names each check's evidence as an HTML page with an anchor, without knowing which
pages a build writes. The compliance pages, rendered after every other page, link that evidence:
this module maps the engine's link to a page the site has and keeps the anchor only when that page
has such a heading, so an evidence link never breaks the strict build (which checks every link and
anchor).
"""

from __future__ import annotations

import html
import posixpath
import re

from modelgov.manifest import Manifest
from modelgov.policy.risk_evidence import RISK_PAGE
from modelgov.render import text
from modelgov.render.content import SitePage
from modelgov.render.page_paths import (
    RISK,
    dataset_path,
    detail_pages,
    has_risk_page,
    heading_anchor,
    model_path,
    version_path,
)

__all__ = ["EvidenceLinks"]


_HEADING_LINE = re.compile(r"^(#{1,6})[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_TAG = re.compile(r"<[^>]+>")
_SPAN_ID = re.compile(r'<span id="([A-Za-z0-9._-]+)"></span>')


def _heading_anchors(markdown: str) -> dict[str, str]:
    """anchor → heading text of a page's Markdown headings (outside HTML code blocks)."""
    found: dict[str, str] = {}
    in_pre = False
    for line in markdown.splitlines():
        if "<pre" in line:
            in_pre = True
        if in_pre:
            in_pre = "</pre>" not in line
            continue
        match = _HEADING_LINE.match(line)
        if match:
            heading = text.plain(html.unescape(_TAG.sub("", match.group(2))))
            found.setdefault(heading_anchor(heading), heading)
            for span_id in _SPAN_ID.findall(match.group(2)):  # a stable id set beside a heading of user text
                found.setdefault(span_id, heading)
    return found


class EvidenceLinks:
    """The policy engine's evidence links resolved to this site's pages.

    A policy check names its evidence as a site-relative HTML page with an anchor
    (``models/<model id>/<version>/index.html#approvals``). Here that becomes the page's source path
    (ids that need a safe file name included) and a label for the reader; the anchor is kept only
    when the target page has a heading with that id, so an evidence link never breaks the strict
    build. Pages are registered once rendered (:meth:`add`), before the compliance pages are.
    """

    def __init__(self, manifest: Manifest):
        self._targets: dict[str, tuple[str, str]] = {}
        for model in manifest.models:
            self._targets[f"models/{model.id}/index.html"] = (model_path(model), "Model overview")
            for version in model.versions:
                base = f"models/{model.id}/{version.version}"
                self._targets[f"{base}/index.html"] = (version_path(model, version), "Model card")
                for path, name, _ in detail_pages(model, version):
                    self._targets[f"{base}/{posixpath.splitext(posixpath.basename(path))[0]}.html"] = (path, name)
        for dataset in manifest.datasets:
            self._targets[f"datasets/{dataset.id}.html"] = (dataset_path(dataset.id), f"Datasheet: {dataset.name}")
        if has_risk_page(manifest):
            self._targets[RISK_PAGE] = (RISK, "Risk assessment")
        self._headings: dict[str, dict[str, str]] = {}

    def add(self, pages: list[SitePage]) -> None:
        for page in pages:
            self._headings[page.path] = _heading_anchors(page.markdown)

    def resolve(self, link: str | None) -> tuple[str, str] | None:
        """(source path with the anchor if it exists, label) of an evidence link; None when the
        link names no page of this site."""
        if not link:
            return None
        target, _, anchor = link.partition("#")
        found = self._targets.get(target)
        if found is None:
            return None
        path, label = found
        heading = self._headings.get(path, {}).get(anchor) if anchor else None
        return (f"{path}#{anchor}", f"{label}, {heading}") if heading else (path, label)
