"""checkout / switch / restore: make the work tree and index match a tree.

Only paths whose content differs are rewritten. Tables are streamed batch by batch into temp
files beside their targets, one file at a time, so a checkout of a huge table stays in bounded
memory. Nothing is renamed into place until every file is written (``store/filebatch.py``): a
checkout that fails part-way (a corrupt chunk, a full disk, Ctrl-C) leaves the work tree, the
index and HEAD as they were. Nothing is touched before every safety check passes.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq

from corpusgit.errors import CorpusGitError, DirtyWorkTree, RevisionNotFound, UnsafePath
from corpusgit.ignore import IgnoreRules
from corpusgit.index import Index, IndexEntry
from corpusgit.lock import LockFile
from corpusgit.objects import TABLE, Tree, TreeEntry, check_tree_path, read_commit_tree
from corpusgit.progress import NULL_PROGRESS, Progress
from corpusgit.refs import HEADS
from corpusgit.revparse import resolve_commit
from corpusgit.store.filebatch import FileBatch, clean_interrupted
from corpusgit.table.chunkio import ZSTD_LEVEL
from corpusgit.table.model import TableObject
from corpusgit.table.reader import read_table
from corpusgit.worktree import prune_empty_dirs

if TYPE_CHECKING:
    from corpusgit.repo import Repo

# Names the directories a running checkout writes temp files in, so the next one can remove
# what a killed one left (see FileBatch); it exists only while a checkout runs.
JOURNAL = "CHECKOUT_JOURNAL"
UNCHANGED = "the work tree, index and HEAD were left as they were"

# Moves HEAD once the new files are in place; returns what undoes the move.
HeadMove = Callable[[], Callable[[], None]]


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
    written, removed = switch_tree(repo, read_commit_tree(repo.store, oid), force, progress, lambda: _move_head(repo, branch, oid, rev))
    return CheckoutResult(oid, branch, written, removed)


def _move_head(repo: Repo, branch: str | None, oid: str, rev: str) -> Callable[[], None]:
    old_target, old_commit = repo.refs.head_target(), repo.refs.head_commit()
    if branch:
        repo.refs.set_head_symbolic(HEADS + branch)
    else:
        repo.refs.set_head_detached(oid, f"checkout: moving to {rev}")

    def undo() -> None:
        message = f"checkout: moving back, the checkout of {rev} failed"
        if old_target is not None:
            repo.refs.set_head_symbolic(old_target, message)
        elif old_commit is not None:
            repo.refs.set_head_detached(old_commit, message)

    return undo


def advance_head(repo: Repo, new: str, old: str | None, message: str) -> HeadMove:
    """A ``move_head`` for ``switch_tree`` that moves the current branch (or detached HEAD)
    from ``old`` to ``new`` with compare-and-swap, and back if the switch fails after it."""

    def move() -> Callable[[], None]:
        repo.refs.update_head(new, old, message)

        def undo() -> None:
            if old is not None:
                repo.refs.update_head(old, new, f"{message}: moving back, the switch failed")

        return undo

    return move


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


def switch_tree(repo: Repo, target: Tree, force: bool, progress: Progress, move_head: HeadMove | None = None) -> tuple[int, int]:
    """Make the work tree and index match ``target``, all or nothing.

    ``move_head`` runs once every new file is in place, before the index is written; if any
    step fails (a damaged object, a full disk, a held lock, Ctrl-C), the work tree, the index
    and HEAD are left as they were and the error says so.
    """
    with repo.locked_index() as (index, lock):
        to_write, to_remove = _plan(repo, index, target, force)
        _check_no_directory_in_the_way(repo, to_write)
        new_index = Index({})
        try:
            with FileBatch(repo.root, repo.cgit / JOURNAL, [repo.root / p for p in to_write + to_remove]) as batch:
                with progress.task("checking out", len(to_write) or None) as task:
                    for path in to_write:
                        new_index.entries[path] = _stage(repo, batch, path, target.entries[path])
                        task.advance()
                for path in to_remove:
                    batch.remove(repo.root / path)
                for path, entry in target.entries.items():
                    old = index.entries.get(path)
                    if path not in new_index.entries and old is not None and old.id == entry.id:
                        new_index.entries[path] = old
                batch.publish(lambda: _move_head_and_save(repo, lock, new_index, move_head))
        except CorpusGitError as exc:
            _say_unchanged(exc)
            raise
    for path in to_remove:
        prune_empty_dirs(repo.root, path)
    return len(to_write), len(to_remove)


def _move_head_and_save(repo: Repo, lock: LockFile, index: Index, move_head: HeadMove | None) -> None:
    undo = move_head() if move_head is not None else None
    try:
        repo.save_index(lock, index)
    except BaseException:
        if undo is not None:
            undo()
        raise


def _say_unchanged(exc: CorpusGitError) -> None:
    """The error's hint also says that nothing changed, so users know not to clean up."""
    if exc.hint is None:
        exc.hint = UNCHANGED
    elif "nothing was changed" not in exc.hint and UNCHANGED not in exc.hint:
        exc.hint = f"{exc.hint}; {UNCHANGED}"


def clean_interrupted_checkout(repo: Repo) -> int:
    """Remove the temp files a killed checkout left in the work tree (call under the index
    lock). Returns how many were removed."""
    return clean_interrupted(repo.root, repo.cgit / JOURNAL)


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


def _check_no_directory_in_the_way(repo: Repo, paths: list[str]) -> None:
    for path in paths:
        full = repo.root / path
        if full.is_dir() and not full.is_symlink():
            raise DirtyWorkTree(f"{path}: a directory is in the way", hint="move it aside, then check out again")


def _stage(repo: Repo, batch: FileBatch, path: str, entry: TreeEntry) -> IndexEntry:
    """Write ``path``'s new content to its temp file; returns its index entry (the stat of the
    temp file is the stat of the file once renamed)."""
    full = repo.root / path
    if entry.kind == TABLE:
        table = TableObject.from_json(repo.store.get_meta(entry.id, path))
        st = batch.write(full, lambda tmp: _write_table(repo, table, tmp, path), entry.mode)
        return IndexEntry(entry.kind, entry.id, entry.mode, rows=table.num_rows).with_stat(st)
    st = batch.write(full, lambda tmp: _write_blob(repo, entry.id, tmp, path), entry.mode)
    return IndexEntry(entry.kind, entry.id, entry.mode).with_stat(st)


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
    """Put exactly these paths (None deletes) into the work tree and index; nothing else moves.
    All or nothing, like ``switch_tree``."""
    for path in changes:
        check_tree_path(path)
        _check_inside(repo.root, path)
    with repo.locked_index() as (index, lock):
        _check_no_directory_in_the_way(repo, [p for p, e in changes.items() if e is not None])
        try:
            with FileBatch(repo.root, repo.cgit / JOURNAL, [repo.root / p for p in changes]) as batch:
                for path, entry in sorted(changes.items()):
                    if entry is None:
                        index.entries.pop(path, None)
                        batch.remove(repo.root / path)
                    else:
                        index.entries[path] = _stage(repo, batch, path, entry)
                batch.publish(lambda: repo.save_index(lock, index))
        except CorpusGitError as exc:
            _say_unchanged(exc)
            raise
    for path, entry in changes.items():
        if entry is None:
            prune_empty_dirs(repo.root, path)


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
