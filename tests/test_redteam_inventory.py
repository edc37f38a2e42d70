"""The red-team corpus covers every class of forge the security model names, with at least 100 cases.

The cases live beside the code they attack (``tests/test_redteam_*.py``, marked ``redteam``); this
test collects them as pytest does and counts them per class, so a class cannot quietly lose its cases.
"""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from shared_builds import DESELECTED

TESTS = Path(__file__).resolve().parent

pytestmark = pytest.mark.slow  # a second pytest collects the whole suite when this one did not

#: class of forge → (file, pattern a case's id must match, minimum cases)
CLASSES = {
    "cache as untrusted storage": ("test_redteam_cache.py", r".", 15),
    "signed sign-offs bound to evidence": ("test_redteam_decisions.py", r"sign|key|stale|evidence|name", 10),
    "anchored, strictly read audit log": (
        "test_redteam_decisions.py",
        r"entry|chain|line|truncat|rewrite|dated|duplicate",
        10,
    ),
    "promotion obeys the gate": ("test_redteam_decisions.py", r"promot|override|status", 4),
    "the workspace boundary": ("test_redteam_boundary.py", r"link|fifo|device|socket|outside|pickle|folder", 15),
    "bounded work": ("test_redteam_boundary.py", r"bomb|field|expand|zip|large|huge|memory|record|limit|serve|host", 5),
    "user text rendered once": ("test_redteam_render.py", r".", 30),
}


def collected() -> list[str]:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-m", "redteam", "-p", "no:cacheprovider", str(TESTS)],
        capture_output=True,
        text=True,
        check=False,
        cwd=TESTS.parent,
    )
    return [line for line in done.stdout.splitlines() if "::" in line]


def _whole_suite_collected(config: pytest.Config) -> bool:
    """Whether this session collected every test and deselected none (tests/conftest.py notes any
    deselection, whoever made it): then its own items are the inventory."""
    ignored = config.getoption("ignore", None) or config.getoption("ignore_glob", None)
    everything = [Path(arg).resolve() for arg in config.args] == [TESTS]
    return everything and not ignored and not config.stash.get(DESELECTED, False)


@pytest.fixture(scope="module")
def cases(request: pytest.FixtureRequest) -> list[str]:
    """The red-team cases as ``path::id``: the running session's own items when it collected the whole
    suite (each xdist worker collects it all), else a second pytest's collection."""
    if _whole_suite_collected(request.config):
        return [item.nodeid for item in request.session.items if item.get_closest_marker("redteam")]
    return collected()


def test_the_corpus_has_at_least_100_cases(cases: list[str]) -> None:
    assert len(cases) >= 100, f"{len(cases)} red-team cases"
    assert len(set(cases)) == len(cases)


@pytest.mark.parametrize("name", list(CLASSES))
def test_every_class_of_forge_has_its_cases(cases: list[str], name: str) -> None:
    file, pattern, minimum = CLASSES[name]
    mine = [c for c in cases if c.startswith(f"tests/{file}::") and re.search(pattern, c.split("::", 1)[1], re.I)]
    assert len(mine) >= minimum, f"{name}: {len(mine)} cases in {file}, at least {minimum} expected"


def test_the_chromium_checks_are_part_of_the_corpus(cases: list[str]) -> None:
    assert Counter(c.split("::")[0] for c in cases)["tests/test_browser.py"] >= 1
