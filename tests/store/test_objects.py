"""The object store: SHA-256 ids of canonical bytes, idempotent puts, loud failures, atomic batches."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from corpusgit.errors import CorruptObject, ObjectNotFound
from corpusgit.store.objects import LARGE_MAGIC, STREAM_BLOCK, ObjectStore
from corpusgit.table.chunkio import file_checksum, read_chunk, store_chunk
from corpusgit.table.hashing import lanes_to_binary, row_lanes
from corpusgit.table.schema import ROW_HASH_COLUMN

MISSING = "ab" + "0" * 62


@pytest.fixture
def store(tmp_path: Path) -> ObjectStore:
    return ObjectStore(tmp_path / "objects", tmp_path / "tmp")


def stored_files(store: ObjectStore) -> list[Path]:
    return sorted(p for p in store.root.rglob("*") if p.is_file()) if store.root.exists() else []


# -- ids ----------------------------------------------------------------------------------------------


def test_meta_id_is_sha256_of_canonical_json(store: ObjectStore) -> None:
    oid = store.put_meta({"type": "note", "text": "数据 🙂", "n": 3, "nested": {"b": [1, 2], "a": None}})
    canonical = '{"n":3,"nested":{"a":null,"b":[1,2]},"text":"数据 🙂","type":"note"}'.encode()
    assert oid == hashlib.sha256(canonical).hexdigest()
    assert store.get_meta(oid) == {"type": "note", "text": "数据 🙂", "n": 3, "nested": {"b": [1, 2], "a": None}}


def test_key_order_does_not_change_the_id(store: ObjectStore) -> None:
    assert store.put_meta({"a": 1, "b": 2}) == store.put_meta({"b": 2, "a": 1})
    assert store.put_meta({"a": 1}) != store.put_meta({"a": 2})


def test_meta_refuses_nan(store: ObjectStore) -> None:
    """NaN has no canonical JSON spelling, so it would give ids that differ between machines."""
    with pytest.raises(ValueError):
        store.put_meta({"x": float("nan")})
    assert stored_files(store) == []


def test_blob_id_is_sha256_of_file_bytes(store: ObjectStore, tmp_path: Path) -> None:
    src = tmp_path / "README.md"
    src.write_bytes("# corpus\n数据集 🙂\n".encode() * 100)
    oid = store.put_blob_file(src)
    assert oid == hashlib.sha256(src.read_bytes()).hexdigest()
    assert store.read_bytes(oid) == src.read_bytes()
    assert b"".join(store.iter_blob(oid)) == src.read_bytes()


def test_empty_blob(store: ObjectStore, tmp_path: Path) -> None:
    src = tmp_path / "empty"
    src.write_bytes(b"")
    oid = store.put_blob_file(src)
    assert oid == hashlib.sha256(b"").hexdigest()
    assert b"".join(store.iter_blob(oid)) == b""


# -- idempotence ----------------------------------------------------------------------------------------


def test_puts_are_idempotent_and_never_rewrite(store: ObjectStore, tmp_path: Path) -> None:
    oid = store.put_meta({"type": "x"})
    path = store.path(oid)
    before = path.stat()
    src = tmp_path / "f.txt"
    src.write_bytes(b"hello")
    blob = store.put_blob_file(src)
    blob_before = store.path(blob).stat()

    assert store.put_meta({"type": "x"}) == oid
    assert store.put_blob_file(src) == blob
    store.put_raw(oid, b"something else entirely")

    assert (path.stat().st_ino, path.stat().st_mtime_ns) == (before.st_ino, before.st_mtime_ns)
    assert store.path(blob).stat().st_ino == blob_before.st_ino
    assert len(stored_files(store)) == 2
    assert store.get_meta(oid) == {"type": "x"}
    assert sorted(store.iter_ids()) == sorted([oid, blob])


# -- failures name the object -------------------------------------------------------------------------


def test_missing_object_raises_object_not_found_naming_it(store: ObjectStore) -> None:
    for read in (store.get_meta, store.read_bytes, store.read_raw, lambda oid: list(store.iter_blob(oid))):
        with pytest.raises(ObjectNotFound) as info:
            read(MISSING)
        assert MISSING in str(info.value)
        assert info.value.hint


def test_missing_object_message_says_who_needed_it(store: ObjectStore) -> None:
    with pytest.raises(ObjectNotFound, match="data/a.parquet"):
        store.get_meta(MISSING, needed_by="data/a.parquet")


def _flip_byte(path: Path, where: int) -> None:
    data = bytearray(path.read_bytes())
    data[where] ^= 0x40
    path.write_bytes(bytes(data))


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: _flip_byte(p, len(p.read_bytes()) // 2),
        lambda p: _flip_byte(p, 0),
        lambda p: _flip_byte(p, len(p.read_bytes()) - 1),
        lambda p: p.write_bytes(p.read_bytes()[:-5]),
        lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
        lambda p: p.write_bytes(b""),
    ],
    ids=["flip-middle", "flip-first", "flip-last", "truncate-tail", "truncate-half", "empty"],
)
def test_damaged_meta_object_raises_corrupt_object(store: ObjectStore, damage: object) -> None:
    oid = store.put_meta({"type": "commit", "message": "x" * 500 + " 数据集", "parents": list(range(50))})
    damage(store.path(oid))  # type: ignore[operator]
    with pytest.raises(CorruptObject) as info:
        store.get_meta(oid, needed_by="HEAD")
    assert info.value.object_id == oid
    assert oid in str(info.value)
    assert "HEAD" in str(info.value)


def test_swapped_object_files_are_detected(store: ObjectStore) -> None:
    """A file moved under another id (a bad copy, a hostile remote) must not be trusted."""
    a = store.put_meta({"v": "a"})
    b = store.put_meta({"v": "b"})
    os.replace(store.path(b), store.path(a))
    with pytest.raises(CorruptObject) as info:
        store.get_meta(a)
    assert info.value.object_id == a


def test_damaged_chunk_fails_its_checksum(store: ObjectStore) -> None:
    table = pa.table({"text": ["a", "数据", "🙂"] * 100})
    hi, lo = row_lanes(table)
    ref = store_chunk(store, "cd" + "1" * 62, table.append_column(ROW_HASH_COLUMN, lanes_to_binary(hi, lo)))
    assert ref.checksum == file_checksum(store.read_raw(ref.id))
    assert read_chunk(store, ref, None, None).column("text").to_pylist() == table.column("text").to_pylist()
    _flip_byte(store.path(ref.id), ref.size // 2)
    with pytest.raises(CorruptObject) as info:
        read_chunk(store, ref, None, "data/a.parquet")
    assert info.value.object_id == ref.id
    store.path(ref.id).write_bytes(store.path(ref.id).read_bytes()[:10])
    with pytest.raises(CorruptObject):
        read_chunk(store, ref, None, None)
    store.path(ref.id).unlink()
    with pytest.raises(ObjectNotFound, match=ref.id):
        read_chunk(store, ref, None, None)


# -- transactions ---------------------------------------------------------------------------------------


def test_transaction_rollback_leaves_no_objects(store: ObjectStore, tmp_path: Path) -> None:
    src = tmp_path / "f.bin"
    src.write_bytes(b"payload" * 1000)
    with pytest.raises(RuntimeError, match="rejected"):
        with store.transaction():
            meta = store.put_meta({"type": "x"})
            blob = store.put_blob_file(src)
            store.put_raw("ef" + "2" * 62, b"chunk bytes")
            assert store.has(meta) and store.has(blob)
            assert store.staged_bytes() > 0
            raise RuntimeError("rejected")
    assert stored_files(store) == []
    assert not store.has(meta) and not store.has(blob)
    assert list(store.tmp_root.iterdir()) == []


def test_transaction_publishes_everything_on_success(store: ObjectStore, tmp_path: Path) -> None:
    old = store.put_meta({"type": "old"})
    with store.transaction():
        new = store.put_meta({"type": "new"})
        again = store.put_meta({"type": "old"})  # already published: not staged twice
        assert not store.path(new).exists()
        assert store.staged_bytes() == store.size(new)
    assert again == old
    assert sorted(store.iter_ids()) == sorted([old, new])
    assert store.get_meta(new) == {"type": "new"}
    assert list(store.tmp_root.iterdir()) == []


# -- large blobs stream ---------------------------------------------------------------------------------


def _large_file(path: Path, size: int) -> None:
    """Half compressible text, half random bytes, written in blocks."""
    rng = np.random.default_rng(7)
    block = 8 << 20
    with open(path, "wb") as out:
        written = 0
        while written < size:
            n = min(block, size - written)
            if (written // block) % 2:
                out.write(rng.integers(0, 256, n, dtype=np.uint8).tobytes())
            else:
                out.write((("line %d 数据集 🙂\n" % written) * (n // 10 + 1)).encode()[:n])
            written += n


@pytest.fixture(scope="module")
def large_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("large") / "big.bin"
    _large_file(path, 64 * STREAM_BLOCK + 12_345_678)  # just over the in-memory limit
    return path


def test_large_blob_streams_in_blocks(store: ObjectStore, large_file: Path) -> None:
    oid = store.put_blob_file(large_file)
    digest = hashlib.sha256()
    with open(large_file, "rb") as handle:
        for block in iter(lambda: handle.read(STREAM_BLOCK), b""):
            digest.update(block)
    assert oid == digest.hexdigest()
    assert store.path(oid).read_bytes()[: len(LARGE_MAGIC)] == LARGE_MAGIC
    assert store.raw_size(oid) == large_file.stat().st_size
    got = hashlib.sha256()
    sizes = []
    for block in store.iter_blob(oid):
        sizes.append(len(block))
        got.update(block)
    assert got.hexdigest() == oid
    assert sum(sizes) == large_file.stat().st_size
    assert len(sizes) > 1 and max(sizes) <= 16 * STREAM_BLOCK


def test_damaged_large_blob_is_refused_before_its_last_block(store: ObjectStore, large_file: Path) -> None:
    oid = store.put_blob_file(large_file)
    total = sum(1 for _ in store.iter_blob(oid))
    path = store.path(oid)
    _flip_byte(path, path.stat().st_size - 100)  # inside the last compressed block
    received = []
    with pytest.raises(CorruptObject) as info:
        for block in store.iter_blob(oid, needed_by="big.bin"):
            received.append(block)
    assert info.value.object_id == oid
    assert len(received) < total


@pytest.mark.parametrize("keep", [0.5, 0.999, 6, 30], ids=["half", "tail", "in-magic", "in-header"])
def test_truncated_large_blob_is_refused(store: ObjectStore, large_file: Path, keep: float) -> None:
    oid = store.put_blob_file(large_file)
    path = store.path(oid)
    with open(path, "r+b") as handle:
        handle.truncate(int(path.stat().st_size * keep) if keep < 1 else int(keep))
    with pytest.raises(CorruptObject) as info:
        for _ in store.iter_blob(oid):
            pass
    assert info.value.object_id == oid


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty"])
def test_damaged_small_blob_raises_corrupt_object(store: ObjectStore, tmp_path: Path, damage: str) -> None:
    src = tmp_path / "notes.txt"
    src.write_bytes("notes 数据集 🙂\n".encode() * 1000)
    oid = store.put_blob_file(src)
    path = store.path(oid)
    if damage == "flip":
        _flip_byte(path, len(path.read_bytes()) // 2)
    elif damage == "truncate":
        path.write_bytes(path.read_bytes()[:-20])
    else:
        path.write_bytes(b"")
    for read in (store.read_bytes, lambda o, n: b"".join(store.iter_blob(o, n))):
        with pytest.raises(CorruptObject) as info:
            read(oid, "notes.txt")
        assert info.value.object_id == oid
        assert "notes.txt" in str(info.value)
