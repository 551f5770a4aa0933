"""Moving object files in parallel: verified on arrival, published one by one.

A received file lands in a private staging directory, is fsynced, verified against its id (or,
for a chunk, the checksum its table recorded) and only then renamed into the object store. An
interrupted transfer therefore keeps every object that arrived whole and nothing else, and the
next run skips them.

Progress: each task's ``advance(n)`` is called once per object with its size in bytes, so a
bar can show both bytes and objects.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pyarrow as pa
import pyarrow.parquet as pq

from corpusgit.errors import CorruptObject
from corpusgit.progress import Task
from corpusgit.reach import BLOB, CHUNK, META, RAW
from corpusgit.remote.backend import Backend
from corpusgit.remote.errors import RemoteObjectCorrupt
from corpusgit.remote.graph import ANY, METADATA_KINDS, Wanted, kind_of, sniff
from corpusgit.store.atomic import fsync_dir, sync_file
from corpusgit.store.objects import ObjectStore
from corpusgit.table.chunkio import arrow_owned, chunk_id, file_checksum

DEFAULT_JOBS = 8  # parallel transfers: hides S3 latency without tripping request-rate limits
T = TypeVar("T")
R = TypeVar("R")


@dataclass
class TransferStats:
    """Objects and bytes actually moved (skipped objects are not counted)."""

    objects: int = 0
    bytes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, nbytes: int) -> None:
        with self._lock:
            self.objects += 1
            self.bytes += nbytes


def run_parallel(items: Iterable[T], action: Callable[[T], R], jobs: int) -> list[R]:
    """``action`` over ``items`` on ``jobs`` threads; the first failure cancels what has not started."""
    todo = list(items)
    if jobs <= 1 or len(todo) <= 1:
        return [action(item) for item in todo]
    with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="cgit-transfer") as pool:
        futures = [pool.submit(action, item) for item in todo]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        failed = [f for f in done if f.exception() is not None]
        if failed:
            for f in futures:
                f.cancel()
            raise failed[0].exception()  # type: ignore[misc]
        return [f.result() for f in futures]


def verify_file(staging: ObjectStore, item: Wanted, full: bool) -> tuple[str, dict[str, Any] | None]:
    """(kind, metadata document or None) of a staged object, after proving it is ``item.oid``.

    Metadata and blobs are checked by SHA-256 over their content, chunks by the checksum and
    size their table recorded; a chunk reached without a table (or with ``full``) by its
    content id, the SHA-256 over its logical rows that ``fsck --full`` uses. A raw object is
    checked against the checksum its referrer recorded; its owner checks it on every read too.
    """
    oid, kind, ref = item.oid, item.kind, item.ref
    path = staging.path(oid)
    if kind == RAW:
        if item.checksum is not None and file_checksum(path.read_bytes()) != item.checksum:
            raise CorruptObject(oid, item.checksum, file_checksum(path.read_bytes()))
        return RAW, None
    if kind == ANY:
        with open(path, "rb") as handle:
            kind = sniff(handle.read(4))
    if kind in METADATA_KINDS:
        doc = staging.get_meta(oid)
        actual = kind_of(doc)
        if kind != META and actual != kind:
            raise CorruptObject(oid, kind, actual)
        return actual, doc
    if kind == BLOB:
        for _ in staging.iter_blob(oid):
            pass
        return kind, None
    data = path.read_bytes()
    if ref is not None and (len(data) != ref.size or file_checksum(data) != ref.checksum):
        raise CorruptObject(oid, ref.checksum, file_checksum(data))
    if ref is None or full:
        _check_chunk_content(oid, data)
    return CHUNK, None


def _check_chunk_content(oid: str, data: bytes) -> None:
    try:
        table = pq.read_table(pa.BufferReader(arrow_owned(data)))
    except (pa.ArrowException, OSError) as exc:
        raise CorruptObject(oid, "readable Parquet", str(exc).splitlines()[0]) from exc
    got = chunk_id(table)  # the same id ingest gives: row hash and schema metadata excluded
    if got != oid:
        raise CorruptObject(oid, oid[:12], got[:12])


class Incoming:
    """Receives objects from a backend into ``store``; use as a context manager."""

    def __init__(self, store: ObjectStore, backend: Backend, remote: str, verify_content: bool = False) -> None:
        self.store = store
        self.backend = backend
        self.remote = remote
        self.verify_content = verify_content
        self.stats = TransferStats()
        store.tmp_root.mkdir(parents=True, exist_ok=True)
        self._root = Path(tempfile.mkdtemp(prefix=f"incoming-{os.getpid()}-", dir=store.tmp_root))
        self._staging = ObjectStore(self._root, store.tmp_root, find_promisor=False)
        self._touched: set[Path] = set()
        self._lock = threading.Lock()

    def __enter__(self) -> Incoming:
        return self

    def __exit__(self, *exc: object) -> None:
        for directory in self._touched:
            if directory.exists():
                fsync_dir(directory)
        shutil.rmtree(self._root, ignore_errors=True)

    def receive(self, item: Wanted, task: Task | None = None) -> tuple[str, dict[str, Any] | None] | None:
        """Download, verify and publish one object; None if the remote does not have it."""
        staged = self._staging.path(item.oid)
        staged.parent.mkdir(parents=True, exist_ok=True)
        if not self.backend.download_object(item.oid, staged):
            return None
        sync_file(staged)
        try:
            kind, doc = verify_file(self._staging, item, self.verify_content)
        except CorruptObject as exc:
            staged.unlink(missing_ok=True)
            raise RemoteObjectCorrupt(item.oid, exc.expected, exc.got, self.remote) from exc
        size = staged.stat().st_size
        final = self.store.path(item.oid)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staged, final)
        with self._lock:
            self._touched.add(final.parent)
        self.stats.add(size)
        if task is not None:
            task.advance(size)
        return kind, doc
