"""``modelgov serve``: build a workspace, serve the site on localhost, rebuild when a file changes.

A rebuild is an ordinary ``modelgov build`` into the same folder, so it re-runs only what the
change touches: analyses whose inputs are unchanged come from the analysis cache, and so do the
pages and the built parts of the site that do not depend on the changed file (see
:mod:`modelgov.cache` and :mod:`modelgov.render.site_parts`). The site is swapped in atomically, so
a reader never sees a half-written page, and a failed rebuild (a YAML error while typing) leaves
the last good site being served while the error is printed.

File events come from ``watchdog`` (inotify, FSEvents or polling, whichever the platform has) and
are debounced: an editor's save is several events, and a burst of them makes one rebuild. Changes
under ``.modelgov/`` (the cache) and under the output folder are ignored, so a build never
triggers itself. The server is Python's ``http.server`` bound to 127.0.0.1 only.

Binding to loopback is not enough on its own: a web page the reviewer visits can point a host name
it controls at 127.0.0.1 (DNS rebinding) and then read the site as if it were its own. So a request
is answered only when its ``Host`` header names this server exactly (``127.0.0.1:PORT``,
``localhost:PORT`` or ``[::1]:PORT``); anything else gets *421 Misdirected Request*.

The watcher is checked while serving: when it cannot start (inotify's watch limit is reached on a
large checkout) or its thread dies, serve says so, switches to polling (watchdog's
``PollingObserver``) and rebuilds in case a change was missed — a site that silently stops
following the workspace would be worse than no site.
"""

from __future__ import annotations

import functools
import http.server
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from modelgov.build import BuildResult, build_site
from modelgov.cache import default_cache_dir
from modelgov.errors import ModelgovError
from modelgov.workspace.refusals import Refusals

__all__ = ["ServeSession"]

#: Quiet time after the last file event before a rebuild starts.
DEBOUNCE_S = 0.5

#: Editors' and tools' temporary files (vim swap files, `sed -i`'s sedXXXXXX, backups): not changes.
_EDITOR_TEMP = re.compile(r"^(\..*\.sw[a-p]|.*~|\.#.*|#.*#|sed[A-Za-z0-9]{6}|4913|.*\.tmp)$")


#: Seconds between attempts to start a watcher after every kind failed.
WATCHER_RETRY_S = 5.0


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


class _LoopbackOnly(_Quiet):
    """Serves only requests addressed to this server by its loopback name (see the module docstring).
    ``allowed`` is set on a per-server subclass once the port is known."""

    allowed: frozenset[str] = frozenset()

    def parse_request(self) -> bool:
        if not super().parse_request():
            return False
        host = (self.headers.get("Host") or "").strip().lower()
        if host in self.allowed:
            return True
        self.send_error(
            421,
            "Misdirected Request",
            "modelgov serve answers only requests for its loopback address "
            f"({', '.join(sorted(self.allowed))}); this request named {host or 'no host'!r}",
        )
        return False


def allowed_hosts(port: int) -> frozenset[str]:
    """The ``Host`` values that name a server on loopback port ``port`` (without the port too for 80)."""
    names = ("127.0.0.1", "localhost", "[::1]")
    return frozenset({f"{name}:{port}" for name in names} | (set(names) if port == 80 else set()))


class _Changes(FileSystemEventHandler):
    """Records the workspace files that changed since the last rebuild."""

    def __init__(self, root: Path, ignored: list[Path]):
        self.root = root
        self.ignored = ignored
        self.lock = threading.Lock()
        self.paths: set[str] = set()
        self.last = 0.0

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.event_type in ("opened", "closed_no_write"):
            return
        if event.is_directory and event.event_type == "modified":  # a file inside it changed: reported itself
            return
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            if not raw:
                continue
            path = Path(str(raw)).resolve()
            if any(path == folder or path.is_relative_to(folder) for folder in self.ignored):
                continue
            if not path.is_relative_to(self.root) or _EDITOR_TEMP.match(path.name):
                continue
            with self.lock:
                self.paths.add(path.relative_to(self.root).as_posix())
                self.last = time.monotonic()

    def take(self) -> list[str]:
        """The changed paths once the workspace has been quiet for :data:`DEBOUNCE_S`."""
        with self.lock:
            if not self.paths or time.monotonic() - self.last < DEBOUNCE_S:
                return []
            taken, self.paths = sorted(self.paths), set()
            return taken


@dataclass
class ServeSession:
    """One ``modelgov serve``: the first build, the server and the watcher; :meth:`run` until
    :attr:`stop` is set (Ctrl-C on the command line)."""

    workspace: Path
    out_dir: Path
    port: int = 8000
    progress: Callable[[str], None] = lambda _: None
    say: Callable[[str], None] = print
    stop: threading.Event = field(default_factory=threading.Event)
    builds: int = 0
    last: BuildResult | None = None
    #: What every build refuses whatever the workspace says (``--refuse-pickle``, ``--refuse-workspace-code``).
    refusals: Refusals = field(default_factory=Refusals)
    #: Makes the file watcher (watchdog's native observer; tests substitute one that fails).
    observer_factory: Callable[[], BaseObserver] = Observer

    def __post_init__(self) -> None:
        self.workspace = self.workspace.resolve()
        self.out_dir = self.out_dir.resolve()
        self.cache_dir = default_cache_dir()

    def build(self) -> bool:
        """Build once; on failure say why and keep serving the previous site."""
        started = time.perf_counter()
        try:
            self.last = build_site(
                self.workspace,
                self.out_dir,
                progress=self.progress,
                cache_dir=self.cache_dir,
                refusals=self.refusals,
            )
        except ModelgovError as exc:
            kept = "still serving the previous site" if self.last else "the site appears once the workspace builds"
            self.say(f"Build failed; {kept}.\nerror: {exc}")
            return False
        self.builds += 1
        self.say(f"Built in {time.perf_counter() - started:.1f} s.")
        return True

    def run(self, ready: Callable[[str], None] | None = None) -> None:
        """First build, then serve and rebuild on changes until :attr:`stop` is set."""
        self.build()
        self.out_dir.mkdir(parents=True, exist_ok=True)
        handler_class = type("_Handler", (_LoopbackOnly,), {})
        handler = functools.partial(handler_class, directory=str(self.out_dir))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        handler_class.allowed = allowed_hosts(server.server_address[1])
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        serving = threading.Thread(target=server.serve_forever, name="modelgov-serve", daemon=True)
        serving.start()
        changes = _Changes(self.workspace, [self.workspace / ".modelgov", self.out_dir])
        observer = self._start_watcher(changes, [self.observer_factory, PollingObserver])
        retry_at = time.monotonic() + WATCHER_RETRY_S
        self.say(f"Serving {self.workspace} at {url} (rebuilt when a file changes; Ctrl-C to stop)")
        if ready is not None:
            ready(url)
        try:
            while not self.stop.wait(0.2):
                if observer is None or not _watching(observer):
                    if observer is not None:
                        self.say("The file watcher stopped unexpectedly; restarting it with polling")
                        _stop_quietly(observer)
                        observer, retry_at = None, 0.0
                    if time.monotonic() >= retry_at:
                        observer = self._start_watcher(changes, [PollingObserver])
                        retry_at = time.monotonic() + WATCHER_RETRY_S
                        if observer is not None:
                            self.say("Watching files again; rebuilding in case a change was missed")
                            self.build()
                    continue
                changed = changes.take()
                if changed:
                    shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
                    self.say(f"Changed: {shown}; rebuilding")
                    self.build()
        finally:
            if observer is not None:
                _stop_quietly(observer)
            server.shutdown()
            server.server_close()

    def _start_watcher(self, changes: _Changes, factories: list[Callable[[], BaseObserver]]) -> BaseObserver | None:
        """The first watcher of ``factories`` that starts, saying why each one that failed did; None
        (said loudly: the site will not follow edits until one starts) when none did."""
        for factory in factories:
            observer = factory()
            try:
                observer.schedule(changes, str(self.workspace), recursive=True)
                observer.start()
            except (OSError, RuntimeError) as exc:  # inotify's watch or instance limit, a vanished folder
                reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
                kind = "polling" if isinstance(observer, PollingObserver) else "native"
                self.say(f"The {kind} file watcher could not start ({reason})")
                _stop_quietly(observer)
                continue
            if factory is not factories[0]:
                self.say("Watching files by polling instead (a change shows within a second or two)")
            return observer
        self.say(
            "Cannot watch the workspace for changes: the site shown will NOT follow your edits until a "
            f"watcher starts (retrying every {WATCHER_RETRY_S:.0f} s; or restart modelgov serve)"
        )
        return None


def _watching(observer: BaseObserver) -> bool:
    """Whether the observer's thread and every emitter thread (the ones that read file events) run."""
    return observer.is_alive() and all(emitter.is_alive() for emitter in observer.emitters)


def _stop_quietly(observer: BaseObserver) -> None:
    try:
        observer.stop()
        if observer.is_alive():
            observer.join(timeout=5)
    except (OSError, RuntimeError):  # a watcher that failed to start has nothing to stop
        pass
