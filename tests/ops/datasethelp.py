"""Dataset test helpers: shards cut from the real-text corpus, committed as one dataset; the rows
and row hashes a staged table holds. (The CLI runner and the repository snapshot are in
``tests/clirun.py``.)

A module of its own (not ``conftest``), so test modules import it unambiguously when several
test directories are collected together.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from realtext import corpus_rows, corpus_table

from corpusgit import Repo
from corpusgit.add import add
from corpusgit.history import commit
from corpusgit.table.hashing import binary_to_lanes

WEB = "data/web"
KEYED = '[tables."data/*"]\nkey = ["id"]\n'
SCHEMA = corpus_table().schema


def rows_by_id(ids: Sequence[int], overrides: dict[int, dict[str, Any]] | None = None) -> pa.Table:
    """Corpus rows with these ids, in this order; ``overrides[id]`` replaces a row's values
    (a copy of another row's text under a new id, say)."""
    by_id = {r["id"]: r for r in corpus_rows()}
    rows = [dict(by_id.get(i, {}), **(overrides or {}).get(i, {}), id=i) for i in ids]
    return pa.Table.from_pylist(rows, schema=SCHEMA)


def write_dataset(repo: Repo, shards: dict[str, pa.Table], message: str | None = "raw crawl", toml: str = "") -> None:
    """Write the shards (path -> table) into the work tree, ``add`` them with a keyed
    ``cgit.toml`` (plus ``toml``), and commit unless ``message`` is None."""
    (repo.root / "cgit.toml").write_text(KEYED + toml, encoding="utf-8")
    for path, table in shards.items():
        full = repo.root / path
        full.parent.mkdir(parents=True, exist_ok=True)
        tmp = full.with_name(f".{full.name}.tmp")
        pq.write_table(table, tmp)
        tmp.replace(full)  # a new inode each time, so the stat cache never mistakes it
    add(repo, ["cgit.toml", *shards])
    if message is not None:
        commit(repo, message)


def staged(repo: Repo, path: str) -> pa.Table:
    """The staged version of ``path`` with its ``_cgit_row``, read from the object store."""
    from corpusgit.lineage.tables import resolve_table_ref
    from corpusgit.table.reader import read_table

    _, table = resolve_table_ref(repo, path, None)
    return read_table(repo.store, table, None, True).read_all()


def ids(repo: Repo, path: str) -> list[int]:
    return [int(i) for i in staged(repo, path).column("id").to_pylist()]


def row_hex(repo: Repo, path: str, key: int) -> str:
    """The ``_cgit_row`` (32 hex digits) of the row with id ``key`` in the staged ``path``."""
    table = staged(repo, path)
    hi, lo = binary_to_lanes(table.column("_cgit_row"))
    i = table.column("id").to_pylist().index(key)
    return f"{int(hi[i]):016x}{int(lo[i]):016x}"


def row_pairs(repo: Repo, path: str) -> set[tuple[int, int]]:
    hi, lo = binary_to_lanes(staged(repo, path).column("_cgit_row"))
    return set(zip(hi.tolist(), lo.tolist()))
