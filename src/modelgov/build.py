"""The one orchestrating function: workspace → manifest → site, readable top to bottom.

    load_workspace ─▶ build_manifest ─▶ render_site (into a staging folder) ─▶ swap into place

The output folder is replaced only after everything succeeded, so a failed build leaves the previous
site and manifest exactly as they were.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from modelgov import manifest
from modelgov.assemble import Progress, build_manifest
from modelgov.errors import BuildError, OutputPathError
from modelgov.workspace.load import load_workspace

#: Workspace folders a site must never be written into.
_PROTECTED = ("models", "datasets", "templates", "policies", "audit")


def _silent(_: str) -> None:
    pass


@dataclass(frozen=True)
class BuildResult:
    manifest: manifest.Manifest
    site_dir: Path

    @property
    def index(self) -> Path:
        return self.site_dir / "index.html"


def build_site(workspace_root: Path, out_dir: Path, *, progress: Progress = _silent) -> BuildResult:
    """Build the governance site for ``workspace_root`` into ``out_dir`` (replaced atomically)."""
    workspace_root = workspace_root.resolve()
    out_dir = out_dir.resolve()
    check_output_dir(workspace_root, out_dir)
    progress(f"Loading workspace {workspace_root}")
    workspace = load_workspace(workspace_root)
    the_manifest = build_manifest(workspace, progress=progress)
    return render_manifest(the_manifest, out_dir, template_dir=workspace.templates_dir, progress=progress)


def render_manifest(
    the_manifest: manifest.Manifest,
    out_dir: Path,
    *,
    template_dir: Path | None = None,
    progress: Progress = _silent,
) -> BuildResult:
    """Render a manifest into ``out_dir``: staged beside it, then swapped in only on success."""
    from modelgov.render import render_site  # keeps `modelgov validate` free of the MkDocs import cost

    out_dir = out_dir.resolve()
    _check_replaceable(out_dir)
    progress("Rendering site")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = out_dir.parent / f".{out_dir.name}.building-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        render_site(the_manifest, staging, template_dir=template_dir)
        manifest.write(the_manifest, staging / "manifest.json")
        _swap_into_place(staging, out_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    progress(f"Site written to {out_dir}")
    return BuildResult(the_manifest, out_dir)


def check_output_dir(workspace_root: Path, out_dir: Path) -> None:
    """Refuse outputs that would overwrite the workspace or something that is not a modelgov site."""
    if out_dir == workspace_root or workspace_root.is_relative_to(out_dir):
        raise OutputPathError(f"output {out_dir} would contain the workspace; choose a folder outside it")
    for name in _PROTECTED:
        if out_dir.is_relative_to(workspace_root / name):
            raise OutputPathError(f"output {out_dir} is inside the workspace's {name}/ folder")
    _check_replaceable(out_dir)


def _check_replaceable(out_dir: Path) -> None:
    if out_dir.exists():
        if not out_dir.is_dir():
            raise OutputPathError(f"output {out_dir} exists and is not a folder")
        if any(out_dir.iterdir()) and not _is_modelgov_site(out_dir):
            raise OutputPathError(
                f"output {out_dir} is not empty and holds no modelgov manifest.json; "
                "refusing to replace it (choose an empty or new folder)"
            )


def _is_modelgov_site(folder: Path) -> bool:
    try:
        return manifest.read(folder / "manifest.json").generator.name == "modelgov"
    except Exception:
        return False


def _swap_into_place(staging: Path, out_dir: Path) -> None:
    old = out_dir.parent / f".{out_dir.name}.old-{os.getpid()}"
    try:
        if out_dir.exists():
            out_dir.rename(old)
        staging.rename(out_dir)
    except OSError as exc:
        if old.exists() and not out_dir.exists():
            old.rename(out_dir)
        raise BuildError(f"cannot move the new site into {out_dir}: {exc}") from None
    shutil.rmtree(old, ignore_errors=True)
