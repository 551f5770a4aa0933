"""Changed rows as data: samples for the terminal and the full row-level diff as Parquet."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from corpusgit.diff.tables import TableDiff, changed_cells
from corpusgit.store.atomic import write_via
from corpusgit.store.objects import ObjectStore
from corpusgit.table.chunkio import ChunkCache
from corpusgit.table.model import TableObject
from corpusgit.table.positions import take_rows
from corpusgit.table.schema import conform

CHANGE_COLUMN = "_change"
OUTPUT_BATCH = 8_192  # changed rows written per step


@dataclass
class Samples:
    added: pa.Table | None
    removed: pa.Table | None
    modified_old: pa.Table | None
    modified_new: pa.Table | None
    changed: dict[str, np.ndarray]  # column -> per modified pair, True where the cell differs


def _load(store: ObjectStore, oid: str | None, path: str) -> TableObject | None:
    return TableObject.from_json(store.get_meta(oid, path)) if oid else None


def sample_rows(store: ObjectStore, d: TableDiff, n: int) -> Samples:
    """Up to ``n`` rows of each change type, in table order."""
    old, new = _load(store, d.old_id, d.path), _load(store, d.new_id, d.path)
    added = take_rows(store, new, d.added[:n], new.schema.names) if new is not None and d.rows_added else None
    removed = take_rows(store, old, d.removed[:n], old.schema.names) if old is not None and d.rows_removed else None
    m_old = m_new = None
    changed: dict[str, np.ndarray] = {}
    if old is not None and new is not None and d.rows_modified:
        m_old = take_rows(store, old, d.modified_old[:n], old.schema.names)
        m_new = take_rows(store, new, d.modified_new[:n], new.schema.names)
        shared = [c for c in new.schema.names if c in old.schema.names and old.schema.field(c).type == new.schema.field(c).type]
        changed = changed_cells(m_old.select(shared), m_new.select(shared))
    return Samples(added, removed, m_old, m_new, changed)


def write_diff(store: ObjectStore, d: TableDiff, out: Path) -> int:
    """Every changed row with a ``_change`` column (added/removed/modified_old/modified_new).

    The schema is the union of both versions' columns; rows stream in batches.
    """
    old, new = _load(store, d.old_id, d.path), _load(store, d.new_id, d.path)
    schema = _union_schema(old, new)
    parts = [
        ("removed", old, d.removed),
        ("modified_old", old, d.modified_old),
        ("modified_new", new, d.modified_new),
        ("added", new, d.added),
    ]
    written = 0

    def write(tmp: Path) -> None:
        nonlocal written
        caches = {id(old): ChunkCache(store), id(new): ChunkCache(store)}
        with pq.ParquetWriter(tmp, schema, compression="zstd") as writer:
            for change, table, positions in _interleave_modified(parts):
                if table is None or len(positions) == 0:
                    continue
                rows = take_rows(store, table, positions, table.schema.names, caches[id(table)])
                writer.write_table(_conform(rows, schema, change))
                written += len(positions)

    write_via(out, write)
    return written


def _interleave_modified(parts: list[tuple[str, TableObject | None, np.ndarray]]) -> list[tuple[str, TableObject | None, np.ndarray]]:
    """Batches in output order: removed, then modified old/new pairs next to each other, then added."""
    removed, m_old, m_new, added = parts
    out = [(removed[0], removed[1], removed[2][i:i + OUTPUT_BATCH]) for i in range(0, len(removed[2]), OUTPUT_BATCH)]
    for i in range(0, len(m_old[2]), OUTPUT_BATCH):
        out.append((m_old[0], m_old[1], m_old[2][i:i + OUTPUT_BATCH]))
        out.append((m_new[0], m_new[1], m_new[2][i:i + OUTPUT_BATCH]))
    out.extend((added[0], added[1], added[2][i:i + OUTPUT_BATCH]) for i in range(0, len(added[2]), OUTPUT_BATCH))
    return out


def _union_schema(old: TableObject | None, new: TableObject | None) -> pa.Schema:
    fields: dict[str, pa.Field] = {}
    for table in (new, old):
        if table is not None:
            for f in table.schema:
                fields.setdefault(f.name, f.with_nullable(True))
    return pa.schema([pa.field(CHANGE_COLUMN, pa.string(), nullable=False), *fields.values()])


def _conform(rows: pa.Table, schema: pa.Schema, change: str) -> pa.Table:
    body = conform(rows, pa.schema([f for f in schema if f.name != CHANGE_COLUMN]))
    return body.add_column(0, schema.field(CHANGE_COLUMN), pa.array([change] * rows.num_rows, pa.string()))
