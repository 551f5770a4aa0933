"""Diff of two versions of one table: schema changes, rows added/removed/modified, cells changed.

Cost follows the change, not the table: rows whose (chunk, row) reference both versions share
are skipped without reading anything; only the ``_cgit_row`` (and key) values of the remaining
rows are read, and cell values only for rows modified under a declared key.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from corpusgit.diff.rowsets import multiset_difference, unshared_positions
from corpusgit.store.objects import ObjectStore
from corpusgit.table.chunkio import ChunkCache
from corpusgit.table.hashing import array_lanes, column_seed, row_lanes
from corpusgit.table.model import TableObject
from corpusgit.table.positions import all_hashes, hash_plan, take_hashes, take_rows

CELL_BATCH = 8_192  # modified rows compared per step: bounds memory for wide text columns


@dataclass
class TableDiff:
    """What changed in one table; positions let callers fetch sample rows or write them all."""

    path: str
    status: str  # added | deleted | modified
    old_id: str | None
    new_id: str | None
    key: tuple[str, ...]
    schema_changes: list[str] = field(default_factory=list)
    removed: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    added: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    modified_old: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    modified_new: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    cells_changed: dict[str, int] = field(default_factory=dict)
    kind: str = "table"
    moved_in: int = 0  # rows that came from other tables of the same dataset (dataset view only)
    moved_out: int = 0  # rows that went to other tables of the same dataset
    old_path: str | None = None  # set when the old rows are in another table: moved and modified

    @property
    def rows_added(self) -> int:
        return len(self.added)

    @property
    def rows_removed(self) -> int:
        return len(self.removed)

    @property
    def rows_modified(self) -> int:
        return len(self.modified_old)

    @property
    def has_changes(self) -> bool:
        """Rows added, removed or modified, or the schema changed: more than rows moving."""
        return bool(self.rows_added or self.rows_removed or self.rows_modified or self.schema_changes)

    def summary(self) -> dict[str, object]:
        doc: dict[str, object] = {
            "path": self.path,
            "kind": self.kind,
            "status": self.status,
            "old_id": self.old_id,
            "new_id": self.new_id,
            "key": list(self.key),
            "rows_added": self.rows_added,
            "rows_removed": self.rows_removed,
            "rows_modified": self.rows_modified,
            "rows_moved_in": self.moved_in,
            "rows_moved_out": self.moved_out,
            "schema_changes": self.schema_changes,
            "cells_changed": self.cells_changed,
        }
        if self.old_path is not None:
            doc["old_path"] = self.old_path
        return doc


def common_columns(old: TableObject, new: TableObject) -> list[str]:
    """Columns present in both versions with the same type: rows are compared on these."""
    return [f.name for f in new.schema if f.name in old.schema.names and old.schema.field(f.name).type == f.type]


def schema_changes(old: TableObject, new: TableObject) -> list[str]:
    changes = []
    for f in new.schema:
        if f.name not in old.schema.names:
            changes.append(f"added column {f.name} ({f.type})")
        elif old.schema.field(f.name).type != f.type:
            changes.append(f"type of {f.name}: {old.schema.field(f.name).type} -> {f.type}")
    changes.extend(f"removed column {f.name} ({f.type})" for f in old.schema if f.name not in new.schema.names)
    if old.key != new.key:
        changes.append(f"key: [{', '.join(old.key)}] -> [{', '.join(new.key)}]")
    return changes


def diff_tables(store: ObjectStore, path: str, old_id: str | None, new_id: str | None) -> TableDiff:
    """Diff two table objects (either may be None for an added or deleted table)."""
    if old_id is not None and old_id == new_id:
        return TableDiff(path, "modified", old_id, new_id, ())
    old = load_table(store, old_id, path)
    new = load_table(store, new_id, path)
    return diff_loaded(store, path, (old_id, old), (new_id, new))


def load_table(store: ObjectStore, oid: str | None, path: str) -> TableObject | None:
    return TableObject.from_json(store.get_meta(oid, path)) if oid else None


def diff_loaded(
    store: ObjectStore, path: str, old_side: tuple[str | None, TableObject | None], new_side: tuple[str | None, TableObject | None]
) -> TableDiff:
    """:func:`diff_tables` of table objects already loaded, as (id, table) per side."""
    (old_id, old), (new_id, new) = old_side, new_side
    if old is None and new is not None:
        return TableDiff(path, "added", None, new_id, new.key, added=np.arange(new.num_rows, dtype=np.int64))
    if new is None and old is not None:
        return TableDiff(path, "deleted", old_id, None, old.key, removed=np.arange(old.num_rows, dtype=np.int64))
    assert old is not None and new is not None
    key = new.key or old.key
    result = TableDiff(path, "modified", old_id, new_id, key, schema_changes=schema_changes(old, new))
    cache_old, cache_new = ChunkCache(store), ChunkCache(store)
    common = common_columns(old, new)
    removed, added = changed_rows(store, old, new, common, cache_old, cache_new)
    if key and all(k in common for k in key):
        _pair_by_key(store, old, new, key, removed, added, result, cache_old, cache_new)
        count_cells(store, old, new, [c for c in common if c not in key], result, cache_old, cache_new)
    else:
        result.removed, result.added = removed, added
    return result


def changed_rows(
    store: ObjectStore, old: TableObject, new: TableObject, common: list[str], cache_old: ChunkCache, cache_new: ChunkCache
) -> tuple[np.ndarray, np.ndarray]:
    """Positions of old rows with no equal row in new, and of new rows with none in old."""
    plan_old, plan_new = hash_plan(old, common), hash_plan(new, common)
    candidates = None
    if plan_old is not None and plan_new is not None and len(plan_old) == 1 and len(plan_new) == 1:
        candidates = unshared_positions(old.groups[plan_old[0]], new.groups[plan_new[0]])
    if candidates is not None and plan_old is not None and plan_new is not None:
        cand_old, cand_new = candidates
        o_hi, o_lo = take_hashes(store, old, cand_old, plan_old, cache_old)
        n_hi, n_lo = take_hashes(store, new, cand_new, plan_new, cache_new)
    else:
        o_hi, o_lo = all_hashes(store, old, common)
        n_hi, n_lo = all_hashes(store, new, common)
        cand_old = np.arange(len(o_hi), dtype=np.int64)
        cand_new = np.arange(len(n_hi), dtype=np.int64)
    gone, came = multiset_difference(o_hi, o_lo, n_hi, n_lo)
    return cand_old[gone], cand_new[came]


def _pair_by_key(
    store: ObjectStore,
    old: TableObject,
    new: TableObject,
    key: tuple[str, ...],
    removed: np.ndarray,
    added: np.ndarray,
    result: TableDiff,
    cache_old: ChunkCache,
    cache_new: ChunkCache,
) -> None:
    """A removed and an added row with the same key are one modified row."""
    ko_hi, ko_lo = row_lanes(take_rows(store, old, removed, key, cache_old))
    kn_hi, kn_lo = row_lanes(take_rows(store, new, added, key, cache_new))
    order = np.lexsort((kn_lo, kn_hi))
    pos = np.searchsorted(kn_hi[order], ko_hi) if len(order) else np.zeros(len(ko_hi), np.int64)
    pos = np.minimum(pos, max(len(order) - 1, 0))
    matched = np.zeros(len(removed), dtype=bool)
    partner = np.zeros(len(removed), dtype=np.int64)
    if len(order):
        cand = order[pos]
        matched = (kn_hi[cand] == ko_hi) & (kn_lo[cand] == ko_lo)
        partner = cand
    used = np.zeros(len(added), dtype=bool)
    used[partner[matched]] = True
    result.modified_old = removed[matched]
    result.modified_new = added[partner[matched]]
    result.removed = removed[~matched]
    result.added = added[~used]


def count_cells(
    store: ObjectStore, old: TableObject, new: TableObject, columns: list[str], result: TableDiff, cache_old: ChunkCache, cache_new: ChunkCache
) -> None:
    """Changed cells per column over ``result``'s modified pairs, read in bounded batches."""
    counts = {c: 0 for c in columns}
    for start in range(0, result.rows_modified, CELL_BATCH):
        a = take_rows(store, old, result.modified_old[start:start + CELL_BATCH], columns, cache_old)
        b = take_rows(store, new, result.modified_new[start:start + CELL_BATCH], columns, cache_new)
        for c, changed in changed_cells(a, b).items():
            counts[c] += int(changed.sum())
    result.cells_changed = {c: n for c, n in counts.items() if n}


def changed_cells(a: pa.Table, b: pa.Table) -> dict[str, np.ndarray]:
    """Per column, which paired cells differ (compared by cell hash, so any type works)."""
    out = {}
    for name in a.schema.names:
        seed = column_seed(name)
        col_a = a.column(name).combine_chunks()
        col_b = b.column(name).combine_chunks()
        ha, la = array_lanes(col_a, seed)
        hb, lb = array_lanes(col_b, seed)
        out[name] = (ha != hb) | (la != lb)
    return out
