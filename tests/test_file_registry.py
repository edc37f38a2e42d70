"""The registry that hashes every workspace file a build reads: files named by the versions are
hashed in a background thread while the loader reads YAML, with the same checks and the same
digests as hashing them when they are registered, and without a thread when none can be started."""

from __future__ import annotations

import hashlib
import os
import pickle
import threading
from pathlib import Path

import pytest

from modelgov.workspace.files import FileRegistry
from modelgov.workspace.load import load_workspace
from modelgov.workspace.paths import PathRefused
from workspace_factory import edit, holdout_table, write_workspace


def _files(root: Path) -> dict[str, tuple[str, int]]:
    """Every file of ``root`` with its SHA-256 and size, computed here."""
    return {
        path.relative_to(root).as_posix(): (hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_size)
        for path in root.rglob("*")
        if path.is_file()
    }


def test_prefetched_files_are_the_files_registered_and_hashed_alike(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    (root / "data").mkdir(parents=True)
    for index in range(5):
        (root / "data" / f"t{index}.bin").write_bytes(os.urandom(3_000_000 + index))
    expected = _files(root)
    prefetched = FileRegistry(root)
    prefetched.prefetch(sorted(expected))
    plain = FileRegistry(root)
    for rel in sorted(expected):
        assert (prefetched.register(rel).sha256, prefetched.register(rel).bytes) == expected[rel]
        assert plain.register(rel) == prefetched.register(rel)
    prefetched.end_prefetch()
    assert prefetched.all() == plain.all()


def test_a_prefetched_file_is_not_registered_until_the_loader_registers_it(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.csv").write_text("x\n1\n")
    registry = FileRegistry(root)
    registry.prefetch(["a.csv"])
    registry.end_prefetch()
    assert registry.all() == []  # what the manifest lists: only what the build read
    assert registry.register("a.csv").path == "a.csv" and len(registry.all()) == 1


@pytest.mark.parametrize("kind", ["outside", "fifo", "folder", "missing"])
def test_a_path_the_registry_refuses_is_refused_as_before(tmp_path: Path, kind: str) -> None:
    """The thread checks a path as :meth:`register` does and never opens what it refuses (a FIFO
    would block it); registering such a path still raises, with the same refusal."""
    root = tmp_path / "ws"
    root.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("not the workspace's")
    target = root / "t.csv"
    if kind == "outside":
        target.symlink_to(secret)
    elif kind == "fifo":
        os.mkfifo(target)
    elif kind == "folder":
        target.mkdir()
    prefetched, plain = FileRegistry(root), FileRegistry(root)
    prefetched.prefetch(["t.csv", "../secret.txt"])
    prefetched.end_prefetch()
    for rel in ("t.csv", "../secret.txt"):
        with pytest.raises((PathRefused, OSError)) as refused:
            prefetched.register(rel)
        with pytest.raises(type(refused.value)) as before:
            plain.register(rel)
        assert str(refused.value) == str(before.value)


def test_without_a_thread_files_are_hashed_when_registered(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.csv").write_text("x\n1\n")

    def refuse(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")

    monkeypatch.setattr(threading.Thread, "start", refuse)
    registry = FileRegistry(root)
    registry.prefetch(["a.csv"])
    registry.prefetch(["a.csv"])  # and again, after the refusal
    assert registry.register("a.csv").sha256 == hashlib.sha256(b"x\n1\n").hexdigest()
    registry.end_prefetch()


def test_a_loaded_workspace_holds_no_thread_and_can_be_sent_to_a_worker(tmp_path: Path) -> None:
    root = write_workspace(tmp_path / "ws")
    before = {t.name for t in threading.enumerate()}
    workspace = load_workspace(root)
    assert not any(t.name.startswith("modelgov-hash") for t in threading.enumerate() if t.name not in before)
    sent = pickle.loads(pickle.dumps(workspace.files))
    assert sent.all() == workspace.files.all()
    assert [f.path for f in workspace.files.all()] == sorted(
        ["governance.yml", "models/loans/model.yml", "models/loans/versions/1.0/version.yml",
         "models/loans/versions/1.0/approvals.yml", "datasets/loans-train.yml", "datasets/loans-holdout.yml",
         "data/holdout.csv"]
    )  # fmt: skip
    for hashed in workspace.files.all():
        assert hashed.sha256 == hashlib.sha256((root / hashed.path).read_bytes()).hexdigest()


def test_a_registry_with_files_still_pending_can_be_sent_to_a_worker(tmp_path: Path) -> None:
    """A path hashed ahead but never registered (the checks refused it, or named it otherwise) leaves
    a future behind; the registry is still sent to worker processes, without it."""
    root = tmp_path / "ws"
    root.mkdir()
    (root / "a.csv").write_text("x\n1\n")
    (root / "b.csv").write_text("x\n2\n")
    registry = FileRegistry(root)
    registry.prefetch(["a.csv", "b.csv"])
    registry.register("a.csv")
    sent = pickle.loads(pickle.dumps(registry))  # with the thread still running
    registry.end_prefetch()
    again = pickle.loads(pickle.dumps(registry))  # and with a finished future left
    assert sent.all() == again.all() == registry.all()
    assert again.register("b.csv") == registry.register("b.csv")


@pytest.mark.parametrize("log", [False, True])
def test_a_table_named_with_a_dot_is_hashed_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, log: bool) -> None:
    """The loader registers an evaluation's table under the name written and a log under the name
    its pattern expands to; the names hashed ahead are those, so no file is hashed twice."""
    import modelgov.workspace.files as files

    root = write_workspace(tmp_path / "ws")
    edit(root, "models/loans/versions/1.0/version.yml", "data: data/holdout.csv", "data: data/./holdout.csv")
    if log:
        holdout_table().assign(at="2026-02-01T00:00:00Z").to_csv(root / "data" / "log.csv", index=False)
        version = root / "models/loans/versions/1.0/version.yml"
        version.write_text(
            version.read_text()
            + "monitoring:\n  logs: data/./log.csv\n  timestamp: at\n  prediction: predicted\n  features: [income]\n"
        )
    hashed: list[str] = []
    plain = files.sha256_file

    def counted(path: Path, stop: object = None) -> str:
        hashed.append(Path(path).name)
        return plain(path, stop)

    monkeypatch.setattr(files, "sha256_file", counted)
    load_workspace(root)
    assert hashed.count("holdout.csv") == 1
    assert hashed.count("log.csv") == log


def test_a_load_that_ends_does_not_wait_for_a_large_file_to_be_hashed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file being hashed in the background is given up within a chunk when the loader is done (a
    workspace with problems fails at once, not after its largest log is hashed), and hashed in full
    if it is registered after all."""
    import time

    import modelgov.workspace.files as files

    root = tmp_path / "ws"
    root.mkdir()
    data = os.urandom(200_000)
    (root / "log.bin").write_bytes(data)
    expected = hashlib.sha256(data).hexdigest()
    started = threading.Event()

    class SlowDigest:  # 10 ms a chunk, the lock released meanwhile: 200 chunks take 2 s
        def __init__(self) -> None:
            self._digest = hashlib.new("sha256")

        def update(self, chunk: bytes) -> None:
            started.set()
            time.sleep(0.01)
            self._digest.update(chunk)

        def hexdigest(self) -> str:
            return self._digest.hexdigest()

    monkeypatch.setattr(files, "_CHUNK", 1_000)
    monkeypatch.setattr(files.hashlib, "sha256", SlowDigest)
    registry = FileRegistry(root)
    registry.prefetch(["log.bin"])
    assert started.wait(5)  # the thread is in the middle of the file
    begun = time.perf_counter()
    registry.end_prefetch()
    assert time.perf_counter() - begun < 0.5
    monkeypatch.setattr(files, "_CHUNK", 1 << 20)
    assert registry.register("log.bin").sha256 == expected


@pytest.mark.parametrize("prefetched", [False, True])
def test_a_file_swapped_for_a_fifo_after_its_check_is_refused_not_waited_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefetched: bool
) -> None:
    """The path is checked (a regular file inside the workspace) before it is opened; if it becomes a
    FIFO in between, opening it must neither block the build nor the hashing thread: what is opened
    is checked again, without blocking, and refused with the path's name."""
    import modelgov.workspace.files as files

    root = tmp_path / "ws"
    root.mkdir()
    os.mkfifo(root / "log.csv")
    monkeypatch.setattr(files, "require", lambda real_root, rel: real_root / rel)  # the check passed earlier
    registry = FileRegistry(root)
    outcome: list[BaseException] = []

    def register() -> None:
        if prefetched:
            registry.prefetch(["log.csv"])
        try:
            registry.register("log.csv")
        except BaseException as exc:
            outcome.append(exc)
        registry.end_prefetch()

    worker = threading.Thread(target=register, daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():  # free the blocked open so the test run ends
        with open(root / "log.csv", "wb"):
            pass
        pytest.fail("registering a FIFO blocked")
    assert len(outcome) == 1 and isinstance(outcome[0], PathRefused), outcome
    assert "log.csv" in str(outcome[0]) and "a FIFO, not a regular file" in str(outcome[0])
