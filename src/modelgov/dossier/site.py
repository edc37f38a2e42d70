"""``build --dossiers``: each chosen version's dossier written beside the site's pages, where the
version's page links it (``render.page_paths.dossier_path``); signed when MODELGOV_SIGNING_KEY is set.

A dossier takes seconds of layout (WeasyPrint) and depends only on the manifest, so with ``jobs``
above one they are written in parallel processes, spawned as the analysis and site workers are.
Each file is the same bytes whichever process writes it (a test compares them); signing stays in
this process, which alone reads the signing key."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from modelgov.manifest import Manifest, Model, ModelVersion


def write_site_dossiers(
    manifest: Manifest,
    chosen: list[tuple[Model, ModelVersion]],
    site_dir: Path,
    progress: Callable[[str], None],
    *,
    jobs: int = 1,
) -> list[Path]:
    from modelgov.decisions.sign import signing_key
    from modelgov.dossier import write_dossier
    from modelgov.dossier.verify import sign_dossier
    from modelgov.render.page_paths import dossier_path

    key = signing_key(None)
    start = time.perf_counter()
    tasks = [(model.id, version.version, site_dir / dossier_path(model, version)) for model, version in chosen]
    workers = min(jobs, len(tasks))
    if workers > 1:
        # the manifest (tens of MB for a fleet) goes to each worker once, not with every dossier
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_receive, initargs=(manifest,)) as pool:
            futures = [pool.submit(_write_received, *task) for task in tasks]
            written = [future.result() for future in futures]  # in order; the first failure is raised
    else:
        written = [write_dossier(manifest, *task) for task in tasks]
    if key is not None:
        for path in written:
            sign_dossier(path, key)
    seconds = time.perf_counter() - start
    progress(
        f"Wrote {len(written)} dossier(s) into the site's dossiers/ folder ({seconds / max(len(written), 1):.1f} s each)"
    )
    return written


_received: Manifest | None = None


def _receive(manifest: Manifest) -> None:
    """A dossier worker's initializer: keep the manifest every dossier of this build is written from."""
    global _received
    _received = manifest


def _write_received(model_id: str, version: str, path: Path) -> Path:
    from modelgov.dossier import write_dossier

    assert _received is not None, "the worker was not given the manifest"
    return write_dossier(_received, model_id, version, path)
