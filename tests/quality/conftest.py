"""Fixtures for quality tests: a repository with a corpus-like table, cgit.toml writing, and the
real CLI run in-process (``qcli``). Shared fixtures (``repo``, ``make_table``,
``write_parquet``) come from ``tests/conftest.py``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from clirun import Cli, RepoSnapshot, snapshot

from corpusgit import Repo


def build_corpus(rows: int = 200, start: int = 0, bad: dict[int, str] | None = None, source: bool = True) -> pa.Table:
    """Clean English rows (unique, 60-90 chars) with id/source/url columns; ``bad`` replaces
    the text of chosen rows (row index -> text) to plant problems."""
    texts = [f"Document {start + i} explains how careful data curation improves language models." for i in range(rows)]
    for i, text in (bad or {}).items():
        texts[i] = text
    columns: dict[str, Any] = {
        "id": pa.array(range(start, start + rows), pa.int64()),
        "text": pa.array(texts, pa.string()),
    }
    if source:
        columns["source"] = pa.array(["web" if i % 3 else "books" for i in range(start, start + rows)], pa.string())
        columns["url"] = pa.array([f"https://{'www.example.com' if i % 2 else 'news.example.org'}/p/{i}" for i in range(start, start + rows)], pa.string())
    return pa.table(columns)


@pytest.fixture
def corpus() -> Callable[..., pa.Table]:
    """``corpus(rows, start=0, bad={row: text}, source=True)``: see ``build_corpus``."""
    return build_corpus


@pytest.fixture
def qcli(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """``qcli("check", "--json")``: the real typer app, cwd at the repository root."""
    monkeypatch.chdir(repo.root)
    return Cli()


@pytest.fixture
def hooks_toml(repo: Repo) -> Callable[[str], Path]:
    """Write ``cgit.toml`` in the work tree (it is read from there, staged or not)."""

    def write(text: str) -> Path:
        path = repo.root / "cgit.toml"
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def stage_table(repo: Repo, write_parquet: Callable[..., Path]) -> Callable[..., None]:
    """``stage_table(table, rel="data/a.parquet", **pq_options)``: write and ``cgit add`` it."""

    def stage(table: pa.Table, rel: str = "data/a.parquet", **options: object) -> None:
        write_parquet(rel, table, **options)
        repo.add([repo.root / rel])

    return stage


@pytest.fixture
def repo_state(repo: Repo) -> Callable[[], RepoSnapshot]:
    """What a refused commit must not change: the work tree, objects, refs, logs, HEAD and the
    index; not caches (checks store the facts they computed, and a refused commit ran them)."""
    return lambda: snapshot(repo.root, skip=("cache",))
