"""Three-way merge of trees: each path decided alone; tables go to the row/cell merge."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from corpusgit.ingest_files import IngestSession
from corpusgit.merge.state import PathConflict
from corpusgit.merge.tables import merge_table
from corpusgit.objects import BLOB, TABLE, TreeEntry
from corpusgit.errors import BadInput
from corpusgit.progress import NULL_PROGRESS, Progress, Task
from corpusgit.table.chunkio import arrow_owned

if TYPE_CHECKING:
    from corpusgit.repo import Repo

Entries = dict[str, TreeEntry]
STRATEGIES = ("ours", "theirs", "union")


@dataclass
class TreeMerge:
    entries: Entries
    conflicts: dict[str, PathConflict] = field(default_factory=dict)


def merge_trees(repo: Repo, base: Entries, ours: Entries, theirs: Entries, prefer: str = "mark", progress: Progress = NULL_PROGRESS) -> TreeMerge:
    """Decide every path; a conflicted path keeps ours' version (tables: merged, ours on clashes)."""
    result = TreeMerge({})
    project = repo.project()
    session = IngestSession(repo.store, {})
    paths = sorted(set(base) | set(ours) | set(theirs))
    try:
        with repo.store.transaction(), progress.task("merging", None) as task:
            for path in paths:
                b, o, t = base.get(path), ours.get(path), theirs.get(path)
                decided, entry = _trivial(b, o, t)
                if decided:
                    if entry is not None:
                        result.entries[path] = entry
                    continue
                strategy = project.table_settings(path).get("merge")
                if strategy is not None and strategy not in STRATEGIES:
                    raise BadInput(f"cgit.toml: merge = {strategy!r} for {path} is not a strategy", hint="use \"ours\", \"theirs\" or \"union\"")
                _merge_path(repo, session, path, (b, o, t), prefer, strategy, result, task)
    finally:
        session.close()
    return result


def _trivial(b: TreeEntry | None, o: TreeEntry | None, t: TreeEntry | None) -> tuple[bool, TreeEntry | None]:
    """(True, result) when at most one side changed the path (or both the same way)."""
    if _same(o, t):
        return True, o
    if _same(o, b):
        return True, t
    if _same(t, b):
        return True, o
    return False, None


def _same(x: TreeEntry | None, y: TreeEntry | None) -> bool:
    return (x is None and y is None) or (x is not None and y is not None and x.id == y.id and x.kind == y.kind)


def _merge_path(
    repo: Repo,
    session: IngestSession,
    path: str,
    sides: tuple[TreeEntry | None, TreeEntry | None, TreeEntry | None],
    prefer: str,
    strategy: str | None,
    result: TreeMerge,
    task: Task,
) -> None:
    """``prefer`` (from -X) settles clashes; a table's ``strategy`` (cgit.toml) overrides it:
    "ours"/"theirs" take that side's whole table, "union" keeps rows from both sides."""
    b, o, t = sides
    if strategy in ("ours", "theirs"):
        prefer = strategy
    ids = (b.id if b else None, o.id if o else None, t.id if t else None)
    if o is None or t is None:
        _conflict_or_pick(path, "delete", sides, prefer, result, "deleted on one side, modified on the other")
        return
    if o.kind != t.kind:
        _conflict_or_pick(path, "kind", sides, prefer, result, f"{o.kind} in ours, {t.kind} in theirs")
        return
    if o.kind == BLOB:
        _conflict_or_pick(path, "blob", sides, prefer, result, "both sides changed the file")
        return
    if strategy in ("ours", "theirs"):
        result.entries[path] = o if strategy == "ours" else t
        return
    row_prefer = "union" if strategy == "union" else prefer
    merged = merge_table(repo.store, session, path, (ids[0], o.id, t.id), row_prefer, task)
    if merged.table_id is None:
        _conflict_or_pick(path, "schema", sides, prefer, result, merged.schema_conflict or "schema clash")
        return
    result.entries[path] = TreeEntry(TABLE, merged.table_id, o.mode)  # type: ignore[arg-type]
    if merged.count and row_prefer == "mark":
        rows_id = _store_rows(repo, merged.conflicts) if merged.conflicts is not None else None
        result.conflicts[path] = PathConflict("rows", ids[0], o.id, t.id, merged.count, rows_id, f"{merged.count} conflicting row(s)", TABLE, TABLE)


def _conflict_or_pick(path: str, kind: str, sides: tuple[TreeEntry | None, ...], prefer: str, result: TreeMerge, detail: str) -> None:
    b, o, t = sides
    pick = o if prefer in ("mark", "ours", "union") else t
    if pick is not None:
        result.entries[path] = pick
    if prefer in ("mark", "union"):
        result.conflicts[path] = PathConflict(
            kind, b.id if b else None, o.id if o else None, t.id if t else None, 1, None, detail, o.kind if o else None, t.kind if t else None
        )


def _store_rows(repo: Repo, rows: pa.Table) -> str:
    """Conflict rows as a Parquet blob, so ``cgit conflicts`` can show and export them."""
    with tempfile.TemporaryDirectory(dir=repo.store.tmp_root) as tmp:
        path = Path(tmp) / "conflicts.parquet"
        pq.write_table(rows, path, compression="zstd")
        return repo.store.put_blob_file(path)


def load_rows(repo: Repo, blob_id: str) -> pa.Table:
    data = b"".join(repo.store.iter_blob(blob_id, "merge conflicts"))
    return pq.read_table(pa.BufferReader(arrow_owned(data)))
