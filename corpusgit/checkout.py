"""checkout / switch / restore: make the work tree and index match a tree.

Only paths whose content differs are rewritten; each file is written to a temp file, fsynced
and renamed, and tables are streamed batch by batch, so a checkout of a huge table stays in
bounded memory. Nothing is touched before every safety check passes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

from corpusgit.errors import DirtyWorkTree, RevisionNotFound, UnsafePath
from corpusgit.ignore import IgnoreRules
from corpusgit.index import Index, IndexEntry
from corpusgit.objects import TABLE, Tree, TreeEntry, check_tree_path, read_commit_tree
from corpusgit.progress import NULL_PROGRESS, Progress
from corpusgit.refs import HEADS
from corpusgit.revparse import resolve_commit
from corpusgit.store.atomic import write_via
from corpusgit.table.chunkio import ZSTD_LEVEL
from corpusgit.table.model import TableObject
from corpusgit.table.reader import read_table
from corpusgit.worktree import prune_empty_dirs

if TYPE_CHECKING:
    from corpusgit.repo import Repo



@dataclass(frozen=True, slots=True)
class CheckoutResult:
    commit: str
    branch: str | None
    written: int
    removed: int


def checkout(repo: Repo, rev: str, force: bool = False, progress: Progress = NULL_PROGRESS, detach: bool = False) -> CheckoutResult:
    """Switch to a branch (HEAD follows it) or detach at any other revision."""
    refuse_during_merge(repo)
    branch = rev if not detach and repo.refs.read(HEADS + rev) else None
    current = repo.refs.head_target()
    if rev in ("HEAD", "@") and current is not None and not detach:
        branch = current[len(HEADS):]
    oid = resolve_commit(repo, rev)
    result = switch_tree(repo, read_commit_tree(repo.store, oid), force, progress)
    if branch:
        repo.refs.set_head_symbolic(HEADS + branch)
    else:
        repo.refs.set_head_detached(oid, f"checkout: moving to {rev}")
    return CheckoutResult(oid, branch, result[0], result[1])


def create_branch_and_switch(repo: Repo, name: str, start: str = "HEAD") -> CheckoutResult:
    """``switch -c``: the work tree is kept when starting from HEAD, as in git."""
    from corpusgit.branches import create_branch

    create_branch(repo, name, start)
    return checkout(repo, name)


def refuse_during_merge(repo: Repo) -> None:
    """Moving HEAD mid-merge would orphan the merge state; finish or abort it first."""
    from corpusgit.merge.state import read_state

    state = read_state(repo.cgit)
    if state is not None:
        raise DirtyWorkTree(f"a {state.operation} is in progress", hint="finish it with 'cgit merge --continue' or undo it with 'cgit merge --abort'")


def switch_tree(repo: Repo, target: Tree, force: bool, progress: Progress) -> tuple[int, int]:
    with repo.locked_index() as (index, lock):
        to_write, to_remove = _plan(repo, index, target, force)
        with progress.task("checking out", len(to_write) or None) as task:
            _materialise_all(repo, [(path, target.entries[path]) for path in to_write], task.advance)
        for path in to_remove:
            (repo.root / path).unlink(missing_ok=True)
            prune_empty_dirs(repo.root, path)
        new_index = Index({})
        for path, entry in target.entries.items():
            old = index.entries.get(path)
            if path not in to_write and old is not None and old.id == entry.id:
                new_index.entries[path] = old
            else:
                rows = int(repo.store.get_meta(entry.id)["num_rows"]) if entry.kind == TABLE else -1
                new_index.entries[path] = IndexEntry(entry.kind, entry.id, entry.mode, rows=rows).with_stat((repo.root / path).stat())
        repo.save_index(lock, new_index)
    return len(to_write), len(to_remove)


def _plan(repo: Repo, index: Index, target: Tree, force: bool) -> tuple[list[str], list[str]]:
    """Paths to write and to delete; refuses to overwrite uncommitted or untracked work."""
    head = repo.refs.head_commit()
    head_entries = read_commit_tree(repo.store, head).entries if head else {}
    to_write, to_remove, dirty, untracked = [], [], [], []
    ignore = IgnoreRules.load(repo.root)
    for path, entry in sorted(target.entries.items()):
        check_tree_path(path)
        _check_inside(repo.root, path)
        current = index.entries.get(path)
        full = repo.root / path
        if current is not None and current.id == entry.id and full.exists() and current.matches(full.stat()):
            continue
        if current is None and full.exists() and not ignore.ignored(path, False):
            untracked.append(path)
        elif current is not None and _locally_changed(current, head_entries.get(path), full):
            dirty.append(path)
        to_write.append(path)
    for path, current in sorted(index.entries.items()):
        if path not in target.entries:
            if _locally_changed(current, head_entries.get(path), repo.root / path):
                dirty.append(path)
            to_remove.append(path)
    if not force and (dirty or untracked):
        names = (dirty or untracked)[:5]
        more = f" and {len(dirty) + len(untracked) - len(names)} more" if len(dirty) + len(untracked) > len(names) else ""
        what = "uncommitted changes in" if dirty else "untracked files"
        raise DirtyWorkTree(
            f"checkout would overwrite {what}: {', '.join(names)}{more}",
            hint="commit them, or rerun with --force to discard them",
        )
    return to_write, to_remove


def _locally_changed(current: IndexEntry, head: TreeEntry | None, full: Path) -> bool:
    if head is None or head.id != current.id:
        return True
    return full.exists() and not current.matches(full.stat()) or not full.exists()


def _check_inside(root: Path, path: str) -> None:
    """A symlinked directory inside the work tree must not redirect a write elsewhere."""
    parent = (root / path).parent
    existing = parent
    while not existing.exists():
        existing = existing.parent
    real = existing.resolve()
    if real != root and root not in real.parents:
        raise UnsafePath(f"{path}: its directory leads outside the work tree", hint="remove the symbolic link, then check out again")


def _materialise(repo: Repo, path: str, entry: TreeEntry) -> None:
    full = repo.root / path
    if full.is_dir() and not full.is_symlink():
        raise DirtyWorkTree(f"{path}: a directory is in the way", hint="move it aside, then check out again")
    needed_by = path
    if entry.kind == TABLE:
        table = TableObject.from_json(repo.store.get_meta(entry.id, needed_by))
        write_via(full, lambda tmp: _write_table(repo, table, tmp, needed_by))
    else:
        write_via(full, lambda tmp: _write_blob(repo, entry.id, tmp, needed_by))
    os.chmod(full, entry.mode)


def _materialise_all(repo: Repo, work: list[tuple[str, TreeEntry]], done: Callable[[], None]) -> None:
    """Write files one at a time. (Writing on several threads was tried: Arrow's own thread
    pools inside worker threads can hang on some glibc versions, and the gain was small.)"""
    for path, entry in work:
        _materialise(repo, path, entry)
        done()


def _write_table(repo: Repo, table: TableObject, tmp: Path, needed_by: str) -> None:
    reader = read_table(repo.store, table, needed_by=needed_by)
    with pq.ParquetWriter(tmp, reader.schema, compression="zstd", compression_level=ZSTD_LEVEL) as writer:
        for batch in reader:
            writer.write_batch(batch)


def _write_blob(repo: Repo, oid: str, tmp: Path, needed_by: str) -> None:
    with open(tmp, "wb") as handle:
        for block in repo.store.iter_blob(oid, needed_by):
            handle.write(block)


def write_entries(repo: Repo, changes: dict[str, TreeEntry | None]) -> None:
    """Put exactly these paths (None deletes) into the work tree and index; nothing else moves."""
    with repo.locked_index() as (index, lock):
        for path, entry in sorted(changes.items()):
            check_tree_path(path)
            _check_inside(repo.root, path)
            if entry is None:
                index.entries.pop(path, None)
                (repo.root / path).unlink(missing_ok=True)
                prune_empty_dirs(repo.root, path)
                continue
            _materialise(repo, path, entry)
            rows = int(repo.store.get_meta(entry.id)["num_rows"]) if entry.kind == TABLE else -1
            index.entries[path] = IndexEntry(entry.kind, entry.id, entry.mode, rows=rows).with_stat((repo.root / path).stat())
        repo.save_index(lock, index)


def restore(repo: Repo, rev: str, paths: list[str]) -> int:
    """``checkout REV -- PATHS``: bring files back from a revision into index and work tree."""
    tree = read_commit_tree(repo.store, resolve_commit(repo, rev))
    wanted: dict[str, TreeEntry | None] = {}
    for raw in paths:
        rel = repo.relpath(raw)
        hits = [p for p in tree.entries if p == rel or p.startswith(rel + "/") or not rel]
        if not hits:
            raise RevisionNotFound(f"path '{raw}' does not exist in '{rev}'", hint=f"'cgit show {rev}' lists its files")
        wanted.update((p, tree.entries[p]) for p in hits)
    write_entries(repo, wanted)
    return len(wanted)
