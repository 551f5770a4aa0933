"""Small document-like tables for the tests that build repositories to kill, interrupt and copy
(``test_checkout_atomic.py``, ``test_crash.py``). A plain module at the top of ``tests/``,
importable by name from every test directory, like ``clirun``."""

from __future__ import annotations

import random

import pyarrow as pa


def corpus_table(rows: int, seed: int) -> pa.Table:
    """Document-like rows (ids unique per seed, ~100-600 byte texts); deterministic."""
    rng = random.Random(seed)
    words = "data model token corpus filter shard version row chunk train mix quality dedup the of and".split()
    ids = range(seed * 1_000_000, seed * 1_000_000 + rows)
    texts = [f"doc {i}: " + " ".join(rng.choice(words) for _ in range(rng.randint(15, 100))) for i in ids]
    return pa.table({"id": pa.array(ids, pa.int64()), "text": texts, "score": [rng.random() for _ in ids]})
