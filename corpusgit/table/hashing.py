"""Row identity (xxh3-128 per row) and chunk content ids (SHA-256 over canonical buffers).

A row hash is the lane-wise sum (mod 2**64) of per-cell hashes, each seeded by the column's
name and type. Summing makes the hash of a column group combine into the hash of the whole row
whatever the grouping, so adding a column never renames the rows of the other columns, and the
same row has one identity however the table is laid out. Cells are hashed vectorised with numpy;
only strings and binaries need a Python loop (one xxh3 call each).

Arrays passed here must already be canonical (see ``schema.canonical_type``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import xxhash

from corpusgit.table.schema import type_to_json
from corpusgit.store.canonical import canonical_json

Lanes = tuple[np.ndarray, np.ndarray]  # (hi, lo) uint64 arrays: the two halves of a 128-bit hash

_U64 = np.uint64
_GOLDEN = _U64(0x9E3779B97F4A7C15)  # 2**64 / phi: spreads small integers (positions, lengths)
_NULL_SALT = _U64(0x6A09E667F3BCC909)  # sqrt(2) digits: keeps null cells apart from any value
_CANONICAL_NAN = {2: 0x7E00, 4: 0x7FC00000, 8: 0x7FF8000000000000}  # quiet NaN per float width


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a bijective avalanche on uint64, vectorised."""
    x = x ^ (x >> _U64(30))
    x = x * _U64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> _U64(27))
    x = x * _U64(0x94D049BB133111EB)
    mixed: np.ndarray = x ^ (x >> _U64(31))
    return mixed


def column_seed(*parts: str) -> tuple[np.uint64, np.uint64]:
    """Per-column seeds so equal values in different columns hash differently."""
    d = xxhash.xxh3_128_intdigest("\x1f".join(parts).encode("utf-8"))
    return _U64(d >> 64), _U64(d & 0xFFFFFFFFFFFFFFFF)


def row_lanes(table: pa.Table | pa.RecordBatch, columns: Sequence[str] | None = None) -> Lanes:
    """128-bit hash of each row over ``columns`` (all by default), as two uint64 lanes."""
    n = table.num_rows
    hi = np.zeros(n, dtype=np.uint64)
    lo = np.zeros(n, dtype=np.uint64)
    names = list(columns) if columns is not None else table.schema.names
    with np.errstate(over="ignore"):
        for name in names:
            field = table.schema.field(name)
            seed = column_seed(name, canonical_json(type_to_json(field.type)).decode())
            for arr, start in _pieces(table.column(name)):
                c_hi, c_lo = array_lanes(arr, seed)
                hi[start:start + len(arr)] += c_hi
                lo[start:start + len(arr)] += c_lo
    return hi, lo


def lanes_to_binary(hi: np.ndarray, lo: np.ndarray) -> pa.Array:
    """Pack lanes as ``fixed_size_binary(16)``, big-endian hi then lo (the ``_cgit_row`` column)."""
    packed = np.empty((len(hi), 2), dtype=">u8")
    packed[:, 0] = hi
    packed[:, 1] = lo
    return pa.FixedSizeBinaryArray.from_buffers(pa.binary(16), len(hi), [None, pa.py_buffer(packed.tobytes())])


def binary_to_lanes(arr: pa.Array | pa.ChunkedArray) -> Lanes:
    """Inverse of ``lanes_to_binary``."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    raw = np.frombuffer(arr.buffers()[1], dtype=">u8", count=2 * (arr.offset + len(arr)))[2 * arr.offset:]
    pairs = raw.reshape(-1, 2).astype(np.uint64)
    return np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1])


def array_lanes(arr: pa.Array, seed: tuple[np.uint64, np.uint64]) -> Lanes:
    """Per-cell hash lanes of one canonical array."""
    s_hi, s_lo = seed
    t = arr.type
    n = len(arr)
    if pa.types.is_null(t):
        hi, lo = np.zeros(n, np.uint64), np.zeros(n, np.uint64)
    elif pa.types.is_boolean(t):
        v = arr.fill_null(False).to_numpy(zero_copy_only=False).astype(np.uint64)
        hi, lo = _scalar_lanes(v, s_hi, s_lo)
    elif _fixed_width(t) in (1, 2, 4, 8):
        hi, lo = _scalar_lanes(_fixed_values(arr), s_hi, s_lo)
    elif _fixed_width(t) and _fixed_width(t) % 8 == 0:
        words = _wide_words(arr)
        hi, lo = np.full(n, s_hi, np.uint64), np.full(n, s_lo, np.uint64)
        for j in range(words.shape[1]):
            hi, lo = _mix(hi ^ words[:, j]), _mix(lo + words[:, j])
    elif _is_var_binary(t) or pa.types.is_fixed_size_binary(t):
        d_hi, d_lo = _bytes_digests(arr)
        hi, lo = _mix(d_hi ^ s_hi), _mix(d_lo ^ s_lo)
    elif pa.types.is_list(t) or pa.types.is_fixed_size_list(t) or pa.types.is_map(t):
        hi, lo = _list_lanes(arr, s_hi, s_lo)
    elif pa.types.is_struct(t):
        hi, lo = np.full(n, s_hi, np.uint64), np.full(n, s_lo, np.uint64)
        for child_field, child in zip(t, arr.flatten()):
            c_hi, c_lo = array_lanes(child, column_seed(child_field.name, canonical_json(type_to_json(child_field.type)).decode()))
            hi, lo = hi + c_hi, lo + c_lo
        hi, lo = _mix(hi), _mix(lo ^ _GOLDEN)
    else:
        raise TypeError(f"unsupported canonical type {t}")
    if arr.null_count:
        valid = _validity(arr)
        hi = np.where(valid, hi, _mix(np.full(n, s_hi ^ _NULL_SALT, np.uint64)))
        lo = np.where(valid, lo, _mix(np.full(n, s_lo + _NULL_SALT, np.uint64)))
    return hi, lo


def _scalar_lanes(v: np.ndarray, s_hi: np.uint64, s_lo: np.uint64) -> Lanes:
    return _mix(v ^ s_hi), _mix(_mix(v + s_lo) ^ _GOLDEN)


def _list_lanes(arr: pa.Array, s_hi: np.uint64, s_lo: np.uint64) -> Lanes:
    """Order-sensitive combination of element hashes: sum of (element, position) mixes per list."""
    offsets, child = _list_parts(arr)
    m = len(child)
    lengths = np.diff(offsets)
    c_hi, c_lo = array_lanes(child, (s_hi ^ _GOLDEN, s_lo + _GOLDEN))
    owner_start = np.repeat(offsets[:-1], lengths)
    pos_mix = _mix(np.arange(m, dtype=np.uint64) - owner_start.astype(np.uint64) + _GOLDEN)
    e_hi, e_lo = _mix(c_hi ^ pos_mix), _mix(c_lo + pos_mix)
    cs_hi = np.concatenate([[_U64(0)], np.cumsum(e_hi, dtype=np.uint64)])
    cs_lo = np.concatenate([[_U64(0)], np.cumsum(e_lo, dtype=np.uint64)])
    sum_hi = cs_hi[offsets[1:]] - cs_hi[offsets[:-1]]
    sum_lo = cs_lo[offsets[1:]] - cs_lo[offsets[:-1]]
    len_mix = _mix(lengths.astype(np.uint64) ^ s_hi)
    return _mix(sum_hi ^ len_mix), _mix(sum_lo + len_mix)


def _list_parts(arr: pa.Array) -> tuple[np.ndarray, pa.Array]:
    """Offsets relative to the returned child slice (which starts at this array's first element)."""
    n = len(arr)
    if pa.types.is_fixed_size_list(arr.type):
        size = arr.type.list_size
        child = arr.values.slice(arr.offset * size, n * size)
        return np.arange(n + 1, dtype=np.int64) * size, child
    raw = np.frombuffer(arr.buffers()[1], dtype=np.int32, count=arr.offset + n + 1)[arr.offset:].astype(np.int64)
    child = arr.values.slice(int(raw[0]), int(raw[-1] - raw[0]))
    return raw - raw[0], child


def _fixed_width(t: pa.DataType) -> int:
    try:
        return int(t.bit_width) // 8 if not pa.types.is_boolean(t) else 0
    except ValueError:
        return 0


def _is_var_binary(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_binary(t))


def _fixed_values(arr: pa.Array) -> np.ndarray:
    """Cell bit patterns as uint64; NaNs are made canonical so every NaN row is one row."""
    width = _fixed_width(arr.type)
    raw = np.frombuffer(arr.buffers()[1], dtype=f"<u{width}", count=arr.offset + len(arr))[arr.offset:]
    if pa.types.is_floating(arr.type):
        floats = raw.view(f"<f{width}")
        nan = np.isnan(floats)
        if nan.any():
            raw = np.where(nan, raw.dtype.type(_CANONICAL_NAN[width]), raw)
    return raw.astype(np.uint64)


def _wide_words(arr: pa.Array) -> np.ndarray:
    width = _fixed_width(arr.type)
    raw = np.frombuffer(arr.buffers()[1], dtype="<u8", count=(arr.offset + len(arr)) * width // 8)
    return raw[arr.offset * width // 8:].reshape(len(arr), width // 8).astype(np.uint64)


def _validity(arr: pa.Array) -> np.ndarray:
    valid: np.ndarray = arr.is_valid().to_numpy(zero_copy_only=False)
    return valid


def _var_parts(arr: pa.Array) -> tuple[np.ndarray, memoryview]:
    """Offsets (int64, absolute into the data buffer) and the data buffer of string/binary."""
    if pa.types.is_fixed_size_binary(arr.type):
        w = arr.type.byte_width
        offsets = (np.arange(len(arr) + 1, dtype=np.int64) + arr.offset) * w
    else:
        offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32, count=arr.offset + len(arr) + 1)[arr.offset:].astype(np.int64)
    data = arr.buffers()[2] if not pa.types.is_fixed_size_binary(arr.type) else arr.buffers()[1]
    return offsets, memoryview(data) if data is not None else memoryview(b"")


def _bytes_digests(arr: pa.Array) -> Lanes:
    """One xxh3-128 per value: the only per-row Python loop on the hot path."""
    offsets, data = _var_parts(arr)
    digest = xxhash.xxh3_128_digest
    joined = b"".join([digest(data[a:b]) for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())])
    pairs = np.frombuffer(joined, dtype=">u8").reshape(-1, 2).astype(np.uint64)
    return np.ascontiguousarray(pairs[:, 0]), np.ascontiguousarray(pairs[:, 1])


def row_sizes(table: pa.Table | pa.RecordBatch) -> np.ndarray:
    """Logical bytes per row; deterministic from content (chunk cuts and ``du`` depend on it)."""
    sizes = np.zeros(table.num_rows, dtype=np.int64)
    for column in table.columns:
        for arr, start in _pieces(column):
            sizes[start:start + len(arr)] += array_sizes(arr)
    return sizes


def array_sizes(arr: pa.Array) -> np.ndarray:
    """Logical bytes per cell of one canonical array."""
    t = arr.type
    n = len(arr)
    if pa.types.is_null(t):
        return np.zeros(n, np.int64)
    if pa.types.is_boolean(t):
        return np.ones(n, np.int64)
    width = _fixed_width(t)
    if width and not (_is_var_binary(t)):
        return np.full(n, width, np.int64)
    if _is_var_binary(t):
        offsets, _ = _var_parts(arr)
        lengths: np.ndarray = np.diff(offsets)
        return lengths
    if pa.types.is_struct(t):
        total = np.zeros(n, np.int64)
        for child in arr.flatten():
            total += array_sizes(child)
        return total
    offsets, child = _list_parts(arr)
    cs = np.concatenate([[0], np.cumsum(array_sizes(child))])
    totals: np.ndarray = cs[offsets[1:]] - cs[offsets[:-1]]
    return totals


def content_id(table: pa.Table, schema_json: bytes) -> str:
    """SHA-256 over canonical schema plus normalised column buffers of all rows.

    Independent of Parquet bytes, pyarrow version and array chunking, so ``add`` can tell that
    a chunk already exists before encoding it.
    """
    h = hashlib.sha256(b"cgit-chunk-1\0")
    h.update(schema_json)
    h.update(table.num_rows.to_bytes(8, "little"))
    for column in table.columns:
        arr = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
        _digest_array(arr, h)
    return h.hexdigest()


def _digest_array(arr: pa.Array, h: "hashlib._Hash") -> None:
    t = arr.type
    n = len(arr)
    h.update(b"|" + n.to_bytes(8, "little"))
    valid = _validity(arr) if arr.null_count else None
    h.update(np.packbits(valid).tobytes() if valid is not None else b"\x01")
    if pa.types.is_null(t):
        return
    if pa.types.is_boolean(t):
        h.update(np.packbits(arr.fill_null(False).to_numpy(zero_copy_only=False)).tobytes())
    elif _is_var_binary(t) or pa.types.is_fixed_size_binary(t):
        if valid is not None:
            arr = arr.fill_null(pa.scalar(b"" if not pa.types.is_string(t) else "", t)) if not pa.types.is_fixed_size_binary(t) else arr
        offsets, data = _var_parts(arr)
        lengths = np.diff(offsets)
        if valid is not None:
            lengths = np.where(valid, lengths, -1)
        h.update(lengths.astype("<i8").tobytes())
        h.update(data[int(offsets[0]):int(offsets[-1])])
    elif _fixed_width(t):
        width = _fixed_width(t)
        raw = np.frombuffer(arr.buffers()[1], dtype=np.uint8, count=(arr.offset + n) * width)[arr.offset * width:]
        cells = raw.reshape(n, width)
        if pa.types.is_floating(t):
            cells = _fixed_values(arr).astype(f"<u{width}").view(np.uint8).reshape(n, width)
        if valid is not None:
            cells = np.where(valid[:, None], cells, np.uint8(0))
        h.update(np.ascontiguousarray(cells).tobytes())
    elif pa.types.is_struct(t):
        for child in arr.flatten():
            _digest_array(child, h)
    else:
        offsets, child = _list_parts(arr)
        h.update(np.diff(offsets).astype("<i8").tobytes())
        _digest_array(child, h)


def _pieces(column: pa.ChunkedArray | pa.Array) -> list[tuple[pa.Array, int]]:
    """The arrays of a column with their starting row, so chunked columns hash like one array."""
    if isinstance(column, pa.Array):
        return [(column, 0)]
    out = []
    start = 0
    for arr in column.chunks:
        out.append((arr, start))
        start += len(arr)
    return out
