"""Red-team corpus for the analysis cache: whoever can write the cache (a poisoned CI cache, a shared
folder, a hostile pull request's planted links) tries to choose what a build publishes, hang it,
exhaust its memory, or make it write elsewhere.

Every case runs ``modelgov build`` through the command line against a workspace whose honest ROC AUC
fails a blocking rule (exit 1), after a build that filled the cache, and asserts the documented
outcome (docs/security.md, "The analysis cache"):

- *honest*: the attack is reported (which entry, and why) or the cache is switched off with a reason,
  and the build's exit code and manifest are exactly those of a build without the cache;
- *refused*: a setting that cannot be made safe is an error naming it (exit 2), nothing is built.

In every case: no traceback or internal error, no forged text on the site, the workspace unchanged
file by file, nothing written through a planted link (the decoy folder unchanged), no hang (an alarm
interrupts the build, which then fails the case), and no entry read beyond the size limit.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from modelgov.cache import FORMAT, MAX_ENTRY_BYTES, _mac
from modelgov.cache_secret import key_file_path
from modelgov.cli import main
from test_cache import (
    AUC_POLICY,
    MAC_MISMATCH,
    forge_auc,
    read_entry,
    script_everywhere,
    script_pages,
    self_hash,
    snapshot,
    write_entry,
)
from workspace_factory import write_workspace

pytestmark = [pytest.mark.redteam, pytest.mark.slow]

SECRET_A = "a shared CI secret of at least thirty-two bytes"
SECRET_B = "another CI secret, also thirty-two bytes or more"


@dataclass
class Attack:
    """What a case can touch: the cache it attacks, a decoy folder outside everything a build may
    write, and the environment."""

    tmp: Path
    workspace: Path
    cache: Path
    decoy: Path
    monkeypatch: pytest.MonkeyPatch

    def entries(self) -> list[Path]:
        return sorted(self.cache.rglob("*.entry"))

    def evaluation(self) -> Path:
        return next(e for e in self.entries() if "run" in read_entry(e)[1])

    def pages(self) -> Path:
        return next(e for e in self.entries() if isinstance(read_entry(e)[1], list))

    def parts(self) -> list[Path]:
        return [e for e in self.entries() if "pages" in read_entry(e)[1]]


@dataclass(frozen=True)
class Honest:
    """Built with the honest result (the exit code and manifest of a build without the cache); the
    build's messages say each of ``says``."""

    says: tuple[str, ...]


@dataclass(frozen=True)
class Refused:
    """Exit 2 before anything is built; the error says each of ``says``."""

    says: tuple[str, ...]


@dataclass(frozen=True)
class Case:
    id: str
    attack: Callable[[Attack], list[str] | None]
    expect: Honest | Refused
    prime_env: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------------- attacks on entries


def forged_self_hash(a: Attack) -> None:
    forge_auc(a.evaluation())


def forged_with_attackers_key(a: Attack) -> None:
    forge_auc(a.evaluation(), mac=lambda key, body: _mac(b"the attacker's own key, 32+ bytes", key, body))


def forged_old_format(a: Attack) -> None:
    """An entry in the layout of format 2, which trusted a SHA-256 of its own body."""
    entry = a.evaluation()
    forge_auc(entry)
    header, body = entry.read_bytes().split(b"\n", 1)
    claimed = json.loads(header)
    old = {"format": FORMAT - 1, "key": claimed["key"], "sha256": self_hash("", body)}
    entry.write_bytes(json.dumps(old).encode() + b"\n" + body)


def spliced_header(a: Attack) -> None:
    """An authentic header (a valid MAC for the honest body) in front of a forged body."""
    entry = a.evaluation()
    header = entry.read_bytes().split(b"\n", 1)[0]
    forge_auc(entry)
    entry.write_bytes(header + b"\n" + entry.read_bytes().split(b"\n", 1)[1])


def scripted_pages(a: Attack) -> None:
    entry = a.pages()
    _, payload, arrays = read_entry(entry)
    write_entry(entry, script_everywhere(payload), arrays)


def scripted_parts(a: Attack) -> None:
    for entry in a.parts():
        _, payload, arrays = read_entry(entry)
        write_entry(entry, script_everywhere(payload), script_pages(arrays))


def swapped(a: Attack) -> None:
    evaluation, pages = a.evaluation(), a.pages()
    first, second = evaluation.read_bytes(), pages.read_bytes()
    evaluation.write_bytes(second)
    pages.write_bytes(first)


def rekeyed(a: Attack) -> None:
    """An authentic pages entry copied over the evaluation's, its header's key rewritten to match."""
    evaluation, pages = a.evaluation(), a.pages()
    header, body = pages.read_bytes().split(b"\n", 1)
    claimed = json.loads(header)
    claimed["key"] = evaluation.name.removesuffix(".entry")
    evaluation.write_bytes(json.dumps(claimed).encode() + b"\n" + body)


def replaced(make: Callable[[Path, Attack], None]) -> Callable[[Attack], None]:
    def attack(a: Attack) -> None:
        entry = a.evaluation()
        entry.unlink()
        make(entry, a)

    return attack


def sparse_huge(entry: Path, _: Attack) -> None:
    with entry.open("wb") as sparse:
        sparse.truncate(MAX_ENTRY_BYTES + 1)


def no_header(entry: Path, _: Attack) -> None:
    with entry.open("wb") as out:
        for _ in range(10):
            out.write(b"x" * (1 << 20))


def truncated(a: Attack) -> None:
    entry = a.evaluation()
    entry.write_bytes(entry.read_bytes()[:4000])


def shard_link(a: Attack) -> None:
    """The shard folder moved into the decoy and replaced by a link to it (forged entry inside)."""
    entry = a.evaluation()
    target = a.decoy / "shard"
    shutil.move(entry.parent, target)
    forge_auc(target / entry.name)
    entry.parent.symlink_to(target, target_is_directory=True)


# ---------------------------------------------------------------------- attacks on the key


def key_mode_0644(a: Attack) -> None:
    key_file_path().chmod(0o644)


def key_link(a: Attack) -> None:
    """The key file replaced by a link to a key the attacker knows (and could MAC forgeries with)."""
    known = a.decoy / "known.key"
    known.write_bytes(b"k" * 32)
    known.chmod(0o600)
    key_file_path().unlink()
    key_file_path().symlink_to(known)
    forge_auc(a.evaluation(), mac=lambda key, body: _mac(b"k" * 32, key, body))


def key_wrong_size(a: Attack) -> None:
    key_file_path().write_bytes(b"short")


def key_fifo(a: Attack) -> None:
    key_file_path().unlink()
    os.mkfifo(key_file_path(), 0o600)


def key_other_owner(a: Attack) -> None:
    os.chown(key_file_path(), 65534, 65534)


def other_secret(a: Attack) -> None:
    a.monkeypatch.setenv("MODELGOV_CACHE_KEY", SECRET_B)


# ---------------------------------------------------------------------- attacks on the location


def cache_in_workspace(a: Attack) -> list[str]:
    return ["--cache-dir", str(a.workspace / ".modelgov" / "cache")]


def link_in_workspace_pointing_out(a: Attack) -> list[str]:
    (a.workspace / ".modelgov").mkdir()
    (a.workspace / ".modelgov" / "cache").symlink_to(a.decoy, target_is_directory=True)
    return ["--cache-dir", str(a.workspace / ".modelgov" / "cache")]


def link_pointing_into_workspace(a: Attack) -> list[str]:
    (a.tmp / "innocent-cache").symlink_to(a.workspace / "models", target_is_directory=True)
    return ["--cache-dir", str(a.tmp / "innocent-cache")]


def env_in_workspace(a: Attack) -> list[str]:
    a.monkeypatch.setenv("MODELGOV_CACHE_DIR", str(a.workspace / "cache"))
    return []


def contains_workspace(a: Attack) -> list[str]:
    return ["--cache-dir", str(a.workspace.parent)]


def short_secret(a: Attack) -> None:
    a.monkeypatch.setenv("MODELGOV_CACHE_KEY", "hunter2")


def root_is_a_file(a: Attack) -> list[str]:
    (a.tmp / "not-a-folder").write_text("a file where the cache should be\n")
    return ["--cache-dir", str(a.tmp / "not-a-folder")]


REJECTED = "Cached result for loans 1.0 holdout rejected ("
OFF = "Analysis cache off for this build: the key file "

CASES = [
    Case("forged-self-hash", forged_self_hash, Honest((REJECTED + MAC_MISMATCH,))),
    Case("forged-attackers-key", forged_with_attackers_key, Honest((REJECTED + MAC_MISMATCH,))),
    Case("forged-old-format", forged_old_format, Honest((REJECTED + "it was written by another version",))),
    Case("spliced-authentic-header", spliced_header, Honest((REJECTED + MAC_MISMATCH,))),
    Case("truncated-entry", truncated, Honest((REJECTED + MAC_MISMATCH,))),
    Case("script-in-cached-pages", scripted_pages, Honest(("the pages of loans rejected (" + MAC_MISMATCH,))),
    Case("script-in-cached-site-parts", scripted_parts, Honest(("the pages under models/loans/ rejected (",))),
    Case("swapped-entries", swapped, Honest((REJECTED + "its header names another entry",))),
    Case("rekeyed-authentic-entry", rekeyed, Honest((REJECTED + MAC_MISMATCH,))),
    Case(
        "entry-link-to-dev-zero",
        replaced(lambda e, _: e.symlink_to("/dev/zero")),
        Honest((REJECTED + "it is a symbolic link",)),
    ),
    Case(
        "entry-link-out",
        replaced(lambda e, a: e.symlink_to(a.decoy / "target.txt")),
        Honest((REJECTED + "it is a symbolic link",)),
    ),
    Case("entry-fifo", replaced(lambda e, _: os.mkfifo(e)), Honest((REJECTED + "it is a FIFO, not a regular file",))),
    Case(
        "entry-sparse-huge", replaced(sparse_huge), Honest((REJECTED + f"it is {MAX_ENTRY_BYTES + 1:,} bytes, over",))
    ),
    Case(
        "entry-is-a-folder",
        replaced(lambda e, _: e.mkdir()),
        Honest((REJECTED + "it is a folder, not a regular", "is not writable")),
    ),
    Case("entry-without-header", replaced(no_header), Honest((REJECTED + "no header",))),
    Case(
        "shard-folder-link",
        shard_link,
        Honest(("rejected (its folder", "/ is a symbolic link): ", "Not caching")),
    ),
    Case("key-file-mode-0644", key_mode_0644, Honest((OFF, "(mode 0644); run `chmod 600"))),
    Case("key-file-link-to-known-key", key_link, Honest((OFF, "is a symbolic link"))),
    Case("key-file-wrong-size", key_wrong_size, Honest((OFF, "is 5 bytes, not 32"))),
    Case("key-file-fifo", key_fifo, Honest((OFF, "is not a regular file"))),
    Case("key-file-other-owner", key_other_owner, Honest((OFF, "belongs to user id 65534, not to you"))),
    Case("wrong-shared-secret", other_secret, Honest((REJECTED + MAC_MISMATCH,)), {"MODELGOV_CACHE_KEY": SECRET_A}),
    Case("short-shared-secret", short_secret, Refused(("MODELGOV_CACHE_KEY is 7 bytes long", "at least 32 bytes"))),
    Case("cache-dir-in-workspace", cache_in_workspace, Refused(("is inside the workspace", "--no-cache"))),
    Case("cache-dir-link-in-workspace", link_in_workspace_pointing_out, Refused(("is inside the workspace",))),
    Case("cache-dir-link-into-workspace", link_pointing_into_workspace, Refused(("is inside the workspace",))),
    Case("cache-dir-env-in-workspace", env_in_workspace, Refused(("is inside the workspace", "MODELGOV_CACHE_DIR"))),
    Case("cache-dir-contains-workspace", contains_workspace, Refused(("contains the workspace",))),
    Case("cache-dir-is-a-file", root_is_a_file, Honest(("is not writable", "not caching"))),
]


def test_the_corpus_is_large_and_its_ids_are_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) >= 15 and len(set(ids)) == len(ids)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = write_workspace(tmp_path_factory.mktemp("template") / "ws")
    (ws / "policies").mkdir()
    (ws / "policies" / "auc.yml").write_text(AUC_POLICY, encoding="utf-8")
    return ws


def build(ws: Path, out: Path, *extra: str) -> tuple[int, str]:
    """``modelgov build`` as CI runs it, interrupted (exit 130) if it has not finished in two minutes."""
    import io
    from contextlib import redirect_stderr

    err = io.StringIO()
    previous = signal.signal(signal.SIGALRM, signal.default_int_handler)
    signal.alarm(120)
    try:
        with redirect_stderr(err):
            code = main(["build", str(ws), "-o", str(out), "-j", "1", *extra])
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)
    return code, err.getvalue()


def comparable(site: Path) -> dict:
    built = json.loads((site / "manifest.json").read_text(encoding="utf-8"))
    built.pop("built_at", None)
    return built


@pytest.fixture(scope="module")
def honest_build(template: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[int, dict]:
    """The template built without a cache (its exit code and manifest): what every case's build must
    publish when it is not refused. The same for every case, so built once."""
    root = tmp_path_factory.mktemp("honest")
    ws = root / "ws"
    shutil.copytree(template, ws)
    code, err = build(ws, root / "honest", "--no-cache")
    assert code == 1, err
    return code, comparable(root / "honest")


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.id)
def test_hostile_cache(
    case: Case, template: Path, honest_build: tuple[int, dict], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if case.id == "key-file-other-owner" and os.getuid() != 0:
        pytest.skip("giving a file to another user needs root")
    ws = tmp_path / "ws"
    shutil.copytree(template, ws)
    decoy = tmp_path / "decoy"
    decoy.mkdir()
    (decoy / "target.txt").write_text("outside everything a build may write\n")
    cache = tmp_path / "cache"
    honest_code, honest = honest_build

    with monkeypatch.context() as priming:
        for name, value in case.prime_env.items():
            priming.setenv(name, value)
        assert build(ws, tmp_path / "primed", "--cache-dir", str(cache))[0] == honest_code
    for name, value in case.prime_env.items():
        monkeypatch.setenv(name, value)
    attack = Attack(tmp_path, ws, cache, decoy, monkeypatch)
    given = case.attack(attack)
    workspace_before, decoy_before = snapshot(ws), snapshot(decoy)

    site = tmp_path / "site"
    code, err = build(ws, site, *(["--cache-dir", str(cache)] if given is None else given))

    assert "Traceback" not in err and "internal error" not in err, err
    assert snapshot(ws) == workspace_before, "the build wrote into the workspace"
    assert snapshot(decoy) == decoy_before, "the build wrote through a planted link"
    if isinstance(case.expect, Refused):
        assert code == 2 and err.startswith("error: "), err
        assert not site.exists()
    else:
        assert code == honest_code, err
        assert comparable(site) == honest
        published = "\n".join(p.read_text(errors="replace") for p in site.rglob("*") if p.is_file())
        assert "alert('forged')" not in published
    for phrase in case.expect.says:
        assert phrase in err, f"the build does not say {phrase!r}:\n{err}"
