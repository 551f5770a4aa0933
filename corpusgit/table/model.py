"""The table object: schema, key columns and, per column group, the segment list.

A segment says "rows [start, start+rows) of chunk X". Later versions reference old chunks
piecewise, so a scattered filter costs a few bytes per segment instead of a new copy.
A table may have several column groups (e.g. the original columns plus a score column added
later); groups are row-aligned and read side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from corpusgit.table.schema import schema_from_json, schema_to_json

TABLE_FORMAT = 1


@dataclass(frozen=True, slots=True)
class ChunkRef:
    """A stored chunk, with the fast checksum of its file so every read can verify it cheaply."""

    id: str
    rows: int
    size: int
    checksum: str

    def to_json(self) -> list[Any]:
        return [self.id, self.rows, self.size, self.checksum]

    @classmethod
    def from_json(cls, doc: list[Any]) -> ChunkRef:
        return cls(str(doc[0]), int(doc[1]), int(doc[2]), str(doc[3]))


@dataclass(frozen=True, slots=True)
class ColumnGroup:
    """Row-aligned columns stored together; segments index into ``chunks``."""

    columns: tuple[str, ...]
    chunks: tuple[ChunkRef, ...]
    seg_chunk: np.ndarray
    seg_start: np.ndarray
    seg_rows: np.ndarray

    @property
    def num_segments(self) -> int:
        return len(self.seg_chunk)

    def to_json(self) -> dict[str, Any]:
        return {
            "columns": list(self.columns),
            "chunks": [c.to_json() for c in self.chunks],
            "segments": {
                "chunk": self.seg_chunk.tolist(),
                "start": self.seg_start.tolist(),
                "rows": self.seg_rows.tolist(),
            },
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> ColumnGroup:
        seg = doc["segments"]
        return cls(
            tuple(doc["columns"]),
            tuple(ChunkRef.from_json(c) for c in doc["chunks"]),
            np.asarray(seg["chunk"], dtype=np.int64),
            np.asarray(seg["start"], dtype=np.int64),
            np.asarray(seg["rows"], dtype=np.int64),
        )


@dataclass(frozen=True, slots=True)
class TableObject:
    """A logical table version; its id is the hash of ``to_json()``."""

    schema: pa.Schema
    key: tuple[str, ...]
    num_rows: int
    logical_bytes: int
    groups: tuple[ColumnGroup, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "table",
            "format": TABLE_FORMAT,
            "schema": schema_to_json(self.schema),
            "key": list(self.key),
            "num_rows": self.num_rows,
            "logical_bytes": self.logical_bytes,
            "groups": [g.to_json() for g in self.groups],
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> TableObject:
        return cls(
            schema_from_json(doc["schema"]),
            tuple(doc.get("key", [])),
            int(doc["num_rows"]),
            int(doc["logical_bytes"]),
            tuple(ColumnGroup.from_json(g) for g in doc["groups"]),
        )

    def chunk_refs(self) -> list[ChunkRef]:
        """Every chunk this table needs, without duplicates."""
        seen: dict[str, ChunkRef] = {}
        for group in self.groups:
            for ref in group.chunks:
                seen.setdefault(ref.id, ref)
        return list(seen.values())

    @property
    def num_segments(self) -> int:
        return sum(g.num_segments for g in self.groups)
