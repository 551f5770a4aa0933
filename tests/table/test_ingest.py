"""Ingest = match, then store: every common corpus edit costs about what changed, and reads of the
resulting fragmented tables are exact and streaming."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from corpusgit import Repo
from corpusgit.table.hashing import lanes_to_binary, row_lanes
from corpusgit.table import reader
from corpusgit.table.model import TableObject
from corpusgit.table.schema import ROW_HASH_COLUMN

ROWS = 30_000  # ~15 MB of text: a few default-sized chunks
PATH = "data/part-0.parquet"


def table_at(repo: Repo, rel: str, rev: str | None = None) -> TableObject:
    oid = repo.read_index().entries[rel].id if rev is None else dict(_tree(repo, rev))[rel]
    return TableObject.from_json(repo.store.get_meta(oid))


def _tree(repo: Repo, rev: str) -> list[tuple[str, str]]:
    tree = repo.store.get_meta(repo.read_commit(rev).tree)
    return [(p, i) for p, _k, i, _m in tree["entries"]]


def chunk_rows(table: TableObject) -> dict[str, int]:
    return {ref.id: ref.rows for ref in table.chunk_refs()}


def new_chunk_rows(before: list[TableObject], after: TableObject) -> int:
    """Rows stored in chunks that no earlier version had."""
    old = {cid for t in before for cid in chunk_rows(t)}
    return sum(rows for cid, rows in chunk_rows(after).items() if cid not in old)


def assert_rows_equal(got: pa.Table, expected: pa.Table) -> None:
    """Exact equality, with NaN equal to NaN (the corpus scores hold some)."""
    assert got.schema == expected.schema
    for name in expected.column_names:
        a, b = got.column(name), expected.column(name)
        if pa.types.is_floating(a.type):
            assert pc.is_nan(a).equals(pc.is_nan(b)), name
            a, b = pc.if_else(pc.is_nan(a), 0.0, a), pc.if_else(pc.is_nan(b), 0.0, b)
        assert a.equals(b), name


def read(repo: Repo, rel: str, **kwargs: object) -> pa.Table:
    return repo.read_table("HEAD", rel, **kwargs).read_all()  # type: ignore[arg-type]


@pytest.fixture
def base(repo: Repo, write_parquet: Callable[..., Path], make_table: Callable[..., pa.Table]) -> tuple[pa.Table, int]:
    """The first version committed; returns it and the bytes that first add stored."""
    table = make_table(ROWS)
    write_parquet(PATH, table)
    stored = repo.add([repo.root / "data"]).new_bytes
    repo.commit("base")
    assert len(table_at(repo, PATH).chunk_refs()) >= 2
    return table, stored


def add(repo: Repo, write_parquet: Callable[..., Path], table: pa.Table, rel: str = PATH) -> int:
    write_parquet(rel, table)
    return repo.add([repo.root / "data"]).new_bytes


def scattered_mask(n: int, fraction: float, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random(n) < fraction


# -- storage cost of common edits -----------------------------------------------------------------------------


def test_scattered_filter_stores_no_new_chunks(repo: Repo, write_parquet: Callable[..., Path], base: tuple[pa.Table, int]) -> None:
    table, stored = base
    before = table_at(repo, PATH)
    kept = table.filter(pa.array(~scattered_mask(ROWS, 0.10, seed=1)))
    cost = add(repo, write_parquet, kept)
    after = table_at(repo, PATH)
    assert new_chunk_rows([before], after) == 0
    assert set(chunk_rows(after)) <= set(chunk_rows(before))
    assert after.num_segments > 1_000  # thousands of holes...
    assert cost < 30 * after.num_segments + 4096  # ...for a few bytes each
    assert cost < stored / 100
    repo.commit("filter")
    assert_rows_equal(read(repo, PATH), kept)


def test_undoing_a_filter_stores_nothing(repo: Repo, write_parquet: Callable[..., Path], base: tuple[pa.Table, int]) -> None:
    table, _ = base
    add(repo, write_parquet, table.filter(pa.array(~scattered_mask(ROWS, 0.3, seed=2))))
    repo.commit("filter")
    cost = add(repo, write_parquet, table)
    assert new_chunk_rows([table_at(repo, PATH, "HEAD~1")], table_at(repo, PATH)) == 0
    assert cost < 4096
    assert table_at(repo, PATH).to_json() == table_at(repo, PATH, "HEAD~1").to_json()  # same id as the original


def test_append_stores_only_the_new_rows(
    repo: Repo, write_parquet: Callable[..., Path], base: tuple[pa.Table, int], make_table: Callable[..., pa.Table]
) -> None:
    table, stored = base
    extra = make_table(3_000, seed=1)
    cost = add(repo, write_parquet, pa.concat_tables([table, extra]))
    assert new_chunk_rows([table_at(repo, PATH, "HEAD")], table_at(repo, PATH)) == 3_000
    assert cost < stored * 0.1 * 1.5  # 10% more rows, compressed alike, plus segment overhead
    repo.commit("append")
    assert_rows_equal(read(repo, PATH), pa.concat_tables([table, extra]))


def test_modified_rows_store_about_those_rows(repo: Repo, write_parquet: Callable[..., Path], base: tuple[pa.Table, int]) -> None:
    table, stored = base
    hit = scattered_mask(ROWS, 0.02, seed=3)
    texts = table.column("text")
    edited = pc.if_else(pa.array(hit), pc.binary_join_element_wise(texts, pa.scalar("[redacted]"), " "), texts)
    changed = table.set_column(1, "text", edited)
    cost = add(repo, write_parquet, changed)
    assert new_chunk_rows([table_at(repo, PATH, "HEAD")], table_at(repo, PATH)) == int(hit.sum())
    assert cost < stored * 0.02 * 2.5
    repo.commit("redact")
    assert_rows_equal(read(repo, PATH), changed)


def test_adding_a_column_stores_only_that_column(repo: Repo, write_parquet: Callable[..., Path], base: tuple[pa.Table, int]) -> None:
    table, stored = base
    before = table_at(repo, PATH)
    quality = pa.array(np.random.default_rng(4).random(ROWS))
    wider = table.append_column("quality", quality)
    cost = add(repo, write_parquet, wider)
    after = table_at(repo, PATH)
    assert [g.columns for g in after.groups] == [tuple(table.column_names), ("quality",)]
    assert after.groups[0].to_json() == before.groups[0].to_json()  # the old group is reused as is
    assert cost < ROWS * (8 + 16) * 1.25 + 65_536  # the float and its row hash, barely compressible
    assert cost < stored / 4
    repo.commit("score")
    assert_rows_equal(read(repo, PATH), wider)
    assert_rows_equal(read(repo, PATH, columns=["quality", "id"]), wider.select(["quality", "id"]))
    hashed = read(repo, PATH, with_row_hash=True)
    hi, lo = row_lanes(wider)  # the whole row's hash is the sum of its groups' hashes
    assert hashed.column(ROW_HASH_COLUMN).to_pylist() == lanes_to_binary(hi, lo).to_pylist()


def test_reshard_of_the_same_rows_stores_nothing(repo: Repo, write_parquet: Callable[..., Path], make_table: Callable[..., pa.Table]) -> None:
    table = make_table(ROWS, seed=5)
    for i in range(3):
        write_parquet(f"data/part-{i}.parquet", table.slice(i * 10_000, 10_000))
    stored = repo.add([repo.root / "data"]).new_bytes
    repo.commit("three shards")
    before = [table_at(repo, f"data/part-{i}.parquet") for i in range(3)]
    for i in range(3):
        (repo.root / f"data/part-{i}.parquet").unlink()
    blocks = np.arange(ROWS).reshape(-1, 500)  # shards concatenated in another order, then
    order = np.concatenate([blocks[i] for i in np.random.default_rng(8).permutation(len(blocks))])  # cut at new places
    reordered = table.take(pa.array(order))
    for i in range(4):
        write_parquet(f"data/shard-{i:02d}.parquet", reordered.slice(i * 7_500, 7_500), row_group_size=1_000)
    result = repo.add([repo.root / "data"])
    after = [table_at(repo, f"data/shard-{i:02d}.parquet") for i in range(4)]
    assert sum(new_chunk_rows(before, t) for t in after) == 0
    assert result.new_bytes < stored / 50
    assert sorted(c.path for c in result.added if c.change == "deleted") == [f"data/part-{i}.parquet" for i in range(3)]
    repo.commit("four shards")
    got = pa.concat_tables([read(repo, f"data/shard-{i:02d}.parquet") for i in range(4)])
    assert_rows_equal(got, reordered)


def test_a_copy_in_another_directory_dedups_by_chunk_id(repo: Repo, write_parquet: Callable[..., Path], base: tuple[pa.Table, int]) -> None:
    """Rows are matched within a dataset directory only, but content-defined chunks of the same
    rows get the same ids, so a copied dataset still costs only its table object."""
    table, stored = base
    write_parquet("other/part-0.parquet", table, row_group_size=4_000)
    cost = repo.add([repo.root / "other"]).new_bytes
    assert cost < stored / 100
    assert table_at(repo, "other/part-0.parquet").to_json() == table_at(repo, PATH).to_json()


# -- reading fragmented tables ------------------------------------------------------------------------------


def test_fragmented_table_reads_exact_rows_in_order(repo: Repo, write_parquet: Callable[..., Path], base: tuple[pa.Table, int]) -> None:
    table, _ = base
    wider = table.append_column("quality", pa.array(np.arange(ROWS, dtype=np.float64)))
    add(repo, write_parquet, wider)
    repo.commit("two column groups")
    kept = wider.filter(pa.array(~scattered_mask(ROWS, 0.1, seed=6)))
    rng = np.random.default_rng(7)
    shuffled = kept.take(pa.array(rng.permutation(kept.num_rows)[:8_000]))
    fragmented = pa.concat_tables([kept.slice(0, 5_000), shuffled, kept.slice(20_000)])
    add(repo, write_parquet, fragmented)
    repo.commit("fragmented")
    current = table_at(repo, PATH)
    assert new_chunk_rows([table_at(repo, PATH, "HEAD~1")], current) == 0
    assert all(g.num_segments > 5_000 for g in current.groups)

    batches = list(repo.read_table("HEAD", PATH))
    assert all(b.schema == batches[0].schema for b in batches)
    got = pa.Table.from_batches(batches)
    assert got.column("id").to_pylist() == fragmented.column("id").to_pylist()
    assert_rows_equal(got, fragmented)
    assert read(repo, PATH, columns=["quality"]).column(0).to_pylist() == fragmented.column("quality").to_pylist()
    hashed = read(repo, PATH, columns=["id"], with_row_hash=True)
    hi, lo = row_lanes(fragmented)
    assert hashed.column(ROW_HASH_COLUMN).to_pylist() == lanes_to_binary(hi, lo).to_pylist()


def test_shuffled_table_reads_exact_rows_window_by_window(
    repo: Repo, write_parquet: Callable[..., Path], base: tuple[pa.Table, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A permutation of every row jumps between chunks at each row: it is read in windows that
    gather from each chunk once, and several windows must still join up exactly."""
    table, _ = base
    wider = table.append_column("quality", pa.array(np.arange(ROWS, dtype=np.float64)))
    add(repo, write_parquet, wider)
    repo.commit("two column groups")
    shuffled = wider.take(pa.array(np.random.default_rng(9).permutation(ROWS)))
    assert add(repo, write_parquet, shuffled) < wider.nbytes / 50
    repo.commit("shuffled")
    current = table_at(repo, PATH)
    assert len(current.groups[0].chunks) >= 2 and all(g.num_segments > ROWS // 2 for g in current.groups)
    monkeypatch.setattr(reader, "WINDOW_BYTES", shuffled.nbytes // 7)
    monkeypatch.setattr(reader, "WINDOW_BATCH_BYTES", shuffled.nbytes // 40)

    batches = list(repo.read_table("HEAD", PATH, with_row_hash=True))
    assert len(batches) >= 7
    got = pa.Table.from_batches(batches)
    assert_rows_equal(got.drop_columns([ROW_HASH_COLUMN]), shuffled)
    hi, lo = row_lanes(shuffled)
    assert got.column(ROW_HASH_COLUMN).to_pylist() == lanes_to_binary(hi, lo).to_pylist()
    assert read(repo, PATH, columns=["quality"]).column(0).to_pylist() == shuffled.column("quality").to_pylist()


def test_shuffle_across_chunks_of_differing_nullability(repo: Repo, write_parquet: Callable[..., Path], make_table: Callable[..., pa.Table]) -> None:
    """A version written by one tool declares columns NOT NULL, the next by another does not:
    rows gathered from both kinds of chunk still read as one table."""
    first = make_table(ROWS)
    strict = first.cast(pa.schema([f.with_nullable(first.column(f.name).null_count > 0) for f in first.schema]))
    add(repo, write_parquet, strict)
    repo.commit("strict")
    more = make_table(ROWS // 2).slice(0, ROWS // 2)
    more = more.set_column(0, "id", pc.add(more.column("id"), ROWS))
    both = pa.concat_tables([first, more])
    shuffled = both.take(pa.array(np.random.default_rng(11).permutation(both.num_rows)))
    add(repo, write_parquet, shuffled)
    repo.commit("shuffled")
    assert_rows_equal(read(repo, PATH), shuffled)


# -- memory: ingest and read stream --------------------------------------------------------------------------

_MEASURE = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    import pyarrow as pa
    from corpusgit.ingest_files import open_parquet
    from corpusgit.store.objects import ObjectStore
    from corpusgit.table.chunking import ChunkParams
    from corpusgit.table.ingest import TableIngest
    from corpusgit.table.model import TableObject
    from corpusgit.table.reader import read_table
    from corpusgit.table.schema import canonical_schema

    src, root, mode = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
    store = ObjectStore(root / "objects", root / "tmp")
    pool = pa.default_memory_pool()
    if mode == "ingest":
        pf = open_parquet(src, src.name)
        schema = canonical_schema(pf.schema_arrow)
        params = ChunkParams(min_bytes=1 << 19, target_bytes=1 << 19, max_bytes=2 << 20, max_rows=1 << 20)
        job = TableIngest(store, schema, [tuple(schema.names)], [None], params=params)
        for batch in pf.iter_batches(batch_size=8192):
            job.feed(batch)
        table = job.finish()
        (root / "id").write_text(store.put_meta(table.to_json()))
        rows = table.num_rows
    else:
        table = TableObject.from_json(store.get_meta((root / "id").read_text()))
        if mode == "shuffled":  # every row its own segment, in a random order
            import dataclasses
            import numpy as np
            from corpusgit.table import reader
            from corpusgit.table.reader import address, segment_starts
            reader.WINDOW_BYTES, reader.WINDOW_BATCH_BYTES = 4 << 20, 2 << 20
            (group,) = table.groups
            chunk, row = address(group, np.random.default_rng(3).permutation(table.num_rows), segment_starts(group))
            group = dataclasses.replace(group, seg_chunk=chunk, seg_start=row, seg_rows=np.ones(len(row), np.int64))
            table = dataclasses.replace(table, groups=(group,))
        rows = sum(batch.num_rows for batch in read_table(store, table))
    print(json.dumps({"peak": pool.max_memory(), "rows": rows}))
    """
)


def _measure(src: Path, root: Path, mode: str) -> dict[str, int]:
    """Run in a fresh interpreter: Arrow's peak counter only ever grows within a process."""
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(src), str(root), mode], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_ingest_and_read_stream_in_bounded_memory(tmp_path: Path, make_table: Callable[..., pa.Table]) -> None:
    seed = make_table(10_000)
    parts = []
    for r in range(15):  # 15 distinct copies of 10k documents: ~80 MB, ~18 read batches of 8192 rows
        ids = pc.add(seed.column("id"), r * 10_000)
        text = pc.binary_join_element_wise(pc.cast(ids, pa.string()), seed.column("text"), " ")
        parts.append(pa.table({"id": ids, "text": text, "lang": seed.column("lang"), "score": seed.column("score")}))
    big = pa.concat_tables(parts)
    logical = big.nbytes
    src = tmp_path / "big.parquet"
    pq.write_table(big, src, row_group_size=8192)
    del big, parts
    ingest = _measure(src, tmp_path, "ingest")
    reading = _measure(src, tmp_path, "read")
    shuffled = _measure(src, tmp_path, "shuffled")
    assert ingest["rows"] == reading["rows"] == shuffled["rows"] == 150_000
    assert ingest["peak"] < 0.4 * logical, (ingest["peak"] >> 20, logical >> 20)
    assert reading["peak"] < 0.2 * logical, (reading["peak"] >> 20, logical >> 20)
    assert shuffled["peak"] < 0.25 * logical, (shuffled["peak"] >> 20, logical >> 20)
