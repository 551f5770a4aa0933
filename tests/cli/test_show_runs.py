"""``cgit show`` names the operator runs a commit links, so a reviewer sees which step made it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
from clirun import Cli

from corpusgit import Repo


def test_show_lists_the_runs_a_commit_links(repo: Repo, cli: Cli, write_parquet: Callable[..., Path], make_table: Callable[..., pa.Table]) -> None:
    table = make_table(3_000)
    write_parquet("data/raw/web.parquet", table)
    cli("add", "data")
    cli("commit", "-m", "raw")
    assert "Runs:" not in cli("show").stdout
    cli("run", "filter-length", "-i", "data/raw/web.parquet", "-o", "data/clean/web.parquet", "-c", "min_chars=600", "-q", "--commit")
    dropped = int(pc.sum(pc.less(pc.utf8_length(table["text"]), 600)).as_py())
    assert 0 < dropped < table.num_rows
    text = cli("show").stdout
    run_id = cli.json("show")["lineage"][0][:12]
    assert f"Runs:   filter-length v1 ({run_id}): data/raw/web.parquet → data/clean/web.parquet; dropped {dropped:,}" in text
