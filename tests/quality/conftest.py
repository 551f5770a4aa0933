"""Fixtures for quality tests: a repository with a corpus-like table, cgit.toml writing, and the
real CLI run in-process (``qcli``). Shared fixtures (``repo``, ``make_table``,
``write_parquet``) come from ``tests/conftest.py``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner, Result

from corpusgit import Repo
from corpusgit.cli import app


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


class QCli:
    """``qcli("check", "--json")``: the real typer app, cwd at the repository root."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int | None = 0) -> Result:
        result = self.runner.invoke(app, list(args))
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"cgit {' '.join(args)} crashed: {result.exception!r}\n{result.output}") from result.exception
        if code is not None:
            assert result.exit_code == code, f"cgit {' '.join(args)} exited {result.exit_code}, wanted {code}\n{result.output}"
        return result


@pytest.fixture
def qcli(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> QCli:
    monkeypatch.chdir(repo.root)
    return QCli()


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
def repo_state(repo: Repo) -> Callable[[], dict[str, str]]:
    """What a refused commit must not change: objects, refs, HEAD and the index (not caches)."""
    import hashlib

    def capture() -> dict[str, str]:
        files = [p for p in sorted(repo.cgit.rglob("*")) if p.is_file() and p.relative_to(repo.cgit).parts[0] in ("objects", "refs", "HEAD", "index")]
        return {p.relative_to(repo.cgit).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}

    return capture
