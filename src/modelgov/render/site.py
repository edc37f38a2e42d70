"""The one rendering entry point: a manifest in, a complete static site out.

Pages come from the templates (:mod:`.pages`), assets are the site stylesheets and the local
plotly.js, and the manifest itself is published next to the pages so every number on the site can
be checked against the machine-readable record; each bias-audit summary is also published as CSV
beside its page (:mod:`.bias_audit_csv`). The static-site engine (:mod:`.site_engine`:
MkDocs, or ProperDocs when ``MODELGOV_SITE_ENGINE=properdocs``) does the rest, part by part
(:mod:`.site_build`).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from modelgov import manifest as manifest_io
from modelgov import resources
from modelgov.cache import AnalysisCache
from modelgov.manifest import Manifest
from modelgov.render import bias_audit_csv, charts, compiled_templates, navigation, page_paths, pages, site_engine
from modelgov.render.content import PLOTLY_JS, SiteFile, SiteSource
from modelgov.render.result_names import check_result_names
from modelgov.render.site_build import build_site

__all__ = ["render_site", "site_source"]

_ASSETS = "assets"


def _asset_files(template_dir: Path | None) -> dict[str, Path]:
    """Static files under ``assets/`` of the built-in templates, overlaid by the workspace's."""
    files: dict[str, Path] = {}
    roots = [resources.site_templates_dir(), *([Path(template_dir)] if template_dir else [])]
    for root in roots:
        base = root / _ASSETS
        if base.is_dir():
            for path in sorted(base.rglob("*")):
                # a symlink could publish any file of the machine (e.g. /etc/passwd): never follow one
                if path.is_file() and not path.is_symlink() and path.resolve().is_relative_to(root.resolve()):
                    files[path.relative_to(root).as_posix()] = path
    return files


def site_source(
    manifest: Manifest,
    *,
    template_dir: Path | None = None,
    versioned: bool = False,
    cache: AnalysisCache | None = None,
    dossiers: frozenset[str] = frozenset(),
) -> SiteSource:
    """Everything the site consists of, before the static-site builder turns it into HTML."""
    manifest_json = manifest_io.dump_bytes(manifest)  # once: the build page names its digest
    site_pages = pages.render_pages(manifest, template_dir, cache, manifest_json=manifest_json, dossiers=dossiers)
    assets = _asset_files(template_dir)
    files = [SiteFile(path=path, source=source) for path, source in sorted(assets.items())]
    files.append(SiteFile(path=PLOTLY_JS, source=charts.plotly_js_path()))
    files.append(SiteFile(path=page_paths.MANIFEST_FILE, content=manifest_json))
    files += bias_audit_csv.bias_audit_files(manifest, page_paths.bias_audit_csv_path)  # each beside its page
    return SiteSource(
        title=manifest.site.title,
        organisation=manifest.site.organisation,
        pages=tuple(site_pages),
        nav=navigation.site_nav(manifest),
        files=tuple(files),
        stylesheets=tuple(path for path in sorted(assets) if path.endswith(".css")),
        versioned=versioned,
        sections=navigation.site_sections(manifest),
    )


def render_site(
    manifest: Manifest,
    site_dir: Path,
    *,
    template_dir: Path | None = None,
    quiet: bool = True,
    versioned: bool = False,
    progress: Callable[[str], None] = lambda _: None,
    cache: AnalysisCache | None = None,
    jobs: int = 1,
    dossiers: frozenset[str] = frozenset(),
) -> None:
    """Write the governance website for ``manifest`` into ``site_dir``.

    ``site_dir`` must not exist or be empty (the caller moves it into place atomically).
    ``template_dir`` holds workspace overrides of the built-in ``*.md.j2`` templates and assets.
    With a ``cache``, each model's pages and each built part of the site are reused while their
    inputs are unchanged; ``jobs`` parts of the site are built in parallel processes. Raises
    :class:`~modelgov.errors.BuildError` when a template or the site build fails, or when the site
    engine ``MODELGOV_SITE_ENGINE`` names cannot be loaded (checked before any page is rendered).
    """
    check_result_names(manifest)
    engine = site_engine.load()
    with compiled_templates.persisted_in(cache):
        source = site_source(manifest, template_dir=template_dir, versioned=versioned, cache=cache, dossiers=dossiers)
        progress(f"Building the static site with {engine.label} ({len(source.pages)} pages)")
        build_site(source, Path(site_dir), engine=engine, quiet=quiet, cache=cache, progress=progress, jobs=jobs)
