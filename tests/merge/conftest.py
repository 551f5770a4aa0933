"""Fixtures for merge tests: keyed (``data/sft``) and keyless (``data/web``) tables edited on
two branches of a real repository."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pytest

from corpusgit import Repo
from corpusgit.add import add
from corpusgit.history import commit

Rows = dict[int, tuple[str, str]]


@pytest.fixture
def keyed_repo(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """``data/sft`` tables are keyed by ``id``; the working directory is the work tree."""
    (repo.root / "cgit.toml").write_text('[tables."data/sft/*"]\nkey = ["id"]\n')
    monkeypatch.chdir(repo.root)
    return repo


@pytest.fixture
def save(keyed_repo: Repo, write_parquet: Callable[..., Path]) -> Callable[[str, pa.Table, str], str]:
    """``save(path, table, message)``: write, add and commit; returns the commit id."""

    def run(path: str, table: pa.Table, message: str) -> str:
        write_parquet(path, table)
        add(keyed_repo, [path, "cgit.toml"])
        return commit(keyed_repo, message).id

    return run


@pytest.fixture
def read_rows(keyed_repo: Repo) -> Callable[[str, str], Rows]:
    """``read_rows(rev, path)`` -> {id: (text, label)}."""

    def run(rev: str, path: str) -> Rows:
        table = keyed_repo.read_table(rev, path).read_all().to_pydict()
        return {i: (t, l) for i, t, l in zip(table["id"], table["text"], table["label"])}

    return run
