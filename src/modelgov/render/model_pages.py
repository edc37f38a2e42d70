"""A model's pages (its overview, each version's card and detail pages), and their cache.

A warm rebuild after one model's card changed renders that model's pages only: each model's pages
are kept in the cache under a key of everything they can read (the model, its policy results, the
rest of the manifest except the other models, and the templates), and reused while it holds. The
page cache's keys do not include modelgov's own code.
"""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from modelgov import resources
from modelgov.cache import AnalysisCache, cache_key, package_versions
from modelgov.manifest import Manifest, Model
from modelgov.render.content import SitePage
from modelgov.render.page_paths import detail_pages, model_path, version_path
from modelgov.render.page_renderer import PageRenderer

__all__ = ["cache_scope", "cached_model_pages"]


#: The libraries a model's pages are written with: Jinja and MarkupSafe (the templates), markdown-it-py
#: and nh3 (a user's Markdown, rendered and sanitised), plotly (the charts). A new version, say nh3's
#: fix of a way past its allow-list, renders every model's pages again instead of reusing them.
_RENDERING_LIBRARIES = ("jinja2", "markupsafe", "markdown-it-py", "nh3", "plotly")


def cache_scope(manifest: Manifest, template_dir: Path | None) -> tuple[str, list[Any]]:
    """What every model's pages read besides their own model: the rest of the manifest (less the
    models, the input hashes, the build time and the policy results) with the templates
    (``shared``); and of the models, only ids, names and version statuses, for links and
    navigation (``index``)."""
    excluded: dict[str, Any] = {"models": True, "inputs": True, "built_at": True, "governance": {"results"}}
    shared = cache_key(
        {
            "manifest": _json_digest(manifest, exclude=excluded),
            "templates": _templates_digest(template_dir),
            "renderers": package_versions(_RENDERING_LIBRARIES),
        }
    )
    index = [[m.id, m.name, [[v.version, v.status] for v in m.versions]] for m in manifest.models]
    return shared, index


def _templates_digest(template_dir: Path | None) -> str:
    """SHA-256 over every template the pages can use (built-in and the workspace's overrides)."""
    digest = hashlib.sha256()
    for folder in (resources.site_templates_dir(), template_dir):
        if folder is None or not Path(folder).is_dir():
            continue
        for path in sorted(Path(folder).rglob("*.j2")):
            digest.update(path.relative_to(folder).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
        digest.update(b"\1")
    return digest.hexdigest()


def _model_pages_key(manifest: Manifest, shared: str, index: list[Any], model: Model) -> str:
    """What a model's pages can read: the model itself and its policy results, every other part of
    the manifest except the other models' entries and results (of the models, only ids, names and
    version statuses, for links and navigation), and the templates. The input hashes and the build
    time are left out: no model page shows them."""
    results = (
        [_json_digest(r) for r in manifest.governance.results if r.model == model.id] if manifest.governance else []
    )
    return cache_key(
        {
            "kind": "model-pages",
            "layout": 2,  # free-form values held as written (free_values.as_written): pages cached before differ
            "shared": shared,
            "index": index,
            "model": _json_digest(model),
            "results": results,
        }
    )


def _json_digest(node: BaseModel, **options: Any) -> str:
    """SHA-256 of a manifest node's JSON as pydantic's serialiser writes it (``options``: what to leave
    out). Keys in the node's own order, so a mapping the user reordered, which renders in its new
    order, keys differently; and a tenth of the time of ``model_dump`` and ``json.dumps`` (0.45 s a
    warm build of a 20-model fleet)."""
    return hashlib.sha256(type(node).__pydantic_serializer__.to_json(node, **options)).hexdigest()


def _model_pages(render: PageRenderer, model: Model) -> list[SitePage]:
    pages = [render.page(model_path(model), model.name, "model.md.j2", model=model)]
    for version in model.versions:
        pages.append(
            render.page(
                version_path(model, version),
                f"{model.name} {version.version}",
                "model_version.md.j2",
                model=model,
                version=version,
            )
        )
        for path, name, template in detail_pages(model, version):
            title = f"{model.name} {version.version}: {name}"
            pages.append(render.page(path, title, template, model=model, version=version))
    return pages


def cached_model_pages(
    render: PageRenderer, model: Model, cache: AnalysisCache | None, shared: str, index: list[Any]
) -> list[SitePage]:
    """A model's pages, from ``cache`` when nothing they read has changed (a warm rebuild after one
    model's card changed renders that model's pages only)."""
    if cache is None:
        return _model_pages(render, model)
    key = _model_pages_key(render.manifest, shared, index, model)
    if mine := sorted(d for d in render.dossiers if d.split("/", 1)[0] == model.id):
        key = cache_key({"pages": key, "dossiers": mine})  # the version pages link the dossiers
    label = f"the pages of {model.id}"
    hit = cache.get(key, label)
    if hit is not None:
        try:
            return [SitePage(**page) for page in hit[0]]
        except (TypeError, ValueError) as exc:
            cache.reject(key, label, f"not a valid result: {exc}")
    pages = _model_pages(render, model)
    cache.put(key, [dataclasses.asdict(page) for page in pages], {})
    return pages
