"""Where a run's output goes: one table for a table input, one directory for a dataset input,
and how it gets there without anything being visible until every shard is done.

A dataset run writes ``OUT/<name>`` for every input ``IN/<name>``, also when a shard's output
is empty (an empty shard with the output schema), so the output directory holds exactly one
shard per input shard. A directory that already holds other tables, or files with unstaged
changes, is refused rather than mixed into the new dataset.

Outputs are first written under ``.cgit/tmp``, then moved into the work tree and staged with
one ``add`` (so the dataset's one-schema rule applies to them together); if that ``add``
refuses, every file is put back as it was.
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from corpusgit.errors import BadInput, DirtyWorkTree
from corpusgit.index import IndexEntry
from corpusgit.lineage.record import TableRef
from corpusgit.lineage.tables import Inputs
from corpusgit.objects import MODE_FILE, TABLE
from corpusgit.store.atomic import write_via
from corpusgit.store.canonical import ObjectId
from corpusgit.table.reader import read_table
from corpusgit.worktree import is_table_path

if TYPE_CHECKING:
    from corpusgit.repo import Repo

LISTED = 3  # paths named in an error message before "and N more"


def plan_outputs(repo: Repo, inputs: Inputs, raw: str) -> tuple[str, ...]:
    """The output path of every input table, in input order; refuses outputs that would
    overwrite unstaged work or mix a new dataset with tables it did not write."""
    if inputs.dataset:
        return _dataset_outputs(repo, inputs, raw)
    return (_table_output(repo, inputs, raw),)


def _table_output(repo: Repo, inputs: Inputs, raw: str) -> str:
    path = raw.strip("/")
    name = posixpath.basename(inputs.path)
    if raw.endswith("/") or (path and (repo.root / path).is_dir()):
        raise BadInput(
            f"output {raw} is a directory, but the input {inputs.path} is one table",
            hint=f"name the output table (e.g. {posixpath.join(path, name)}), or give a directory as the input to run on a whole dataset",
        )
    if not is_table_path(path, repo.project().table_suffixes()):
        stem, ext = posixpath.splitext(path)
        example = f"{stem}.parquet" if ext else posixpath.join(path, name)
        raise BadInput(f"output {raw} is not a table path", hint=f"the input {inputs.path} is one table: name the output *.parquet, e.g. {example}")
    _check_clean(repo, [path])
    return path


def _dataset_outputs(repo: Repo, inputs: Inputs, raw: str) -> tuple[str, ...]:
    directory = raw.strip("/")
    described = f"the input {inputs.path}/ is a dataset of {len(inputs.refs)} table(s)"
    if is_table_path(directory, repo.project().table_suffixes()):
        stem = posixpath.splitext(directory)[0]
        raise BadInput(f"output {raw} is a table, but {described}", hint=f"name an output directory (e.g. {stem}); each shard keeps its name there")
    full = repo.root / directory
    if directory in repo.read_index().entries or (full.exists() and not full.is_dir()):
        raise BadInput(f"output {raw} is a file, but {described}", hint="name an output directory; each shard keeps its name there")
    outputs = tuple(posixpath.join(directory, posixpath.basename(ref.path)) for ref in inputs.refs)
    _check_directory(repo, directory, outputs)
    return outputs


def _check_directory(repo: Repo, directory: str, outputs: tuple[str, ...]) -> None:
    """The output directory becomes the run's dataset: nothing unstaged in it, no other tables."""
    from corpusgit.ignore import IgnoreRules

    entries = repo.read_index().entries
    full = repo.root / directory
    on_disk = []
    if full.is_dir():
        ignore = IgnoreRules.load(repo.root)
        for item in sorted(os.scandir(full), key=lambda e: e.name):
            rel = posixpath.join(directory, item.name)
            if item.is_file(follow_symlinks=False) and not ignore.ignored(rel, False):
                on_disk.append(rel)
    _check_clean(repo, on_disk, directory)
    wanted = set(outputs)
    suffixes = repo.project().table_suffixes()
    others = sorted(p for p, e in entries.items() if posixpath.dirname(p) == directory and p not in wanted and (e.kind == TABLE or is_table_path(p, suffixes)))
    if others:
        raise BadInput(
            f"output directory {directory}/ already holds {len(others)} table(s) this run does not write ({_listed(others)})",
            hint=f"a dataset run's output directory holds its shards only: remove them first (cgit rm {' '.join(others[:LISTED])}), or choose another --output",
        )


def _check_clean(repo: Repo, paths: Sequence[str], directory: str | None = None) -> None:
    """Refuse files with unstaged changes (untracked, or changed since ``add``)."""
    entries = repo.read_index().entries
    dirty = []
    for path in paths:
        full = repo.root / path
        if full.exists():
            entry = entries.get(path)
            if entry is None or not entry.matches(full.stat()):
                dirty.append(path)
    if not dirty:
        return
    if directory is None:
        raise DirtyWorkTree(f"output {dirty[0]} has changes that are not staged", hint=f"stage or remove it first (cgit add {dirty[0]}), or choose another --output")
    raise DirtyWorkTree(
        f"output directory {directory}/ has changes that are not staged ({_listed(dirty)})",
        hint=f"stage or remove them first (cgit add {directory}), or choose another --output",
    )


def _listed(paths: list[str]) -> str:
    more = f" and {len(paths) - LISTED} more" if len(paths) > LISTED else ""
    return ", ".join(paths[:LISTED]) + more


class LazyWriter:
    """A Parquet writer opened by the first batch, so its schema is the operator's output schema.

    A shard sink for the engine: ``close`` writes an empty file with the schema when no batch
    came; ``abort`` drops an unfinished file's handle after a failure.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: pq.ParquetWriter | None = None
        self._closed = False

    def write(self, batch: pa.RecordBatch) -> None:
        if self._writer is None:
            self._writer = open_writer(self.path, batch.schema)
        self._writer.write_batch(batch)

    def close(self, schema: pa.Schema) -> None:
        if self._closed:
            return
        if self._writer is None:
            self._writer = open_writer(self.path, schema)
        self._writer.close()
        self._closed = True

    def abort(self) -> None:
        if self._writer is not None and not self._closed:
            self._writer.close()
        self._closed = True


def open_writer(path: Path, schema: pa.Schema) -> pq.ParquetWriter:
    return pq.ParquetWriter(path, schema, compression="zstd", compression_level=3, version="2.6", write_statistics=True)


def stage_outputs(repo: Repo, written: Sequence[tuple[Path, str]]) -> dict[str, IndexEntry]:
    """Move finished outputs (temp file, output path) into the work tree and ``add`` them in
    one call; if anything fails, every output path and directory is put back as it was."""
    from corpusgit.add import add

    moved: list[tuple[Path, Path | None]] = []  # (work-tree file, backup of what was there)
    made: list[Path] = []  # directories this call created, outermost first
    try:
        for tmp, output in written:
            full = repo.root / output
            made.extend(_make_dirs(repo.root, full.parent))
            backup = tmp.with_name(tmp.name + ".previous") if full.exists() else None
            if backup is not None:
                os.replace(full, backup)
            moved.append((full, backup))
            os.replace(tmp, full)
        add(repo, [str(full) for full, _ in moved])
    except BaseException:
        for full, backup in reversed(moved):
            full.unlink(missing_ok=True)
            if backup is not None:
                os.replace(backup, full)
        for directory in reversed(made):
            if directory.is_dir() and not any(directory.iterdir()):
                directory.rmdir()
        raise
    for _, backup in moved:
        if backup is not None:
            backup.unlink(missing_ok=True)
    entries = repo.read_index().entries
    return {output: entries[output] for _, output in written}


def _make_dirs(root: Path, directory: Path) -> list[Path]:
    missing = []
    while directory != root and not directory.exists():
        missing.append(directory)
        directory = directory.parent
    for path in reversed(missing):
        path.mkdir()
    return list(reversed(missing))


def place_outputs(repo: Repo, outputs: Sequence[TableRef]) -> None:
    """Put stored table versions at their paths (work tree and index) without running anything
    (the run-cache); tables already in place, unchanged, are not rewritten."""
    from corpusgit.table.model import TableObject

    with repo.locked_index() as (index, lock):
        for ref in outputs:
            current = index.entries.get(ref.path)
            full = repo.root / ref.path
            if current is not None and current.id == ref.table and full.exists() and current.matches(full.stat()):
                continue
            table = TableObject.from_json(repo.store.get_meta(ref.table, needed_by=ref.path))

            def write(tmp: Path, table: TableObject = table, path: str = ref.path) -> None:
                reader = read_table(repo.store, table, needed_by=path)
                with open_writer(tmp, reader.schema) as writer:
                    for batch in reader:
                        writer.write_batch(batch)

            full.parent.mkdir(parents=True, exist_ok=True)
            write_via(full, write)
            index.entries[ref.path] = IndexEntry(TABLE, ObjectId(ref.table), MODE_FILE, rows=table.num_rows).with_stat(full.stat())
        repo.save_index(lock, index)
