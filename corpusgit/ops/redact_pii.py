"""``redact-pii``: replace e-mails, phone numbers (incl. mainland-China mobiles), IPv4/IPv6
addresses, payment cards (Luhn) and Chinese resident IDs (checksum) with a placeholder.

Detection is ``corpusgit.detect.pii``, shared with the ``pii`` quality check, so a corpus this
operator has cleaned passes the check. The vectorised counter finds the rows that hold PII;
only those rows are rewritten in Python, and every other row passes through untouched (its
``_cgit_row`` does not change). Counts per kind land in the run's lineage stats.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from corpusgit.detect.pii import KINDS, PiiMatch, count_pii, find_pii, resolve_kinds
from corpusgit.ops.base import MapOperator, RowIds
from corpusgit.ops.text import text_column


@dataclass(frozen=True, slots=True)
class PiiConfig:
    column: str = "text"
    kinds: tuple[str, ...] = KINDS
    replacement: str = "[{KIND}]"  # {kind} and {KIND} name the kind, e.g. [EMAIL], [PHONE_CN]

    def __post_init__(self) -> None:
        unknown = [k for k in self.kinds if k not in KINDS]
        if unknown:
            raise ValueError(f"unknown PII kind '{unknown[0]}'; kinds are: {', '.join(KINDS)}")


class RedactPii(MapOperator[PiiConfig]):
    """Replace e-mails, phones (incl. China mobiles), IPs, cards (Luhn) and Chinese IDs; counts per kind."""

    name = "redact-pii"
    version = "1"
    Config = PiiConfig
    code_modules = ("corpusgit.detect.pii",)

    def apply(self, batch: pa.RecordBatch, rows: RowIds) -> pa.RecordBatch:
        cfg = self.config
        counts = count_pii(text_column(batch, cfg.column, self.name), resolve_kinds(cfg.kinds))
        hit = np.flatnonzero(np.sum(list(counts.values()), axis=0) > 0) if counts else np.zeros(0, np.int64)
        if len(hit) == 0:
            return batch
        values = batch.column(cfg.column).to_pylist()
        for i in hit.tolist():
            values[i] = self.redact(values[i])
        return batch.set_column(batch.schema.get_field_index(cfg.column), cfg.column, pa.array(values, pa.string()))

    def redact(self, text: str) -> str:
        """Replace every match; where matches of different kinds overlap, the earliest (then
        the longest) wins, so each character is redacted once."""
        chosen: list[PiiMatch] = []
        for m in sorted(find_pii(text, self.config.kinds), key=lambda m: (m.start, -(m.end - m.start))):
            if not chosen or m.start >= chosen[-1].end:
                chosen.append(m)
        out = []
        pos = 0
        for m in chosen:
            out.append(text[pos:m.start])
            out.append(self.config.replacement.format(kind=m.kind, KIND=m.kind.upper()))
            self.counts[m.kind] += 1
            pos = m.end
        out.append(text[pos:])
        return "".join(out)
