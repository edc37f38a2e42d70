"""Compiled Jinja templates kept in memory for the life of the process.

Every build makes new Jinja environments (one for the pages, one per MkDocs part for the theme), and
an environment compiles each template it loads: lexing, parsing and generating Python for the
site's fifty page templates took about 0.5 s of every build, more than rendering them. A process
that builds more than once (``modelgov serve`` after each change, a fleet's parts, the test suite)
paid it every time. A :class:`CompiledTemplates` given to each new environment as its bytecode cache
hands it the code compiled the first time.

Never on a disk as Jinja's own bytecode cache would keep it: a folder that the workspace's CI job
can write could hold code that a pull request planted, which Jinja would then run. While a build
renders with an analysis cache (:func:`persisted_in`), the code is also kept in that cache, as one
more authenticated entry: written with HMAC-SHA256 under the cache's key, which is never in the
workspace or the cache folder, and bound to its entry's key, so an entry that was planted, altered or
moved to another template's key is refused before it is read (and the template compiled again), as
a forged analysis result is. A process that builds once (every ``modelgov build``) then compiles
only the templates that changed since the last build: a quarter of a fleet's warm build was
Jinja's compiler. The entry's key names the template, its source's SHA-256, the environment's settings
(below), Python's bytecode format, the SHA-256 of modelgov's own source and the versions of the
libraries whose filters Jinja may run while it compiles (Jinja, the Markdown renderers, nh3, MkDocs
and Material). An entry here is code Jinja's own compiler produced, in this process or in an
earlier build under the same cache key. Whoever holds the cache's key could write an entry that
runs as Python in a later build, as they could write any result: docs/security.md says to keep the
key of the builds that publish apart from the key of builds any pull request can run.

In memory, an entry is filed under the template's name and file and the SHA-256 of its
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

import contextlib
import contextvars
import functools
import hashlib
import importlib.util
import marshal
import sys
import threading
from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from types import CodeType
from typing import TYPE_CHECKING

import jinja2
import jinja2.bccache
import numpy as np

if TYPE_CHECKING:
    from modelgov.cache import AnalysisCache

__all__ = ["CompiledTemplates", "persisted_in"]

#: The analysis cache the running build keeps compiled templates in (None: memory only). Set by
#: :func:`persisted_in` for the thread that renders, so builds in two threads never share one;
#: worker processes keep their code in memory.
_store: contextvars.ContextVar[AnalysisCache | None] = contextvars.ContextVar("compiled_templates_store", default=None)

#: The libraries whose filters and tests Jinja may run on literals while it compiles a template.
_COMPILING_LIBRARIES = (
    "jinja2",
    "markupsafe",
    "markdown-it-py",
    "mdit-py-plugins",
    "nh3",
    "markdown",
    "pymdown-extensions",
    "pygments",
    "mkdocs",
    "mkdocs-material",
    "properdocs",
)


@contextlib.contextmanager
def persisted_in(cache: AnalysisCache | None) -> Iterator[None]:
    """Keep templates compiled while the block runs in ``cache`` too, and read them from it."""
    token = _store.set(cache)
    try:
        yield
    finally:
        _store.reset(token)


@functools.cache
def _modelgov_source() -> str:
    """SHA-256 of modelgov's own Python source, read once per process: the filters Jinja runs while
    it compiles are modelgov's, and an installation edited in place keeps its version number."""
    import modelgov

    root = Path(modelgov.__file__).parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


class CompiledTemplates(jinja2.BytecodeCache):
    """An in-memory, bounded bytecode cache for environments of one kind (see the module's docstring)."""

    def __init__(self, max_entries: int = 512, *, by_file: bool = True) -> None:
        self.max_entries = max_entries
        self.by_file = by_file
        self._code: OrderedDict[tuple[str, str, tuple], CodeType] = OrderedDict()
        self._lock = threading.Lock()

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        return super().get_cache_key(name, filename if self.by_file else None)

    def get_bucket(
        self, environment: jinja2.Environment, name: str, filename: str | None, source: str
    ) -> jinja2.bccache.Bucket:
        """Jinja's own, with the template's name kept on the bucket for the build's messages."""
        bucket = jinja2.bccache.Bucket(
            environment, self.get_cache_key(name, filename), self.get_source_checksum(source)
        )
        bucket.template_name = name  # type: ignore[attr-defined]
        self.load_bytecode(bucket)
        return bucket

    def get_source_checksum(self, source: str) -> str:
        return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        entry = (bucket.key, bucket.checksum, _settings(bucket.environment))
        with self._lock:
            code = self._code.get(entry)
            if code is not None:
                self._code.move_to_end(entry)
        if (store := _store.get()) is not None:
            if code is None:
                code = _read_stored(store, entry, bucket)
                if code is not None:
                    self._remember(entry, code)
            elif not store.mark_used(_stored_key(entry)):
                # compiled by an earlier build of this process, which kept it in another cache or
                # none: this cache gets it too, as if this build had compiled it
                _store_code(store, entry, bucket, code)
        if code is not None:
            bucket.code = code

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        if bucket.code is None:
            return
        entry = (bucket.key, bucket.checksum, _settings(bucket.environment))
        self._remember(entry, bucket.code)
        if (store := _store.get()) is not None:
            _store_code(store, entry, bucket, bucket.code)

    def _remember(self, entry: tuple[str, str, tuple], code: CodeType) -> None:
        with self._lock:
            self._code[entry] = code
            self._code.move_to_end(entry)
            while len(self._code) > self.max_entries:
                self._code.popitem(last=False)

    def __len__(self) -> int:
        return len(self._code)


def _store_code(
    store: AnalysisCache, entry: tuple[str, str, tuple], bucket: jinja2.bccache.Bucket, code: CodeType
) -> None:
    store.put(_stored_key(entry), {"template": _label(bucket)}, {"code": _code_bytes(code)})


def _label(bucket: jinja2.bccache.Bucket) -> str:
    return f"the compiled template {getattr(bucket, 'template_name', '?')!r}"


def _stored_key(entry: tuple[str, str, tuple]) -> str:
    """The analysis-cache key of a compiled template: everything its code depends on (the module's
    docstring), with modelgov's version and the manifest schema that :func:`~modelgov.cache.cache_key`
    adds."""
    from modelgov.cache import cache_key, package_versions

    key, checksum, settings = entry
    return cache_key(
        {
            "compiled template": key,
            "source sha256": checksum,
            "environment": repr(settings),
            "python bytecode": f"{sys.implementation.cache_tag} {importlib.util.MAGIC_NUMBER.hex()}",
            "modelgov source": _modelgov_source(),
            "compiling libraries": package_versions(_COMPILING_LIBRARIES),
        }
    )


def _code_bytes(code: CodeType) -> np.ndarray:
    return np.frombuffer(marshal.dumps(code), dtype=np.uint8)


def _read_stored(store: AnalysisCache, entry: tuple[str, str, tuple], bucket: jinja2.bccache.Bucket) -> CodeType | None:
    """The code kept for ``entry`` in the analysis cache, once its MAC is verified; None otherwise."""
    key, label = _stored_key(entry), _label(bucket)
    found = store.get(key, label, counted=False)
    if found is None:
        return None
    _, arrays = found
    held = arrays.get("code")
    try:
        code = marshal.loads(held.tobytes()) if held is not None and held.dtype == np.uint8 and held.ndim == 1 else None
    except (ValueError, EOFError, TypeError):
        code = None
    if not isinstance(code, CodeType):
        store.reject(key, label, "it does not hold a template's compiled code", counted=False)
        return None
    return code


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
