"""The mix object: a resolved spec whose canonical JSON hash is the mix id.

It holds only what decides the sample sequence: commits and table ids (never branch positions),
exact weights, the canonical filter text, the count rule (a tokenizer by its SHA-256), the seed,
the budget and the ordering parameters. The same spec at the same commits therefore always gives
the same id, and a moved ref always gives a new one.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from corpusgit.mix.ranking import SCHEME
from corpusgit.store.canonical import ObjectId, canonical_json

MIX_FORMAT = 1
BLOCK_BYTES = 8 << 20  # mean block: about one chunk of logical data, so a block decodes ~1-2 chunks
WINDOW_BLOCKS = 4  # blocks shuffled together: 4 random regions of a source per window, ~32 MiB


@dataclass(frozen=True, slots=True)
class MixSource:
    """One resolved source: ``tables`` are (path, table id) in path order, which is row order."""

    name: str
    path: str
    ref: str
    commit: ObjectId
    tables: tuple[tuple[str, ObjectId], ...]
    weight: Fraction
    filter: str | None
    max_epochs: Fraction

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "path": self.path, "ref": self.ref, "commit": self.commit,
            "tables": [list(t) for t in self.tables], "weight": str(self.weight),
            "filter": self.filter, "max_epochs": str(self.max_epochs),
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> MixSource:
        return cls(
            str(doc["name"]), str(doc["path"]), str(doc["ref"]), ObjectId(doc["commit"]),
            tuple((str(p), ObjectId(i)) for p, i in doc["tables"]), Fraction(doc["weight"]),
            doc["filter"], Fraction(doc["max_epochs"]),
        )


@dataclass(frozen=True, slots=True)
class MixObject:
    sources: tuple[MixSource, ...]
    seed: int
    budget_unit: str
    budget: int
    count: dict[str, str]
    text_column: str
    columns: tuple[str, ...]
    shard_rows: int
    block_bytes: int = BLOCK_BYTES
    window_blocks: int = WINDOW_BLOCKS

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "mix", "format": MIX_FORMAT, "scheme": SCHEME,
            "sources": [s.to_json() for s in self.sources], "seed": self.seed,
            "budget": {"unit": self.budget_unit, "amount": self.budget}, "count": dict(self.count),
            "text_column": self.text_column, "columns": list(self.columns), "shard_rows": self.shard_rows,
            "order": {"block_bytes": self.block_bytes, "window_blocks": self.window_blocks},
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> MixObject:
        return cls(
            tuple(MixSource.from_json(s) for s in doc["sources"]), int(doc["seed"]),
            str(doc["budget"]["unit"]), int(doc["budget"]["amount"]), {str(k): str(v) for k, v in doc["count"].items()},
            str(doc["text_column"]), tuple(doc["columns"]), int(doc["shard_rows"]),
            int(doc["order"]["block_bytes"]), int(doc["order"]["window_blocks"]),
        )

    def spec_key(self) -> str:
        """Digest of the mix with commits and table ids left out: two mixes with equal keys come
        from the same spec, so a differing id means some ref moved in between."""
        doc = self.to_json()
        for s in doc["sources"]:
            del s["commit"], s["tables"]
        return hashlib.sha256(canonical_json(doc)).hexdigest()

    def source_index(self, name: str) -> int:
        return [s.name for s in self.sources].index(name)
