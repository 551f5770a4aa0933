"""Encoding chunks as Parquet and reading them back verified.

Writer options are all spelled out: pyarrow's defaults have changed across releases, and
although chunk ids never depend on file bytes, stable settings keep sizes and speed stable.
"""

from __future__ import annotations

from collections import OrderedDict

import pyarrow as pa
import pyarrow.parquet as pq
import xxhash

from corpusgit.errors import CorruptObject
from corpusgit.store.objects import ObjectStore
from corpusgit.table.model import ChunkRef
from corpusgit.store.canonical import canonical_json
from corpusgit.table.hashing import content_id, lanes_to_binary, row_lanes
from corpusgit.table.schema import ROW_HASH_COLUMN, schema_to_json

ZSTD_LEVEL = 1  # Arrow's default: level 3 makes text chunks ~12% smaller but halves ingest speed,
#                and ingest must keep up with a plain pyarrow read+write (measured: 0.86x vs 0.41x)
DICT_MAX_AVG_BYTES = 64  # longer strings (documents) are unique: dictionary pages only cost time
CACHE_BYTES = 128 << 20  # decoded chunks kept for random access (shuffled tables, diffs, merges): bounded


def file_checksum(data: bytes | pa.Buffer | memoryview) -> str:
    """Fast per-file checksum (xxh3-64) verified on every chunk read."""
    return xxhash.xxh3_64_hexdigest(data)


def encode_chunk(table: pa.Table) -> pa.Buffer:
    """Parquet bytes of one chunk: a single row group, zstd data columns; the row hash is stored
    plain, since random bytes do not compress and diffs read it 3-4x faster uncompressed."""
    sink = pa.BufferOutputStream()
    dict_columns = [name for name in table.schema.names if name != ROW_HASH_COLUMN and _dictionary_pays(table.column(name))]
    codecs = {name: "none" if name == ROW_HASH_COLUMN else "zstd" for name in table.schema.names}
    with pq.ParquetWriter(
        sink,
        table.schema,
        compression=codecs,
        compression_level={name: ZSTD_LEVEL for name in table.schema.names if codecs[name] == "zstd"},
        version="2.6",
        data_page_version="1.0",
        use_dictionary=dict_columns,
        write_statistics=False,
        store_schema=True,
    ) as writer:
        writer.write_table(table, row_group_size=max(table.num_rows, 1))
    return sink.getvalue()


def _dictionary_pays(column: pa.ChunkedArray) -> bool:
    """Dictionary-encode labels (lang, source), not documents."""
    t = column.type
    if not (pa.types.is_string(t) or pa.types.is_binary(t)) or len(column) == 0:
        return True
    return bool(column.nbytes / len(column) <= DICT_MAX_AVG_BYTES)


def chunk_id(data: pa.Table) -> str:
    """Content id of a chunk's data columns. Schema-level metadata (pandas and friends) belongs
    to the table, not the chunk, so it never takes part."""
    data = data.drop_columns([c for c in (ROW_HASH_COLUMN,) if c in data.schema.names])
    return content_id(data, canonical_json(schema_to_json(data.schema.remove_metadata())))


def stores_row_hash(schema: pa.Schema) -> bool:
    """Whether a chunk keeps its ``_cgit_row`` column on disk.

    Row hashes of fixed-width columns (a score, a label id, a timestamp) are recomputed from the
    data faster than they are read, and storing them would cost 16 bytes a row: more than a
    float column itself. Strings, binaries and nested values keep theirs.
    """
    return not all(_fixed_width(f.type) for f in schema if f.name != ROW_HASH_COLUMN)


def _fixed_width(t: pa.DataType) -> bool:
    return bool(pa.types.is_boolean(t) or pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_temporal(t) or pa.types.is_decimal(t))


def store_chunk(store: ObjectStore, oid: str, table: pa.Table) -> ChunkRef:
    """Persist a chunk unless it exists already; idempotent."""
    existing = store.locate(oid)
    if existing is not None:
        data = existing.read_bytes()
        return ChunkRef(oid, table.num_rows, len(data), file_checksum(data))
    if ROW_HASH_COLUMN in table.schema.names and not stores_row_hash(table.schema):
        table = table.drop_columns([ROW_HASH_COLUMN])
    buf = encode_chunk(table)
    store.put_raw(oid, buf)
    return ChunkRef(oid, table.num_rows, buf.size, file_checksum(buf))


def read_chunk(store: ObjectStore, ref: ChunkRef, columns: list[str] | None, needed_by: str | None, threads: bool = True) -> pa.Table:
    """Load a chunk's columns after checking its file checksum; corrupt data is never used.

    ``threads=False`` decodes entirely on the calling thread, without Arrow's thread pools or
    I/O futures: for callers that already decode many chunks on their own threads.
    """
    data = store.read_raw(ref.id, needed_by)
    got = file_checksum(data)
    if got != ref.checksum:
        raise CorruptObject(ref.id, ref.checksum, got, needed_by)
    try:
        table = _decode(data, columns, threads)
    except (pa.ArrowException, OSError) as exc:
        raise CorruptObject(ref.id, "readable Parquet", str(exc).splitlines()[0], needed_by) from exc
    if table.num_rows != ref.rows:
        raise CorruptObject(ref.id, f"{ref.rows} rows", f"{table.num_rows} rows", needed_by)
    return table


def arrow_owned(data: bytes) -> pa.Buffer:
    """A copy of ``data`` in Arrow's own memory, for threaded Parquet reads.

    A buffer wrapping Python ``bytes`` is released by whichever reader thread drops it last, and
    that needs the GIL; if the interpreter is exiting by then, CPython ends the thread mid-C++
    and the process aborts ("terminate called without an active exception"). One memcpy of the
    compressed bytes removes the race.
    """
    buf = pa.allocate_buffer(len(data))
    pa.FixedSizeBufferWriter(buf).write(data)
    return buf


def _decode(data: bytes, columns: list[str] | None, threads: bool = True) -> pa.Table:
    """Parquet to Arrow; a ``_cgit_row`` the chunk does not store is computed from its data."""
    pf = pq.ParquetFile(pa.BufferReader(arrow_owned(data)), pre_buffer=threads)
    names = pf.schema_arrow.names
    if columns is None or ROW_HASH_COLUMN not in columns or ROW_HASH_COLUMN in names:
        return pf.read(columns=columns, use_threads=threads)
    table = pf.read(use_threads=threads)
    table = table.append_column(ROW_HASH_COLUMN, lanes_to_binary(*row_lanes(table)))
    return table.select(columns)


class ChunkCache:
    """LRU of decoded chunks bounded in bytes, so reading stays streaming yet never re-reads a
    chunk for every small segment of a fragmented table."""

    def __init__(self, store: ObjectStore, budget: int = CACHE_BYTES) -> None:
        self.store = store
        self._budget = budget
        self._used = 0
        self._items: OrderedDict[tuple[str, tuple[str, ...] | None], pa.Table] = OrderedDict()

    def get(self, ref: ChunkRef, columns: list[str] | None, needed_by: str | None) -> pa.Table:
        key = (ref.id, tuple(columns) if columns is not None else None)
        table = self._items.get(key)
        if table is not None:
            self._items.move_to_end(key)
            return table
        table = read_chunk(self.store, ref, columns, needed_by)
        self._items[key] = table
        self._used += table.nbytes
        while self._used > self._budget and len(self._items) > 1:
            _, old = self._items.popitem(last=False)
            self._used -= old.nbytes
        return table

    def drop(self, ref: ChunkRef, columns: list[str] | None) -> None:
        """Forget a chunk no later segment needs, so a sequential read holds one chunk, not the
        whole budget."""
        old = self._items.pop((ref.id, tuple(columns) if columns is not None else None), None)
        if old is not None:
            self._used -= old.nbytes
