"""Work-tree verbs: status, rm, mv, and the scan they share. The stat cache makes unchanged
files free."""

from __future__ import annotations

import os
import posixpath
import stat as statmod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from corpusgit.errors import BadInput
from corpusgit.ignore import IgnoreRules
from corpusgit.index import ROW_ID, entry_from_row, read_index_rows, row_matches
from corpusgit.objects import TABLE, read_commit_tree
from corpusgit.store.atomic import is_temp_name
from corpusgit.store.canonical import ObjectId

if TYPE_CHECKING:
    from corpusgit.repo import Repo


@dataclass(frozen=True, slots=True)
class FileChange:
    path: str
    change: str  # added | modified | deleted
    kind: str
    rows_before: int | None = None
    rows_after: int | None = None


@dataclass
class Status:
    branch: str | None
    head: str | None
    staged: list[FileChange]
    unstaged: list[FileChange]
    untracked: list[str]
    operation: str | None = None  # merge | revert | cherry-pick in progress
    conflicts: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not (self.staged or self.unstaged or self.untracked or self.conflicts)


def is_table_path(path: str, suffixes: tuple[str, ...]) -> bool:
    return path.lower().endswith(suffixes)


def scan(root: Path, base: str, ignore: IgnoreRules) -> Iterator[tuple[str, os.stat_result]]:
    """Files under ``base`` (repo-relative), skipping ignored ones; symlinks are not followed."""
    stack = [base]
    while stack:
        rel_dir = stack.pop()
        try:
            entries = list(os.scandir(root / rel_dir if rel_dir else root))
        except (NotADirectoryError, FileNotFoundError):
            continue
        for entry in entries:
            rel = f"{rel_dir}/{entry.name}" if rel_dir else entry.name
            if entry.is_dir(follow_symlinks=False):
                if not ignore.ignored(rel, True):
                    stack.append(rel)
            elif entry.is_file(follow_symlinks=False) and not is_temp_name(entry.name) and not ignore.ignored(rel, False):  # cgit's temp files
                yield rel, entry.stat(follow_symlinks=False)


def under(path: str, base: str) -> bool:
    return not base or path == base or path.startswith(base + "/")


def status(repo: Repo) -> Status:
    """Staged (index vs HEAD), unstaged (work tree vs index) and untracked files.

    Compares the index's stored rows and builds entries only for paths that differ, and sorts
    only those: on an unchanged tree the cost is reading the index and HEAD's tree and one
    ``lstat`` per file.
    """
    rows = read_index_rows(repo.cgit / "index")
    head = repo.refs.head_commit()
    head_entries = read_commit_tree(repo.store, head, check_paths=False).entries if head else {}
    differing = [p for p, row in rows.items() if (h := head_entries.get(p)) is None or h.id != row[ROW_ID]]
    differing += [p for p in head_entries if p not in rows]
    staged: list[FileChange] = []
    for path in sorted(differing):
        h, i = head_entries.get(path), entry_from_row(rows[path]) if path in rows else None
        if h is None and i is not None:
            staged.append(FileChange(path, "added", i.kind, None, i.rows if i.rows >= 0 else None))
        elif i is None and h is not None:
            staged.append(FileChange(path, "deleted", h.kind, _rows(repo, h.kind, h.id), None))
        elif h is not None and i is not None:
            staged.append(FileChange(path, "modified", i.kind, _rows(repo, h.kind, h.id), i.rows if i.rows >= 0 else None))
    ignore = IgnoreRules.load(repo.root)
    seen = dict(scan(repo.root, "", ignore))
    unstaged = []
    for path, row in rows.items():
        st = seen.get(path)
        if st is None:
            unstaged.append(FileChange(path, "deleted", entry_from_row(row).kind))
        elif not row_matches(row, st):
            unstaged.append(FileChange(path, "modified", entry_from_row(row).kind))
    unstaged.sort(key=lambda change: change.path)
    untracked = _collapse_untracked(sorted(p for p in seen if p not in rows), rows)
    from corpusgit.merge.state import read_state

    state = read_state(repo.cgit)
    return Status(
        repo.refs.head_target(), head, staged, unstaged, untracked, state.operation if state else None, sorted(state.conflicts) if state else []
    )


def _rows(repo: Repo, kind: str, oid: ObjectId) -> int | None:
    if kind != TABLE:
        return None
    return int(repo.store.get_meta(oid)["num_rows"])


def _collapse_untracked(paths: list[str], tracked: Iterable[str]) -> list[str]:
    """Show a wholly untracked directory once (``data/new/``), as git does."""
    if not paths:
        return []
    tracked_dirs: set[str] = set()
    for p in tracked:
        parent = p.rpartition("/")[0]
        while parent and parent not in tracked_dirs:  # its ancestors are in already
            tracked_dirs.add(parent)
            parent = parent.rpartition("/")[0]
    out: list[str] = []
    for p in paths:
        parts = p.split("/")
        top = p
        for i in range(1, len(parts)):
            prefix = "/".join(parts[:i])
            if prefix not in tracked_dirs:
                top = prefix + "/"
                break
        if not out or out[-1] != top:
            out.append(top)
    return out


def rm(repo: Repo, paths: list[str], cached: bool = False, recursive: bool = False) -> list[str]:
    """Untrack files (and delete them unless ``cached``)."""
    with repo.locked_index() as (index, lock):
        doomed: list[str] = []
        for raw in paths:
            rel = repo.relpath(raw)
            matches = [p for p in index.entries if p == rel or (recursive and under(p, rel))]
            if not matches:
                hint = "pass -r to remove a directory" if any(under(p, rel) for p in index.entries) else "'cgit status' lists tracked files"
                raise BadInput(f"pathspec '{raw}' did not match any tracked file", hint=hint)
            doomed.extend(matches)
        for rel in doomed:
            index.entries.pop(rel, None)
        repo.save_index(lock, index)
    if not cached:
        for rel in doomed:
            (repo.root / rel).unlink(missing_ok=True)
            prune_empty_dirs(repo.root, rel)
    return doomed


def mv(repo: Repo, src: str, dst: str) -> tuple[str, str]:
    """Rename a tracked file in the work tree and the index; content ids are unchanged."""
    with repo.locked_index() as (index, lock):
        s, d = repo.relpath(src), repo.relpath(dst)
        if (repo.root / d).is_dir():
            d = f"{d}/{posixpath.basename(s)}" if d else posixpath.basename(s)
        if s not in index.entries:
            raise BadInput(f"{src}: not tracked", hint="'cgit add' it first, or use plain mv")
        if (repo.root / d).exists() or d in index.entries:
            raise BadInput(f"{dst}: destination exists", hint="remove it first or choose another name")
        (repo.root / d).parent.mkdir(parents=True, exist_ok=True)
        os.replace(repo.root / s, repo.root / d)
        entry = index.entries.pop(s)
        index.entries[d] = entry.with_stat((repo.root / d).stat())
        repo.save_index(lock, index)
    prune_empty_dirs(repo.root, s)
    return s, d


def prune_empty_dirs(root: Path, rel: str) -> None:
    parent = (root / rel).parent
    while parent != root and parent.is_dir() and not any(parent.iterdir()):
        parent.rmdir()
        parent = parent.parent

