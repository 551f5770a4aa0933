"""End to end through the CLI: a three-step pipeline on English + Chinese text, then ``cgit why``
for a kept, a dropped and a modified row, ``cgit lineage`` in every format, the run-cache on a
second run, and gc/fsck keeping it all."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from clirun import Cli, snapshot
from lineagehelp import RAW, realtext

from corpusgit import Repo

PIPELINE = """\
commit: "clean the web crawl"
steps:
  - op: dedup-minhash
    input: data/raw/web.parquet
    output: data/dedup/web.parquet
  - op: filter-quality
    output: data/quality/web.parquet
    config: {min_words: 40}
  - op: redact-pii
    output: data/final/web.parquet
"""
FINAL = "data/final/web.parquet"


@pytest.fixture
def pipeline(corpus_repo: Repo, cli: Cli) -> dict[str, Any]:
    Path("clean.yaml").write_text(PIPELINE, encoding="utf-8")
    result = cli("run", "clean.yaml", "-q")
    return {"output": result.stdout, "head": corpus_repo.read_commit("HEAD")}


def _why(cli: Cli, row: str) -> dict[str, Any]:
    report: dict[str, Any] = cli.json("why", f"{FINAL}@HEAD", "--row", row)
    return report


def test_pipeline_commits_outputs_linked_to_three_records(corpus_repo: Repo, pipeline: dict[str, Any]) -> None:
    head = pipeline["head"]
    assert head.subject == "clean the web crawl" and len(head.lineage) == 3
    assert "[1/3] dedup-minhash v1: data/raw/web.parquet → data/dedup/web.parquet" in pipeline["output"]
    assert "dropped 4 (near_duplicate 4)" in pipeline["output"]
    final = {r["id"] for r in corpus_repo.read_table("HEAD", FINAL).read_all().to_pylist()}
    assert realtext.PII_ZH in final and realtext.NEAR_DUP_ZH not in final and realtext.BULLETS not in final


def test_why_kept_row(cli: Cli, pipeline: dict[str, Any]) -> None:
    report = _why(cli, "52")  # the key of CHINESE[2], untouched by every step
    assert report["present"] is True
    kinds = [(e["kind"], e["operator"]) for e in report["events"]]
    assert kinds == [("source", None), ("kept", "dedup-minhash"), ("kept", "filter-quality"), ("kept", "redact-pii")]
    source = report["events"][0]
    assert source["table"]["path"] == RAW and source["commit"] == pipeline["head"].parents[0]
    assert all(e["row"] == report["row"] for e in report["events"])


def test_why_dropped_row_names_run_rule_and_duplicate(corpus_repo: Repo, cli: Cli, pipeline: dict[str, Any]) -> None:
    report = _why(cli, str(realtext.NEAR_DUP_ZH))
    assert report["present"] is False
    source, dropped = report["events"]
    assert source["kind"] == "source" and source["table"]["path"] == RAW
    assert dropped["kind"] == "dropped" and dropped["operator"] == "dedup-minhash" and dropped["rule"] == "near_duplicate"
    kept = _why(cli, "51")  # the row it duplicated is still there, with the same identity
    assert dropped["duplicate_of"] == kept["events"][0]["row"]
    assert dropped["commit"] == corpus_repo.refs.head_commit()

    quality = _why(cli, str(realtext.BULLETS))
    assert [e["kind"] for e in quality["events"]] == ["source", "kept", "dropped"]
    assert quality["events"][-1]["operator"] == "filter-quality" and quality["events"][-1]["rule"] == "gopher_mean_word_length"
    again = _why(cli, quality["row"])  # the same row asked by _cgit_row instead of key
    assert again["events"] == quality["events"]


def test_why_modified_row_shows_before_and_after(corpus_repo: Repo, cli: Cli, pipeline: dict[str, Any]) -> None:
    report = _why(cli, str(realtext.PII_ZH))
    events = report["events"]
    assert [e["kind"] for e in events] == ["source", "kept", "kept", "modified"]
    modified = events[-1]
    assert modified["operator"] == "redact-pii" and modified["previous"] == events[0]["row"] != modified["row"]
    text = cli("why", FINAL, "--row", str(realtext.PII_ZH)).stdout
    assert "modified redact-pii v1" in text and f"(was {events[0]['row']})" in text
    by_index = _why(cli, f"index:{report['index']}")
    assert by_index["row"] == report["row"]


def test_why_bad_rows(cli: Cli, pipeline: dict[str, Any]) -> None:
    error, hint = cli.fails("why", FINAL, "--row", "999999")
    assert "row 999999 is not in data/final/web.parquet" in error
    error, _ = cli.fails("why", FINAL, "--row", "index:500")
    assert "index 500 is out of range" in error
    error, _ = cli.fails("why", FINAL, "--row", "ab" * 16)
    assert "no recorded run above it dropped it" in error


def test_second_run_is_served_from_the_run_cache(corpus_repo: Repo, cli: Cli, pipeline: dict[str, Any]) -> None:
    before = snapshot(corpus_repo.root)
    result = cli("run", "clean.yaml", "-q")
    assert result.stdout.count("cached: same operator, version, config and input as run") == 3
    assert "nothing to commit: every output is already committed as it is" in result.stdout
    assert snapshot(corpus_repo.root) == before


def test_lineage_formats(corpus_repo: Repo, cli: Cli, pipeline: dict[str, Any]) -> None:
    tree = cli("lineage", FINAL).stdout
    for line in ("redact-pii v1", "filter-quality v1", "dedup-minhash v1", "data/raw/web.parquet", "source @"):
        assert line in tree
    graph = cli.json("lineage", f"{FINAL}@HEAD")
    assert [r["operator"]["name"] for r in graph["runs"]] == ["redact-pii", "filter-quality", "dedup-minhash"]
    assert {t["path"] for t in graph["tables"] if t["source"]} == {RAW}
    assert all(r["commit"] == corpus_repo.refs.head_commit() for r in graph["runs"])
    dot = cli("lineage", FINAL, "--dot").stdout
    assert dot.startswith("digraph lineage {") and dot.count("->") == 6
    mermaid = cli("lineage", FINAL, "--mermaid").stdout
    assert mermaid.startswith("flowchart TB") and mermaid.count("-->") == 6
    error, _ = cli.fails("lineage", FINAL, "--dot", "--json")
    assert "choose one of" in error


def test_gc_and_fsck_keep_the_lineage(corpus_repo: Repo, cli: Cli, pipeline: dict[str, Any]) -> None:
    cli("gc")
    fsck = cli.json("fsck")
    assert fsck["problems"] == [] and fsck["checked"]["meta"] == 3
    assert _why(cli, str(realtext.NEAR_DUP_ZH))["events"][-1]["kind"] == "dropped"


def test_rerun_reports_identical_outputs(corpus_repo: Repo, cli: Cli, pipeline: dict[str, Any]) -> None:
    for record_id in pipeline["head"].lineage:
        report = cli.json("rerun", record_id[:10])
        assert report["identical"] is True and report["effects_identical"] is True and report["code_changed"] is False
    text = cli("rerun", pipeline["head"].lineage[0]).stdout
    assert "identical: output table" in text


def test_single_step_cli(corpus_repo: Repo, cli: Cli) -> None:
    result = cli("run", "filter-expr", "-i", RAW, "-o", "data/zh/web.parquet", "-c", "expr=lang == 'zh'", "--commit", "-q")
    assert "filter-expr v1: data/raw/web.parquet → data/zh/web.parquet" in result.stdout
    head = corpus_repo.read_commit("HEAD")
    assert head.subject == "run filter-expr: data/raw/web.parquet -> data/zh/web.parquet" and len(head.lineage) == 1
    assert set(corpus_repo.read_table("HEAD", "data/zh/web.parquet").read_all().column("lang").to_pylist()) == {"zh"}
    listed = cli.json("run", "--list")
    assert {"name": "sample", "version": "1", "kind": "filter", "source": "builtin"}.items() <= next(o for o in listed if o["name"] == "sample").items()


@pytest.mark.parametrize(
    "args, message",
    [
        (("run", "filter-lenght", "-i", RAW, "-o", "data/o/x.parquet"), "unknown operator 'filter-lenght'"),
        (("run", "filter-length", "-i", RAW, "-o", "data/o/x.parquet", "-c", "min_char=5"), "unknown config key 'min_char'"),
        (("run", "filter-length", "-i", "cgit.toml", "-o", "data/o/x.parquet"), "cgit.toml is a blob, not a table"),
        (("run", "filter-length", "-i", RAW), "needs --input and --output"),
        (("run", "filter-length", "-i", RAW, "-o", "data/o/x.parquet", "-m", "msg"), "-m is the commit message for --commit"),
    ],
)
def test_cli_refusals_change_nothing(corpus_repo: Repo, cli: Cli, args: tuple[str, ...], message: str) -> None:
    before = snapshot(corpus_repo.root)
    error, hint = cli.fails(*args)
    assert message in error
    assert snapshot(corpus_repo.root) == before


def test_bad_pipeline_file(corpus_repo: Repo, cli: Cli) -> None:
    Path("bad.yaml").write_text("steps:\n  - op: sample\n    input: data/raw/web.parquet\n    ouput: data/s.parquet\n", encoding="utf-8")
    error, hint = cli.fails("run", "bad.yaml")
    assert "step 1: unknown key 'ouput'" in error and "did you mean 'output'?" in hint
    Path("bad.yaml").write_text(json.dumps({"steps": []}), encoding="utf-8")
    error, _ = cli.fails("run", "bad.yaml")
    assert "non-empty 'steps' list" in error
