"""The determinism promises of issue 6, each tested on real repositories and real Parquet."""

from __future__ import annotations

import random
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from mixhelp import SMALL_ORDER, make_mix, row_ids, shares_by_source, spec_doc, stream

from corpusgit import Repo
from corpusgit.add import add
from corpusgit.history import commit
from corpusgit.mix import open as open_mix
from corpusgit.mix.access import MixData
from corpusgit.mix.storage import StoredMix
from corpusgit.objects import Commit, Tree, TreeEntry, read_commit, read_tree
from corpusgit.progress import NULL_PROGRESS
from corpusgit.revparse import resolve_table
from corpusgit.table.chunking import ChunkParams
from corpusgit.table.ingest import TableIngest


def test_two_processes_materialise_byte_identical_shards(corpus: Repo, mix: StoredMix, tmp_path: Path) -> None:
    outs = [tmp_path / "run-a", tmp_path / "run-b"]
    for out in outs:
        subprocess.run([sys.executable, "-m", "corpusgit", "mix", "materialize", mix.id, "-o", str(out), "-q"],
                       cwd=corpus.root, check=True, capture_output=True)
    files = sorted(p.name for p in outs[0].iterdir())
    assert files == sorted(p.name for p in outs[1].iterdir()) and len(files) > 2
    for name in files:
        assert (outs[0] / name).read_bytes() == (outs[1] / name).read_bytes(), name


def comparable(records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Records as tuples, NaN made equal to itself (score is NaN in some rows)."""
    return [tuple("NaN" if isinstance(v, float) and v != v else v for v in r.values()) for r in records]


def test_resume_from_k_equals_the_uninterrupted_stream(corpus: Repo, mix: StoredMix) -> None:
    full = comparable(list(open_mix(mix.id, corpus)))
    for k in (0, 1, 777, 1024, len(full) - 1, len(full)):
        reader = open_mix(mix.id, corpus, batch_size=256)
        it = iter(reader)
        head = [next(it) for _ in range(k)]
        state = reader.state_dict()
        resumed = open_mix(mix.id, corpus)
        resumed.load_state_dict(state)
        assert comparable(head) == full[:k]
        assert comparable(list(resumed)) == full[k:]


def test_resume_by_batches_and_within_a_shard(corpus: Repo, mix: StoredMix) -> None:
    shard = open_mix(mix.id, corpus).shard(1, 3)
    whole = pa.Table.from_batches(list(shard.batches(100)))
    shard = open_mix(mix.id, corpus).shard(1, 3)
    batches = shard.batches(100)
    first = [next(batches) for _ in range(4)]
    state = shard.state_dict()
    assert state["consumed"] == 400 and state["offset"] == 1 and state["stride"] == 3
    again = open_mix(mix.id, corpus).shard(1, 3)
    again.load_state_dict(state)
    rest = list(again.batches(64))
    assert row_ids(pa.Table.from_batches(first + rest)) == row_ids(whole)


def test_union_of_shards_over_ranks_and_workers_is_the_stream(corpus: Repo, mix: StoredMix) -> None:
    full = row_ids(stream(corpus, mix))
    world, workers = 3, 2
    seen: dict[int, bytes] = {}
    for rank in range(world):
        for worker in range(workers):
            part = open_mix(mix.id, corpus).shard(rank, world).split_for_worker(worker, workers)
            ids = [r["_cgit_row"] for r in part]
            positions = part.indices(0, len(part)).tolist()
            assert len(ids) == len(positions) == len(part)
            for pos, rid in zip(positions, ids):
                assert pos not in seen  # no sample is read twice
                seen[pos] = rid
    assert sorted(seen) == list(range(len(full)))  # none is lost
    assert [seen[i] for i in range(len(full))] == full


def rechunk(repo: Repo, rev: str, paths: list[str], branch: str) -> None:
    """Store the same tables again with much smaller chunks (what a repack does) on ``branch``."""
    head = repo.refs.read("refs/heads/" + rev)
    assert head is not None
    tree = read_tree(repo.store, read_commit(repo.store, head).tree)
    entries = dict(tree.entries)
    for path in paths:
        table = resolve_table(repo, rev, path)
        ingest = TableIngest(repo.store, table.schema, [tuple(table.schema.names)], [None],
                             params=ChunkParams(min_bytes=8_000, target_bytes=30_000, max_bytes=200_000, max_rows=300))
        for batch in repo.read_table(rev, path):
            ingest.feed(batch)
        entries[path] = TreeEntry("table", repo.store.put_meta(ingest.finish().to_json()))
    old = read_commit(repo.store, head)
    tree_id = repo.store.put_meta(Tree(entries).to_json())
    new = Commit(tree_id, (head,), old.author, old.time + 1, 0, "rechunk\n")
    repo.refs.update("refs/heads/" + branch, repo.store.put_meta(new.to_json()), None, "rechunk")


def chunk_ids(repo: Repo, stored: StoredMix) -> set[str]:
    return {c.id for tables in MixData(repo, stored).tables for _, t in tables for c in t.chunk_refs()}


def on_ref(ref: str) -> dict[str, Any]:
    doc = spec_doc()
    for s in doc["sources"]:
        s["ref"] = ref
    return doc


def test_sequence_does_not_depend_on_chunk_layout(
    corpus: Repo, mix: StoredMix, tmp_path: Path, make_table: Callable[..., pa.Table], monkeypatch: pytest.MonkeyPatch,
) -> None:
    want = stream(corpus, mix)
    # 1. the same tables re-chunked much finer, as a repack would
    rechunk(corpus, "main", ["data/web/part-0.parquet", "data/web/part-1.parquet", "data/books/all.parquet"], "fine")
    fine = make_mix(corpus, on_ref("fine"))
    assert fine.id != mix.id and not chunk_ids(corpus, fine) & chunk_ids(corpus, mix)
    # 2. another repository: the same rows re-sharded into three files with other row groups,
    #    and books arriving in two commits, so its table reuses the first commit's chunks
    other = Repo.init(tmp_path / "other")
    monkeypatch.chdir(other.root)
    web = make_table(rows=6000, seed=0)
    books = make_table(rows=1500, seed=1)
    (other.root / "data/web").mkdir(parents=True)
    (other.root / "data/books").mkdir(parents=True)
    pq.write_table(books.slice(0, 400), other.root / "data/books/all.parquet", row_group_size=97)
    add(other, ["data"])
    commit(other, "first books")
    for i, (a, b) in enumerate([(0, 1900), (1900, 4100), (4100, 6000)]):
        pq.write_table(web.slice(a, b - a), other.root / f"data/web/part-{i}.parquet", row_group_size=333)
    pq.write_table(books, other.root / "data/books/all.parquet", row_group_size=1000)
    add(other, ["data"])
    commit(other, "all")
    resharded = make_mix(other)
    assert not chunk_ids(other, resharded) & chunk_ids(corpus, mix)
    for got in (stream(corpus, fine), stream(other, resharded)):
        assert row_ids(got) == row_ids(want)
        assert got.column("text").equals(want.column("text")) and got.column("_source").equals(want.column("_source"))


def test_weights_are_honoured_within_one_percent(corpus: Repo, make_table: Callable[..., pa.Table], write_parquet: Callable[..., Path]) -> None:
    long_docs = make_table(rows=1200, seed=4)
    long_docs = long_docs.set_column(1, "text", pa.array([t * 3 for t in long_docs.column("text").to_pylist()]))
    write_parquet("data/long/x.parquet", long_docs)
    add(corpus, ["data"])
    commit(corpus, "long documents")
    doc = spec_doc(budget={"tokens": "300k"})
    doc["sources"].append({"name": "long", "path": "data/long", "ref": "main", "weight": 0.5})
    weights = {"web": 0.7, "books": 0.3, "long": 0.5}
    table = stream(corpus, make_mix(corpus, doc))
    tokens = np.array([(len(t) + 3) // 4 for t in table.column("text").to_pylist()])
    got = shares_by_source(table, tokens)
    for name, w in weights.items():
        assert got[name] == pytest.approx(w / sum(weights.values()), rel=0.01)
    rows = stream(corpus, make_mix(corpus, doc | {"budget": {"rows": 2001}}))
    assert {k: round(v * 2001) for k, v in shares_by_source(rows).items()} == {"web": 934, "books": 400, "long": 667}


def test_upsampling_uses_a_fresh_deterministic_order_per_epoch(corpus: Repo, tmp_path: Path, make_table: Callable[..., pa.Table], monkeypatch: pytest.MonkeyPatch) -> None:
    doc = spec_doc(budget={"rows": 3600}, sources=[{"name": "books", "path": "data/books", "ref": "main", "weight": 1, "max_epochs": 2.5}])
    stored = make_mix(corpus, doc)
    ids = row_ids(stream(corpus, stored))
    epochs = MixData(corpus, stored).plan_at(np.arange(len(ids)))[2].tolist()
    assert epochs == [0] * 1500 + [1] * 1500 + [2] * 600
    e0, e1, e2 = ids[:1500], ids[1500:3000], ids[3000:]
    assert len(set(e0)) == 1500 and set(e0) == set(e1) and set(e2) < set(e0) and len(set(e2)) == 600
    assert e0 != e1 and e1[:600] != e2
    # the same rows in another repository replay the same epochs
    other = Repo.init(tmp_path / "again")
    monkeypatch.chdir(other.root)
    (other.root / "data/books").mkdir(parents=True)
    pq.write_table(make_table(rows=1500, seed=1), other.root / "data/books/all.parquet")
    add(other, ["data"])
    commit(other, "books")
    assert row_ids(stream(other, make_mix(other, doc))) == ids


def test_no_rng_is_used(corpus: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sampling must not touch numpy's or Python's random streams: they may change across releases."""
    def forbidden(*_: object, **__: object) -> None:
        raise AssertionError("a mix used an RNG")

    for name in ("default_rng", "seed", "random", "rand", "randint", "permutation", "shuffle", "choice", "RandomState", "Generator"):
        monkeypatch.setattr(np.random, name, forbidden)
    for name in ("random", "shuffle", "sample", "choice", "choices", "randint", "randrange", "seed"):
        monkeypatch.setattr(random, name, forbidden)
    stored = make_mix(corpus, spec_doc(seed=123))
    reader = open_mix(stored.id, corpus).shard(0, 2)
    assert len(list(reader)) == (stored.samples + 1) // 2


def test_pinned_sequence(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    """A corpus built without any RNG, and the ids of its first samples: drift fails loudly."""
    monkeypatch.chdir(repo.root)
    (repo.root / "data/a").mkdir(parents=True)
    (repo.root / "data/b").mkdir(parents=True)
    words = "alpha beta gamma delta epsilon zeta eta theta iota kappa".split()
    for name, n, base in (("a", 400, 0), ("b", 200, 10_000)):
        texts = [" ".join(words[(i * 7 + k) % 10] for k in range(5 + i % 40)) for i in range(n)]
        pq.write_table(pa.table({"id": list(range(base, base + n)), "text": texts}), repo.root / f"data/{name}/x.parquet")
    add(repo, ["data"], NULL_PROGRESS)
    commit(repo, "pinned")
    doc = {"seed": 2026, "budget": {"rows": 500}, "order": dict(SMALL_ORDER, block_bytes="4KiB"),
           "sources": [{"path": "data/a", "weight": 2}, {"path": "data/b", "weight": 1, "max_epochs": 2}]}
    table = stream(repo, make_mix(repo, doc))
    assert table.column("id").to_pylist()[:12] == [68, 10039, 72, 49, 10058, 62, 256, 10004, 104, 258, 10037, 53]
