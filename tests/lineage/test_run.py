"""run_step: staged outputs, complete lineage records, the run-cache, and refusals that leave the
repository exactly as it was."""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from clirun import commit_exploding_operator, snapshot, unchanged
from lineagehelp import RAW, realtext

from corpusgit import Repo
from corpusgit.errors import BadInput, CorpusGitError, DirtyWorkTree, RevisionNotFound
from corpusgit.fsck import fsck
from corpusgit.gc import gc
from corpusgit.lineage.effects import read_effect_set
from corpusgit.lineage.record import pending_records
from corpusgit.lineage.run import Step, commit_runs, run_step
from corpusgit.ops.base import OperatorFailed
from corpusgit.ops.config import config_hash
from corpusgit.table.hashing import binary_to_lanes

def _row_set(repo: Repo, path: str, rev: str = "HEAD") -> set[tuple[int, int]]:
    hi, lo = binary_to_lanes(repo.read_table(rev, path, columns=[], with_row_hash=True).read_all().column("_cgit_row"))
    return set(zip(hi.tolist(), lo.tolist()))


def _index_rows(repo: Repo, path: str) -> set[tuple[int, int]]:
    from corpusgit.lineage.tables import resolve_table_ref
    from corpusgit.table.reader import read_table

    ref, table = resolve_table_ref(repo, path, None)
    hi, lo = binary_to_lanes(read_table(repo.store, table, [], True).read_all().column("_cgit_row"))
    return set(zip(hi.tolist(), lo.tolist()))


def _pairs(records: np.ndarray, prefix: str = "") -> set[tuple[int, int]]:
    return set(zip(records[prefix + "hi"].tolist(), records[prefix + "lo"].tolist()))


def test_run_stages_output_and_writes_a_complete_record(corpus_repo: Repo) -> None:
    repo = corpus_repo
    head = repo.refs.head_commit()
    result = run_step(repo, Step("filter-quality", RAW, "data/clean/web.parquet", {"min_words": 40}))
    record = result.record
    assert not result.cached and (repo.root / "data/clean/web.parquet").exists()
    entry = repo.read_index().entries["data/clean/web.parquet"]
    assert record.outputs[0].table == entry.id and record.outputs[0].rows == entry.rows
    assert record.inputs[0].path == RAW and record.inputs[0].commit == head and record.inputs[0].rows == 26
    assert record.operator.name == "filter-quality" and record.operator.kind == "filter" and len(record.operator.code_hash) == 64
    assert record.config["min_words"] == 40 and record.config_hash == config_hash(record.config)
    assert record.environment["python"] == platform.python_version() and "pyarrow" in record.environment["packages"]
    assert record.stats["rows_in"] == 26 and record.stats["rows_out"] == entry.rows
    assert sum(record.stats["dropped_by_rule"].values()) == record.stats["dropped"] == 26 - entry.rows
    assert record.started <= record.ended

    dropped = read_effect_set(repo.store, record.effects["dropped"], "dropped", "test")
    assert _pairs(dropped) == _row_set(repo, RAW) - _index_rows(repo, "data/clean/web.parquet")
    assert {record.rules[r] for r in dropped["rule"].tolist()} == set(record.stats["dropped_by_rule"])
    assert record.effects["modified"] is None and record.effects["created"] is None


def test_modified_rows_are_the_rows_add_stored(corpus_repo: Repo) -> None:
    record = run_step(corpus_repo, Step("annotate", RAW, "data/annotated/web.parquet", {"signals": ["n_chars", "lang"]})).record
    modified = read_effect_set(corpus_repo.store, record.effects["modified"], "modified", "test")
    assert _pairs(modified) == _row_set(corpus_repo, RAW)
    assert _pairs(modified, "new_") == _index_rows(corpus_repo, "data/annotated/web.parquet")


def test_run_cache_skips_an_identical_step(corpus_repo: Repo) -> None:
    repo = corpus_repo
    step = Step("dedup-exact", RAW, "data/dedup/web.parquet", {})
    first = run_step(repo, step)
    again = run_step(repo, step)
    assert again.cached and again.record_id == first.record_id
    (repo.root / "data/dedup/web.parquet").unlink()
    restored = run_step(repo, step)
    assert restored.cached and (repo.root / "data/dedup/web.parquet").exists()
    assert repo.read_index().entries["data/dedup/web.parquet"].id == first.record.outputs[0].table
    assert not run_step(repo, Step("dedup-exact", RAW, "data/dedup/web.parquet", {"lowercase": False})).cached
    assert not run_step(repo, step, use_cache=False).cached


def test_uncommitted_runs_are_linked_by_the_next_run_commit(corpus_repo: Repo) -> None:
    repo = corpus_repo
    a = run_step(repo, Step("dedup-exact", RAW, "data/dedup/web.parquet", {}))
    b = run_step(repo, Step("redact-pii", "data/dedup/web.parquet", "data/final/web.parquet", {}))
    assert pending_records(repo) == [b.record_id, a.record_id]
    done = commit_runs(repo, "clean", [b.record_id])
    assert set(done.commit.lineage) == {a.record_id, b.record_id}
    assert pending_records(repo) == []
    report = fsck(repo)
    assert report.ok and report.checked.get("meta") == 2  # the two records ...
    assert report.checked.get("blob") == 3  # ... their two row-effect sets, and cgit.toml


def test_gc_keeps_linked_records_and_their_row_effects(corpus_repo: Repo) -> None:
    repo = corpus_repo
    result = run_step(repo, Step("filter-length", RAW, "data/long/web.parquet", {"min_chars": 500}))
    commit_runs(repo, "long documents", [result.record_id])
    gc(repo, grace_seconds=0)
    assert fsck(repo).ok
    assert len(read_effect_set(repo.store, result.record.effects["dropped"], "dropped", "test")) == result.record.stats["dropped"]


def _refused(repo: Repo, step: Step, error: type[CorpusGitError], match: str) -> CorpusGitError:
    with unchanged(repo.root), pytest.raises(error, match=match) as info:
        run_step(repo, step)
    return info.value


def test_unknown_operator_and_config_typo_change_nothing(corpus_repo: Repo) -> None:
    err = _refused(corpus_repo, Step("filter-lenght", RAW, "data/out/web.parquet", {}), BadInput, "unknown operator")
    assert err.hint is not None and "'filter-length'" in err.hint
    err = _refused(corpus_repo, Step("filter-length", RAW, "data/out/web.parquet", {"max_char": 10}), BadInput, "unknown config key 'max_char'")
    assert err.hint is not None and "did you mean 'max_chars'?" in err.hint


def test_operator_raising_mid_run_stages_nothing(corpus_repo: Repo) -> None:
    repo = corpus_repo
    commit_exploding_operator(repo, 109)
    err = _refused(repo, Step("explode", RAW, "data/out/web.parquet", {}), OperatorFailed, "tokenizer crashed")
    assert err.message == "operator 'explode' failed in batch 0 (rows 0-25 of data/raw/web.parquet): RuntimeError: tokenizer crashed"
    assert not (repo.root / "data/out").exists()


@pytest.mark.parametrize(
    "source, error, match",
    [
        ("cgit.toml", BadInput, "cgit.toml is a blob, not a table"),
        ("data/raw/nothing.parquet", RevisionNotFound, "is not a tracked table"),
        (f"{RAW}@HEAD~5", RevisionNotFound, "goes past the first commit"),
        ("notes.txt", BadInput, "notes.txt is not tracked"),
    ],
)
def test_input_that_is_not_a_table(corpus_repo: Repo, source: str, error: type[CorpusGitError], match: str) -> None:
    (corpus_repo.root / "notes.txt").write_text("not data\n", encoding="utf-8")
    _refused(corpus_repo, Step("sample", source, "data/out/web.parquet", {}), error, match)


def test_output_with_unstaged_changes_is_not_overwritten(corpus_repo: Repo) -> None:
    (corpus_repo.root / "data/mine.parquet").write_bytes(b"my own work")
    _refused(corpus_repo, Step("sample", RAW, "data/mine.parquet", {}), DirtyWorkTree, "has changes that are not staged")
    _refused(corpus_repo, Step("sample", RAW, "data/out.txt", {}), BadInput, "is not a table path")


def test_refused_add_puts_the_previous_output_back(corpus_repo: Repo) -> None:
    """annotate adds columns; written next to the raw shard, the dataset's schemas would differ."""
    repo = corpus_repo
    run_step(repo, Step("sample", RAW, "data/raw/sample.parquet", {"fraction": 0.5}))
    before = snapshot(repo.root)
    with pytest.raises(BadInput, match="schema differs"):
        run_step(repo, Step("annotate", RAW, "data/raw/sample.parquet", {}))
    assert snapshot(repo.root) == before


def test_input_at_a_revision(corpus_repo: Repo, write_parquet: Any) -> None:
    repo = corpus_repo
    write_parquet(RAW, realtext.corpus_table().slice(0, 5))
    repo.add([RAW])
    repo.commit("truncated")
    result = run_step(repo, Step("sample", f"{RAW}@HEAD~1", "data/s/web.parquet", {"fraction": 1.0}))
    assert result.record.inputs[0].rows == 26 and result.record.inputs[0].commit == repo.log()[1].id
    assert Path(repo.root / "data/s/web.parquet").exists()


def test_a_plain_commit_links_the_staged_runs(corpus_repo: Repo) -> None:
    from corpusgit.history import commit

    repo = corpus_repo
    a = run_step(repo, Step("dedup-exact", RAW, "data/dedup/web.parquet", {}))
    done = commit(repo, "dedup, committed by hand")
    assert done.commit.lineage == (a.record_id,)
    assert pending_records(repo) == []
