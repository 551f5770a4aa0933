"""``filter-quality``: Gopher (Rae et al. 2021) and C4 (Raffel et al. 2020) heuristic rules.

Defaults are the published thresholds as DataTrove and FineWeb use them. Each rule can be
switched off by setting its threshold to null. Rules about word length only make sense for
space-separated scripts, so rows that are mostly CJK skip them; every other rule counts a CJK
character as a word and knows CJK sentence punctuation, so Chinese prose passes where English
prose of the same quality passes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from corpusgit.ops.base import FilterOperator, RowIds, Verdict
from corpusgit.ops.text import Measures, text_column

CJK_DOMINANT = 0.5  # rows whose words are mostly CJK characters skip the word-length rule


@dataclass(frozen=True, slots=True)
class QualityConfig:
    column: str = "text"
    min_words: int | None = 50
    max_words: int | None = 100_000
    min_mean_word_length: float | None = 3.0
    max_mean_word_length: float | None = 10.0
    max_symbol_ratio: float | None = 0.1
    max_bullet_line_ratio: float | None = 0.9
    max_ellipsis_line_ratio: float | None = 0.3
    min_alpha_word_ratio: float | None = 0.8
    min_stop_words: int | None = 2
    max_dup_line_ratio: float | None = 0.3
    lorem_ipsum: bool = True
    curly_bracket: bool = False  # C4 drops pages with '{' (code); off by default for code-bearing corpora
    min_sentences: int | None = 3
    min_terminal_line_ratio: float | None = 0.12


class FilterQuality(FilterOperator[QualityConfig]):
    """Drop rows failing Gopher/C4 quality heuristics; counts rows dropped per rule."""

    name = "filter-quality"
    version = "1"
    Config = QualityConfig
    rules = (
        "gopher_min_words", "gopher_max_words", "gopher_mean_word_length", "gopher_symbol_ratio",
        "gopher_bullet_lines", "gopher_ellipsis_lines", "gopher_alpha_words", "gopher_stop_words",
        "gopher_dup_lines", "c4_lorem_ipsum", "c4_curly_bracket", "c4_min_sentences", "c4_terminal_punct",
    )
    code_modules = ("corpusgit.ops.text",)

    def apply(self, batch: pa.RecordBatch, rows: RowIds) -> Verdict:
        cfg = self.config
        m = Measures(text_column(batch, cfg.column, self.name))
        n = batch.num_rows
        never = np.zeros(n, dtype=bool)

        def below(signal: str, limit: float | None) -> np.ndarray:
            return never if limit is None else m.get(signal) < limit

        def above(signal: str, limit: float | None) -> np.ndarray:
            return never if limit is None else m.get(signal) > limit

        spaced = m.get("cjk_ratio") <= CJK_DOMINANT
        word_length = (below("mean_word_length", cfg.min_mean_word_length) | above("mean_word_length", cfg.max_mean_word_length)) & spaced
        failing = [
            below("n_words", cfg.min_words),
            above("n_words", cfg.max_words),
            word_length,
            above("symbol_ratio", cfg.max_symbol_ratio),
            above("bullet_line_ratio", cfg.max_bullet_line_ratio),
            above("ellipsis_line_ratio", cfg.max_ellipsis_line_ratio),
            below("alpha_word_ratio", cfg.min_alpha_word_ratio),
            below("stop_words", cfg.min_stop_words),
            above("dup_line_ratio", cfg.max_dup_line_ratio),
            m.get("has_lorem_ipsum") if cfg.lorem_ipsum else never,
            m.get("has_curly_bracket") if cfg.curly_bracket else never,
            below("n_sentences", cfg.min_sentences),
            below("terminal_line_ratio", cfg.min_terminal_line_ratio),
        ]
        return Verdict.first_failing(failing, n)
