"""Deterministic writers for every file kind the example workspace contains.

The demo promises "same seed, same bytes" so that a site built from it can be compared byte for byte
and CI can tell when nothing changed. Each writer therefore pins everything a library would otherwise
choose for us: YAML key order and block style, CSV float formatting and line endings, Parquet
compression and metadata, JSON separators. Nothing here reads the clock, the locale or the environment.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import joblib
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import skops.io
import yaml

TABLE_SUFFIXES = (".parquet", ".csv", ".jsonl")
MODEL_SUFFIXES = (".skops", ".joblib")
#: Timestamp of every member of a written zip archive: the earliest a zip can hold (as SOURCE_DATE_EPOCH
#: tooling does), so the archive says nothing about when it was made.
ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)


class _BlockDumper(yaml.SafeDumper):
    """A SafeDumper that writes multi-line prose as literal blocks (``|``).

    Only representation style changes: the output is plain YAML that ``yaml.safe_load`` reads back
    into the same values. A subclass keeps the global ``SafeDumper`` untouched.
    """


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _represent_str)


def dump_yaml(data: Any) -> str:
    """YAML text in the caller's key order (``sort_keys=False``), Unicode kept readable."""
    return yaml.dump(
        data,
        Dumper=_BlockDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    return sha256_bytes(path.read_bytes())


def _csv_bytes(frame: pd.DataFrame) -> bytes:
    # Floats are rounded by the caller; repr-style formatting then gives the shortest exact text.
    return frame.to_csv(index=False, lineterminator="\n").encode("utf-8")


def _jsonl_bytes(frame: pd.DataFrame) -> bytes:
    lines = []
    for record in frame.to_dict(orient="records"):
        lines.append(json.dumps({key: _plain(value) for key, value in record.items()}, ensure_ascii=False))
    return ("\n".join(lines) + "\n").encode("utf-8")


def _plain(value: Any) -> Any:
    """numpy scalars → Python scalars; NaN is refused because JSON has no spelling for it."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("non-finite float in a JSON Lines table")
    return value


def _parquet_bytes(frame: pd.DataFrame) -> bytes:
    # Drop the pandas metadata block: it embeds the pandas version and index details that readers
    # do not need, and would make the bytes depend on the installed pandas.
    table = pa.Table.from_pandas(frame, preserve_index=False).replace_schema_metadata(None)
    # pandas 3 hands strings over as large_string, pandas 2 as string: pin plain string so the
    # file does not change with the pandas major version.
    table = table.cast(
        pa.schema(
            [
                pa.field(field.name, pa.string() if pa.types.is_large_string(field.type) else field.type)
                for field in table.schema
            ]
        )
    )
    sink = io.BytesIO()
    pq.write_table(
        table,
        sink,
        compression="zstd",
        compression_level=3,
        use_dictionary=True,
        write_statistics=True,
        version="2.6",
        data_page_version="1.0",
    )
    return sink.getvalue()


class WorkspaceWriter:
    """Writes files under one workspace root and remembers what it wrote.

    Paths are given relative to the root with '/' separators — the same spelling the YAML files use —
    so a path can be written and referenced from the same string.
    """

    def __init__(self, root: Path):
        self.root = root
        self.written: dict[str, str] = {}

    def _write(self, relpath: str, data: bytes) -> str:
        posix = PurePosixPath(relpath)
        if posix.is_absolute() or ".." in posix.parts:
            raise ValueError(f"demo paths must stay inside the workspace: {relpath}")
        if relpath in self.written:
            raise ValueError(f"demo would write {relpath} twice")
        target = self.root.joinpath(*posix.parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        digest = sha256_bytes(data)
        self.written[relpath] = digest
        return digest

    def text(self, relpath: str, text: str) -> str:
        """Write UTF-8 text with '\\n' line endings; returns the sha256."""
        return self._write(relpath, text.encode("utf-8"))

    def yaml(self, relpath: str, data: Any) -> str:
        return self.text(relpath, dump_yaml(data))

    def table(self, relpath: str, frame: pd.DataFrame) -> str:
        """Write a table in the format its suffix names (Parquet, CSV or JSON Lines)."""
        if relpath.endswith(".parquet"):
            data = _parquet_bytes(frame)
        elif relpath.endswith(".csv"):
            data = _csv_bytes(frame)
        elif relpath.endswith(".jsonl"):
            data = _jsonl_bytes(frame)
        else:
            raise ValueError(f"unknown table format for {relpath}; use one of {TABLE_SUFFIXES}")
        return self._write(relpath, data)

    def model(self, relpath: str, estimator: Any) -> str:
        """Persist a fitted estimator: ``.skops`` (the safe default) or ``.joblib`` (a pickle)."""
        if relpath.endswith(".skops"):
            data = skops_bytes(estimator)
        elif relpath.endswith(".joblib"):
            sink = io.BytesIO()
            joblib.dump(estimator, sink, compress=0, protocol=4)  # uncompressed, so the bytes are stable
            data = sink.getvalue()
        else:
            raise ValueError(f"unknown model format for {relpath}; use one of {MODEL_SUFFIXES}")
        return self._write(relpath, data)


def skops_bytes(estimator: Any) -> bytes:
    """``skops.io.dumps`` made reproducible.

    A skops file is a zip of ``schema.json`` plus one ``.npy`` member per array, and three things in
    it change from run to run although the model does not: every member carries the current local
    time, object identities are Python's ``id()`` (a memory address) in both ``"__id__"`` and the
    array member names, and ``bytes`` attributes are stored under a random ``uuid4`` name. We renumber
    the identities in the order they first occur in the schema (a bijection, so shared references stay
    shared), rename the members to match, and rewrite the zip with a fixed timestamp and fixed
    attributes. The result loads exactly as the original does; only the labels changed.
    """
    with zipfile.ZipFile(io.BytesIO(skops.io.dumps(estimator))) as source:
        schema = json.loads(source.read("schema.json"))
        members = {name: source.read(name) for name in source.namelist() if name != "schema.json"}

    ids: dict[int, int] = {}
    names: dict[str, str] = {}

    def renumber(node: Any) -> Any:
        if isinstance(node, list):
            return [renumber(item) for item in node]
        if not isinstance(node, dict):
            return node
        result = {}
        for key, value in node.items():
            if key == "__id__" and isinstance(value, int):
                value = ids.setdefault(value, len(ids) + 1)
            elif key == "file" and isinstance(value, str) and value in members:
                suffix = PurePosixPath(value).suffix
                value = names.setdefault(value, f"{len(names) + 1:06d}{suffix}")
            else:
                value = renumber(value)
            result[key] = value
        return result

    schema = renumber(schema)
    if set(names) != set(members):
        raise ValueError("skops wrote archive members the schema does not reference; cannot make it reproducible")
    sink = io.BytesIO()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as target:
        entries = [(new, members[old]) for old, new in sorted(names.items(), key=lambda item: item[1])]
        # skops writes the schema last, with the same json.dumps options
        entries.append(("schema.json", json.dumps(schema, indent=2).encode("utf-8")))
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.create_system = 3  # "Unix", whatever machine writes it
            info.external_attr = 0o600 << 16
            info.compress_type = zipfile.ZIP_STORED
            target.writestr(info, data)
    return sink.getvalue()
