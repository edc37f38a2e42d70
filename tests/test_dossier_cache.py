"""Dossiers kept in the analysis cache: a build whose manifest has not changed reads each dossier
from the cache instead of laying it out again, the same bytes; a planted or altered entry is
refused and the dossier laid out afresh; a changed manifest is never served an old dossier."""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import numpy as np
import pypdf
import pytest

from modelgov import manifest as mf
from modelgov.build import build_site
from modelgov.cache import AnalysisCache
from modelgov.dossier.site import _cache_keys
from test_cache import MAC_MISMATCH, read_entry, write_entry
from workspace_factory import edit, write_workspace

pytestmark = [
    pytest.mark.slow,
    pytest.mark.dossier,
]

EPOCH = "1767225600"


def _text(pdf: bytes) -> str:
    import io

    reader = pypdf.PdfReader(io.BytesIO(pdf))
    return "".join(page.extract_text() for page in reader.pages[:1]).replace(" ", "").replace("\n", "")


DOSSIER = Path("dossiers/loans-1.0.pdf")


def _build(workspace: Path, out: Path, cache: Path) -> tuple[list[str], bytes]:
    messages: list[str] = []
    build_site(workspace, out, cache_dir=cache, progress=messages.append, dossiers=("production",))
    return [m for m in messages if m.startswith("Wrote ") or "dossier" in m], (out / DOSSIER).read_bytes()


#: The cache's secret, the same for the first build and every test's copy of its cache (each test
#: otherwise gets a key of its own, tests/conftest.py, and would find every entry unreadable).
CACHE_KEY = "modelgov-tests-dossier-cache-key-0123456789abcdef"


@pytest.fixture(scope="module")
def first_build(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, bytes, str]:
    """A workspace built once with dossiers and a cache: (workspace, cache, the dossier, its key)."""
    root = tmp_path_factory.mktemp("dossier-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("SOURCE_DATE_EPOCH", EPOCH)
        patch.setenv("MODELGOV_CACHE_KEY", CACHE_KEY)
        workspace, cache = write_workspace(root / "ws"), root / "cache"
        messages, pdf = _build(workspace, root / "first", cache)
    assert any(re.search(r"Wrote 1 dossier\(s\) .*\(\d+\.\d s each\)$", m) for m in messages), messages
    site = root / "first"
    keys = _cache_keys(mf.read(site / "manifest.json"), site, [("loans", "1.0", site / DOSSIER)])
    return workspace, cache, pdf, keys["loans", "1.0"]


@pytest.fixture
def built(first_build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path, bytes, str]:
    """The first build's workspace and cache, copied for one test to change: (workspace, cache, the
    dossier, its key)."""
    monkeypatch.setenv("SOURCE_DATE_EPOCH", EPOCH)
    monkeypatch.setenv("MODELGOV_CACHE_KEY", CACHE_KEY)
    workspace, cache, pdf, key = first_build
    shutil.copytree(workspace, tmp_path / "ws")
    shutil.copytree(cache, tmp_path / "cache")
    return tmp_path / "ws", tmp_path / "cache", pdf, key


def test_an_unchanged_manifest_reuses_the_dossier_byte_for_byte(built, tmp_path: Path) -> None:
    workspace, cache, first, _ = built
    messages, again = _build(workspace, tmp_path / "again", cache)
    assert messages[-1].endswith("Wrote 1 dossier(s) into the site's dossiers/ folder; 1 reused from the cache")
    assert again == first


def test_a_changed_manifest_lays_the_dossier_out_again(built, tmp_path: Path) -> None:
    workspace, cache, first, _ = built
    edit(workspace, "models/loans/model.yml", "description: Predicts loan default.", "description: Predicts default.")
    messages, again = _build(workspace, tmp_path / "changed", cache)
    assert "reused" not in messages[-1]
    # the new dossier carries the new manifest: its cover names that manifest's digest
    digest = hashlib.sha256((tmp_path / "changed" / "manifest.json").read_bytes()).hexdigest()
    assert again != first and digest in _text(again)


def test_a_changed_layout_lays_the_dossier_out_again(built, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same manifest under other code (a fix to the dossier's code or stylesheet, or to the text
    helpers it draws with, within one release: every cache key names a digest of modelgov's files) is
    laid out again, not answered with the PDF laid out before the fix."""
    from modelgov import cache as cache_module

    workspace, cache, first, _ = built
    monkeypatch.setattr(
        cache_module, "code_digest", lambda: hashlib.sha256(b"figure img { max-height: 1mm; }").hexdigest()
    )
    messages, again = _build(workspace, tmp_path / "restyled", cache)
    assert "reused" not in messages[-1]
    assert again == first  # the layout itself did not change: the same bytes, laid out afresh


def test_without_a_fixed_build_time_nothing_is_stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without SOURCE_DATE_EPOCH the manifest is dated by the clock, so no later build has its digest:
    the dossiers are laid out, and the cache is not filled with PDFs nobody will read."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    workspace, cache = write_workspace(tmp_path / "ws"), tmp_path / "cache"
    messages, _ = _build(workspace, tmp_path / "site", cache)
    assert "reused" not in messages[-1]
    assert not any(isinstance(read_entry(e)[2].get("pdf"), np.ndarray) for e in cache.rglob("*.entry"))


@pytest.mark.redteam
@pytest.mark.parametrize("forgery", ["anyone's hash", "another entry's body", "authenticated, not a PDF"])
def test_a_planted_dossier_is_refused_and_the_honest_one_written(built, tmp_path: Path, forgery: str) -> None:
    """Whoever can write the cache folder tries to publish their own PDF as the version's dossier."""
    workspace, cache, honest, key = built
    planted = b"%PDF-1.7\n% forged: this model was approved by nobody\n"
    entry = AnalysisCache(cache).entry_path(key)
    if forgery == "anyone's hash":  # the right layout, the forger's PDF, a digest anyone can compute
        write_entry(entry, {"kind": "dossier"}, {"pdf": np.frombuffer(planted, np.uint8)})
        expected = MAC_MISMATCH
    elif forgery == "another entry's body":  # an authentic entry of another result, renamed
        other = next(e for e in cache.rglob("*.entry") if e != entry and isinstance(read_entry(e)[1], dict))
        entry.write_bytes(other.read_bytes())
        expected = "its header names another entry"
    else:  # written with the cache's own secret (an older, buggy build), but not a dossier
        AnalysisCache(cache).put(key, {"kind": "dossier"}, {"pdf": np.frombuffer(b"<html>not a pdf</html>", np.uint8)})
        expected = "not a PDF"
    messages: list[str] = []
    build_site(workspace, tmp_path / "site", cache_dir=cache, progress=messages.append, dossiers=("production",))
    refused = [m for m in messages if "the dossier of loans 1.0" in m]
    assert refused and expected in refused[0], messages
    assert (tmp_path / "site" / DOSSIER).read_bytes() == honest
    assert not any(m.endswith("reused from the cache") for m in messages if m.startswith("Wrote "))
