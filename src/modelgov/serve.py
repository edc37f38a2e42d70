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

from modelgov.build import BuildResult, build_site
from modelgov.cache import default_cache_dir
from modelgov.errors import ModelgovError

__all__ = ["ServeSession"]

#: Quiet time after the last file event before a rebuild starts.
DEBOUNCE_S = 0.5

#: Editors' and tools' temporary files (vim swap files, `sed -i`'s sedXXXXXX, backups): not changes.
_EDITOR_TEMP = re.compile(r"^(\..*\.sw[a-p]|.*~|\.#.*|#.*#|sed[A-Za-z0-9]{6}|4913|.*\.tmp)$")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


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

    def __post_init__(self) -> None:
        self.workspace = self.workspace.resolve()
        self.out_dir = self.out_dir.resolve()
        self.cache_dir = default_cache_dir()

    def build(self) -> bool:
        """Build once; on failure say why and keep serving the previous site."""
        started = time.perf_counter()
        try:
            self.last = build_site(self.workspace, self.out_dir, progress=self.progress, cache_dir=self.cache_dir)
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
        handler = functools.partial(_Quiet, directory=str(self.out_dir))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), handler)
        url = f"http://127.0.0.1:{server.server_address[1]}/"
        serving = threading.Thread(target=server.serve_forever, name="modelgov-serve", daemon=True)
        serving.start()
        changes = _Changes(self.workspace, [self.workspace / ".modelgov", self.out_dir])
        observer = Observer()
        observer.schedule(changes, str(self.workspace), recursive=True)
        observer.start()
        self.say(f"Serving {self.workspace} at {url} (rebuilt when a file changes; Ctrl-C to stop)")
        if ready is not None:
            ready(url)
        try:
            while not self.stop.wait(0.2):
                changed = changes.take()
                if changed:
                    shown = ", ".join(changed[:5]) + (f" and {len(changed) - 5} more" if len(changed) > 5 else "")
                    self.say(f"Changed: {shown}; rebuilding")
                    self.build()
        finally:
            observer.stop()
            observer.join(timeout=5)
            server.shutdown()
            server.server_close()
