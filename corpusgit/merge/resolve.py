"""Inspecting and resolving conflicts left by a merge, revert or cherry-pick."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from corpusgit.errors import BadInput
from corpusgit.ingest_files import IngestSession
from corpusgit.merge.api import _state, mark_resolved
from corpusgit.merge.rows import HashIndex, rewrite
from corpusgit.table.schema import conform
from corpusgit.merge.state import PathConflict
from corpusgit.merge.tables import COLUMNS_COLUMN, KIND_COLUMN, SIDE_COLUMN, merge_table
from corpusgit.merge.trees import load_rows
from corpusgit.progress import NULL_PROGRESS, Progress
from corpusgit.table.hashing import row_lanes
from corpusgit.table.model import TableObject
from corpusgit.table.schema import canonical_schema

if TYPE_CHECKING:
    from corpusgit.repo import Repo

MARKER_COLUMNS = (SIDE_COLUMN, KIND_COLUMN, COLUMNS_COLUMN)


@dataclass(frozen=True, slots=True)
class ConflictView:
    path: str
    conflict: PathConflict
    rows: pa.Table | None  # base/ours/theirs rows of each conflicting key, with marker columns
    key: tuple[str, ...]


def list_conflicts(repo: Repo, path: str | None = None) -> list[ConflictView]:
    state = _state(repo)
    paths = sorted(state.conflicts)
    if path is not None:
        rel = repo.relpath(path)
        if rel not in state.conflicts:
            raise BadInput(f"{path} has no conflict", hint=f"conflicted: {', '.join(paths) or 'none'}")
        paths = [rel]
    views = []
    for p in paths:
        c = state.conflicts[p]
        rows = load_rows(repo, c.conflicts) if c.conflicts else None
        key: tuple[str, ...] = ()
        if c.ours and c.kind == "rows":
            key = TableObject.from_json(repo.store.get_meta(c.ours, p)).key
        views.append(ConflictView(p, c, rows, key))
    return views


def resolve(repo: Repo, path: str, how: str | None, from_file: Path | None, progress: Progress = NULL_PROGRESS) -> str:
    """Settle one conflicted path; returns what was done, for the user."""
    (view,) = list_conflicts(repo, path)
    c = view.conflict
    if (how is None) == (from_file is None):
        raise BadInput("say how to resolve", hint="pass exactly one of --ours, --theirs, --union, --from FILE")
    if c.kind != "rows":
        if from_file is not None or how == "union":
            raise BadInput(f"{view.path}: a {c.kind} conflict can only take one side", hint="use --ours or --theirs")
        chosen, kind = (c.ours, c.ours_kind) if how == "ours" else (c.theirs, c.theirs_kind)
        mark_resolved(repo, view.path, chosen, kind)
        return f"took {how} version" + ("" if chosen else " (deleted)")
    current = repo.read_index().entries[view.path].id
    if how == "ours":
        mark_resolved(repo, view.path, current, "table")
        return "kept ours on conflicting cells"
    with repo.store.transaction():
        session = IngestSession(repo.store, {})
        try:
            with progress.task("resolving", None) as task:
                if how in ("theirs", "union"):
                    merged = merge_table(repo.store, session, view.path, (c.base, c.ours or "", c.theirs or ""), how, task)
                    oid = merged.table_id
                else:
                    assert from_file is not None
                    oid = _apply_file(repo, session, view, current, from_file, task)
        finally:
            session.close()
    mark_resolved(repo, view.path, oid, "table")
    return f"resolved with {how or from_file}"


def _apply_file(repo: Repo, session: IngestSession, view: ConflictView, current: str, from_file: Path, task: object) -> str:
    """Replace the conflicting keys' rows with the file's rows (one per key; absent = deleted)."""
    if not view.key:
        raise BadInput(f"{view.path}: --from needs a table with key columns", hint="use --ours, --theirs or --union")
    try:
        rows = pq.read_table(from_file)
    except (OSError, pa.ArrowException) as exc:
        raise BadInput(f"{from_file}: not a readable Parquet file ({exc})", hint="export it with 'cgit conflicts PATH --output FILE'") from exc
    if SIDE_COLUMN in rows.schema.names:
        resolved = pa.compute.equal(rows.column(SIDE_COLUMN), "resolved")
        if pa.compute.any(resolved).as_py():
            rows = rows.filter(resolved)
    rows = rows.drop_columns([c for c in MARKER_COLUMNS if c in rows.schema.names])
    table = TableObject.from_json(repo.store.get_meta(current, view.path))
    missing = [k for k in view.key if k not in rows.schema.names]
    if missing:
        raise BadInput(f"{from_file}: key column {missing[0]!r} is missing", hint=f"the key of {view.path} is {', '.join(view.key)}")
    f_hi, f_lo = row_lanes(rows.select(list(view.key)))
    if len(set(zip(f_hi.tolist(), f_lo.tolist()))) != rows.num_rows:
        raise BadInput(f"{from_file}: a key appears more than once", hint="keep one row per key (or mark the chosen one with _side = 'resolved')")
    conflict_rows = view.rows if view.rows is not None else pa.table({})
    c_hi, c_lo = row_lanes(conflict_rows.select(list(view.key)))
    conflicting = set(zip(c_hi.tolist(), c_lo.tolist()))
    stray = [i for i, k in enumerate(zip(f_hi.tolist(), f_lo.tolist())) if k not in conflicting]
    if stray:
        raise BadInput(f"{from_file}: row {stray[0]} has a key that is not in conflict", hint="only conflicting keys can be resolved from a file")
    index = HashIndex.over(repo.store, table, view.key, (np.array([k[0] for k in conflicting], np.uint64), np.array([k[1] for k in conflicting], np.uint64)))
    at = dict(zip(zip(index.hi.tolist(), index.lo.tolist()), index.pos.tolist()))
    chosen = {k: i for i, k in enumerate(zip(f_hi.tolist(), f_lo.tolist()))}
    drop = np.array([pos for k, pos in at.items() if k not in chosen], dtype=np.int64)
    replace = [(at[k], i) for k, i in chosen.items() if k in at]
    appended = [i for k, i in chosen.items() if k not in at]
    schema = table.schema
    rows = conform(rows, schema)
    batches = rewrite(
        repo.store,
        table,
        schema,
        drop,
        np.array([p for p, _ in replace], dtype=np.int64),
        rows.take(pa.array([i for _, i in replace], pa.int64())),
        None,
        [rows.take(pa.array(appended, pa.int64()))] if appended else [],
    )
    oid, _ = session.ingest_batches(view.path, canonical_schema(schema), batches, view.key, task, also_match=[current])  # type: ignore[arg-type]
    return oid
