"""materialize writes what the reader streams, with an honest manifest; verify catches every
kind of difference, including a manifest edited to match tampered files."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from mixhelp import row_ids, stream

from corpusgit import Repo
from corpusgit.errors import BadInput
from corpusgit.mix.materialize import materialize
from corpusgit.mix.storage import StoredMix
from corpusgit.mix.verify import verify


@pytest.fixture
def written(corpus: Repo, mix: StoredMix, tmp_path: Path) -> Path:
    return materialize(corpus, mix.id, tmp_path / "out").directory


def test_shards_and_manifest(corpus: Repo, mix: StoredMix, written: Path) -> None:
    manifest = json.loads((written / "manifest.json").read_text())
    want = stream(corpus, mix)
    shards = [pq.read_table(written / s["file"]) for s in manifest["shards"]]
    assert [s["rows"] for s in manifest["shards"]] == [min(700, mix.samples - a) for a in range(0, mix.samples, 700)]
    assert [s["first"] for s in manifest["shards"]] == list(range(0, mix.samples, 700))
    got = pa.concat_tables(shards)
    assert row_ids(got) == row_ids(want) and got.column("text").equals(want.column("text"))
    assert manifest["mix"] == mix.id and manifest["samples"] == mix.samples and manifest["file_format"] == "parquet"
    assert manifest["rows_digest"] == hashlib.sha256(b"".join(row_ids(want))).hexdigest()
    for s, table in zip(manifest["shards"], shards):
        assert s["sha256"] == hashlib.sha256((written / s["file"]).read_bytes()).hexdigest()
        assert s["rows_digest"] == hashlib.sha256(b"".join(row_ids(table))).hexdigest()
    report = verify(corpus, mix.id, written)
    assert report.ok and report.samples_checked == mix.samples and report.shards_checked == len(shards)


def test_jsonl_round_trip_and_verify(corpus: Repo, mix: StoredMix, tmp_path: Path) -> None:
    out = materialize(corpus, mix.id, tmp_path / "j", file_format="jsonl").directory
    lines = [json.loads(line) for p in sorted(out.glob("*.jsonl")) for line in p.read_text(encoding="utf-8").splitlines()]
    want = stream(corpus, mix)
    assert [bytes.fromhex(r["_cgit_row"]) for r in lines] == row_ids(want)
    assert [r["text"] for r in lines] == want.column("text").to_pylist()
    assert any(r["score"] is None for r in lines)  # NaN and null are written as null
    assert verify(corpus, mix.id, out).ok
    first = sorted(out.glob("*.jsonl"))[0]
    first.write_bytes(first.read_bytes().replace(b'"lang":"en"', b'"lang":"EN"', 1))
    problems = verify(corpus, mix.id, out).problems
    assert any("part-00000.jsonl: differs from the mix within samples" in p for p in problems)


def test_verify_catches_tampering_even_with_a_consistent_manifest(corpus: Repo, mix: StoredMix, written: Path) -> None:
    shard = written / "part-00001.parquet"
    table = pq.read_table(shard)
    texts = table.column("text").to_pylist()
    texts[5] = texts[5] + " (edited)"
    pq.write_table(table.set_column(1, "text", pa.array(texts)), shard)
    manifest = json.loads((written / "manifest.json").read_text())
    manifest["shards"][1]["sha256"] = hashlib.sha256(shard.read_bytes()).hexdigest()  # the forger fixes the hash
    (written / "manifest.json").write_text(json.dumps(manifest))
    report = verify(corpus, mix.id, written)
    assert report.problems == ["part-00001.parquet: sample 705 differs from the mix"]


def test_verify_reports_missing_extra_and_reordered_shards(corpus: Repo, mix: StoredMix, written: Path) -> None:
    (written / "part-00000.parquet").rename(written / "part-09999.parquet")
    a, b = written / "part-00001.parquet", written / "part-00002.parquet"
    a_bytes = a.read_bytes()
    a.write_bytes(b.read_bytes())
    b.write_bytes(a_bytes)
    problems = verify(corpus, mix.id, written).problems
    assert "part-00000.parquet: missing" in problems
    assert "part-09999.parquet: not part of the mix" in problems
    assert "part-00001.parquet: file hash differs from the manifest" in problems
    assert any(p.startswith("part-00002.parquet: ") for p in problems)


def test_verify_refuses_another_mixes_directory(corpus: Repo, mix: StoredMix, written: Path) -> None:
    manifest = json.loads((written / "manifest.json").read_text())
    manifest["mix"] = "0" * 64
    (written / "manifest.json").write_text(json.dumps(manifest))
    assert verify(corpus, mix.id, written).problems == [f"manifest names mix 000000000000, not {mix.id[:12]}"]
    (written / "manifest.json").unlink()
    with pytest.raises(BadInput, match="has no manifest.json"):
        verify(corpus, mix.id, written)


def test_materialize_never_overwrites(corpus: Repo, mix: StoredMix, written: Path, tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="exists and is not an empty directory"):
        materialize(corpus, mix.id, written)
    with pytest.raises(BadInput, match="unknown format"):
        materialize(corpus, mix.id, tmp_path / "x", file_format="csv")
    (tmp_path / "empty").mkdir()
    assert materialize(corpus, mix.id, tmp_path / "empty").directory == tmp_path / "empty"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary directory left behind
