"""``dedup-exact``: keep the first row of every group of rows with the same normalised text.

Normalisation is NFKC (full-width and compatibility forms fold: ``ＡＢＣ`` = ``ABC``), collapsed
whitespace, and optionally case folding. Each dropped row records the row it duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from corpusgit.ops.base import GlobalOperator, RowIds, Verdict
from corpusgit.ops.text import normalise, text_column
from corpusgit.table.hashing import array_lanes, column_seed

_SEED = column_seed("cgit-dedup-exact")  # text hashes are kept apart from row hashes


@dataclass(frozen=True, slots=True)
class ExactConfig:
    """Which column, and which differences count as no difference."""

    column: str = "text"
    lowercase: bool = True
    nfkc: bool = True
    whitespace: bool = True


class DedupExact(GlobalOperator[ExactConfig]):
    """Drop rows whose normalised text (NFKC, whitespace, case) repeats an earlier row."""

    name = "dedup-exact"
    version = "1"
    Config = ExactConfig
    rules = ("duplicate",)
    code_modules = ("corpusgit.ops.text",)

    def __init__(self, config: ExactConfig) -> None:
        super().__init__(config)
        self._text: list[tuple[np.ndarray, np.ndarray]] = []
        self._rows: list[tuple[np.ndarray, np.ndarray]] = []
        self._keeper = np.zeros(0, dtype=np.int64)
        self._row_hi = self._row_lo = np.zeros(0, dtype=np.uint64)

    def _text_lanes(self, batch: pa.RecordBatch) -> tuple[np.ndarray, np.ndarray]:
        cfg = self.config
        text = normalise(text_column(batch, cfg.column, self.name), cfg.lowercase, cfg.nfkc, cfg.whitespace)
        return array_lanes(text, _SEED)

    def observe(self, batch: pa.RecordBatch, rows: RowIds) -> None:
        self._text.append(self._text_lanes(batch))
        self._rows.append((rows.hi, rows.lo))

    def prepare(self) -> None:
        """For every row, the position of the first row with the same text (its keeper)."""
        if not self._text:
            return
        hi = np.concatenate([t[0] for t in self._text])
        lo = np.concatenate([t[1] for t in self._text])
        self._row_hi = np.concatenate([r[0] for r in self._rows])
        self._row_lo = np.concatenate([r[1] for r in self._rows])
        self._text.clear()
        self._rows.clear()
        order = np.lexsort((np.arange(len(hi)), lo, hi))  # stable: earliest row first in each group
        new_group = np.ones(len(order), dtype=bool)
        new_group[1:] = (hi[order][1:] != hi[order][:-1]) | (lo[order][1:] != lo[order][:-1])
        group_start = np.maximum.accumulate(np.where(new_group, np.arange(len(order)), 0))
        self._keeper = np.empty(len(order), dtype=np.int64)
        self._keeper[order] = order[group_start]

    def apply(self, batch: pa.RecordBatch, rows: RowIds) -> Verdict:
        positions = np.arange(rows.start, rows.start + len(rows))
        keeper = self._keeper[positions]
        keep = keeper == positions
        rule = np.where(keep, -1, 0).astype(np.int32)
        return Verdict(keep, rule, (self._row_hi[keeper], self._row_lo[keeper]))
