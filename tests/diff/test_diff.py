"""Row-, column- and schema-level diffs on real Parquet, through the API and the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from clirun import cgit
from corpusgit import Repo
from corpusgit.add import add
from corpusgit.diff.api import diff
from corpusgit.diff.tables import TableDiff, diff_tables
from corpusgit.history import commit, tree_of

Write = Callable[..., Path]


@pytest.fixture
def here(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> Repo:
    monkeypatch.chdir(repo.root)
    (repo.root / "cgit.toml").write_text('[tables."data/sft/*"]\nkey = ["id"]\n')
    return repo


def snapshot(repo: Repo, message: str) -> str:
    add(repo, ["."])
    return commit(repo, message).id


def table_diff(repo: Repo, a: str, b: str, path: str) -> TableDiff:
    d = diff_tables(repo.store, path, tree_of(repo, a)[path][1], tree_of(repo, b)[path][1])
    return d


def test_keyless_rows_added_and_removed(here: Repo, write_parquet: Write, make_table: Callable[..., pa.Table]) -> None:
    t = make_table(rows=3000)
    write_parquet("data/web/a.parquet", t)
    snapshot(here, "v0")
    keep = pc.not_equal(pc.bit_wise_and(t.column("id"), 15), 3)
    new = pa.concat_tables([t.filter(keep), make_table(rows=40, seed=7)])
    write_parquet("data/web/a.parquet", new)
    snapshot(here, "v1")
    d = table_diff(here, "HEAD~1", "HEAD", "data/web/a.parquet")
    removed = t.num_rows - t.filter(keep).num_rows
    assert (d.rows_removed, d.rows_added, d.rows_modified) == (removed, 40, 0)
    old_ids = pq.read_table(here.root / "data/web/a.parquet").column("id")  # new version on disk
    assert set(t.column("id").take(pa.array(d.removed)).to_pylist()).isdisjoint(old_ids.to_pylist())


def test_keyed_modified_rows_and_cell_counts(here: Repo, write_parquet: Write, make_table: Callable[..., pa.Table]) -> None:
    t = make_table(rows=2000)
    write_parquet("data/sft/a.parquet", t)
    snapshot(here, "v0")
    rows = t.to_pydict()
    for i in range(0, 2000, 100):
        rows["text"][i] = rows["text"][i].upper()
    for i in range(5, 2000, 400):
        rows["lang"][i] = "xx"
    write_parquet("data/sft/a.parquet", pa.table(rows, schema=t.schema))
    snapshot(here, "v1")
    d = table_diff(here, "HEAD~1", "HEAD", "data/sft/a.parquet")
    assert d.rows_modified == 25 and d.rows_added == 0 and d.rows_removed == 0
    assert d.cells_changed == {"text": 20, "lang": 5}


def test_schema_evolution_compares_common_columns(here: Repo, write_parquet: Write, make_table: Callable[..., pa.Table]) -> None:
    t = make_table(rows=500)
    write_parquet("data/sft/a.parquet", t)
    snapshot(here, "v0")
    evolved = t.drop_columns(["lang"]).append_column("n", pa.array(np.arange(500)))
    evolved = evolved.set_column(evolved.schema.get_field_index("score"), "score", pc.cast(evolved.column("score"), pa.float32()))
    write_parquet("data/sft/a.parquet", evolved)
    snapshot(here, "v1")
    d = table_diff(here, "HEAD~1", "HEAD", "data/sft/a.parquet")
    assert d.schema_changes == ["type of score: double -> float", "added column n (int64)", "removed column lang (string)"]
    assert (d.rows_added, d.rows_removed, d.rows_modified) == (0, 0, 0)


def test_identical_versions_and_unchanged_rows_are_not_read(here: Repo, write_parquet: Write, make_table: Callable[..., pa.Table]) -> None:
    t = make_table(rows=4000)
    write_parquet("data/web/a.parquet", t)
    snapshot(here, "v0")
    old_chunks = {p for p in here.store.root.rglob("*") if p.is_file()}
    write_parquet("data/web/a.parquet", pa.concat_tables([t, make_table(rows=10, seed=3)]))
    snapshot(here, "append")
    # The appended version shares every old row: deleting the old chunk files must not matter.
    for path in old_chunks:
        if path.read_bytes()[:4] == b"PAR1":
            path.unlink()
    d = table_diff(here, "HEAD~1", "HEAD", "data/web/a.parquet")
    assert (d.rows_added, d.rows_removed) == (10, 0)
    same = table_diff(here, "HEAD", "HEAD", "data/web/a.parquet")
    assert (same.rows_added, same.rows_removed, same.rows_modified) == (0, 0, 0)


def test_work_tree_diff_writes_no_objects(here: Repo, write_parquet: Write, make_table: Callable[..., pa.Table]) -> None:
    t = make_table(rows=1000)
    write_parquet("data/web/a.parquet", t)
    snapshot(here, "v0")
    write_parquet("data/web/a.parquet", t.slice(10))
    before = sorted(p.name for p in here.store.root.rglob("*"))
    with diff(here, []) as diffs:
        (d,) = diffs
        assert isinstance(d, TableDiff) and d.rows_removed == 10
    assert sorted(p.name for p in here.store.root.rglob("*")) == before


def test_cli_forms_json_stat_rows_output(here: Repo, write_parquet: Write, make_table: Callable[..., pa.Table], tmp_path: Path) -> None:
    t = make_table(rows=800)
    write_parquet("data/sft/a.parquet", t)
    (here.root / "notes.txt").write_text("one\ntwo\n")
    snapshot(here, "v0")
    rows = t.to_pydict()
    rows["text"][3] = "changed"
    write_parquet("data/sft/a.parquet", pa.table(rows, schema=t.schema).slice(0, 790))
    (here.root / "notes.txt").write_text("one\nthree\n")
    doc = json.loads(cgit("diff", "--json", code=None).output)
    by_path = {d["path"]: d for d in doc}
    assert by_path["data/sft/a.parquet"]["rows_removed"] == 10
    assert by_path["data/sft/a.parquet"]["rows_modified"] == 1
    assert by_path["data/sft/a.parquet"]["cells_changed"] == {"text": 1}
    assert {"path", "rows_added", "rows_removed", "rows_modified", "schema_changes", "cells_changed"} <= set(by_path["data/sft/a.parquet"])
    assert json.loads(cgit("diff", "--staged", "--json", code=None).output) == []
    stat = cgit("diff", "--stat", code=None).output
    assert "data/sft/a.parquet" in stat and "-10" in stat
    text = cgit("diff", "--", "notes.txt", code=None).output
    assert "-two" in text and "+three" in text and "a.parquet" not in text
    sample = cgit("diff", "--rows", "2", "--", "data/sft/a.parquet", code=None).output
    assert "changed" in sample and "modified" in sample
    add(here, ["."])
    out = tmp_path / "d.parquet"
    result = cgit("diff", "--staged", "--output", str(out), "--", "data/sft/a.parquet", code=None)
    assert result.exit_code == 0, result.output
    written = pq.read_table(out)
    assert sorted(written.column("_change").to_pylist()) == ["modified_new", "modified_old"] + ["removed"] * 10
    commit(here, "v1")
    between = json.loads(cgit("diff", "HEAD~1", "HEAD", "--json", code=None).output)
    assert {d["path"] for d in between} == {"data/sft/a.parquet", "notes.txt"}


def test_binary_blob_reported_as_changed(here: Repo) -> None:
    (here.root / "blob.bin").write_bytes(b"\x00\x01")
    snapshot(here, "v0")
    (here.root / "blob.bin").write_bytes(b"\x00\x02")
    doc = json.loads(cgit("diff", "--json", code=None).output)
    assert doc == [{"path": "blob.bin", "kind": "blob", "status": "modified", "old_id": doc[0]["old_id"], "new_id": doc[0]["new_id"], "binary": True}]
