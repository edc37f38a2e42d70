"""Read a YAML file into plain data *and* a map from key paths to line numbers.

Pydantic reports errors by location (``("evaluations", 0, "label")``); users need
``models/credit/versions/1.0/version.yml:14``. PyYAML's node marks carry the lines, so the file is
composed once into nodes, walked to record where every key sits, then constructed with the safe
constructor. Duplicate keys, which PyYAML would silently collapse (losing what the user wrote), are
reported as problems.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from modelgov.errors import Problem

#: YAML files larger than this are refused: workspace YAML is hand-written metadata, not data.
MAX_YAML_BYTES = 2_000_000

#: Aliases let a small file expand into a huge structure ("billion laughs"); the expanded size is capped.
MAX_YAML_NODES = 200_000

#: Workspace files nest a few levels; a document nested deeper than this is refused before the
#: (recursive) composer can exhaust the interpreter's stack.
MAX_YAML_DEPTH = 100


class _Refused(Exception):
    """The document is unsafe to expand; the message says why."""


Loc = tuple[str | int, ...]


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader with a nesting limit (its composer recurses once per level) and a limit
    on the values and keys written, checked as they are read: a 2 MB list of a million values took
    22 s to read in full before the expanded size was checked, 4.5 s to refuse now."""

    def __init__(self, stream: str):
        super().__init__(stream)
        self._depth = 0
        self._values = 0

    def compose_node(self, parent, index):  # type: ignore[no-untyped-def]
        self._depth += 1
        self._values += 1
        try:
            if self._values > MAX_YAML_NODES:
                mark = self.peek_event().start_mark
                raise _Refused(
                    f"YAML holds more than {MAX_YAML_NODES:,} values and keys (line {mark.line + 1}); refusing to read it"
                )
            if self._depth > MAX_YAML_DEPTH:
                mark = self.peek_event().start_mark
                raise _Refused(
                    f"values are nested more than {MAX_YAML_DEPTH} levels deep (line {mark.line + 1}); refusing to read it"
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


@dataclass
class YamlDocument:
    """A parsed YAML file: its data, where each key path starts, and problems found while reading."""

    file: str
    data: Any
    lines: dict[Loc, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    #: The bytes ``data`` was parsed from (what a sign-off's digest of version.yml is taken from).
    raw: bytes = field(default=b"", repr=False)

    def line_of(self, loc: Loc) -> int | None:
        """Line of the deepest existing prefix of ``loc`` (a missing key points at its parent)."""
        for end in range(len(loc), -1, -1):
            line = self.lines.get(tuple(loc[:end]))
            if line is not None:
                return line
        return None

    def problem(self, loc: Loc, message: str) -> Problem:
        return Problem(self.file, self.line_of(loc), format_loc(loc), message)


def format_loc(loc: Loc) -> str:
    """``("evaluations", 0, "label")`` → ``evaluations[0].label``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def read_yaml(path: Path, display: str) -> YamlDocument:
    """Read and parse ``path``; ``display`` is the workspace-relative name used in messages."""
    doc = YamlDocument(display, None)
    try:
        size = path.stat().st_size
        if size > MAX_YAML_BYTES:  # before reading it
            doc.problems.append(_too_large(display, size))
            return doc
        raw = path.read_bytes()
    except OSError as exc:
        doc.problems.append(Problem(display, None, "", f"cannot read file: {exc.strerror or exc}"))
        return doc
    return parse_yaml(raw, display)


def _too_large(display: str, size: int) -> Problem:
    return Problem(display, None, "", f"file is {size:,} bytes; YAML files are limited to {MAX_YAML_BYTES:,}")


def parse_yaml(raw: bytes, display: str) -> YamlDocument:
    """Parse the bytes of a YAML file of at most :data:`MAX_YAML_BYTES`; ``display`` as for :func:`read_yaml`."""
    doc = YamlDocument(display, None, raw=raw)
    if len(raw) > MAX_YAML_BYTES:
        doc.problems.append(_too_large(display, len(raw)))
        return doc
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        doc.problems.append(Problem(display, None, "", f"not valid UTF-8 (byte {exc.start}); save the file as UTF-8"))
        return doc

    try:
        loader = _BoundedLoader(text)  # the reader refuses control characters here
    except yaml.YAMLError as exc:
        doc.problems.append(Problem(display, None, "", f"invalid YAML: {exc}".splitlines()[0]))
        return doc
    try:
        node = loader.get_single_node()
        if node is not None:
            _walk(node, (), doc, set(), [0])
            doc.data = loader.construct_document(node)
    except _Refused as exc:
        doc.problems.append(Problem(display, None, "", str(exc)))
        doc.data = None
    except RecursionError:  # a backstop: the limits above are meant to refuse such a file first
        doc.problems.append(Problem(display, None, "", "values are nested too deeply to read; refusing to read it"))
        doc.data = None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        reason = " ".join(filter(None, [exc.context, exc.problem]))
        doc.problems.append(Problem(display, line, "", f"invalid YAML: {reason}"))
        doc.data = None
    except yaml.YAMLError as exc:
        doc.problems.append(Problem(display, None, "", f"invalid YAML: {exc}"))
        doc.data = None
    except (ValueError, TypeError, IndexError, KeyError, AttributeError, OverflowError) as exc:
        # PyYAML's constructors raise these on values that parse but cannot be built
        # (a date in year 0, an empty `!!int` or `!!bool`, a `!!timestamp` that is not a date)
        doc.problems.append(Problem(display, None, "", f"invalid YAML: a value cannot be read ({exc})"))
        doc.data = None
    finally:
        loader.dispose()
    return doc


#: A double-quoted YAML string can write a UTF-16 surrogate on its own (`"\\ud800"`): it is no
#: character, cannot be written as UTF-8, and would fail the build when the manifest is written.
SURROGATE = (
    "holds a lone UTF-16 surrogate (an escape such as \\ud800), which is not a character; write the "
    "character itself, or both halves of the pair as one escape (\\U0001F600)"
)


#: `!!binary` gives bytes, which no page can show and JSON cannot hold (bytes that are not UTF-8 would
#: fail the build when the manifest is written).
BINARY_TAG = "tag:yaml.org,2002:binary"
INT_TAG = "tag:yaml.org,2002:int"
#: Longest integer a workspace file may write, in characters. PyYAML builds any integer, but Python
#: cannot write one of more than 4,300 digits as text (JSON, a page, a digest), and no value in a
#: workspace needs a thousand.
MAX_INTEGER_CHARS = 1_000
HUGE_INTEGER = (
    f"is an integer of more than {MAX_INTEGER_CHARS:,} characters, which cannot be written on a page or kept in "
    "the manifest; write it as text, in quotes"
)
BINARY = "is a binary value (`!!binary`), which cannot be shown on a page or kept in the manifest; write it as text"


def _has_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _walk(node: yaml.Node, loc: Loc, doc: YamlDocument, ancestors: set[int], visited: list[int]) -> None:
    """Record key lines; refuse recursive aliases and documents that expand past MAX_YAML_NODES."""
    visited[0] += 1
    if visited[0] > MAX_YAML_NODES:
        raise _Refused(f"YAML expands to more than {MAX_YAML_NODES:,} values (through aliases); refusing to read it")
    if id(node) in ancestors:
        raise _Refused(f"recursive YAML alias at line {node.start_mark.line + 1}; a value cannot contain itself")
    if len(ancestors) >= MAX_YAML_DEPTH:  # the composer's limit counts each alias once; this counts what it stands for
        raise _Refused(
            f"values are nested more than {MAX_YAML_DEPTH} levels deep once aliases are expanded "
            f"(line {node.start_mark.line + 1}); refusing to read it"
        )
    doc.lines.setdefault(loc, node.start_mark.line + 1)
    if isinstance(node, yaml.ScalarNode) and _has_surrogate(node.value):
        doc.problems.append(Problem(doc.file, node.start_mark.line + 1, format_loc(loc), SURROGATE))
    if node.tag == BINARY_TAG:
        doc.problems.append(Problem(doc.file, node.start_mark.line + 1, format_loc(loc), BINARY))
    if node.tag == INT_TAG and isinstance(node, yaml.ScalarNode) and len(node.value) > MAX_INTEGER_CHARS:
        doc.problems.append(Problem(doc.file, node.start_mark.line + 1, format_loc(loc), HUGE_INTEGER))
    if isinstance(node, yaml.MappingNode):
        ancestors = ancestors | {id(node)}
        seen: dict[str, int] = {}
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if not isinstance(key_node, yaml.ScalarNode):  # never turned into text: that expands its aliases
                raise _Refused(f"the key at line {line} is a list or a mapping; a key is written as plain text")
            key = key_node.value
            if _has_surrogate(key):
                doc.problems.append(Problem(doc.file, line, format_loc(loc), f"a key {SURROGATE}"))
                continue
            if key_node.tag == BINARY_TAG:  # bytes as a key: silently text when UTF-8, an odd error when not
                doc.problems.append(Problem(doc.file, line, format_loc(loc), f"a key {BINARY}"))
                continue
            if key_node.tag == INT_TAG and len(key) > MAX_INTEGER_CHARS:
                doc.problems.append(Problem(doc.file, line, format_loc(loc), f"a key {HUGE_INTEGER}"))
                continue
            if key in seen:
                doc.problems.append(
                    Problem(
                        doc.file,
                        line,
                        format_loc((*loc, key)),
                        f"duplicate key (first written on line {seen[key]}); only one value can be kept",
                    )
                )
                continue
            seen[key] = line
            child = (*loc, key)
            doc.lines[child] = line
            _walk(value_node, child, doc, ancestors, visited)
    elif isinstance(node, yaml.SequenceNode):
        ancestors = ancestors | {id(node)}
        for index, item in enumerate(node.value):
            _walk(item, (*loc, index), doc, ancestors, visited)
