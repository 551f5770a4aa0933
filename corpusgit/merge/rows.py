"""Row-level building blocks of a table merge: key lookups, cell-wise 3-way choice, and the
streaming rewrite of "ours" into the merged table.

Only changed rows are held in memory; the merged table streams batch by batch from ours, so
merging two branches of a table larger than RAM stays bounded.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from corpusgit.store.objects import ObjectStore
from corpusgit.table.chunkio import ChunkCache
from corpusgit.table.hashing import array_lanes, column_seed, row_lanes
from corpusgit.table.model import TableObject
from corpusgit.table.positions import take_rows
from corpusgit.table.reader import read_table
from corpusgit.table.schema import conform

Lanes = tuple[np.ndarray, np.ndarray]


class HashIndex:
    """Sorted (hash -> position) lookup over one table, built by streaming a few columns."""

    def __init__(self, hi: np.ndarray, lo: np.ndarray, positions: np.ndarray) -> None:
        order = np.lexsort((lo, hi))
        self.hi, self.lo, self.pos = hi[order], lo[order], positions[order]

    @classmethod
    def over(cls, store: ObjectStore, table: TableObject, columns: Sequence[str], wanted: Lanes | None = None) -> HashIndex:
        """Index rows by their hash over ``columns``; with ``wanted``, keep only those hashes."""
        his, los, poss = [], [], []
        start = 0
        for batch in read_table(store, table, columns=list(columns)):
            hi, lo = row_lanes(batch)
            pos = np.arange(start, start + batch.num_rows, dtype=np.int64)
            start += batch.num_rows
            if wanted is not None:
                keep = contains(wanted, hi, lo)
                hi, lo, pos = hi[keep], lo[keep], pos[keep]
            his.append(hi)
            los.append(lo)
            poss.append(pos)
        if not his:
            empty = np.zeros(0, np.uint64)
            return cls(empty, empty, np.zeros(0, np.int64))
        return cls(np.concatenate(his), np.concatenate(los), np.concatenate(poss))

    def lookup(self, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
        """Position of a row with each hash, or -1."""
        out = np.full(len(hi), -1, dtype=np.int64)
        if len(self.hi) == 0 or len(hi) == 0:
            return out
        idx = np.minimum(np.searchsorted(self.hi, hi), len(self.hi) - 1)
        hit = (self.hi[idx] == hi) & (self.lo[idx] == lo)
        out[hit] = self.pos[idx[hit]]
        return out


def contains(wanted: Lanes, hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """Mask of (hi, lo) pairs present in ``wanted``."""
    w_hi, w_lo = wanted
    if len(w_hi) == 0:
        return np.zeros(len(hi), dtype=bool)
    order = np.lexsort((w_lo, w_hi))
    s_hi, s_lo = w_hi[order], w_lo[order]
    idx = np.minimum(np.searchsorted(s_hi, hi), len(s_hi) - 1)
    mask: np.ndarray = (s_hi[idx] == hi) & (s_lo[idx] == lo)
    return mask


def key_lanes(store: ObjectStore, table: TableObject, positions: np.ndarray, key: Sequence[str], cache: ChunkCache) -> Lanes:
    return row_lanes(take_rows(store, table, positions, list(key), cache))


def merge_cells(schema: pa.Schema, base: pa.Table | None, ours: pa.Table, theirs: pa.Table, prefer: str) -> tuple[pa.Table, np.ndarray, list[list[str]]]:
    """Cell-wise three-way choice for paired rows.

    A cell takes theirs where only theirs changed it; a cell both sides changed differently is
    a conflict, resolved by ``prefer`` ("theirs" takes theirs, anything else keeps ours).
    Returns the merged rows, a per-row conflict mask and the conflicting columns per row.
    """
    n = ours.num_rows
    conflict = np.zeros(n, dtype=bool)
    clashing: list[list[str]] = [[] for _ in range(n)]
    columns = []
    for f in schema:
        o_has, t_has = f.name in ours.schema.names, f.name in theirs.schema.names
        if not t_has or not o_has:
            src = ours if o_has else theirs
            columns.append(src.column(f.name).combine_chunks() if (o_has or t_has) else pa.nulls(n, f.type))
            continue
        o_col, t_col = ours.column(f.name).combine_chunks(), theirs.column(f.name).combine_chunks()
        seed = column_seed(f.name)
        o_h, t_h = _cell_hash(o_col, seed), _cell_hash(t_col, seed)
        if base is not None and f.name in base.schema.names:
            b_h = _cell_hash(base.column(f.name).combine_chunks(), seed)
            o_changed, t_changed = o_h != b_h, t_h != b_h
        else:
            o_changed = t_changed = np.ones(n, dtype=bool)
        clash = o_changed & t_changed & (o_h != t_h)
        take_t = (t_changed & ~o_changed) | (clash if prefer == "theirs" else np.zeros(n, dtype=bool))
        conflict |= clash
        for i in np.flatnonzero(clash).tolist():
            clashing[i].append(f.name)
        columns.append(pc.if_else(pa.array(take_t), t_col.cast(f.type), o_col.cast(f.type)))
    return pa.Table.from_arrays(columns, schema=schema), conflict, clashing


def _cell_hash(col: pa.Array, seed: tuple[np.uint64, np.uint64]) -> np.ndarray:
    hi, lo = array_lanes(col, seed)
    packed: np.ndarray = hi ^ (lo * np.uint64(0x9E3779B97F4A7C15))
    return packed


def rewrite(
    store: ObjectStore,
    ours: TableObject,
    schema: pa.Schema,
    drop: np.ndarray,
    replace_pos: np.ndarray,
    replace_rows: pa.Table,
    fill: Fill | None,
    appended: Sequence[pa.Table],
) -> Iterator[pa.RecordBatch]:
    """Stream ``ours`` with rows dropped and replaced, extra columns filled, rows appended."""
    drop = np.sort(drop)
    order = np.argsort(replace_pos, kind="stable")
    replace_pos = replace_pos[order]
    replace_rows = conform(replace_rows.take(pa.array(order)), schema) if replace_rows.num_rows else replace_rows
    own = [c for c in schema.names if c in ours.schema.names]
    start = 0
    for batch in read_table(store, ours, columns=own):
        n = batch.num_rows
        table = conform(pa.Table.from_batches([batch]), schema)
        if fill is not None:
            table = fill.apply(table)
        lo_d, hi_d = np.searchsorted(drop, [start, start + n])
        lo_r, hi_r = np.searchsorted(replace_pos, [start, start + n])
        keep = np.ones(n, dtype=bool)
        keep[drop[lo_d:hi_d] - start] = False
        source = np.arange(n, dtype=np.int64)
        if hi_r > lo_r:
            local = replace_pos[lo_r:hi_r] - start
            source[local] = n + np.arange(hi_r - lo_r)
            table = pa.concat_tables([table, replace_rows.slice(lo_r, hi_r - lo_r)])
        start += n
        picked = source[keep]
        if len(picked):
            yield from table.take(pa.array(picked)).combine_chunks().to_batches()
    for extra in appended:
        if extra.num_rows:
            yield from conform(extra, schema).combine_chunks().to_batches()


class Fill:
    """Values of columns only theirs has, looked up for ours' rows by key (or row hash)."""

    def __init__(self, store: ObjectStore, theirs: TableObject, columns: list[str], match: list[str]) -> None:
        self._store = store
        self._theirs = theirs
        self._columns = columns
        self._match = match
        self._index = HashIndex.over(store, theirs, match)
        self._cache = ChunkCache(store)

    def apply(self, table: pa.Table) -> pa.Table:
        hi, lo = row_lanes(table.select(self._match))
        pos = self._index.lookup(hi, lo)
        found = pos >= 0
        values = take_rows(self._store, self._theirs, np.where(found, pos, 0), self._columns, self._cache)
        for name in self._columns:
            col = values.column(name).combine_chunks()
            col = pc.if_else(pa.array(found), col, pa.nulls(len(col), col.type))
            table = table.set_column(table.schema.get_field_index(name), table.schema.field(name), col.cast(table.schema.field(name).type))
        return table
