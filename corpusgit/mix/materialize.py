"""``cgit mix materialize``: a mix written out as numbered shards plus a manifest.

The bytes are a function of the mix and the pyarrow version only: shards are cut every
``shard_rows`` samples, row groups every ``ROW_GROUP_ROWS``, and every writer option is spelled
out, so two machines (or two processes) produce identical files. The directory appears under its
final name only when complete; a crash leaves a hidden temporary directory, never a half mix.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from corpusgit.errors import BadInput
from corpusgit.mix.access import MixData
from corpusgit.mix.jsonl import render_jsonl
from corpusgit.mix.storage import load_mix
from corpusgit.progress import NULL_PROGRESS, Progress
from corpusgit.store.atomic import write_atomic
from corpusgit.table.schema import ROW_HASH_COLUMN

if TYPE_CHECKING:
    from corpusgit.repo import Repo

MANIFEST = "manifest.json"
MANIFEST_FORMAT = 1
FORMATS = ("parquet", "jsonl")
ROW_GROUP_ROWS = 16_384  # also the fetch batch: large enough for vectorised gathers, ~32 MB of text
DICT_MAX_AVG_BYTES = 64  # dictionary-encode short labels (lang, _source), never documents
ZSTD_LEVEL = 3  # Arrow's default level; outputs are read many times, so compress a bit harder than chunks
IN_FLIGHT = 2  # batches fetched ahead of the writer thread: overlaps decoding with encoding


@dataclass(frozen=True, slots=True)
class ShardInfo:
    file: str
    first: int
    rows: int
    sha256: str
    rows_digest: str


@dataclass(frozen=True, slots=True)
class Materialized:
    mix: str
    directory: Path
    file_format: str
    samples: int
    shards: tuple[ShardInfo, ...]
    rows_digest: str


def shard_name(i: int, file_format: str) -> str:
    return f"part-{i:05d}.{file_format}"


def shard_ranges(samples: int, shard_rows: int) -> list[tuple[int, int]]:
    """[first, stop) of every shard."""
    return [(a, min(a + shard_rows, samples)) for a in range(0, samples, shard_rows)]


def parquet_options(schema: pa.Schema, sample: pa.Table) -> dict[str, Any]:
    """Every writer option, fixed; the dictionary choice follows the first batch's data."""
    dict_columns = [f.name for f in schema if f.name != ROW_HASH_COLUMN and _dictionary_pays(sample.column(f.name))]
    return {"compression": "zstd", "compression_level": ZSTD_LEVEL, "version": "2.6", "data_page_version": "1.0",
            "use_dictionary": dict_columns, "write_statistics": True, "store_schema": True, "data_page_size": 1 << 20}


def _dictionary_pays(column: pa.ChunkedArray) -> bool:
    t = column.type
    if not (pa.types.is_string(t) or pa.types.is_binary(t)) or len(column) == 0:
        return False
    return bool(column.nbytes / len(column) <= DICT_MAX_AVG_BYTES)


def iter_ranges(data: MixData, first: int, stop: int) -> Iterator[pa.Table]:
    """Samples [first, stop) in row-group-sized tables."""
    for a in range(first, stop, ROW_GROUP_ROWS):
        yield data.fetch(np.arange(a, min(a + ROW_GROUP_ROWS, stop), dtype=np.int64))


def materialize(repo: Repo, mix: str, out: Path, file_format: str = "parquet", progress: Progress = NULL_PROGRESS) -> Materialized:
    """Write every sample of the mix under ``out`` (which must not exist or be empty)."""
    if file_format not in FORMATS:
        raise BadInput(f"unknown format '{file_format}'", hint="use --format parquet or --format jsonl")
    stored = load_mix(repo, mix)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BadInput(f"{out} exists and is not an empty directory", hint="choose a new directory; materialize never overwrites files")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.cgit-", dir=out.parent))
    data = MixData(repo, stored)
    digest = hashlib.sha256()
    shards: list[ShardInfo] = []
    try:
        with progress.task(f"materializing {stored.id[:12]}", stored.samples) as task, ThreadPoolExecutor(1, thread_name_prefix="cgit-mix-write") as pool:
            for i, (first, stop) in enumerate(shard_ranges(stored.samples, stored.mix.shard_rows)):
                name = shard_name(i, file_format)
                shard_digest = hashlib.sha256()
                with _ShardWriter(tmp / name, data.schema, file_format, pool) as writer:
                    for table in iter_ranges(data, first, stop):
                        ids = row_hash_bytes(table)
                        digest.update(ids)
                        shard_digest.update(ids)
                        writer.write(table)
                        task.advance(table.num_rows)
                shards.append(ShardInfo(name, first, stop - first, file_sha256(tmp / name), shard_digest.hexdigest()))
        result = Materialized(stored.id, out, file_format, stored.samples, tuple(shards), digest.hexdigest())
        write_atomic(tmp / MANIFEST, manifest_bytes(result, data))
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return result


class _ShardWriter:
    """Writes one shard on the writer thread, in submission order, at most IN_FLIGHT behind."""

    def __init__(self, path: Path, schema: pa.Schema, file_format: str, pool: ThreadPoolExecutor) -> None:
        self._path = path
        self._schema = schema
        self._format = file_format
        self._pool = pool
        self._pending: list[Future[None]] = []
        self._parquet: pq.ParquetWriter | None = None
        self._jsonl: Any = None

    def __enter__(self) -> _ShardWriter:
        return self

    def write(self, table: pa.Table) -> None:
        while len(self._pending) >= IN_FLIGHT:
            self._pending.pop(0).result()
        self._pending.append(self._pool.submit(self._write, table))

    def _write(self, table: pa.Table) -> None:
        if self._format == "jsonl":
            if self._jsonl is None:
                self._jsonl = open(self._path, "wb")
            self._jsonl.write(render_jsonl(table))
            return
        if self._parquet is None:
            self._parquet = pq.ParquetWriter(self._path, self._schema, **parquet_options(self._schema, table))
        self._parquet.write_table(table, row_group_size=ROW_GROUP_ROWS)

    def __exit__(self, *exc: object) -> None:
        try:
            for f in self._pending:
                f.result()
        finally:
            if self._parquet is not None:
                self._parquet.close()
            if self._jsonl is not None:
                self._jsonl.flush()
                os.fsync(self._jsonl.fileno())
                self._jsonl.close()


def row_hash_bytes(table: pa.Table) -> bytes:
    """The ``_cgit_row`` values of a table, concatenated (what the manifest digests)."""
    arr = table.column(ROW_HASH_COLUMN).combine_chunks()
    if len(arr) == 0:
        return b""
    data: bytes = arr.buffers()[1][arr.offset * 16:(arr.offset + len(arr)) * 16].to_pybytes()
    return data


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def manifest_bytes(result: Materialized, data: MixData) -> bytes:
    """The manifest: deterministic JSON (sorted keys), so it is identical across runs too."""
    import json

    doc = {
        "kind": "cgit-mix", "format": MANIFEST_FORMAT, "mix": result.mix, "file_format": result.file_format,
        "samples": result.samples, "shard_rows": data.stored.mix.shard_rows,
        "columns": [{"name": f.name, "type": str(f.type)} for f in data.schema],
        "rows_digest": result.rows_digest,
        "rows_digest_rule": "sha256 of the 16-byte _cgit_row values of all samples, in order",
        "shards": [{"file": s.file, "first": s.first, "rows": s.rows, "sha256": s.sha256, "rows_digest": s.rows_digest} for s in result.shards],
    }
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode()
