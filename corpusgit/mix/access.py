"""Samples of a stored mix by global index: the one data path under open, materialize, verify
and locate, so they cannot disagree about what sample N is."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from corpusgit.errors import BadInput
from corpusgit.mix.gather import SourceRows
from corpusgit.mix.storage import StoredMix, piece_samples, read_piece
from corpusgit.mix.chunks import ChunkLoader
from corpusgit.table.model import TableObject
from corpusgit.table.schema import ROW_HASH_COLUMN, ROW_HASH_TYPE

if TYPE_CHECKING:
    from corpusgit.repo import Repo

SOURCE_COLUMN = "_source"  # name of the source each sample came from
PIECES_KEPT = 4  # decoded plan pieces kept: a strided shard's batch rarely spans more
CACHE_WINDOWS = 3  # chunk cache per source, in windows: the current and next window (a batch often
#                   spans both) plus the chunks that straddle their blocks
MIN_CACHE_BYTES = 256 << 20  # a floor for mixes of one or two sources


class MixData:
    """Rows of a stored mix by sample index; holds a chunk cache sized for all its sources."""

    def __init__(self, repo: Repo, stored: StoredMix, columns: Sequence[str] | None = None, cache_bytes: int | None = None) -> None:
        self.repo = repo
        self.stored = stored
        mix = stored.mix
        self.columns = list(columns) if columns is not None else list(mix.columns)
        unknown = [c for c in self.columns if c not in mix.columns]
        if unknown:
            raise BadInput(f"mix {stored.id[:12]} has no column '{unknown[0]}'", hint=f"its columns are: {', '.join(mix.columns)}")
        self.tables: list[list[tuple[str, TableObject]]] = [
            [(p, TableObject.from_json(repo.store.get_meta(oid, needed_by=f"mix {stored.id[:12]}: {p}"))) for p, oid in s.tables]
            for s in mix.sources
        ]
        first = self.tables[0][0][1].schema
        data_fields = [pa.field(c, first.field(c).type, nullable=True) for c in self.columns]
        self.data_schema = pa.schema(data_fields)
        self.schema = pa.schema([*data_fields, pa.field(SOURCE_COLUMN, pa.string(), nullable=False),
                                 pa.field(ROW_HASH_COLUMN, ROW_HASH_TYPE, nullable=False)])
        budget = cache_bytes if cache_bytes is not None else max(MIN_CACHE_BYTES, len(mix.sources) * CACHE_WINDOWS * mix.block_bytes * mix.window_blocks)
        self._cache = ChunkLoader(repo.store, budget)
        self.sources = [SourceRows(self._cache, s.name, ts, self.columns, self.data_schema) for s, ts in zip(mix.sources, self.tables)]
        self._names = pa.array([s.name for s in mix.sources], pa.string())
        self._pieces: OrderedDict[int, tuple[np.ndarray, np.ndarray, np.ndarray]] = OrderedDict()
        self._per_piece = piece_samples(stored)

    @property
    def num_samples(self) -> int:
        return self.stored.samples

    def plan_at(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(source number, source row, epoch) of each sample index."""
        if len(index) and (int(index.min()) < 0 or int(index.max()) >= self.num_samples):
            bad = int(index.max()) if int(index.max()) >= self.num_samples else int(index.min())
            raise BadInput(f"sample {bad} is outside mix {self.stored.id[:12]} ({self.num_samples:,} samples, 0-{self.num_samples - 1:,})",
                           hint="indexes count from 0; 'cgit mix show' gives the number of samples")
        source = np.empty(len(index), dtype=np.uint16)
        row = np.empty(len(index), dtype=np.int64)
        epoch = np.empty(len(index), dtype=np.uint16)
        piece_of = index // self._per_piece
        for p in np.unique(piece_of).tolist():
            at = piece_of == p
            s, r, e = self._piece(p)
            local = index[at] - p * self._per_piece
            source[at], row[at], epoch[at] = s[local], r[local], e[local]
        return source, row, epoch

    def _piece(self, p: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        arrays = self._pieces.get(p)
        if arrays is None:
            arrays = read_piece(self.repo, self.stored.pieces[p], self.stored.id)
            self._pieces[p] = arrays
            while len(self._pieces) > PIECES_KEPT:
                self._pieces.popitem(last=False)
        else:
            self._pieces.move_to_end(p)
        return arrays

    def fetch(self, index: np.ndarray) -> pa.Table:
        """The samples at ``index`` (global sample numbers), in that order, with ``_source`` and
        ``_cgit_row`` after the data columns."""
        source, row, _ = self.plan_at(index)
        parts: list[pa.Table] = []
        where = np.empty(len(index), dtype=np.int64)  # each sample's row in the concatenated parts
        before = 0
        for s in np.unique(source).tolist():
            at = source == s
            part, inverse = self.sources[s].take_distinct(row[at])
            where[at] = inverse + before
            before += part.num_rows
            parts.append(part)
        if not parts:
            return self.schema.empty_table()
        combined = (pa.concat_tables(parts) if len(parts) > 1 else parts[0]).combine_chunks()  # take on one chunk is ~3x faster
        gathered = combined.take(pa.array(where))
        names = pa.DictionaryArray.from_arrays(pa.array(source.astype(np.int16)), self._names).cast(pa.string())
        return gathered.add_column(len(self.columns), SOURCE_COLUMN, names).cast(self.schema)
