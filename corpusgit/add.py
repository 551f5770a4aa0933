"""``add``: stage files. Nothing (index or objects) changes unless every file is accepted.

Parquet files are ingested as tables matched row by row against the tables already known in the
same directory; other files become blobs.
"""

from __future__ import annotations

import os
import posixpath
import stat as statmod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from corpusgit.errors import BadInput
from corpusgit.ignore import IgnoreRules
from corpusgit.index import Index, IndexEntry
from corpusgit.objects import BLOB, MODE_EXEC, MODE_FILE, TABLE, read_commit_tree
from corpusgit.progress import NULL_PROGRESS, Progress
from corpusgit.store.canonical import ObjectId
from corpusgit.worktree import FileChange, is_table_path, scan, under

if TYPE_CHECKING:
    from corpusgit.ingest_files import IngestSession
    from corpusgit.table.model import TableObject
    from corpusgit.repo import Repo


@dataclass
class AddResult:
    added: list[FileChange] = field(default_factory=list)
    unchanged: int = 0
    new_bytes: int = 0


def add(repo: Repo, paths: list[str], progress: Progress = NULL_PROGRESS, force: bool = False) -> AddResult:
    """Stage files; nothing (index or objects) changes unless every file is accepted."""
    project = repo.project()
    suffixes = project.table_suffixes()
    ignore = IgnoreRules.load(repo.root)
    with repo.locked_index() as (index, lock):
        files, removed = _expand(repo, index, paths, ignore, force)
        changed = [(rel, st) for rel, st in files if not (rel in index.entries and index.entries[rel].matches(st))]
        result = AddResult(unchanged=len(files) - len(changed))
        if not changed and not removed:
            return result  # the stat cache says nothing changed: no file is read, nothing loads
        from corpusgit.ingest_files import open_parquet

        for rel, _ in changed:
            if is_table_path(rel, suffixes):
                open_parquet(repo.root / rel, rel)
        with repo.store.transaction():
            new_entries = _ingest(repo, index, changed, removed, progress)
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


def _ingest(
    repo: Repo, index: Index, changed: list[tuple[str, os.stat_result]], removed: list[str], progress: Progress
) -> dict[str, IndexEntry]:
    """Objects for changed files (inside the caller's transaction), as new index entries."""
    from corpusgit.ingest_files import IngestSession, open_parquet

    project = repo.project()
    suffixes = project.table_suffixes()
    new_entries: dict[str, IndexEntry] = {}
    total_rows = sum(open_parquet(repo.root / r, r).metadata.num_rows for r, _ in changed if is_table_path(r, suffixes))
    session = IngestSession(repo.store, _known_tables(repo, index))
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
    return new_entries


@contextmanager
def stage_snapshot(repo: Repo, progress: Progress = NULL_PROGRESS) -> Iterator[dict[str, tuple[str, ObjectId]]]:
    """Tracked files as they are on disk (path -> (kind, id)), for diffs against the work tree.

    Changed files are ingested in a transaction that is always discarded, so looking never
    writes to the repository.
    """
    index = repo.read_index()
    side = {p: (e.kind, e.id) for p, e in index.entries.items()}
    changed = []
    for path, entry in sorted(index.entries.items()):
        try:
            st = (repo.root / path).stat()
        except FileNotFoundError:
            del side[path]
            continue
        if not entry.matches(st):
            changed.append((path, st))
    with repo.store.transaction(publish=False):
        entries = _ingest(repo, index, changed, [], progress)
        side.update({p: (e.kind, e.id) for p, e in entries.items()})
        yield side


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
            removed.update(p for p in index.entries if under(p, rel) and p not in found and not (repo.root / p).exists())
        elif full.is_file():
            if ignore.ignored(rel, False) and not force:
                raise BadInput(f"{raw}: ignored by .cgitignore", hint="use 'cgit add --force' to add it anyway")
            files[rel] = full.stat()
        elif rel in index.entries or any(under(p, rel) for p in index.entries):
            removed.update(p for p in index.entries if under(p, rel))
        else:
            raise BadInput(f"pathspec '{raw}' did not match any file", hint="check the spelling; 'cgit status' lists untracked files")
    return sorted(files.items()), sorted(removed)


def _known_tables(repo: Repo, index: Index) -> dict[str, ObjectId]:
    """Tables of the index and of HEAD: the versions new rows are matched against."""
    known = {p: e.id for p, e in index.entries.items() if e.kind == TABLE}
    head = repo.refs.head_commit()
    if head is not None:
        for p, e in read_commit_tree(repo.store, head).entries.items():
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
            if list(fields.items()) != list(ref_fields.items()):  # dict == ignores column order
                diff = _describe_difference(ref_fields, fields)
                raise BadInput(
                    f"{path}: schema differs from {reference} in the same dataset ({diff})",
                    hint=f"write every shard of {directory or '.'}/ with one schema and add them together: cgit add {directory or '.'}",
                )


def _fields(table: TableObject) -> dict[str, str]:
    from corpusgit.table.schema import canonical_schema

    return {f.name: str(f.type) for f in canonical_schema(table.schema)}


def _describe_difference(a: dict[str, str], b: dict[str, str]) -> str:
    for name in a:
        if name not in b:
            return f"column {name!r} missing"
        if a[name] != b[name]:
            return f"column {name!r} is {b[name]}, expected {a[name]}"
    extra = [n for n in b if n not in a]
    return f"extra column {extra[0]!r}" if extra else "column order differs"
