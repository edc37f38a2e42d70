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
source, so a template whose text changed is compiled again. The code also depends on the
environment that compiled it: its settings (``trim_blocks``, the extensions), its filters and tests
(which Jinja may run on literals while it compiles), and its class (Jinja works out constant
expressions with that environment's attribute checks, so code compiled outside the sandbox must
never reach a sandboxed environment). One instance therefore serves the environments of one
factory, which all have the same filters, tests and settings (``page_renderer.environment``, the
theme's ``get_env``); as a guard besides, each entry is also filed under the class, the sandbox, the
syntax and whitespace options and the other compile settings of the environment (:func:`_settings`),
which are compared by name, not identity. The number of entries is bounded, the oldest used dropped
first.

Jinja also runs a filter on a literal argument while it compiles (``{{ "x"|f }}`` becomes the text
of ``f("x")``), unless the filter takes the render context. A filter whose output depends on the
build must therefore take the context (``pass_context``), or the first build's output would be
handed to every later one (see the ``finding`` filter in :mod:`.page_renderer`).

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
        self._code: OrderedDict[tuple[str, str, tuple], CodeType] = OrderedDict()
        self._lock = threading.Lock()

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        return super().get_cache_key(name, filename if self.by_file else None)

    def get_source_checksum(self, source: str) -> str:
        return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        entry = (bucket.key, bucket.checksum, _settings(bucket.environment))
        with self._lock:
            code = self._code.get(entry)
            if code is not None:
                self._code.move_to_end(entry)
        if code is not None:
            bucket.code = code

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.code is None:
            return
        entry = (bucket.key, bucket.checksum, _settings(bucket.environment))
        with self._lock:
            self._code[entry] = bucket.code
            self._code.move_to_end(entry)
            while len(self._code) > self.max_entries:
                self._code.popitem(last=False)

    def __len__(self) -> int:
        return len(self._code)


def _name_of(value: object) -> object:
    """A setting as it can be compared: plain values as they are, a function or class by its name."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', type(value).__qualname__)}"


def _settings(environment: jinja2.Environment) -> tuple:
    """What the code Jinja compiles depends on besides the source: the environment's class (the
    sandbox checks attributes while constant expressions are worked out), its syntax and whitespace
    options, its extensions, and how it escapes, finalises and optimises."""
    return (
        _name_of(type(environment)),
        environment.sandboxed,
        environment.block_start_string,
        environment.block_end_string,
        environment.variable_start_string,
        environment.variable_end_string,
        environment.comment_start_string,
        environment.comment_end_string,
        environment.line_statement_prefix,
        environment.line_comment_prefix,
        environment.trim_blocks,
        environment.lstrip_blocks,
        environment.newline_sequence,
        environment.keep_trailing_newline,
        tuple(sorted(environment.extensions)),
        _name_of(environment.autoescape),
        _name_of(environment.finalize),
        _name_of(environment.undefined),
        environment.optimized,
        environment.is_async,
    )
