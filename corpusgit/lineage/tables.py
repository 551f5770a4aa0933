"""Naming table versions for runs and lineage: ``path`` (the index) or ``path@rev``; and the
inputs of a run, which are one table or every table of a dataset (a directory).

Runs read their input from the object store, never from the work-tree file, so what a lineage
record names (a table id) is exactly what the operator saw.
"""

from __future__ import annotations

import difflib
import posixpath
from dataclasses import dataclass
from typing import TYPE_CHECKING

from corpusgit.errors import BadInput, RevisionNotFound
from corpusgit.objects import TABLE, read_commit, read_tree
from corpusgit.revparse import resolve_commit, resolve_entry
from corpusgit.lineage.record import TableRef

if TYPE_CHECKING:
    from corpusgit.repo import Repo
    from corpusgit.table.model import TableObject

INDEX = None  # the "revision" of the staged version of a path


def split_spec(spec: str) -> tuple[str, str | None]:
    """``data/a.parquet@v1`` -> (path, "v1"); without ``@`` the staged version is meant."""
    path, sep, rev = spec.rpartition("@")
    if not sep:
        return spec.strip("/"), INDEX
    if not path or not rev:
        raise BadInput(f"'{spec}' is not PATH or PATH@REV", hint="for example: data/web.parquet@HEAD~1")
    return path.strip("/"), rev


def resolve_table_ref(repo: Repo, path: str, rev: str | None) -> tuple[TableRef, TableObject]:
    """The table at ``path`` in ``rev`` (or the index), with the commit it belongs to if any."""
    from corpusgit.table.model import TableObject

    if rev is INDEX:
        entry = repo.read_index().entries.get(path)
        if entry is None:
            if (repo.root / path).exists():
                raise BadInput(f"{path} is not tracked", hint=f"stage it first: cgit add {path}")
            raise RevisionNotFound(f"{path} is not a tracked table", hint="'cgit status' lists tracked files")
        oid, kind = entry.id, entry.kind
        commit = _head_if_same(repo, path, oid)
    else:
        commit = resolve_commit(repo, rev)
        oid, kind = resolve_entry(repo, commit, path)
    if kind != TABLE:
        raise BadInput(f"{path} is a {kind}, not a table", hint="operators read tables (Parquet files added with 'cgit add')")
    table = TableObject.from_json(repo.store.get_meta(oid, needed_by=path))
    return TableRef(path, oid, commit, table.num_rows), table


@dataclass(frozen=True, slots=True)
class Inputs:
    """What a step reads: one table, or every table of a dataset in sorted path order.

    ``path`` is the table's path or the dataset's directory; ``refs[i]`` and ``tables[i]`` are
    the i-th table as a lineage reference and as the object the engine streams.
    """

    path: str
    dataset: bool
    refs: tuple[TableRef, ...]
    tables: tuple[TableObject, ...]

    @property
    def rows(self) -> int:
        return sum(ref.rows for ref in self.refs)


def resolve_inputs(repo: Repo, path: str, rev: str | None) -> Inputs:
    """The table at ``path``, or, when ``path`` is a directory, the tables directly inside it
    (a dataset: its shards share one schema), in the index or in ``rev``'s tree."""
    from corpusgit.table.model import TableObject

    if rev is INDEX:
        index = repo.read_index().entries
        entries = {p: (e.id, e.kind) for p, e in index.items()}
        head = repo.refs.head_commit()
        committed = {p: e.id for p, e in read_tree(repo.store, read_commit(repo.store, head).tree).entries.items()} if head else {}
        commit_of = {p: head if committed.get(p) == oid else None for p, (oid, _) in entries.items()}
    else:
        commit = resolve_commit(repo, rev)
        entries = {p: (e.id, e.kind) for p, e in read_tree(repo.store, read_commit(repo.store, commit).tree).entries.items()}
        commit_of = {p: commit for p in entries}
    prefix = f"{path}/" if path else ""
    if path not in entries and not any(p.startswith(prefix) for p in entries):
        raise _not_found(repo, path, rev, list(entries))
    if path in entries:
        ref, table = resolve_table_ref(repo, path, rev)
        return Inputs(path, False, (ref,), (table,))
    shards = sorted(p for p, (_, kind) in entries.items() if kind == TABLE and posixpath.dirname(p) == path)
    if not shards:
        raise _no_tables(path, rev, [p for p, (_, kind) in entries.items() if kind == TABLE])
    refs: list[TableRef] = []
    tables: list[TableObject] = []
    for shard in shards:
        oid = entries[shard][0]
        table = TableObject.from_json(repo.store.get_meta(oid, needed_by=shard))
        refs.append(TableRef(shard, oid, commit_of[shard], table.num_rows))
        tables.append(table)
    _check_one_schema(path, refs, tables)
    return Inputs(path, True, tuple(refs), tuple(tables))


def _not_found(repo: Repo, path: str, rev: str | None, tracked: list[str]) -> BadInput | RevisionNotFound:
    """Nothing tracked at or under ``path``: say so, suggesting close tables and directories."""
    if rev is INDEX and (repo.root / path).exists():
        return BadInput(f"{path} is not tracked", hint=f"stage it first: cgit add {path}")
    names = sorted(set(tracked) | {posixpath.dirname(p) for p in tracked} - {""})
    close = difflib.get_close_matches(path, names, n=3, cutoff=0.6)
    hint = ("did you mean " + " or ".join(f"'{c}'" for c in close) + "?") if close else "'cgit status' lists tracked files"
    if rev is INDEX:
        return RevisionNotFound(f"{path} is not a tracked table or dataset", hint=hint)
    return RevisionNotFound(f"path '{path}' does not exist in '{rev}'", hint=hint)


def _no_tables(path: str, rev: str | None, tables: list[str]) -> BadInput:
    where = f" in '{rev}'" if rev else ""
    below = sorted({posixpath.dirname(p) for p in tables if p.startswith(path + "/")})
    hint = f"a dataset is the tables directly inside one directory: try {' or '.join(below[:3])}" if below else "tables are Parquet files added with 'cgit add'"
    return BadInput(f"{path}/ holds no tables directly{where}", hint=hint)


def _check_one_schema(path: str, refs: list[TableRef], tables: list[TableObject]) -> None:
    """A dataset's shards share one schema (``add`` enforces it; old commits may predate that)."""
    first = [(f.name, str(f.type)) for f in tables[0].schema]
    for ref, table in zip(refs[1:], tables[1:]):
        if [(f.name, str(f.type)) for f in table.schema] != first:
            raise BadInput(
                f"{ref.path}: schema differs from {refs[0].path} in the dataset {path}/",
                hint=f"a run reads one schema; give it one table at a time, or rewrite the shards of {path}/ with one schema",
            )


def load_table(repo: Repo, ref: TableRef) -> TableObject:
    """The table a lineage reference names, by id (wherever its path has moved since)."""
    from corpusgit.table.model import TableObject

    return TableObject.from_json(repo.store.get_meta(ref.table, needed_by=f"{ref.path} (table {ref.table[:12]})"))


def _head_if_same(repo: Repo, path: str, oid: str) -> str | None:
    """HEAD, when the staged table is the committed one (a clean input has a commit)."""
    head = repo.refs.head_commit()
    if head is None:
        return None
    entry = read_tree(repo.store, read_commit(repo.store, head).tree).entries.get(path)
    return head if entry is not None and entry.id == oid else None
