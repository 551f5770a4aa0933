"""A digest of a dataset's rows that ignores files, row order and Arrow string types.

Why: "check out v0 again" must prove v0 came back, but the tools return different things:
git, DVC and Oxen the very files, corpusgit logically identical Parquet, Delta Lake and
Lance a table. Rows are what all of them promise. The digest streams (a multiset hash: the
sum of per-row SHA-256 values), so checking 600 MB of Parquet needs one batch of memory, not
the whole table sorted. Only pyarrow and the standard library are used, because this module
also runs inside the tools' own venvs (bench/tools/ops/*_ops.py).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import pyarrow as pa

# v0's columns, as text and integers; a tool may read them back as large_string or
# string_view, which must not change the digest.
CANONICAL = pa.schema([("id", pa.string()), ("source", pa.string()), ("lang", pa.string()),
                       ("text", pa.string()), ("n_chars", pa.int64())])
MODULUS = 2**256  # per-row SHA-256 values are summed modulo this


def rows_digest(batches: Iterable[pa.RecordBatch]) -> str:
    """"<rows>:<sum of SHA-256 over each row's v0 columns>", independent of row order."""
    rows = total = 0
    for batch in batches:
        columns = [batch.column(name).cast(field.type).to_pylist() for name, field in
                   zip(CANONICAL.names, CANONICAL)]
        for row in zip(*columns):
            total = (total + int.from_bytes(hashlib.sha256(repr(row).encode()).digest(),
                                            "big")) % MODULUS
            rows += 1
    return f"{rows}:{total:064x}"
