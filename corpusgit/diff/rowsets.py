"""Set arithmetic on row references and row hashes, vectorised with numpy.

Two versions usually share most (chunk, row) references; interval arithmetic over segment lists
finds the few rows that differ without reading any data. Hash multisets then decide which of
those candidates really changed (a row re-stored in a new chunk is still the same row).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from corpusgit.table.model import ColumnGroup
from corpusgit.table.reader import segment_starts

_ROW_BITS = 40  # rows per chunk stay far below 2**40; chunk ordinals use the bits above


def _chunk_space(group: ColumnGroup, ordinals: dict[str, int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Segments as intervals in a global (chunk ordinal, row) space, sorted, with positions."""
    ords = np.array([ordinals.setdefault(ref.id, len(ordinals)) for ref in group.chunks], dtype=np.int64)
    a = (ords[group.seg_chunk] << _ROW_BITS) + group.seg_start if len(group.seg_chunk) else np.zeros(0, np.int64)
    b = a + group.seg_rows
    p = segment_starts(group)
    order = np.argsort(a, kind="stable")
    return a[order], b[order], p[order]


def _disjoint(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(a[1:] >= b[:-1])) if len(a) > 1 else True


def unshared_positions(old: ColumnGroup, new: ColumnGroup) -> tuple[np.ndarray, np.ndarray] | None:
    """Positions of rows whose reference is not shared between two groups: (old, new).

    Returns None when a version references some chunk row twice (duplicated rows); callers then
    fall back to comparing hashes of every row.
    """
    found = unshared_intervals(old, new, {})
    if found is None:
        return None
    return found[0].positions(), found[1].positions()


@dataclass(frozen=True, slots=True)
class Intervals:
    """Runs of rows as intervals in the global (chunk ordinal, row) space, sorted by ``start``:
    interval i covers chunk-space ``[start[i], start[i] + length[i])``, which are the table rows
    ``[position[i], position[i] + length[i])``."""

    start: np.ndarray
    length: np.ndarray
    position: np.ndarray

    def positions(self) -> np.ndarray:
        return expand_ranges(self.position, self.length)


def chunk_intervals(group: ColumnGroup, ordinals: dict[str, int]) -> Intervals:
    """Every row of a group; ``ordinals`` numbers chunks and must be shared by everything compared."""
    a, b, p = _chunk_space(group, ordinals)
    return Intervals(a, b - a, p)


def unshared_intervals(old: ColumnGroup, new: ColumnGroup, ordinals: dict[str, int]) -> tuple[Intervals, Intervals] | None:
    """Like :func:`unshared_positions`, as intervals (nothing is expanded row by row)."""
    a1, b1, p1 = _chunk_space(old, ordinals)
    a2, b2, p2 = _chunk_space(new, ordinals)
    if not (_disjoint(a1, b1) and _disjoint(a2, b2)):
        return None
    return _only_intervals(a1, b1, p1, a2, b2), _only_intervals(a2, b2, p2, a1, b1)


def _only(a1: np.ndarray, b1: np.ndarray, p1: np.ndarray, a2: np.ndarray, b2: np.ndarray) -> np.ndarray:
    """Positions (in version 1) of rows covered by intervals 1 and not by intervals 2."""
    return _only_intervals(a1, b1, p1, a2, b2).positions()


def _only_intervals(a1: np.ndarray, b1: np.ndarray, p1: np.ndarray, a2: np.ndarray, b2: np.ndarray) -> Intervals:
    """Intervals 1 minus intervals 2 (intervals 1 sorted and disjoint), with version-1 positions."""
    n1, n2 = len(a1), len(a2)
    if n1 == 0:
        return Intervals(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64))
    pts = np.concatenate([a1, b1, a2, b2])
    d1 = np.concatenate([np.ones(n1), -np.ones(n1), np.zeros(2 * n2)]).astype(np.int64)
    d2 = np.concatenate([np.zeros(2 * n1), np.ones(n2), -np.ones(n2)]).astype(np.int64)
    order = np.argsort(pts, kind="stable")
    pts = pts[order]
    c1 = np.cumsum(d1[order])
    c2 = np.cumsum(d2[order])
    keep = (c1[:-1] > 0) & (c2[:-1] == 0) & (pts[1:] > pts[:-1])
    x, y = pts[:-1][keep], pts[1:][keep]
    i = np.searchsorted(a1, x, side="right") - 1
    return Intervals(x, y - x, p1[i] + (x - a1[i]))


def subtract_positions(start: np.ndarray, length: np.ndarray, cut_start: np.ndarray, cut_length: np.ndarray) -> np.ndarray:
    """Every position in the ranges ``[start, start+length)`` (disjoint) outside the ranges to
    cut, ascending."""
    order = np.argsort(start, kind="stable")
    a = start[order]
    b = a + length[order]
    return _only(a, b, a, cut_start, cut_start + cut_length)


def match_once_covered(side1: Intervals, side2: Intervals) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pieces of chunk space covered by exactly one interval of each side: (start, length,
    interval index on side 1, on side 2).

    Either side may overlap itself (a chunk row referenced twice, say by two shards holding the
    same row); such rows are left out, for the caller to compare by hash. The covering interval
    is found by a running sum of interval indexes, which names the interval wherever exactly one
    is open.
    """
    k1, k2 = len(side1.start), len(side2.start)
    empty = np.zeros(0, np.int64)
    if k1 == 0 or k2 == 0:
        return empty, empty, empty, empty
    ids1, ids2 = np.arange(k1, dtype=np.int64), np.arange(k2, dtype=np.int64)
    z1, z2 = np.zeros(2 * k1, np.int64), np.zeros(2 * k2, np.int64)
    pts = np.concatenate([side1.start, side1.start + side1.length, side2.start, side2.start + side2.length])
    count1 = np.concatenate([np.ones(k1, np.int64), -np.ones(k1, np.int64), z2])
    count2 = np.concatenate([z1, np.ones(k2, np.int64), -np.ones(k2, np.int64)])
    sum1 = np.concatenate([ids1, -ids1, z2])
    sum2 = np.concatenate([z1, ids2, -ids2])
    order = np.argsort(pts, kind="stable")
    pts = pts[order]
    c1, c2 = np.cumsum(count1[order]), np.cumsum(count2[order])
    s1, s2 = np.cumsum(sum1[order]), np.cumsum(sum2[order])
    keep = (c1[:-1] == 1) & (c2[:-1] == 1) & (pts[1:] > pts[:-1])
    x = pts[:-1][keep]
    return x, pts[1:][keep] - x, s1[:-1][keep], s2[:-1][keep]


def expand_ranges(start: np.ndarray, length: np.ndarray) -> np.ndarray:
    """Concatenate ``arange(s, s+n)`` for each range, vectorised."""
    total = int(length.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    offsets = np.repeat(start - np.concatenate([[0], np.cumsum(length)[:-1]]), length)
    positions: np.ndarray = np.arange(total, dtype=np.int64) + offsets
    return positions


def multiset_difference(
    old_hi: np.ndarray, old_lo: np.ndarray, new_hi: np.ndarray, new_lo: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Indices of old entries without a partner in new (removed) and of new entries without a
    partner in old (added), counting duplicates."""
    n_old = len(old_hi)
    hi = np.concatenate([old_hi, new_hi])
    lo = np.concatenate([old_lo, new_lo])
    side = np.concatenate([np.zeros(n_old, np.int8), np.ones(len(new_hi), np.int8)])
    order = np.lexsort((side, lo, hi))
    hi, lo, side = hi[order], lo[order], side[order]
    new_group = np.ones(len(hi), dtype=bool)
    new_group[1:] = (hi[1:] != hi[:-1]) | (lo[1:] != lo[:-1])
    gid = np.cumsum(new_group) - 1
    n_groups = int(gid[-1]) + 1 if len(gid) else 0
    old_count = np.bincount(gid, weights=(side == 0), minlength=n_groups).astype(np.int64)
    new_count = np.bincount(gid, weights=(side == 1), minlength=n_groups).astype(np.int64)
    group_start = np.flatnonzero(new_group)
    rank = np.arange(len(hi)) - group_start[gid]
    # Within a group, old entries come first (sorted by side): rank them separately.
    rank = np.where(side == 1, rank - old_count[gid], rank)
    unmatched = np.where(side == 0, rank >= new_count[gid], rank >= old_count[gid])
    picked = order[unmatched]
    return np.sort(picked[picked < n_old]), np.sort(picked[picked >= n_old] - n_old)


def multiset_pairs(
    old_hi: np.ndarray, old_lo: np.ndarray, new_hi: np.ndarray, new_lo: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of equal entries, one old with one new, as far as counts allow: (old index, new index).

    Within a value, the k-th old entry (in input order) pairs with the k-th new one.
    """
    n_old = len(old_hi)
    hi = np.concatenate([old_hi, new_hi])
    lo = np.concatenate([old_lo, new_lo])
    side = np.concatenate([np.zeros(n_old, np.int8), np.ones(len(new_hi), np.int8)])
    order = np.lexsort((np.arange(len(hi)), side, lo, hi))
    hi, lo, side = hi[order], lo[order], side[order]
    new_group = np.ones(len(hi), dtype=bool)
    new_group[1:] = (hi[1:] != hi[:-1]) | (lo[1:] != lo[:-1])
    gid = np.cumsum(new_group) - 1
    group_start = np.flatnonzero(new_group)
    n_groups = len(group_start)
    old_count = np.bincount(gid, weights=(side == 0), minlength=n_groups).astype(np.int64)
    new_count = np.bincount(gid, weights=(side == 1), minlength=n_groups).astype(np.int64)
    rank = np.arange(len(hi)) - group_start[gid]
    pairs = np.minimum(old_count, new_count)
    old_pick = (side == 0) & (rank < pairs[gid])
    new_rank = rank - old_count[gid]
    new_pick = (side == 1) & (new_rank >= 0) & (new_rank < pairs[gid])
    # Both picks list each group's pairs in rank order, groups in the same order: they align.
    return order[old_pick], order[new_pick] - n_old
