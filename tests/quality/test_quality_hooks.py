"""Hooks in history: commit and merge run them, a failure blocks with the results table, the
outcome and report are recorded in the commit, and log/show summarise them."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pytest

from corpusgit import Repo
from corpusgit.errors import QualityCheckFailed
from corpusgit.quality import TableChange, run_hooks, table_changes
from corpusgit.quality.report import ChecksFailed, read_report

PII_ROW = {3: "write to zhang.san@example.cn for the data"}
Corpus = Callable[..., pa.Table]
Stage = Callable[..., None]


def test_failed_check_blocks_the_commit_with_a_results_table(
    repo: Repo, stage_table: Stage, corpus: Corpus, hooks_toml: Callable[[str], Any], qcli: Any, repo_state: Callable[[], object]
) -> None:
    hooks_toml("[hooks.pre-commit.pii]\n[hooks.pre-commit.length]\nmin = 10\n")
    stage_table(corpus(20, bad=PII_ROW))
    before = repo_state()
    result = qcli("commit", "-m", "with pii", code=1)
    err = result.stderr
    assert "pre-commit checks: failed: 2 check result(s) on 1 table (1 fail)" in err
    for text in ("pii", "fail", "PII matches = 1", "≤ 0", "1 matches in 1 rows (email 1)", "write to [email] for the data", "hint (pii):"):
        assert text in err, text
    lines = err.rstrip().splitlines()
    assert lines[-2] == "error: pre-commit checks blocked the commit: pii on data/a.parquet"
    assert lines[-1].startswith("hint: fix the rows shown above") and "--no-verify" in lines[-1]
    assert "zhang.san@example.cn" not in result.output
    assert repo_state() == before
    assert repo.refs.head_commit() is None


def test_no_verify_is_recorded_and_shown(repo: Repo, stage_table: Stage, corpus: Corpus, hooks_toml: Callable[[str], Any], qcli: Any) -> None:
    hooks_toml("[hooks.pre-commit.pii]\n")
    stage_table(corpus(20, bad=PII_ROW))
    qcli("commit", "-m", "raw crawl", "--no-verify")
    head = repo.read_commit("HEAD")
    assert (head.hooks, head.report) == ("skipped", None)
    assert "raw crawl [hooks skipped]" in qcli("log", "--oneline").stdout
    assert "Hooks:  skipped (--no-verify)" in qcli("log").stdout
    assert "Hooks:  skipped (--no-verify)" in qcli("show").stdout


def test_a_passing_commit_links_its_report_and_show_summarises_it(
    repo: Repo, stage_table: Stage, corpus: Corpus, hooks_toml: Callable[[str], Any], qcli: Any
) -> None:
    hooks_toml('[hooks.pre-commit.pii]\n[hooks.pre-commit.short]\ncheck = "length"\nmin = 80\nseverity = "warn"\n[hooks.pre-commit.row-delta]\n')
    stage_table(corpus(20))
    out = qcli("commit", "-m", "clean")
    assert "warn" in out.stderr and "rows outside [80, inf] chars" in out.stderr  # the warning table
    head = repo.read_commit("HEAD")
    assert head.hooks == "warned" and head.report is not None
    report = read_report(repo.store, head.report)
    assert report.stage == "pre-commit" and report.outcome == "warned"
    assert [(r.check, r.status) for r in report.results] == [("pii", "pass"), ("short", "warn"), ("row-delta", "skip")]
    assert report.tables[0].path == "data/a.parquet" and report.tables[0].rows == 20 and report.chunks_computed == 1
    show = qcli("show").stdout
    assert f"Hooks:  warned: 3 check result(s) on 1 table (1 skip, 1 warn) (report {head.report[:12]})" in show
    assert "warn  short on data/a.parquet: rows outside [80, inf] chars = " in show
    doc = json.loads(qcli("show", "--json").stdout)
    assert doc["hooks"] == "warned" and doc["report"] == head.report and doc["quality_report"]["outcome"] == "warned"
    assert "clean [hooks warned]" in qcli("log", "--oneline").stdout
    stage_table(pa.concat_tables([corpus(20), corpus(20, start=100)]))
    qcli("commit", "-m", "more")
    assert repo.read_commit("HEAD").hooks == "warned"
    hooks_toml("[hooks.pre-commit.pii]\n")
    stage_table(corpus(20, start=200))
    assert "hooks passed: 1 check result(s) on 1 table" in qcli("commit", "-m", "again").stdout
    assert repo.read_commit("HEAD").hooks == "passed"
    assert "Hooks:  passed" in qcli("log", "-n", "1").stdout


def test_without_checks_nothing_is_recorded(repo: Repo, stage_table: Stage, corpus: Corpus, hooks_toml: Callable[[str], Any]) -> None:
    stage_table(corpus(5))
    repo.commit("no hooks")
    assert (repo.read_commit("HEAD").hooks, repo.read_commit("HEAD").report) == ("none", None)
    hooks_toml('[hooks.pre-commit.pii]\npaths = ["elsewhere/*"]\n')
    stage_table(corpus(5, start=10))
    repo.commit("no table matches")
    assert repo.read_commit("HEAD").hooks == "none"


def test_a_crashing_check_blocks_with_its_traceback_summarised(
    repo: Repo, stage_table: Stage, corpus: Corpus, hooks_toml: Callable[[str], Any], qcli: Any
) -> None:
    (repo.root / "checks.py").write_text("def helper(x):\n    return 1 / x\n\ndef check(ctx):\n    return helper(0) > 0\n")
    hooks_toml('[hooks.pre-commit.fragile]\npython = "checks.py:check"\nseverity = "warn"\n[hooks.pre-commit.pii]\n')
    stage_table(corpus(5))
    result = qcli("commit", "-m", "x", code=1)
    assert "crashed: ZeroDivisionError" in result.stderr  # the table folds long cells, so the rest is checked below
    assert result.stderr.rstrip().splitlines()[-2] == "error: pre-commit checks blocked the commit: fragile on data/a.parquet"
    with pytest.raises(ChecksFailed) as info:
        repo.commit("x")
    (crash,) = [r for r in info.value.report.results if r.check == "fragile"]
    assert crash.status == "error" and crash.message.startswith("crashed: ZeroDivisionError: division by zero (at ")
    assert crash.message.endswith("checks.py:5 in check > checks.py:2 in helper)")
    assert [r.status for r in info.value.report.results if r.check == "pii"] == ["pass"]


def test_required_checks_on_merges_into_a_protected_branch(repo: Repo, stage_table: Stage, corpus: Corpus, hooks_toml: Callable[[str], Any]) -> None:
    hooks_toml('[hooks.pre-merge.short]\ncheck = "length"\nmin = 1000\nseverity = "warn"\n[branches.main]\nrequire = ["pii", "short"]\n')
    stage_table(corpus(10))
    repo.commit("base")
    stage_table(corpus(10, bad=PII_ROW))
    changes = table_changes(repo, repo.read_index().to_tree(), repo.refs.head_commit())
    parent = repo.read_index().entries["data/a.parquet"].id
    from corpusgit.revparse import resolve_entry

    assert changes == [TableChange("data/a.parquet", parent, resolve_entry(repo, "HEAD", "data/a.parquet")[0])]
    with pytest.raises(QualityCheckFailed) as info:
        run_hooks(repo, stage="pre-merge", changes=changes, target_branch="main", no_verify=True)
    assert isinstance(info.value, ChecksFailed)
    report = info.value.report
    assert [(r.check, r.status, r.required, r.severity) for r in report.results] == [("pii", "fail", True, "error"), ("short", "fail", True, "error")]
    assert report.skipped and report.target == "main" and "--no-verify cannot skip it" in (info.value.hint or "")
    assert run_hooks(repo, stage="pre-merge", changes=changes, target_branch="dev", no_verify=True).hooks == "skipped"
    into_dev = run_hooks(repo, stage="pre-merge", changes=changes, target_branch="dev")
    assert into_dev.hooks == "warned" and into_dev.report_id is not None and into_dev.report is not None
    assert read_report(repo.store, into_dev.report_id).results[0].check == "short"


def test_cgit_merge_runs_pre_merge_hooks(repo: Repo, stage_table: Stage, corpus: Corpus, hooks_toml: Callable[[str], Any], qcli: Any) -> None:
    hooks_toml('[hooks.pre-merge.pii]\n[branches.main]\nrequire = ["row-delta"]\n')
    stage_table(corpus(10))
    repo.commit("base")
    qcli("switch", "-c", "feature")
    stage_table(corpus(12))
    repo.commit("two more rows")
    stage_table(corpus(12, bad=PII_ROW))
    repo.commit("a row with pii")  # pre-commit has no checks
    qcli("switch", "main")
    main = repo.refs.head_commit()
    blocked = qcli("merge", "--no-ff", "feature", code=1)
    assert "pre-merge checks blocked the merge: pii on data/a.parquet" in blocked.stderr
    assert repo.refs.head_commit() == main
    qcli("merge", "--abort")
    qcli("merge", "--no-ff", "feature~1")
    merged = repo.read_commit("HEAD")
    assert len(merged.parents) == 2 and merged.hooks == "passed" and merged.report is not None
    report = read_report(repo.store, merged.report)
    assert (report.stage, report.target) == ("pre-merge", "main")
    assert [(r.check, r.status, r.required) for r in report.results] == [("pii", "pass", False), ("row-delta", "pass", True)]
