"""``cgit run`` over a dataset (a directory of shards): global operators see every shard, filters
and maps go shard by shard, outputs keep the shards' names, one record holds every input and
output, the run-cache covers them all, and a failure anywhere leaves the repository as it was."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from clirun import cgit, cgit_fails, commit_exploding_operator, snapshot, unchanged
from datasethelp import KEYED, WEB, ids, row_pairs, rows_by_id, staged, write_dataset
from realtext import ENGLISH, EXACT_DUP_EN, EXACT_DUP_ZH, NEAR_DUP_EN, NEAR_DUP_ZH

from corpusgit import Repo
from corpusgit.errors import BadInput, CorpusGitError, DirtyWorkTree, RevisionNotFound
from corpusgit.fsck import fsck
from corpusgit.lineage.effects import read_effect_set
from corpusgit.lineage.record import pending_records, read_record
from corpusgit.lineage.run import Step, commit_runs, run_step
from corpusgit.ops.base import GlobalOperator, NoConfig, OperatorFailed, RowIds, Verdict
from corpusgit.ops.engine import Shard, execute_shards
from corpusgit.table.hashing import binary_to_lanes

P0, P1, P2 = (f"{WEB}/part-{n}.parquet" for n in range(3))
COPY_OF_E1 = 200  # ENGLISH[1] word for word, under a new id, in the last shard

# Every duplicate pair crosses shards, and one (CHINESE[0]) has its variant first in path order:
# per-shard dedup would find nothing; dataset dedup keeps the first occurrence in path order.
DEDUP_SHARDS = {
    P0: [0, 1, EXACT_DUP_ZH],
    P1: [50, 2, EXACT_DUP_EN],
    P2: [3, COPY_OF_E1, 51],
}
DEDUP_KEPT = {"part-0": [0, 1, EXACT_DUP_ZH], "part-1": [2], "part-2": [3, 51]}
DEDUP_DUPLICATES = {EXACT_DUP_EN: 0, 50: EXACT_DUP_ZH, COPY_OF_E1: 1}  # dropped id -> kept id

# The whole corpus in three shards: English, Chinese, and the rows cleaning must catch.
SPLIT_SHARDS = {
    P0: [0, 1, 2, 3, 4, 5, 6, 7, 100, 102, 104],
    P1: [50, 51, 52, 53, 54, 55, 56, 57, 101, 103],
    P2: [105, 106, 107, 108, 109],
}

def _shards(layout: dict[str, list[int]]) -> dict[str, pa.Table]:
    return {path: rows_by_id(keys, {COPY_OF_E1: {"text": ENGLISH[1], "lang": "en"}}) for path, keys in layout.items()}


@pytest.fixture
def dedup_repo(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> Repo:
    monkeypatch.chdir(repo.root)
    write_dataset(repo, _shards(DEDUP_SHARDS))
    return repo


@pytest.fixture
def split_repo(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> Repo:
    monkeypatch.chdir(repo.root)
    write_dataset(repo, _shards(SPLIT_SHARDS))
    return repo


def _id_of(repo: Repo, paths: list[str]) -> dict[tuple[int, int], int]:
    out = {}
    for path in paths:
        table = staged(repo, path)
        hi, lo = binary_to_lanes(table.column("_cgit_row"))
        out.update({(h, l): i for h, l, i in zip(hi.tolist(), lo.tolist(), table.column("id").to_pylist())})
    return out


def test_cross_shard_dedup_drops_the_later_copy_only(dedup_repo: Repo) -> None:
    repo = dedup_repo
    result = run_step(repo, Step("dedup-exact", WEB, "data/dedup", {}))
    assert result.dataset and not result.cached
    for name, kept in DEDUP_KEPT.items():
        assert ids(repo, f"data/dedup/{name}.parquet") == kept
    dropped = read_effect_set(repo.store, result.record.effects["dropped"], "dropped", "test")
    by_row = _id_of(repo, list(DEDUP_SHARDS))
    assert {by_row[(int(r["hi"]), int(r["lo"]))]: by_row[(int(r["dup_hi"]), int(r["dup_lo"]))] for r in dropped} == DEDUP_DUPLICATES
    assert result.record.stats["dropped_by_rule"] == {"duplicate": 3} and result.record.stats["rows_in"] == 9

    # the same shards one at a time find nothing: every copy is in another shard
    for n, path in enumerate(DEDUP_SHARDS):
        single = run_step(repo, Step("dedup-exact", path, f"data/alone/part-{n}.parquet", {}))
        assert single.record.stats["dropped"] == 0


def test_near_dedup_across_shards(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(repo.root)
    write_dataset(repo, _shards({P0: [0, 50], P1: [1, 2, NEAR_DUP_ZH], P2: [51, NEAR_DUP_EN, 3]}))
    result = run_step(repo, Step("dedup-minhash", WEB, "data/near", {}))
    # the variant of CHINESE[1] comes first in path order, so the original (51) is the copy dropped
    assert [ids(repo, f"data/near/part-{n}.parquet") for n in range(3)] == [[0, 50], [1, 2, NEAR_DUP_ZH], [3]]
    dropped = read_effect_set(repo.store, result.record.effects["dropped"], "dropped", "test")
    by_row = _id_of(repo, [P0, P1, P2])
    assert {by_row[(int(r["hi"]), int(r["lo"]))]: by_row[(int(r["dup_hi"]), int(r["dup_lo"]))] for r in dropped} == {51: NEAR_DUP_ZH, NEAR_DUP_EN: 1}


@pytest.mark.parametrize(
    "operator, config",
    [("filter-quality", {"min_words": 40}), ("redact-pii", {}), ("sample", {"fraction": 0.5, "seed": 3}), ("filter-length", {"min_chars": 300})],
)
def test_filters_and_maps_over_shards_equal_per_shard_runs(split_repo: Repo, operator: str, config: dict[str, Any]) -> None:
    repo = split_repo
    whole = run_step(repo, Step(operator, WEB, "data/all", config)).record
    singles = [run_step(repo, Step(operator, path, f"data/one/part-{n}.parquet", config)).record for n, path in enumerate(SPLIT_SHARDS)]
    for n in range(3):
        together, alone = staged(repo, f"data/all/part-{n}.parquet"), staged(repo, f"data/one/part-{n}.parquet")
        assert together.to_pylist() == alone.to_pylist()  # same rows, same order, same _cgit_row
        assert whole.outputs[n].table == singles[n].outputs[0].table
    for kind in ("dropped", "modified", "created"):
        union = [read_effect_set(repo.store, r.effects[kind], kind, "test") for r in singles]
        assert np.array_equal(np.sort(np.concatenate(union)), read_effect_set(repo.store, whole.effects[kind], kind, "test"))
    assert whole.stats["rows_out"] == sum(r.stats["rows_out"] for r in singles)
    assert Counter(whole.stats["dropped_by_rule"]) == sum((Counter(r.stats["dropped_by_rule"]) for r in singles), Counter())


def test_outputs_keep_shard_names_and_empty_shards_are_written(split_repo: Repo) -> None:
    repo = split_repo
    record = run_step(repo, Step("filter-expr", WEB, "data/zh/", {"expr": "lang == 'zh'"})).record
    assert [o.path for o in record.outputs] == ["data/zh/part-0.parquet", "data/zh/part-1.parquet", "data/zh/part-2.parquet"]
    entries = repo.read_index().entries
    assert [entries[o.path].rows for o in record.outputs] == [0, 10, 1] == [o.rows for o in record.outputs]
    schemas = {pq.read_schema(repo.root / o.path).remove_metadata() for o in record.outputs}
    assert len(schemas) == 1 and next(iter(schemas)).names == ["id", "text", "lang"]
    assert sorted(p.name for p in (repo.root / "data/zh").iterdir()) == ["part-0.parquet", "part-1.parquet", "part-2.parquet"]
    assert repo.status().clean is False and not repo.status().unstaged and not repo.status().untracked


def test_one_record_holds_every_input_and_output(dedup_repo: Repo) -> None:
    repo = dedup_repo
    head = repo.refs.head_commit()
    result = run_step(repo, Step("dedup-exact", f"{WEB}/", "data/dedup/", {}))
    record = result.record
    assert [i.path for i in record.inputs] == list(DEDUP_SHARDS) and all(i.commit == head for i in record.inputs)
    assert [i.rows for i in record.inputs] == [3, 3, 3]
    entries = repo.read_index().entries
    assert [(o.path, o.table, o.rows) for o in record.outputs] == [(p, entries[p].id, entries[p].rows) for p in (o.path for o in record.outputs)]
    assert [Path(o.path).name for o in record.outputs] == [Path(i.path).name for i in record.inputs]
    assert pending_records(repo) == [result.record_id]
    done = commit_runs(repo, "dedup", [result.record_id])
    assert done is not None and done.commit.lineage == (result.record_id,)
    assert fsck(repo).ok


def test_run_cache_covers_every_input_and_output_path(dedup_repo: Repo, write_parquet: Callable[..., Path]) -> None:
    repo = dedup_repo
    step = Step("dedup-exact", WEB, "data/dedup", {})
    first = run_step(repo, step)
    again = run_step(repo, step)
    assert again.cached and again.record_id == first.record_id
    for name in DEDUP_KEPT:
        (repo.root / f"data/dedup/{name}.parquet").unlink()
    restored = run_step(repo, step)
    assert restored.cached and all((repo.root / o.path).exists() for o in first.record.outputs)
    assert [repo.read_index().entries[o.path].id for o in first.record.outputs] == [o.table for o in first.record.outputs]
    assert not repo.status().unstaged

    assert not run_step(repo, Step("dedup-exact", WEB, "data/elsewhere", {})).cached  # other output paths
    assert not run_step(repo, step, use_cache=False).cached
    write_parquet(P2, rows_by_id([3, 51, 52]))  # one shard changes: the run must see it
    repo.add([P2])
    changed = run_step(repo, step)
    assert not changed.cached and ids(repo, "data/dedup/part-2.parquet") == [3, 51, 52]
    assert changed.record.inputs[2].table != first.record.inputs[2].table


def test_failure_in_the_second_shard_leaves_everything_as_it_was(split_repo: Repo) -> None:
    repo = split_repo
    commit_exploding_operator(repo, 53, KEYED + "\n")  # 53: a document of the second shard
    before = snapshot(repo.root)
    with pytest.raises(OperatorFailed) as info:
        run_step(repo, Step("explode", WEB, "data/out", {}))
    assert info.value.message == "operator 'explode' failed in batch 0 (rows 0-9 of data/web/part-1.parquet): RuntimeError: tokenizer crashed"
    assert snapshot(repo.root) == before
    assert not (repo.root / "data/out").exists() and not list((repo.cgit / "tmp").iterdir())


def test_in_place_run_replaces_every_shard_with_one_add(split_repo: Repo) -> None:
    """annotate adds columns: shard by shard, the dataset would have two schemas; one add of all
    shards keeps it to one."""
    repo = split_repo
    record = run_step(repo, Step("annotate", WEB, WEB, {"signals": ["n_chars"]})).record
    assert [o.path for o in record.outputs] == list(SPLIT_SHARDS)
    assert all(staged(repo, p).column_names == ["id", "text", "lang", "n_chars", "_cgit_row"] for p in SPLIT_SHARDS)


class _Recorder(GlobalOperator[NoConfig]):
    """Keeps every other row it observed, and remembers what it was shown and when."""

    name = "test-recorder"

    def __init__(self, config: NoConfig) -> None:
        super().__init__(config)
        self.calls: list[tuple[str, int, int]] = []
        self.prepared_after = -1

    def observe(self, batch: pa.RecordBatch, rows: RowIds) -> None:
        self.calls.append(("observe", rows.start, batch.num_rows))

    def prepare(self) -> None:
        self.prepared_after = len(self.calls)

    def apply(self, batch: pa.RecordBatch, rows: RowIds) -> Verdict:
        self.calls.append(("apply", rows.start, batch.num_rows))
        return Verdict(np.arange(rows.start, rows.start + batch.num_rows) % 2 == 0)


class _Sink:
    def __init__(self, log: list[str], name: str) -> None:
        self.log, self.name, self.batches = log, name, 0

    def write(self, batch: pa.RecordBatch) -> None:
        self.batches += 1
        self.log.append(f"write {self.name}")

    def close(self, schema: pa.Schema) -> None:
        self.log.append(f"close {self.name} {','.join(schema.names)}")


def test_engine_streams_every_shard_twice_with_positions_across_shards() -> None:
    schema = pa.schema([("id", pa.int64()), ("_cgit_row", pa.binary(16))])

    def source(n: int, opened: list[int]) -> Callable[[], pa.RecordBatchReader]:
        def open_() -> pa.RecordBatchReader:
            opened.append(n)
            table = pa.table({"id": list(range(n * 10, n * 10 + 5)), "_cgit_row": [bytes([n, i]) * 8 for i in range(5)]}, schema=schema)
            return pa.RecordBatchReader.from_batches(schema, table.to_batches(max_chunksize=2))
        return open_

    opened: list[int] = []
    log: list[str] = []
    op = _Recorder(NoConfig())
    sinks = [_Sink(log, f"s{n}") for n in range(3)]
    execution = execute_shards(op, [Shard(f"s{n}", source(n, opened), sinks[n]) for n in range(3)])
    assert opened == [0, 1, 2, 0, 1, 2]  # one observe pass over all shards, then one apply pass
    starts = [(kind, start) for kind, start, _ in op.calls]
    assert [s for k, s in starts if k == "observe"] == [s for k, s in starts if k == "apply"] == [0, 2, 4, 5, 7, 9, 10, 12, 14]
    assert op.prepared_after == 9  # after every shard was observed, before anything was applied
    assert execution.shard_rows_out == [3, 2, 3] and execution.rows_in == 15
    assert [line for line in log if line.startswith("close")] == ["close s0 id", "close s1 id", "close s2 id"]


def test_engine_closes_empty_shards_with_the_schema_a_later_shard_shows() -> None:
    schema = pa.schema([("id", pa.int64()), ("_cgit_row", pa.binary(16))])
    tables = [pa.table({"id": [], "_cgit_row": []}, schema=schema), pa.table({"id": [7], "_cgit_row": [b"x" * 16]}, schema=schema)]
    log: list[str] = []
    shards = [Shard(f"s{n}", (lambda t=t: pa.RecordBatchReader.from_batches(schema, t.to_batches())), _Sink(log, f"s{n}")) for n, t in enumerate(tables)]
    execute_shards(_Recorder(NoConfig()), shards)
    assert log == ["write s1", "close s0 id", "close s1 id"]


def test_cli_dataset_run_commit_and_rerun(dedup_repo: Repo) -> None:
    repo = dedup_repo
    result = cgit("run", "dedup-exact", "-i", "data/web/", "-o", "data/dedup/", "--commit", "-q")
    assert "dedup-exact v1: data/web/ (3 tables) → data/dedup/ (3 tables)" in result.stdout
    assert "dropped 3 (duplicate 3)" in result.stdout
    head = repo.read_commit("HEAD")
    assert head.subject == "run dedup-exact: data/web -> data/dedup/" and len(head.lineage) == 1
    report = cgit("rerun", head.lineage[0][:12], "--json")
    assert '"identical": true' in report.stdout
    text = cgit("rerun", head.lineage[0]).stdout
    assert "on 3 tables (data/web/part-0.parquet, ...)" in text and "identical: all 3 output tables are the recorded ones" in text
    at_rev = cgit("run", "dedup-exact", "-i", "data/web@HEAD~1", "-o", "data/dedup", "-q")
    assert "data/web/@HEAD~1 (3 tables) → data/dedup/ (3 tables)" in at_rev.stdout and "cached: same operator" in at_rev.stdout


PIPELINE = """\
commit: "dedup and clean the crawl"
steps:
  - op: dedup-exact
    input: data/web
    output: data/dedup/
  - op: filter-length
    output: data/long
    config: {min_chars: 500}
"""


def test_pipeline_with_directory_steps(dedup_repo: Repo) -> None:
    repo = dedup_repo
    Path("clean.yaml").write_text(PIPELINE, encoding="utf-8")
    result = cgit("run", "clean.yaml", "-q")
    assert "[1/2] dedup-exact v1: data/web/ (3 tables) → data/dedup/ (3 tables)" in result.stdout
    assert "[2/2] filter-length v1: data/dedup/ (3 tables) → data/long/ (3 tables)" in result.stdout
    head = repo.read_commit("HEAD")
    assert head.subject == "dedup and clean the crawl" and len(head.lineage) == 2
    first, second = (read_record(repo.store, r) for r in head.lineage)
    assert (first.operator.name, second.operator.name) == ("dedup-exact", "filter-length")
    assert [(i.path, i.table) for i in second.inputs] == [(o.path, o.table) for o in first.outputs]
    assert [o.path for o in second.outputs] == ["data/long/part-0.parquet", "data/long/part-1.parquet", "data/long/part-2.parquet"]
    for n, kept in enumerate(DEDUP_KEPT.values()):
        texts = rows_by_id(kept).column("text").to_pylist()
        assert ids(repo, f"data/long/part-{n}.parquet") == [i for i, t in zip(kept, texts) if len(t) >= 500]
    before = snapshot(repo.root)
    again = cgit("run", "clean.yaml", "-q")
    assert again.stdout.count("cached: same operator, version, config and input as run") == 2
    assert snapshot(repo.root) == before


@pytest.mark.parametrize(
    "args, message, hint",
    [
        (("-i", P0, "-o", "data/dedup/"), "output data/dedup/ is a directory, but the input data/web/part-0.parquet is one table", "data/dedup/part-0.parquet"),
        (("-i", P0, "-o", "data/dedup"), "output data/dedup is not a table path", "e.g. data/dedup/part-0.parquet"),
        (("-i", WEB, "-o", "data/dedup.parquet"), "output data/dedup.parquet is a table, but the input data/web/ is a dataset of 3 table(s)", "name an output directory (e.g. data/dedup)"),
        (("-i", WEB, "-o", "cgit.toml"), "output cgit.toml is a file, but the input data/web/ is a dataset of 3 table(s)", "name an output directory"),
        (("-i", "data", "-o", "data/out"), "data/ holds no tables directly", "try data/web"),
        (("-i", "data/wbe", "-o", "data/out"), "data/wbe is not a tracked table or dataset", "did you mean 'data/web'?"),
        (("-i", "data/nope@HEAD", "-o", "data/out"), "path 'data/nope' does not exist in 'HEAD'", ""),
        (("-i", "data/fresh", "-o", "data/out"), "data/fresh is not tracked", "cgit add data/fresh"),
    ],
)
def test_bad_inputs_and_outputs_change_nothing(dedup_repo: Repo, args: tuple[str, ...], message: str, hint: str) -> None:
    write = Path("data/fresh/a.parquet")
    write.parent.mkdir(parents=True)
    pq.write_table(rows_by_id([0]), write)
    before = snapshot(dedup_repo.root)
    error, got_hint = cgit_fails("run", "sample", *args)
    assert error == f"error: {message}" and hint in got_hint
    assert snapshot(dedup_repo.root) == before


def _refused(repo: Repo, step: Step, error: type[CorpusGitError], match: str) -> CorpusGitError:
    with unchanged(repo.root), pytest.raises(error, match=match) as info:
        run_step(repo, step)
    return info.value


def test_output_directory_with_unstaged_changes_or_other_tables_is_refused(dedup_repo: Repo, write_parquet: Callable[..., Path]) -> None:
    repo = dedup_repo
    step = Step("dedup-exact", WEB, "data/dedup", {})
    Path("data/dedup").mkdir()
    Path("data/dedup/notes.txt").write_text("mine\n", encoding="utf-8")
    err = _refused(repo, step, DirtyWorkTree, r"output directory data/dedup/ has changes that are not staged \(data/dedup/notes.txt\)")
    assert err.hint is not None and "cgit add data/dedup" in err.hint
    Path("data/dedup/notes.txt").unlink()

    run_step(repo, step)
    write_parquet("data/dedup/part-1.parquet", rows_by_id([2, 3]))  # hand-edited output shard
    _refused(repo, Step("dedup-exact", WEB, "data/dedup", {"lowercase": False}), DirtyWorkTree, r"\(data/dedup/part-1.parquet\)")
    repo.add(["data/dedup/part-1.parquet"])

    write_parquet("data/dedup/old.parquet", rows_by_id([4]))
    repo.add(["data/dedup/old.parquet"])
    err = _refused(repo, step, BadInput, r"output directory data/dedup/ already holds 1 table\(s\) this run does not write \(data/dedup/old.parquet\)")
    assert err.hint is not None and "cgit rm data/dedup/old.parquet" in err.hint


def test_dataset_whose_shards_differ_in_schema_is_refused(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    """``add`` refuses such a dataset, so it is built here from two directories' histories."""
    monkeypatch.chdir(repo.root)
    write_dataset(repo, {P0: rows_by_id([0])})
    from corpusgit.history import commit
    from corpusgit.index import IndexEntry
    from corpusgit.lineage.tables import resolve_inputs

    write_dataset(repo, {"data/other/a.parquet": rows_by_id([1]).drop_columns(["lang"])}, message=None)
    with repo.locked_index() as (index, lock):
        entry = index.entries["data/other/a.parquet"]
        index.entries[P1] = IndexEntry(entry.kind, entry.id, entry.mode, rows=entry.rows)
        repo.save_index(lock, index)
    commit(repo, "two schemas in one directory")
    with pytest.raises(BadInput, match="data/web/part-1.parquet: schema differs from data/web/part-0.parquet in the dataset data/web/"):
        resolve_inputs(repo, WEB, "HEAD")
    with pytest.raises(RevisionNotFound):
        resolve_inputs(repo, "data/none", "HEAD")
