"""Per-chunk facts: cached by chunk id, gathered exactly through any segment layout (partial
chunks after filters, several column groups), and only new chunks measured after an append."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpusgit import Repo
from corpusgit.quality.facts import Fact, FactStore, compute_fact
from corpusgit.quality.table import TableData
from corpusgit.revparse import resolve_table
from corpusgit.table.hashing import binary_to_lanes
from corpusgit.table.model import TableObject
from corpusgit.table.schema import ROW_HASH_COLUMN

ROWS = 30_000  # ~15 MB of text: a few default-sized chunks, so layouts have several
PATH = "data/part-0.parquet"
FACTS = [Fact("chars", "text"), Fact("words", "text"), Fact("bytes", "text"), Fact("texthash", "text"), Fact("pii", "text"),
         Fact("encoding", "text"), Fact("nulls", "score"), Fact("category", "lang"), Fact("rowhash")]


_WORDS = np.array("the of and to in is that for data model token corpus filter shard version row chunk train mix quality".split())
_EXTRAS = np.array(["", "", "", " 数据集训练语料", " mail me: a.b@example.com", " café naïve", " caf\ufffd", " Ã©tÃ©"])


def build(rows: int) -> pa.Table:
    """Deterministic corpus rows (~500 bytes of text each) with a nullable float column."""
    rng = np.random.default_rng(0)
    words = _WORDS[rng.integers(0, len(_WORDS), size=(rows, 80))]
    extras = _EXTRAS[rng.integers(0, len(_EXTRAS), size=rows)]
    texts = [f"doc {i}: {' '.join(w)}{e}" for i, (w, e) in enumerate(zip(words, extras))]
    score = rng.random(rows)
    return pa.table({
        "id": pa.array(np.arange(rows), pa.int64()),
        "text": pa.array(texts, pa.string()),
        "lang": pa.array(np.array(["en", "zh", "de"])[rng.integers(0, 3, size=rows)], pa.string()),
        "score": pa.array(score, pa.float64(), mask=rng.random(rows) < 0.03),
    })


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pa.Table]:
    """v0 committed once per module; each test works on a copy (building it is the slow part)."""
    import os

    root = tmp_path_factory.mktemp("template") / "repo"
    table = build(ROWS)
    os.environ.setdefault("CGIT_AUTHOR_NAME", "Test Author")
    os.environ.setdefault("CGIT_AUTHOR_EMAIL", "test@example.com")
    repo = Repo.init(root)
    (root / "data").mkdir()
    pq.write_table(table, root / PATH)
    repo.add([root / PATH])
    repo.commit("v0", no_verify=True)
    return root, table


@pytest.fixture
def base(repo: Repo, template: tuple[Path, pa.Table]) -> pa.Table:
    import shutil

    shutil.rmtree(repo.root)
    shutil.copytree(template[0], repo.root)
    return template[1]


def data(repo: Repo, rev: str, cache: bool = True) -> TableData:
    table = resolve_table(repo, rev, PATH)
    return TableData.from_object(repo.store, PATH, table, FactStore(repo.cgit / "cache" / "quality" if cache else None))


def direct(repo: Repo, rev: str, fact: Fact) -> dict[str, np.ndarray]:
    """The fact computed on the whole materialised table: what gathering must reproduce."""
    table = repo.read_table(rev, PATH, with_row_hash=True).read_all()
    return compute_fact(fact, table)


def test_facts_are_cached_by_chunk_id(repo: Repo, base: pa.Table) -> None:
    first = data(repo, "HEAD")
    chunks = len(first.layouts[0].keys)
    assert chunks >= 2
    first.facts.ensure(first.work(FACTS))
    assert (first.facts.chunks_computed, first.facts.chunks_cached) == (chunks, 0)
    second = data(repo, "HEAD")
    second.facts.ensure(second.work(FACTS))
    assert (second.facts.chunks_computed, second.facts.chunks_cached) == (0, chunks)
    for fact in FACTS:
        a, b = first.fact(fact), second.fact(fact)
        assert a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def test_partial_chunks_after_a_filter_give_exact_facts(repo: Repo, write_parquet: Callable[..., Path], base: pa.Table) -> None:
    keep = np.random.default_rng(3).random(ROWS) >= 0.1
    write_parquet(PATH, base.filter(pa.array(keep)))
    repo.add([repo.root / PATH])
    repo.commit("filter", no_verify=True)
    table = data(repo, "HEAD")
    assert table.layouts[0].row_index() is not None  # segments reference parts of chunks
    assert table.num_rows == int(keep.sum())
    for fact in FACTS:
        got = table.fact(fact)
        want = direct(repo, "HEAD", fact)
        for name in want:
            if name == "vocab":
                continue
            if name == "codes":
                assert np.array_equal(got["vocab"][got["codes"]], want["vocab"][want["codes"]]), fact
            else:
                assert np.array_equal(got[name], want[name]), (fact, name)


def test_a_new_column_group_reuses_text_facts_and_row_ids_sum_groups(repo: Repo, write_parquet: Callable[..., Path], base: pa.Table) -> None:
    warm = data(repo, "HEAD")
    warm.facts.ensure(warm.work([Fact("chars", "text"), Fact("rowhash")]))
    write_parquet(PATH, base.append_column("quality", pa.array(np.arange(ROWS) % 7, pa.int64())))
    repo.add([repo.root / PATH])
    repo.commit("add a column", no_verify=True)
    table = data(repo, "HEAD")
    assert len(table.layouts) == 2
    table.facts.ensure(table.work([Fact("chars", "text")]))
    assert table.facts.chunks_computed == 0  # the text group's chunks are the old ones
    ids = table.fact(Fact("rowhash"))
    want = repo.read_table("HEAD", PATH, columns=[], with_row_hash=True).read_all().column(ROW_HASH_COLUMN)
    hi, lo = binary_to_lanes(want)
    assert np.array_equal(ids["hi"], hi) and np.array_equal(ids["lo"], lo)
    assert table.row_ids([0])[0] == f"{int(hi[0]):016x}{int(lo[0]):016x}"
    assert table.fact(Fact("nulls", "quality"))["null"].sum() == 0


def test_a_damaged_cache_file_is_recomputed(repo: Repo, base: pa.Table) -> None:
    first = data(repo, "HEAD")
    want = first.fact(Fact("chars", "text"))["n"]
    files = sorted((repo.cgit / "cache" / "quality").rglob("*.facts"))
    assert len(files) == len(first.layouts[0].keys)
    files[0].write_bytes(b"not a facts file")
    torn = bytearray(files[1].read_bytes())
    torn[-1] ^= 0xFF  # a flipped byte in the arrays: the checksum catches it
    files[1].write_bytes(bytes(torn))
    again = data(repo, "HEAD")
    assert np.array_equal(again.fact(Fact("chars", "text"))["n"], want)
    assert again.facts.chunks_computed == 2
    third = data(repo, "HEAD")
    served = third.facts.get(third.layouts[0], 0, Fact("chars", "text"))["n"]
    assert third.facts.chunks_cached == len(third.layouts[0].keys) and not served.flags.writeable  # cached facts are read-only views


def test_rows_are_fetched_through_segments(repo: Repo, write_parquet: Callable[..., Path], base: pa.Table) -> None:
    write_parquet(PATH, base.take(pa.array(np.arange(ROWS - 1, -1, -3))))  # reversed and thinned: many segments
    repo.add([repo.root / PATH])
    staged = repo.read_index().entries[PATH].id
    table = TableData.from_object(repo.store, PATH, TableObject.from_json(repo.store.get_meta(staged)), FactStore(None))
    rows = [0, 1, table.num_rows - 1]
    got = table.fetch(rows, ["id", "text"])
    assert [r["id"] for r in got] == [ROWS - 1, ROWS - 4, (ROWS - 1) % 3]


def test_empty_table_has_empty_facts(tmp_path: Path) -> None:
    path = tmp_path / "empty.parquet"
    pq.write_table(pa.table({"text": pa.array([], pa.string())}), path)
    table = TableData.from_file(path, "empty.parquet", (), FactStore(None))
    assert table.num_rows == 0
    for fact in (Fact("chars", "text"), Fact("pii", "text"), Fact("lang", "text"), Fact("rowhash")):
        assert all(len(a) == 0 for name, a in table.fact(fact).items() if name != "vocab")


def test_plain_files_row_groups_and_jsonl_match(tmp_path: Path) -> None:
    rows = pa.table({"id": list(range(50)), "text": [f"row {i} mail{i}@example.com" if i % 10 == 0 else f"row {i}" for i in range(50)]})
    pq.write_table(rows, tmp_path / "t.parquet", row_group_size=7)
    (tmp_path / "t.jsonl").write_text("\n".join(f'{{"id": {r["id"]}, "text": "{r["text"]}"}}' for r in rows.to_pylist()) + "\n")
    parquet = TableData.from_file(tmp_path / "t.parquet", "t.parquet", (), FactStore(None))
    jsonl = TableData.from_file(tmp_path / "t.jsonl", "t.jsonl", (), FactStore(None))
    assert len(parquet.layouts[0].keys) == 8
    for fact in (Fact("pii", "text"), Fact("chars", "text"), Fact("rowhash")):
        a, b = parquet.fact(fact), jsonl.fact(fact)
        assert all(np.array_equal(a[k], b[k]) for k in a)
    assert parquet.fact(Fact("pii", "text"))["email"].sum() == 5
    assert parquet.fetch([49], ["text"]) == [{"text": "row 49"}]
    assert parquet.read(["id"]).read_all().column("id").to_pylist() == list(range(50))
