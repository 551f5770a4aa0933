"""Naming table versions for runs and lineage: ``path`` (the index) or ``path@rev``.

Runs read their input from the object store, never from the work-tree file, so what a lineage
record names (a table id) is exactly what the operator saw.
"""

from __future__ import annotations

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
