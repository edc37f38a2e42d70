"""``modelgov export``: write the chosen formats for each chosen model version into a folder.

Layout: ``OUT/<model>/<version>/README.md`` (Hugging Face), ``model-card.json`` (Model Card
Toolkit) and ``bom.cdx.json`` (CycloneDX). An existing ``README.md`` is merged, not replaced (see
:func:`.hf.merge_readme`); the JSON files are regenerated whole (they hold no human edits). Every
CycloneDX document is validated before it is written, and nothing is written until every file's
text is made: an export that fails (a README whose front matter does not parse) changes no file.
"""

from __future__ import annotations

import json
from pathlib import Path

from modelgov import manifest as m
from modelgov.errors import ModelgovError
from modelgov.export.common import pick_versions
from modelgov.render.text import slug

__all__ = ["FORMATS", "export"]

FORMATS = ("hf", "mct", "cyclonedx")


def export(manifest: m.Manifest, out: Path, formats: tuple[str, ...] = FORMATS,
           model_id: str | None = None, version: str | None = None) -> list[Path]:  # fmt: skip
    """Write the exports; return the files written. Raises ModelgovError for an unknown model or version."""
    chosen = pick_versions(manifest, model_id, version)
    if not chosen:
        what = (
            f"model {model_id!r}" + (f" version {version!r}" if version else "") if model_id else f"version {version!r}"
        )
        known = ", ".join(f"{mo.id} {v.version}" for mo in manifest.models for v in mo.versions)
        raise ModelgovError(f"the manifest has no {what} (it has: {known or 'no models'})")
    pending: list[tuple[Path, str]] = []  # every file's text, made before any is written
    for model, chosen_version in chosen:
        folder = out / slug(model.id) / slug(chosen_version.version)
        if "hf" in formats:
            from modelgov.export.hf import ReadmeError, hf_model_card, merge_readme

            readme = folder / "README.md"
            try:
                text = (
                    merge_readme(readme.read_text(encoding="utf-8"), manifest, model, chosen_version)
                    if readme.is_file()
                    else hf_model_card(manifest, model, chosen_version)
                )
            except (ReadmeError, UnicodeDecodeError) as exc:
                raise ModelgovError(f"{readme}: {exc}; nothing was written") from None
            pending.append((readme, text))
        if "mct" in formats:
            from modelgov.export.mct import mct_model_card

            document = mct_model_card(manifest, model, chosen_version)
            pending.append((folder / "model-card.json", json.dumps(document, indent=2, ensure_ascii=False) + "\n"))
        if "cyclonedx" in formats:
            from modelgov.export.cyclonedx import ml_bom, validate

            document = ml_bom(manifest, model, chosen_version)
            problem = validate(document)
            if problem is not None:
                raise ModelgovError(
                    f"the CycloneDX document for {model.id} {chosen_version.version} is not valid: {problem}"
                )
            pending.append((folder / "bom.cdx.json", json.dumps(document, indent=2, ensure_ascii=False) + "\n"))
    for path, text in pending:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return [path for path, _ in pending]
