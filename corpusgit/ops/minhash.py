"""MinHash signatures, LSH banding and duplicate clustering, vectorised with numpy.

No Python loop runs per shingle or per document: words are normalised and hashed once per
distinct word of a batch (through a dictionary encoding), n-grams are rolled over the flat token array, the
``k`` hash functions are one broadcast multiply-shift, and the per-document minimum is a
segmented ``np.minimum.reduceat``. Clustering is a vectorised union-find.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from corpusgit.ops.text import words
from corpusgit.table.hashing import array_lanes, column_seed

_WORD_SEED = column_seed("cgit-minhash-word")
_ROLL = np.uint64(0x100000001B3)  # FNV-1a 64-bit prime: odd, so rolling keeps every bit alive
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
BLOCK_SHINGLES = 1 << 14  # shingles hashed at once: the (k x block) uint64 matrix stays ~15 MB
EMPTY = np.iinfo(np.uint32).max  # signature value of a document without words


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: turns structured inputs (sums of word hashes) into uniform bits."""
    with np.errstate(over="ignore"):
        x = x ^ (x >> np.uint64(30))
        x = x * np.uint64(0xBF58476D1CE4E5B9)
        x = x ^ (x >> np.uint64(27))
        x = x * np.uint64(0x94D049BB133111EB)
        mixed: np.ndarray = x ^ (x >> np.uint64(31))
    return mixed


def shingles(text: pa.Array, n: int, lowercase: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of word n-grams and the document each belongs to (documents shorter than ``n``
    words give one shingle of all their words; documents without words give none)."""
    vocab, ids, offsets = words(text, lowercase)
    if len(ids) == 0:
        return np.zeros(0, np.uint64), np.zeros(0, np.int64)
    tok = array_lanes(vocab, _WORD_SEED)[0][ids]
    lengths = np.diff(offsets)
    doc = np.repeat(np.arange(len(lengths)), lengths)
    pos = np.arange(len(tok)) - offsets[doc]
    remaining = lengths[doc] - pos  # tokens from this one to the end of its document
    padded = np.concatenate([tok, np.zeros(n, np.uint64)])
    acc = np.zeros(len(tok), np.uint64)
    with np.errstate(over="ignore"):
        for j in range(n):
            acc = acc * _ROLL + np.where(remaining > j, padded[j:j + len(tok)], np.uint64(0))
    valid = (remaining >= n) | ((pos == 0) & (lengths[doc] < n))
    return _mix(acc[valid]), doc[valid]


def hash_functions(k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """``k`` multiply-shift hash functions ``(a*x + b) >> 32`` (a odd), a 2-universal family."""
    rng = np.random.default_rng(seed)
    a = rng.integers(1, 1 << 63, size=k, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 1 << 63, size=k, dtype=np.uint64)
    return a, b


def signatures(shingle: np.ndarray, doc: np.ndarray, n_docs: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(n_docs, k) uint32 MinHash signatures; ``doc`` must be non-decreasing.

    The hash matrix is laid out (k, block) so the segmented minimum runs along contiguous
    memory, which is ~3x faster than the (block, k) layout.
    """
    sig = np.full((n_docs, len(a)), EMPTY, dtype=np.uint32)
    for lo in range(0, len(shingle), BLOCK_SHINGLES):
        d = doc[lo:lo + BLOCK_SHINGLES]
        with np.errstate(over="ignore"):
            h = np.multiply.outer(a, shingle[lo:lo + BLOCK_SHINGLES])
            h += b[:, None]
            h >>= np.uint64(32)
        starts = np.flatnonzero(np.r_[True, d[1:] != d[:-1]])
        docs = d[starts]
        sig[docs] = np.minimum(sig[docs], np.minimum.reduceat(h, starts, axis=1).T)
    return sig


def band_keys(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(n_docs, bands) uint64: one key per band of ``rows`` signature values."""
    shaped = sig[:, : bands * rows].reshape(len(sig), bands, rows).astype(np.uint64)
    key = np.zeros((len(sig), bands), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for r in range(rows):
            key = _mix(key ^ (shaped[:, :, r] + _GOLDEN * np.uint64(r + 1)))
    return key


def cluster(keys: np.ndarray, sig: np.ndarray, threshold: float) -> np.ndarray:
    """For every document, the first (lowest-position) document of its duplicate cluster.

    Documents sharing any band key are candidates; a candidate pair is confirmed when the share
    of equal signature values (the Jaccard estimate) reaches ``threshold``.
    """
    n = len(keys)
    parent = np.arange(n, dtype=np.int64)
    if n < 2:
        return parent
    pairs = []
    for band in range(keys.shape[1]):
        order = np.argsort(keys[:, band], kind="stable")
        same = np.flatnonzero(keys[order[1:], band] == keys[order[:-1], band])
        pairs.append(np.stack([order[same], order[same + 1]], axis=1))
    edges = np.unique(np.concatenate(pairs), axis=0)
    if len(edges) and threshold > 0:
        agree = (sig[edges[:, 0]] == sig[edges[:, 1]]).mean(axis=1)
        edges = edges[agree >= threshold]
    return _union(parent, edges[:, 0], edges[:, 1])


def _union(parent: np.ndarray, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Connected components, each labelled by its smallest member (links always point down)."""
    while True:
        ru, rv = _compress(parent)[u], parent[v]
        low, high = np.minimum(ru, rv), np.maximum(ru, rv)
        moving = low != high
        if not moving.any():
            return _compress(parent)
        np.minimum.at(parent, high[moving], low[moving])


def _compress(parent: np.ndarray) -> np.ndarray:
    while True:
        grand = parent[parent]
        if (grand == parent).all():
            return parent
        parent[:] = grand
