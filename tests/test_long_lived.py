"""Objects a build keeps are frozen out of the collector's full passes during the build, and only then."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import pytest

from modelgov import build, long_lived
from modelgov.errors import BuildError

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "minimal"


class Node:
    """An object that can be in a reference cycle and be watched with a weak reference."""

    other: Node | None = None


def cycle() -> weakref.ref:
    first, second = Node(), Node()
    first.other, second.other = second, first
    return weakref.ref(first)


@pytest.fixture(autouse=True)
def _nothing_frozen():
    gc.unfreeze()  # a test that ran `modelgov` in this process froze what it left, as the command does
    yield
    gc.unfreeze()


def test_keep_outside_a_build_freezes_nothing() -> None:
    long_lived.keep()
    assert gc.get_freeze_count() == 0


def test_what_a_build_keeps_is_frozen_what_it_dropped_is_collected_and_all_is_handed_back() -> None:
    with long_lived.for_the_build():
        kept = Node()
        dropped = cycle()  # garbage already: a keep() must not freeze it
        long_lived.keep()
        assert dropped() is None
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with long_lived.for_the_build():
            long_lived.keep()
        # An inner block's end hands nothing back. The count cannot show it exactly: frozen objects
        # freed since (the inner block's own generator) leave it. An unfrozen object is tracked again.
        assert gc.get_freeze_count() > 0
        assert not any(obj is kept for obj in gc.get_objects())
        kept.other = kept  # kept to the build's end, then garbage
        watched = weakref.ref(kept)
        long_lived.keep()
        del kept
    assert gc.get_freeze_count() == 0
    gc.collect()
    assert watched() is None  # a process that builds again collects what the last build kept


def test_a_failed_build_hands_everything_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args, **kwargs):
        assert gc.get_freeze_count() > 0  # the workspace, the model's results and the manifest
        raise BuildError("the renderer failed")

    monkeypatch.setattr(build, "render_manifest", fail)
    with pytest.raises(BuildError, match="the renderer failed"):
        build.build_site(EXAMPLE, tmp_path / "site")
    assert gc.get_freeze_count() == 0
    long_lived.keep()  # not inside a build any more
    assert gc.get_freeze_count() == 0


def test_a_build_leaves_nothing_frozen_and_builds_again(tmp_path: Path) -> None:
    for name in ("first", "second"):
        build.build_site(EXAMPLE, tmp_path / name)
        assert gc.get_freeze_count() == 0
    assert (tmp_path / "second/index.html").is_file()


def test_what_something_else_froze_stays_frozen_and_the_build_freezes_nothing(tmp_path: Path) -> None:
    """A host process that froze objects itself: unfreezing at the build's end would undo that."""
    gc.freeze()
    calls = []
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(gc, "freeze", lambda: calls.append(1))
        build.build_site(EXAMPLE, tmp_path / "site")
    assert calls == []
    assert gc.get_freeze_count() > 0  # not handed back (objects freed since are no longer counted)
