"""A digest of a dataset's rows that ignores files, row order and Arrow string types.

Why: "check out v0 again" must prove v0 came back, but the tools return different things:
git, DVC and Oxen the very files, corpusgit logically identical Parquet, Delta Lake and
Lance a table. Rows are what all of them promise. Only pyarrow and the standard library are
used, because this module also runs inside the tools' own venvs (bench/tools/ops/*_ops.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import pyarrow as pa

# v0's columns, as text and integers; a tool may read them back as large_string or
# string_view, which must not change the digest.
CANONICAL = pa.schema([("id", pa.string()), ("source", pa.string()), ("lang", pa.string()),
                       ("text", pa.string()), ("n_chars", pa.int64())])
BATCH_ROWS = 65_536


def rows_digest(tables: Iterable[pa.Table]) -> str:
    """SHA-256 over v0's columns of all rows, sorted by id (ids are unique in the corpus)."""
    parts = [t.select(CANONICAL.names).cast(CANONICAL) for t in tables]
    table = pa.concat_tables(parts).sort_by("id") if parts else CANONICAL.empty_table()
    digest = hashlib.sha256()
    for batch in table.to_batches(BATCH_ROWS):
        for row in zip(*(column.to_pylist() for column in batch.columns)):
            digest.update(repr(row).encode())
    return digest.hexdigest()
