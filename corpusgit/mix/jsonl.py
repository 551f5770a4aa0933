"""JSON Lines rendering of mix samples, byte-for-byte deterministic so ``verify`` can re-render
a shard and compare hashes.

JSON has no NaN or infinity: such floats are written as null. ``_cgit_row`` is written as 32 hex
digits (as ``cgit`` prints row ids); other binary values as base64; dates and times in ISO 8601.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import math
from decimal import Decimal
from typing import Any

import pyarrow as pa

from corpusgit.table.schema import ROW_HASH_COLUMN


def render_jsonl(table: pa.Table) -> bytes:
    """One line per row, keys in column order, compact separators, UTF-8."""
    lines = []
    for row in table.to_pylist():
        doc = {k: (v.hex() if k == ROW_HASH_COLUMN and isinstance(v, bytes) else _plain(v)) for k, v in row.items()}
        lines.append(json.dumps(doc, ensure_ascii=False, separators=(",", ":"), allow_nan=False))
    return ("\n".join(lines) + "\n").encode("utf-8") if lines else b""


def _plain(value: Any) -> Any:
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, (dt.date, dt.time, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (Decimal, dt.timedelta)):
        return str(value)
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value
