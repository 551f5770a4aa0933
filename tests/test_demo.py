"""Tests of the real-text demo corpus: determinism, uniqueness, schema and sizes."""

from __future__ import annotations

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
    pool = pa.default_memory_pool()
    paths = demo.write_corpus(tmp_path / "data", 6 * MB, shards=4, seed=5)
    assert [p.name for p in paths] == [f"part-{i:05d}.parquet" for i in range(4)]
    table = pq.read_table(paths)
    assert table.schema.equals(demo.SCHEMA)
    assert table.column("text").to_pylist() == [d["text"] for d in _docs(6 * MB, seed=5)]
    rows = [pq.ParquetFile(p).metadata.num_rows for p in paths]
    assert max(rows) < 1.5 * min(rows)
    # Streaming: Arrow never held more than a few batches, far less than the 6 MB corpus
    # plus the table read back above (which is what the bound below leaves room for).
    assert pool.max_memory() < 40 * MB


def test_write_corpus_writes_every_shard_even_when_tiny(tmp_path: Path) -> None:
    paths = demo.write_corpus(tmp_path, 1, shards=3)
    assert all(p.exists() for p in paths)
    assert [pq.ParquetFile(p).metadata.num_rows for p in paths] == [1, 0, 0]


def test_detect_lang_recognises_scripts() -> None:
    assert demo._detect_lang("这是一个用于测试的中文句子，没有其他内容。", "en") == "zh"
    assert demo._detect_lang("これは日本語のテストです。ひらがなとカタカナ。", "en") == "ja"
    assert demo._detect_lang("Это русский текст для проверки.", "en") == "ru"
    assert demo._detect_lang("Plain English — with a dash and café.", "en") == "en"


def test_strip_roff_keeps_text_and_drops_macros() -> None:
    roff = '.\\" comment\n.TH LS 1\n.SH NAME\nls \\- list\n.PP\nSee\n.B ls\nfor \\fIfiles\\fR.\n'
    assert demo._strip_roff(roff).split("\n") == ["", "", "NAME", "ls - list", "",
                                                  "See ls for files."]


def test_translated_man_pages_are_labelled_with_their_language() -> None:
    zh = [u for u in demo._list_units() if "/man/zh_CN/" in u.path][:3]
    if not zh:
        pytest.skip("no Chinese man pages on this machine")
    assert {demo._harvest(u).lang for u in zh} == {"zh"}


def test_recombination_is_deterministic_and_stays_in_one_group() -> None:
    units = [u for u in demo._list_units() if u.source == "python-source"][:30]
    paragraphs = [p for u in units for p in demo._harvest(u).paragraphs]
    pool = demo._Pool(tuple(paragraphs), (0, len(paragraphs)), (("python-source", "code"),))
    docs = [demo._recombined(9, attempt, pool, 2000, 8000) for attempt in range(200)]
    assert docs == [demo._recombined(9, attempt, pool, 2000, 8000) for attempt in range(200)]
    assert {(source, lang) for source, lang, _ in docs} == {("python-source", "code")}
    assert all(2000 <= len(text) <= 8000 for _, _, text in docs)
    assert len({text for _, _, text in docs}) == len(docs)


def test_documents_beyond_the_real_text_stay_unique() -> None:
    """Past the real text the stream recombines paragraphs; it must stay unique and bounded."""
    pool_chars = sum(map(len, demo._pool().paragraphs))
    total, texts = 0, []
    for doc in demo.iter_documents(10**12, seed=1):
        total += int(doc["n_chars"])
        if total > pool_chars:
            texts.append(doc["text"])
            if len(texts) == 2000:
                break
    assert len(set(texts)) == 2000
    assert all(2000 <= len(str(t)) <= 8000 for t in texts)
