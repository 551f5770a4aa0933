"""``cgit why`` and ``cgit lineage`` across runs over datasets: a story follows the shard that
holds the row, a cross-shard duplicate names both shards, and a run over 100 shards renders as
a few lines in every format."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

import pytest
from clirun import cgit, cgit_json
from lineagehelp import realtext  # noqa: F401  (registers the corpus module datasethelp imports)

from corpusgit import Repo
from corpusgit.errors import BadInput
from corpusgit.lineage.run import Step, commit_runs, run_step
from corpusgit.lineage.why import why

_spec = importlib.util.spec_from_file_location("datasethelp", Path(__file__).resolve().parent.parent / "ops" / "datasethelp.py")
assert _spec is not None and _spec.loader is not None
datasethelp: Any = sys.modules.get("datasethelp") or importlib.util.module_from_spec(_spec)
if "datasethelp" not in sys.modules:
    sys.modules["datasethelp"] = datasethelp
    _spec.loader.exec_module(datasethelp)

WEB = datasethelp.WEB
P0, P1, P2 = (f"{WEB}/part-{n}.parquet" for n in range(3))
FINAL = "data/final"
SHARDS = {
    P0: [0, 1, 50],
    P1: [2, 51, realtext.PII_EN],
    P2: [3, realtext.EXACT_DUP_EN, realtext.PII_ZH],  # EXACT_DUP_EN repeats ENGLISH[0], in the first shard
}


@pytest.fixture
def cleaned(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Dataset dedup, then dataset PII redaction, committed: the run ids by operator."""
    monkeypatch.chdir(repo.root)
    datasethelp.write_dataset(repo, {path: datasethelp.rows_by_id(keys) for path, keys in SHARDS.items()})
    dedup = run_step(repo, Step("dedup-exact", WEB, "data/dedup", {}))
    redact = run_step(repo, Step("redact-pii", "data/dedup", FINAL, {}))
    commit_runs(repo, "clean", [dedup.record_id, redact.record_id])
    return {"dedup-exact": dedup.record_id, "redact-pii": redact.record_id}


def test_dropped_in_third_shard_as_duplicate_of_a_row_in_the_first(cleaned: dict[str, str], repo: Repo) -> None:
    kept = datasethelp.row_hex(repo, P0, 0)
    for query in (str(realtext.EXACT_DUP_EN), datasethelp.row_hex(repo, P2, realtext.EXACT_DUP_EN)):
        report = why(repo, f"{FINAL}/part-2.parquet", None, query)
        assert not report.present
        source, dropped = report.events
        assert (source.kind, source.table.path) == ("source", P2)
        assert (dropped.kind, dropped.operator, dropped.run, dropped.rule) == ("dropped", "dedup-exact", cleaned["dedup-exact"], "duplicate")
        assert dropped.table.path == P2 and dropped.duplicate_of == kept and dropped.duplicate_in == P0
    text = cgit("why", f"{FINAL}/part-2.parquet", "--row", str(realtext.EXACT_DUP_EN)).stdout
    assert f"from {P2}  rule duplicate  duplicate of {kept} in {P0}" in text


def test_kept_and_modified_rows_follow_their_own_shard(cleaned: dict[str, str], repo: Repo) -> None:
    kept = why(repo, f"{FINAL}/part-1.parquet", None, "51")
    assert kept.present
    assert [(e.kind, e.table.path) for e in kept.events] == [("source", P1), ("kept", "data/dedup/part-1.parquet"), ("kept", f"{FINAL}/part-1.parquet")]
    assert {e.row for e in kept.events} == {datasethelp.row_hex(repo, P1, 51)}

    redacted = why(repo, f"{FINAL}/part-2.parquet", None, str(realtext.PII_ZH))
    assert [(e.kind, e.table.path) for e in redacted.events] == [("source", P2), ("kept", "data/dedup/part-2.parquet"), ("modified", f"{FINAL}/part-2.parquet")]
    assert redacted.events[-1].previous == datasethelp.row_hex(repo, P2, realtext.PII_ZH) == redacted.events[0].row
    by_hash = why(repo, f"{FINAL}/part-2.parquet", None, redacted.events[-1].row)
    assert by_hash.events == redacted.events


def test_row_kept_in_another_shard_is_named_in_the_hint(cleaned: dict[str, str], repo: Repo) -> None:
    with pytest.raises(BadInput, match=r"row 2 is not in data/final/part-0.parquet") as info:
        why(repo, f"{FINAL}/part-0.parquet", None, "2")
    assert info.value.hint is not None
    assert "it is in data/dedup/part-1.parquet, which redact-pii run" in info.value.hint and "wrote to data/final/part-1.parquet" in info.value.hint


def test_lineage_formats_summarise_the_datasets(cleaned: dict[str, str], repo: Repo) -> None:
    target = f"{FINAL}/part-1.parquet"
    tree = cgit("lineage", target).stdout
    lines = tree.strip("\n").split("\n")
    assert len(lines) == 5, tree
    assert "data/dedup/  (3 tables)" in lines[2] and "data/web/  (3 tables)" in lines[4] and "sources @" in lines[4]
    graph = cgit_json("lineage", target)
    assert [r["id"] for r in graph["runs"]] == [cleaned["redact-pii"], cleaned["dedup-exact"]]
    assert len(graph["runs"][1]["inputs"]) == 3 and len(graph["tables"]) == 7
    dot = cgit("lineage", target, "--dot").stdout
    assert dot.count("->") == 4 and dot.count("[shape=box") == 3 and 'label="data/web/\\n3 tables (9 rows)"' in dot
    mermaid = cgit("lineage", target, "--mermaid").stdout
    assert mermaid.count("-->") == 4 and "data/dedup/<br/>3 tables (8 rows)" in mermaid
    events = json.loads(cgit("lineage", target, "--openlineage").stdout)
    assert [(e["eventType"], e["job"]["name"]) for e in events] == [
        ("START", "data/dedup/:dedup-exact"), ("COMPLETE", "data/dedup/:dedup-exact"), ("START", "data/final/:redact-pii"), ("COMPLETE", "data/final/:redact-pii"),
    ]
    assert [d["name"] for d in events[0]["inputs"]] == list(SHARDS)
    assert [d["facets"]["version"]["datasetVersion"] for d in events[2]["inputs"]] == [repo.read_index().entries[f"data/dedup/part-{n}.parquet"].id for n in range(3)]


def test_a_run_over_100_shards_reads_as_one_dataset(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo.root)
    shards = {f"{WEB}/part-{n:03d}.parquet": datasethelp.rows_by_id([n], {n: {"text": f"document number {n}", "lang": "en"}}) for n in range(100)}
    datasethelp.write_dataset(repo, shards)
    record = run_step(repo, Step("sample", WEB, "data/sample", {"fraction": 0.5})).record
    assert len(record.inputs) == len(record.outputs) == 100
    n = next(n for n, o in enumerate(record.outputs) if o.rows == 1 and n > 50)  # a shard whose row was sampled
    target = f"data/sample/part-{n:03d}.parquet"
    tree = cgit("lineage", target).stdout.strip("\n").split("\n")
    assert len(tree) == 3 and "data/web/  (100 tables)  100 rows  sources @" in tree[2]
    for flag, arrow in (("--dot", "->"), ("--mermaid", "-->")):
        text = cgit("lineage", target, flag).stdout
        assert text.count(arrow) == 2 and len(text.splitlines()) < 12
    graph = cgit_json("lineage", target)
    assert len(graph["runs"]) == 1 and len(graph["tables"]) == 101
    events = json.loads(cgit("lineage", target, "--openlineage").stdout)
    assert len(events) == 2 and len(events[0]["inputs"]) == len(events[0]["outputs"]) == 100
    story = why(repo, target, None, f"key:{n}")
    assert [(e.kind, e.table.path) for e in story.events] == [("source", f"{WEB}/part-{n:03d}.parquet"), ("kept", target)]
