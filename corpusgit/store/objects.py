"""The local object store: immutable files named by their id under ``.cgit/objects``.

Metadata objects are stored zlib-compressed (stdlib, so ``status`` and ``log`` never load
pyarrow) and blobs zstd-compressed; both are verified against their SHA-256 id on every read. Chunks are stored as the exact Parquet bytes; their fast checksum lives in the
table that references them (see ``corpusgit.table.chunkio``).

Writes inside ``transaction()`` land in a private staging directory and are published (renamed
into place) only when the whole operation succeeds, so a rejected ``add`` leaves the store as
it was.

A partial clone lacks chunk files on purpose. A missing object is then fetched, verified and
stored through the clone's promisor before the read goes on, so every reader works unchanged.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import threading
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Protocol

from corpusgit.errors import CorruptObject, ObjectNotFound
from corpusgit.store.atomic import FILE_MODE, fsync_dir, sync_file, translate_os_error, write_atomic
from corpusgit.store.canonical import ObjectId, canonical_json, object_id

CODEC = "zstd"
META_LEVEL = 6  # zlib default: metadata is small and read far more often than written
STREAM_BLOCK = 1 << 20  # blob streaming block: large enough to amortise calls, small for RAM
SMALL_BLOB_MAX = 64 * STREAM_BLOCK  # blobs up to this size are compressed (and read) in one piece
LARGE_BLOCK = 16 * STREAM_BLOCK  # independently compressed block of a larger blob


class Promisor(Protocol):
    """Where a partial clone gets the objects it skipped (see ``corpusgit.remote.promisor``)."""

    def fetch(self, store: ObjectStore, oid: str) -> bool:
        """Fetch ``oid``, verify it and store it in ``store``; False if the source lacks it."""
        ...


class ObjectStore:
    """Content-addressed files; adding is idempotent and never rewrites an existing object.

    ``find_promisor``: on the first missing object, look for a partial clone's promisor in the
    repository config beside ``root``; off for scratch stores (transfer staging).
    """

    def __init__(self, root: Path, tmp_root: Path, find_promisor: bool = True) -> None:
        self.root = root
        self.tmp_root = tmp_root
        self._staging: Path | None = None
        self._promisor: Promisor | None = None
        self._promisor_checked = not find_promisor
        self._promisor_lock = threading.Lock()

    # -- locating ---------------------------------------------------------------------------
    def path(self, oid: str) -> Path:
        """Where a published object lives."""
        return self.root / oid[:2] / oid[2:]

    def locate(self, oid: str) -> Path | None:
        """The file holding ``oid``, staged or published, or None."""
        if self._staging is not None:
            staged = self._staging / oid[:2] / oid[2:]
            if staged.exists():
                return staged
        final = self.path(oid)
        return final if final.exists() else None

    def has(self, oid: str) -> bool:
        return self.locate(oid) is not None

    def is_meta(self, oid: str) -> bool:
        """True when ``oid`` is stored as a metadata object (a zlib stream), not a blob or chunk.

        Ids typed by users (revisions, short ids) may name any object; this tells a commit's id
        from a data object's without decoding, so a healthy chunk is never reported as corrupt.
        """
        found = self.locate(oid)
        if found is None:
            return False
        with open(found, "rb") as handle:
            head = handle.read(2)
        return len(head) == 2 and head[0] & 0x0F == 8 and (head[0] << 8 | head[1]) % 31 == 0  # RFC 1950 header

    def size(self, oid: str) -> int:
        """Bytes the object takes on disk (0 when absent)."""
        found = self.locate(oid)
        return found.stat().st_size if found else 0

    def raw_size(self, oid: str) -> int:
        """Uncompressed size of a blob, read from its trailer."""
        found = self.locate(oid)
        if found is None:
            return 0
        with open(found, "rb") as handle:
            handle.seek(-8, os.SEEK_END)
            return int.from_bytes(handle.read(8), "little")

    def iter_ids(self) -> Iterator[ObjectId]:
        """Every published object id; order is unspecified."""
        if not self.root.exists():
            return
        for fan in os.scandir(self.root):
            if fan.is_dir() and len(fan.name) == 2:
                for entry in os.scandir(fan.path):
                    if not entry.name.startswith("."):
                        yield ObjectId(fan.name + entry.name)

    def _write(self, oid: str, data: bytes) -> None:
        """Write an object file. Staged files skip the directory fsync: publishing renames
        them and syncs the destination directories once."""
        write_atomic(self._target(oid), data, sync_dir=self._staging is None)

    def _target(self, oid: str) -> Path:
        base = self._staging if self._staging is not None else self.root
        return base / oid[:2] / oid[2:]

    # -- transactions -----------------------------------------------------------------------
    @contextmanager
    def transaction(self, publish: bool = True) -> Iterator[None]:
        """Stage new objects privately; publish all of them only if the block succeeds.

        ``publish=False`` always discards them: a diff of the work tree ingests changed files
        to compare them, and must leave the store untouched.
        """
        if self._staging is not None:
            yield
            return
        self.tmp_root.mkdir(parents=True, exist_ok=True)
        self._staging = Path(tempfile.mkdtemp(prefix=f"txn-{os.getpid()}-", dir=self.tmp_root))
        try:
            yield
            if publish:
                self._publish(self._staging)
        finally:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None

    def staged_bytes(self) -> int:
        """Bytes the open transaction has written so far (what an ``add`` costs)."""
        if self._staging is None:
            return 0
        return sum(f.stat().st_size for f in self._staging.rglob("*") if f.is_file())

    def _publish(self, staging: Path) -> None:
        touched: set[Path] = set()
        for fan in sorted(os.scandir(staging), key=lambda e: e.name):
            for entry in os.scandir(fan.path):
                final = self.root / fan.name / entry.name
                if final.exists():
                    continue
                try:
                    final.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(entry.path, final)
                except OSError as exc:
                    raise translate_os_error(exc, final) from exc
                touched.add(final.parent)
        for directory in touched:
            fsync_dir(directory)

    # -- metadata objects ---------------------------------------------------------------------
    def put_meta(self, obj: dict[str, Any]) -> ObjectId:
        """Store a JSON object under the hash of its canonical bytes."""
        data = canonical_json(obj)
        oid = object_id(data)
        if not self.has(oid):
            self._write(oid, zlib.compress(data, META_LEVEL))
        return oid

    def get_meta(self, oid: str, needed_by: str | None = None) -> dict[str, Any]:
        """Load and verify a metadata object."""
        raw = self._read_file(oid, needed_by)
        try:
            data = zlib.decompress(raw)
        except zlib.error as exc:
            raise CorruptObject(oid, oid[:12], "undecodable bytes", needed_by) from exc
        got = object_id(data)
        if got != oid:
            raise CorruptObject(oid, oid[:12], got[:12], needed_by)
        try:
            value = json.loads(data)
        except ValueError as exc:
            raise CorruptObject(oid, "JSON object", "undecodable bytes", needed_by) from exc
        if not isinstance(value, dict):
            raise CorruptObject(oid, "JSON object", type(value).__name__, needed_by)
        return value

    def read_bytes(self, oid: str, needed_by: str | None = None) -> bytes:
        """Load a small blob fully, verified."""
        import pyarrow as pa

        raw = self._read_file(oid, needed_by)
        try:
            size = int.from_bytes(raw[-8:], "little")
            if size > SMALL_BLOB_MAX:  # a damaged trailer: never allocate what it claims
                raise ValueError(f"declared size {size}")
            data: bytes = pa.decompress(raw[:-8], decompressed_size=size, codec=CODEC, asbytes=True)
        except (pa.ArrowException, ValueError, OSError) as exc:  # pyarrow reports bad zstd data as OSError
            raise CorruptObject(oid, oid[:12], "undecodable bytes", needed_by) from exc
        got = object_id(data)
        if got != oid:
            raise CorruptObject(oid, oid[:12], got[:12], needed_by)
        return data

    # -- blobs --------------------------------------------------------------------------------
    def put_blob_file(self, src: Path) -> ObjectId:
        """Store a file's bytes; streams, so a large non-table file never sits in memory."""
        digest = hashlib.sha256()
        with open(src, "rb") as handle:
            for block in iter(lambda: handle.read(STREAM_BLOCK), b""):
                digest.update(block)
        oid = ObjectId(digest.hexdigest())
        if self.has(oid):
            return oid
        data = src.read_bytes() if src.stat().st_size <= SMALL_BLOB_MAX else None
        if data is not None and object_id(data) == oid:
            import pyarrow as pa

            self._write(oid, pa.compress(data, codec=CODEC, asbytes=True) + _size_trailer(len(data)))
            return oid
        return self._put_large_blob(src, oid)

    def _put_large_blob(self, src: Path, oid: ObjectId) -> ObjectId:
        """Blocks compressed one by one, each prefixed by its sizes, then the total size."""
        import pyarrow as pa

        target = self._target(oid)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".blob.", dir=target.parent)
        os.fchmod(fd, FILE_MODE)
        total = 0
        digest = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as out, open(src, "rb") as handle:
                out.write(LARGE_MAGIC)
                for block in iter(lambda: handle.read(LARGE_BLOCK), b""):
                    digest.update(block)
                    packed = pa.compress(block, codec=CODEC, asbytes=True)
                    out.write(len(block).to_bytes(8, "little") + len(packed).to_bytes(8, "little") + packed)
                    total += len(block)
                out.write(_size_trailer(total))
            if digest.hexdigest() != oid:
                raise CorruptObject(oid, oid[:12], digest.hexdigest()[:12], f"{src} (changed while reading)")
            sync_file(Path(tmp))
            os.replace(tmp, target)
            fsync_dir(target.parent)
        except OSError as exc:
            Path(tmp).unlink(missing_ok=True)
            raise translate_os_error(exc, target) from exc
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return oid

    def iter_blob(self, oid: str, needed_by: str | None = None) -> Iterator[bytes]:
        """Stream a blob's bytes; the id is verified before the last block is released."""
        import pyarrow as pa

        path = self._require(oid, needed_by)
        with open(path, "rb") as handle:
            if handle.read(len(LARGE_MAGIC)) != LARGE_MAGIC:
                yield self.read_bytes(oid, needed_by)
                return
            digest = hashlib.sha256()
            end = path.stat().st_size - 8
            while handle.tell() < end:
                header = handle.read(16)
                raw_len, packed_len = int.from_bytes(header[:8], "little"), int.from_bytes(header[8:], "little")
                if len(header) < 16 or raw_len > LARGE_BLOCK or packed_len > end - handle.tell():
                    raise CorruptObject(oid, oid[:12], "a damaged block header", needed_by)  # before allocating
                try:
                    block = pa.decompress(handle.read(packed_len), decompressed_size=raw_len, codec=CODEC, asbytes=True)
                except (pa.ArrowException, ValueError, OSError) as exc:  # bad zstd data is an OSError
                    raise CorruptObject(oid, oid[:12], "undecodable bytes", needed_by) from exc
                digest.update(block)
                if handle.tell() >= end and digest.hexdigest() != oid:
                    raise CorruptObject(oid, oid[:12], digest.hexdigest()[:12], needed_by)
                yield block
            if digest.hexdigest() != oid:
                raise CorruptObject(oid, oid[:12], digest.hexdigest()[:12], needed_by)

    # -- raw (chunk) objects -------------------------------------------------------------------
    def put_raw(self, oid: str, data: bytes) -> None:
        """Store bytes whose id the caller derived from logical content (chunks)."""
        if not self.has(oid):
            self._write(oid, data)

    def read_raw(self, oid: str, needed_by: str | None = None) -> bytes:
        """Bytes of a raw object; the caller verifies them against its recorded checksum."""
        return self._read_file(oid, needed_by)

    def _require(self, oid: str, needed_by: str | None) -> Path:
        found = self.locate(oid)
        if found is None:
            promisor = self._find_promisor()
            if promisor is not None and promisor.fetch(self, oid):
                found = self.locate(oid)
        if found is None:
            where = f" (needed by {needed_by})" if needed_by else ""
            raise ObjectNotFound(
                f"object {oid} is missing{where}",
                hint="run 'cgit fsck' to list every missing object; fetch it from a remote or clone",
            )
        return found

    def _read_file(self, oid: str, needed_by: str | None) -> bytes:
        return self._require(oid, needed_by).read_bytes()

    def _find_promisor(self) -> Promisor | None:
        """Looked up once, lazily: only a partial clone that misses an object pays for it."""
        with self._promisor_lock:
            if not self._promisor_checked:
                from corpusgit.remote.promisor import promisor_for

                self._promisor = promisor_for(self.root.parent)
                self._promisor_checked = True
        return self._promisor


LARGE_MAGIC = b"CGB1"  # marks a blob stored as independently compressed blocks


def _size_trailer(size: int) -> bytes:
    """pyarrow's zstd needs the decompressed size up front; it rides at the end of the file."""
    return size.to_bytes(8, "little")
