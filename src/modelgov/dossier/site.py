"""``build --dossiers``: each chosen version's dossier written beside the site's pages, where the
version's page links it (``render.page_paths.dossier_path``); signed when MODELGOV_SIGNING_KEY is set."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from modelgov.manifest import Manifest, Model, ModelVersion


def write_site_dossiers(
    manifest: Manifest, chosen: list[tuple[Model, ModelVersion]], site_dir: Path, progress: Callable[[str], None]
) -> list[Path]:
    from modelgov.decisions.sign import signing_key
    from modelgov.dossier import write_dossier
    from modelgov.dossier.verify import sign_dossier
    from modelgov.render.page_paths import dossier_path

    key = signing_key(None)
    written = []
    start = time.perf_counter()
    for model, version in chosen:
        path = write_dossier(manifest, model.id, version.version, site_dir / dossier_path(model, version))
        if key is not None:
            sign_dossier(path, key)
        written.append(path)
    seconds = time.perf_counter() - start
    progress(
        f"Wrote {len(written)} dossier(s) into the site's dossiers/ folder ({seconds / max(len(written), 1):.1f} s each)"
    )
    return written
