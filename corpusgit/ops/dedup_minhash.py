"""``dedup-minhash``: near-duplicate removal with MinHash-LSH (Broder 1997; as in GPT-3, FineWeb).

Documents are sets of word n-grams (each CJK character is a word, so Chinese gets character
n-grams). ``bands`` x ``rows_per_band`` hash functions are grouped into bands; documents
sharing a band become candidates, and candidates whose estimated Jaccard similarity reaches
``threshold`` are duplicates. Of each cluster the earliest row is kept and every other row
records it as the row it duplicated.

Between its two passes the operator holds, per row, ``4 * bands * rows_per_band`` bytes of
signature plus ``8 * bands`` of band keys (576 bytes with the defaults).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from corpusgit.ops.base import GlobalOperator, RowIds, Verdict
from corpusgit.ops.minhash import band_keys, cluster, hash_functions, shingles, signatures
from corpusgit.ops.text import text_column


@dataclass(frozen=True, slots=True)
class MinHashConfig:
    column: str = "text"
    ngram: int = 5
    bands: int = 14  # 14 x 8 = 112 hash functions, DataTrove's and FineWeb's setting:
    rows_per_band: int = 8  # pairs at Jaccard 0.75 are caught ~77% of the time, at 0.85 ~99%
    threshold: float = 0.7  # estimated Jaccard that confirms a candidate pair (0 = trust the bands)
    lowercase: bool = True
    seed: int = 1

    def __post_init__(self) -> None:
        if self.ngram < 1 or self.bands < 1 or self.rows_per_band < 1:
            raise ValueError("ngram, bands and rows_per_band must be >= 1")
        if not 0.0 <= self.threshold <= 1.0:
            raise ValueError(f"threshold must be between 0 and 1, got {self.threshold}")


class DedupMinHash(GlobalOperator[MinHashConfig]):
    """Drop near-duplicate rows (MinHash-LSH on word/CJK-character n-grams); records the kept row."""

    name = "dedup-minhash"
    version = "1"
    Config = MinHashConfig
    rules = ("near_duplicate",)
    code_modules = ("corpusgit.ops.minhash", "corpusgit.ops.text")

    def __init__(self, config: MinHashConfig) -> None:
        super().__init__(config)
        self._a, self._b = hash_functions(config.bands * config.rows_per_band, config.seed)
        self._sigs: list[np.ndarray] = []
        self._rows: list[tuple[np.ndarray, np.ndarray]] = []
        self._keeper = np.zeros(0, dtype=np.int64)
        self._row_hi = self._row_lo = np.zeros(0, dtype=np.uint64)

    def signatures(self, text: pa.Array) -> np.ndarray:
        """MinHash signatures of a text column (also what the benchmark times)."""
        shingle, doc = shingles(text, self.config.ngram, self.config.lowercase)
        return signatures(shingle, doc, len(text), self._a, self._b)

    def observe(self, batch: pa.RecordBatch, rows: RowIds) -> None:
        self._sigs.append(self.signatures(text_column(batch, self.config.column, self.name)))
        self._rows.append((rows.hi, rows.lo))

    def prepare(self) -> None:
        """Band, bucket and cluster every row once the first pass has signed them all."""
        if not self._sigs:
            return
        sig = np.concatenate(self._sigs)
        self._sigs.clear()
        self._row_hi = np.concatenate([r[0] for r in self._rows])
        self._row_lo = np.concatenate([r[1] for r in self._rows])
        self._rows.clear()
        keys = band_keys(sig, self.config.bands, self.config.rows_per_band)
        self._keeper = cluster(keys, sig, self.config.threshold)
        self.counts["clusters"] = int(len(np.unique(self._keeper[self._keeper != np.arange(len(self._keeper))])))

    def apply(self, batch: pa.RecordBatch, rows: RowIds) -> Verdict:
        positions = np.arange(rows.start, rows.start + len(rows))
        keeper = self._keeper[positions]
        keep = keeper == positions
        return Verdict(keep, np.where(keep, -1, 0).astype(np.int32), (self._row_hi[keeper], self._row_lo[keeper]))
