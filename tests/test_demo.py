"""Tests of the real-text demo corpus: determinism, uniqueness, schema and sizes."""

from __future__ import annotations

import subprocess
import sys

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpusgit import demo
from corpusgit.errors import BadInput

MB = 1_000_000


def _docs(target_bytes: int, seed: int = 0, **lengths: int) -> list[dict[str, str | int]]:
    return list(demo.iter_documents(target_bytes, seed=seed, **lengths))


def test_same_seed_gives_identical_documents() -> None:
    assert _docs(2 * MB, seed=7) == _docs(2 * MB, seed=7)


def test_stream_is_prefix_stable() -> None:
    small, large = _docs(MB), _docs(3 * MB)
    assert large[: len(small)] == small
    assert len(large) > len(small)


def test_seeds_share_no_ids_or_texts() -> None:
    a, b = _docs(2 * MB, seed=0), _docs(2 * MB, seed=1)
    assert {d["id"] for d in a}.isdisjoint(d["id"] for d in b)
    assert {d["text"] for d in a}.isdisjoint(d["text"] for d in b)


def test_ids_and_texts_are_unique() -> None:
    docs = _docs(8 * MB, seed=3)
    assert len({d["id"] for d in docs}) == len(docs)
    assert len({d["text"] for d in docs}) == len(docs)


def test_fields_match_schema_and_n_chars_is_exact() -> None:
    for doc in _docs(MB):
        assert set(doc) == set(demo.SCHEMA.names)
        assert doc["n_chars"] == len(str(doc["text"]))
        assert doc["source"] in {"python-docstring", "python-source", "python-test-data",
                                 "usr-share-doc", "man"}
        assert str(doc["lang"]) and str(doc["lang"]).isascii()


def test_document_lengths_respect_bounds() -> None:
    docs = _docs(4 * MB)
    assert all(2000 <= int(d["n_chars"]) <= 8000 for d in docs)
    custom = _docs(MB, seed=2, min_chars=500, max_chars=900)
    assert all(500 <= int(d["n_chars"]) <= 900 for d in custom)


def test_total_size_reaches_target_without_overshooting_much() -> None:
    target = 3 * MB
    total = sum(len(str(d["text"]).encode()) for d in _docs(target))
    assert target <= total < target + 4 * 8000


def test_zero_target_yields_nothing() -> None:
    assert _docs(0) == []


def test_negative_seed_is_rejected() -> None:
    with pytest.raises(BadInput, match="seed"):
        _docs(MB, seed=-1)


def test_batches_have_schema_and_bounded_rows() -> None:
    batches = list(demo.iter_batches(2 * MB, batch_rows=100, seed=4))
    assert all(b.schema.equals(demo.SCHEMA) for b in batches)
    assert all(b.num_rows <= 100 for b in batches)
    ids = pa.Table.from_batches(batches).column("id").to_pylist()
    assert ids == [d["id"] for d in _docs(2 * MB, seed=4)]


def test_write_corpus_streams_all_documents_into_shards(tmp_path: Path) -> None:
    paths = demo.write_corpus(tmp_path / "data", 6 * MB, shards=4, seed=5)
    assert [p.name for p in paths] == [f"part-{i:05d}.parquet" for i in range(4)]
    table = pq.read_table(paths)
    assert table.schema.equals(demo.SCHEMA)
    assert table.column("text").to_pylist() == [d["text"] for d in _docs(6 * MB, seed=5)]
    rows = [pq.ParquetFile(p).metadata.num_rows for p in paths]
    assert max(rows) < 1.5 * min(rows)


def test_write_corpus_streams(tmp_path: Path) -> None:
    """Arrow holds a few batches, not the corpus: writing 64 MB peaks well under half of it.
    Measured in a fresh process, because the memory pool's peak is process-wide."""
    script = (
        "import sys, pyarrow as pa; from pathlib import Path; from corpusgit import demo; "
        "demo.write_corpus(Path(sys.argv[1]), 64_000_000, shards=2, seed=5); "
        "print(pa.default_memory_pool().max_memory())"
    )
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path / "data")], capture_output=True, text=True, check=True)
    assert int(done.stdout.strip()) < 32 * MB
