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
    wait_for(lambda: session.builds == 2, "the rebuild to finish")  # the site is swapped in just before it counts
    # the rebuild reused every analysis (the evaluation and its explanation) and every part of the site
    # but the changed model's
    rebuild = messages[messages.index("Changed: models/loans/model.yml; rebuilding") :]
    assert any(m.startswith("Analysis cache: 2 result(s) reused, 0 computed") for m in rebuild)
    assert "Site parts: 2 of 3 reused, 1 built" in rebuild


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


def request(url: str, host: str | None) -> tuple[int, str]:
    """GET ``url`` with ``host`` as the Host header (None: no Host header at all)."""
    import http.client
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    try:
        connection.putrequest("GET", "/index.html", skip_host=True)
        if host is not None:
            connection.putheader("Host", host)
        connection.endheaders()
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def test_only_requests_for_the_loopback_address_are_answered(served) -> None:
    """DNS rebinding: a page on evil.example resolving to 127.0.0.1 sends Host: evil.example:PORT."""
    _, url, _, _ = served
    port = url.rstrip("/").rsplit(":", 1)[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", f"LOCALHOST:{port}"):
        status, body = request(url, host)
        assert status == 200 and "Example Bank" in body, host
    for host in (f"evil.example:{port}", "evil.example", f"127.0.0.1:{int(port) + 1}", "127.0.0.1", "", None):
        status, body = request(url, host)
        assert status == 421, (host, status)
        assert "Example Bank" not in body and "loopback" in body


class _NoInotify:
    """An observer that cannot start, like inotify at its watch limit."""

    def schedule(self, *args, **kwargs) -> None:
        pass

    def start(self) -> None:
        raise OSError(28, "inotify watch limit reached")

    def stop(self) -> None:
        pass

    def is_alive(self) -> bool:
        return False


def _serve(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **options):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1767225600")
    monkeypatch.setattr("modelgov.serve.WATCHER_RETRY_S", 0.5)
    ws = write_workspace(tmp_path / "ws")
    messages: list[str] = []
    session = ServeSession(ws, tmp_path / "site", port=0, progress=messages.append, say=messages.append, **options)
    address: list[str] = []
    thread = threading.Thread(target=session.run, kwargs={"ready": address.append}, daemon=True)
    thread.start()
    wait_for(lambda: address, "the server to start")
    return ws, address[0], messages, session, thread


def test_a_watcher_that_cannot_start_falls_back_to_polling(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ws, url, messages, session, thread = _serve(tmp_path, monkeypatch, observer_factory=_NoInotify)
    try:
        assert any("could not start (inotify watch limit reached)" in m for m in messages)
        assert any("polling" in m for m in messages)
        card = ws / "models/loans/model.yml"
        card.write_text(card.read_text().replace("caveats: ", "caveats: Polled. "))
        wait_for(lambda: "Polled." in fetch(url + "models/loans/1.0/index.html"), "the rebuild seen by polling")
    finally:
        session.stop.set()
        thread.join(timeout=30)


def test_a_watcher_that_dies_is_reported_and_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The native observer's thread stops mid-session (as when inotify fails): serve says so, watches
    by polling, and rebuilds, so the site does not silently go stale."""
    from watchdog.observers.polling import PollingObserver

    started: list[PollingObserver] = []

    def factory() -> PollingObserver:
        started.append(PollingObserver())
        return started[-1]

    ws, url, messages, session, thread = _serve(tmp_path, monkeypatch, observer_factory=factory)
    try:
        wait_for(lambda: started and started[0].is_alive(), "the first watcher")
        started[0].stop()  # the watcher dies
        wait_for(lambda: any("file watcher stopped unexpectedly" in m for m in messages), "the report")
        wait_for(lambda: session.builds == 2, "the rebuild after the watcher was replaced")
        assert any("rebuilding in case a change was missed" in m for m in messages)
        card = ws / "models/loans/model.yml"
        card.write_text(card.read_text().replace("caveats: ", "caveats: Still followed. "))
        wait_for(lambda: "Still followed." in fetch(url + "models/loans/1.0/index.html"), "a rebuild after recovery")
    finally:
        session.stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()
