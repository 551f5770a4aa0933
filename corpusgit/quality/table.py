"""``TableData``: one table version as checks see it, whether it is a committed/staged table
(chunks in the object store, facts cached by chunk id) or a plain Parquet/JSONL file checked by
``cgit check FILE`` (row groups as chunks, nothing cached)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from corpusgit.errors import BadInput
from corpusgit.quality.facts import CATEGORICAL_KINDS, TEXT_KINDS, Arrays, ColumnError, Fact, FactStore, GroupLayout, empty_fact, gather, is_text_type
from corpusgit.store.objects import ObjectStore
from corpusgit.table.hashing import lanes_to_binary, row_lanes
from corpusgit.table.model import TableObject
from corpusgit.table.schema import ROW_HASH_COLUMN, canonical_schema

FETCH_CHUNKS = 4  # decoded chunks kept for sample rows (~8 MiB each): reports show few rows


class TableData:
    """A table's schema, rows and facts; facts are gathered lazily and memoised."""

    def __init__(
        self,
        path: str,
        schema: pa.Schema,
        key: tuple[str, ...],
        num_rows: int,
        layouts: list[GroupLayout],
        facts: FactStore,
        reader: Callable[[list[str] | None], pa.RecordBatchReader],
        table_id: str | None = None,
        file: Path | None = None,
    ) -> None:
        self.path = path
        self.schema = schema
        self.key = key
        self.num_rows = num_rows
        self.layouts = layouts
        self.facts = facts
        self.table_id = table_id
        self.file = file  # the file on disk, for plain files (external commands read it directly)
        self._reader = reader
        self._memo: dict[Fact, Arrays] = {}
        self._loaded: dict[tuple[str, tuple[str, ...]], pa.Table] = {}
        self._derived: dict[tuple[Any, ...], Any] = {}

    # -- construction ----------------------------------------------------------------------------
    @classmethod
    def from_object(cls, store: ObjectStore, path: str, table: TableObject, facts: FactStore, table_id: str | None = None) -> TableData:
        """A table version in the object store; its chunk ids key the fact cache."""
        from corpusgit.table.chunkio import read_chunk
        from corpusgit.table.reader import read_table

        needed_by = f"{path} ({table_id[:12]})" if table_id else path
        layouts = []
        for group in table.groups:
            refs = group.chunks

            def load(i: int, columns: list[str], refs: tuple[Any, ...] = refs) -> pa.Table:
                # Chunks are decoded on FactStore's own threads; Arrow's pools inside them can hang.
                return read_chunk(store, refs[i], columns, needed_by, threads=False)

            layouts.append(GroupLayout(
                group.columns, tuple(r.id for r in refs), np.array([r.rows for r in refs], dtype=np.int64),
                group.seg_chunk, group.seg_start, group.seg_rows, load,
            ))
        return cls(path, table.schema, table.key, table.num_rows, layouts, facts,
                   lambda columns: read_table(store, table, columns, needed_by=needed_by), table_id)

    @classmethod
    def from_file(cls, file: Path, path: str, key: tuple[str, ...], facts: FactStore) -> TableData:
        """A Parquet (row groups as chunks) or JSONL file (one chunk, read whole) on disk."""
        import pyarrow.parquet as pq

        if file.suffix.lower() in (".jsonl", ".ndjson", ".json"):
            import pyarrow.json as pj

            try:
                whole = pj.read_json(file)
            except (pa.ArrowException, OSError) as exc:
                raise BadInput(f"{path}: not readable as JSON lines ({str(exc).splitlines()[0]})", hint="one JSON object per line") from exc
            pieces: list[Callable[[], pa.Table]] = [partial(_same, whole)]
            rows = [whole.num_rows]
            schema = whole.schema
        else:
            try:
                pf = pq.ParquetFile(file)
            except (pa.ArrowException, OSError) as exc:
                raise BadInput(f"{path}: not a readable Parquet file ({str(exc).splitlines()[0]})", hint="check the file; JSON lines files end in .jsonl") from exc
            pieces = [partial(_row_group, file, i) for i in range(pf.num_row_groups)]
            rows = [pf.metadata.row_group(i).num_rows for i in range(pf.num_row_groups)]
            schema = pf.schema_arrow
        canonical = canonical_schema(schema)

        def load(i: int, columns: list[str]) -> pa.Table:
            table = _canonical(pieces[i](), canonical, path)
            if ROW_HASH_COLUMN in columns:
                hi, lo = row_lanes(table)
                table = table.append_column(ROW_HASH_COLUMN, lanes_to_binary(hi, lo))
            return table.select(columns)

        counts = np.array(rows, dtype=np.int64)
        n = len(rows)
        layout = GroupLayout(tuple(schema.names), tuple(f"{path}#{i}" for i in range(n)), counts,
                             np.arange(n, dtype=np.int64), np.zeros(n, dtype=np.int64), counts, load, cacheable=False)

        def read(columns: list[str] | None) -> pa.RecordBatchReader:
            wanted = columns if columns is not None else list(schema.names)

            def batches() -> Iterator[pa.RecordBatch]:
                for i in range(n):
                    yield from load(i, wanted).to_batches()

            return pa.RecordBatchReader.from_batches(pa.schema([canonical.field(c) for c in wanted]), batches())

        return cls(path, canonical, key, int(counts.sum()), [layout], facts, read, file=file)

    # -- facts -----------------------------------------------------------------------------------
    def group_for(self, column: str) -> GroupLayout:
        for layout in self.layouts:
            if column in layout.columns:
                return layout
        raise ColumnError(f"{self.path}: no column {column!r}", hint=f"columns are: {', '.join(self.schema.names)}")

    def validate(self, fact: Fact) -> None:
        """Raise ``ColumnError`` when the fact cannot be measured on this table."""
        if not fact.column:
            return
        self.group_for(fact.column)
        t = self.schema.field(fact.column).type
        if fact.kind in TEXT_KINDS and not is_text_type(t):
            raise ColumnError(f"{self.path}: column {fact.column!r} is {t}, not text", hint="point the check at a string column with column = \"...\"")

    def work(self, facts: Iterable[Fact]) -> list[tuple[GroupLayout, list[Fact]]]:
        """``FactStore.ensure`` items for ``facts`` on this table, so the runner can compute the
        facts of every check on every table in one pass. Facts that cannot be measured here
        are left out: the check that asked reports why when it runs."""
        work: list[tuple[GroupLayout, list[Fact]]] = []
        for fact in set(facts):
            try:
                self.validate(fact)
            except ColumnError:
                continue
            groups = self.layouts if fact.kind == "rowhash" else [self.group_for(fact.column)]
            work.extend((g, [fact]) for g in groups)
        return work

    def fact(self, fact: Fact) -> Arrays:
        """Per-row arrays of ``fact`` over this table's rows, in order."""
        found = self._memo.get(fact)
        if found is not None:
            return found
        self.validate(fact)
        if self.num_rows == 0 or not self.layouts:
            found = empty_fact(fact)
        elif fact.kind == "rowhash":
            found = self._row_hash()
        else:
            layout = self.group_for(fact.column)
            self.facts.ensure([(layout, [fact])])
            per_chunk = [self.facts.get(layout, i, fact) for i in range(len(layout.keys))]
            found = gather(layout, per_chunk, fact.kind in CATEGORICAL_KINDS)
        self._memo[fact] = found
        return found

    def derived(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        """A result several checks share (e.g. which rows the parent also has), computed once
        per table version and run."""
        if key not in self._derived:
            self._derived[key] = compute()
        return self._derived[key]

    def _row_hash(self) -> Arrays:
        """Row identity of whole rows: the lane-wise sum of the column groups' hashes."""
        fact = Fact("rowhash")
        self.facts.ensure([(g, [fact]) for g in self.layouts])
        hi = np.zeros(self.num_rows, dtype=np.uint64)
        lo = np.zeros(self.num_rows, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for layout in self.layouts:
                part = gather(layout, [self.facts.get(layout, i, fact) for i in range(len(layout.keys))], False)
                hi += part["hi"]
                lo += part["lo"]
        return {"hi": hi, "lo": lo}

    # -- rows --------------------------------------------------------------------------------------
    def read(self, columns: Sequence[str] | None = None) -> pa.RecordBatchReader:
        """Stream the table's rows (for custom checks that need more than facts)."""
        return self._reader(list(columns) if columns is not None else None)

    def row_ids(self, rows: Sequence[int]) -> list[str]:
        """``_cgit_row`` of each row as 32 hex digits."""
        ids = self.fact(Fact("rowhash"))
        return [f"{int(ids['hi'][r]):016x}{int(ids['lo'][r]):016x}" for r in rows]

    def fetch(self, rows: Sequence[int], columns: Sequence[str]) -> list[dict[str, Any]]:
        """Values of a few rows (for samples in reports): finds each row's chunk through the
        segment list and loads only those chunks."""
        out: list[dict[str, Any]] = [{} for _ in rows]
        for layout in self.layouts:
            wanted = [c for c in columns if c in layout.columns]
            if not wanted or not len(rows):
                continue
            ends = np.cumsum(layout.seg_rows)
            segs = np.searchsorted(ends, np.asarray(rows, dtype=np.int64), side="right")
            for k, (row, seg) in enumerate(zip(rows, segs.tolist())):
                chunk_index = int(layout.seg_chunk[seg])
                offset = int(layout.seg_start[seg]) + int(row) - int(ends[seg] - layout.seg_rows[seg])
                piece = self._chunk(layout, chunk_index, wanted).slice(offset, 1).to_pylist()[0]
                out[k].update({c: piece[c] for c in wanted})
        return out

    def _chunk(self, layout: GroupLayout, index: int, columns: list[str]) -> pa.Table:
        """A decoded chunk for ``fetch``; the last few are kept, since the samples of several
        checks often fall in the same chunks."""
        key = (layout.keys[index], tuple(columns))
        table = self._loaded.pop(key, None)
        if table is None:
            table = layout.load(index, columns)
        self._loaded[key] = table
        while len(self._loaded) > FETCH_CHUNKS:
            del self._loaded[next(iter(self._loaded))]
        return table


def _canonical(table: pa.Table, schema: pa.Schema, path: str) -> pa.Table:
    try:
        return table.cast(schema)
    except (pa.ArrowException, ValueError) as exc:
        raise BadInput(f"{path}: cannot read column types ({str(exc).splitlines()[0]})", hint="write the file with standard Arrow types") from exc


def _same(table: pa.Table) -> pa.Table:
    return table


def _row_group(file: Path, index: int) -> pa.Table:
    """One row group, from a reader of its own: loads run on several threads at once."""
    import pyarrow.parquet as pq

    return pq.ParquetFile(file).read_row_group(index, use_threads=False)
