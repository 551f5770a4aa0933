"""``cgit mix locate``: which documents a training run saw at sample N or at step S.

For debugging a loss spike: the answer names the source, the table path and commit, the row
in that table, the epoch, the row's key (or ``_cgit_row``) and the start of its text. Only the
plan piece holding those samples and the chunks holding those rows are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from corpusgit.errors import BadInput
from corpusgit.mix.access import MixData
from corpusgit.mix.storage import load_mix
from corpusgit.table.schema import ROW_HASH_COLUMN

if TYPE_CHECKING:
    from corpusgit.repo import Repo

EXCERPT_CHARS = 200  # enough to recognise a document; the full text is one 'cgit show' away


@dataclass(frozen=True, slots=True)
class Located:
    index: int
    rank: int
    source: str
    path: str
    commit: str
    row: int
    epoch: int
    row_id: str
    key: dict[str, Any] | None
    excerpt: str | None


def step_indices(step: int, batch_size: int, world_size: int = 1) -> np.ndarray:
    """Sample indices consumed at ``step`` when each of ``world_size`` ranks reads ``batch_size``
    samples per step from ``shard(rank, world_size)``: rank r's k-th sample is r + k*world_size,
    so step S covers the contiguous range [S*B*W, (S+1)*B*W)."""
    if step < 0 or batch_size <= 0 or world_size <= 0:
        raise BadInput("step must be >= 0 and batch size and world size positive", hint="for example: --step 1200 --batch-size 8 --world-size 64")
    first = step * batch_size * world_size
    return np.arange(first, first + batch_size * world_size, dtype=np.int64)


def locate(repo: Repo, mix: str, indices: np.ndarray, world_size: int = 1, excerpt_chars: int = EXCERPT_CHARS) -> list[Located]:
    """Describe the samples at ``indices``; ``world_size`` only labels each with its rank."""
    stored = load_mix(repo, mix)
    data = MixData(repo, stored)
    source, row, epoch = data.plan_at(indices)
    rows = data.fetch(indices)
    text = rows.column(stored.mix.text_column).to_pylist()
    ids = rows.column(ROW_HASH_COLUMN).to_pylist()
    found = []
    for k, i in enumerate(indices.tolist()):
        src = stored.mix.sources[int(source[k])]
        table_no, local = data.sources[int(source[k])].locate(row[k:k + 1])
        path, table = data.tables[int(source[k])][int(table_no[0])]
        key = {c: rows.column(c)[k].as_py() for c in table.key} if table.key and all(c in data.columns for c in table.key) else None
        excerpt = text[k][:excerpt_chars] if text[k] is not None else None
        found.append(Located(i, i % world_size, src.name, path, src.commit, int(local[0]), int(epoch[k]), ids[k].hex(), key, excerpt))
    return found
