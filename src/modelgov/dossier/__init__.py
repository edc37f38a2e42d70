"""The archival dossier of one model version: a signed, self-contained PDF/A-3 an auditor can file.

``content`` of the dossier comes from the manifest alone (:mod:`.document`, :mod:`.results`,
:mod:`.governance`), charts are the site's own specifications drawn again as vector figures
(:mod:`.charts`), the file is written by WeasyPrint (:mod:`.pdf`), and :mod:`.verify` signs it with
an SSH key and checks it (see docs/dossier.md).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # importing the package (for its command's parser) stays free of the manifest's models
    from modelgov.manifest import Manifest


def render_dossier(manifest: Manifest, model_id: str, version: str) -> bytes:
    """The PDF bytes of the dossier of ``model_id`` ``version``: the same manifest gives the same bytes."""
    from modelgov.dossier.document import build_dossier
    from modelgov.dossier.pdf import write_pdf
    from modelgov.render.result_names import check_result_names

    check_result_names(manifest)
    dossier = build_dossier(manifest, model_id, version)
    return write_pdf(dossier.html, dossier.stylesheet, dossier.attachments, manifest.built_at)


def write_dossier(manifest: Manifest, model_id: str, version: str, path: Path) -> Path:
    """Write the dossier to ``path`` (atomically) and return it."""
    from modelgov.dossier.pdf import write_file

    write_file(path, render_dossier(manifest, model_id, version))
    return path
