"""Mix fixtures: a committed corpus with two sources, and a CLI runner.

``corpus`` commits ``data/web`` (two Parquet files, 6,000 rows) and ``data/books`` (one file,
1,500 rows, other ids) on ``main``. Helpers live in ``mixhelp.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest
from clirun import Cli
from mixhelp import make_mix

from corpusgit import Repo
from corpusgit.add import add
from corpusgit.history import commit
from corpusgit.mix.storage import StoredMix


@pytest.fixture
def corpus(repo: Repo, make_table: Callable[..., pa.Table], write_parquet: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> Repo:
    """The two-source corpus, committed on main; cwd is the work tree."""
    web = make_table(rows=6000, seed=0)
    write_parquet("data/web/part-0.parquet", web.slice(0, 3500))
    write_parquet("data/web/part-1.parquet", web.slice(3500))
    write_parquet("data/books/all.parquet", make_table(rows=1500, seed=1))
    monkeypatch.chdir(repo.root)
    add(repo, ["data"])
    commit(repo, "corpus")
    return repo


@pytest.fixture
def mix(corpus: Repo) -> StoredMix:
    return make_mix(corpus)


@pytest.fixture
def cli(corpus: Repo) -> Cli:
    return Cli()
