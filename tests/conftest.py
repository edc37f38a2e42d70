"""Shared test setup: make the helper modules in tests/ importable."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))


import pytest


@pytest.fixture(autouse=True)
def _private_cache_and_config(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No test reads or writes the real user's cache or cache key (~/.cache, ~/.config): platformdirs
    honours the XDG variables on Linux, and the cache's own variables are cleared."""
    home = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CACHE_HOME", str(home / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / "config"))
    monkeypatch.delenv("MODELGOV_CACHE_DIR", raising=False)
    monkeypatch.delenv("MODELGOV_CACHE_KEY", raising=False)
