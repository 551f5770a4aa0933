"""Random access to rows by position, and per-row hashes over a subset of columns.

Diff and merge touch only the rows that changed; this module turns table positions into
(chunk, row) addresses through the segment lists and reads just those rows.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pyarrow as pa

from corpusgit.store.objects import ObjectStore
from corpusgit.table.chunkio import ChunkCache
from corpusgit.table.hashing import binary_to_lanes, row_lanes
from corpusgit.table.model import ColumnGroup, TableObject
from corpusgit.table.reader import gather, read_table, segment_starts
from corpusgit.table.schema import ROW_HASH_COLUMN, ROW_HASH_TYPE

Lanes = tuple[np.ndarray, np.ndarray]


def take_rows(
    store: ObjectStore, table: TableObject, positions: np.ndarray, columns: Sequence[str], cache: ChunkCache | None = None
) -> pa.Table:
    """Rows at ``positions`` (any order, repeats allowed), with ``columns`` in that order."""
    cache = cache or ChunkCache(store)
    arrays: dict[str, pa.Array] = {}
    for group in table.groups:
        wanted = [c for c in group.columns if c in columns]
        if wanted:
            types = [table.schema.field(c).type for c in wanted]
            arrays.update(zip(wanted, _take_group(cache, group, positions, wanted, types)))
    fields = [table.schema.field(c) for c in columns]
    return pa.Table.from_arrays([arrays[c] for c in columns], schema=pa.schema(fields))


def take_hashes(store: ObjectStore, table: TableObject, positions: np.ndarray, groups: Sequence[int], cache: ChunkCache | None = None) -> Lanes:
    """Sum of the ``_cgit_row`` lanes of the given groups at ``positions``."""
    cache = cache or ChunkCache(store)
    hi = np.zeros(len(positions), np.uint64)
    lo = np.zeros(len(positions), np.uint64)
    with np.errstate(over="ignore"):
        for g in groups:
            (col,) = _take_group(cache, table.groups[g], positions, [ROW_HASH_COLUMN], [ROW_HASH_TYPE])
            g_hi, g_lo = binary_to_lanes(col)
            hi += g_hi
            lo += g_lo
    return hi, lo


def hashes_at(store: ObjectStore, table: TableObject, positions: np.ndarray, columns: Sequence[str], cache: ChunkCache | None = None) -> Lanes:
    """Row hashes over ``columns`` at ``positions``: from stored row hashes when the grouping
    allows (16 bytes a row read), else from the column data."""
    plan = hash_plan(table, columns)
    if plan is not None:
        return take_hashes(store, table, positions, plan, cache)
    return row_lanes(take_rows(store, table, positions, columns, cache))


def _take_group(cache: ChunkCache, group: ColumnGroup, positions: np.ndarray, columns: list[str], types: list[pa.DataType]) -> list[pa.Array]:
    if len(positions) == 0:
        return [pa.array([], t) for t in types]
    result = gather(lambda ref: cache.get(ref, columns, None), group, positions, segment_starts(group))
    return [result.column(c).combine_chunks() for c in columns]


def hash_plan(table: TableObject, columns: Sequence[str]) -> list[int] | None:
    """Groups whose ``_cgit_row`` lanes sum to the hash over ``columns``, or None when some
    group mixes wanted and unwanted columns (then the hash must be computed from data)."""
    wanted = set(columns)
    picked = []
    for i, group in enumerate(table.groups):
        inside = wanted.intersection(group.columns)
        if inside and len(inside) != len(group.columns):
            return None
        if inside:
            picked.append(i)
    return picked


def iter_hashes(store: ObjectStore, table: TableObject, columns: Sequence[str]) -> Iterator[Lanes]:
    """Stream per-row hashes over ``columns``: from stored row hashes when the grouping allows,
    else computed from the column data (only after schema changes)."""
    plan = hash_plan(table, columns)
    if plan is not None:
        sub = TableObject(table.schema, table.key, table.num_rows, table.logical_bytes, tuple(table.groups[g] for g in plan))
        reader = read_table(store, sub, columns=[], with_row_hash=True)
        for batch in reader:
            yield binary_to_lanes(batch.column(ROW_HASH_COLUMN))
        return
    for batch in read_table(store, table, columns=list(columns)):
        yield row_lanes(batch)


def all_hashes(store: ObjectStore, table: TableObject, columns: Sequence[str]) -> Lanes:
    """Every row's hash over ``columns`` (16 bytes per row in memory; data is streamed)."""
    his, los = [], []
    for hi, lo in iter_hashes(store, table, columns):
        his.append(hi)
        los.append(lo)
    if not his:
        return np.zeros(0, np.uint64), np.zeros(0, np.uint64)
    return np.concatenate(his), np.concatenate(los)
