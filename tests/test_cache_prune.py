"""`modelgov build --prune-cache`: after a build, the cache holds what that build read or wrote and
nothing else; what it needs is never removed (a following build reuses every result), nothing but the
cache's own entries is ever removed, and a link planted in the cache is removed, never followed."""

from __future__ import annotations

import io
import json
import os
import re
import time
from pathlib import Path

import numpy as np
import pytest

from modelgov.cli import main
from workspace_factory import edit, holdout_table, write_workspace

KEY = "prune-tests-cache-key-0123456789abcdef0123456789"


@pytest.fixture(autouse=True)
def _cache_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELGOV_CACHE_KEY", KEY)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")


def build(ws: Path, site: Path, cache: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = main(["build", str(ws), "-o", str(site), "--cache-dir", str(cache), "-j", "1", *extra])
    return code, capsys.readouterr().err


def entry_names(cache: Path) -> set[str]:
    return {p.relative_to(cache).as_posix() for p in cache.glob("??/*.entry")}


def age(cache: Path, seconds: float = 3600) -> None:
    """Every file under ``cache`` last changed ``seconds`` ago, as after an earlier CI run (so that a
    file system keeping times to the second or two cannot pass the test by rounding)."""
    then = time.time() - seconds
    for path in cache.rglob("*"):
        if not path.is_symlink():
            os.utime(path, (then, then))


def test_a_pruned_cache_holds_what_the_build_used_and_the_next_build_reuses_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws, cache = write_workspace(tmp_path / "ws"), tmp_path / "cache"
    assert build(ws, tmp_path / "s1", cache, capsys)[0] == 0
    before = entry_names(cache)
    # a new card text and a new evaluation table: the old pages' and the old evaluation's entries
    # are no longer used by anything this workspace builds
    edit(ws, "models/loans/model.yml", "Predicts loan default.", "Predicts loan default within a year.")
    holdout_table(seed=8).to_csv(ws / "data" / "holdout.csv", index=False)
    (cache / "notes.txt").write_text("the user's own file\n")
    age(cache)
    code, said = build(ws, tmp_path / "s2", cache, capsys, "--prune-cache")
    assert code == 0, said
    assert "Analysis cache pruned:" in said and "this build did not use removed" in said, said
    after = entry_names(cache)

    # what a cold build of the changed workspace writes into an empty cache is everything it can use
    cold = tmp_path / "cold"
    code, cold_said = build(ws, tmp_path / "s3", cold, capsys)
    assert code == 0, cold_said
    computed = re.search(r"Analysis cache: 0 result\(s\) reused, (\d+) computed", cold_said)
    assert computed, cold_said
    assert after <= entry_names(cold), "an entry this build did not use was kept"
    assert before - entry_names(cold), "the test changed nothing the first build had stored"
    assert not (before - entry_names(cold)) & after, "the stale entries were kept"
    assert (cache / "notes.txt").read_text() == "the user's own file\n"
    assert (cache / ".gitignore").is_file()
    assert not list(cache.glob(".build-*")), "the build's marker was left behind"

    # nothing the workspace needs was removed: the next build computes nothing and publishes the same
    code, said = build(ws, tmp_path / "s4", cache, capsys)
    assert code == 0 and f"{computed[1]} result(s) reused, 0 computed" in said, said
    assert "Site parts: 3 of 3 reused, 0 built" in said, said
    assert (tmp_path / "s4" / "manifest.json").read_bytes() == (tmp_path / "s3" / "manifest.json").read_bytes()
    assert _pages(tmp_path / "s4") == _pages(tmp_path / "s3")


def _pages(site: Path) -> dict[str, bytes]:
    return {p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*.html"))}


def test_pruning_removes_only_the_caches_own_entries_and_never_follows_a_link(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws, cache = write_workspace(tmp_path / "ws"), tmp_path / "cache"
    assert build(ws, tmp_path / "s1", cache, capsys)[0] == 0
    decoy = tmp_path / "decoy"
    decoy.mkdir()
    target = decoy / ("ab" * 32 + ".entry")  # named as an entry, outside the cache
    target.write_text("not the cache's\n")
    (cache / "ab").mkdir(exist_ok=True)
    (cache / "ab" / ("ab" * 32 + ".entry")).symlink_to(target)  # a link named as an entry
    linked = next(f"{i:02x}" for i in range(256) if not (cache / f"{i:02x}").exists())
    (cache / linked).symlink_to(decoy, target_is_directory=True)  # a shard that is a link
    (decoy / (linked * 32 + ".entry")).write_text("not the cache's either\n")
    (cache / "ef").mkdir(exist_ok=True)
    os.mkfifo(cache / "ef" / ("ef" * 32 + ".entry"))  # a FIFO named as an entry: removed, never opened
    (cache / "ef" / ("ef" * 32 + ".entry.bak")).write_text("the user's\n")  # not a name the cache gives
    (cache / "12").mkdir(exist_ok=True)
    (cache / "12" / ("34" * 32 + ".entry")).write_text("in the wrong shard: not the cache's name\n")
    (cache / "56").mkdir(exist_ok=True)
    (cache / "56" / ("56" * 32 + ".entry")).mkdir()  # a folder named as an entry: left alone
    stale = cache / "78" / ".0123456789abcdef.tmp"  # a write a killed build left
    stale.parent.mkdir(exist_ok=True)
    stale.write_text("half an entry")
    age(cache)
    for path in (target, decoy / (linked * 32 + ".entry")):
        os.utime(path, (0, 0))

    code, said = build(ws, tmp_path / "s2", cache, capsys, "--prune-cache")
    assert code == 0, said
    assert not (cache / "ab" / ("ab" * 32 + ".entry")).is_symlink() and target.read_text() == "not the cache's\n"
    assert (cache / linked).is_symlink() and (decoy / (linked * 32 + ".entry")).is_file()
    assert not (cache / "ef" / ("ef" * 32 + ".entry")).exists()
    assert (cache / "ef" / ("ef" * 32 + ".entry.bak")).is_file()
    assert (cache / "12" / ("34" * 32 + ".entry")).is_file()
    assert (cache / "56" / ("56" * 32 + ".entry")).is_dir()
    assert not stale.exists()
    # every entry the build read is kept (it was older than the build: reading it marked it used)
    code, said = build(ws, tmp_path / "s3", cache, capsys)
    assert code == 0 and ", 0 computed" in said and "Site parts: 3 of 3 reused, 0 built" in said, said


def test_a_failed_build_prunes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws, cache = write_workspace(tmp_path / "ws"), tmp_path / "cache"
    assert build(ws, tmp_path / "s1", cache, capsys)[0] == 0
    before = entry_names(cache)
    age(cache)
    (ws / "models/loans/versions/1.0/version.yml").write_text("status: [unclosed\n", encoding="utf-8")
    code, said = build(ws, tmp_path / "s2", cache, capsys, "--prune-cache")
    assert code == 2 and "version.yml" in said, said
    assert entry_names(cache) == before
    assert not list(cache.glob(".build-*"))


def test_prune_cache_with_no_cache_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = write_workspace(tmp_path / "ws")
    code = main(["build", str(ws), "-o", str(tmp_path / "site"), "--no-cache", "--prune-cache"])
    said = capsys.readouterr().err
    assert code == 2 and "--prune-cache" in said and "--no-cache" in said, said
    assert not (tmp_path / "site").exists()


def test_a_cache_that_cannot_be_pruned_does_not_fail_the_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import modelgov.build

    def refused(_marker: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(modelgov.build, "prune_unused", refused)
    ws, cache = write_workspace(tmp_path / "ws"), tmp_path / "cache"
    code, said = build(ws, tmp_path / "site", cache, capsys, "--prune-cache")
    assert code == 0 and "not pruned (Permission denied)" in said, said
    assert (tmp_path / "site" / "index.html").is_file()
    assert not list(cache.glob(".build-*"))


@pytest.mark.parametrize("how", ["default", "blank variable", "named"])
def test_the_users_cache_folder_is_not_pruned(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """The user's cache folder holds every workspace's entries, which one workspace's build never
    uses: refused however it is reached (the default, a blank MODELGOV_CACHE_DIR, or named)."""
    from modelgov.cache import user_cache_dir

    ws = write_workspace(tmp_path / "ws")
    extra = []
    if how == "blank variable":
        monkeypatch.setenv("MODELGOV_CACHE_DIR", "  ")
    elif how == "named":
        extra = ["--cache-dir", str(user_cache_dir())]
    code = main(["build", str(ws), "-o", str(tmp_path / "site"), "--prune-cache", *extra])
    said = capsys.readouterr().err
    assert code == 2 and "--cache-dir or MODELGOV_CACHE_DIR" in said and "the user's cache folder" in said, said
    assert not (tmp_path / "site").exists()


def _templates(cache: Path) -> set[str]:
    """The templates whose compiled code the cache holds (from each entry's stored label)."""
    names = set()
    for path in cache.glob("??/*.entry"):
        raw = path.read_bytes()
        with np.load(io.BytesIO(raw[raw.index(b"\n") + 1 :])) as archive:
            payload = json.loads(archive["__payload__"].tobytes())
        if "template" in payload:
            names.add(payload["template"])
    return names


def test_templates_a_process_holds_from_an_earlier_build_are_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A second build in the same process (an API caller, `serve`) takes the compiled templates from
    memory without reading their entries: it still used them, and pruning keeps them."""
    ws, cache = write_workspace(tmp_path / "ws"), tmp_path / "cache"
    assert build(ws, tmp_path / "s1", cache, capsys)[0] == 0
    stored = _templates(cache)
    assert any("'model.md.j2'" in name for name in stored), stored
    age(cache)
    edit(ws, "models/loans/model.yml", "Predicts loan default.", "Predicts loan default within a year.")
    code, said = build(ws, tmp_path / "s2", cache, capsys, "--prune-cache")
    assert code == 0, said
    kept = _templates(cache)
    assert any("'model.md.j2'" in name for name in kept), kept  # the model's pages were rendered again


def _read_in_child(folder: str, key: str) -> bool:
    from modelgov.cache import AnalysisCache

    return AnalysisCache(Path(folder)).get(key, "a result") is not None


def test_an_entry_read_by_a_worker_process_is_marked_used(tmp_path: Path) -> None:
    """Builds with --jobs read entries in worker processes: the mark is on the file, so the build's
    own process sees it when it prunes."""
    import multiprocessing

    from modelgov.cache import AnalysisCache
    from modelgov.cache_prune import prune_unused

    cache = AnalysisCache(tmp_path / "cache")
    used, unused = "a" * 64, "b" * 64
    for key in (used, unused):
        cache.put(key, {"value": key[0]}, {})
    age(tmp_path / "cache")
    marker = cache.build_marker()
    assert marker is not None
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        assert pool.apply(_read_in_child, (str(tmp_path / "cache"), used))
    pruned = prune_unused(marker)
    marker.remove()
    assert (pruned.removed, pruned.kept) == (1, 1)
    assert cache.has(used) and not cache.has(unused)
