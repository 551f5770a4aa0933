"""Rows that moved between the tables of one dataset, found with cost following the change.

The changed tables of a dataset form a pool: a row that left one table and appears in another
(same ``_cgit_row``, counted as a multiset) moved; only rows without a partner anywhere in the
pool were added or removed. Matching runs in four passes, each on what the previous one left:

1. Per path, rows whose (chunk, row) reference both versions share stayed (as in ``tables``).
2. Across paths, references are matched as intervals of chunk space. ``cgit add`` stores a
   re-sharded or shuffled row as a pointer to the chunk row it already had, so almost every
   moved row is matched here, without reading anything.
3. The rest is hashed (16 bytes a row read), matched within its path first, then across the pool.
4. Under a key shared by the pool, a removed and an added row with the same key are one modified
   row: in the same table, or moved between tables (reported as an entry with ``old_path``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from corpusgit.diff.rowsets import Intervals, chunk_intervals, match_once_covered, multiset_difference, multiset_pairs, subtract_positions, unshared_intervals
from corpusgit.diff.tables import TableDiff, count_cells, schema_changes
from corpusgit.store.objects import ObjectStore
from corpusgit.table.chunkio import ChunkCache
from corpusgit.table.hashing import row_lanes
from corpusgit.table.model import ColumnGroup, TableObject
from corpusgit.table.positions import all_hashes, hash_plan, take_hashes, take_rows

MEMBER_SHIFT = 40  # table positions stay far below 2**40; a pooled row's member index goes above
_POSITION_MASK = (1 << MEMBER_SHIFT) - 1
_EMPTY = np.zeros(0, np.int64)
_EMPTY_LANES = np.zeros(0, np.uint64)


@dataclass(frozen=True, slots=True)
class PoolMember:
    """One changed path of a dataset: its old and new table (either may be absent)."""

    path: str
    old_id: str | None
    new_id: str | None
    old: TableObject | None
    new: TableObject | None

    @property
    def key(self) -> tuple[str, ...]:
        return (self.new.key if self.new is not None else ()) or (self.old.key if self.old is not None else ())


class _Pending:
    """Rows of one table version not yet explained: first as chunk-space intervals (``refs``),
    then as positions with their hashes."""

    def __init__(self, store: ObjectStore, table: TableObject, columns: Sequence[str]) -> None:
        self.table = table
        plan = hash_plan(table, columns)
        assert plan is not None  # columns are all of the table's columns: every group is whole
        self.plan = plan
        self.cache = ChunkCache(store)
        self.refs: Intervals | None = None
        self.positions = _EMPTY
        self.whole = False  # positions are every row: hashes are streamed, not gathered
        self.hi, self.lo = _EMPTY_LANES, _EMPTY_LANES

    def single_group(self) -> ColumnGroup | None:
        return self.table.groups[self.plan[0]] if len(self.plan) == 1 else None

    def take_all(self) -> None:
        self.refs, self.positions, self.whole = None, np.arange(self.table.num_rows, dtype=np.int64), True

    def keep(self, picked: np.ndarray) -> None:
        self.positions, self.hi, self.lo = self.positions[picked], self.hi[picked], self.lo[picked]


def match_pool(store: ObjectStore, members: Sequence[PoolMember], columns: Sequence[str]) -> list[TableDiff]:
    """Per member, a diff whose added/removed rows are the pool's genuinely added/removed rows,
    with ``moved_in``/``moved_out`` counts; then one entry per (old path, new path) of rows
    that moved and were modified under the key.

    All members must share ``columns`` (the dataset's schema): rows are compared on all of them.
    """
    olds = [_Pending(store, m.old, columns) if m.old is not None else None for m in members]
    news = [_Pending(store, m.new, columns) if m.new is not None else None for m in members]
    ordinals: dict[str, int] = {}
    for old, new in zip(olds, news):
        _seed(old, new, ordinals)
    moved_out = np.zeros(len(members), np.int64)
    moved_in = np.zeros(len(members), np.int64)
    _match_refs(olds, news, moved_out, moved_in)
    for pending in (*olds, *news):
        if pending is not None:
            _read_hashes(store, pending, columns)
    _match_hashes(olds, news, moved_out, moved_in)
    diffs = [_member_diff(m, old, new) for m, old, new in zip(members, olds, news)]
    crossed = _pair_by_key(store, members, olds, news, diffs, moved_out, moved_in, columns)
    for d, out, came in zip(diffs, moved_out, moved_in):
        d.moved_out, d.moved_in = int(out), int(came)
    return diffs + crossed


def _seed(old: _Pending | None, new: _Pending | None, ordinals: dict[str, int]) -> None:
    """Pass 1: what each version has left after setting aside the references its path shares."""
    if old is not None and new is not None:
        g_old, g_new = old.single_group(), new.single_group()
        found = unshared_intervals(g_old, g_new, ordinals) if g_old is not None and g_new is not None else None
        if found is None:  # several column groups, or a chunk row referenced twice: hash every row
            old.take_all()
            new.take_all()
        else:
            old.refs, new.refs = found
        return
    for pending in (old, new):
        if pending is not None:
            group = pending.single_group()
            if group is None:
                pending.take_all()
            else:
                pending.refs = chunk_intervals(group, ordinals)


def _pool_refs(pendings: list[_Pending | None]) -> tuple[Intervals, np.ndarray]:
    """Every member's reference intervals in one list, with the member index of each."""
    parts = [(k, p.refs) for k, p in enumerate(pendings) if p is not None and p.refs is not None]
    if not parts:
        return Intervals(_EMPTY, _EMPTY, _EMPTY), _EMPTY
    owner = np.concatenate([np.full(len(iv.start), k, np.int64) for k, iv in parts])
    return Intervals(*(np.concatenate([getattr(iv, f) for _, iv in parts]) for f in ("start", "length", "position"))), owner


def _match_refs(olds: list[_Pending | None], news: list[_Pending | None], moved_out: np.ndarray, moved_in: np.ndarray) -> None:
    """Pass 2: rows of different paths that reference the same chunk row moved, unread."""
    o_iv, o_owner = _pool_refs(olds)
    n_iv, n_owner = _pool_refs(news)
    x, length, i_old, i_new = match_once_covered(o_iv, n_iv)
    own_o, own_n = o_owner[i_old], n_owner[i_new]
    moved = own_o != own_n  # always, as pass 1 set aside what a path shares with itself
    moved_out += np.bincount(own_o[moved], weights=length[moved], minlength=len(olds)).astype(np.int64)
    moved_in += np.bincount(own_n[moved], weights=length[moved], minlength=len(news)).astype(np.int64)
    _keep_unmatched(olds, o_iv, o_owner, own_o, o_iv.position[i_old] + (x - o_iv.start[i_old]), length)
    _keep_unmatched(news, n_iv, n_owner, own_n, n_iv.position[i_new] + (x - n_iv.start[i_new]), length)


def _keep_unmatched(
    pendings: list[_Pending | None], iv: Intervals, owner: np.ndarray, cut_owner: np.ndarray, cut_position: np.ndarray, cut_length: np.ndarray
) -> None:
    """Turn each member's reference intervals into the positions no match covered."""
    codes = subtract_positions((owner << MEMBER_SHIFT) + iv.position, iv.length, (cut_owner << MEMBER_SHIFT) + cut_position, cut_length)
    bounds = np.searchsorted(codes >> MEMBER_SHIFT, np.arange(len(pendings) + 1))
    for k, pending in enumerate(pendings):
        if pending is not None and pending.refs is not None:
            pending.positions = codes[bounds[k]:bounds[k + 1]] & _POSITION_MASK
            pending.refs = None


def _read_hashes(store: ObjectStore, pending: _Pending, columns: Sequence[str]) -> None:
    if pending.whole:
        pending.hi, pending.lo = all_hashes(store, pending.table, columns)
    elif len(pending.positions):
        pending.hi, pending.lo = take_hashes(store, pending.table, pending.positions, pending.plan, pending.cache)


def _match_hashes(olds: list[_Pending | None], news: list[_Pending | None], moved_out: np.ndarray, moved_in: np.ndarray) -> None:
    """Pass 3: equal hashes within a path stayed (a row stored again); across paths, moved."""
    for old, new in zip(olds, news):
        if old is not None and new is not None:
            gone, came = multiset_difference(old.hi, old.lo, new.hi, new.lo)
            old.keep(gone)
            new.keep(came)
    (o_hi, o_lo, o_own), (n_hi, n_lo, n_own) = _pool_hashes(olds), _pool_hashes(news)
    gone, came = multiset_difference(o_hi, o_lo, n_hi, n_lo)
    for pendings, unmatched, owner, moved in ((olds, gone, o_own, moved_out), (news, came, n_own, moved_in)):
        left = np.zeros(len(owner), dtype=bool)
        left[unmatched] = True
        moved += np.bincount(owner[~left], minlength=len(pendings))
        start = 0
        for pending in pendings:
            if pending is not None:
                end = start + len(pending.positions)
                pending.keep(left[start:end])
                start = end


def _pool_hashes(pendings: list[_Pending | None]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    present = [(k, p) for k, p in enumerate(pendings) if p is not None]
    if not present:
        return _EMPTY_LANES, _EMPTY_LANES, _EMPTY
    return (
        np.concatenate([p.hi for _, p in present]),
        np.concatenate([p.lo for _, p in present]),
        np.concatenate([np.full(len(p.positions), k, np.int64) for k, p in present]),
    )


def _member_diff(member: PoolMember, old: _Pending | None, new: _Pending | None) -> TableDiff:
    status = "added" if old is None else "deleted" if new is None else "modified"
    changes = schema_changes(old.table, new.table) if old is not None and new is not None else []
    d = TableDiff(member.path, status, member.old_id, member.new_id, member.key, schema_changes=changes)
    d.removed = np.sort(old.positions) if old is not None else _EMPTY
    d.added = np.sort(new.positions) if new is not None else _EMPTY
    return d


def _pair_by_key(
    store: ObjectStore,
    members: Sequence[PoolMember],
    olds: list[_Pending | None],
    news: list[_Pending | None],
    diffs: list[TableDiff],
    moved_out: np.ndarray,
    moved_in: np.ndarray,
    columns: Sequence[str],
) -> list[TableDiff]:
    """Pass 4: removed and added rows with equal keys are modified rows, paired within a path
    first, then across the pool when every member has the same key. Only the key columns of
    unmatched rows are read, and cell values only of the pairs."""
    keys = [m.key if m.key and all(k in columns for k in m.key) else () for m in members]
    # Pairing across the pool needs rows on both sides: a pure filter reads no key.
    pooled = bool(keys[0]) and all(k == keys[0] for k in keys) and any(len(d.removed) for d in diffs) and any(len(d.added) for d in diffs)
    lanes: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
    for k, d in enumerate(diffs):
        if keys[k] and ((len(d.removed) and len(d.added)) or pooled):
            for side, pending, positions in ((0, olds[k], d.removed), (1, news[k], d.added)):
                if pending is not None and len(positions):
                    lanes[k, side] = row_lanes(take_rows(store, pending.table, positions, keys[k], pending.cache))
    for k, d in enumerate(diffs):
        if (k, 0) in lanes and (k, 1) in lanes:
            i_old, i_new = multiset_pairs(*lanes[k, 0], *lanes[k, 1])
            d.modified_old, d.modified_new = d.removed[i_old], d.added[i_new]
            _drop(d, lanes, k, i_old, i_new)
            old, new = olds[k], news[k]
            assert old is not None and new is not None
            count_cells(store, old.table, new.table, [c for c in columns if c not in keys[k]], d, old.cache, new.cache)
    if not pooled:
        return []
    return _pair_across(store, members, olds, news, diffs, lanes, moved_out, moved_in, [c for c in columns if c not in keys[0]])


def _drop(d: TableDiff, lanes: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]], k: int, i_old: np.ndarray, i_new: np.ndarray) -> None:
    """Remove paired rows from a member's removed/added positions and their key lanes."""
    for side, picked in ((0, i_old), (1, i_new)):
        if (k, side) in lanes:
            keep = np.ones(len(lanes[k, side][0]), dtype=bool)
            keep[picked] = False
            hi, lo = lanes[k, side]
            lanes[k, side] = hi[keep], lo[keep]
            if side == 0:
                d.removed = d.removed[keep]
            else:
                d.added = d.added[keep]


def _pair_across(
    store: ObjectStore,
    members: Sequence[PoolMember],
    olds: list[_Pending | None],
    news: list[_Pending | None],
    diffs: list[TableDiff],
    lanes: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]],
    moved_out: np.ndarray,
    moved_in: np.ndarray,
    cell_columns: list[str],
) -> list[TableDiff]:
    sides = []
    for side in (0, 1):
        ks = [k for k in range(len(diffs)) if (k, side) in lanes]
        if not ks:
            return []
        sides.append((
            np.concatenate([lanes[k, side][0] for k in ks]),
            np.concatenate([lanes[k, side][1] for k in ks]),
            np.concatenate([np.full(len(lanes[k, side][0]), k, np.int64) for k in ks]),
            np.concatenate([(diffs[k].removed if side == 0 else diffs[k].added) for k in ks]),
        ))
    (o_hi, o_lo, o_own, o_pos), (n_hi, n_lo, n_own, n_pos) = sides
    i_old, i_new = multiset_pairs(o_hi, o_lo, n_hi, n_lo)
    own_o, own_n, pos_o, pos_n = o_own[i_old], n_own[i_new], o_pos[i_old], n_pos[i_new]
    moved_out += np.bincount(own_o, minlength=len(diffs))
    moved_in += np.bincount(own_n, minlength=len(diffs))
    for k, d in enumerate(diffs):
        d.removed = np.setdiff1d(d.removed, pos_o[own_o == k], assume_unique=True)
        d.added = np.setdiff1d(d.added, pos_n[own_n == k], assume_unique=True)
    out = []
    for ko, kn in sorted({(int(a), int(b)) for a, b in zip(own_o, own_n)}, key=lambda p: (members[p[1]].path, members[p[0]].path)):
        sel = (own_o == ko) & (own_n == kn)
        order = np.argsort(pos_n[sel], kind="stable")
        old, new = olds[ko], news[kn]
        assert old is not None and new is not None
        d = TableDiff(members[kn].path, "modified", members[ko].old_id, members[kn].new_id, members[kn].key, old_path=members[ko].path)
        d.modified_old, d.modified_new = pos_o[sel][order], pos_n[sel][order]
        count_cells(store, old.table, new.table, cell_columns, d, old.cache, new.cache)
        out.append(d)
    return out
