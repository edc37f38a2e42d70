"""Shared test setup: make the helper modules in tests/ importable, keep every test out of the real
user's cache and config, build the bundled example once for the whole test session, and give each
Spark test module one local session."""

import os
import signal
import sys
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


import pytest

from shared_builds import DESELECTED, DemoBuild, build_demo, demo_workspace, shared_folder

# The Spark tests' JVM (one per test process: PySpark keeps its gateway after a session stops) runs
# small queries once each, which the JIT's optimising tier never repays: with the first tier only and
# the serial collector, the Spark modules take the same time alone and about a third less CPU (98 s
# against 62 s on the 2-core machine), CPU the other test worker has work for. Speed only: the JVM
# computes the same results. Options the caller set (a proxy, a trust store) are kept, after these,
# so that where they set the same thing theirs win.
_JIT_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
if _JIT_OPTIONS not in os.environ.get("JAVA_TOOL_OPTIONS", ""):
    os.environ["JAVA_TOOL_OPTIONS"] = f"{_JIT_OPTIONS} {os.environ.get('JAVA_TOOL_OPTIONS', '')}".strip()

# The suite starts about two hundred interpreters (test workers, builds run as commands, their
# worker pools). uv installs packages without their bytecode, which Python writes on first import;
# where the environment sets PYTHONDONTWRITEBYTECODE, nothing ever writes it, and every interpreter
# compiles NumPy, pandas, scikit-learn, SciPy and MkDocs from source again (8 s of CPU for a build's
# imports instead of 3 s). The test workers (pytest-xdist) and the commands the suite runs start
# with this process's environment, so they write bytecode once, into the virtual environment the
# suite was installed in and the source tree (both ignored by Git). (With `-n 0`, this process's
# own worker pools still start without writing it: Python passes on its start-up flags, not this
# setting.) Speed only: the same code runs.
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
sys.dont_write_bytecode = False

# --------------------------------------------------------------------------------------------------
# Parallel runs (pytest-xdist: `-n auto --dist loadscope` in pyproject.toml's addopts)
# --------------------------------------------------------------------------------------------------

#: At most this many workers for `-n auto`: each worker is a whole test process (with the analysis
#: stack, sometimes a Spark JVM or a Chromium), and the suite is split by module, so more do not help.
MAX_WORKERS = 4

#: Modules that take longest, started first so that no worker is left with a long one at the end
#: (`--dist loadscope` hands each worker whole modules, in this order, then the rest as collected).
#: Measured with `--durations` on the 2-core machine (docs/performance.md); a module not listed
#: is only scheduled later, never skipped. The first module builds the shared demo (about 85 s on
#: one core); the next three do not read it, so the other worker is busy, not waiting, until it is
#: built (with two of them, it waited about 25 s for the end-to-end module's first test).
LONGEST_FIRST = (
    "test_browser.py",
    "test_redteam_cache.py",
    "test_spark_scan.py",
    "test_explain.py",
    "test_end_to_end.py",
    "test_redteam_boundary.py",
    "test_dossier.py",
    "test_properties.py",
    "test_monitoring_estimation.py",
    "test_demo.py",
    "test_cache.py",
    "test_dossier_cache.py",
    "test_ab_test.py",
    "test_docs.py",
    "test_promotion_record.py",
    "test_redteam_decisions.py",
    "test_serve.py",
    "test_policy.py",
    "test_redteam_render.py",
    "test_interrupted_build.py",
    "test_monitoring_reference.py",
    "test_site_engine.py",
    "test_render.py",
)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: one worker per CPU this process may run on, at most :data:`MAX_WORKERS`."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS))


@pytest.hookimpl(tryfirst=True)  # before `-m` selects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """A test that reads the shared demo build is `slow` (the build takes half a minute when it is
    the first). Under pytest-xdist, the longest modules first (:data:`LONGEST_FIRST`); a serial run
    keeps the collection order. Every worker collects, and sorts, the same items."""
    for item in items:
        if "demo_build" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.slow)
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return
    rank = {name: index for index, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: the rest keep their order


def pytest_deselected(items: list[pytest.Item]) -> None:
    """Note on the session's config that a collected test was deselected (:data:`DESELECTED`)."""
    if items:
        items[0].config.stash[DESELECTED] = True


@pytest.fixture(scope="session", autouse=True)
def _private_cache_and_config_for_the_session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The same for module- and session-scoped fixtures, which are set up before the function-scoped
    fixture below runs: they never read or write the real user's cache or cache key either."""
    home = tmp_path_factory.mktemp("xdg-session")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("XDG_CACHE_HOME", str(home / "cache"))
        patch.setenv("XDG_CONFIG_HOME", str(home / "config"))
        patch.delenv("MODELGOV_CACHE_DIR", raising=False)
        patch.delenv("MODELGOV_CACHE_KEY", raising=False)
        yield


@pytest.fixture(autouse=True)
def _private_cache_and_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the real user's cache or cache key (~/.cache, ~/.config): platformdirs
    honours the XDG variables on Linux, and the cache's own variables are cleared."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.delenv("MODELGOV_CACHE_DIR", raising=False)
    monkeypatch.delenv("MODELGOV_CACHE_KEY", raising=False)


@pytest.hookimpl(tryfirst=True)  # before any fixture of the test is set up, the shared demo's included
def pytest_runtest_setup(item: pytest.Item) -> None:
    """A test marked ``dossier`` is skipped where WeasyPrint cannot run, with the reason. Checked
    when it is about to run, not when its module is collected: importing WeasyPrint takes most of a
    second in every test process that collects the suite."""
    if item.get_closest_marker("dossier") is not None:
        from modelgov.dossier.pdf import available

        if (reason := available()) is not None:
            pytest.skip(f"dossiers need WeasyPrint and Pango: {reason}")


@pytest.fixture(scope="session")
def demo_build(tmp_path_factory: pytest.TempPathFactory) -> DemoBuild:
    """The demo workspace and its built site, made once for the whole run (see :class:`DemoBuild`)."""
    workspace = demo_workspace(tmp_path_factory)
    folder = shared_folder(tmp_path_factory, "demo", lambda folder: build_demo(folder, workspace))
    return DemoBuild(folder / "workspace", folder / "site", folder / "cache")


@pytest.fixture(scope="module")
def spark():
    """A local Spark session for a Spark test module (see spark_support.require_spark), with two cores and
    few shuffle partitions."""
    from modelgov.monitoring.spark_scan import spark_session

    interrupt = signal.getsignal(signal.SIGINT)
    session = spark_session("local[2]", {"spark.ui.enabled": "false", "spark.sql.shuffle.partitions": "4"})
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()
    # PySpark's SIGINT handler outlives the session and fails on a stopped one: the test process
    # (a pytest-xdist worker goes on to other modules) gets its own handler back
    signal.signal(signal.SIGINT, interrupt)
