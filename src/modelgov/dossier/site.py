"""``build --dossiers``: each chosen version's dossier written beside the site's pages, where the
version's page links it (``render.page_paths.dossier_path``); signed when MODELGOV_SIGNING_KEY is set.

A dossier takes seconds of layout (WeasyPrint) and depends only on the manifest, so with ``jobs``
above one they are written in parallel processes, started as the analysis and site workers are
(:mod:`modelgov.processes`). Each file is the same bytes whichever process writes it (a test
compares them); signing stays in this process, which alone reads the signing key.

With the build's analysis cache, a dossier is also kept there, under a key made of the manifest's
digest (the one its cover carries), the version, and the versions of the code and of the libraries
that lay it out: a build whose manifest is unchanged (a rebuild with nothing new) reads the PDF
instead of laying it out again. Like every cache entry, it is authenticated with the cache's
secret before it is used (:mod:`modelgov.cache`), so a PDF planted in the cache folder is refused
and written afresh. Signing is never cached: a cached dossier is signed again with this build's key."""

from __future__ import annotations

import functools
import hashlib
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from modelgov.manifest import Manifest, Model, ModelVersion
from modelgov.processes import worker_pool

if TYPE_CHECKING:
    from modelgov.cache import AnalysisCache

#: Besides modelgov's and the numerical libraries' versions (in every cache key), what the bytes of
#: a dossier depend on: the libraries that draw, lay out and write it.
_RENDERERS = (
    "weasyprint", "pydyf", "tinycss2", "cssselect2", "tinyhtml5", "pyphen", "fonttools", "matplotlib", "pillow",
)  # fmt: skip


def write_site_dossiers(
    manifest: Manifest,
    chosen: list[tuple[Model, ModelVersion]],
    site_dir: Path,
    progress: Callable[[str], None],
    *,
    jobs: int = 1,
    cache: AnalysisCache | None = None,
) -> list[Path]:
    """Write the dossier of each ``chosen`` version into ``site_dir``; with a ``cache``, reuse the
    ones an earlier build wrote from the same manifest."""
    from modelgov.decisions.sign import signing_key
    from modelgov.dossier import render_dossier
    from modelgov.dossier.pdf import write_file
    from modelgov.dossier.verify import sign_dossier
    from modelgov.render.page_paths import dossier_path

    key = signing_key(None)
    start = time.perf_counter()
    tasks = [(model.id, version.version, site_dir / dossier_path(model, version)) for model, version in chosen]
    if not os.environ.get("SOURCE_DATE_EPOCH"):
        # the manifest is dated by the clock, so no later build can have its digest: nothing to reuse,
        # and nothing worth storing
        cache = None
    keys = _cache_keys(manifest, site_dir, tasks) if cache is not None else {}
    todo, reused = [], 0
    for model_id, version, path in tasks:
        if cache is not None and (pdf := _cached(cache, keys[model_id, version], model_id, version)) is not None:
            write_file(path, pdf)
            reused += 1
        else:
            todo.append((model_id, version, path))
    workers = min(jobs, len(todo))
    if workers > 1:
        # the manifest (tens of MB for a fleet) goes to each worker once, not with every dossier
        with worker_pool(workers, initializer=_receive, initargs=(manifest,)) as pool:
            futures = [pool.submit(_render_received, model_id, version) for model_id, version, _ in todo]
            made = [future.result() for future in futures]  # in order; the first failure is raised
    else:
        made = [render_dossier(manifest, model_id, version) for model_id, version, _ in todo]
    for (model_id, version, path), pdf in zip(todo, made, strict=True):
        write_file(path, pdf)
        if cache is not None:  # the bytes just laid out, not the file, which is read by nobody else
            cache.put(keys[model_id, version], {"kind": "dossier"}, {"pdf": np.frombuffer(pdf, np.uint8)})
    written = [path for _, _, path in tasks]
    if key is not None:
        for path in written:
            sign_dossier(path, key)
    seconds = time.perf_counter() - start
    laid_out = f" ({seconds / len(made):.1f} s each)" if made else ""
    from_cache = f"; {reused} reused from the cache" if reused else ""
    progress(f"Wrote {len(written)} dossier(s) into the site's dossiers/ folder{laid_out}{from_cache}")
    return written


@functools.cache
def _renderer_versions() -> dict[str, str | None]:
    from modelgov.cache import package_versions

    versions = dict(package_versions(_RENDERERS))
    try:
        from weasyprint.text.ffi import pango

        versions["pango"] = str(pango.pango_version())
    except (ImportError, OSError, AttributeError):
        versions["pango"] = None
    return versions


def _cache_keys(manifest: Manifest, site_dir: Path, tasks: list[tuple[str, str, Path]]) -> dict[tuple[str, str], str]:
    """Each dossier's cache key. The manifest's digest is of the bytes the cover's digest is of: the
    site's own ``manifest.json`` when the site publishes it (the same bytes), else serialised here."""
    from modelgov.cache import cache_key
    from modelgov.dossier.document import manifest_bytes

    published = site_dir / "manifest.json"
    raw = published.read_bytes() if published.is_file() else manifest_bytes(manifest)
    digest = hashlib.sha256(raw).hexdigest()
    return {
        (model_id, version): cache_key(
            {
                "kind": "dossier",
                "manifest": digest,
                "model": model_id,
                "version": version,
                "renderers": _renderer_versions(),
            }
        )
        for model_id, version, _ in tasks
    }


def _cached(cache: AnalysisCache, key: str, model_id: str, version: str) -> bytes | None:
    """The PDF an earlier build cached under ``key``, once authenticated, or None."""
    label = f"the dossier of {model_id} {version}"
    hit = cache.get(key, label)
    if hit is None:
        return None
    payload, arrays = hit
    pdf = arrays.get("pdf")
    if payload != {"kind": "dossier"} or pdf is None or pdf.dtype != np.uint8 or pdf.ndim != 1:
        cache.reject(key, label, "not a dossier")
        return None
    data = pdf.tobytes()
    if not data.startswith(b"%PDF-"):
        cache.reject(key, label, "not a PDF")
        return None
    return data


_received: Manifest | None = None


def _receive(manifest: Manifest) -> None:
    """A dossier worker's initializer: keep the manifest every dossier of this build is written from."""
    global _received
    _received = manifest


def _render_received(model_id: str, version: str) -> bytes:
    from modelgov.dossier import render_dossier

    assert _received is not None, "the worker was not given the manifest"
    return render_dossier(_received, model_id, version)
