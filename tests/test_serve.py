"""`modelgov serve`: the site is served on localhost and rebuilt, reusing what did not change, when a
workspace file changes; a broken edit keeps the last good site online."""

from __future__ import annotations

import threading
import time
import urllib.request
from pathlib import Path

import pytest

from modelgov.serve import ServeSession
from workspace_factory import write_workspace


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode("utf-8")


def wait_for(condition, what: str, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    ws = write_workspace(tmp_path / "ws")
    messages: list[str] = []
    session = ServeSession(ws, tmp_path / "site", port=0, progress=messages.append, say=messages.append)
    address: list[str] = []
    thread = threading.Thread(target=session.run, kwargs={"ready": address.append}, daemon=True)
    thread.start()
    wait_for(lambda: address, "the server to start")
    yield ws, address[0], messages, session
    session.stop.set()
    thread.join(timeout=30)
    assert not thread.is_alive()


def test_serve_builds_serves_and_rebuilds_only_what_a_change_touches(served) -> None:
    ws, url, messages, session = served
    assert url.startswith("http://127.0.0.1:")
    assert "Example Bank" in fetch(url + "index.html")
    card = ws / "models/loans/model.yml"
    card.write_text(card.read_text().replace("caveats: ", "caveats: Reviewed again. "))
    wait_for(lambda: "Reviewed again." in fetch(url + "models/loans/1.0/index.html"), "the rebuilt card")
    assert "Changed: models/loans/model.yml; rebuilding" in messages
    assert session.builds == 2
    # the rebuild reused every analysis and every part of the site but the changed model's
    rebuild = messages[messages.index("Changed: models/loans/model.yml; rebuilding") :]
    assert any(m.startswith("Analysis cache: 1 result(s) reused, 0 computed") for m in rebuild)
    assert "Site parts: 1 of 2 reused, 1 built" in rebuild


def test_a_broken_edit_keeps_the_last_good_site_online(served) -> None:
    ws, url, messages, session = served
    before = fetch(url + "models/loans/1.0/index.html")
    card = ws / "models/loans/model.yml"
    card.write_text(card.read_text().replace("risk_tier: high", "risk_tier: [high"))
    wait_for(lambda: any(m.startswith("Build failed; still serving the previous site.") for m in messages), "the error")
    failure = next(m for m in messages if m.startswith("Build failed"))
    assert "models/loans/model.yml" in failure
    assert fetch(url + "models/loans/1.0/index.html") == before
    card.write_text(card.read_text().replace("risk_tier: [high", "risk_tier: high"))
    wait_for(lambda: session.builds == 2, "the repaired build")


def test_the_cache_and_the_site_folder_do_not_trigger_rebuilds(tmp_path: Path) -> None:
    from modelgov.serve import _Changes

    root = tmp_path.resolve()
    changes = _Changes(root, [root / ".modelgov", root / "site"])

    class Event:
        def __init__(self, path: Path):
            self.event_type, self.src_path, self.dest_path, self.is_directory = "modified", str(path), "", False

    changes.on_any_event(Event(root / ".modelgov/cache/ab/x.entry"))
    changes.on_any_event(Event(root / "site/index.html"))
    changes.on_any_event(Event(root / "models/loans/sedAb12Cd"))  # `sed -i`'s temporary file
    changes.on_any_event(Event(root / "models/loans/.model.yml.swp"))
    assert changes.paths == set()
    changes.on_any_event(Event(root / "models/loans/model.yml"))
    assert changes.take() == []  # not yet: within the debounce interval
    time.sleep(0.6)
    assert changes.take() == ["models/loans/model.yml"]
