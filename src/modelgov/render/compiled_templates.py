"""Compiled Jinja templates kept in memory for the life of the process.

Every build makes new Jinja environments (one for the pages, one per MkDocs part for the theme), and
an environment compiles each template it loads: lexing, parsing and generating Python for the
site's fifty page templates took about 0.5 s of every build, more than rendering them. A process
that builds more than once (``modelgov serve`` after each change, a fleet's parts, the test suite)
paid it every time. A :class:`CompiledTemplates` given to each new environment as its bytecode cache
hands it the code compiled the first time.

Only in memory, never on disk: a folder that the workspace's CI job can write could hold code that
a pull request planted, which Jinja would then run. An entry here is code Jinja's own compiler
produced in this process. It is filed under the template's name and file and the SHA-256 of its
source, so a template whose text changed is compiled again. One instance serves environments made
with the same settings only (the compiled code depends on them, e.g. ``trim_blocks``); each kind of
environment has its own. The number of entries is bounded, the oldest used dropped first.

``by_file=False`` files a template under its name and source alone, for templates written afresh
into a new temporary folder by every build (the theme override): the code Jinja generates is the
same whatever the file is called, only a traceback would name the first file.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from types import CodeType

import jinja2
import jinja2.bccache

__all__ = ["CompiledTemplates"]


class CompiledTemplates(jinja2.BytecodeCache):
    """An in-memory, bounded bytecode cache for environments of one kind (see the module's docstring)."""

    def __init__(self, max_entries: int = 512, *, by_file: bool = True) -> None:
        self.max_entries = max_entries
        self.by_file = by_file
        self._code: OrderedDict[tuple[str, str], CodeType] = OrderedDict()
        self._lock = threading.Lock()

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        return super().get_cache_key(name, filename if self.by_file else None)

    def get_source_checksum(self, source: str) -> str:
        return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        with self._lock:
            code = self._code.get((bucket.key, bucket.checksum))
            if code is not None:
                self._code.move_to_end((bucket.key, bucket.checksum))
        if code is not None:
            bucket.code = code

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.code is None:
            return
        with self._lock:
            self._code[(bucket.key, bucket.checksum)] = bucket.code
            self._code.move_to_end((bucket.key, bucket.checksum))
            while len(self._code) > self.max_entries:
                self._code.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._code.clear()

    def __len__(self) -> int:
        return len(self._code)
