"""Set arithmetic on row references and row hashes, vectorised with numpy.

Two versions usually share most (chunk, row) references; interval arithmetic over segment lists
finds the few rows that differ without reading any data. Hash multisets then decide which of
those candidates really changed (a row re-stored in a new chunk is still the same row).
"""

from __future__ import annotations

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
    ordinals: dict[str, int] = {}
    a1, b1, p1 = _chunk_space(old, ordinals)
    a2, b2, p2 = _chunk_space(new, ordinals)
    if not (_disjoint(a1, b1) and _disjoint(a2, b2)):
        return None
    return _only(a1, b1, p1, a2, b2), _only(a2, b2, p2, a1, b1)


def _only(a1: np.ndarray, b1: np.ndarray, p1: np.ndarray, a2: np.ndarray, b2: np.ndarray) -> np.ndarray:
    """Positions (in version 1) of rows covered by intervals 1 and not by intervals 2."""
    n1, n2 = len(a1), len(a2)
    if n1 == 0:
        return np.zeros(0, np.int64)
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
    start = p1[i] + (x - a1[i])
    return expand_ranges(start, y - x)


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
