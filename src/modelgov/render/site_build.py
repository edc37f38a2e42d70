"""The site built part by part with the selected engine: reused parts from the cache, the others
built (in parallel processes when asked), then checked and put together.

Nothing here knows which engine runs: the parts come from :func:`.site_parts.split`, each is built by
:meth:`.site_engine.SiteEngine.build_part`, and a part whose inputs are unchanged since an earlier
build (its pages, the whole navigation, the configuration, the engine and its versions) is read
from the cache instead. The root part, which carries the static files and the build record, is
always built, into ``site_dir`` itself; the other parts are built into scratch folders and their
pages copied in, after the links between parts were checked.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tempfile
from collections.abc import Callable
from pathlib import Path

from modelgov.cache import AnalysisCache, cache_key
from modelgov.errors import BuildError
from modelgov.processes import worker_pool
from modelgov.render import site_engine, site_parts
from modelgov.render.content import SiteFile, SitePage, SiteSource
from modelgov.render.site_engine import SiteEngine
from modelgov.render.site_parts import Part, PartOutput, safe_target

__all__ = ["build_site", "part_workers"]

#: Pages to build for each worker process started. A worker is a new process that imports the
#: engine, reads the configuration and compiles the theme's templates (about 0.5 s of CPU on the
#: 2-core development machine), while a page costs about 25 ms in a process that has done all that
#: already. With fewer pages a worker costs more CPU than it saves and little or no time: a
#: one-model site (11 pages) took 3.2 s with two workers against 2.7 s without, the demo (62 pages)
#: 3.2–3.4 s against 3.5 s, for a third more CPU (docs/performance.md).
PAGES_PER_WORKER = 50


def _shared_digest(source: SiteSource, material: dict[str, object]) -> str:
    """SHA-256 of what every part's pages are made from besides their own: every page and file a
    part can link to, and what the engine says the HTML depends on (configuration, navigation, theme
    override, versions). Serialised once per build, not once per part: for a fleet of a hundred
    models it is the 1,509 pages' paths and the whole navigation, for each of 102 parts."""
    shared = {
        "site_pages": sorted(p.path for p in source.pages),
        "site_files": sorted(f.path for f in source.files),
        **material,
    }
    text = json.dumps(shared, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _part_key(part: Part, shared: str) -> str:
    """Everything a part's pages are made from: its pages, and what all parts share (``shared``,
    :func:`_shared_digest`)."""
    return cache_key(
        {
            "kind": "site-part",
            "layout": 2,  # pages stored as arrays of bytes (PartOutput.to_cache)
            "part": part.name,
            "pages": [[p.path, p.title, p.markdown, p.uses_plotly] for p in part.pages],
            "shared": shared,
        }
    )


def _cached_part(cache: AnalysisCache, key: str, part: Part) -> PartOutput | None:
    hit = cache.get(key, part.label)
    if hit is None:
        return None
    try:
        found = PartOutput.from_cache(*hit)
        if sorted(found.pages) != sorted(site_parts.output_path(page.path) for page in part.pages):
            raise ValueError("its pages are not the part's pages")
    except (KeyError, TypeError, ValueError) as exc:
        cache.reject(key, part.label, f"not a valid result: {exc}")
        return None
    return found


def _build_part_alone(engine: SiteEngine, source: SiteSource, part: Part, quiet: bool) -> PartOutput:
    """Build a part that is not the root into a scratch folder."""
    with tempfile.TemporaryDirectory(prefix="modelgov-site-part-") as scratch:
        return engine.build_part(source, part, Path(scratch) / "site", quiet=quiet)


def _build_part_in_worker(engine_name: str, source: SiteSource, part: Part, quiet: bool) -> PartOutput:
    """:func:`_build_part_alone` in a worker process, which loads the engine by name: a worker
    starts with no engine imported (:mod:`modelgov.processes`), and builds with the main process's."""
    return _build_part_alone(site_engine.load(engine_name), source, part, quiet)


def part_workers(jobs: int, todo: list[Part]) -> int:
    """Worker processes for building ``todo``: at most ``jobs``, at most one per part, and one for every
    :data:`PAGES_PER_WORKER` pages in all (however the pages are spread over the parts); 1 means the
    parts are built in this process."""
    pages = sum(len(part.pages) for part in todo)
    return max(1, min(jobs, len(todo), pages // PAGES_PER_WORKER))


def _with_pages(light: SiteSource, part: Part) -> SiteSource:
    """``light`` (every page's path and title, no text) with ``part``'s own pages in full."""
    own = {page.path: page for page in part.pages}
    return dataclasses.replace(light, pages=tuple(own.get(p.path, p) for p in light.pages))


def build_site(
    source: SiteSource,
    site_dir: Path,
    *,
    engine: SiteEngine | None = None,
    quiet: bool = True,
    cache: AnalysisCache | None = None,
    progress: Callable[[str], None] = lambda _: None,
    jobs: int = 1,
) -> None:
    """Build ``source`` into ``site_dir`` with ``engine`` (default: the one ``MODELGOV_SITE_ENGINE``
    selects) in strict mode, part by part (see :mod:`.site_parts`); raise BuildError on any warning.
    With a ``cache``, a part whose inputs are unchanged since an earlier build is reused instead of
    built. ``jobs``: parts built in parallel processes (:mod:`modelgov.processes`, as the analysis
    workers are, and only as many as have enough pages to repay starting them: :func:`part_workers`),
    the site-wide part meanwhile in this one."""
    engine = site_engine.load() if engine is None else engine
    site_dir = Path(site_dir).resolve()
    parts = site_parts.split(source)
    outputs: dict[str, PartOutput] = {}
    keys: dict[str, str] = {}
    shared = _shared_digest(source, engine.cache_material(source)) if cache is not None else ""
    todo: list[Part] = []
    for part in parts[1:]:  # parts[0] is the root, always built: it holds the build record
        if cache is not None:
            keys[part.name] = _part_key(part, shared)
            if (found := _cached_part(cache, keys[part.name], part)) is not None:
                outputs[part.name] = found
                continue
        todo.append(part)
    # a worker needs only the part's pages and the paths of the others, not every page's text
    light = dataclasses.replace(
        source,
        pages=tuple(SitePage(p.path, p.title, "") for p in source.pages),
        files=tuple(SiteFile(path=f.path) for f in source.files),
    )
    built: dict[str, PartOutput] = {}
    workers = part_workers(jobs, todo)
    if workers > 1:
        with worker_pool(workers) as pool:
            futures = {
                part.name: pool.submit(_build_part_in_worker, engine.name, _with_pages(light, part), part, quiet)
                for part in todo
            }
            outputs[site_parts.ROOT] = engine.build_part(source, parts[0], site_dir, quiet=quiet)
            built = {name: future.result() for name, future in futures.items()}
    else:
        outputs[site_parts.ROOT] = engine.build_part(source, parts[0], site_dir, quiet=quiet)
        built = {part.name: _build_part_alone(engine, source, part, quiet) for part in todo}
    for name, output in built.items():
        outputs[name] = output
        if cache is not None:
            cache.put(keys[name], *output.to_cache())
    if len(parts) > 1:
        progress(f"Site parts: {len(parts) - 1 - len(todo)} of {len(parts) - 1} reused, {len(todo)} built")
    problems = site_parts.cross_link_problems(outputs)
    if problems:
        details = "".join(f"\n  WARNING: {problem}" for problem in problems)
        raise BuildError(f"the static site build ({engine.label}) reported problems:{details}")
    for part in parts[1:]:
        for path, page_html in outputs[part.name].pages.items():
            safe_target(site_dir, path).write_bytes(page_html)
    engine.complete_search_index(site_dir, [entry for part in parts[1:] for entry in outputs[part.name].search])
