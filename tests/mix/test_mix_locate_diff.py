"""locate finds exactly the documents the stream yields at an index or step; diff counts
per-source samples and the overlap of selected rows."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from mixhelp import make_mix, row_ids, spec_doc, stream

from corpusgit import Repo
from corpusgit.add import add
from corpusgit.errors import BadInput
from corpusgit.history import commit
from corpusgit.mix import open as open_mix
from corpusgit.mix.diff import diff_mixes
from corpusgit.mix.locate import locate, step_indices
from corpusgit.mix.storage import StoredMix


def test_locate_an_index(corpus: Repo, mix: StoredMix) -> None:
    want = stream(corpus, mix)
    (found,) = locate(corpus, mix.id, np.array([1234]))
    assert bytes.fromhex(found.row_id) == row_ids(want)[1234]
    assert found.source == want.column("_source")[1234].as_py()
    src = next(s for s in mix.mix.sources if s.name == found.source)
    assert found.commit == src.commit and found.path in dict(src.tables)
    table = corpus.read_table(found.commit, found.path).read_all()
    assert table.column("text")[found.row].as_py() == want.column("text")[1234].as_py()
    assert found.excerpt == want.column("text")[1234].as_py()[:200] and found.key is None and found.epoch == 0


def test_step_covers_what_every_rank_reads_at_that_step(corpus: Repo, mix: StoredMix) -> None:
    batch, world, step = 4, 3, 5
    found = locate(corpus, mix.id, step_indices(step, batch, world), world)
    for rank in range(world):
        reader = open_mix(mix.id, corpus).shard(rank, world)
        batches = reader.batches(batch)
        for _ in range(step):
            next(batches)
        expected = row_ids(pa.Table.from_batches([next(batches)]))
        assert [bytes.fromhex(f.row_id) for f in found if f.rank == rank] == expected
    assert [f.index for f in found] == list(range(step * batch * world, (step + 1) * batch * world))


def test_locate_shows_declared_keys(repo: Repo, make_table: Callable[..., pa.Table], write_parquet: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo.root)
    (repo.root / "cgit.toml").write_text('[tables."data/sft/*"]\nkey = ["id"]\n')
    write_parquet("data/sft/a.parquet", make_table(rows=300, seed=2))
    add(repo, ["data", "cgit.toml"])
    commit(repo, "keyed")
    stored = make_mix(repo, {"budget": {"rows": 50}, "sources": [{"path": "data/sft", "weight": 1}]})
    (found,) = locate(repo, stored.id, np.array([7]))
    assert found.key == {"id": stream(repo, stored).column("id")[7].as_py()}


def test_locate_refuses_indexes_outside_the_mix(corpus: Repo, mix: StoredMix) -> None:
    with pytest.raises(BadInput, match=f"sample {mix.samples} is outside mix"):
        locate(corpus, mix.id, np.array([mix.samples]))
    with pytest.raises(BadInput):
        step_indices(-1, 4, 1)


def test_diff_counts_and_overlap(corpus: Repo, mix: StoredMix) -> None:
    other = make_mix(corpus, spec_doc(seed=8, budget={"tokens": "150k"}))
    d = diff_mixes(corpus, mix.id, other.id)
    assert d.settings["seed"] == (7, 8) and "budget" in d.settings
    a, b = stream(corpus, mix), stream(corpus, other)
    for s in d.sources:
        ids_a = {r for r, n in zip(row_ids(a), a.column("_source").to_pylist()) if n == s.name}
        ids_b = {r for r, n in zip(row_ids(b), b.column("_source").to_pylist()) if n == s.name}
        assert (s.unique_a, s.unique_b, s.overlap) == (len(ids_a), len(ids_b), len(ids_a & ids_b))
        assert 0 < s.overlap < min(len(ids_a), len(ids_b))
    assert d.overlap == len(set(row_ids(a)) & set(row_ids(b)))
    same = diff_mixes(corpus, mix.id, mix.id)
    assert same.settings == {} and same.overlap == same.unique_a == same.unique_b == len(set(row_ids(a)))


def test_diff_with_a_source_only_on_one_side(corpus: Repo, mix: StoredMix) -> None:
    doc = spec_doc(budget={"tokens": "50k"})
    doc["sources"] = doc["sources"][:1]
    d = diff_mixes(corpus, mix.id, make_mix(corpus, doc).id)
    books = next(s for s in d.sources if s.name == "books")
    assert books.samples_b is None and books.unique_b is None and books.overlap == 0 and books.share_a == pytest.approx(0.3)
