"""``cgit mix verify``: is this directory exactly that mix?

The manifest is not trusted: every shard is compared with the samples re-derived from the
repository. Parquet shards are compared row by row (``_cgit_row``, ``_source``, and a hash of
the data columns that treats every NaN as equal), so a different pyarrow version that writes other
bytes still verifies; JSON Lines shards are re-rendered and compared byte for byte. File hashes in
the manifest are checked too, so a manifest edited after the fact is caught.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from corpusgit.errors import BadInput
from corpusgit.mix.access import SOURCE_COLUMN, MixData
from corpusgit.mix.jsonl import render_jsonl
from corpusgit.mix.materialize import MANIFEST, ROW_GROUP_ROWS, file_sha256, iter_ranges, row_hash_bytes, shard_name, shard_ranges
from corpusgit.mix.storage import load_mix
from corpusgit.progress import NULL_PROGRESS, Progress
from corpusgit.table.hashing import binary_to_lanes, row_lanes
from corpusgit.table.schema import ROW_HASH_COLUMN

if TYPE_CHECKING:
    from corpusgit.repo import Repo


@dataclass
class VerifyReport:
    mix: str
    directory: str
    shards_checked: int = 0
    samples_checked: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def verify(repo: Repo, mix: str, directory: Path, progress: Progress = NULL_PROGRESS) -> VerifyReport:
    """Check every shard of ``directory`` against the mix; problems are collected, not raised."""
    stored = load_mix(repo, mix)
    report = VerifyReport(stored.id, str(directory))
    manifest = _read_manifest(directory)
    if manifest.get("mix") != stored.id:
        report.problems.append(f"manifest names mix {str(manifest.get('mix'))[:12]}, not {stored.id[:12]}")
        return report
    file_format = str(manifest.get("file_format"))
    listed = {str(s.get("file")): s for s in manifest.get("shards", []) if isinstance(s, dict)}
    ranges = shard_ranges(stored.samples, stored.mix.shard_rows)
    expected = [shard_name(i, file_format) for i in range(len(ranges))]
    present = {p.name for p in directory.iterdir() if p.name != MANIFEST}
    report.problems += [f"{name}: missing" for name in expected if name not in present]
    report.problems += [f"{name}: not part of the mix" for name in sorted(present - set(expected))]
    report.problems += [f"{name}: not listed in the manifest" for name in expected if name in present and name not in listed]
    data = MixData(repo, stored)
    digest = _Digest()
    with progress.task(f"verifying {stored.id[:12]}", stored.samples) as task:
        for name, (first, stop) in zip(expected, ranges):
            if name not in present:
                for table in iter_ranges(data, first, stop):
                    digest.update(table)
                continue
            path = directory / name
            sha = file_sha256(path)
            if name in listed and listed[name].get("sha256") != sha:
                report.problems.append(f"{name}: file hash differs from the manifest")
            checker = _check_jsonl if file_format == "jsonl" else _check_parquet
            problem = checker(path, data, first, stop, digest, task)
            if problem:
                report.problems.append(f"{name}: {problem}")
            report.shards_checked += 1
            report.samples_checked += stop - first
    if manifest.get("rows_digest") != digest.hexdigest():
        report.problems.append("manifest rows_digest differs from the mix's ordered _cgit_row digest")
    return report


class _Digest:
    def __init__(self) -> None:
        import hashlib

        self._h = hashlib.sha256()

    def update(self, table: pa.Table) -> None:
        self._h.update(row_hash_bytes(table))

    def hexdigest(self) -> str:
        return self._h.hexdigest()


def _read_manifest(directory: Path) -> dict[str, Any]:
    path = directory / MANIFEST
    if not directory.is_dir():
        raise BadInput(f"{directory} is not a directory", hint="pass the directory 'cgit mix materialize -o' wrote")
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BadInput(f"{directory} has no {MANIFEST}", hint="it was not written by 'cgit mix materialize', or the run did not finish") from None
    except (ValueError, UnicodeDecodeError):
        raise BadInput(f"{path} is not valid JSON", hint="the manifest was damaged; materialize the mix again") from None
    if not isinstance(doc, dict):
        raise BadInput(f"{path} is not a mix manifest", hint="materialize the mix again")
    return doc


def _check_jsonl(path: Path, data: MixData, first: int, stop: int, digest: _Digest, task: Any) -> str | None:
    got = path.read_bytes()
    pos = 0
    for table in iter_ranges(data, first, stop):
        digest.update(table)
        want = render_jsonl(table)
        if got[pos:pos + len(want)] != want:
            return f"differs from the mix within samples {first + _lines(got[:pos])}-{first + _lines(got[:pos]) + table.num_rows - 1}"
        pos += len(want)
        task.advance(table.num_rows)
    return None if pos == len(got) else "has extra content after the mix's samples"


def _lines(text: bytes) -> int:
    return text.count(b"\n")


def _check_parquet(path: Path, data: MixData, first: int, stop: int, digest: _Digest, task: Any) -> str | None:
    try:
        pf = pq.ParquetFile(path)
        if pf.metadata.num_rows != stop - first:
            return f"has {pf.metadata.num_rows:,} rows, the mix has {stop - first:,} here"
        if pf.schema_arrow.names != data.schema.names:
            return f"has columns {pf.schema_arrow.names}, the mix has {data.schema.names}"
        rows = _Rows(pf.iter_batches(batch_size=ROW_GROUP_ROWS))
        at = first
        for want in iter_ranges(data, first, stop):
            digest.update(want)
            bad = _first_mismatch(rows.take(want.num_rows).cast(data.schema), want, data)
            if bad is not None:
                return f"sample {at + bad} differs from the mix"
            at += want.num_rows
            task.advance(want.num_rows)
    except (pa.ArrowException, OSError) as exc:
        return f"unreadable Parquet ({str(exc).splitlines()[0]})"
    return None


class _Rows:
    """Cuts a batch stream into tables of requested sizes, whatever the file's row groups."""

    def __init__(self, batches: Iterator[pa.RecordBatch]) -> None:
        self._batches = batches
        self._carry: list[pa.RecordBatch] = []
        self._have = 0

    def take(self, n: int) -> pa.Table:
        while self._have < n:
            batch = next(self._batches)
            self._carry.append(batch)
            self._have += batch.num_rows
        table = pa.Table.from_batches(self._carry)
        rest = table.slice(n)
        self._carry, self._have = rest.to_batches(), rest.num_rows
        return table.slice(0, n)


def _first_mismatch(got: pa.Table, want: pa.Table, data: MixData) -> int | None:
    """Index of the first differing row, comparing ids, sources and a NaN-safe content hash."""
    g_id, w_id = binary_to_lanes(got.column(ROW_HASH_COLUMN)), binary_to_lanes(want.column(ROW_HASH_COLUMN))
    same = (g_id[0] == w_id[0]) & (g_id[1] == w_id[1])
    same &= np.asarray(pc.equal(got.column(SOURCE_COLUMN), want.column(SOURCE_COLUMN)).to_numpy(zero_copy_only=False), dtype=bool)
    g_hi, g_lo = row_lanes(got, data.columns)
    w_hi, w_lo = row_lanes(want, data.columns)
    same &= (g_hi == w_hi) & (g_lo == w_lo)
    bad = np.flatnonzero(~same)
    return int(bad[0]) if len(bad) else None
