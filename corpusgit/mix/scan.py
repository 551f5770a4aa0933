"""One streaming pass over a source: row hashes, which rows pass the filter, and their sizes.

This is the only full read of the data a mix ever needs; what it learns is planned once and
stored, so opening, locating and materialising never filter or count again. Only the filter's
columns, the text column and ``_cgit_row`` are read.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from corpusgit.errors import BadInput
from corpusgit.mix.counting import Counter, byte_counts
from corpusgit.mix.expr import Node
from corpusgit.progress import Task
from corpusgit.store.objects import ObjectStore
from corpusgit.table.hashing import binary_to_lanes
from corpusgit.table.model import TableObject
from corpusgit.table.reader import read_table
from corpusgit.table.schema import ROW_HASH_COLUMN

_POS = "__cgit_pos"  # row positions ride along through the filter; no user column starts with __cgit


@dataclass(frozen=True, slots=True)
class SourceScan:
    """Per source: hashes of every row (table order), eligible positions and their sizes.

    Memory is about 40 bytes per row; a 100-million-row source needs ~4 GB during ``create``.
    """

    hi: np.ndarray
    lo: np.ndarray
    eligible: np.ndarray
    tokens: np.ndarray
    bytes: np.ndarray
    logical_bytes: int

    @property
    def rows(self) -> int:
        return len(self.hi)


def scan_source(
    store: ObjectStore, name: str, tables: tuple[tuple[str, TableObject], ...], filt: Node | None,
    text_column: str, count_tokens: Counter, task: Task,
) -> SourceScan:
    """Stream every table of the source once, in order."""
    expr = filt.compile() if filt is not None else None
    columns = sorted((filt.columns() if filt else set()) | {text_column})
    his, los, elig, toks, sizes = [], [], [], [], []
    offset = 0
    for path, table in tables:
        reader = read_table(store, table, columns, with_row_hash=True, needed_by=f"source '{name}': {path}")
        for batch in reader:
            n = batch.num_rows
            hi, lo = binary_to_lanes(batch.column(ROW_HASH_COLUMN))
            his.append(hi)
            los.append(lo)
            keep = np.arange(n, dtype=np.int64)
            text = batch.column(text_column)
            if expr is not None:
                keep = _passing(batch, expr, name, path)
                text = text.take(pa.array(keep))
            elig.append(keep + offset)
            toks.append(count_tokens(text))
            sizes.append(byte_counts(text))
            offset += n
            task.advance(n)
    return SourceScan(_cat(his, np.uint64), _cat(los, np.uint64), _cat(elig, np.int64), _cat(toks, np.int64),
                      _cat(sizes, np.int64), sum(t.logical_bytes for _, t in tables))


def _passing(batch: pa.RecordBatch, expr: object, name: str, path: str) -> np.ndarray:
    """Positions (within the batch) of rows whose filter is true; null counts as false."""
    table = pa.Table.from_batches([batch]).append_column(_POS, pa.array(np.arange(batch.num_rows, dtype=np.int64)))
    try:
        kept = table.filter(expr).column(_POS)
    except pa.ArrowException as exc:
        raise BadInput(f"filter of source '{name}' failed on {path}: {str(exc).splitlines()[0]}",
                       hint="an arithmetic overflow or a bad regex; simplify the filter") from None
    positions: np.ndarray = kept.to_numpy().astype(np.int64)
    return positions


def _cat(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.zeros(0, dtype=dtype)
