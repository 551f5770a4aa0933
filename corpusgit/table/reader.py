"""Streaming reads of a table version: segments become batches, column groups are zipped.

Consecutive segments of the same chunk are gathered with one ``take`` so a fragmented table
(after scattered filters) still reads in large batches. A group whose segments keep jumping
back to chunks already visited (a shuffle) is read in windows of output rows instead: each
window decodes every chunk it needs once, takes its rows, and puts them back in order, so a
permuted table costs a few decodes per chunk rather than one per row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np
import pyarrow as pa

from corpusgit.store.objects import ObjectStore
from corpusgit.table.chunkio import ChunkCache, read_chunk
from corpusgit.table.hashing import binary_to_lanes, lanes_to_binary
from corpusgit.table.model import ChunkRef, ColumnGroup, TableObject
from corpusgit.table.schema import ROW_HASH_COLUMN, ROW_HASH_TYPE

BATCH_ROWS = 16_384  # rows per yielded batch: large enough for vectorised work, small for RAM
SMALL_PIECE_ROWS = 1_024  # pieces below this (shuffled or heavily filtered tables) are gathered
GATHER_BYTES = 4 << 20  # ... into batches of at most about this many bytes
WINDOW_BYTES = 64 << 20  # decoded rows a shuffled group gathers at once (held twice while gathered)
WINDOW_BATCH_BYTES = 8 << 20  # ... and yields in batches of about this size (they are copies)


def read_table(
    store: ObjectStore,
    table: TableObject,
    columns: Sequence[str] | None = None,
    with_row_hash: bool = False,
    needed_by: str | None = None,
) -> pa.RecordBatchReader:
    """Stream a table version (optionally only some columns, optionally with ``_cgit_row``)."""
    wanted = list(columns) if columns is not None else list(table.schema.names)
    unknown = [c for c in wanted if c not in table.schema.names]
    if unknown:
        from corpusgit.errors import BadInput

        raise BadInput(f"no column {unknown[0]!r} in table {needed_by or ''}".strip(), hint=f"columns are: {', '.join(table.schema.names)}")
    fields = [table.schema.field(c) for c in wanted]
    if with_row_hash:
        fields.append(pa.field(ROW_HASH_COLUMN, ROW_HASH_TYPE, nullable=False))
    schema = pa.schema(fields, metadata=table.schema.metadata)
    batches = _iter_batches(store, table, wanted, with_row_hash, schema, needed_by)
    return pa.RecordBatchReader.from_batches(schema, _rebatch(batches, schema))


def _rebatch(batches: Iterator[pa.RecordBatch], schema: pa.Schema) -> Iterator[pa.RecordBatch]:
    """Gather the small pieces of a fragmented or shuffled table (often one row per segment)
    into batches, so consumers such as Parquet writers never see thousands of one-row batches.
    Pieces that are already large pass through untouched, keeping memory as it was."""
    pending: list[pa.RecordBatch] = []
    rows = size = 0
    for batch in batches:
        if batch.num_rows >= SMALL_PIECE_ROWS:
            if pending:
                yield from _concat(pending, schema)
                pending, rows, size = [], 0, 0
            yield batch
            continue
        pending.append(batch)
        rows += batch.num_rows
        size += batch.nbytes
        if rows >= BATCH_ROWS or size >= GATHER_BYTES:
            yield from _concat(pending, schema)
            pending, rows, size = [], 0, 0
    if pending:
        yield from _concat(pending, schema)


def _concat(batches: list[pa.RecordBatch], schema: pa.Schema) -> list[pa.RecordBatch]:
    joined: list[pa.RecordBatch] = pa.Table.from_batches(batches, schema=schema).combine_chunks().to_batches()
    return joined


def _iter_batches(
    store: ObjectStore, table: TableObject, wanted: list[str], with_row_hash: bool, schema: pa.Schema, needed_by: str | None
) -> Iterator[pa.RecordBatch]:
    groups = [g for g in table.groups if with_row_hash or any(c in g.columns for c in wanted)]
    if not groups and table.num_rows:
        groups = [table.groups[0]]
    cache = ChunkCache(store)
    streams = [_iter_group(cache, g, _group_columns(g, wanted, with_row_hash), needed_by) for g in groups]
    for parts in _zip_aligned(streams):
        columns: dict[str, pa.Array] = {}
        hi = lo = None
        for part in parts:
            for name in part.schema.names:
                if name == ROW_HASH_COLUMN:
                    g_hi, g_lo = binary_to_lanes(part.column(name))
                    with np.errstate(over="ignore"):
                        hi, lo = (g_hi, g_lo) if hi is None else (hi + g_hi, lo + g_lo)
                else:
                    columns[name] = part.column(name)
        arrays = [_as_array(columns[c]) for c in wanted]
        if hi is not None and lo is not None:
            arrays.append(lanes_to_binary(hi, lo))
        if arrays:
            yield pa.RecordBatch.from_arrays(arrays, schema=schema)


def _as_array(col: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(col, pa.ChunkedArray):
        return col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    return col


def _group_columns(group: ColumnGroup, wanted: list[str], with_row_hash: bool) -> list[str]:
    cols = [c for c in group.columns if c in wanted]
    return cols + [ROW_HASH_COLUMN] if with_row_hash else cols


def segment_starts(group: ColumnGroup) -> np.ndarray:
    """Table position of each segment's first row."""
    starts = np.zeros(len(group.seg_rows), dtype=np.int64)
    if len(starts) > 1:
        np.cumsum(group.seg_rows[:-1], out=starts[1:])
    return starts


def address(group: ColumnGroup, positions: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(chunk index, row in chunk) of table positions; ``starts`` from :func:`segment_starts`."""
    seg = np.searchsorted(starts, positions, side="right") - 1
    return group.seg_chunk[seg], group.seg_start[seg] + (positions - starts[seg])


def gather(fetch: Callable[[ChunkRef], pa.Table], group: ColumnGroup, positions: np.ndarray, starts: np.ndarray) -> pa.Table:
    """The group's rows at table ``positions`` (any order, repeats allowed), fetching each chunk
    they touch once."""
    rows, back = _gather_by_chunk(fetch, group, positions, starts)
    return rows.take(pa.array(back))


def _gather_by_chunk(
    fetch: Callable[[ChunkRef], pa.Table], group: ColumnGroup, positions: np.ndarray, starts: np.ndarray
) -> tuple[pa.Table, np.ndarray]:
    """The rows at ``positions`` grouped by chunk, and where each position's row is in them.

    Returned unordered so a caller can reorder slice by slice: the per-chunk pieces are freed
    before that, so memory peaks at twice the rows, not three times."""
    chunk, row = address(group, positions, starts)
    order = np.argsort(chunk, kind="stable")
    bounds = np.flatnonzero(np.diff(chunk[order])) + 1
    parts = [fetch(group.chunks[int(chunk[idx[0]])]).take(pa.array(row[idx])) for idx in np.split(order, bounds)]
    back = np.empty(len(positions), dtype=np.int64)
    back[order] = np.arange(len(positions))
    return pa.concat_tables(parts, promote_options="default").combine_chunks(), back  # chunks may differ in nullability


def _iter_group(cache: ChunkCache, group: ColumnGroup, columns: list[str], needed_by: str | None) -> Iterator[pa.Table]:
    """Yield the group's rows in order as tables of at most ~BATCH_ROWS rows."""
    if _revisits_chunks(group):
        yield from _iter_windows(cache, group, columns, needed_by)
        return
    n = group.num_segments
    last_use = np.full(len(group.chunks), -1, dtype=np.int64)
    np.maximum.at(last_use, group.seg_chunk, np.arange(n, dtype=np.int64))
    i = 0
    while i < n:
        c = int(group.seg_chunk[i])
        j = i + 1
        total = int(group.seg_rows[i])
        while j < n and int(group.seg_chunk[j]) == c and total < BATCH_ROWS:
            total += int(group.seg_rows[j])
            j += 1
        chunk = cache.get(group.chunks[c], columns, needed_by)
        if last_use[c] < j:
            cache.drop(group.chunks[c], columns)
        if j == i + 1:
            yield chunk.slice(int(group.seg_start[i]), int(group.seg_rows[i]))
        else:
            starts, rows = group.seg_start[i:j], group.seg_rows[i:j]
            idx = np.concatenate([np.arange(s, s + r) for s, r in zip(starts.tolist(), rows.tolist())])
            yield chunk.take(pa.array(idx))
        i = j


def _revisits_chunks(group: ColumnGroup) -> bool:
    """True when reading segment by segment would return to chunks already left many times,
    which no bounded cache survives once the table outgrows it."""
    visits = 1 + int(np.count_nonzero(np.diff(group.seg_chunk)))
    return visits > 2 * len(group.chunks) + 8


def _iter_windows(cache: ChunkCache, group: ColumnGroup, columns: list[str], needed_by: str | None) -> Iterator[pa.Table]:
    starts = segment_starts(group)
    total = int(group.seg_rows.sum())
    sample = cache.get(group.chunks[int(group.seg_chunk[0])], columns, needed_by)
    row_bytes = max(1, sample.nbytes // max(1, sample.num_rows))
    window = max(SMALL_PIECE_ROWS, WINDOW_BYTES // row_bytes)
    batch = min(BATCH_ROWS, max(SMALL_PIECE_ROWS, WINDOW_BATCH_BYTES // row_bytes))

    def fetch(ref: ChunkRef) -> pa.Table:
        return read_chunk(cache.store, ref, columns, needed_by)

    for lo in range(0, total, window):
        rows, back = _gather_by_chunk(fetch, group, np.arange(lo, min(total, lo + window), dtype=np.int64), starts)
        for k in range(0, len(back), batch):
            yield rows.take(pa.array(back[k : k + batch]))
        del rows, back  # else this window stays alive while the next one is gathered


def _zip_aligned(streams: list[Iterator[pa.Table]]) -> Iterator[list[pa.Table]]:
    """Cut the groups' pieces at the union of their boundaries, so rows stay aligned."""
    if not streams:
        return
    if len(streams) == 1:
        for piece in streams[0]:
            yield [piece]
        return
    heads: list[pa.Table | None] = [None] * len(streams)
    while True:
        for k, stream in enumerate(streams):
            while heads[k] is None or heads[k].num_rows == 0:  # type: ignore[union-attr]
                nxt = next(stream, None)
                if nxt is None:
                    return
                heads[k] = nxt
        n = min(h.num_rows for h in heads if h is not None)
        yield [h.slice(0, n) for h in heads if h is not None]
        heads = [h.slice(n) if h is not None else None for h in heads]
