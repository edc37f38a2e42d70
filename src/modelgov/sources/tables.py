"""Read the tables a workspace points at: CSV, Parquet and JSON Lines (optionally gzip-compressed).

Two operations, because they have different costs: :func:`read_columns` looks only at the header
(or Parquet schema) so that validation stays fast on large files, and :func:`read_table` loads the
columns an analysis needs. Every failure is a :class:`TableError` whose message a user can act on.

A table is hostile input, and a small one can be large in memory: one field of a CSV can hold 500 MB,
a gzip'd CSV or a Parquet column can expand a thousandfold. So before a table is loaded its size in
memory is bounded without loading it: text tables are streamed once in chunks to find their longest
record (:data:`MAX_FIELD_BYTES`) and, compressed, their expanded size (:data:`MAX_EXPANDED_BYTES`);
Parquet columns are bounded by their footer and, because dictionary encoding can repeat one large
value a million times without the footer showing it, by the decoded size of each batch as it is read.
"""

from __future__ import annotations

import csv
import fnmatch
import gzip
import io
import itertools
import json
import os
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from modelgov.workspace.paths import NUL_REFUSAL, refusal

if TYPE_CHECKING:
    import pandas as pd

# pandas and pyarrow.compute are imported where a table is loaded: reading a header (all that
# validation and a cached build do) needs neither, and they take longer to import than the rest.

#: Suffixes recognised, mapped to a format name.
FORMATS = {
    ".csv": "csv",
    ".csv.gz": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".jsonl.gz": "jsonl",
    ".ndjson": "jsonl",
    ".ndjson.gz": "jsonl",
}

#: JSON Lines has no header; its columns are the union of the keys of this many leading records.
JSONL_SCAN_RECORDS = 1000

#: Longest record of a text table — a CSV row, quoted line breaks included, or a JSON Lines line —
#: and so the longest field; and the longest value of a Parquet column. Evaluation data is numbers
#: and short labels; a field this long is a memory bomb, not evidence.
MAX_FIELD_BYTES = 16 * 2**20

#: Largest expanded size of a compressed table: the decompressed text of a ``.gz`` table, or the
#: decoded size of the Parquet columns read (20 million rows of a dozen numeric columns fit).
MAX_EXPANDED_BYTES = 2 * 2**30

#: Rows decoded at a time from a Parquet file, so a dictionary-encoded bomb is caught after one batch.
_PARQUET_BATCH = 65_536


class TableError(Exception):
    """A table could not be read; the message names what is wrong (the caller adds the file)."""


def table_format(path: Path) -> str:
    name = path.name.lower()
    for suffix, fmt in sorted(FORMATS.items(), key=lambda item: -len(item[0])):
        if name.endswith(suffix):
            return fmt
    known = ", ".join(sorted(FORMATS))
    raise TableError(f"unsupported table format {path.name!r}; use one of {known}")


def _open_text(path: Path) -> io.TextIOBase:
    if path.name.lower().endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _bounded_lines(handle: io.TextIOBase) -> Iterator[str]:
    """The lines of ``handle``, refusing one longer than :data:`MAX_FIELD_BYTES` after reading at most
    that much of it (``for line in handle`` would read a 500 MB line whole)."""
    while line := handle.readline(MAX_FIELD_BYTES + 1):
        if len(line) > MAX_FIELD_BYTES:
            raise TableError(f"a line is longer than {MAX_FIELD_BYTES:,} bytes, the limit for one record of a table")
        yield line


def check_text_bounds(path: Path) -> None:
    """Refuse a CSV or JSON Lines table with a record longer than :data:`MAX_FIELD_BYTES`, or, when
    gzip'd, an expanded size over :data:`MAX_EXPANDED_BYTES` — streaming the file once in 1 MiB
    chunks, so the check itself needs no more memory than that, however the file is built.

    A record ends at a line break outside quotes: the quotes seen so far are counted, and ``""``
    inside a quoted field adds two, so the count's parity says whether a line break is inside a
    field. Reading stops at the first record over the limit."""
    fmt = table_format(path)
    if fmt == "parquet":
        return
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key in _checked:
        return
    compressed = path.name.lower().endswith(".gz")
    quoted = fmt == "csv"
    try:
        opener = gzip.open if compressed else open
        with opener(path, "rb") as handle:
            total = 0
            record = 0  # bytes of the record in progress
            odd = False  # inside a quoted CSV field
            while chunk := handle.read(1 << 20):
                total += len(chunk)
                if compressed and total > MAX_EXPANDED_BYTES:
                    raise TableError(
                        f"the table expands to more than {MAX_EXPANDED_BYTES:,} bytes when decompressed "
                        f"({path.stat().st_size:,} bytes on disk); compressed tables are limited by their expanded size"
                    )
                data = np.frombuffer(chunk, dtype=np.uint8)
                breaks = np.flatnonzero(data == 10)
                marks = (data == 34) if quoted else None
                if marks is not None and (odd or marks.any()):  # no quote in or around it: every break ends a record
                    quotes = np.cumsum(marks, dtype=np.int64)
                    breaks = breaks[(quotes[breaks] + odd) % 2 == 0]
                    odd = bool((int(quotes[-1]) + odd) % 2)
                if len(breaks) == 0:
                    longest = record = record + len(chunk)
                else:  # the record in progress ends at the first break; whole records lie between breaks
                    longest = max(record + int(breaks[0]) + 1, int(np.diff(breaks).max(initial=0)))
                    record = len(chunk) - int(breaks[-1]) - 1
                if max(longest, record) > MAX_FIELD_BYTES:
                    raise TableError(
                        f"a record (row) of the table is longer than {MAX_FIELD_BYTES:,} bytes, the limit for one "
                        "row and so for one field; a table holds evidence, not documents"
                    )
    except (OSError, EOFError, zlib.error) as exc:
        raise TableError(f"cannot read table: {exc}") from None
    _checked.add(key)


#: Text tables already checked in this process (path, size, modification time): the reference is
#: read one column at a time, and each column need not stream the file again.
_checked: set[tuple[str, int, int]] = set()


def _read_parquet(path: Path, columns: list[str]) -> pd.DataFrame:
    """Load ``columns`` of a Parquet file within :data:`MAX_FIELD_BYTES` per value and
    :data:`MAX_EXPANDED_BYTES` in all.

    The footer is checked first, nothing read: each column chunk's uncompressed size, or, for values
    of a fixed width, their count times that width (a plain page that decompresses to gigabytes, or
    a dictionary-encoded column of wide fixed-size values, is refused unread). Every string and
    binary column — at any depth, and whatever type the file's stored Arrow schema gives it (plain,
    large, view or dictionary) — is then read as a dictionary, batch by batch, and each batch's
    decoded size is computed from the dictionary's value lengths before anything is decoded: one
    1 MB value referenced by every row is a few bytes in the file and the footer, and gigabytes as a
    column."""
    handle = pq.ParquetFile(path)
    schema = handle.schema_arrow
    missing = [c for c in columns if c not in schema.names]
    if missing:
        raise TableError(f"missing column(s) {', '.join(map(repr, missing))}")
    meta = handle.metadata
    leaves = _leaves_read(handle.reader.column_paths, columns)
    declared: dict[str, int] = dict.fromkeys(columns, 0)
    for group in range(meta.num_row_groups):
        row_group = meta.row_group(group)
        for leaf, name in leaves:
            chunk = row_group.column(leaf)
            fixed = chunk.num_values * _fixed_bits(meta.schema.column(leaf)) // 8
            declared[name] += max(chunk.total_uncompressed_size, fixed)
    for leaf, name in leaves:
        width = _fixed_bits(meta.schema.column(leaf)) // 8
        if width > MAX_FIELD_BYTES:
            raise TableError(
                f"column {name!r} holds values of {width:,} bytes each, more than the {MAX_FIELD_BYTES:,} "
                "allowed for one field"
            )
    if sum(declared.values()) > MAX_EXPANDED_BYTES:
        raise TableError(
            f"the columns read expand to {sum(declared.values()):,} bytes (the file's footer; {_largest(declared)}), "
            f"more than the {MAX_EXPANDED_BYTES:,} allowed for a table in memory"
        )
    texts = [leaf for leaf, _ in leaves if meta.schema.column(leaf).physical_type == "BYTE_ARRAY"]
    reader = pq.ParquetFile(path, read_dictionary=texts) if texts else handle
    batches = []
    decoded: dict[str, int] = {}
    for batch in _batches(reader, columns):
        for name in batch.schema.names:
            size, longest = _decoded_size(batch.column(name))
            if longest > MAX_FIELD_BYTES:
                raise TableError(
                    f"column {name!r} holds a value of {longest:,} bytes, more than the {MAX_FIELD_BYTES:,} "
                    "allowed for one field"
                )
            decoded[name] = decoded.get(name, 0) + size
        if sum(decoded.values()) > MAX_EXPANDED_BYTES:
            raise TableError(
                f"the columns read expand to more than {MAX_EXPANDED_BYTES:,} bytes in memory ({_largest(decoded)}; "
                "a small file can repeat one large value on every row); compressed tables are limited by their "
                "expanded size"
            )
        batches.append(_as_declared(batch, pa.schema([schema.field(n) for n in batch.schema.names])))
    table = pa.Table.from_batches(batches, schema=pa.schema([schema.field(c) for c in columns]))
    return table.to_pandas()


def _largest(sizes: dict[str, int]) -> str:
    """The largest column of ``sizes`` and its size, for a message: the one to look at."""
    name = max(sizes, key=lambda column: sizes[column])
    return f"column {name!r}: {sizes[name]:,}"


def _batches(reader: pq.ParquetFile, columns: list[str]) -> Iterator[pa.RecordBatch]:
    """The file's rows, :data:`_PARQUET_BATCH` at a time, one row group at a time: each row group has
    its own dictionaries, and pyarrow cannot put two of them in one batch of a nested column."""
    for group in range(reader.metadata.num_row_groups):
        yield from reader.iter_batches(
            batch_size=_PARQUET_BATCH, row_groups=[group], columns=columns, use_pandas_metadata=False
        )


def _as_declared(batch: pa.RecordBatch, declared: pa.Schema) -> pa.RecordBatch:
    """``batch`` with the types the file declares, its dictionaries decoded (once sized). Arrow cannot
    cast a dictionary straight to a string or binary view, so views are reached through the large types."""
    if batch.schema == declared:
        return batch
    unviewed = pa.schema([field.with_type(_unviewed(field.type)) for field in declared])
    if unviewed != declared:
        batch = batch.cast(unviewed)
    return batch.cast(declared)


def _unviewed(kind: pa.DataType) -> pa.DataType:
    """``kind`` with every string or binary view, at any depth, replaced by the large string or binary."""
    if pa.types.is_string_view(kind):
        return pa.large_string()
    if pa.types.is_binary_view(kind):
        return pa.large_binary()
    if pa.types.is_struct(kind):
        return pa.struct([field.with_type(_unviewed(field.type)) for field in kind])
    if pa.types.is_map(kind):
        return pa.map_(
            kind.key_field.with_type(_unviewed(kind.key_type)),
            kind.item_field.with_type(_unviewed(kind.item_type)),
            keys_sorted=kind.keys_sorted,
        )
    lists = {
        pa.types.is_list: pa.list_,
        pa.types.is_large_list: pa.large_list,
        pa.types.is_list_view: pa.list_view,
        pa.types.is_large_list_view: pa.large_list_view,
    }
    for check, make in lists.items():
        if check(kind):
            return make(kind.value_field.with_type(_unviewed(kind.value_type)))
    if pa.types.is_fixed_size_list(kind):
        return pa.list_(kind.value_field.with_type(_unviewed(kind.value_type)), kind.list_size)
    return kind


def _leaves_read(paths: list[list[str]], columns: list[str]) -> list[tuple[int, str]]:
    """The leaf columns (index, name of the column read) that pyarrow reads for ``columns``: every
    leaf whose path, its parts joined by ``.``, starts with a name asked for (pyarrow's own rule, so
    ``a.b`` reads a top-level column ``a.b`` and the field ``b`` of a struct ``a`` alike)."""
    wanted = set(columns)
    found = []
    for index, parts in enumerate(paths):
        prefixes = (".".join(parts[:end]) for end in range(1, len(parts) + 1))
        name = next((prefix for prefix in prefixes if prefix in wanted), None)
        if name is not None:
            found.append((index, name))
    return found


#: Bits one value of each fixed-width Parquet physical type takes once decoded into Arrow.
_PHYSICAL_BITS = {"BOOLEAN": 1, "INT32": 32, "INT64": 64, "INT96": 64, "FLOAT": 32, "DOUBLE": 64}


def _fixed_bits(column: pq.ColumnSchema) -> int:
    """Bits one decoded value of a leaf column takes when its physical type has a fixed width (a
    ``FIXED_LEN_BYTE_ARRAY`` its declared length); 0 for strings and binaries, sized as they are read."""
    if column.physical_type == "FIXED_LEN_BYTE_ARRAY":
        return 8 * max(column.length, 0)
    return _PHYSICAL_BITS.get(column.physical_type, 0)


#: The list-like types, whose values are one child array.
_LISTS = (
    pa.types.is_list,
    pa.types.is_large_list,
    pa.types.is_fixed_size_list,
    pa.types.is_list_view,
    pa.types.is_large_list_view,
    pa.types.is_map,
)


def _decoded_size(array: pa.Array) -> tuple[int, int]:
    """The bytes ``array`` takes once every dictionary in it (at any depth) is decoded, and its
    longest string or binary value — from the dictionaries' value lengths taken by their indices,
    so nothing is decoded to find out."""
    import pyarrow.compute as pc

    kind = array.type
    if pa.types.is_dictionary(kind):
        if _is_bytes_like(kind.value_type):
            lengths = pc.take(pc.binary_length(array.dictionary).fill_null(0), array.indices).fill_null(0)
            return int(pc.sum(lengths).as_py() or 0) + 8 * len(array), int(pc.max(lengths).as_py() or 0)
        try:
            bits = kind.value_type.bit_width
        except ValueError:  # a dictionary of lists or structs: no Parquet reader makes one
            raise TableError(f"dictionary-encoded values of type {kind.value_type} are not read") from None
        return bits * len(array) // 8, bits // 8
    if pa.types.is_struct(kind) or pa.types.is_union(kind):
        parts = [_decoded_size(array.field(i)) for i in range(kind.num_fields)]
        return sum(size for size, _ in parts) + len(array), max((longest for _, longest in parts), default=0)
    if any(check(kind) for check in _LISTS):
        size, longest = _decoded_size(array.values)  # every value held, referenced or not
        return size + 8 * (len(array) + 1), longest
    if isinstance(array, pa.ExtensionArray):
        return _decoded_size(array.storage)
    if _is_bytes_like(kind):  # a view array's values may share one buffer: count each row's own
        lengths = pc.binary_length(array).fill_null(0)
        return int(pc.sum(lengths).as_py() or 0) + 8 * len(array), int(pc.max(lengths).as_py() or 0)
    if pa.types.is_fixed_size_binary(kind):
        return array.nbytes, kind.byte_width
    return array.nbytes, 0


def read_columns(path: Path) -> list[str]:
    """Column names of a table without loading its rows."""
    fmt = table_format(path)
    try:
        if fmt == "parquet":
            return list(pq.read_schema(path).names)
        with _open_text(path) as handle:
            if fmt == "csv":
                header = next(csv.reader(_bounded_lines(handle)), None)
                if not header:
                    raise TableError("the table is empty (no header row)")
                return header
            columns: dict[str, None] = {}
            for number, line in enumerate(itertools.islice(_bounded_lines(handle), JSONL_SCAN_RECORDS), start=1):
                if not line.strip():
                    continue
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise TableError(f"record {number} is not a JSON object")
                columns.update(dict.fromkeys(record))
            if not columns:
                raise TableError("the table is empty (no records)")
            return list(columns)
    except TableError:
        raise
    except json.JSONDecodeError as exc:
        raise TableError(f"invalid JSON on line {exc.lineno}: {exc.msg}") from None
    except UnicodeDecodeError:
        raise TableError("not valid UTF-8 text") from None
    except (OSError, pa.ArrowException, csv.Error, EOFError) as exc:
        raise TableError(f"cannot read table: {exc}") from None


def read_table(path: Path, columns: list[str]) -> pd.DataFrame:
    """Load ``columns`` of a table (in that order) into a DataFrame."""
    fmt = table_format(path)
    wanted = list(dict.fromkeys(columns))
    try:
        if fmt == "parquet":
            frame = _read_parquet(path, wanted)
        elif fmt == "csv":
            import pandas as pd

            check_text_bounds(path)
            frame = pd.read_csv(path, usecols=wanted, encoding="utf-8-sig")
        else:
            check_text_bounds(path)
            frame = _read_jsonl(path, wanted)
    except TableError:
        raise
    except json.JSONDecodeError as exc:
        raise TableError(f"invalid JSON on line {exc.lineno}: {exc.msg}") from None
    except (OSError, ValueError, pa.ArrowException, EOFError, zlib.error) as exc:
        raise TableError(f"cannot read table: {exc}") from None
    return frame.reset_index(drop=True)


def rows_at_most(path: Path, limit: int) -> int | None:
    """The table's row count when it may exceed ``limit``, else None — without loading the table.

    Parquet keeps the count in its footer. A text table has at most one row per line; a file whose
    size alone shows it cannot hold more than ``limit`` lines is not read at all, others are counted
    in binary chunks (quoted line breaks can make this an overestimate, never an underestimate)."""
    fmt = table_format(path)
    try:
        if fmt == "parquet":
            rows = pq.ParquetFile(path).metadata.num_rows
            return rows if rows > limit else None
        compressed = path.name.lower().endswith(".gz")
        if not compressed and path.stat().st_size <= 2 * limit:  # a row is at least one byte and a newline
            return None
        opener = gzip.open if compressed else open
        lines = 0
        with opener(path, "rb") as handle:
            while chunk := handle.read(1 << 20):
                lines += chunk.count(b"\n")
        rows = lines - 1 if fmt == "csv" else lines  # the CSV header is not a row
        return rows if rows > limit else None
    except (OSError, EOFError, pa.ArrowException) as exc:
        raise TableError(f"cannot read table: {exc}") from None


def _is_bytes_like(kind: pa.DataType) -> bool:
    """String and binary types (plain, large or view): the ones whose values have no fixed size."""
    return any(
        check(kind)
        for check in (
            pa.types.is_string,
            pa.types.is_large_string,
            pa.types.is_string_view,
            pa.types.is_binary,
            pa.types.is_large_binary,
            pa.types.is_binary_view,
        )
    )


def _read_jsonl(path: Path, columns: list[str]) -> pd.DataFrame:
    """JSON Lines with values kept as JSON typed them (no date or dtype guessing); a key absent
    from a record is a missing value, a key absent from every record is an error."""
    values: dict[str, list[object]] = {column: [] for column in columns}
    seen: set[str] = set()
    with _open_text(path) as handle:
        for number, line in enumerate(_bounded_lines(handle), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise TableError(f"invalid JSON on line {number}: {exc.msg}") from None
            if not isinstance(record, dict):
                raise TableError(f"record on line {number} is not a JSON object")
            seen.update(record)
            for column in columns:
                values[column].append(record.get(column))
    missing = [c for c in columns if c not in seen]
    if missing:
        raise TableError(f"missing column(s) {', '.join(map(repr, missing))}")
    import pandas as pd

    return pd.DataFrame(values)


_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_uri(text: str) -> bool:
    """``s3a://b/x`` and ``file:///x`` are URIs (read by the Spark engine where they are); workspace
    paths such as ``logs/*.parquet`` are not."""
    return bool(_URI.match(text))


#: The most folder entries one workspace glob may look at (each folder it lists counts one, and one per
#: entry in it). pathlib's glob follows links to folders, so two links back up the tree (``a -> .``,
#: ``b -> .``) doubled the folders ``*/*/…/x`` reads at every level, whether or not anything matched,
#: and links that fan out without a loop (a hundred links to one folder, a hundred in it to the next)
#: multiply the paths it matches; a glob that would look at more is refused, naming it.
MAX_GLOB_ENTRIES = 2_000_000


class GlobTooBroad(Exception):
    """A workspace glob would look at more than :data:`MAX_GLOB_ENTRIES` folder entries."""

    def __init__(self, pattern: str):
        super().__init__(
            f"{pattern!r} reaches more than {MAX_GLOB_ENTRIES:,} paths (links to folders that lead back up the "
            "tree, or fan out?); name the files more narrowly"
        )


def bounded_glob(root: Path, pattern: str) -> list[Path]:
    """The paths under ``root`` that ``pattern`` matches, as ``root.glob(pattern)`` finds them (``*``,
    ``?`` and ``[…]`` within a name, hidden names included; ``**`` for any depth of folders, not through
    links), except that a link to a folder the walk is already inside (``a -> .``) is not followed
    again, and that looking at more than :data:`MAX_GLOB_ENTRIES` entries is :class:`GlobTooBroad`. An
    invalid pattern is a ``ValueError``, an absolute one ``NotImplementedError``, as pathlib's."""
    if pattern.startswith("/"):
        raise NotImplementedError("Non-relative patterns are unsupported")
    parts = [part for part in pattern.split("/") if part not in ("", ".")]
    if not parts:
        raise ValueError(f"Unacceptable pattern: {pattern!r}")
    if any("**" in part and part != "**" for part in parts):
        raise ValueError("Invalid pattern: '**' can only be an entire path component")
    found: list[Path] = []
    budget = [MAX_GLOB_ENTRIES]

    def spend(count: int) -> None:
        budget[0] -= count
        if budget[0] < 0:
            raise GlobTooBroad(pattern)

    def entries(folder: Path) -> list[os.DirEntry[str]]:
        spend(1)
        try:
            with os.scandir(folder) as listing:
                listed = sorted(listing, key=lambda entry: entry.name)
        except OSError:
            return []
        spend(len(listed))
        return listed

    # a stack, not recursion: a pull request can nest folders deeper than Python's recursion limit.
    # Each item carries its folder's real path, so that only a link costs a realpath (which reads every
    # part of the path: done for every folder, a deep tree took time growing with its depth squared).
    root_real = os.path.realpath(root)
    stack: list[tuple[Path, str, int, frozenset[str]]] = [(root, root_real, 0, frozenset({root_real}))]

    def descend(folder: Path, real: str, name: str, link: bool, index: int, inside: frozenset[str]) -> None:
        """Walk into ``folder/name`` unless it is (a link to) a folder the walk is already inside: a loop."""
        child = folder / name
        child_real = os.path.realpath(child) if link else os.path.join(real, name)
        if child_real not in inside:
            stack.append((child, child_real, index, inside | {child_real}))

    while stack:
        folder, real, index, inside = stack.pop()
        part, last = parts[index], index == len(parts) - 1
        if part == "**":
            if last:  # as pathlib: a trailing ** names the folders
                found.append(folder)
            else:
                stack.append((folder, real, index + 1, inside))
            for entry in entries(folder):
                if entry.is_dir(follow_symlinks=False):  # ** never goes through a link
                    descend(folder, real, entry.name, False, index, inside)
        elif not any(char in part for char in "*?["):
            spend(1)
            child = folder / part
            if last:
                if os.path.lexists(child):
                    found.append(child)
            elif child.is_dir():
                descend(folder, real, part, child.is_symlink() or part == "..", index + 1, inside)
        else:
            for entry in entries(folder):
                if fnmatch.fnmatchcase(entry.name, part):
                    if last:
                        found.append(folder / entry.name)
                    elif entry.is_dir():
                        descend(folder, real, entry.name, entry.is_symlink(), index + 1, inside)
    return list(dict.fromkeys(found))


def expand_table_paths(root: Path, pattern: str) -> list[str]:
    """The table files a workspace path names, relative to ``root``: one file, every matching file of
    a glob (``logs/*.parquet``, ``logs/**/*.csv.gz``), or every table file under a folder (e.g. a
    hive-partitioned ``logs/date=2026-08-03/part-0.parquet`` layout). Sorted. A match that leads
    outside ``root`` (a symbolic link) or is a FIFO, device or socket is a :class:`TableError` naming
    it — not skipped, which would silently drop records from the log; so is an invalid glob, and a
    pattern holding a NUL character."""
    if "\x00" in pattern:  # the operating system's calls raise on it, and a glob would silently match nothing
        raise TableError(f"{pattern!r} {NUL_REFUSAL}")
    root = root.resolve()
    if any(char in pattern for char in "*?["):
        try:
            candidates = bounded_glob(root, pattern)
        except GlobTooBroad as exc:
            raise TableError(str(exc)) from None
        except (ValueError, NotImplementedError) as exc:  # e.g. "**.csv": '**' must be a whole path component
            raise TableError(f"{pattern!r} is not a valid glob pattern: {exc}") from None
    else:
        target = root / pattern
        candidates = sorted(target.rglob("*")) if target.is_dir() else [target]
    found = []
    for candidate in candidates:
        try:
            table_format(candidate)
        except TableError:
            continue
        reason = refusal(root, candidate)
        if reason is not None:
            raise TableError(f"{candidate.relative_to(root).as_posix()} {reason}")
        if candidate.is_file():
            found.append(candidate.relative_to(root).as_posix())
    return sorted(found)
