"""Random access to rows of a source by position, through a shared cache of decoded chunks.

A mix emits a source's rows window by window, each window a few contiguous blocks of the
source, so consecutive requests hit the same handful of chunks; the cache then decodes each
chunk about once however the samples inside a window are shuffled. The chunks one request needs
are decoded in parallel.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa

from corpusgit.mix.chunks import ChunkLoader
from corpusgit.table.hashing import binary_to_lanes, lanes_to_binary
from corpusgit.table.model import ColumnGroup, TableObject
from corpusgit.table.schema import ROW_HASH_COLUMN, ROW_HASH_TYPE


class SourceRows:
    """Rows of one source (its tables concatenated in path order), fetched by position."""

    def __init__(self, cache: ChunkLoader, name: str, tables: Sequence[tuple[str, TableObject]], columns: Sequence[str], schema: pa.Schema) -> None:
        self._cache = cache
        self._name = name
        self._tables = list(tables)
        self._columns = list(columns)
        self._schema = schema
        self.offsets = np.concatenate([[0], np.cumsum([t.num_rows for _, t in tables])]).astype(np.int64)
        self._seg_ends = [[np.cumsum(g.seg_rows) for g in t.groups] for _, t in tables]

    def locate(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(table number, row within that table) of source positions."""
        table = np.searchsorted(self.offsets, rows, side="right") - 1
        return table, rows - self.offsets[table]

    def take(self, rows: np.ndarray, with_row_hash: bool = True) -> pa.Table:
        """The rows at ``rows`` (source positions, any order, repeats allowed), in that order."""
        distinct, inverse = self.take_distinct(rows, with_row_hash)
        return distinct.take(pa.array(inverse))

    def take_distinct(self, rows: np.ndarray, with_row_hash: bool = True) -> tuple[pa.Table, np.ndarray]:
        """Each distinct row once, in position order, and for every requested row its index in
        that table; callers that reorder anyway compose one ``take`` instead of copying twice."""
        fields = [self._schema.field(c) for c in self._columns]
        if with_row_hash:
            fields.append(pa.field(ROW_HASH_COLUMN, ROW_HASH_TYPE, nullable=False))
        schema = pa.schema(fields)
        if len(rows) == 0:
            return schema.empty_table(), np.zeros(0, dtype=np.int64)
        unique, inverse = np.unique(rows, return_inverse=True)
        table_of, local = self.locate(unique)
        parts = []
        for t in np.unique(table_of).tolist():
            at = table_of == t
            parts.append(self._take_from_table(t, local[at], with_row_hash, schema))
        return (pa.concat_tables(parts) if len(parts) > 1 else parts[0]), inverse.reshape(-1)

    def _take_from_table(self, t: int, rows: np.ndarray, with_row_hash: bool, schema: pa.Schema) -> pa.Table:
        path, table = self._tables[t]
        needed_by = f"source '{self._name}': {path}"
        plans = []
        for g, group in enumerate(table.groups):
            wanted = [c for c in group.columns if c in self._columns]
            if wanted or with_row_hash:
                plans.append((group, wanted, self._chunk_takes(group, self._seg_ends[t][g], rows)))
        tasks = [(group.chunks[c], wanted + ([ROW_HASH_COLUMN] if with_row_hash else []), offsets)
                 for group, wanted, takes in plans for c, offsets in takes]
        pieces = iter(self._cache.map(lambda task: self._cache.get(task[0], task[1], needed_by).take(task[2]), tasks))
        columns: dict[str, pa.ChunkedArray] = {}
        hi = lo = None
        for group, wanted, takes in plans:
            part = pa.concat_tables([next(pieces) for _ in takes], promote_options="permissive")  # chunks of older ingests may differ in nullability
            for name in wanted:
                columns[name] = part.column(name)
            if with_row_hash:
                g_hi, g_lo = binary_to_lanes(part.column(ROW_HASH_COLUMN))
                with np.errstate(over="ignore"):
                    hi, lo = (g_hi, g_lo) if hi is None or lo is None else (hi + g_hi, lo + g_lo)
        arrays: list[pa.Array | pa.ChunkedArray] = [columns[c] for c in self._columns]
        if with_row_hash and hi is not None and lo is not None:
            arrays.append(lanes_to_binary(hi, lo))
        return pa.Table.from_arrays(arrays, schema=schema)

    @staticmethod
    def _chunk_takes(group: ColumnGroup, seg_ends: np.ndarray, rows: np.ndarray) -> list[tuple[int, pa.Array]]:
        """(chunk number, offsets in that chunk) for sorted rows of one table's column group."""
        seg = np.searchsorted(seg_ends, rows, side="right")
        seg_first = seg_ends[seg] - group.seg_rows[seg]
        chunk = group.seg_chunk[seg]
        offset = group.seg_start[seg] + (rows - seg_first)
        bounds = np.flatnonzero(np.concatenate([[True], chunk[1:] != chunk[:-1], [True]]))
        return [(int(chunk[a]), pa.array(offset[a:b])) for a, b in zip(bounds[:-1].tolist(), bounds[1:].tolist())]
