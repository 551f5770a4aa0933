"""The versions every tool in bench/run.py commits: a real-text corpus and seven edits.

Why: tools are compared on the work users do to a corpus, and every tool must see exactly the
same bytes. So each version is written once, as a directory of Parquet shards (what a
pipeline step leaves behind), and each edit also records what it did in the terms a table
format's own operations take (rows appended, ids deleted, a column by id, rows updated), so
Delta Lake's and Lance's best cases run their native operations instead of an overwrite.

The edits reuse bench/edits.py; append and redact differ from it on purpose:
- append writes *new* shard files (a crawl refresh), the cheap case for file-level tools,
  rather than growing every existing shard;
- redact replaces the first sentence of 2% of rows with a marker, as a PII scrub would.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import xxhash
from edits import (
    FILTER_SHARE,
    MB,
    RESHARD_FILES,
    SAMPLE_TEXT_BYTES,
    SHARDS,
    add_float_column,
    filter_rows,
    hash_unit,
    modify_text,
    reshard,
    shard_paths,
    text_bytes_for,
    write_shard,
)

from corpusgit import demo

APPEND_SHARE = 0.10  # of v0's text bytes
APPEND_FILES = 2  # ~10% of 16 shards' worth of rows, as new files
REDACT_SHARE = 0.02
REDACT_SALT = "redact"  # hash_unit salt, so the redacted rows can be found again
REDACTED = "[REDACTED]"
SHUFFLE_SEED = 7
RESHARDED = 5  # index of the re-sharded version in SuiteBuilder.build's order
SHUFFLED = 6  # ... and of the shuffled one
# A tiny corpus sizes itself from a small sample; the default 16 MB sample would cost more
# than the corpus.
SMALL_CORPUS_MB = 10
SMALL_SAMPLE_BYTES = 2 * MB

ChangeKind = Literal["create", "append", "delete", "add_column", "update", "reorder", "revert"]


@dataclass(frozen=True, slots=True)
class Change:
    """What an edit did, as the operations of a table format would express it.

    Attributes:
        kind: the operation; "reorder" (re-shard, shuffle) changes no row of an unordered table.
        payload: Parquet files the operation takes: the appended shards; one file of deleted
            `id`s; one file of (`id`, new column); one file of the updated rows, all columns.
        revert_to: for "revert", the version index whose content comes back.
    """

    kind: ChangeKind
    payload: tuple[Path, ...] = ()
    revert_to: int | None = None


@dataclass(frozen=True, slots=True)
class Version:
    """One committed state: its Parquet shards and the change from the previous version.

    Attributes:
        files: shard name -> xxh3-128 of its bytes, so a work tree can be brought to this
            version by copying only the files that differ.
    """

    index: int
    name: str
    data: Path
    change: Change
    files: dict[str, str]


def file_manifest(data: Path) -> dict[str, str]:
    """Shard name -> xxh3-128 hex of the file's bytes."""
    return {p.name: xxhash.xxh3_128_hexdigest(p.read_bytes()) for p in shard_paths(data)}


def redact_first_sentence(text: str) -> str:
    """Replace the first sentence with a marker: the edit a PII scrub makes to a document."""
    end = text.find(". ")
    end = end + 1 if 0 < end < 300 else min(len(text), 120)
    return REDACTED + text[end:]


def shuffle_rows(data: Path, seed: int) -> None:
    """Permute all rows across all shards, keeping the file names and row counts.

    The whole dataset is held in memory once (about its Arrow size), the price of a true
    global shuffle; the benchmark sizes stay well inside RAM.
    """
    paths = shard_paths(data)
    counts = [pq.ParquetFile(p).metadata.num_rows for p in paths]
    table = pa.concat_tables([pq.read_table(p) for p in paths])
    order = np.random.default_rng(seed).permutation(table.num_rows)
    table = table.take(pa.array(order))
    start = 0
    for path, count in zip(paths, counts):
        write_shard(path, table.slice(start, count))
        start += count


def read_column_table(data: Path, columns: list[str]) -> pa.Table:
    """The given columns of every shard, in dataset order."""
    return pa.concat_tables([pq.read_table(p, columns=columns) for p in shard_paths(data)])


def write_payload(path: Path, table: pa.Table) -> tuple[Path, ...]:
    """Persist an operation's input next to its version; returns it as a payload tuple."""
    pq.write_table(table, path, compression="zstd")
    return (path,)


class SuiteBuilder:
    """Writes v0, then each edit's version as a copy of the previous one with the edit applied."""

    def __init__(self, root: Path, scratch: Path) -> None:
        self.root = root
        self.scratch = scratch
        self.versions: list[Version] = []

    def _next(self, name: str, edit: Callable[[Path, Path], Change]) -> None:
        """Copy the previous version's shards, apply `edit(data, version_dir)`, record it."""
        index = len(self.versions)
        folder = self.root / f"v{index}"
        shutil.copytree(self.versions[-1].data, folder / "data")
        change = edit(folder / "data", folder)
        self.versions.append(Version(index, name, folder / "data", change,
                                     file_manifest(folder / "data")))

    def build(self, target_mb: float) -> list[Version]:
        """All eight versions; v0 is about target_mb MB of Parquet in SHARDS shards."""
        sample = SMALL_SAMPLE_BYTES if target_mb < SMALL_CORPUS_MB else SAMPLE_TEXT_BYTES
        text_bytes = text_bytes_for(int(target_mb * MB), self.scratch, sample)
        v0 = self.root / "v0" / "data"
        demo.write_corpus(v0, text_bytes, shards=SHARDS, seed=0)
        self.versions = [Version(0, "v0", v0, Change("create", tuple(shard_paths(v0))),
                                 file_manifest(v0))]
        self._next(f"append {APPEND_SHARE:.0%} (new shards)",
                   lambda data, _: self._append(data, int(text_bytes * APPEND_SHARE)))
        self._next(f"filter {FILTER_SHARE:.0%} (scattered)", self._filter)
        self._next("add a float column", self._add_column)
        self._next(f"redact {REDACT_SHARE:.0%} of rows (scattered)", self._redact)
        self._next(f"re-shard {SHARDS + APPEND_FILES} -> {RESHARD_FILES} files",
                   lambda data, _: self._reshard(data))
        self._next("shuffle rows", lambda data, _: self._shuffle(data))
        self._next("revert to v0", self._revert)
        return self.versions

    def _append(self, data: Path, text_bytes: int) -> Change:
        staging = self.scratch / "append"
        fresh = demo.write_corpus(staging, text_bytes, shards=APPEND_FILES, seed=1)
        added = []
        for index, path in enumerate(fresh):
            added.append(data / f"append-{index:05d}.parquet")
            shutil.move(path, added[-1])
        staging.rmdir()
        return Change("append", tuple(added))

    def _filter(self, data: Path, folder: Path) -> Change:
        before = read_column_table(data, ["id"])["id"]
        filter_rows(data, FILTER_SHARE)
        dropped = before.filter(pa.array(hash_unit(before, "filter") < FILTER_SHARE))
        return Change("delete", write_payload(folder / "deleted-ids.parquet",
                                              pa.table({"id": dropped})))

    def _add_column(self, data: Path, folder: Path) -> Change:
        add_float_column(data, self.scratch)
        column = read_column_table(data, ["id", "quality"])
        return Change("add_column", write_payload(folder / "column.parquet", column))

    def _redact(self, data: Path, folder: Path) -> Change:
        modify_text(data, REDACT_SHARE, rewrite=redact_first_sentence, salt=REDACT_SALT)
        rows = pa.concat_tables([pq.read_table(p) for p in shard_paths(data)])
        updated = rows.filter(pa.array(hash_unit(rows["id"], REDACT_SALT) < REDACT_SHARE))
        return Change("update", write_payload(folder / "updated-rows.parquet", updated))

    def _reshard(self, data: Path) -> Change:
        reshard(data, RESHARD_FILES, self.scratch)
        return Change("reorder")

    def _shuffle(self, data: Path) -> Change:
        shuffle_rows(data, SHUFFLE_SEED)
        return Change("reorder")

    def _revert(self, data: Path, _: Path) -> Change:
        shutil.rmtree(data)
        shutil.copytree(self.versions[0].data, data)
        return Change("revert", revert_to=0)


def build_versions(root: Path, scratch: Path, target_mb: float) -> list[Version]:
    """Write every version under root (v0/data, v1/data, ...); see SuiteBuilder."""
    return SuiteBuilder(root, scratch).build(target_mb)
