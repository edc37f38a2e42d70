"""The analysis cache: reused when nothing changed, never stale, and a corrupted, forged, swapped or
planted entry is detected, reported and rebuilt — the manifest, the site and the exit code are always
those of a build without the cache. The cache is untrusted storage: entries are authenticated with a
key that is never in the workspace, and reads never follow links or block."""

from __future__ import annotations

import hashlib
import io
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from modelgov import manifest
from modelgov.assemble import build_manifest
from modelgov.cache import FORMAT, MAX_ENTRY_BYTES, AnalysisCache, _mac
from modelgov.cache_secret import load_secret
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


def result_entries(cache_dir: Path) -> list[Path]:
    """The cache's analysis results and built pages and parts, not the templates a build compiled
    (kept there too, tests/test_compiled_templates.py); their JSON payload is stored as it is."""
    return [p for p in entries(cache_dir) if b'{"template": "the compiled template ' not in p.read_bytes()]


def test_a_warm_build_reuses_every_evaluation_and_gives_the_same_manifest(ws: Path, tmp_path: Path) -> None:
    fresh, _ = build(ws, None)
    cold, cold_cache = build(ws, tmp_path / "cache")
    warm, warm_cache = build(ws, tmp_path / "cache")
    assert cold == fresh and warm == fresh
    # the evaluation and its explanation
    assert (cold_cache.stats.hits, cold_cache.stats.misses) == (0, 2)
    assert (warm_cache.stats.hits, warm_cache.stats.misses) == (2, 0)
    assert (tmp_path / "cache" / ".gitignore").read_text().splitlines()[-1] == "*"


def test_a_changed_table_is_a_new_entry_never_a_stale_one(ws: Path, tmp_path: Path) -> None:
    build(ws, tmp_path / "cache")
    table = holdout_table(seed=8).assign(application=lambda f: [f"A-{i:04d}" for i in range(len(f))])
    table.to_csv(ws / "data" / "holdout.csv", index=False)
    changed, cache = build(ws, tmp_path / "cache")
    assert cache.stats.hits == 0 and changed == build(ws, None)[0]
    assert len(entries(tmp_path / "cache")) == 4


def test_other_code_with_the_same_version_number_reads_nothing_back(
    ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A source checkout or an install from a git commit keeps modelgov's version number between
    commits: every key also names a digest of modelgov's own files, so a build by other code computes
    its results, its pages and its site's parts again instead of reading those of the code before."""
    from modelgov import cache as cache_module
    from modelgov.build import build_site

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    build_site(ws, tmp_path / "before", cache_dir=tmp_path / "cache")
    monkeypatch.setattr(cache_module, "code_digest", lambda: "0" * 64)  # the next commit's code
    messages: list[str] = []
    build_site(ws, tmp_path / "after", cache_dir=tmp_path / "cache", progress=messages.append)
    assert "Analysis cache: 0 result(s) reused, 2 computed" in messages, messages
    assert any(m.startswith("Site parts: 0 of ") for m in messages), messages


def test_the_code_digest_reads_every_file_of_the_package_but_its_bytecode(tmp_path: Path) -> None:
    from modelgov.cache import files_digest

    root = tmp_path / "package"
    (root / "render").mkdir(parents=True)
    (root / "render" / "text.py").write_text("A = 1\n")
    (root / "dossier.css").write_text("body {}\n")
    first = files_digest([root])
    (root / "render" / "__pycache__").mkdir()
    (root / "render" / "__pycache__" / "text.cpython-311.pyc").write_bytes(b"\x00" * 16)
    assert files_digest([root]) == first  # bytecode is not the code
    (root / "render" / "text.py").write_text("A = 2\n")
    changed = files_digest([root])
    assert changed != first
    (root / "render" / "text.py").rename(root / "render" / "words.py")
    assert files_digest([root]) not in (first, changed)  # a renamed module is other code
    (root / "render" / "words.py").rename(root / "render" / "text.py")
    assert files_digest([root]) == changed


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
    entry = evaluation_entry(tmp_path / "cache")
    good = entry.read_bytes()
    damage(entry)

    messages: list[str] = []
    rebuilt, cache = build(ws, tmp_path / "cache", messages)
    assert rebuilt == expected
    assert cache.stats.corrupted == ["loans 1.0 holdout"]
    assert any(f"Cached result for loans 1.0 holdout rejected ({reason}" in m and str(entry) in m for m in messages)
    assert entry.read_bytes() == good  # rewritten whole

    again, cache = build(ws, tmp_path / "cache")
    assert again == expected and cache.stats.hits == 2


@pytest.mark.parametrize(
    "payload",
    [{"nope": 1}, {"error_metric": "\ud800"}, [1, 2]],
    ids=["wrong-shape", "lone-surrogate", "not-an-object"],
)
def test_an_authentic_result_pydantic_refuses_is_recomputed(ws: Path, tmp_path: Path, payload: Any) -> None:
    """A result read through a stage's default ``load`` goes to pydantic's JSON parser (after its MAC
    is checked); whatever that parser refuses, even text ``json.loads`` would accept (a lone surrogate
    in the explanation's own, otherwise valid result), is rejected and recomputed, never a failed build."""
    expected, _ = build(ws, tmp_path / "cache")
    entry = next(e for e in entries(tmp_path / "cache") if "run" not in read_entry(e)[1])  # the explanation
    if "error_metric" in payload:
        payload = {**read_entry(entry)[1], **payload}
    write_entry(entry, payload, {}, mac=lambda key, body: _mac(load_secret(), key, body))
    messages: list[str] = []
    rebuilt, cache = build(ws, tmp_path / "cache", messages)
    assert rebuilt == expected
    assert len(cache.stats.corrupted) == 1
    assert any("rejected (not a valid result" in m for m in messages), messages


def _header(fields: dict) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, fields)
    return buffer.getvalue()


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=True)
    return buffer.getvalue()


#: Members ``np.load`` cannot give as an array without pickle, and what the refusal says.
UNREADABLE_MEMBERS = {
    "not in NumPy's format": (b"<p>not an array</p>", "the archive holds a member that is not an array"),
    "an array of objects": (_npy(np.array([{"a": 1}], dtype=object)), "the archive does not load (ValueError)"),
    # the object array's header with exactly as many bytes as it says: refused for its type alone
    "objects of the length the header says": (
        _header({"descr": "|O", "fortran_order": False, "shape": (3,)}) + b"\0" * 24,
        "the archive does not load (ValueError)",
    ),
    "a negative size": (
        _header({"descr": "<f8", "fortran_order": False, "shape": (-1, -8)}) + b"\0" * 64,
        "the archive does not load (ValueError)",
    ),
    "items of no size": (
        _header({"descr": "|V0", "fortran_order": False, "shape": (2**40, 2**40)}),
        "the archive does not load (ValueError)",
    ),
    "a header that does not tokenize": (
        _npy(np.arange(4.0)).replace(b"'shape': (4,)", b"'shape': (4,("),
        "the archive does not load",
    ),
    "compressed": (_npy(np.arange(100.0)), "the archive holds a compressed member"),
    "truncated": (_npy(np.arange(100.0))[:-8], "the archive does not load (ValueError)"),
    "longer than its header says": (_npy(np.arange(4.0)) + b"\0" * 8, "the archive does not load (ValueError)"),
    "a header that does not parse": (_npy(np.arange(4.0)).replace(b"'descr'", b"'descr "), "the archive does not load"),
    "a format version never written": (b"\x93NUMPY\x07\x00" + _npy(np.arange(4.0))[8:], "the archive does not load"),
}


@pytest.mark.parametrize("member", sorted(UNREADABLE_MEMBERS))
def test_an_authentic_archive_member_that_is_not_an_array_is_refused(ws: Path, tmp_path: Path, member: str) -> None:
    """``np.load`` gives a zip member that is not in NumPy's format as its raw bytes, and cannot read
    an array of objects, a damaged header or data of another length: an entry holding one (authentic,
    the payload intact) is refused when it is opened and recomputed, never a traceback later, where
    the array is first used (arrays are read only when asked for; the evaluation's here never are)."""
    import zipfile

    content, reason = UNREADABLE_MEMBERS[member]
    expected, _ = build(ws, tmp_path / "cache")
    entry = next(e for e in entries(tmp_path / "cache") if "run" in read_entry(e)[1])
    body = io.BytesIO()
    with (
        zipfile.ZipFile(body, "w") as archive,
        zipfile.ZipFile(io.BytesIO(entry.read_bytes().split(b"\n", 1)[1])) as honest,
    ):
        for name in honest.namelist():
            replaced = name == "y_true.npy" and member != "not in NumPy's format"
            compress = zipfile.ZIP_DEFLATED if replaced and member == "compressed" else zipfile.ZIP_STORED
            archive.writestr(name, content if replaced else honest.read(name), compress_type=compress)
        if member == "not in NumPy's format":
            archive.writestr("page-0", content)
    key = entry.name.removesuffix(".entry")
    header = {"format": FORMAT, "key": key, "mac": _mac(load_secret(), key, body.getvalue())}
    entry.write_bytes(json.dumps(header).encode() + b"\n" + body.getvalue())
    messages: list[str] = []
    rebuilt, cache = build(ws, tmp_path / "cache", messages)
    assert rebuilt == expected and len(cache.stats.corrupted) == 1
    assert any(reason in m for m in messages), messages


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
    assert (cache.stats.hits, cache.stats.misses) == (0, 3)
    warm, cache = build(ws, tmp_path / "cache")
    assert (cache.stats.hits, cache.stats.misses) == (3, 0)
    assert cold == warm == fresh

    week.assign(ts="2026-08-10T10:00:00Z").to_csv(ws / "logs" / "w2.csv", index=False)  # a new week arrives
    grown, cache = build(ws, tmp_path / "cache")
    assert (cache.stats.hits, cache.stats.misses) == (2, 1)  # the evaluation is reused, the drift is not
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
    assert (cache.stats.hits, cache.stats.misses) == (0, 4)

    first = entries(tmp_path / "cache")[0]
    flip_a_body_byte(first)
    cache = AnalysisCache(tmp_path / "cache", report=messages.append)
    assert manifest_json(build_manifest(load_workspace(ws), jobs=2, cache=cache)) == serial
    assert (cache.stats.hits, len(cache.stats.corrupted)) == (3, 1)
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
    # the shared evaluation and its explanation; each model's pages; the built parts of the site: each
    # model's folder, the datasets and the lineage page (no policies apply, so there are no compliance
    # pages; the site-wide part is built every time)
    before = set(result_entries(tmp_path / "cache"))
    assert len(before) == 2 + 2 + 4
    card = ws / "models" / "loans" / "model.yml"
    card.write_text(card.read_text().replace("caveats: ", "caveats: Reviewed again. "))
    messages: list[str] = []
    warm = build_site(ws, tmp_path / "warm", cache_dir=tmp_path / "cache", progress=messages.append)
    fresh = build_site(ws, tmp_path / "fresh")
    assert digest(warm.site_dir) == digest(fresh.site_dir)
    assert "Reviewed again." in (warm.site_dir / "models/loans/1.0/index.html").read_text()
    # two new entries: the changed model's pages and its built part; everything else was reused
    assert len(set(result_entries(tmp_path / "cache")) - before) == 2
    assert "Site parts: 3 of 4 reused, 1 built" in messages


# ---------------------------------------------------------------------- the cache as untrusted storage

AUC_POLICY = """\
id: auc
title: Discrimination
rules:
  - id: auc-high
    title: ROC AUC of at least 0.95
    evidence: performance.roc_auc
    require: {">=": 0.95}
"""


def gated(ws: Path) -> Path:
    """``ws`` with a blocking rule its honest ROC AUC (about 0.5) fails and a forged 0.999 would pass."""
    (ws / "policies").mkdir(exist_ok=True)
    (ws / "policies" / "auc.yml").write_text(AUC_POLICY, encoding="utf-8")
    return ws


def cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    from modelgov.cli import main

    code = main(args)
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err, err
    return code, err


def roc_auc(site: Path) -> float:
    built = json.loads((site / "manifest.json").read_text(encoding="utf-8"))
    [run] = built["models"][0]["versions"][0]["evaluations"]
    return next(m["value"] for m in run["performance"]["metrics"] if m["name"] == "roc_auc")


def evaluation_entry(cache_dir: Path) -> Path:
    return next(e for e in entries(cache_dir) if "run" in read_entry(e)[1])


@pytest.mark.slow
@pytest.mark.parametrize(
    "mac",
    [self_hash, lambda key, body: _mac(b"an attacker's own key, 32 bytes long", key, body)],
    ids=["self-hash", "attackers-key"],
)
def test_a_forged_evaluation_is_refused_and_the_verdict_is_the_honest_one(
    ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], mac: Callable[[str, bytes], str]
) -> None:
    """The attack of issue 15: ROC AUC 0.527 shown as 0.999 and `build` exiting 0 where `check` exits 1."""
    gated(ws)
    honest, _ = cli(["build", str(ws), "-o", str(tmp_path / "honest"), "--no-cache", "-q"], capsys)
    assert honest == 1 and roc_auc(tmp_path / "honest") < 0.95
    cache_args = ["--cache-dir", str(tmp_path / "cache"), "-q"]
    assert cli(["build", str(ws), "-o", str(tmp_path / "cold"), *cache_args], capsys)[0] == honest

    entry = evaluation_entry(tmp_path / "cache")
    forge_auc(entry, mac=mac)
    code, err = cli(["build", str(ws), "-o", str(tmp_path / "forged"), "--cache-dir", str(tmp_path / "cache")], capsys)
    assert code == honest
    assert roc_auc(tmp_path / "forged") == roc_auc(tmp_path / "honest")
    assert f"Cached result for loans 1.0 holdout rejected ({MAC_MISMATCH}): {entry}; recomputing it" in err
    assert cli(["build", str(ws), "-o", str(tmp_path / "warm"), *cache_args], capsys) == (honest, "")


def test_swapped_entries_are_bound_to_their_keys(ws: Path, tmp_path: Path) -> None:
    """Two authentic entries exchanged (or one copied over another with its header's key rewritten)
    are refused: the MAC covers the key the entry is read for."""
    import shutil

    shutil.copytree(ws / "models" / "loans", ws / "models" / "loans-copy")
    copy = ws / "models/loans-copy/versions/1.0/version.yml"
    copy.write_text(copy.read_text().replace("date: 2026-01-20", "date: 2026-01-21"))
    expected, _ = build(ws, tmp_path / "cache")
    first, second = [e for e in entries(tmp_path / "cache") if "run" in read_entry(e)[1]]  # the two evaluations
    a, b = first.read_bytes(), second.read_bytes()
    first.write_bytes(b)
    second.write_bytes(a)
    messages: list[str] = []
    swapped, cache = build(ws, tmp_path / "cache", messages)
    assert swapped == expected and cache.stats.hits == 2 and len(cache.stats.corrupted) == 2
    assert sum("rejected (its header names another entry)" in m for m in messages) == 2

    header, rest = first.read_bytes().split(b"\n", 1)  # rewritten honestly by the rebuild
    claimed = json.loads(header)
    claimed["key"] = second.name.removesuffix(".entry")
    second.write_bytes(json.dumps(claimed).encode() + b"\n" + rest)
    messages.clear()
    rekeyed, cache = build(ws, tmp_path / "cache", messages)
    assert rekeyed == expected and cache.stats.hits == 3
    assert any(MAC_MISMATCH in m and str(second) in m for m in messages), messages


def script_everywhere(value: Any) -> Any:
    """Every long string of a cached page or part, with a live script appended."""
    if isinstance(value, str) and len(value) > 20:
        return value + "<script>alert('forged')</script>"
    if isinstance(value, list):
        return [script_everywhere(v) for v in value]
    if isinstance(value, dict):
        return {k: script_everywhere(v) for k, v in value.items()}
    return value


def script_pages(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """A cached site part's pages (arrays of their HTML bytes), each with a live script appended."""
    script = np.frombuffer(b"<script>alert('forged')</script>", dtype=np.uint8)
    return {name: np.concatenate([a, script]) if name.startswith("page-") else a for name, a in arrays.items()}


def site_text(site: Path) -> str:
    return "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in sorted(site.rglob("*")) if p.is_file())


@pytest.mark.slow
def test_forged_pages_and_site_parts_never_reach_the_site(
    ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Cached Markdown and HTML are used only when authenticated: a forged entry carrying a script
    is rejected and the site is the one a build without the cache gives."""
    cache = ["--cache-dir", str(tmp_path / "cache")]
    cli(["build", str(ws), "-o", str(tmp_path / "cold"), *cache, "-q"], capsys)
    # the model's pages and the built parts of the site (compiled templates, which this process holds
    # in memory and so never reads again, are forged in tests/test_compiled_templates.py)
    payloads = {e: read_entry(e)[1] for e in entries(tmp_path / "cache")}
    forged = [e for e, payload in payloads.items() if "run" not in payload and "template" not in payload]
    assert len(forged) >= 3
    for entry in forged:
        _, payload, arrays = read_entry(entry)
        write_entry(entry, script_everywhere(payload), script_pages(arrays))
    code, err = cli(["build", str(ws), "-o", str(tmp_path / "warm"), *cache], capsys)
    assert code == 0 and "alert('forged')" not in site_text(tmp_path / "warm")
    assert "Cached result for the pages of loans rejected (its MAC does not match" in err
    assert err.count(MAC_MISMATCH) == len(forged)


def plant(entry: Path, how: str, outside: Path) -> None:
    entry.unlink()
    if how == "dev-zero":
        entry.symlink_to("/dev/zero")
    elif how == "fifo":
        os.mkfifo(entry)
    elif how == "link-out":
        entry.symlink_to(outside)
    elif how == "huge":
        with entry.open("wb") as sparse:  # a sparse file: no disk used, but larger than the limit
            sparse.truncate(MAX_ENTRY_BYTES + 1)


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("dev-zero", "it is a symbolic link"),
        ("fifo", "it is a FIFO, not a regular file"),
        ("link-out", "it is a symbolic link"),
        ("huge", f"over the limit of {MAX_ENTRY_BYTES:,})"),
    ],
    ids=["dev-zero", "fifo", "link-out", "huge"],
)
def test_an_entry_that_is_not_a_small_regular_file_is_refused_without_reading_it(
    ws: Path, tmp_path: Path, how: str, reason: str
) -> None:
    """A link to /dev/zero once exhausted memory and a FIFO hung the build: now neither is read,
    the alarm guards against a hang, and peak memory does not grow by the entry's size."""
    import resource
    import signal

    expected, _ = build(ws, tmp_path / "cache")
    entry = evaluation_entry(tmp_path / "cache")
    outside = tmp_path / "outside.txt"
    outside.write_text("not the cache's\n")
    plant(entry, how, outside)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    messages: list[str] = []
    signal.signal(signal.SIGALRM, signal.default_int_handler)
    signal.alarm(60)
    try:
        rebuilt, cache = build(ws, tmp_path / "cache", messages)
    finally:
        signal.alarm(0)
    grown_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    assert rebuilt == expected and cache.stats.corrupted == ["loans 1.0 holdout"]
    assert any("loans 1.0 holdout rejected (" in m and reason in m and str(entry) in m for m in messages), messages
    assert grown_kib < 256 * 1024
    assert outside.read_text() == "not the cache's\n"  # never written through
    assert not entry.is_symlink() and entry.is_file()  # replaced by the recomputed entry
    assert build(ws, tmp_path / "cache")[1].stats.hits == 2


def test_a_symlinked_shard_folder_is_neither_read_nor_written_through(ws: Path, tmp_path: Path) -> None:
    expected, _ = build(ws, tmp_path / "cache")
    entry = evaluation_entry(tmp_path / "cache")
    elsewhere_shards = sum(e.parent != entry.parent for e in entries(tmp_path / "cache"))  # the explanation's
    elsewhere = tmp_path / "elsewhere"
    entry.parent.rename(elsewhere)  # a valid entry, behind a link
    entry.parent.symlink_to(elsewhere, target_is_directory=True)
    forge_auc(elsewhere / entry.name)
    before = sorted((p.name, p.stat().st_mtime_ns) for p in elsewhere.iterdir())
    messages: list[str] = []
    rebuilt, cache = build(ws, tmp_path / "cache", messages)
    assert rebuilt == expected and cache.stats.hits == elsewhere_shards
    shard = entry.parent.name
    assert any(f"rejected (its folder {shard}/ is a symbolic link)" in m for m in messages), messages
    assert any(f"Not caching {entry}: its folder {shard}/ is a symbolic link" in m for m in messages)
    assert sorted((p.name, p.stat().st_mtime_ns) for p in elsewhere.iterdir()) == before


def test_a_cache_root_that_is_a_link_is_resolved_once_and_checked_against_the_workspace(
    ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A link the user made (the cache on another disk) works; a link whose target, or whose own
    location, is in the workspace is refused before anything is written."""
    (tmp_path / "disk").mkdir()
    (tmp_path / "cache-link").symlink_to(tmp_path / "disk", target_is_directory=True)
    build(ws, tmp_path / "cache-link")
    assert len(entries(tmp_path / "disk")) == 2  # the evaluation and its explanation

    (tmp_path / "into-ws").symlink_to(ws / "models", target_is_directory=True)
    for folder in (tmp_path / "into-ws", ws / "cache-link-out"):
        if folder.parent == ws:
            folder.symlink_to(tmp_path / "disk", target_is_directory=True)
        code, err = cli(["build", str(ws), "-o", str(tmp_path / "site"), "--cache-dir", str(folder)], capsys)
        assert code == 2 and err.startswith("error: the analysis cache"), err
        assert "inside the workspace" in err and "a build never writes into the workspace" in err
    assert len(entries(tmp_path / "disk")) == 2 and not (ws / "models" / ".gitignore").exists()


@pytest.mark.parametrize("where", ["inside", "env-inside", "contains"])
def test_a_cache_folder_inside_the_workspace_is_refused(
    ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    args = ["build", str(ws), "-o", str(tmp_path / "site")]
    if where == "inside":
        args += ["--cache-dir", str(ws / ".modelgov" / "cache")]
    elif where == "env-inside":
        monkeypatch.setenv("MODELGOV_CACHE_DIR", str(ws / "cache"))
    else:
        args += ["--cache-dir", str(tmp_path)]
    code, err = cli(args, capsys)
    assert code == 2 and err.startswith("error: the analysis cache"), err
    assert ("contains the workspace" if where == "contains" else "is inside the workspace") in err
    assert "--no-cache" in err
    assert not (ws / ".modelgov").exists() and not (tmp_path / "site").exists()


def key_file() -> Path:
    from modelgov.cache_secret import key_file_path

    return key_file_path()


def test_the_key_file_is_made_once_owner_only_and_outside_the_cache(ws: Path, tmp_path: Path) -> None:
    build(ws, tmp_path / "cache")
    path = key_file()
    assert path.stat().st_mode & 0o777 == 0o600 and path.stat().st_size == 32
    assert not path.is_relative_to(tmp_path / "cache") and not path.is_relative_to(ws)
    made = path.read_bytes()
    assert build(ws, tmp_path / "cache")[1].stats.hits == 2 and path.read_bytes() == made
    assert [p.name for p in path.parent.iterdir()] == ["cache.key"]  # no temporary left behind


def spoil_permissions(path: Path) -> None:
    path.chmod(0o644)


def spoil_link(path: Path) -> None:
    real = path.with_name("real.key")
    path.rename(real)
    path.symlink_to(real)


def spoil_size(path: Path) -> None:
    path.write_bytes(path.read_bytes() + b"\n")


@pytest.mark.parametrize(
    ("spoil", "says"),
    [
        (spoil_permissions, "can be read or written by other users (mode 0644); run `chmod 600"),
        (spoil_link, "is a symbolic link"),
        (spoil_size, "is 33 bytes, not 32"),
    ],
    ids=["mode-0644", "symlink", "wrong-size"],
)
def test_an_untrustworthy_key_file_turns_the_cache_off_and_says_how_to_fix_it(
    ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], spoil: Callable[[Path], None], says: str
) -> None:
    build(ws, tmp_path / "cache")
    spoil(key_file())
    before = entries(tmp_path / "cache")
    args = ["build", str(ws), "-o", str(tmp_path / "site"), "--cache-dir", str(tmp_path / "cache")]
    code, err = cli(args, capsys)
    assert code == 0, err
    assert f"Analysis cache off for this build: the key file {key_file()} {says}" in err
    assert "delete" in err and "Analysis cache: " not in err  # no statistics: nothing was read
    assert entries(tmp_path / "cache") == before
    honest, _ = build(ws, None)
    assert manifest_json(manifest.read(tmp_path / "site" / "manifest.json")) == honest


def runner(monkeypatch: pytest.MonkeyPatch, home: Path, secret: str | None) -> None:
    """A CI runner: its own home (config and cache folders) and, maybe, the shared secret."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    if secret is None:
        monkeypatch.delenv("MODELGOV_CACHE_KEY", raising=False)
    else:
        monkeypatch.setenv("MODELGOV_CACHE_KEY", secret)


def test_runners_sharing_a_secret_share_the_cache_and_a_wrong_secret_is_rejected(
    ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = tmp_path / "restored-ci-cache"
    secret = "0123456789abcdef" * 4
    runner(monkeypatch, tmp_path / "runner-a", secret)
    expected, cache = build(ws, shared)
    assert cache.stats.misses == 2
    runner(monkeypatch, tmp_path / "runner-b", f"  {secret}\n")  # surrounding whitespace is not the key
    again, cache = build(ws, shared)
    assert again == expected and cache.stats.hits == 2
    assert not key_file().exists()  # a runner with the secret never makes a key file

    for other in ("another secret of at least 32 bytes", None):  # a wrong secret; a runner's own key
        runner(monkeypatch, tmp_path / "runner-c", other)
        messages: list[str] = []
        rejected, cache = build(ws, shared, messages)
        assert rejected == expected and cache.stats.hits == 0
        assert any(MAC_MISMATCH in m for m in messages), messages


def test_a_short_secret_is_refused_clearly(
    ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MODELGOV_CACHE_KEY", "hunter2")
    code, err = cli(["build", str(ws), "-o", str(tmp_path / "site")], capsys)
    assert code == 2
    assert err.startswith("error: MODELGOV_CACHE_KEY is 7 bytes long; it must be a secret of at least 32 bytes")
    assert cli(["build", str(ws), "-o", str(tmp_path / "site"), "--no-cache", "-q"], capsys)[0] == 0


def snapshot(folder: Path) -> dict[str, tuple[int, int, int]]:
    """Every file and folder under ``folder`` (links not followed): size, modification time, mode."""
    found = {}
    for path in [folder, *sorted(folder.rglob("*"))]:
        info = path.lstat()
        found[str(path.relative_to(folder))] = (info.st_size, info.st_mtime_ns, info.st_mode)
    return found


@pytest.mark.slow
def test_build_and_check_never_write_into_the_workspace(
    ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The promise of docs/security.md, checked file by file: the default cache is the user's."""
    gated(ws)
    monkeypatch.chdir(tmp_path)
    before = snapshot(ws)
    assert cli(["build", str(ws), "-o", str(tmp_path / "site"), "-q"], capsys)[0] == 1  # cold
    assert cli(["build", str(ws), "-o", str(tmp_path / "site"), "-q"], capsys)[0] == 1  # warm
    assert cli(["check", str(ws), "--results", str(tmp_path / "results.json"), "-q"], capsys)[0] == 1
    assert snapshot(ws) == before
    from modelgov.cache import default_cache_dir

    assert default_cache_dir().is_relative_to(os.environ["XDG_CACHE_HOME"]) and entries(default_cache_dir())


def test_check_reuses_what_a_build_computed_and_writes_nothing_into_the_workspace(
    ws: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`check` is the fast CI gate: after a build it recomputes nothing; without the cache it reads none."""
    cache = ["--cache-dir", str(tmp_path / "cache")]
    before = snapshot(ws)
    cli(["build", str(ws), "-o", str(tmp_path / "site"), *cache], capsys)
    code, err = cli(["check", str(ws), "--results", str(tmp_path / "r.json"), *cache], capsys)
    assert code == 0 and "Analysis cache:" in err and " 0 computed" in err
    assert snapshot(ws) == before
    code, err = cli(["check", str(ws), "--results", str(tmp_path / "r.json"), "--no-cache"], capsys)
    assert code == 0 and "Analysis cache:" not in err


def test_a_new_version_of_a_library_that_reads_the_data_or_writes_the_pages_is_a_new_key(
    ws: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A result is keyed by the versions of the libraries that compute it and of those that read the
    tables and logs it is computed from (DuckDB, PyArrow); a model's pages by those that write them
    (Jinja, markdown-it-py, nh3, plotly): an nh3 release that closes a way past its allow-list must
    not leave pages sanitised by the one before in the site."""
    from modelgov import cache as cache_module
    from modelgov.render import model_pages

    built = build_manifest(load_workspace(ws))
    known = cache_module.package_versions

    def after_upgrading(package: str) -> Callable[[tuple[str, ...]], dict[str, str | None]]:
        return lambda names: {**known(names), **({package: "99.0"} if package in names else {})}

    results_key = cache_module.cache_key({"kind": "a result"})
    pages_key = model_pages.cache_scope(built, None)[0]
    for package in ("pyarrow", "duckdb", "xgboost"):
        monkeypatch.setattr(cache_module, "package_versions", after_upgrading(package))
        assert cache_module.cache_key({"kind": "a result"}) != results_key, package
    monkeypatch.setattr(cache_module, "package_versions", known)
    for package in ("nh3", "markdown-it-py", "jinja2", "plotly"):
        monkeypatch.setattr(model_pages, "package_versions", after_upgrading(package))
        assert model_pages.cache_scope(built, None)[0] != pages_key, package
