"""Read the tables a workspace points at: CSV, Parquet and JSON Lines (optionally gzip-compressed).

Two operations, because they have different costs: :func:`read_columns` looks only at the header
(or Parquet schema) so that validation stays fast on large files, and :func:`read_table` loads the
columns an analysis needs. Every failure is a :class:`TableError` whose message a user can act on.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import re
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

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


def read_columns(path: Path) -> list[str]:
    """Column names of a table without loading its rows."""
    fmt = table_format(path)
    try:
        if fmt == "parquet":
            return list(pq.read_schema(path).names)
        with _open_text(path) as handle:
            if fmt == "csv":
                header = next(csv.reader(handle), None)
                if not header:
                    raise TableError("the table is empty (no header row)")
                return header
            columns: dict[str, None] = {}
            for number, line in enumerate(itertools.islice(handle, JSONL_SCAN_RECORDS), start=1):
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
            frame = pd.read_parquet(path, columns=wanted)
        elif fmt == "csv":
            frame = pd.read_csv(path, usecols=wanted, encoding="utf-8-sig")
        else:
            frame = _read_jsonl(path, wanted)
    except TableError:
        raise
    except json.JSONDecodeError as exc:
        raise TableError(f"invalid JSON on line {exc.lineno}: {exc.msg}") from None
    except (OSError, ValueError, pa.ArrowException) as exc:
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


def _read_jsonl(path: Path, columns: list[str]) -> pd.DataFrame:
    """JSON Lines with values kept as JSON typed them (no date or dtype guessing); a key absent
    from a record is a missing value, a key absent from every record is an error."""
    values: dict[str, list[object]] = {column: [] for column in columns}
    seen: set[str] = set()
    with _open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
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
    return pd.DataFrame(values)


_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://")


def is_uri(text: str) -> bool:
    """``s3a://b/x`` and ``file:///x`` are URIs (read by the Spark engine where they are); workspace
    paths such as ``logs/*.parquet`` are not."""
    return bool(_URI.match(text))


def expand_table_paths(root: Path, pattern: str) -> list[str]:
    """The table files a workspace path names, relative to ``root``: one file, every matching file of
    a glob (``logs/*.parquet``, ``logs/**/*.csv.gz``), or every table file under a folder (e.g. a
    hive-partitioned ``logs/date=2026-08-03/part-0.parquet`` layout). Sorted; symlinks or matches
    that resolve outside ``root`` are left out (the caller reports an empty result). An invalid glob
    is a :class:`TableError`."""
    root = root.resolve()
    if any(char in pattern for char in "*?["):
        try:
            candidates = list(root.glob(pattern))
        except ValueError as exc:  # e.g. "**.csv": '**' must be a whole path component
            raise TableError(f"{pattern!r} is not a valid glob pattern: {exc}") from None
    else:
        target = root / pattern
        candidates = sorted(target.rglob("*")) if target.is_dir() else [target]
    found = []
    for candidate in candidates:
        resolved = candidate.resolve()
        if not resolved.is_relative_to(root) or not resolved.is_file():
            continue
        try:
            table_format(candidate)
        except TableError:
            continue
        found.append(candidate.relative_to(root).as_posix())
    return sorted(found)
