"""``filter-lang``: keep rows in the given languages, identified by py3langid (``corpusgit[lang]``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from corpusgit.ops.base import FilterOperator, RowIds, Verdict
from corpusgit.ops.langid import LanguageId
from corpusgit.ops.text import text_column


@dataclass(frozen=True, slots=True)
class LangConfig:
    languages: tuple[str, ...] = ("en",)
    column: str = "text"
    min_score: float = 0.0  # probability of the identified language (0..1)
    max_chars: int = 2000

    def __post_init__(self) -> None:
        if not self.languages:
            raise ValueError("languages must list at least one ISO 639-1 code, e.g. [en, zh]")
        if not 0.0 <= self.min_score <= 1.0:
            raise ValueError(f"min_score must be between 0 and 1, got {self.min_score}")


class FilterLang(FilterOperator[LangConfig]):
    """Keep rows whose identified language is in 'languages' (py3langid; model ships in its wheel)."""

    name = "filter-lang"
    version = "1"
    Config = LangConfig
    rules = ("other_language", "low_confidence")
    requires = ("py3langid",)
    code_modules = ("corpusgit.ops.langid",)

    def __init__(self, config: LangConfig) -> None:
        super().__init__(config)
        self._langid = LanguageId(config.max_chars)

    def apply(self, batch: pa.RecordBatch, rows: RowIds) -> Verdict:
        langs, scores = self._langid.classify(text_column(batch, self.config.column, self.name))
        for lang, count in zip(*np.unique(langs.to_numpy(zero_copy_only=False), return_counts=True)):
            self.counts[f"lang_{lang}"] += int(count)
        wanted = pc.is_in(langs, pa.array(self.config.languages, pa.string())).to_numpy(zero_copy_only=False)
        return Verdict.first_failing([~wanted, scores < self.config.min_score], batch.num_rows)
