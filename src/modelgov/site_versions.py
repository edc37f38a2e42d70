"""A folder of site versions, laid out the way ``mike`` lays out ``gh-pages``, so Material's version
selector works and ``mike`` can take over publishing.

    site/
      versions.json            [{"version": "2026.11", "title": "2026.11", "aliases": ["latest"]}, …]
      index.html               redirects to the version aliased ``latest`` (else the newest)
      2026.11/ …               one complete site per version, each built independently
      2026.10/ …               earlier versions are kept
      latest/ …                one redirect page per page of the aliased version (mike's "redirect" aliases)

A build replaces only its own version's folder (atomically, see :mod:`modelgov.build`), then rewrites
``versions.json``, the alias folders and the root redirect. Alias folders hold redirects rather than
copies so a version's pages exist once and every alias always points at exactly one version.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from modelgov.errors import ModelgovError, OutputPathError

__all__ = ["VERSIONS_FILE", "VERSIONS_MARKER", "SiteVersion", "git_version", "record_version", "validate_name"]

VERSIONS_FILE = "versions.json"
#: Marks a folder of site versions (``modelgov build --site-version``); only such a folder is updated.
VERSIONS_MARKER = ".modelgov-versions"
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}\Z")
_RESERVED = {"assets", "search", VERSIONS_FILE, "index.html", "404.html"}


@dataclass(frozen=True)
class SiteVersion:
    version: str
    title: str
    aliases: tuple[str, ...] = ()

    def as_json(self) -> dict[str, object]:
        return {"version": self.version, "title": self.title, "aliases": list(self.aliases)}


def validate_name(name: str, what: str) -> str:
    """A version or alias becomes a folder name and a URL segment: keep it to a safe alphabet."""
    if not _NAME.match(name) or name in _RESERVED or name in (".", ".."):
        raise ModelgovError(
            f"{what} {name!r} is not usable as a folder name: use letters, digits, '.', '_', '+' and '-' "
            "(starting with a letter or digit, at most 64 characters)"
        )
    return name


def git_version(workspace: Path) -> str:
    """``git describe --tags --always --dirty`` of the workspace, made safe as a folder name."""
    try:
        result = subprocess.run(
            ["git", "-C", str(workspace), "describe", "--tags", "--always", "--dirty"],
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        raise ModelgovError(
            f"--site-version git: cannot describe {workspace} with git ({detail.strip()}); "
            "give the version explicitly, e.g. --site-version 2026.11"
        ) from None
    name = re.sub(r"[^A-Za-z0-9._+-]", "-", result.stdout.strip())
    return validate_name(name, "the git-derived site version")


def read_versions(root: Path) -> list[SiteVersion]:
    path = root / VERSIONS_FILE
    if not path.is_file():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return [
            SiteVersion(str(item["version"]), str(item.get("title") or item["version"]), tuple(item.get("aliases", ())))
            for item in data
        ]
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise OutputPathError(f"{path}: not a versions.json list of {{version, title, aliases}}: {exc}") from None


def check_versions_root(root: Path, site_marker: str) -> None:
    """Only an empty folder or a folder of site versions modelgov made can receive a version."""
    if not root.exists():
        return
    if not root.is_dir():
        raise OutputPathError(f"output {root} exists and is not a folder")
    if (root / site_marker).is_file():
        raise OutputPathError(
            f"output {root} holds a single (unversioned) site; choose another folder for versioned sites "
            "or delete it first"
        )
    if any(root.iterdir()) and not (root / VERSIONS_MARKER).is_file():
        raise OutputPathError(
            f"output {root} is not empty and is not a folder of site versions modelgov built "
            f"(no {VERSIONS_MARKER} file); choose an empty or new folder"
        )


def record_version(root: Path, version: str, aliases: tuple[str, ...], title: str | None = None) -> list[SiteVersion]:
    """Add or update ``version`` in ``versions.json`` (newest first), move ``aliases`` to it, and
    rewrite the alias redirects and the root redirect. Returns the versions as recorded."""
    for alias in aliases:
        validate_name(alias, "alias")
    known = read_versions(root)
    names = {entry.version for entry in known} | {version}
    clash = sorted(set(aliases) & names)
    if clash:
        raise ModelgovError(f"alias {clash[0]!r} is also the name of a site version; choose another alias")
    entries = []
    for entry in known:
        if entry.version == version:
            continue
        kept = tuple(alias for alias in entry.aliases if alias not in aliases)
        entries.append(SiteVersion(entry.version, entry.title, kept))
    entries.insert(0, SiteVersion(version, title or version, tuple(aliases)))
    for entry in entries:
        if entry.version in {alias for other in entries for alias in other.aliases}:
            raise ModelgovError(f"site version {entry.version!r} is also used as an alias")
    _write_aliases(root, entries, {alias for entry in known for alias in entry.aliases})
    _atomic_write(root / VERSIONS_FILE, json.dumps([e.as_json() for e in entries], indent=2) + "\n")
    target = next((e for e in entries if "latest" in e.aliases), entries[0])
    _atomic_write(root / "index.html", _redirect(f"{target.version}/index.html"))
    (root / VERSIONS_MARKER).write_text("Site versions built by modelgov; see versions.json.\n", encoding="utf-8")
    return entries


def _write_aliases(root: Path, entries: list[SiteVersion], previous: set[str]) -> None:
    current = {alias for entry in entries for alias in entry.aliases}
    for alias in sorted(previous - current):
        shutil.rmtree(root / alias, ignore_errors=True)
    for entry in entries:
        version_dir = root / entry.version
        pages = (
            sorted(p.relative_to(version_dir).as_posix() for p in version_dir.rglob("*.html"))
            if version_dir.is_dir()
            else []
        )
        for alias in entry.aliases:
            staging = root / f".{alias}.alias-{os.getpid()}"
            shutil.rmtree(staging, ignore_errors=True)
            for page in pages:
                target = staging / page
                target.parent.mkdir(parents=True, exist_ok=True)
                depth = page.count("/") + 1  # alias folder and sub-folders, back to the root
                target.write_text(_redirect("../" * depth + f"{entry.version}/{page}"), encoding="utf-8")
            old = root / f".{alias}.old-{os.getpid()}"
            if (root / alias).exists():
                (root / alias).rename(old)
            staging.mkdir(exist_ok=True)
            staging.rename(root / alias)
            shutil.rmtree(old, ignore_errors=True)


def _redirect(url: str) -> str:
    """A page that sends the reader on to ``url`` (keeping the #anchor), without a script when blocked."""
    safe = json.dumps(url)
    attribute = safe[1:-1].replace("&", "&amp;").replace('"', "&quot;")
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Redirecting…</title>\n'
        f'<link rel="canonical" href="{attribute}">\n<meta http-equiv="refresh" content="0; url={attribute}">\n'
        f"<script>location.replace({safe} + location.hash);</script>\n"
        f'</head><body><p>This page moved to <a href="{attribute}">{attribute}</a>.</p></body></html>\n'
    )


def _atomic_write(path: Path, text: str) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
