"""Versioned sites: versions coexist, versions.json is what Material's selector (mike provider) reads,
aliases and the root redirect follow, and a version rebuilds byte for byte."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path

import pytest

from modelgov.build import SITE_MARKER, build_site
from modelgov.cli import main
from modelgov.errors import ModelgovError, OutputPathError
from modelgov.site_versions import VERSIONS_MARKER, git_version, read_versions, record_version, validate_name
from workspace_factory import write_workspace

EPOCH = "1767225600"


def fake_version(root: Path, name: str, pages: tuple[str, ...] = ("index.html", "models/a/index.html")) -> None:
    for page in pages:
        (root / name / page).parent.mkdir(parents=True, exist_ok=True)
        (root / name / page).write_text(f"{name} {page}", encoding="utf-8")


def material_versions(root: Path) -> list[dict[str, object]]:
    """versions.json as Material's mike provider reads it: a list of {version, title, aliases}."""
    data = json.loads((root / "versions.json").read_text(encoding="utf-8"))
    assert isinstance(data, list)
    for entry in data:
        assert set(entry) == {"version", "title", "aliases"}
        assert isinstance(entry["version"], str) and isinstance(entry["title"], str)
        assert isinstance(entry["aliases"], list) and all(isinstance(a, str) for a in entry["aliases"])
    return data


def redirect_target(page: Path) -> str:
    return re.search(r'http-equiv="refresh" content="0; url=([^"]+)"', page.read_text(encoding="utf-8")).group(1)


def test_new_versions_go_first_and_aliases_move(tmp_path: Path) -> None:
    fake_version(tmp_path, "1.0")
    record_version(tmp_path, "1.0", ("latest",))
    fake_version(tmp_path, "1.1")
    record_version(tmp_path, "1.1", ("latest", "stable"))
    assert material_versions(tmp_path) == [
        {"version": "1.1", "title": "1.1", "aliases": ["latest", "stable"]},
        {"version": "1.0", "title": "1.0", "aliases": []},
    ]
    assert redirect_target(tmp_path / "index.html") == "1.1/index.html"
    assert redirect_target(tmp_path / "latest" / "models" / "a" / "index.html") == "../../../1.1/models/a/index.html"
    assert (tmp_path / "latest" / "models" / "a" / "index.html").resolve().parent.parent.parent.name == "latest"
    # a back-port without alias keeps latest where it is
    fake_version(tmp_path, "1.0.1")
    record_version(tmp_path, "1.0.1", ())
    assert [e.version for e in read_versions(tmp_path)] == ["1.0.1", "1.1", "1.0"]
    assert redirect_target(tmp_path / "index.html") == "1.1/index.html"
    # moving `stable` back removes it from 1.1; an alias no version holds any more is deleted
    record_version(tmp_path, "1.0", ("stable",))
    entries = {e.version: e.aliases for e in read_versions(tmp_path)}
    assert entries == {"1.0": ("stable",), "1.0.1": (), "1.1": ("latest",)}
    record_version(tmp_path, "1.1", ())
    assert not (tmp_path / "latest").exists()
    assert (tmp_path / VERSIONS_MARKER).is_file()


@pytest.mark.parametrize("name", ["../x", "a/b", "", ".hidden", "assets", "versions.json", "x" * 65, "a b"])
def test_unsafe_version_names_are_refused(name: str) -> None:
    with pytest.raises(ModelgovError, match="not usable as a folder name"):
        validate_name(name, "site version")


def test_an_alias_cannot_be_a_version_name(tmp_path: Path) -> None:
    fake_version(tmp_path, "1.0")
    record_version(tmp_path, "1.0", ())
    fake_version(tmp_path, "1.1")
    with pytest.raises(ModelgovError, match=r"alias '1\.0' is also the name of a site version"):
        record_version(tmp_path, "1.1", ("1.0",))


def test_git_version_comes_from_git_describe(tmp_path: Path) -> None:
    run = lambda *args: subprocess.run(["git", "-C", str(tmp_path), *args], check=True, capture_output=True)  # noqa: E731
    run("init", "-q")
    (tmp_path / "f").write_text("x")
    run("add", "f")
    run("-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "c")
    run("tag", "v2026.11")
    assert git_version(tmp_path) == "v2026.11"
    (tmp_path / "f").write_text("changed")
    assert git_version(tmp_path) == "v2026.11-dirty"


def test_git_version_outside_a_repository_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelgovError, match="--site-version git: cannot describe"):
        git_version(tmp_path / "nowhere")


def tree(folder: Path) -> dict[str, str]:
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.mark.slow
def test_two_site_versions_coexist_and_rebuild_byte_identically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    workspace = write_workspace(tmp_path / "ws")
    out = tmp_path / "site"
    assert main(["build", str(workspace), "-o", str(out), "--site-version", "2026.10", "-q"]) == 0
    first = tree(out / "2026.10")
    (workspace / "models/loans/versions/1.0/version.yml").write_text(
        (workspace / "models/loans/versions/1.0/version.yml")
        .read_text()
        .replace("First version.", "First version, revised.")
    )
    assert main(["build", str(workspace), "-o", str(out), "--site-version", "2026.11", "-q"]) == 0
    assert tree(out / "2026.10") == first  # the earlier version is kept as it was
    assert [e["version"] for e in material_versions(out)] == ["2026.11", "2026.10"]
    assert redirect_target(out / "index.html") == "2026.11/index.html"
    page = (out / "2026.11" / "index.html").read_text(encoding="utf-8")
    assert '"version": {"provider": "mike"}' in page  # Material's selector, reading ../versions.json
    assert "revised" in (out / "2026.11" / "models/loans/1.0/index.html").read_text(encoding="utf-8")
    assert "revised" not in (out / "2026.10" / "models/loans/1.0/index.html").read_text(encoding="utf-8")
    manifest = json.loads((out / "2026.11" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["site_version"] == "2026.11"
    # same inputs, same SOURCE_DATE_EPOCH, same version name → byte-identical version folder
    again = tmp_path / "again"
    build_site(workspace, again, site_version="2026.11")
    assert tree(again / "2026.11") == tree(out / "2026.11")


@pytest.mark.slow
def test_single_and_versioned_sites_do_not_mix(tmp_path: Path) -> None:
    workspace = write_workspace(tmp_path / "ws")
    single = build_site(workspace, tmp_path / "single").site_dir
    assert (single / SITE_MARKER).is_file()
    with pytest.raises(OutputPathError, match="holds a single \\(unversioned\\) site"):
        build_site(workspace, single, site_version="1")
    versioned = tmp_path / "versioned"
    build_site(workspace, versioned, site_version="1")
    with pytest.raises(OutputPathError, match="is a folder of site versions"):
        build_site(workspace, versioned)
    assert main(["build", str(workspace), "-o", str(tmp_path / "x"), "--alias", "stable"]) == 2
