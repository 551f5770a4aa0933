"""Work-tree verbs: add, status, rm, mv. The stat cache makes unchanged files free."""

from __future__ import annotations

import os
import posixpath
import stat as statmod
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from corpusgit.errors import BadInput
from corpusgit.ignore import IgnoreRules
from corpusgit.index import Index, IndexEntry
from corpusgit.ingest_files import IngestSession, open_parquet
from corpusgit.objects import BLOB, MODE_EXEC, MODE_FILE, TABLE, read_commit, read_tree
from corpusgit.progress import NULL_PROGRESS, Progress
from corpusgit.store.canonical import ObjectId
from corpusgit.table.model import TableObject
from corpusgit.table.schema import canonical_schema

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
class AddResult:
    added: list[FileChange] = field(default_factory=list)
    unchanged: int = 0
    new_bytes: int = 0


@dataclass
class Status:
    branch: str | None
    head: str | None
    staged: list[FileChange]
    unstaged: list[FileChange]
    untracked: list[str]

    @property
    def clean(self) -> bool:
        return not (self.staged or self.unstaged or self.untracked)


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
            elif entry.is_file(follow_symlinks=False) and not ignore.ignored(rel, False):
                yield rel, entry.stat(follow_symlinks=False)


def _under(path: str, base: str) -> bool:
    return not base or path == base or path.startswith(base + "/")


def add(repo: Repo, paths: list[str], progress: Progress = NULL_PROGRESS, force: bool = False) -> AddResult:
    """Stage files; nothing (index or objects) changes unless every file is accepted."""
    project = repo.project()
    suffixes = project.table_suffixes()
    ignore = IgnoreRules.load(repo.root)
    with repo.locked_index() as (index, lock):
        files, removed = _expand(repo, index, paths, ignore, force)
        changed = [(rel, st) for rel, st in files if not (rel in index.entries and index.entries[rel].matches(st))]
        for rel, _ in changed:
            if is_table_path(rel, suffixes):
                open_parquet(repo.root / rel, rel)
        result = AddResult(unchanged=len(files) - len(changed))
        new_entries: dict[str, IndexEntry] = {}
        known = _known_tables(repo, index)
        total_rows = sum(open_parquet(repo.root / r, r).metadata.num_rows for r, _ in changed if is_table_path(r, suffixes))
        with repo.store.transaction():
            session = IngestSession(repo.store, known)
            try:
                with progress.task("adding", total_rows or None) as task:
                    for rel, st in changed:
                        mode = MODE_EXEC if st.st_mode & statmod.S_IXUSR else MODE_FILE
                        if is_table_path(rel, suffixes):
                            oid, table = session.ingest(rel, repo.root / rel, project.table_key(rel), task)
                            new_entries[rel] = IndexEntry(TABLE, oid, MODE_FILE, rows=table.num_rows).with_stat(st)
                        else:
                            oid = repo.store.put_blob_file(repo.root / rel)
                            new_entries[rel] = IndexEntry(BLOB, oid, mode).with_stat(st)
                _check_dataset_schemas(index, new_entries, removed, session)
            finally:
                session.close()
            result.new_bytes = repo.store.staged_bytes()
        for rel, entry in new_entries.items():
            old = index.entries.get(rel)
            if old is None or old.id != entry.id or old.kind != entry.kind:
                result.added.append(FileChange(rel, "modified" if old else "added", entry.kind, old.rows if old and old.rows >= 0 else None, entry.rows if entry.rows >= 0 else None))
            index.entries[rel] = entry
        for rel in removed:
            old = index.entries.pop(rel)
            result.added.append(FileChange(rel, "deleted", old.kind, old.rows if old.rows >= 0 else None, None))
        repo.save_index(lock, index)
    return result


def _expand(repo: Repo, index: Index, paths: list[str], ignore: IgnoreRules, force: bool) -> tuple[list[tuple[str, os.stat_result]], list[str]]:
    files: dict[str, os.stat_result] = {}
    removed: set[str] = set()
    for raw in paths:
        rel = repo.relpath(raw)
        full = repo.root / rel if rel else repo.root
        if full.is_symlink():
            raise BadInput(f"{raw}: symbolic links are not tracked", hint="add the file it points to instead")
        if full.is_dir():
            found = dict(scan(repo.root, rel, ignore))
            files.update(found)
            removed.update(p for p in index.entries if _under(p, rel) and p not in found and not (repo.root / p).exists())
        elif full.is_file():
            if ignore.ignored(rel, False) and not force:
                raise BadInput(f"{raw}: ignored by .cgitignore", hint="use 'cgit add --force' to add it anyway")
            files[rel] = full.stat()
        elif rel in index.entries or any(_under(p, rel) for p in index.entries):
            removed.update(p for p in index.entries if _under(p, rel))
        else:
            raise BadInput(f"pathspec '{raw}' did not match any file", hint="check the spelling; 'cgit status' lists untracked files")
    return sorted(files.items()), sorted(removed)


def _known_tables(repo: Repo, index: Index) -> dict[str, ObjectId]:
    """Tables of the index and of HEAD: the versions new rows are matched against."""
    known = {p: e.id for p, e in index.entries.items() if e.kind == TABLE}
    head = repo.refs.head_commit()
    if head is not None:
        tree = read_tree(repo.store, read_commit(repo.store, head).tree)
        for p, e in tree.entries.items():
            if e.kind == TABLE and p not in known:
                known[p] = e.id
    return known


def _check_dataset_schemas(index: Index, new: dict[str, IndexEntry], removed: list[str], session: IngestSession) -> None:
    """Shards in one directory form one dataset and must share a schema."""
    after = {p: e for p, e in index.entries.items() if p not in removed and e.kind == TABLE}
    after.update({p: e for p, e in new.items() if e.kind == TABLE})
    dirs = {posixpath.dirname(p) for p, e in new.items() if e.kind == TABLE}
    for directory in sorted(dirs):
        shards = sorted(p for p in after if posixpath.dirname(p) == directory)
        reference = shards[0]
        ref_fields = _fields(session.table(after[reference].id))
        for path in shards[1:]:
            fields = _fields(session.table(after[path].id))
            if fields != ref_fields:
                diff = _describe_difference(ref_fields, fields)
                raise BadInput(
                    f"{path}: schema differs from {reference} in the same dataset ({diff})",
                    hint=f"write every shard of {directory or '.'}/ with one schema and add them together: cgit add {directory or '.'}",
                )


def _fields(table: TableObject) -> dict[str, str]:
    return {f.name: str(f.type) for f in canonical_schema(table.schema)}


def _describe_difference(a: dict[str, str], b: dict[str, str]) -> str:
    for name in a:
        if name not in b:
            return f"column {name!r} missing"
        if a[name] != b[name]:
            return f"column {name!r} is {b[name]}, expected {a[name]}"
    extra = [n for n in b if n not in a]
    return f"extra column {extra[0]!r}" if extra else "column order differs"


def status(repo: Repo) -> Status:
    """Staged (index vs HEAD), unstaged (work tree vs index) and untracked files."""
    index = repo.read_index()
    head = repo.refs.head_commit()
    head_entries = read_tree(repo.store, read_commit(repo.store, head).tree).entries if head else {}
    staged: list[FileChange] = []
    for path in sorted(set(head_entries) | set(index.entries)):
        h, i = head_entries.get(path), index.entries.get(path)
        if h is not None and i is not None and h.id == i.id:
            continue
        if h is None and i is not None:
            staged.append(FileChange(path, "added", i.kind, None, i.rows if i.rows >= 0 else None))
        elif i is None and h is not None:
            staged.append(FileChange(path, "deleted", h.kind, _rows(repo, h.kind, h.id), None))
        elif h is not None and i is not None:
            staged.append(FileChange(path, "modified", i.kind, _rows(repo, h.kind, h.id), i.rows if i.rows >= 0 else None))
    ignore = IgnoreRules.load(repo.root)
    seen = dict(scan(repo.root, "", ignore))
    unstaged = []
    for path, entry in sorted(index.entries.items()):
        st = seen.get(path)
        if st is None:
            unstaged.append(FileChange(path, "deleted", entry.kind))
        elif not entry.matches(st):
            unstaged.append(FileChange(path, "modified", entry.kind))
    untracked = _collapse_untracked(sorted(p for p in seen if p not in index.entries), index)
    return Status(repo.refs.head_target(), head, staged, unstaged, untracked)


def _rows(repo: Repo, kind: str, oid: ObjectId) -> int | None:
    if kind != TABLE:
        return None
    return int(repo.store.get_meta(oid)["num_rows"])


def _collapse_untracked(paths: list[str], index: Index) -> list[str]:
    """Show a wholly untracked directory once (``data/new/``), as git does."""
    tracked_dirs = set()
    for p in index.entries:
        parts = p.split("/")
        for i in range(1, len(parts)):
            tracked_dirs.add("/".join(parts[:i]))
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
            matches = [p for p in index.entries if p == rel or (recursive and _under(p, rel))]
            if not matches:
                hint = "pass -r to remove a directory" if any(_under(p, rel) for p in index.entries) else "'cgit status' lists tracked files"
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

