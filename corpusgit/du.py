"""du: logical bytes versus bytes actually stored, per commit and per table.

"Stored" for a commit counts objects that first appear in it (oldest commit first), which is
exactly what that commit cost on disk.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from corpusgit.history import log
from corpusgit.objects import TABLE, read_commit, read_tree
from corpusgit.reach import TREE, walk
from corpusgit.revparse import resolve_commit
from corpusgit.table.model import TableObject

if TYPE_CHECKING:
    from corpusgit.repo import Repo


@dataclass(frozen=True, slots=True)
class CommitUsage:
    commit: str
    subject: str
    tables: int
    rows: int
    logical_bytes: int
    added_bytes: int


@dataclass(frozen=True, slots=True)
class TableUsage:
    path: str
    rows: int
    segments: int
    chunks: int
    logical_bytes: int
    stored_bytes: int
    new_bytes: int


def commit_usage(repo: Repo, rev: str = "HEAD", max_count: int | None = None) -> list[CommitUsage]:
    """Newest first; ``added_bytes`` is what each commit added to the object store."""
    entries = list(log(repo, rev))
    seen: set[str] = set()
    usage: list[CommitUsage] = []
    for entry in reversed(entries):
        reach = walk(repo, [(entry.commit.tree, TREE, f"commit {entry.id[:12]}")])
        reach_ids = set(reach.kinds) | {entry.id}
        new = reach_ids - seen
        seen |= reach_ids
        added = sum(repo.store.size(oid) for oid in new)
        tables, rows, logical = _tree_totals(repo, entry.commit.tree, f"commit {entry.id[:12]}")
        usage.append(CommitUsage(entry.id, entry.commit.subject, tables, rows, logical, added))
    usage.reverse()
    return usage[:max_count] if max_count else usage


def _tree_totals(repo: Repo, tree_id: str, needed_by: str) -> tuple[int, int, int]:
    tree = read_tree(repo.store, tree_id, needed_by)
    tables = rows = logical = 0
    for entry in tree.entries.values():
        if entry.kind == TABLE:
            doc = repo.store.get_meta(entry.id)
            tables += 1
            rows += int(doc["num_rows"])
            logical += int(doc["logical_bytes"])
        else:
            logical += repo.store.raw_size(entry.id)
    return tables, rows, logical


def table_usage(repo: Repo, rev: str = "HEAD") -> list[TableUsage]:
    """Per table of ``rev``: what it references and what is new relative to its first parent."""
    oid = resolve_commit(repo, rev)
    commit = read_commit(repo.store, oid)
    parent_chunks: set[str] = set()
    if commit.parents:
        parent_tree = read_commit(repo.store, commit.parents[0]).tree
        parent_chunks = set(walk(repo, [(parent_tree, TREE, "parent")]).chunks)
    out = []
    for path, entry in sorted(read_tree(repo.store, commit.tree, f"commit {oid[:12]}").entries.items()):
        if entry.kind != TABLE:
            continue
        table = TableObject.from_json(repo.store.get_meta(entry.id, path))
        refs = table.chunk_refs()
        out.append(
            TableUsage(
                path,
                table.num_rows,
                table.num_segments,
                len(refs),
                table.logical_bytes,
                sum(r.size for r in refs),
                sum(r.size for r in refs if r.id not in parent_chunks),
            )
        )
    return out
