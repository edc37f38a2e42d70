"""Logs that live in object storage or a cluster's file system, read where they are by Spark.

A workspace's ``monitoring.logs`` may be a URI (``s3a://bucket/scoring/credit/``,
``gs://…``, ``abfss://…``, ``hdfs://…``) when the workspace selects the Spark engine. Nothing is
downloaded: Spark's executors read the files, and only per-window aggregates and the labelled
records of one window at a time reach this machine.

A remote object cannot be hashed without reading all of it, so it is identified by its listing
instead: the SHA-256 of its URI, size, modification time and, where the file system has one (S3,
GCS), its ETag. That identity is what the manifest records (``identity: listing``) and what the
analysis cache is keyed on; an object rewritten in place gets a new modification time and ETag,
hence a new identity. The listing comes from the Hadoop file system Spark itself uses, so it sees
exactly the files the scan reads, with the same credentials.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

from modelgov.sources.tables import is_uri

from .logsource import ScanError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

__all__ = ["RemoteObject", "is_uri", "list_objects"]

#: The table files a scan reads; Spark and Hadoop bookkeeping (_SUCCESS, .crc, _delta_log) are not.
_TABLE_SUFFIXES = (".parquet", ".pq", ".csv", ".csv.gz", ".jsonl", ".jsonl.gz", ".json", ".json.gz")


@dataclass(frozen=True)
class RemoteObject:
    uri: str
    bytes: int
    modified_ms: int
    etag: str | None

    @property
    def fingerprint(self) -> str:
        """SHA-256 of the listing entry: what identifies the object in the manifest and the cache."""
        entry = f"{self.uri}\n{self.bytes}\n{self.modified_ms}\n{self.etag or ''}"
        return hashlib.sha256(entry.encode("utf-8")).hexdigest()


def _etag(status: object) -> str | None:
    """Hadoop 3.3's EtagSource (S3A, ABFS, GCS connector); other file systems have none."""
    try:
        value = status.getEtag()  # type: ignore[attr-defined]
    except Exception:
        return None
    return str(value) if value else None


def _is_table(name: str) -> bool:
    return not name.startswith(("_", ".")) and name.lower().endswith(_TABLE_SUFFIXES)


def list_objects(session: SparkSession, uri: str) -> list[RemoteObject]:
    """Every table file ``uri`` names (a file, a folder listed recursively, or a glob), sorted by URI.
    Raises :class:`ScanError` naming the URI when it cannot be listed or names no table file."""
    jvm = session._jvm  # type: ignore[attr-defined]
    conf = session._jsc.hadoopConfiguration()  # type: ignore[attr-defined]
    found: list[RemoteObject] = []
    try:
        path = jvm.org.apache.hadoop.fs.Path(uri)
        fs = path.getFileSystem(conf)
        matches = fs.globStatus(path) or []
        for match in matches:
            if match.isDirectory():
                files = fs.listFiles(match.getPath(), True)
                while files.hasNext():
                    status = files.next()
                    found.append(_object(status))
            else:
                found.append(_object(match))
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ScanError(f"cannot list {uri}: {first}") from None
    tables = sorted((o for o in found if _is_table(o.uri.rsplit("/", 1)[-1])), key=lambda o: o.uri)
    if not tables:
        raise ScanError(f"no table file (Parquet, CSV or JSON Lines) found at {uri}")
    return tables


def _object(status: object) -> RemoteObject:
    return RemoteObject(
        uri=str(status.getPath().toString()),  # type: ignore[attr-defined]
        bytes=int(status.getLen()),  # type: ignore[attr-defined]
        modified_ms=int(status.getModificationTime()),  # type: ignore[attr-defined]
        etag=_etag(status),
    )
