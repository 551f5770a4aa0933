"""Three-way merge of one table.

Keyless tables merge as row multisets on ``_cgit_row`` (adds and deletes from both sides; only
a schema clash can conflict). Keyed tables merge cell by cell: a conflict is the same (key,
column) changed differently, delete vs modify, or the same key added with different values.
Both sides' changes come from the row-level diff against the base, so work follows the change.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from corpusgit.diff.rowsets import multiset_difference
from corpusgit.diff.tables import TableDiff, changed_rows, diff_tables
from corpusgit.ingest_files import IngestSession
from corpusgit.merge.rows import Fill, HashIndex, key_lanes, merge_cells, rewrite
from corpusgit.table.schema import conform
from corpusgit.progress import Task
from corpusgit.store.objects import ObjectStore
from corpusgit.table.chunkio import ChunkCache
from corpusgit.table.model import TableObject
from corpusgit.table.positions import all_hashes, hashes_at, take_rows
from corpusgit.table.schema import canonical_schema

SIDE_COLUMN = "_side"
KIND_COLUMN = "_conflict"
COLUMNS_COLUMN = "_columns"


@dataclass
class TableMerge:
    table_id: str | None
    conflicts: pa.Table | None = None  # rows of base/ours/theirs per conflicting key
    count: int = 0
    schema_conflict: str | None = None


@dataclass
class _Plan:
    """Edits to ours, collected before the streaming rewrite."""

    drop: list[np.ndarray] = field(default_factory=list)
    replace_pos: list[np.ndarray] = field(default_factory=list)
    replace_rows: list[pa.Table] = field(default_factory=list)
    append: list[pa.Table] = field(default_factory=list)
    conflict_rows: list[pa.Table] = field(default_factory=list)
    count: int = 0


def merge_schema(base: TableObject | None, ours: TableObject, theirs: TableObject) -> tuple[pa.Schema, str | None]:
    """Union of columns: ours' order, then columns theirs added; a column dropped on one side
    and kept unchanged on the other is dropped; differing types are a conflict."""
    b_cols = {f.name: f.type for f in base.schema} if base is not None else {}
    t_cols = {f.name: f.type for f in theirs.schema}
    fields = []
    for f in ours.schema:
        if f.name in t_cols:
            if t_cols[f.name] != f.type:
                return ours.schema, f"column {f.name!r} is {f.type} in ours but {t_cols[f.name]} in theirs"
            fields.append(f)
        elif f.name not in b_cols:
            fields.append(f)
    fields.extend(f for f in theirs.schema if f.name not in ours.schema.names and f.name not in b_cols)
    return pa.schema(fields, metadata=ours.schema.metadata), None


def merge_table(
    store: ObjectStore,
    session: IngestSession,
    path: str,
    ids: tuple[str | None, str, str],
    prefer: str,
    task: Task,
) -> TableMerge:
    """Merge ours and theirs (both present) against base (maybe absent)."""
    base_id, ours_id, theirs_id = ids
    base = TableObject.from_json(store.get_meta(base_id, path)) if base_id else None
    ours = TableObject.from_json(store.get_meta(ours_id, path))
    theirs = TableObject.from_json(store.get_meta(theirs_id, path))
    schema, clash = merge_schema(base, ours, theirs)
    if clash:
        return TableMerge(None, schema_conflict=clash)
    key = ours.key or theirs.key
    keyed = bool(key) and all(k in t.schema.names for t in (ours, theirs) for k in key) and (base is None or all(k in base.schema.names for k in key))
    plan = _Plan()
    fill = None
    if keyed:
        _plan_keyed(store, path, (base_id, base), (ours_id, ours), (theirs_id, theirs), key, schema, prefer, plan)
        extra = [c for c in schema.names if c not in ours.schema.names]
        fill = Fill(store, theirs, extra, list(key)) if extra else None
    else:
        common = _common(base, ours, theirs)
        _plan_keyless(store, base, ours, theirs, common, prefer, plan)
        extra = [c for c in schema.names if c not in ours.schema.names]
        fill = Fill(store, theirs, extra, common) if extra and common else None
    batches = rewrite(
        store,
        ours,
        schema,
        np.concatenate(plan.drop) if plan.drop else np.zeros(0, np.int64),
        np.concatenate(plan.replace_pos) if plan.replace_pos else np.zeros(0, np.int64),
        pa.concat_tables([conform(t, schema) for t in plan.replace_rows]) if plan.replace_rows else pa.table({}),
        fill,
        plan.append,
    )
    also = [x for x in (base_id, theirs_id, ours_id) if x]
    oid, _ = session.ingest_batches(path, canonical_schema(schema), batches, tuple(key), task, also_match=also)
    conflicts = pa.concat_tables(plan.conflict_rows, promote_options="permissive") if plan.conflict_rows else None
    return TableMerge(oid, conflicts, plan.count)


def _common(base: TableObject | None, ours: TableObject, theirs: TableObject) -> list[str]:
    tables = [t for t in (base, ours, theirs) if t is not None]
    return [f.name for f in ours.schema if all(f.name in t.schema.names and t.schema.field(f.name).type == f.type for t in tables)]


def _plan_keyless(store: ObjectStore, base: TableObject | None, ours: TableObject, theirs: TableObject, common: list[str], prefer: str, plan: _Plan) -> None:
    """Set semantics on rows: apply theirs' deletions to ours, append theirs' additions that ours
    did not also make."""
    empty = TableObject(theirs.schema, (), 0, 0, ())
    b = base or empty
    gone_t, came_t = changed_rows(store, b, theirs, common, ChunkCache(store), ChunkCache(store))
    _, came_o = changed_rows(store, b, ours, common, ChunkCache(store), ChunkCache(store))
    t_cache, o_cache = ChunkCache(store), ChunkCache(store)
    if len(gone_t) and prefer != "union":
        g_hi, g_lo = hashes_at(store, b, gone_t, common)
        o_hi, o_lo = all_hashes(store, ours, common)
        _, unmatched_o = multiset_difference(g_hi, g_lo, o_hi, o_lo)
        matched = np.ones(len(o_hi), dtype=bool)
        matched[unmatched_o] = False
        plan.drop.append(np.flatnonzero(matched).astype(np.int64))
    if len(came_t):
        t_hi, t_lo = hashes_at(store, theirs, came_t, common, t_cache)
        a_hi, a_lo = hashes_at(store, ours, came_o, common, o_cache)
        fresh, _ = multiset_difference(t_hi, t_lo, a_hi, a_lo)
        plan.append.append(take_rows(store, theirs, came_t[fresh], theirs.schema.names, t_cache))


def _plan_keyed(
    store: ObjectStore,
    path: str,
    base: tuple[str | None, TableObject | None],
    ours: tuple[str, TableObject],
    theirs: tuple[str, TableObject],
    key: tuple[str, ...],
    schema: pa.Schema,
    prefer: str,
    plan: _Plan,
) -> None:
    b_id, b = base
    o_id, o = ours
    t_id, t = theirs
    caches = {"b": ChunkCache(store), "o": ChunkCache(store), "t": ChunkCache(store)}
    d_o = diff_tables(store, path, b_id, o_id)
    d_t = diff_tables(store, path, b_id, t_id)
    ours_ch = _changes(store, b, o, d_o, key, caches["b"], caches["o"])
    theirs_ch = _changes(store, b, t, d_t, key, caches["b"], caches["t"])
    need_o = [k for k, (kind, _, _) in theirs_ch.items() if k not in ours_ch and kind in ("del", "mod")]
    o_pos = _positions_in(store, o, key, need_o)
    pairs: dict[str, list[tuple[int, int, int]]] = {"theirs_only": [], "both": [], "add_add": []}
    for k, (kind_t, b_pos, t_pos) in theirs_ch.items():
        mine = ours_ch.get(k)
        if mine is None:
            if kind_t == "add":
                plan.append.append(take_rows(store, t, np.array([t_pos]), t.schema.names, caches["t"]))
            elif kind_t == "del":
                plan.drop.append(np.array([o_pos[k]]))
            else:
                pairs["theirs_only"].append((b_pos, o_pos[k], t_pos))
            continue
        kind_o, _, mine_pos = mine
        if kind_o == "mod" and kind_t == "mod":
            pairs["both"].append((b_pos, mine_pos, t_pos))
        elif kind_o == "add" and kind_t == "add":
            pairs["add_add"].append((-1, mine_pos, t_pos))
        elif kind_o == "mod" and kind_t == "del":
            _delete_modify(store, (b, o, t), (b_pos, mine_pos, -1), key, "delete/modify", prefer, plan, caches, drop_if_theirs=True)
        elif kind_o == "del" and kind_t == "mod":
            _delete_modify(store, (b, o, t), (b_pos, -1, t_pos), key, "modify/delete", prefer, plan, caches, drop_if_theirs=False)
    for group, rows in pairs.items():
        if rows:
            _merge_pairs(store, (b, o, t), np.array(rows, dtype=np.int64), schema, key, prefer, plan, caches, "add/add" if group == "add_add" else "modify/modify")


def _changes(
    store: ObjectStore, base: TableObject | None, side: TableObject, d: TableDiff, key: tuple[str, ...], b_cache: ChunkCache, s_cache: ChunkCache
) -> dict[tuple[int, int], tuple[str, int, int]]:
    """key -> (del|mod|add, base position, side position) for every row the side changed."""
    out: dict[tuple[int, int], tuple[str, int, int]] = {}
    if base is not None:
        for (hi, lo), pos in zip(_pairs(key_lanes(store, base, d.removed, key, b_cache)), d.removed.tolist()):
            out[(hi, lo)] = ("del", pos, -1)
        for (hi, lo), b_pos, s_pos in zip(_pairs(key_lanes(store, base, d.modified_old, key, b_cache)), d.modified_old.tolist(), d.modified_new.tolist()):
            out[(hi, lo)] = ("mod", b_pos, s_pos)
    for (hi, lo), pos in zip(_pairs(key_lanes(store, side, d.added, key, s_cache)), d.added.tolist()):
        out[(hi, lo)] = ("add", -1, pos)
    return out


def _pairs(lanes: tuple[np.ndarray, np.ndarray]) -> list[tuple[int, int]]:
    return list(zip(lanes[0].tolist(), lanes[1].tolist()))


def _positions_in(store: ObjectStore, table: TableObject, key: tuple[str, ...], keys: list[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """Where rows with these keys sit in ``table`` (one streaming pass over the key columns)."""
    if not keys:
        return {}
    wanted = (np.array([k[0] for k in keys], dtype=np.uint64), np.array([k[1] for k in keys], dtype=np.uint64))
    index = HashIndex.over(store, table, key, wanted)
    return dict(zip(zip(index.hi.tolist(), index.lo.tolist()), index.pos.tolist()))


def _merge_pairs(
    store: ObjectStore,
    tables: tuple[TableObject | None, TableObject, TableObject],
    rows: np.ndarray,
    schema: pa.Schema,
    key: tuple[str, ...],
    prefer: str,
    plan: _Plan,
    caches: dict[str, ChunkCache],
    kind: str,
) -> None:
    b, o, t = tables
    b_rows = take_rows(store, b, rows[:, 0], b.schema.names, caches["b"]) if b is not None and rows[0, 0] >= 0 else None
    o_rows = take_rows(store, o, rows[:, 1], o.schema.names, caches["o"])
    t_rows = take_rows(store, t, rows[:, 2], t.schema.names, caches["t"])
    merged, conflict, clashing = merge_cells(schema, b_rows, o_rows, t_rows, prefer)
    plan.replace_pos.append(rows[:, 1])
    plan.replace_rows.append(merged)
    if conflict.any():
        idx = np.flatnonzero(conflict)
        plan.count += len(idx)
        cols = [",".join(clashing[i]) for i in idx.tolist()]
        for side, table in (("base", b_rows), ("ours", o_rows), ("theirs", t_rows)):
            if table is not None:
                plan.conflict_rows.append(_mark(table.take(pa.array(idx)), side, kind, cols))
        if prefer == "union":
            plan.append.append(t_rows.take(pa.array(idx)))


def _delete_modify(
    store: ObjectStore,
    tables: tuple[TableObject | None, TableObject, TableObject],
    positions: tuple[int, int, int],
    key: tuple[str, ...],
    kind: str,
    prefer: str,
    plan: _Plan,
    caches: dict[str, ChunkCache],
    drop_if_theirs: bool,
) -> None:
    """One side deleted a row the other modified: a conflict unless a preference decides it."""
    b, o, t = tables
    b_pos, o_pos, t_pos = positions
    plan.count += 1
    rows = [("base", b, b_pos, "b"), ("ours", o, o_pos, "o"), ("theirs", t, t_pos, "t")]
    for side, table, pos, c in rows:
        if table is not None and pos >= 0:
            plan.conflict_rows.append(_mark(take_rows(store, table, np.array([pos]), table.schema.names, caches[c]), side, kind, ["*"]))
    if drop_if_theirs and prefer == "theirs":
        plan.drop.append(np.array([o_pos]))
    if not drop_if_theirs and prefer in ("theirs", "union"):
        plan.append.append(take_rows(store, t, np.array([t_pos]), t.schema.names, caches["t"]))


def _mark(rows: pa.Table, side: str, kind: str, columns: list[str]) -> pa.Table:
    n = rows.num_rows
    rows = rows.append_column(SIDE_COLUMN, pa.array([side] * n, pa.string()))
    rows = rows.append_column(KIND_COLUMN, pa.array([kind] * n, pa.string()))
    return rows.append_column(COLUMNS_COLUMN, pa.array(columns[:n] if len(columns) >= n else columns * n, pa.string()))
