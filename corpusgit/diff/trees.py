"""File-level diff of two sides (a revision, the index, or the work tree), dispatching tables to
the row-level engine and text blobs to a unified diff."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from corpusgit.diff.datasets import DatasetDiff, TablePair, diff_datasets
from corpusgit.diff.tables import TableDiff, diff_tables
from corpusgit.errors import BadInput
from corpusgit.objects import BLOB, TABLE, read_commit, read_tree
from corpusgit.progress import NULL_PROGRESS, Progress
from corpusgit.revparse import resolve_commit
from corpusgit.store.canonical import ObjectId

if TYPE_CHECKING:
    from corpusgit.repo import Repo

Side = dict[str, tuple[str, ObjectId]]  # path -> (kind, id)
TEXT_DIFF_LIMIT = 1 << 20  # larger blobs are reported as changed, not printed line by line


@dataclass
class BlobDiff:
    path: str
    status: str
    old_id: str | None
    new_id: str | None
    text: str | None  # unified diff, or None for binary/large content
    kind: str = BLOB

    def summary(self) -> dict[str, object]:
        return {"path": self.path, "kind": self.kind, "status": self.status, "old_id": self.old_id, "new_id": self.new_id, "binary": self.text is None}


@dataclass
class KindChange:
    """A path that switched between table and blob."""

    path: str
    old_kind: str
    new_kind: str
    kind: str = "kind-change"
    status: str = "modified"

    def summary(self) -> dict[str, object]:
        return {"path": self.path, "kind": self.kind, "status": self.status, "old_kind": self.old_kind, "new_kind": self.new_kind}


FileDiff = TableDiff | DatasetDiff | BlobDiff | KindChange


def revision_side(repo: Repo, rev: str) -> Side:
    oid = resolve_commit(repo, rev)
    tree = read_tree(repo.store, read_commit(repo.store, oid).tree, needed_by=f"commit {oid[:12]}")
    return {p: (e.kind, e.id) for p, e in tree.entries.items()}


def index_side(repo: Repo) -> Side:
    return {p: (e.kind, e.id) for p, e in repo.read_index().entries.items()}


@contextmanager
def worktree_side(repo: Repo, progress: Progress = NULL_PROGRESS) -> Iterator[Side]:
    """Tracked files as they are on disk; see ``add.stage_snapshot``."""
    from corpusgit.add import stage_snapshot

    with stage_snapshot(repo, progress) as side:
        yield side


def diff_sides(
    repo: Repo, old: Side, new: Side, paths: list[str] | None = None, progress: Progress = NULL_PROGRESS, by_path: bool = False
) -> list[FileDiff]:
    """Every differing path, sorted; tables get row-level diffs.

    Changed tables of one dataset (a directory, one schema) are compared as one pool, so rows
    that moved between them are counted as moved (see ``datasets``). ``paths`` restricts what is
    compared, pooling included; ``by_path`` compares every table only with its own old version.
    """
    wanted = [_norm(repo, p) for p in paths] if paths else None
    selected = [p for p in set(old) | set(new) if _selected(p, wanted)]
    candidates = sorted(p for p in selected if old.get(p) != new.get(p))
    out: list[FileDiff] = []
    tables: list[TablePair] = []
    with progress.task("diffing", len(candidates) or None) as task:
        for path in candidates:
            a, b = old.get(path), new.get(path)
            kinds = {x[0] for x in (a, b) if x}
            if len(kinds) == 2:
                out.append(KindChange(path, a[0], b[0]))  # type: ignore[index]
            elif kinds == {TABLE}:
                if not by_path:
                    tables.append((path, a[1] if a else None, b[1] if b else None))
                    continue
                out.append(diff_tables(repo.store, path, a[1] if a else None, b[1] if b else None))
            else:
                out.append(_blob_diff(repo, path, a[1] if a else None, b[1] if b else None))
            task.advance()
        if tables:
            unchanged = [(p, old[p][1]) for p in selected if old.get(p) == new.get(p) and old[p][0] == TABLE]
            out.extend(diff_datasets(repo.store, tables, unchanged, task))
    return sorted(out, key=lambda d: d.path)


def _norm(repo: Repo, path: str) -> str:
    return repo.relpath(path)


def _selected(path: str, wanted: list[str] | None) -> bool:
    return wanted is None or any(not w or path == w or path.startswith(w + "/") for w in wanted)


def _blob_diff(repo: Repo, path: str, old_id: str | None, new_id: str | None) -> BlobDiff:
    status = "added" if old_id is None else "deleted" if new_id is None else "modified"
    old_text = _text(repo, old_id, path)
    new_text = _text(repo, new_id, path)
    if (old_id and old_text is None) or (new_id and new_text is None):
        return BlobDiff(path, status, old_id, new_id, None)
    lines = difflib.unified_diff(
        (old_text or "").splitlines(keepends=True),
        (new_text or "").splitlines(keepends=True),
        fromfile=f"a/{path}" if old_id else "/dev/null",
        tofile=f"b/{path}" if new_id else "/dev/null",
    )
    return BlobDiff(path, status, old_id, new_id, "".join(lines))


def _text(repo: Repo, oid: str | None, path: str) -> str | None:
    if oid is None:
        return ""
    if repo.store.raw_size(oid) > TEXT_DIFF_LIMIT:
        return None
    data = b"".join(repo.store.iter_blob(oid, path))
    if b"\x00" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def resolve_sides(repo: Repo, revs: list[str], staged: bool) -> tuple[str, str]:
    """Names of the two sides for ``cgit diff`` argument forms, validated."""
    if staged and len(revs) > 1:
        raise BadInput("--staged takes at most one revision", hint="cgit diff --staged [REV]")
    if len(revs) > 2:
        raise BadInput("too many revisions", hint="cgit diff [A [B]] [-- PATHS]")
    if staged:
        return (revs[0] if revs else "HEAD"), ":index"
    if len(revs) == 2:
        return revs[0], revs[1]
    if len(revs) == 1:
        return revs[0], ":worktree"
    return ":index", ":worktree"
