"""Turning work-tree files into objects: Parquet files become tables, the rest blobs.

One ``IngestSession`` serves a whole ``add``: it shares match indexes between shards of the same
dataset directory and one background writer for chunk encoding.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from corpusgit.errors import BadInput
from corpusgit.progress import Task
from corpusgit.store.canonical import ObjectId, canonical_json
from corpusgit.store.objects import ObjectStore
from corpusgit.table.ingest import WRITER_THREADS, MatchIndex, TableIngest
from corpusgit.table.model import TableObject
from corpusgit.table.schema import ROW_HASH_COLUMN, canonical_schema, type_to_json

READ_BATCH_ROWS = 8_192  # rows per Parquet read batch: ~16-64 MiB of 2-8 KB documents
READ_BUFFER = 1 << 20  # buffered column reads: pyarrow's default pre-buffering holds the whole
#                       file in memory while iterating; this streams at the same speed locally


def open_parquet(path: Path, rel: str) -> pq.ParquetFile:
    """Open a Parquet file or fail with a one-line error naming it."""
    try:
        return pq.ParquetFile(path, pre_buffer=False, buffer_size=READ_BUFFER)
    except (pa.ArrowException, OSError) as exc:
        raise BadInput(f"{rel}: not a valid Parquet file ({_first_line(exc)})", hint="re-write the file, or list it in .cgitignore") from exc


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


class IngestSession:
    """Ingests the files of one ``add`` against the tables already known under the same directory."""

    def __init__(self, store: ObjectStore, known: dict[str, ObjectId]) -> None:
        self._store = store
        self._known = known  # path -> table id of the previous versions (index and HEAD)
        self._tables: dict[ObjectId, TableObject] = {}
        self._indexes: dict[tuple[str, str], MatchIndex] = {}
        self._pool = ThreadPoolExecutor(max_workers=WRITER_THREADS, thread_name_prefix="cgit-chunk")

    def close(self) -> None:
        self._pool.shutdown(wait=True)

    def table(self, oid: ObjectId) -> TableObject:
        if oid not in self._tables:
            self._tables[oid] = TableObject.from_json(self._store.get_meta(oid, needed_by="the previous version"))
        return self._tables[oid]

    def ingest(self, rel: str, path: Path, key: tuple[str, ...], task: Task) -> tuple[ObjectId, TableObject]:
        """Stream one Parquet file into a table object; only unmatched rows are stored."""
        pf = open_parquet(path, rel)
        schema = canonical_schema(pf.schema_arrow)
        batches = (_canonical_batch(b, schema, rel) for b in _iter_file(pf))
        try:
            return self.ingest_batches(rel, schema, batches, key, task)
        except (pa.ArrowException, OSError) as exc:
            raise BadInput(f"{rel}: cannot read Parquet data ({_first_line(exc)})", hint="the file is damaged or truncated; re-write it") from exc

    def ingest_batches(
        self,
        rel: str,
        schema: pa.Schema,
        batches: Iterable[pa.RecordBatch],
        key: tuple[str, ...],
        task: Task,
        also_match: Sequence[str] = (),
    ) -> tuple[ObjectId, TableObject]:
        """Store a stream of canonical batches as the table at ``rel``.

        ``also_match`` names more tables whose rows may be reused (a merge passes both sides).
        """
        self._check_schema(rel, schema, key)
        candidates = self._candidates(rel) + [self.table(ObjectId(oid)) for oid in also_match]
        layout = plan_layout(schema, candidates)
        directory = posixpath.dirname(rel)
        indexes = [self._index(directory, cols, schema, candidates) for cols in layout]
        ingest = TableIngest(self._store, schema, layout, indexes, key, pool=self._pool)
        for batch in batches:
            ingest.feed(batch)
            task.advance(batch.num_rows)
        table = ingest.finish()
        oid = self._store.put_meta(table.to_json())
        self._tables[oid] = table
        return oid, table

    def _check_schema(self, rel: str, schema: pa.Schema, key: tuple[str, ...]) -> None:
        if ROW_HASH_COLUMN in schema.names:
            raise BadInput(f"{rel}: column name {ROW_HASH_COLUMN} is reserved", hint="rename or drop that column")
        if len(set(schema.names)) != len(schema.names):
            raise BadInput(f"{rel}: duplicate column names", hint="give every column a unique name")
        missing = [k for k in key if k not in schema.names]
        if missing:
            raise BadInput(f"{rel}: key column {missing[0]!r} (from cgit.toml) is missing", hint=f"columns are: {', '.join(schema.names)}")
        for f in schema:
            type_to_json(f.type)

    def _candidates(self, rel: str) -> list[TableObject]:
        """Previous version of this path first, then its siblings (re-shards move rows between files)."""
        directory = posixpath.dirname(rel)
        ordered = [self._known[rel]] if rel in self._known else []
        ordered += [oid for p, oid in sorted(self._known.items()) if p != rel and posixpath.dirname(p) == directory]
        seen: set[str] = set()
        out = []
        for oid in ordered:
            if oid not in seen:
                seen.add(oid)
                out.append(self.table(oid))
        return out

    def _index(self, directory: str, cols: tuple[str, ...], schema: pa.Schema, candidates: list[TableObject]) -> MatchIndex | None:
        signature = _group_signature(schema, cols)
        key = (directory, signature)
        if key not in self._indexes:
            refs = [
                ref
                for t in candidates
                for g in t.groups
                if set(g.columns) <= set(t.schema.names) and _group_signature(t.schema, g.columns) == signature
                for ref in g.chunks
            ]
            if not refs:
                return None
            self._indexes[key] = MatchIndex.build(self._store, refs)
        return self._indexes[key]


def _iter_file(pf: pq.ParquetFile) -> Iterator[pa.RecordBatch]:
    """Batches, one row group at a time: pyarrow's whole-file batch reader keeps buffers of
    earlier row groups alive, so its memory grows with the file (seen with pyarrow 26)."""
    for group in range(pf.num_row_groups):
        yield from pf.iter_batches(batch_size=READ_BATCH_ROWS, row_groups=[group], use_threads=True)


def plan_layout(schema: pa.Schema, candidates: list[TableObject]) -> list[tuple[str, ...]]:
    """Column groups for a new version: reuse the groups of a previous version that still apply
    unchanged (so their rows match), and put new columns in a group of their own."""
    names = set(schema.names)
    for prev in candidates:
        kept = [
            g.columns
            for g in prev.groups
            if set(g.columns) <= names and _group_signature(prev.schema, g.columns) == _group_signature(schema, g.columns)
        ]
        if kept:
            used = {c for cols in kept for c in cols}
            rest = tuple(c for c in schema.names if c not in used)
            return kept + ([rest] if rest else [])
    return [tuple(schema.names)]


def _group_signature(schema: pa.Schema, cols: tuple[str, ...]) -> str:
    doc: list[Any] = [[c, type_to_json(schema.field(c).type)] for c in cols]
    return canonical_json(doc).decode()


def _canonical_batch(batch: pa.RecordBatch, schema: pa.Schema, rel: str) -> pa.RecordBatch:
    """Cast to canonical types and reject invalid UTF-8, which would poison every reader later."""
    # Always cast: schema equality ignores list child names, which canonical types fix and row
    # hashes see; casting to an identical type is zero-copy.
    batch = pa.RecordBatch.from_arrays([col.cast(f.type) for col, f in zip(batch.columns, schema)], schema=schema)
    for name, col in zip(batch.schema.names, batch.columns):
        if _has_strings(col.type):
            try:
                col.validate(full=True)
            except pa.ArrowInvalid as exc:
                raise BadInput(
                    f"{rel}: column {name!r} holds bytes that are not valid UTF-8 ({_first_line(exc)})",
                    hint="decode the source with errors='replace', or store the column as binary",
                ) from exc
    return batch


def _has_strings(t: pa.DataType) -> bool:
    if pa.types.is_string(t):
        return True
    if pa.types.is_struct(t):
        return any(_has_strings(f.type) for f in t)
    if pa.types.is_list(t) or pa.types.is_fixed_size_list(t) or pa.types.is_map(t):
        return _has_strings(t.value_type) if not pa.types.is_map(t) else _has_strings(t.key_type) or _has_strings(t.item_type)
    return False
