"""``annotate``: add per-row text measures as columns (lengths, quality signals, language).

The columns are the same measures ``filter-quality`` thresholds, so a team can look at their
distribution before choosing thresholds, or filter later with ``filter-expr``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from corpusgit.detect.language import detect, require
from corpusgit.ops.base import MapOperator, RowIds
from corpusgit.ops.text import SIGNALS, Measures, text_column

LANG = "lang"  # computed by corpusgit.detect.language (the lang extra), not by pyarrow compute


@dataclass(frozen=True, slots=True)
class AnnotateConfig:
    column: str = "text"
    signals: tuple[str, ...] = ("n_chars", "n_words", "n_lines")
    prefix: str = ""

    def __post_init__(self) -> None:
        unknown = [s for s in self.signals if s not in SIGNALS and s != LANG]
        if unknown:
            raise ValueError(f"unknown signal '{unknown[0]}'; signals are: {', '.join([*SIGNALS, LANG])}")
        if not self.signals:
            raise ValueError("signals must name at least one signal")


class Annotate(MapOperator[AnnotateConfig]):
    """Add columns of text measures (n_chars, n_words, quality signals, lang) to every row."""

    name = "annotate"
    version = "1"
    Config = AnnotateConfig
    requires = ("py3langid",)  # recorded when installed (the lang signal uses it)
    code_modules = ("corpusgit.ops.text", "corpusgit.detect.language")

    def __init__(self, config: AnnotateConfig) -> None:
        super().__init__(config)
        if LANG in config.signals:
            require("annotate's lang signal")

    def apply(self, batch: pa.RecordBatch, rows: RowIds) -> pa.RecordBatch:
        text = text_column(batch, self.config.column, self.name)
        m = Measures(text)
        for signal in self.config.signals:
            name = self.config.prefix + signal
            if name in batch.schema.names:
                batch = batch.drop_columns([name])
            if signal == LANG:
                batch = batch.append_column(name, pa.array(detect(text.to_pylist()), pa.string()))
            else:
                batch = batch.append_column(name, pa.array(m.get(signal)))
        return batch
