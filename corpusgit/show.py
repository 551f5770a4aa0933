"""show: a commit with its changes, or one file at a revision (schema, rows, first rows)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa

from corpusgit.objects import TABLE, Commit, read_commit, read_commit_tree, read_tree
from corpusgit.revparse import resolve_commit, resolve_entry
from corpusgit.table.model import TableObject
from corpusgit.table.reader import read_table
from corpusgit.worktree import FileChange

if TYPE_CHECKING:
    from corpusgit.repo import Repo

TEXT_PREVIEW_BYTES = 64 * 1024  # blobs larger than this are summarised, not printed


@dataclass(frozen=True, slots=True)
class CommitView:
    id: str
    commit: Commit
    changes: list[FileChange]


@dataclass(frozen=True, slots=True)
class TableView:
    rev: str
    path: str
    id: str
    table: TableObject
    stored_bytes: int
    head: pa.Table


@dataclass(frozen=True, slots=True)
class BlobView:
    rev: str
    path: str
    id: str
    size: int
    text: str | None


def show_commit(repo: Repo, rev: str) -> CommitView:
    """Changes against the first parent, with row counts for tables."""
    oid = resolve_commit(repo, rev)
    commit = read_commit(repo.store, oid)
    new = read_tree(repo.store, commit.tree, needed_by=f"commit {oid[:12]}").entries
    old = read_commit_tree(repo.store, commit.parents[0]).entries if commit.parents else {}
    changes = []
    for path in sorted(set(old) | set(new)):
        a, b = old.get(path), new.get(path)
        if a is not None and b is not None and a.id == b.id:
            continue
        change = "added" if a is None else "deleted" if b is None else "modified"
        kind = (b or a).kind  # type: ignore[union-attr]
        changes.append(FileChange(path, change, kind, _rows(repo, a), _rows(repo, b)))
    return CommitView(oid, commit, changes)


def _rows(repo: Repo, entry: object) -> int | None:
    if entry is None or getattr(entry, "kind") != TABLE:
        return None
    return int(repo.store.get_meta(getattr(entry, "id"))["num_rows"])


def show_path(repo: Repo, rev: str, path: str, rows: int = 5) -> TableView | BlobView:
    oid, kind = resolve_entry(repo, rev, path)
    if kind == TABLE:
        table = TableObject.from_json(repo.store.get_meta(oid, f"{rev}:{path}"))
        head = _first_rows(repo, table, rows, f"{rev}:{path}")
        stored = sum(r.size for r in table.chunk_refs())
        return TableView(rev, path, oid, table, stored, head)
    # Streamed through its hash check even when only summarised: a size or preview taken from
    # a damaged object would be a silent use of it. Memory stays bounded by the preview.
    size = 0
    head = b""
    for block in repo.store.iter_blob(oid, f"{rev}:{path}"):
        size += len(block)
        if len(head) <= TEXT_PREVIEW_BYTES:
            head += block[: TEXT_PREVIEW_BYTES + 1 - len(head)]
    text = None
    if size <= TEXT_PREVIEW_BYTES:
        try:
            text = head.decode("utf-8")
        except UnicodeDecodeError:
            text = None
    return BlobView(rev, path, oid, size, text)


def _first_rows(repo: Repo, table: TableObject, n: int, needed_by: str) -> pa.Table:
    reader = read_table(repo.store, table, needed_by=needed_by)
    batches = []
    got = 0
    for batch in reader:
        if got >= n:
            break
        batches.append(batch.slice(0, n - got))
        got += min(batch.num_rows, n - got)
    return pa.Table.from_batches(batches, schema=reader.schema)
