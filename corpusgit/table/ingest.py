"""Ingest = match, then store.

Each incoming row is hashed and looked up (vectorised, by sorted search) among the rows of the
chunks the previous versions already hold. Matched runs become segments pointing at old chunk
rows; only unmatched rows are written, as new content-defined chunks. Filters, redactions,
re-shards and appends therefore cost about what changed.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from corpusgit.store.objects import ObjectStore
from corpusgit.table.chunking import ChunkParams, find_cuts
from corpusgit.table.chunkio import chunk_id, read_chunk, store_chunk
from corpusgit.table.hashing import binary_to_lanes, lanes_to_binary, row_lanes, row_sizes
from corpusgit.table.model import ChunkRef, ColumnGroup, TableObject
from corpusgit.table.schema import ROW_HASH_COLUMN

MAX_PENDING_WRITES = 3  # chunk encodes in flight: overlap with hashing, bounded memory
WRITER_THREADS = 2  # Parquet encoding and SHA-256 release the GIL: use both cores


@dataclass
class MatchIndex:
    """Rows of existing chunks sorted by hash; ``lookup`` is a vectorised binary search."""

    refs: list[ChunkRef]
    hi: np.ndarray
    lo: np.ndarray
    chunk: np.ndarray
    row: np.ndarray

    @classmethod
    def build(cls, store: ObjectStore, refs: Iterable[ChunkRef]) -> MatchIndex:
        unique = list({r.id: r for r in refs}.values())
        his, los, chunks, rows = [], [], [], []
        for i, ref in enumerate(unique):
            table = read_chunk(store, ref, [ROW_HASH_COLUMN], needed_by="the previous version (for matching)")
            hi, lo = binary_to_lanes(table.column(ROW_HASH_COLUMN))
            his.append(hi)
            los.append(lo)
            chunks.append(np.full(len(hi), i, dtype=np.int64))
            rows.append(np.arange(len(hi), dtype=np.int64))
        if not unique:
            empty = np.zeros(0, np.uint64)
            return cls([], empty, empty, np.zeros(0, np.int64), np.zeros(0, np.int64))
        hi, lo = np.concatenate(his), np.concatenate(los)
        order = np.lexsort((lo, hi))
        return cls(unique, hi[order], lo[order], np.concatenate(chunks)[order], np.concatenate(rows)[order])

    def lookup(self, hi: np.ndarray, lo: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(chunk index, row) of a stored copy of each row, or -1 where there is none."""
        n = len(hi)
        found_chunk = np.full(n, -1, dtype=np.int64)
        found_row = np.full(n, -1, dtype=np.int64)
        if len(self.hi) == 0 or n == 0:
            return found_chunk, found_row
        pos = np.minimum(np.searchsorted(self.hi, hi), len(self.hi) - 1)
        same_hi = self.hi[pos] == hi
        hit = same_hi & (self.lo[pos] == lo)
        found_chunk[hit] = self.chunk[pos[hit]]
        found_row[hit] = self.row[pos[hit]]
        # Different rows sharing a 64-bit hi lane (vanishingly rare): search their lo lanes.
        for i in np.flatnonzero(same_hi & ~hit).tolist():
            end = int(np.searchsorted(self.hi, hi[i], side="right"))
            j = int(pos[i]) + int(np.searchsorted(self.lo[pos[i]:end], lo[i]))
            if j < end and self.lo[j] == lo[i]:
                found_chunk[i] = self.chunk[j]
                found_row[i] = self.row[j]
        return found_chunk, found_row


@dataclass
class _GroupBuilder:
    """Segments and pending new rows of one column group while a table streams in."""

    columns: tuple[str, ...]
    index: MatchIndex | None
    params: ChunkParams
    seg_chunk: list[np.ndarray] = field(default_factory=list)
    seg_start: list[np.ndarray] = field(default_factory=list)
    seg_rows: list[np.ndarray] = field(default_factory=list)
    pending: list[pa.Table] = field(default_factory=list)
    pending_rows: int = 0
    pending_bytes: int = 0
    new_chunks: list[Future[ChunkRef]] = field(default_factory=list)

    def add_segments(self, chunk: np.ndarray, start: np.ndarray, rows: np.ndarray) -> None:
        self.seg_chunk.append(chunk)
        self.seg_start.append(start)
        self.seg_rows.append(rows)


class TableIngest:
    """Streams record batches of one table into chunks and a ``TableObject``."""

    def __init__(
        self,
        store: ObjectStore,
        schema: pa.Schema,
        layout: Sequence[tuple[str, ...]],
        indexes: Sequence[MatchIndex | None],
        key: Sequence[str] = (),
        params: ChunkParams | None = None,
        pool: ThreadPoolExecutor | None = None,
    ) -> None:
        self._store = store
        self._schema = schema
        self._key = tuple(key)
        self._params = params or ChunkParams()
        self._groups = [_GroupBuilder(cols, idx, self._params) for cols, idx in zip(layout, indexes)]
        self._pool = pool
        self._own_pool = pool is None
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=WRITER_THREADS, thread_name_prefix="cgit-chunk")
        self._num_rows = 0
        self._logical_bytes = 0

    def feed(self, batch: pa.RecordBatch) -> None:
        """Match and stage one canonical batch."""
        if batch.num_rows == 0:
            return
        sizes = row_sizes(batch)
        self._num_rows += batch.num_rows
        self._logical_bytes += int(sizes.sum())
        for group in self._groups:
            sub = batch.select(list(group.columns))
            self._feed_group(group, sub, sizes if len(self._groups) == 1 else _group_sizes(sub))

    def _feed_group(self, group: _GroupBuilder, sub: pa.RecordBatch, sizes: np.ndarray) -> None:
        hi, lo = row_lanes(sub)
        if group.index is not None:
            chunk, row = group.index.lookup(hi, lo)
        else:
            chunk = row = np.full(len(hi), -1, dtype=np.int64)
        matched = chunk >= 0
        n = len(hi)
        brk = np.ones(n, dtype=bool)
        jump = (chunk[1:] != chunk[:-1]) | (row[1:] != row[:-1] + 1)
        brk[1:] = (matched[1:] != matched[:-1]) | (matched[1:] & jump)
        starts = np.flatnonzero(brk)
        ends = np.append(starts[1:], n)
        for a, b in zip(starts.tolist(), ends.tolist()):
            if matched[a]:
                group.add_segments(chunk[a:a + 1], row[a:a + 1], np.array([b - a], dtype=np.int64))
            else:
                self._stage_new(group, sub.slice(a, b - a), hi[a:b], lo[a:b], sizes[a:b])

    def _stage_new(self, group: _GroupBuilder, rows: pa.RecordBatch, hi: np.ndarray, lo: np.ndarray, sizes: np.ndarray) -> None:
        """Append unmatched rows to the open chunk, closing it at content-defined cuts."""
        with_hash = rows.append_column(ROW_HASH_COLUMN, lanes_to_binary(hi, lo))
        cuts = find_cuts(lo, sizes, group.pending_bytes, group.pending_rows, self._params)
        start = 0
        for cut in cuts + [len(sizes) - 1]:
            end = cut + 1
            if end > start:
                piece = with_hash.slice(start, end - start)
                pending_id = -(len(group.new_chunks) + 1)
                group.add_segments(np.array([pending_id]), np.array([group.pending_rows]), np.array([end - start]))
                group.pending.append(pa.Table.from_batches([piece]))
                group.pending_rows += end - start
                group.pending_bytes += int(sizes[start:end].sum())
            if cut in cuts:
                self._close_chunk(group)
            start = end

    def _close_chunk(self, group: _GroupBuilder) -> None:
        if not group.pending:
            return
        table = pa.concat_tables(group.pending).combine_chunks()
        group.pending, group.pending_rows, group.pending_bytes = [], 0, 0
        assert self._pool is not None
        while sum(not f.done() for f in group.new_chunks) >= MAX_PENDING_WRITES:
            next(f for f in group.new_chunks if not f.done()).result()
        group.new_chunks.append(self._pool.submit(self._write_chunk, table))

    def _write_chunk(self, table: pa.Table) -> ChunkRef:
        return store_chunk(self._store, chunk_id(table), table)

    def finish(self) -> TableObject:
        """Close open chunks, wait for writes, and assemble the table object."""
        try:
            groups = tuple(self._finish_group(g) for g in self._groups)
        finally:
            if self._own_pool and self._pool is not None:
                self._pool.shutdown(wait=True)
        return TableObject(self._schema, self._key, self._num_rows, self._logical_bytes, groups)

    def _finish_group(self, group: _GroupBuilder) -> ColumnGroup:
        self._close_chunk(group)
        new_refs = [f.result() for f in group.new_chunks]
        old_refs = group.index.refs if group.index is not None else []
        if not group.seg_chunk:
            return ColumnGroup(group.columns, (), *(np.zeros(0, np.int64) for _ in range(3)))
        chunk = np.concatenate(group.seg_chunk)
        start = np.concatenate(group.seg_start).astype(np.int64)
        rows = np.concatenate(group.seg_rows).astype(np.int64)
        refs = [old_refs[c] if c >= 0 else new_refs[-c - 1] for c in chunk.tolist()]
        ordered: dict[str, int] = {}
        local = np.array([ordered.setdefault(r.id, len(ordered)) for r in refs], dtype=np.int64)
        by_id = {r.id: r for r in refs}
        chunk_refs = tuple(by_id[i] for i in ordered)
        local, start, rows = _merge_adjacent(local, start, rows)
        return ColumnGroup(group.columns, chunk_refs, local, start, rows)


def _group_sizes(sub: pa.RecordBatch) -> np.ndarray:
    return row_sizes(sub)


def _merge_adjacent(chunk: np.ndarray, start: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Join segments that continue each other in the same chunk (fewer segments, faster reads)."""
    if len(chunk) <= 1:
        return chunk, start, rows
    cont = np.zeros(len(chunk), dtype=bool)
    cont[1:] = (chunk[1:] == chunk[:-1]) & (start[1:] == start[:-1] + rows[:-1])
    head = np.flatnonzero(~cont)
    total = np.add.reduceat(rows, head)
    return chunk[head], start[head], total
