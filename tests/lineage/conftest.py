"""Lineage fixtures: a repository whose ``data/raw/web.parquet`` holds the real-text corpus
(English + Chinese, keyed by ``id``), committed; and a CLI runner. Helpers live in
``lineagehelp.py``.
"""

from __future__ import annotations

from typing import Any

import pytest
from clirun import Cli
from lineagehelp import RAW, realtext

from corpusgit import Repo
from corpusgit.add import add
from corpusgit.history import commit


@pytest.fixture
def corpus_repo(repo: Repo, write_parquet: Any, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """The corpus committed at ``data/raw/web.parquet`` with key ``id``; cwd is the work tree."""
    (repo.root / "cgit.toml").write_text('[tables."data/*"]\nkey = ["id"]\n', encoding="utf-8")
    write_parquet(RAW, realtext.corpus_table())
    monkeypatch.chdir(repo.root)
    add(repo, [RAW, "cgit.toml"])
    commit(repo, "raw crawl")
    return repo


@pytest.fixture
def cli(corpus_repo: Repo) -> Cli:
    return Cli()
