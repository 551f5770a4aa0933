"""Operator fixtures: the real-text corpus with row identities, and a runner for the engine.

``run_op(op, table, batch_rows)`` streams ``table`` (which must carry ``_cgit_row``) through the
engine exactly as ``cgit run`` does and returns the output table and the ``Execution``.
Helpers live in ``opshelp.py``.
"""

from __future__ import annotations

import pyarrow as pa
import pytest
from opshelp import Runner, run_table, with_row_ids
from realtext import corpus_table


@pytest.fixture
def corpus() -> pa.Table:
    """English + Chinese prose with duplicates, junk and PII, with ``_cgit_row``."""
    return with_row_ids(corpus_table())


@pytest.fixture
def run_op() -> Runner:
    return run_table
