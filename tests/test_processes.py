"""The build's worker processes (modelgov.processes): what a worker inherits from the build that
started its pool, whichever pool of the process it is."""

from __future__ import annotations

import os
import sys

import pytest

from modelgov import processes
from modelgov.processes import worker_pool


def _report() -> dict:
    """Run in a worker: what it sees of the build that created its pool."""
    return {
        "parent": os.getppid(),
        "cwd": os.getcwd(),
        "setting": os.environ.get("MODELGOV_TEST_SETTING"),
        "removed": "MODELGOV_TEST_REMOVED" in os.environ,
        "engines": sorted(name for name in ("mkdocs", "properdocs") if name in sys.modules),
        "preloaded": all(name in sys.modules for name in processes.PRELOAD),
    }


def _initialised() -> str | None:
    return os.environ.get("MODELGOV_TEST_INITIALISED")


def _set(value: str) -> None:
    os.environ["MODELGOV_TEST_INITIALISED"] = value


def test_forked_from_a_server_on_linux():
    if sys.platform != "linux":
        pytest.skip("the fork server is chosen where the platform has it; this checks Linux")
    assert processes.START_METHOD == "forkserver"
    with worker_pool(2) as pool:
        reports = [pool.submit(_report).result() for _ in range(2)]
    # forked by the server, not by this process, and with the workers' modules already imported
    assert all(r["parent"] != os.getpid() for r in reports)
    assert all(r["preloaded"] for r in reports)


def test_each_pool_gets_the_environment_and_folder_of_its_creation(tmp_path, monkeypatch):
    """The server starts once per process; a pool made later, after the environment or the working
    folder changed (as between the suite's builds, or a cache key set), must still see the change."""
    monkeypatch.setenv("MODELGOV_TEST_SETTING", "first")
    monkeypatch.setenv("MODELGOV_TEST_REMOVED", "yes")
    with worker_pool(1) as pool:
        first = pool.submit(_report).result()
    assert first["setting"] == "first" and first["removed"]

    monkeypatch.setenv("MODELGOV_TEST_SETTING", "second")
    monkeypatch.delenv("MODELGOV_TEST_REMOVED")
    monkeypatch.chdir(tmp_path)
    with worker_pool(2) as pool:
        later = [pool.submit(_report).result() for _ in range(3)]
    assert {r["setting"] for r in later} == {"second"}
    assert not any(r["removed"] for r in later)
    assert {r["cwd"] for r in later} == {str(tmp_path)}


def test_no_site_engine_is_imported_before_a_worker_chooses_one():
    """A process builds with one site engine, loaded by name in each worker: the server must not
    have imported MkDocs, even when this process has."""
    import mkdocs  # noqa: F401

    with worker_pool(1) as pool:
        assert pool.submit(_report).result()["engines"] == []


def test_a_pool_initializer_runs_after_the_environment_is_taken(monkeypatch):
    monkeypatch.delenv("MODELGOV_TEST_INITIALISED", raising=False)
    with worker_pool(2, initializer=_set, initargs=("by the initializer",)) as pool:
        assert {pool.submit(_initialised).result() for _ in range(3)} == {"by the initializer"}
