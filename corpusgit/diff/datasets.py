"""The dataset view of a diff: shards of one directory compared as one pool of rows.

Users think of a directory of shards as one dataset (see docs/concepts.md), so a re-shard or a
shuffle across shards should read as rows *moved*, not as every row removed from the old files
and added to the new ones. A dataset here is the tables directly inside one directory that have
the same columns with the same types; tables of another schema in the same directory, and a path
whose own schema changed between the versions, are diffed per path as before.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from corpusgit.diff.moves import PoolMember, match_pool
from corpusgit.diff.tables import TableDiff, diff_loaded, load_table
from corpusgit.progress import Task
from corpusgit.store.canonical import canonical_json
from corpusgit.store.objects import ObjectStore
from corpusgit.table.model import TableObject
from corpusgit.table.schema import type_to_json

Signature = tuple[tuple[str, str], ...]  # (column, canonical type) sorted by column: a dataset's schema
TablePair = tuple[str, str | None, str | None]  # path, old table id, new table id


@dataclass
class DatasetDiff:
    """What changed in one dataset: per changed table, rows genuinely added, removed and
    modified, and how many rows moved between its tables.

    ``files`` holds one entry per changed table (deleted and added shards included), then one
    per (old path, new path) of rows that moved and were modified under the key (``old_path``
    set). Row counts over ``files`` add up to the dataset's counts.
    """

    path: str  # the directory with a trailing "/"; "./" for the repository root
    files_old: int  # tables of the dataset in the old version, unchanged ones included
    files_new: int
    files: list[TableDiff] = field(default_factory=list)
    kind: str = "dataset"

    @property
    def status(self) -> str:
        return "added" if self.files_old == 0 else "deleted" if self.files_new == 0 else "modified"

    @property
    def rows_added(self) -> int:
        return sum(f.rows_added for f in self.files)

    @property
    def rows_removed(self) -> int:
        return sum(f.rows_removed for f in self.files)

    @property
    def rows_modified(self) -> int:
        return sum(f.rows_modified for f in self.files)

    @property
    def moved(self) -> int:
        """Rows that changed table (a keyed row that moved and changed is also modified)."""
        return sum(f.moved_in for f in self.files)

    @property
    def cells_changed(self) -> dict[str, int]:
        total: dict[str, int] = {}
        for f in self.files:
            for column, n in f.cells_changed.items():
                total[column] = total.get(column, 0) + n
        return total

    @property
    def schema_changes(self) -> list[str]:
        return list(dict.fromkeys(c for f in self.files for c in f.schema_changes))

    def summary(self) -> dict[str, object]:
        return {
            "path": self.path,
            "kind": self.kind,
            "status": self.status,
            "files_old": self.files_old,
            "files_new": self.files_new,
            "rows_added": self.rows_added,
            "rows_removed": self.rows_removed,
            "rows_modified": self.rows_modified,
            "moved": self.moved,
            "schema_changes": self.schema_changes,
            "cells_changed": self.cells_changed,
            "files": [f.summary() for f in self.files],
        }


def dataset_path(path: str) -> str:
    """The dataset (directory) a table path belongs to, as shown: ``data/web/``, or ``./``."""
    directory = posixpath.dirname(path)
    return directory + "/" if directory else "./"


def signature(table: TableObject) -> Signature:
    """Column names and canonical types, order-free: the row hash does not depend on order."""
    return tuple(sorted((f.name, canonical_json(type_to_json(f.type)).decode()) for f in table.schema))


def diff_datasets(
    store: ObjectStore, pairs: Sequence[TablePair], unchanged: Sequence[tuple[str, str]], task: Task | None = None
) -> list[TableDiff | DatasetDiff]:
    """Diff changed tables, pooling those of one dataset.

    Args:
        pairs: changed table paths with their old and new table ids (None where absent).
        unchanged: (path, id) of tables identical on both sides, counted in their dataset's
            ``files_old``/``files_new`` (loaded only when their directory holds two schemas).

    A dataset with one changed table is reported as that table's plain diff.
    """
    loaded = {path: (load_table(store, o, path), load_table(store, n, path)) for path, o, n in pairs}
    pools: dict[tuple[str, Signature], list[PoolMember]] = {}
    out: list[TableDiff | DatasetDiff] = []
    for path, old_id, new_id in pairs:
        old, new = loaded[path]
        sigs = {signature(t) for t in (old, new) if t is not None}
        if len(sigs) != 1:  # the path's own schema changed: compared per path on common columns
            out.append(diff_loaded(store, path, (old_id, old), (new_id, new)))
            if task is not None:
                task.advance()
            continue
        pools.setdefault((dataset_path(path), sigs.pop()), []).append(PoolMember(path, old_id, new_id, old, new))
    counts = _unchanged_counts(store, pools, unchanged)
    for (directory, sig), members in pools.items():
        if len(members) == 1:
            (m,) = members
            out.append(diff_loaded(store, m.path, (m.old_id, m.old), (m.new_id, m.new)))
        else:
            columns = [name for name, _ in sig]
            same = counts.get((directory, sig), 0)
            files_old = same + sum(m.old is not None for m in members)
            files_new = same + sum(m.new is not None for m in members)
            out.append(DatasetDiff(directory, files_old, files_new, match_pool(store, members, columns)))
        if task is not None:
            task.advance(len(members))
    return out


def _unchanged_counts(
    store: ObjectStore, pools: dict[tuple[str, Signature], list[PoolMember]], unchanged: Sequence[tuple[str, str]]
) -> dict[tuple[str, Signature], int]:
    """Unchanged tables per pooled dataset. ``cgit add`` keeps one schema per directory, so an
    unchanged table belongs to its directory's only pool; tables are loaded only to settle a
    directory with several."""
    by_dir: dict[str, list[Signature]] = {}
    for directory, sig in pools:
        by_dir.setdefault(directory, []).append(sig)
    counts: dict[tuple[str, Signature], int] = {}
    for path, oid in unchanged:
        directory = dataset_path(path)
        sigs = by_dir.get(directory, [])
        if not any(len(pools[directory, s]) > 1 for s in sigs):
            continue
        if len(sigs) > 1:
            table = load_table(store, oid, path)
            sigs = [s for s in sigs if table is not None and s == signature(table)]
        if len(sigs) == 1:
            counts[directory, sigs[0]] = counts.get((directory, sigs[0]), 0) + 1
    return counts


def iter_tables(diffs: Sequence[object]) -> Iterator[TableDiff]:
    """Every table entry, datasets opened up (for ``--output`` and per-table rendering)."""
    for d in diffs:
        if isinstance(d, DatasetDiff):
            yield from d.files
        elif isinstance(d, TableDiff):
            yield d
