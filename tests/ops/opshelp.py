"""Operator test helpers: row identities as ``add`` computes them, and the engine runner.

A module of its own (not ``conftest``), so test modules can import it unambiguously when several
test directories are collected together.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa

from corpusgit.ops.engine import Execution, execute
from corpusgit.table.hashing import lanes_to_binary, row_lanes
from corpusgit.table.schema import ROW_HASH_COLUMN

Runner = Callable[..., tuple[pa.Table, Execution]]


def with_row_ids(table: pa.Table) -> pa.Table:
    """``table`` plus the ``_cgit_row`` column ``add`` would compute."""
    hi, lo = row_lanes(table)
    return table.append_column(ROW_HASH_COLUMN, lanes_to_binary(hi, lo))


def run_table(op: Any, table: pa.Table, batch_rows: int = 7) -> tuple[pa.Table, Execution]:
    """Run ``op`` over ``table`` in batches of ``batch_rows`` (small: exercises batch seams)."""
    outs: list[pa.RecordBatch] = []
    source = lambda: pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=batch_rows))  # noqa: E731
    execution = execute(op, source, outs.append)
    assert execution.schema is not None
    return pa.Table.from_batches(outs, schema=execution.schema), execution
