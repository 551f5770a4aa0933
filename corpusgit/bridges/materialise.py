"""Writing the files under a path at a revision as plain files: what exports hand to other tools.

Tables are streamed batch by batch into Parquet (bounded memory) and blobs block by block; each
file is written to a temp name and renamed, so a failed export never leaves half a file.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

from corpusgit.errors import RevisionNotFound
from corpusgit.objects import TABLE, TreeEntry, check_tree_path, read_commit, read_tree
from corpusgit.revparse import resolve_commit
from corpusgit.store.atomic import write_via
from corpusgit.store.canonical import ObjectId
from corpusgit.table.model import TableObject
from corpusgit.table.reader import read_table

if TYPE_CHECKING:
    from corpusgit.repo import Repo

ZSTD_LEVEL = 3  # exported files are read by other tools many times: worth a better ratio


@dataclass(frozen=True, slots=True)
class Selection:
    """The files of one revision under one path, keyed by their path relative to it."""

    commit: ObjectId
    path: str
    entries: dict[str, TreeEntry]

    def table_ids(self) -> dict[str, str]:
        return {self.full_path(rel): e.id for rel, e in sorted(self.entries.items()) if e.kind == TABLE}

    def full_path(self, rel: str) -> str:
        return f"{self.path}/{rel}" if rel and self.path else rel or self.path


def select(repo: Repo, rev: str, path: str) -> Selection:
    """``path`` names one file or a directory (``''`` or ``.`` = everything)."""
    oid = resolve_commit(repo, rev)
    tree = read_tree(repo.store, read_commit(repo.store, oid).tree, needed_by=f"commit {oid[:12]}")
    path = path.strip("/") if path not in ("", ".") else ""
    if path in tree.entries:
        return Selection(oid, path, {"": tree.entries[path]})
    prefix = f"{path}/" if path else ""
    entries = {p[len(prefix):]: e for p, e in tree.entries.items() if p.startswith(prefix)}
    if not entries:
        raise RevisionNotFound(f"nothing at '{path}' in '{rev}'", hint=f"'cgit show {rev}' lists its files")
    return Selection(oid, path, entries)


def write_files(repo: Repo, selection: Selection, dest: Path) -> Iterator[Path]:
    """Write every selected file under ``dest`` (``dest`` itself for a single file); yields them."""
    for rel, entry in sorted(selection.entries.items()):
        target = dest / check_tree_path(rel) if rel else dest
        needed_by = selection.full_path(rel)
        if entry.kind == TABLE:
            table = TableObject.from_json(repo.store.get_meta(entry.id, needed_by))
            write_via(target, lambda tmp: _write_table(repo, table, tmp, needed_by))
        else:
            write_via(target, lambda tmp: _write_blob(repo, entry.id, tmp, needed_by))
        yield target


def _write_table(repo: Repo, table: TableObject, tmp: Path, needed_by: str) -> None:
    reader = read_table(repo.store, table, needed_by=needed_by)
    with pq.ParquetWriter(tmp, reader.schema, compression="zstd", compression_level=ZSTD_LEVEL) as writer:
        for batch in reader:
            writer.write_batch(batch)


def _write_blob(repo: Repo, oid: str, tmp: Path, needed_by: str) -> None:
    with open(tmp, "wb") as handle:
        for block in repo.store.iter_blob(oid, needed_by):
            handle.write(block)
