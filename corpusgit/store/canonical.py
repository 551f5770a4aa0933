"""Canonical bytes and ids for metadata objects.

Ids must be equal on every machine for equal content, so the encoding is fixed: JSON with
sorted keys, no whitespace, UTF-8, no NaN.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any, NewType

ObjectId = NewType("ObjectId", str)

ID_HEX_LEN = 64  # SHA-256: ids name audited training mixes, so they must not be forgeable.
MIN_PREFIX = 4  # shortest abbreviation accepted, as in git


def canonical_json(value: Any) -> bytes:
    """Encode ``value`` so that equal values always give equal bytes."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def object_id(data: bytes) -> ObjectId:
    """SHA-256 of bytes, hex."""
    return ObjectId(hashlib.sha256(data).hexdigest())


def is_object_id(text: str) -> bool:
    """True for a full lowercase hex id."""
    return len(text) == ID_HEX_LEN and all(c in "0123456789abcdef" for c in text)
