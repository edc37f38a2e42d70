"""The analysis cache: reused when nothing changed, never stale, and a corrupted, forged, swapped or
planted entry is detected, reported and rebuilt — the manifest, the site and the exit code are always
those of a build without the cache. The cache is untrusted storage: entries are authenticated with a
key that is never in the workspace, and reads never follow links or block."""

from __future__ import annotations

import hashlib
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from modelgov import manifest
from modelgov.assemble import build_manifest
from modelgov.cache import FORMAT, AnalysisCache, _mac, load_secret
from modelgov.workspace.load import load_workspace
from workspace_factory import holdout_table, write_workspace


def manifest_json(built: manifest.Manifest) -> str:
    return built.model_copy(update={"built_at": "fixed"}).model_dump_json()


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    table = holdout_table().assign(application=lambda f: [f"A-{i:04d}" for i in range(len(f))])
    root = write_workspace(tmp_path / "ws", table=table)
    version = root / "models/loans/versions/1.0/version.yml"
    version.write_text(
        version.read_text().replace("    threshold: 0.5\n", "    threshold: 0.5\n    row_id: application\n")
    )
    return root


MAC_MISMATCH = "its MAC does not match: it was forged, damaged, or written with another key"


def read_entry(entry: Path) -> tuple[dict, Any, dict[str, np.ndarray]]:
    """An entry's header, JSON result and arrays, read as an attacker would (no key needed)."""
    header, _, body = entry.read_bytes().partition(b"\n")
    with np.load(io.BytesIO(body), allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    payload = json.loads(arrays.pop("__payload__").tobytes())
    return json.loads(header), payload, arrays


def self_hash(_key: str, body: bytes) -> str:
    """What the old cache trusted: a digest anyone can recompute."""
    return hashlib.sha256(body).hexdigest()


def write_entry(
    entry: Path,
    payload: Any,
    arrays: dict[str, np.ndarray],
    *,
    mac: Callable[[str, bytes], str] = self_hash,
    key: str | None = None,
) -> None:
    """Write an entry as a forger would: the right layout, a chosen payload and a chosen "MAC"."""
    key = key or entry.name.removesuffix(".entry")
    buffer = io.BytesIO()
    np.savez(buffer, __payload__=np.frombuffer(json.dumps(payload).encode(), dtype=np.uint8), **arrays)
    body = buffer.getvalue()
    header = {"format": FORMAT, "key": key, "mac": mac(key, body)}
    entry.write_bytes(json.dumps(header).encode() + b"\n" + body)


def forge_auc(entry: Path, value: float = 0.999, **how: Any) -> None:
    """Rewrite an evaluation entry so its ROC AUC (and interval) reads ``value``."""
    _, payload, arrays = read_entry(entry)
    for metric in payload["run"]["performance"]["metrics"]:
        if metric["name"] == "roc_auc":
            metric["value"] = value
            metric["interval"].update(low=value - 0.001, high=min(1.0, value + 0.001))
    write_entry(entry, payload, arrays, **how)


def build(ws: Path, cache_dir: Path | None, messages: list[str] | None = None) -> tuple[str, AnalysisCache | None]:
    cache = AnalysisCache(cache_dir, report=(messages if messages is not None else []).append) if cache_dir else None
    return manifest_json(build_manifest(load_workspace(ws), cache=cache)), cache


def entries(cache_dir: Path) -> list[Path]:
    return sorted(cache_dir.rglob("*.entry"))


def test_a_warm_build_reuses_every_evaluation_and_gives_the_same_manifest(ws: Path, tmp_path: Path) -> None:
    fresh, _ = build(ws, None)
    cold, cold_cache = build(ws, tmp_path / "cache")
    warm, warm_cache = build(ws, tmp_path / "cache")
    assert cold == fresh and warm == fresh
    assert (cold_cache.stats.hits, cold_cache.stats.misses) == (0, 1)
    assert (warm_cache.stats.hits, warm_cache.stats.misses) == (1, 0)
    assert (tmp_path / "cache" / ".gitignore").read_text().splitlines()[-1] == "*"


def test_a_changed_table_is_a_new_entry_never_a_stale_one(ws: Path, tmp_path: Path) -> None:
    build(ws, tmp_path / "cache")
    table = holdout_table(seed=8).assign(application=lambda f: [f"A-{i:04d}" for i in range(len(f))])
    table.to_csv(ws / "data" / "holdout.csv", index=False)
    changed, cache = build(ws, tmp_path / "cache")
    assert cache.stats.hits == 0 and changed == build(ws, None)[0]
    assert len(entries(tmp_path / "cache")) == 2


def flip_a_body_byte(entry: Path) -> None:
    raw = bytearray(entry.read_bytes())
    raw[-100] ^= 0xFF
    entry.write_bytes(bytes(raw))


def valid_mac_garbage(entry: Path) -> None:
    """An authentic entry (MACed with the real key, as a bug in modelgov could write one) whose archive
    holds something that is not an evaluation result: the schema check still catches it."""
    write_entry(
        entry, {"run": {"id": 5}}, {"y_true": np.zeros(3)}, mac=lambda key, body: _mac(load_secret(), key, body)
    )


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        (flip_a_body_byte, MAC_MISMATCH),
        (lambda e: e.write_bytes(e.read_bytes()[:200]), MAC_MISMATCH),
        (lambda e: e.write_bytes(b""), "no header"),
        (lambda e: e.write_bytes(b"\x00garbage\n" + e.read_bytes()), "the header is not JSON"),
        (valid_mac_garbage, "not a valid result"),
    ],
    ids=["flipped-byte", "truncated", "empty", "bad-header", "wrong-schema"],
)
def test_a_corrupted_entry_is_detected_reported_and_rebuilt(ws: Path, tmp_path: Path, damage, reason: str) -> None:
    expected, _ = build(ws, tmp_path / "cache")
    [entry] = entries(tmp_path / "cache")
    good = entry.read_bytes()
    damage(entry)

    messages: list[str] = []
    rebuilt, cache = build(ws, tmp_path / "cache", messages)
    assert rebuilt == expected
    assert cache.stats.corrupted == ["loans 1.0 holdout"]
    assert any(f"Cached result for loans 1.0 holdout rejected ({reason}" in m and str(entry) in m for m in messages)
    assert entry.read_bytes() == good  # rewritten whole

    again, cache = build(ws, tmp_path / "cache")
    assert again == expected and cache.stats.hits == 1


def test_an_unwritable_cache_never_fails_a_build(ws: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    messages: list[str] = []
    built, _ = build(ws, blocker / "cache", messages)
    assert built == build(ws, None)[0]
    assert any("is not writable" in m for m in messages)


def test_monitoring_reports_are_cached_and_a_changed_log_is_recomputed(ws: Path, tmp_path: Path) -> None:
    import pandas as pd

    (ws / "logs").mkdir()
    week = pd.read_csv(ws / "data" / "holdout.csv").assign(ts="2026-08-03T10:00:00Z")
    week.to_csv(ws / "logs" / "w1.csv", index=False)
    version = ws / "models/loans/versions/1.0/version.yml"
    version.write_text(
        version.read_text()
        + "monitoring:\n  logs: logs/*.csv\n  timestamp: ts\n  prediction: predicted\n  score: score\n"
        "  features: [income, age]\n  reference: holdout\n"
    )
    fresh, _ = build(ws, None)
    cold, cache = build(ws, tmp_path / "cache")
    assert (cache.stats.hits, cache.stats.misses) == (0, 2)
    warm, cache = build(ws, tmp_path / "cache")
    assert (cache.stats.hits, cache.stats.misses) == (2, 0)
    assert cold == warm == fresh

    week.assign(ts="2026-08-10T10:00:00Z").to_csv(ws / "logs" / "w2.csv", index=False)  # a new week arrives
    grown, cache = build(ws, tmp_path / "cache")
    assert (cache.stats.hits, cache.stats.misses) == (1, 1)  # the evaluation is reused, the drift is not
    assert grown == build(ws, None)[0] != fresh


def test_parallel_analysis_gives_the_serial_manifest_and_shares_the_cache(ws: Path, tmp_path: Path) -> None:
    """Models analysed in worker processes: same manifest (inputs included), cache statistics merged."""
    import shutil

    shutil.copytree(ws / "models" / "loans", ws / "models" / "loans-copy")
    copy = ws / "models/loans-copy/versions/1.0/version.yml"
    copy.write_text(copy.read_text().replace("date: 2026-01-20", "date: 2026-01-21"))  # its own cache entry
    serial = manifest_json(build_manifest(load_workspace(ws), jobs=1))
    messages: list[str] = []
    cache = AnalysisCache(tmp_path / "cache", report=messages.append)
    parallel = manifest_json(build_manifest(load_workspace(ws), jobs=2, cache=cache))
    assert parallel == serial
    assert '"path":"data/holdout.csv"' in parallel  # hashed in a worker, listed as an input
    assert (cache.stats.hits, cache.stats.misses) == (0, 2)

    first, _ = entries(tmp_path / "cache")
    flip_a_body_byte(first)
    cache = AnalysisCache(tmp_path / "cache", report=messages.append)
    assert manifest_json(build_manifest(load_workspace(ws), jobs=2, cache=cache)) == serial
    assert (cache.stats.hits, len(cache.stats.corrupted)) == (1, 1)
    assert any("rejected (" in m for m in messages)  # a worker's report reaches the caller


def test_a_card_change_rerenders_only_that_models_pages_and_the_site_is_unchanged_otherwise(
    ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hashlib
    import shutil

    from modelgov.build import build_site

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    shutil.copytree(ws / "models" / "loans", ws / "models" / "other")

    def digest(folder: Path) -> dict[str, str]:
        return {
            str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*"))
            if p.is_file()
        }

    build_site(ws, tmp_path / "cold", cache_dir=tmp_path / "cache")
    # the shared evaluation; each model's pages; the built parts of the site: each model's folder and
    # the datasets (no policies apply, so there are no compliance pages; the site-wide part is built
    # every time)
    before = set(entries(tmp_path / "cache"))
    assert len(before) == 1 + 2 + 3
    card = ws / "models" / "loans" / "model.yml"
    card.write_text(card.read_text().replace("caveats: ", "caveats: Reviewed again. "))
    messages: list[str] = []
    warm = build_site(ws, tmp_path / "warm", cache_dir=tmp_path / "cache", progress=messages.append)
    fresh = build_site(ws, tmp_path / "fresh")
    assert digest(warm.site_dir) == digest(fresh.site_dir)
    assert "Reviewed again." in (warm.site_dir / "models/loans/1.0/index.html").read_text()
    # two new entries: the changed model's pages and its built part; everything else was reused
    assert len(set(entries(tmp_path / "cache")) - before) == 2
    assert "Site parts: 2 of 3 reused, 1 built" in messages
