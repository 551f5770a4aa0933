"""Every pseudo-random choice of a mix, derived from xxh3 and integer arithmetic only.

No numpy or Python RNG is used anywhere: their streams are not promised to stay the same across
releases, and a mix must replay years later. The scheme (``cgit-mix-v1``, written out in
docs/mixes.md so it can be re-implemented):

- ``key(seed, epoch, label)`` = xxh3-128 of the UTF-8 text ``cgit-mix-v1/{seed}/{epoch}/{label}``,
  split into two 64-bit halves ``(k_hi, k_lo)``.
- ``rank(row) = mix64(mix64(hi ^ k_hi) + (lo ^ k_lo))`` over the row's ``_cgit_row`` halves
  ``(hi, lo)``, with wrap-around uint64 arithmetic and ``mix64`` the splitmix64 finaliser.
  ``_cgit_row`` is itself xxh3-128 of the row's content, so a rank is a keyed hash of
  (seed, epoch, row) that does not depend on where or how the row is stored.
- Blocks: the source's rows, in table order, are cut after every row whose
  ``lo >> 11 < 2**53 // block_rows`` (and after every ``BLOCK_CAP`` rows without a cut). These
  are the same hash bits chunk boundaries use, with a stricter threshold, so in the usual layout a
  block boundary is also a chunk boundary and a block is read by decoding whole chunks once.
"""

from __future__ import annotations

import numpy as np
import xxhash

SCHEME = "cgit-mix-v1"
BLOCK_CAP = 16  # a block never exceeds 16x its mean length: bounds reader memory for the rare long gap
_U64 = np.uint64
_LO_SHIFT = _U64(11)  # keeps the 53 bits chunking uses, so block and chunk cuts line up
_UNIT = 1 << 53


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a bijective avalanche on uint64, vectorised."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> _U64(30))
        x = x * _U64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> _U64(27))
        x = x * _U64(0x94D049BB133111EB)
        mixed: np.ndarray = x ^ (x >> _U64(31))
    return mixed


def key(seed: int, epoch: int, label: str) -> tuple[np.uint64, np.uint64]:
    """The two 64-bit halves of the key for one (seed, epoch, purpose)."""
    d = xxhash.xxh3_128_intdigest(f"{SCHEME}/{seed}/{epoch}/{label}".encode())
    return _U64(d >> 64), _U64(d & 0xFFFFFFFFFFFFFFFF)


def rank(hi: np.ndarray, lo: np.ndarray, seed: int, epoch: int, label: str = "row") -> np.ndarray:
    """Keyed 64-bit rank of each row; lowest ranks are sampled first (bottom-k)."""
    k_hi, k_lo = key(seed, epoch, label)
    with np.errstate(over="ignore"):
        return mix64(mix64(hi ^ k_hi) + (lo ^ k_lo))


def order_by_rank(ranks: np.ndarray, hi: np.ndarray, lo: np.ndarray, *major: np.ndarray) -> np.ndarray:
    """Indices sorting rows by ``major`` keys, then rank; equal ranks mean equal rows (duplicate
    documents), which are then ordered by content hash and finally by position (stable sort)."""
    return np.lexsort((lo, hi, ranks, *reversed(major)))


def block_ids(lo: np.ndarray, block_rows: int) -> np.ndarray:
    """Block number of every row of a source, from the rows' hashes (see module docstring)."""
    n = len(lo)
    threshold = _U64(_UNIT // max(block_rows, 1))
    cut = (lo >> _LO_SHIFT) < threshold
    ends = np.flatnonzero(cut)
    cap = max(block_rows, 1) * BLOCK_CAP
    starts = np.concatenate([[0], ends + 1])
    stops = np.concatenate([ends + 1, [n]])
    extra = [np.arange(a + cap, b, cap) - 1 for a, b in zip(starts.tolist(), stops.tolist()) if b - a > cap]
    if extra:
        cut[np.concatenate(extra)] = True
    ids = np.zeros(n, dtype=np.int64)
    if n > 1:
        ids[1:] = np.cumsum(cut[:-1])
    return ids


def block_window(ids: np.ndarray, hi: np.ndarray, lo: np.ndarray, seed: int, epoch: int, window_blocks: int) -> np.ndarray:
    """Window number of every block for one epoch.

    Blocks are ordered by the rank of their first row (label ``block``), ties by block number,
    and every ``window_blocks`` consecutive blocks form a window. A fresh epoch gives a fresh
    block order, so an upsampled source is not replayed in the same order.
    """
    if len(ids) == 0:
        return np.zeros(0, dtype=np.int64)
    first = np.flatnonzero(np.concatenate([[True], ids[1:] != ids[:-1]]))
    keys = rank(hi[first], lo[first], seed, epoch, "block")
    order = np.lexsort((np.arange(len(first)), keys))
    window = np.empty(len(first), dtype=np.int64)
    window[order] = np.arange(len(first), dtype=np.int64) // window_blocks
    return window
