"""The build's worker processes (modelgov.processes): what a worker inherits from the process that
created its pool, whichever pool of the process it is, and what it must not pick up on the way."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from modelgov import processes, worker_preload
from modelgov.processes import worker_pool

SRC = Path(processes.__file__).resolve().parent.parent

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="the fork server is checked where Linux has it")


def _report() -> dict:
    """Run in a worker: what it sees of the process that created its pool."""
    mask = os.umask(0)
    os.umask(mask)
    return {
        "parent": os.getppid(),
        "cwd": os.getcwd(),
        "setting": os.environ.get("MODELGOV_TEST_SETTING"),
        "safe_path": os.environ.get("PYTHONSAFEPATH"),
        "umask": mask,
        "engines": sorted(name for name in ("mkdocs", "properdocs") if name in sys.modules),
        "preloaded": all(name in sys.modules for name in worker_preload.MODULES),
    }


def _initialised() -> str | None:
    return os.environ.get("MODELGOV_TEST_INITIALISED")


def _set(value: str) -> None:
    os.environ["MODELGOV_TEST_INITIALISED"] = value


@linux_only
def test_forked_from_a_server_that_imported_the_workers_modules():
    assert processes.START_METHOD == "forkserver"
    with worker_pool(2) as pool:
        reports = [pool.submit(_report).result() for _ in range(2)]
    assert all(r["parent"] != os.getpid() for r in reports)  # forked by the server, not by this process
    assert all(r["preloaded"] for r in reports)


def test_each_pool_gets_the_environment_folder_and_umask_of_its_creation(tmp_path, monkeypatch):
    """The server starts once per process; a pool made later, after the environment, the working
    folder or the umask changed (as between the suite's builds, or a cache key set), sees the change."""
    monkeypatch.setenv("MODELGOV_TEST_SETTING", "first")
    with worker_pool(1) as pool:
        assert pool.submit(_report).result()["setting"] == "first"

    monkeypatch.setenv("MODELGOV_TEST_SETTING", "second")
    monkeypatch.chdir(tmp_path)
    mask = os.umask(0o077)
    try:
        with worker_pool(2) as pool:
            later = [pool.submit(_report).result() for _ in range(3)]
    finally:
        os.umask(mask)
    assert {r["setting"] for r in later} == {"second"}
    assert {r["cwd"] for r in later} == {str(tmp_path)}
    assert {r["umask"] for r in later} == {0o077}
    # the server was started with PYTHONSAFEPATH; a worker has this process's environment, not the server's
    if "PYTHONSAFEPATH" not in os.environ:
        assert {r["safe_path"] for r in later} == {None}


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


def test_a_module_that_fails_to_preload_is_left_to_the_worker(tmp_path, monkeypatch):
    """The server skips only an ImportError: any other error at import would stop it, and every pool
    with it. The preload skips it; the worker meets it again with its task."""
    (tmp_path / "modelgov_test_broken.py").write_text("raise RuntimeError('broken at import')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert worker_preload.preload(["json", "modelgov_test_broken", "no_such_module_anywhere"]) == [
        "modelgov_test_broken",
        "no_such_module_anywhere",
    ]


# A build run from a folder a pull request can write: the server and its workers must find modules as
# the build does, never in that folder first. A script outside the folder (its own folder, not the
# working one, heads its path) starts a pool from there.
PROBE = textwrap.dedent(
    """
    import os, sys
    sys.path.insert(0, sys.argv[1])  # modelgov through another path, added at run time
    import modelgov
    from modelgov.processes import worker_pool

    def probe():
        import modelgov, yaml, numpy
        return modelgov.__file__, yaml.__file__, numpy.__file__

    if __name__ == "__main__":
        with worker_pool(1) as pool:
            found = pool.submit(probe).result()
        print(found[0] == modelgov.__file__, found[1], found[2])
    """
)


@linux_only
def test_the_server_never_imports_from_the_folder_the_build_runs_in(tmp_path):
    folder = tmp_path / "pull-request"
    folder.mkdir()
    marker = tmp_path / "ran"
    for name in ("yaml", "numpy", "pyarrow", "pydantic"):
        (folder / f"{name}.py").write_text(f"open({str(marker)!r}, 'a').write({name!r})\n")
    other = tmp_path / "other-path"
    other.mkdir()
    (other / "modelgov").symlink_to(SRC / "modelgov")
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONSAFEPATH")}
    done = subprocess.run(
        [sys.executable, str(script), str(other)], cwd=folder, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    same_modelgov, yaml_file, numpy_file = done.stdout.split()
    assert not marker.exists(), f"a module planted in the working folder ran: {marker.read_text()}"
    assert not yaml_file.startswith(str(folder)) and not numpy_file.startswith(str(folder))
    # the server resolved modelgov through the path this process added, as this process did
    assert same_modelgov == "True"


@linux_only
def test_stopping_the_server_waits_for_it_and_a_later_pool_starts_another():
    from multiprocessing import forkserver

    with worker_pool(1) as pool:
        first = pool.submit(os.getppid).result()
    processes.stop_server()
    with pytest.raises(ChildProcessError):  # waited for: its use counts in this process's children
        os.waitpid(first, os.WNOHANG)
    with worker_pool(1) as pool:
        assert pool.submit(os.getppid).result() not in (first, os.getpid())
    assert forkserver._forkserver._forkserver_pid is not None


@linux_only
def test_the_modelgov_command_stops_the_server_before_it_exits(monkeypatch):
    """So that its workers' CPU and memory count in the command's (GNU time, CI accounting)."""
    from multiprocessing import forkserver

    from modelgov import cli

    def a_build_with_workers() -> int:
        with worker_pool(1) as pool:
            pool.submit(os.getpid).result()
        assert forkserver._forkserver._forkserver_pid is not None
        return 0

    monkeypatch.setattr(cli, "main", a_build_with_workers)
    assert cli.command() == 0
    assert forkserver._forkserver._forkserver_pid is None


@linux_only
def test_after_an_interrupt_the_command_does_not_wait_for_the_server(monkeypatch):
    """Workers may still be ending after Ctrl-C; waiting for the server would wait for them."""
    from multiprocessing import forkserver

    from modelgov import cli
    from modelgov.cli_output import EXIT_INTERRUPTED

    def an_interrupted_build() -> int:
        with worker_pool(1) as pool:
            pool.submit(os.getpid).result()
        return EXIT_INTERRUPTED

    monkeypatch.setattr(cli, "main", an_interrupted_build)
    assert cli.command() == EXIT_INTERRUPTED
    assert forkserver._forkserver._forkserver_pid is not None
