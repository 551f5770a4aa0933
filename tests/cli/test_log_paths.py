"""``cgit log [REV] [PATH...]``: the history of one table or dataset."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
from clirun import Cli

from corpusgit import Repo


def subjects(cli: Cli, *args: str) -> list[str]:
    return [str(c["message"]).splitlines()[0] for c in cli.json("log", *args)]


def test_log_of_a_path_lists_only_commits_that_changed_it(repo: Repo, cli: Cli, write_parquet: Callable[..., Path], make_table: Callable[..., pa.Table]) -> None:
    web, books = make_table(500, seed=1), make_table(300, seed=2)
    write_parquet("data/web/part-0.parquet", web)
    cli("add", "data")
    cli("commit", "-m", "web")
    write_parquet("data/books/all.parquet", books)
    cli("add", "data")
    cli("commit", "-m", "books")
    write_parquet("data/web/part-0.parquet", web.slice(0, 400))
    cli("add", "data")
    cli("commit", "-m", "filter web")
    cli("switch", "-c", "side", "HEAD~1")
    write_parquet("data/books/all.parquet", books.slice(10))
    cli("add", "data")
    cli("commit", "-m", "trim books")
    cli("switch", "main")
    cli("merge", "side", "-m", "merge side")

    assert subjects(cli, "data/web") == ["filter web", "web"]
    assert subjects(cli, "data/books/all.parquet") == ["trim books", "books"]
    assert subjects(cli, "HEAD~1", "data/web") == ["filter web", "web"]
    assert subjects(cli, "side", "data/web/part-0.parquet", "data/books") == ["trim books", "books", "web"]
    assert subjects(cli, "-n", "1", "data") == ["merge side"]  # a merge that changed something vs both parents
    assert subjects(cli, "HEAD", "data/missing") == []
    assert "unknown revision 'nosuch'" in cli.fails("log", "nosuch").stderr


def test_add_and_commit_json_give_ci_what_was_recorded(repo: Repo, cli: Cli, write_parquet: Callable[..., Path], make_table: Callable[..., pa.Table]) -> None:
    write_parquet("data/web/part-0.parquet", make_table(200))
    staged = cli.json("add", "data")
    assert staged["changed"] == [{"path": "data/web/part-0.parquet", "change": "added", "kind": "table", "rows_before": None, "rows_after": 200}]
    assert staged["unchanged"] == 0 and staged["new_bytes"] > 0
    assert cli.json("add", "data") == {"changed": [], "unchanged": 1, "new_bytes": 0}
    made = cli.json("commit", "-m", "first")
    assert made["id"] == cli.json("log")[0]["id"] and made["branch"] == "refs/heads/main" and made["message"].strip() == "first"
