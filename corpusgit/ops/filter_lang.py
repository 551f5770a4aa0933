"""``filter-lang``: keep rows in the given languages (``corpusgit[lang]``).

Identification is ``corpusgit.detect.language`` (py3langid, whose model ships in its wheel:
nothing is downloaded), shared with the ``language`` quality check, so the check and the
operator agree on every row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from corpusgit.detect.language import detect, require
from corpusgit.ops.base import FilterOperator, RowIds, Verdict
from corpusgit.ops.text import text_column


@dataclass(frozen=True, slots=True)
class LangConfig:
    languages: tuple[str, ...] = ("en",)
    column: str = "text"

    def __post_init__(self) -> None:
        if not self.languages:
            raise ValueError("languages must list at least one ISO 639-1 code, e.g. [en, zh]")


class FilterLang(FilterOperator[LangConfig]):
    """Keep rows whose identified language is in 'languages' (py3langid; model ships in its wheel)."""

    name = "filter-lang"
    version = "1"
    Config = LangConfig
    rules = ("other_language",)
    requires = ("py3langid",)
    code_modules = ("corpusgit.detect.language",)

    def __init__(self, config: LangConfig) -> None:
        super().__init__(config)
        require("filter-lang")

    def apply(self, batch: pa.RecordBatch, rows: RowIds) -> Verdict:
        langs = np.array(detect(text_column(batch, self.config.column, self.name).to_pylist()), dtype=object)
        for lang, count in zip(*np.unique(langs, return_counts=True)):
            self.counts[f"lang_{lang}"] += int(count)
        keep = np.isin(langs, list(self.config.languages))
        return Verdict(keep, np.where(keep, -1, 0).astype(np.int32))
