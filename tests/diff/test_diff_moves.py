"""The dataset view of diff: rows moving between shards of one directory are moved, not removed
and added. Real Parquet, real commits; hash reads are counted to prove shared rows stay unread."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import corpusgit.diff.moves as moves
from clirun import cgit
from corpusgit import Repo
from corpusgit.add import add
from corpusgit.diff.datasets import DatasetDiff
from corpusgit.diff.tables import TableDiff
from corpusgit.diff.trees import FileDiff, diff_sides, revision_side
from corpusgit.history import commit
from corpusgit.table.model import TableObject
from corpusgit.table.positions import take_rows

Write = Callable[..., Path]
MakeTable = Callable[..., pa.Table]


@pytest.fixture
def here(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> Repo:
    monkeypatch.chdir(repo.root)
    (repo.root / "cgit.toml").write_text('[tables."data/sft/*"]\nkey = ["id"]\n')
    return repo


@pytest.fixture
def hashes_read(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """Rows whose ``_cgit_row`` the dataset diff reads, one entry per read."""
    seen: list[int] = []
    take, every = moves.take_hashes, moves.all_hashes

    def counted_take(store: object, table: TableObject, positions: np.ndarray, *rest: object) -> object:
        seen.append(len(positions))
        return take(store, table, positions, *rest)  # type: ignore[arg-type]

    def counted_all(store: object, table: TableObject, columns: object) -> object:
        seen.append(table.num_rows)
        return every(store, table, columns)  # type: ignore[arg-type]

    monkeypatch.setattr(moves, "take_hashes", counted_take)
    monkeypatch.setattr(moves, "all_hashes", counted_all)
    yield seen


def snapshot(repo: Repo, message: str) -> str:
    add(repo, ["."])
    return commit(repo, message).id


def shard(write: Write, directory: str, table: pa.Table, n: int, prefix: str) -> list[str]:
    """Write ``table`` as ``n`` contiguous shards; returns their paths."""
    step = -(-table.num_rows // n)
    paths = [f"{directory}/{prefix}-{k:02d}.parquet" for k in range(n)]
    for k, path in enumerate(paths):
        write(path, table.slice(k * step, step))
    return paths


def remove(repo: Repo, paths: list[str]) -> None:
    for path in paths:
        (repo.root / path).unlink()


def diffs(repo: Repo, a: str = "HEAD~1", b: str = "HEAD", by_path: bool = False) -> list[FileDiff]:
    return diff_sides(repo, revision_side(repo, a), revision_side(repo, b), by_path=by_path)


def only_dataset(repo: Repo) -> DatasetDiff:
    (d,) = diffs(repo)
    assert isinstance(d, DatasetDiff)
    return d


def ids_at(repo: Repo, oid: str | None, positions: np.ndarray) -> list[int]:
    assert oid is not None
    table = TableObject.from_json(repo.store.get_meta(oid))
    return list(take_rows(repo.store, table, positions, ["id"]).column("id").to_pylist())


def num_rows(repo: Repo, oid: str | None) -> int:
    return 0 if oid is None else TableObject.from_json(repo.store.get_meta(oid)).num_rows


def assert_balanced(repo: Repo, d: DatasetDiff) -> None:
    """Per file, row counts reconcile; over the dataset, moves out equal moves in."""
    assert sum(f.moved_out for f in d.files) == sum(f.moved_in for f in d.files) == d.moved
    for f in d.files:
        if f.old_path is None:
            change = num_rows(repo, f.new_id) - num_rows(repo, f.old_id)
            assert change == f.rows_added - f.rows_removed + f.moved_in - f.moved_out, f.path


def test_reshard_shows_only_moves_and_reads_no_row(here: Repo, write_parquet: Write, make_table: MakeTable, hashes_read: list[int]) -> None:
    t = make_table(rows=6000)
    old = shard(write_parquet, "data/web", t, 6, "part")
    snapshot(here, "v0")
    remove(here, old)
    shard(write_parquet, "data/web", t, 4, "shard")
    snapshot(here, "re-shard")
    d = only_dataset(here)
    assert (d.path, d.files_old, d.files_new, d.status) == ("data/web/", 6, 4, "modified")
    assert (d.moved, d.rows_added, d.rows_removed, d.rows_modified) == (6000, 0, 0, 0)
    assert {f.path: f.status for f in d.files} == {**{p: "deleted" for p in old}, **{f"data/web/shard-{k:02d}.parquet": "added" for k in range(4)}}
    assert all(f.moved_out == 1000 for f in d.files if f.status == "deleted")
    assert all(f.moved_in == 1500 for f in d.files if f.status == "added")
    assert_balanced(here, d)
    assert sum(hashes_read) == 0  # every new row points at the chunk row it had: nothing read
    text = cgit("diff", "HEAD~1", "HEAD", code=None).output
    assert "data/web/  6 files → 4 files, 6,000 rows moved between files, 0 added, 0 removed" in text
    assert "part-00" not in text  # files that only moved rows are folded into the dataset line
    stat = cgit("diff", "HEAD~1", "HEAD", "--stat", code=None).output
    assert "part-00.parquet  +0 -0 ~0 rows, 1,000 moved out" in stat
    assert "shard-03.parquet  +0 -0 ~0 rows, 1,500 moved in" in stat


def test_reshard_with_filter_lists_exactly_the_removed_rows(here: Repo, write_parquet: Write, make_table: MakeTable, hashes_read: list[int]) -> None:
    t = make_table(rows=10_000)
    old = shard(write_parquet, "data/web", t, 5, "part")
    snapshot(here, "v0")
    dropped = np.sort(np.random.default_rng(1).choice(10_000, 100, replace=False))
    keep = np.setdiff1d(np.arange(10_000), dropped)
    remove(here, old)
    shard(write_parquet, "data/web", t.take(pa.array(keep)), 3, "shard")
    snapshot(here, "re-shard and filter 1%")
    d = only_dataset(here)
    assert (d.moved, d.rows_added, d.rows_removed) == (9_900, 0, 100)
    removed_ids = [i for f in d.files for i in (ids_at(here, f.old_id, f.removed) if f.rows_removed else [])]
    assert sorted(removed_ids) == t.column("id").take(pa.array(dropped)).to_pylist()
    assert sum(hashes_read) == 100  # only the rows no reference matched
    assert_balanced(here, d)
    sample = cgit("diff", "HEAD~1", "HEAD", "--rows", "3", code=None).output
    assert sample.count("removed") >= 1 and "added" not in sample.replace("0 added", "")


def test_shuffle_across_shards_with_new_rows(here: Repo, write_parquet: Write, make_table: MakeTable) -> None:
    t = make_table(rows=3000)
    paths = shard(write_parquet, "data/web", t, 3, "part")
    snapshot(here, "v0")
    perm = np.random.default_rng(2).permutation(3000)
    extra = make_table(rows=25, seed=4)
    shuffled = pa.concat_tables([t.take(pa.array(perm)), extra])
    for k, path in enumerate(paths):  # same file names, rows scattered among them
        write_parquet(path, shuffled.take(pa.array(np.arange(k, shuffled.num_rows, 3))))
    snapshot(here, "shuffle")
    d = only_dataset(here)
    assert (d.files_old, d.files_new, d.rows_added, d.rows_removed) == (3, 3, 25, 0)
    assert d.moved == sum(f.moved_in for f in d.files) and 1500 < d.moved < 3000  # about 2/3 of rows change file
    added_ids = sorted(i for f in d.files for i in (ids_at(here, f.new_id, f.added) if f.rows_added else []))
    assert added_ids == sorted(extra.column("id").to_pylist())
    assert_balanced(here, d)
    per_path = diffs(here, by_path=True)
    assert sum(f.rows_added for f in per_path if isinstance(f, TableDiff)) == d.moved + 25  # what --by-path would claim


def test_duplicates_move_as_a_multiset(here: Repo, write_parquet: Write, make_table: MakeTable) -> None:
    t = make_table(rows=400)
    dup = t.slice(7, 1)
    write_parquet("data/web/a.parquet", pa.concat_tables([t.slice(0, 200), dup, dup, dup]))
    write_parquet("data/web/b.parquet", t.slice(200, 200))
    snapshot(here, "v0")
    write_parquet("data/web/a.parquet", t.slice(0, 200))  # one copy stays in a (row 7 itself)
    write_parquet("data/web/b.parquet", pa.concat_tables([t.slice(200, 200), dup]))  # one copy moves
    snapshot(here, "move one duplicate, drop one")
    d = only_dataset(here)
    assert (d.moved, d.rows_added, d.rows_removed) == (1, 0, 2)
    assert_balanced(here, d)


def test_duplicates_referencing_one_chunk_row(here: Repo, write_parquet: Write, make_table: MakeTable, hashes_read: list[int]) -> None:
    """Two shards pointing at the same stored row, gathered into one file holding it twice."""
    t = make_table(rows=300)
    write_parquet("data/web/a.parquet", t)
    snapshot(here, "v0")
    write_parquet("data/web/b.parquet", t.slice(0, 50))  # stored as pointers into a's chunks
    snapshot(here, "v1")
    (here.root / "data/web/a.parquet").unlink()
    (here.root / "data/web/b.parquet").unlink()
    write_parquet("data/web/c.parquet", pa.concat_tables([t, t.slice(0, 50)]))
    snapshot(here, "merge shards")
    d = only_dataset(here)
    assert (d.files_old, d.files_new, d.moved, d.rows_added, d.rows_removed) == (2, 1, 350, 0, 0)
    assert sum(hashes_read) == 200  # the 50 doubly referenced rows, on each side, by hash; 250 unread
    assert_balanced(here, d)


def test_schemas_differ_so_shards_are_not_pooled(here: Repo, write_parquet: Write, make_table: MakeTable) -> None:
    t = make_table(rows=1000)
    old = shard(write_parquet, "data/web", t, 2, "part")
    snapshot(here, "v0")
    remove(here, old)
    widened = t.append_column("n", pa.array(np.arange(1000)))
    shard(write_parquet, "data/web", widened, 2, "wide")
    snapshot(here, "re-shard with a new column")
    got = diffs(here)
    datasets = [d for d in got if isinstance(d, DatasetDiff)]
    assert [(d.status, d.moved, d.rows_removed, d.rows_added) for d in datasets] == [("deleted", 0, 1000, 0), ("added", 0, 0, 1000)]
    assert all(d.path == "data/web/" for d in datasets)


def test_schema_change_in_place_stays_per_path(here: Repo, write_parquet: Write, make_table: MakeTable) -> None:
    t = make_table(rows=600)
    paths = shard(write_parquet, "data/web", t, 2, "part")
    snapshot(here, "v0")
    for k, path in enumerate(paths):
        part = pq.read_table(here.root / path)
        write_parquet(path, part.append_column("n", pa.array(np.arange(part.num_rows))))
    snapshot(here, "add a column to every shard")
    got = diffs(here)
    assert all(isinstance(d, TableDiff) for d in got)
    assert [(d.schema_changes, d.rows_added, d.rows_removed) for d in got if isinstance(d, TableDiff)] == [(["added column n (int64)"], 0, 0)] * 2


def test_keyed_rows_modified_while_moving(here: Repo, write_parquet: Write, make_table: MakeTable) -> None:
    t = make_table(rows=2000)
    old = shard(write_parquet, "data/sft", t, 2, "part")
    snapshot(here, "v0")
    rows = t.to_pydict()
    for i in range(0, 2000, 250):  # 8 rows, half of which change file
        rows["text"][i] = rows["text"][i].upper()
    remove(here, old)
    shard(write_parquet, "data/sft", pa.table(rows, schema=t.schema), 4, "shard")
    snapshot(here, "re-shard and fix 8 texts")
    d = only_dataset(here)
    assert (d.rows_added, d.rows_removed, d.rows_modified, d.moved) == (0, 0, 8, 2000)
    assert d.cells_changed == {"text": 8}
    crossed = [f for f in d.files if f.old_path is not None]
    assert sum(f.rows_modified for f in crossed) == 8
    for f in crossed:
        assert ids_at(here, f.old_id, f.modified_old) == ids_at(here, f.new_id, f.modified_new)
    assert_balanced(here, d)
    text = cgit("diff", "HEAD~1", "HEAD", "--rows", "2", code=None).output
    assert "0 added, 0 removed, 8 modified" in text and "(moved and modified)" in text and "→" in text


def test_unchanged_shards_count_and_path_restriction_limits_pooling(here: Repo, write_parquet: Write, make_table: MakeTable) -> None:
    t = make_table(rows=900)
    a, b, c = shard(write_parquet, "data/web", t, 3, "part")
    snapshot(here, "v0")
    write_parquet(a, t.slice(0, 250))
    write_parquet(b, pa.concat_tables([t.slice(250, 50), t.slice(300, 300)]))
    snapshot(here, "move 50 rows from a to b")
    d = only_dataset(here)
    assert (d.files_old, d.files_new, d.moved, d.rows_added, d.rows_removed) == (3, 3, 50, 0, 0)
    (alone,) = diff_sides(here, revision_side(here, "HEAD~1"), revision_side(here, "HEAD"), [a])
    assert isinstance(alone, TableDiff) and (alone.rows_removed, alone.moved_out) == (50, 0)


def test_by_path_restores_per_path_output(here: Repo, write_parquet: Write, make_table: MakeTable) -> None:
    t = make_table(rows=1200)
    old = shard(write_parquet, "data/web", t, 3, "part")
    snapshot(here, "v0")
    remove(here, old)
    shard(write_parquet, "data/web", t, 2, "shard")
    snapshot(here, "re-shard")
    doc = json.loads(cgit("diff", "HEAD~1", "HEAD", "--by-path", "--json", code=None).output)
    assert [(e["path"], e["kind"], e["rows_removed"], e["rows_added"]) for e in doc] == [
        *((p, "table", 400, 0) for p in old),
        ("data/web/shard-00.parquet", "table", 0, 600),
        ("data/web/shard-01.parquet", "table", 0, 600),
    ]
    stat = cgit("diff", "HEAD~1", "HEAD", "--by-path", "--stat", code=None).output
    assert "moved" not in stat and "deleted  data/web/part-00.parquet  +0 -400 ~0 rows" in stat


def test_json_fields_per_dataset(here: Repo, write_parquet: Write, make_table: MakeTable) -> None:
    t = make_table(rows=1000)
    old = shard(write_parquet, "data/web", t, 2, "part")
    (here.root / "notes.txt").write_text("one\n")
    snapshot(here, "v0")
    remove(here, old)
    shard(write_parquet, "data/web", pa.concat_tables([t.slice(10), make_table(rows=5, seed=9)]), 2, "shard")
    (here.root / "notes.txt").write_text("two\n")
    snapshot(here, "v1")
    doc = json.loads(cgit("diff", "HEAD~1", "HEAD", "--json", code=None).output)
    assert [e["path"] for e in doc] == ["data/web/", "notes.txt"]
    ds = doc[0]
    assert {k: ds[k] for k in ("kind", "status", "files_old", "files_new", "rows_added", "rows_removed", "rows_modified", "moved")} == {
        "kind": "dataset", "status": "modified", "files_old": 2, "files_new": 2, "rows_added": 5, "rows_removed": 10, "rows_modified": 0, "moved": 990,
    }
    assert {"schema_changes", "cells_changed", "files"} <= set(ds)
    files = {f["path"]: f for f in ds["files"]}
    assert set(files) == {*old, "data/web/shard-00.parquet", "data/web/shard-01.parquet"}
    assert sum(f["rows_moved_out"] for f in files.values()) == sum(f["rows_moved_in"] for f in files.values()) == 990
    assert sum(f["rows_added"] for f in files.values()) == 5 and sum(f["rows_removed"] for f in files.values()) == 10


def test_output_writes_the_one_table_with_real_changes(here: Repo, write_parquet: Write, make_table: MakeTable, tmp_path: Path) -> None:
    t = make_table(rows=800)
    a, b = shard(write_parquet, "data/web", t, 2, "part")
    snapshot(here, "v0")
    write_parquet(a, t.slice(0, 300))  # 100 rows move to b, b loses 7
    write_parquet(b, pa.concat_tables([t.slice(300, 100), t.slice(400, 393)]))
    snapshot(here, "v1")
    out = tmp_path / "d.parquet"
    result = cgit("diff", "HEAD~1", "HEAD", "--output", str(out), code=None)
    assert result.exit_code == 0, result.output
    assert pq.read_table(out).column("_change").to_pylist() == ["removed"] * 7
