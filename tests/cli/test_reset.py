"""reset (soft, mixed, hard), restore --staged, reflog and NAME@{n}: undoing a pipeline step."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from clirun import Cli

from corpusgit import Repo

PATH = "data/web/part-0.parquet"


@pytest.fixture
def two_commits(repo: Repo, cli: Cli, write_parquet: Callable[..., Path], make_table: Callable[..., pa.Table]) -> tuple[pa.Table, pa.Table]:
    """main: 'raw' (2,000 rows), then 'filtered' (rows with id % 4 != 0)."""
    raw = make_table(2_000)
    write_parquet(PATH, raw)
    cli("add", "data")
    cli("commit", "-m", "raw")
    filtered = raw.filter(pc.not_equal(pc.bit_wise_and(raw["id"], 3), 0))
    write_parquet(PATH, filtered)
    cli("add", "data")
    cli("commit", "-m", "filtered")
    return raw, filtered


def head_subject(cli: Cli) -> str:
    return str(cli.json("log", "-n", "1")[0]["message"]).splitlines()[0]


def status(cli: Cli) -> str:
    return cli("status").stdout


def test_mixed_reset_moves_branch_and_index_not_the_work_tree(repo: Repo, cli: Cli, two_commits: tuple[pa.Table, pa.Table]) -> None:
    raw, filtered = two_commits
    cli("reset", "HEAD~1")
    assert head_subject(cli) == "raw"
    assert pq.read_table(repo.root / PATH).num_rows == filtered.num_rows  # the work tree kept the filter
    assert "modified" in status(cli) and "Changes not staged" in status(cli)
    cli("add", "data")
    cli("commit", "-m", "filtered again")
    assert cli("diff", "HEAD~1", "HEAD", "--stat").exit_code == 0


def test_soft_reset_keeps_the_change_staged(repo: Repo, cli: Cli, two_commits: tuple[pa.Table, pa.Table]) -> None:
    cli("reset", "--soft", "HEAD~1")
    assert head_subject(cli) == "raw"
    text = status(cli)
    assert "Changes to be committed" in text and PATH in text and "Changes not staged" not in text


def test_hard_reset_rewrites_the_work_tree_and_reflog_undoes_it(repo: Repo, cli: Cli, two_commits: tuple[pa.Table, pa.Table], same_table: Callable[..., None]) -> None:
    raw, filtered = two_commits
    cli("reset", "--hard", "HEAD~1")
    same_table(pq.read_table(repo.root / PATH), raw)
    assert "nothing to commit" in status(cli)
    entries = cli.json("reflog", "main")
    assert entries[0]["selector"] == "main@{0}" and entries[0]["message"] == "reset: moving to HEAD~1"
    cli("reset", "--hard", "main@{1}")
    same_table(pq.read_table(repo.root / PATH), filtered)
    assert head_subject(cli) == "filtered"


def test_head_reflog_records_switches(repo: Repo, cli: Cli, two_commits: tuple[pa.Table, pa.Table]) -> None:
    cli("switch", "-c", "side", "HEAD~1")
    cli("switch", "main")
    side = cli.json("log", "-n", "1", "side")[0]["id"]
    assert cli.json("log", "-n", "1", "HEAD@{1}")[0]["id"] == side  # where HEAD was before the last switch
    cli("reset", "HEAD~1")
    assert cli.json("log", "-n", "1", "HEAD@{1}")[0]["message"].startswith("filtered")


def test_restore_staged_unstages_without_touching_files(repo: Repo, cli: Cli, two_commits: tuple[pa.Table, pa.Table], write_parquet: Callable[..., Path]) -> None:
    raw, filtered = two_commits
    write_parquet(PATH, raw)
    write_parquet("data/new/extra.parquet", raw.slice(0, 10))
    cli("add", "data")
    cli("restore", "--staged", "data")
    text = status(cli)
    assert "Changes to be committed" not in text
    assert "modified: data/web/part-0.parquet" in text and "Untracked files" in text and "data/new/" in text
    assert pq.read_table(repo.root / PATH).num_rows == raw.num_rows


def test_bad_resets_change_nothing(repo: Repo, cli: Cli, two_commits: tuple[pa.Table, pa.Table], snapshot: Callable[[], object]) -> None:
    before = snapshot()
    error = cli.fails("reset", "HEAD~5").stderr
    assert "goes past the first commit" in error
    assert "only" in cli.fails("reset", "main@{9}").stderr
    assert "exclude each other" in cli.fails("reset", "--soft", "--hard", "HEAD~1").stderr
    assert "no branch 'nope'" in cli.fails("reflog", "nope").stderr
    assert snapshot() == before
