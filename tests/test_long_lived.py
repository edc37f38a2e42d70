"""Objects a build keeps are frozen out of the collector's full passes during the build, and only then."""

from __future__ import annotations

import gc
import shutil
from pathlib import Path

import pytest

from modelgov import long_lived
from modelgov.build import build_site
from modelgov.errors import WorkspaceError

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "minimal"


@pytest.fixture(autouse=True)
def _nothing_frozen():
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_keep_outside_a_build_freezes_nothing() -> None:
    long_lived.keep()
    assert gc.get_freeze_count() == 0


def test_what_a_build_keeps_is_handed_back_when_the_outermost_block_ends() -> None:
    with long_lived.for_the_build():
        kept = [object() for _ in range(10)]  # noqa: F841 - alive while kept
        long_lived.keep()
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with long_lived.for_the_build():
            long_lived.keep()
        assert gc.get_freeze_count() >= frozen  # an inner block's end hands nothing back
    assert gc.get_freeze_count() == 0


def test_a_build_leaves_nothing_frozen_whether_it_succeeds_or_fails(tmp_path: Path) -> None:
    """A process that builds again (``modelgov serve``, the tests) must be able to collect what the
    last build left, including after a build that failed."""
    frozen, freeze = [], gc.freeze
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(gc, "freeze", lambda: frozen.append(freeze()))
        build_site(EXAMPLE, tmp_path / "site", cache_dir=None)
    assert len(frozen) >= 3  # the workspace, the model's results, the manifest
    assert gc.get_freeze_count() == 0
    broken = tmp_path / "broken"
    shutil.copytree(EXAMPLE, broken)
    (broken / "governance.yml").write_text("risk_tiers: [", encoding="utf-8")
    with pytest.raises(WorkspaceError):
        build_site(broken, tmp_path / "site2", cache_dir=None)
    assert gc.get_freeze_count() == 0
