"""``cgit check`` (staged tables, a revision, plain files) and ``cgit stats`` (one version, a
path, two versions side by side), through the real CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpusgit import Repo

Stage = Callable[..., None]
ZH = "这是一个关于数据质量和语言模型训练的中文句子，内容足够长。"


def test_check_staged_tables(repo: Repo, stage_table: Stage, corpus: Callable[..., pa.Table], hooks_toml: Callable[[str], Any], qcli: Any) -> None:
    stage_table(corpus(10))
    nothing = qcli("check")
    assert "nothing to check" in nothing.stderr
    assert qcli("check", "--json").stdout.strip() == "null"
    hooks_toml("[hooks.pre-commit.pii]\n")
    assert "pre-commit checks: passed: 1 check result(s) on 1 table" in qcli("check").stdout
    stage_table(corpus(10, bad={2: "ping 10.0.0.7 now"}))
    failed = qcli("check", "--json", code=1)
    report = json.loads(failed.stdout)
    assert report["outcome"] == "failed" and report["results"][0]["samples"][0]["excerpt"] == "ping [ipv4] now"
    assert failed.stderr.strip().splitlines() == [
        "error: pre-commit checks failed: pii on data/a.parquet",
        "hint: the report above lists the offending rows of each failed check; fix them, or change the thresholds in cgit.toml",
    ]
    shown = qcli("check", code=1)
    assert "ping [ipv4] now" in shown.stdout and "hint: fix the rows shown above" in shown.stderr
    tuned = qcli("check", "--set", "pii.max_matches=1", "--check", "pii", "--check", "encoding")
    assert "passed: 2 check result(s)" in tuned.stdout
    assert repo.refs.head_commit() is None  # check never commits or stores a report


def test_check_a_revision_and_pre_merge_requirements(repo: Repo, stage_table: Stage, corpus: Callable[..., pa.Table], hooks_toml: Callable[[str], Any], qcli: Any) -> None:
    stage_table(corpus(10, bad={1: "mail a@b.co"}))
    repo.commit("dirty", no_verify=True)
    stage_table(corpus(10), "data/b.parquet")
    repo.commit("clean", no_verify=True)
    hooks_toml("[hooks.pre-commit.pii]\n[branches.main]\nrequire = [\"length\"]\n")
    assert "passed" in qcli("check", "--rev", "HEAD").stdout  # HEAD only changed data/b.parquet
    dirty = json.loads(qcli("check", "--rev", "HEAD~1", "--json", code=1).stdout)
    assert [(t["path"], t["parent"]) for t in dirty["tables"]] == [("data/a.parquet", None)]
    merge = json.loads(qcli("check", "--rev", "HEAD", "--stage", "pre-merge", "--target", "main", "--json").stdout)
    assert [(r["check"], r["required"]) for r in merge["results"]] == [("length", True)]
    bad_stage = qcli("check", "--stage", "post-commit", code=2)
    assert bad_stage.stderr.startswith("error: unknown stage 'post-commit'")


def test_check_plain_files_outside_a_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qcli: Any) -> None:
    project = tmp_path / "project"
    (project / "data").mkdir(parents=True)
    (project / "cgit.toml").write_text('[hooks.pre-commit.pii]\npaths = ["data/*"]\n[hooks.pre-commit.length]\nmin = 5\n')
    pq.write_table(pa.table({"text": ["plain text here", "call (555) 123-4567"]}), project / "data" / "a.parquet")
    (project / "data" / "b.jsonl").write_text('{"text": "fine words"}\n{"text": "tiny"}\n')
    (project / "c.parquet").write_bytes(b"not parquet")
    monkeypatch.chdir(project / "data")  # cgit.toml is found upwards; paths are relative to it
    report = json.loads(qcli("check", "a.parquet", "b.jsonl", "--json", code=1).stdout)
    assert [(r["check"], r["path"], r["status"]) for r in report["results"]] == [
        ("pii", "data/a.parquet", "fail"), ("length", "data/a.parquet", "pass"),
        ("pii", "data/b.jsonl", "pass"), ("length", "data/b.jsonl", "fail"),
    ]
    assert report["tables"][0]["table"] is None
    monkeypatch.chdir(project)
    unreadable = qcli("check", "c.parquet", code=2)
    assert unreadable.stderr.startswith("error: c.parquet: not a readable Parquet file")
    missing = qcli("check", "nope.parquet", code=2)
    assert missing.stderr.startswith("error: nope.parquet: no such file")
    (tmp_path / "other.toml").write_text("[hooks.pre-commit.encoding]\n")
    other = json.loads(qcli("check", "data/a.parquet", "--config", str(tmp_path / "other.toml"), "--json").stdout)
    assert [r["check"] for r in other["results"]] == ["encoding"]
    assert qcli("check", "data/a.parquet", "--config", "missing.toml", code=2).stderr.startswith("error: missing.toml: no such file")
    assert qcli("check", "data/a.parquet", "--rev", "HEAD", code=2).stderr.startswith("error: --rev checks committed tables")


def test_stats_of_one_version(repo: Repo, stage_table: Stage, corpus: Callable[..., pa.Table], qcli: Any) -> None:
    stage_table(corpus(30, bad={i: ZH for i in range(0, 30, 3)}))
    stage_table(corpus(10, start=100), "other/b.parquet")
    repo.commit("v0", no_verify=True)
    doc = json.loads(qcli("stats", "--json").stdout)
    total = doc["total"]
    assert (total["tables"], total["rows"], total["text_rows"]) == (2, 40, 40)
    texts = corpus(30, bad={i: ZH for i in range(0, 30, 3)}).column("text").to_pylist() + corpus(10, start=100).column("text").to_pylist()
    assert total["chars"] == sum(len(t) for t in texts)
    assert total["text_bytes"] == sum(len(t.encode()) for t in texts)
    assert total["est_tokens"] == round(total["text_bytes"] / 4)
    assert {x["name"]: x["sampled_rows"] for x in total["languages"]} == {"en": 30, "zh": 10}
    assert {x["name"]: x["rows"] for x in total["sources"]} == {"web": 27, "books": 13}
    assert {x["name"] for x in total["top_domains"]} == {"example.com", "news.example.org"}
    assert sum(b["rows"] for b in total["length_histogram"]) == 40
    assert doc["tables"]["data/a.parquet"]["columns"] == {"text": "text", "source": "source", "url": "url"}
    assert doc["chunks"] == {"computed": 2, "cached": 0}
    again = json.loads(qcli("stats", "--json").stdout)
    assert again["chunks"] == {"computed": 0, "cached": 2}  # cached per chunk
    text = qcli("stats", "--tables").stdout
    for part in ("stats of HEAD (", "40 rows", "~", "tokens (est. 4 bytes/token)", "length (chars per row)", "█",
                 "languages (sampled rows)", "zh", "sources", "top domains", "example.com", "other/b.parquet"):
        assert part in text, part
    one = json.loads(qcli("stats", "HEAD", "data", "--json").stdout)
    assert (one["path"], one["total"]["tables"], one["total"]["rows"]) == ("data", 1, 30)
    by_path = json.loads(qcli("stats", "other/b.parquet", "--json").stdout)
    assert by_path["total"]["rows"] == 10
    assert qcli("stats", "nowhere", code=1).stderr.startswith("error: no table at or under 'nowhere' in 'HEAD'")
    assert qcli("stats", "a", "b", "c", "d", code=2).stderr.startswith("error: stats takes at most three arguments")


def test_stats_compares_two_versions(repo: Repo, stage_table: Stage, corpus: Callable[..., pa.Table], qcli: Any) -> None:
    stage_table(corpus(20))
    repo.commit("v0", no_verify=True)
    stage_table(pa.concat_tables([corpus(20), corpus(20, start=100, bad={i: ZH for i in range(10)})]))
    repo.commit("v1", no_verify=True)
    doc = json.loads(qcli("stats", "HEAD~1", "HEAD", "--json").stdout)
    assert (doc["a"]["total"]["rows"], doc["b"]["total"]["rows"]) == (20, 40)
    from corpusgit.revparse import resolve_table

    distinct = {r.id for rev in ("HEAD~1", "HEAD") for r in resolve_table(repo, rev, "data/a.parquet").chunk_refs()}
    assert doc["b"]["chunks"]["computed"] == len(distinct) < 3  # a chunk both versions share is measured once
    text = qcli("stats", "HEAD~1", "HEAD").stdout
    assert "stats: HEAD~1 (" in text and "vs  HEAD (" in text
    assert "+100.0%" in text and "languages (share of sampled rows)" in text and "+25.0 pts" in text
    assert json.loads(qcli("stats", "HEAD~1", "HEAD", "data", "--json").stdout)["a"]["path"] == "data"


def test_stats_without_text_or_language_package(repo: Repo, stage_table: Stage, qcli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    stage_table(pa.table({"n": [1, 2, 3]}))
    repo.commit("numbers", no_verify=True)
    doc = json.loads(qcli("stats", "--json").stdout)["total"]
    assert (doc["rows"], doc["chars"], doc["languages"], doc["length_histogram"]) == (3, 0, [], [])
    stage_table(pa.table({"body": ["some text", "more text"]}), "t/x.parquet")
    repo.commit("text", no_verify=True)
    monkeypatch.setitem(sys.modules, "py3langid", None)
    plain = json.loads(qcli("stats", "t", "--json").stdout)["total"]
    assert plain["chars"] == 18 and plain["languages"] == []
    assert "pip install 'corpusgit[lang]'" in qcli("stats", "t").stderr
