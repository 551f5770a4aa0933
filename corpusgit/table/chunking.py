"""Content-defined chunk boundaries over rows.

A boundary falls after row i with probability size_i / TARGET_BYTES, decided by the row's own
hash, so boundaries depend only on content: the same new rows get the same chunks however they
arrive (appends, re-shards, other branches). MIN/MAX bound chunk sizes so reads stay efficient.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MIN_BYTES = 2 << 20  # below this, per-file overhead and per-read latency dominate
TARGET_BYTES = 6 << 20  # plus MIN gives ~8 MiB uncompressed chunks, inside the 4-16 MiB goal
MAX_BYTES = 32 << 20  # hard cap keeps a pending chunk's memory bounded
MAX_ROWS = 1 << 20  # tiny rows: cap rows so row-hash columns stay small per chunk
_UNIT = float(2**53)


@dataclass(frozen=True, slots=True)
class ChunkParams:
    """Boundary settings; tests pass small values instead of patching module globals."""

    min_bytes: int = MIN_BYTES
    target_bytes: int = TARGET_BYTES
    max_bytes: int = MAX_BYTES
    max_rows: int = MAX_ROWS


def find_cuts(lo: np.ndarray, sizes: np.ndarray, carry_bytes: int, carry_rows: int, params: ChunkParams) -> list[int]:
    """Row indices after which a chunk ends, given what the open chunk already holds.

    ``carry_bytes``/``carry_rows`` describe rows accumulated before this slice, so cuts come
    out the same whether rows arrive in one slice or many. A chunk never grows past
    ``max_bytes`` unless it is a single row: a row that would overflow the open chunk starts a
    new one, so a huge row is stored alone and dedups whatever its neighbours. The cut ``-1``
    closes the chunk left open before this slice.
    """
    u = (lo >> np.uint64(11)).astype(np.float64) / _UNIT
    candidate = u * params.target_bytes < sizes
    cuts: list[int] = []
    start = 0
    n = len(sizes)
    if n and carry_rows and carry_bytes + int(sizes[0]) > params.max_bytes:
        cuts.append(-1)
        carry_bytes = carry_rows = 0
    while start < n:
        cum = np.cumsum(sizes[start:]) + carry_bytes
        rows = np.arange(1, n - start + 1) + carry_rows
        overflow = cum + np.append(sizes[start + 1:], 0) > params.max_bytes  # the next row would not fit
        ok = (candidate[start:] & (cum >= params.min_bytes)) | (cum >= params.max_bytes) | overflow | (rows >= params.max_rows)
        hits = np.flatnonzero(ok)
        if len(hits) == 0:
            break
        cut = start + int(hits[0])
        cuts.append(cut)
        start = cut + 1
        carry_bytes = 0
        carry_rows = 0
    return cuts
