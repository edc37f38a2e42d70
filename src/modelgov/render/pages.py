"""Every page of the site, in order: the home page with the inventory, each model's pages, the
datasets and their datasheets, the lineage, the risk assessment, the compliance pages, the audit
trail and the build record; and the check that no two pages share a path.

Where each page lives is :mod:`.page_paths`, how one is rendered :mod:`.page_renderer`, a model's
pages and their cache :mod:`.model_pages`, and the navigation :mod:`.navigation`.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from modelgov import manifest as manifest_io
from modelgov.cache import AnalysisCache
from modelgov.errors import BuildError
from modelgov.manifest import Manifest
from modelgov.render import compliance_views, crosswalk_views, policy_views, views, waiver_views
from modelgov.render.content import SitePage
from modelgov.render.model_pages import cache_scope, cached_model_pages
from modelgov.render.page_paths import (
    AUDIT_TRAIL,
    BUILD_RECORD,
    COMPLIANCE,
    CROSSWALK,
    DATASETS,
    HOME,
    LINEAGE,
    MANIFEST_FILE,
    RISK,
    WAIVERS,
    dataset_path,
    has_risk_page,
    policy_path,
)
from modelgov.render.page_renderer import PageRenderer

__all__ = ["render_pages"]


def render_pages(
    manifest: Manifest,
    template_dir: Path | None = None,
    cache: AnalysisCache | None = None,
    *,
    manifest_json: bytes | None = None,
    dossiers: frozenset[str] = frozenset(),
) -> list[SitePage]:
    """Every page of the site, rendered to Markdown from the templates; with a ``cache``, each model's
    pages are reused while nothing they depend on changed. ``manifest_json`` is the manifest as the
    site publishes it, when the caller has it already (serialising a fleet's manifest takes seconds).
    ``dossiers``: ``model/version`` of the versions whose dossier the build writes (their pages link it)."""
    render = PageRenderer(manifest, template_dir, dossiers)
    shared = index = None
    if cache is not None:
        shared, index = cache_scope(manifest, template_dir)
    if manifest_json is None:
        manifest_json = manifest_io.dump_bytes(manifest)
    pages = [
        render.page(
            HOME,
            manifest.site.title,
            "home.md.j2",
            counts=views.counts(manifest),
            inventory=views.inventory(manifest),
        )
    ]
    for model in manifest.models:
        pages += cached_model_pages(render, model, cache, shared, index)
    pages.append(render.page(DATASETS, "Datasets", "datasets.md.j2", datasets=manifest.datasets))
    pages += [
        render.page(dataset_path(dataset.id), dataset.name, "dataset.md.j2", dataset=dataset)
        for dataset in manifest.datasets
    ]
    pages.append(render.page(LINEAGE, "Lineage", "lineage.md.j2", lineage=manifest.lineage))
    if has_risk_page(manifest):
        pages.append(render.page(RISK, "Risk assessment", "risk.md.j2"))
    pages += _compliance_pages(render, manifest, pages)
    if manifest.audit is not None:
        pages.append(render.page(AUDIT_TRAIL, "Audit trail", "audit.md.j2", audit=manifest.audit))
    pages.append(
        render.page(
            BUILD_RECORD,
            "Build record",
            "build.md.j2",
            manifest_file=MANIFEST_FILE,
            manifest_sha256=hashlib.sha256(manifest_json).hexdigest(),
            manifest_bytes=len(manifest_json),
        )
    )
    seen: dict[str, str] = {}
    for page in pages:
        if page.path in seen:
            raise BuildError(f"two pages would be written to {page.path}: {seen[page.path]!r} and {page.title!r}")
        seen[page.path] = page.title
    return pages


def _compliance_pages(render: PageRenderer, manifest: Manifest, rendered: list[SitePage]) -> list[SitePage]:
    """The overview, one page per policy and the waivers, when the manifest has policy results.
    Rendered last, so their evidence links can be checked against the other pages' headings."""
    if manifest.governance is None:
        return []
    render.lookups.evidence.add(rendered)
    pages = [render.page(COMPLIANCE, "Compliance", "compliance.md.j2", view=compliance_views.compliance_view(manifest))]
    pages += [
        render.page(
            policy_path(policy.id),
            policy.title,
            "compliance_policy.md.j2",
            policy=policy,
            view=policy_views.policy_view(manifest, policy),
        )
        for policy in manifest.governance.policies
    ]
    pages.append(
        render.page(WAIVERS, "Waivers", "compliance_waivers.md.j2", waivers=waiver_views.waiver_rows(manifest))
    )
    pages.append(
        render.page(
            CROSSWALK,
            "Crosswalk",
            "compliance_crosswalk.md.j2",
            view=crosswalk_views.crosswalk_view(manifest.governance),
        )
    )
    return pages
