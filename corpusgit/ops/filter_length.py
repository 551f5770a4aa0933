"""``filter-length``: keep rows whose text length is within bounds, in characters and words."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from corpusgit.ops.base import FilterOperator, RowIds, Verdict
from corpusgit.ops.text import Measures, text_column


@dataclass(frozen=True, slots=True)
class LengthConfig:
    column: str = "text"
    min_chars: int = 0
    max_chars: int | None = None
    min_words: int = 0  # a CJK character counts as one word
    max_words: int | None = None

    def __post_init__(self) -> None:
        if self.min_chars < 0 or self.min_words < 0:
            raise ValueError("min_chars and min_words must be >= 0")


class FilterLength(FilterOperator[LengthConfig]):
    """Keep rows whose text has min..max characters and words (CJK characters count as words)."""

    name = "filter-length"
    version = "1"
    Config = LengthConfig
    rules = ("too_few_chars", "too_many_chars", "too_few_words", "too_many_words")
    code_modules = ("corpusgit.ops.text",)

    def apply(self, batch: pa.RecordBatch, rows: RowIds) -> Verdict:
        cfg = self.config
        m = Measures(text_column(batch, cfg.column, self.name))
        chars = m.get("n_chars")
        failing = [chars < cfg.min_chars, chars > (cfg.max_chars if cfg.max_chars is not None else np.inf)]
        if cfg.min_words or cfg.max_words is not None:
            n_words = m.get("n_words")
            failing += [n_words < cfg.min_words, n_words > (cfg.max_words if cfg.max_words is not None else np.inf)]
        return Verdict.first_failing(failing, batch.num_rows)
