"""CLI-test helpers: run ``cgit`` in-process inside the ``repo`` fixture, and snapshot repo state.

The shared fixtures (``repo``, ``make_table``, ``write_parquet``) live in ``tests/conftest.py``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pytest
from typer.testing import CliRunner, Result

from corpusgit import Repo
from corpusgit.cli import app


class Cli:
    """``cli("add", ".")`` runs the real typer app with cwd at the repository root."""

    def __init__(self) -> None:
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int | None = 0) -> Result:
        result = self.runner.invoke(app, list(args))
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"cgit {' '.join(args)} crashed: {result.exception!r}\n{result.output}") from result.exception
        if code is not None:
            assert result.exit_code == code, f"cgit {' '.join(args)} exited {result.exit_code}, wanted {code}\n{result.output}"
        return result

    def json(self, *args: str) -> Any:
        """Run a verb with ``--json`` and parse stdout (which must be JSON and nothing else)."""
        return json.loads(self(*args, "--json").stdout)

    def fails(self, *args: str) -> Result:
        """Run a verb that must be refused with the one-line ``error:`` + ``hint:`` report."""
        result = self(*args, code=None)
        assert result.exit_code != 0, f"cgit {' '.join(args)} should have failed\n{result.output}"
        assert_error_report(result.stderr)
        return result

    error_report = staticmethod(lambda stderr: assert_error_report(stderr))


def assert_error_report(stderr: str) -> tuple[str, str]:
    """Exactly one ``error:`` line then one ``hint:`` line; no traceback."""
    lines = stderr.rstrip("\n").split("\n")
    assert len(lines) == 2, f"want 'error:' + 'hint:' lines, got:\n{stderr}"
    assert lines[0].startswith("error: ") and len(lines[0]) > len("error: "), stderr
    assert lines[1].startswith("hint: ") and len(lines[1]) > len("hint: "), stderr
    assert "Traceback" not in stderr
    return lines[0], lines[1]


@pytest.fixture
def cli(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """A ``Cli`` running in the ``repo`` work tree (tests may ``monkeypatch.chdir`` elsewhere)."""
    monkeypatch.chdir(repo.root)
    return Cli()


@dataclass(frozen=True)
class RepoState:
    """What a refused command must not change: index bytes, objects, refs and HEAD."""

    index: bytes | None
    objects: dict[str, str]
    refs: dict[str, str]
    head: str

    @classmethod
    def capture(cls, repo: Repo) -> RepoState:
        index = repo.cgit / "index"
        objects = {
            p.relative_to(repo.store.root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(repo.store.root.rglob("*"))
            if p.is_file()
        }
        refs = {
            p.relative_to(repo.cgit).as_posix(): p.read_text()
            for p in sorted((repo.cgit / "refs").rglob("*"))
            if p.is_file()
        }
        return cls(index.read_bytes() if index.exists() else None, objects, refs, (repo.cgit / "HEAD").read_text())


@pytest.fixture
def snapshot(repo: Repo) -> Callable[[], RepoState]:
    return lambda: RepoState.capture(repo)


def normalise_rows(table: pa.Table) -> list[dict[str, Any]]:
    """Rows as Python values with NaN made comparable (Arrow's equality treats NaN != NaN)."""

    def fix(value: Any) -> Any:
        if isinstance(value, float) and math.isnan(value):
            return "NaN"
        if isinstance(value, list):
            return [fix(v) for v in value]
        if isinstance(value, dict):
            return {k: fix(v) for k, v in value.items()}
        return value

    return [fix(row) for row in table.to_pylist()]


def assert_same_table(got: pa.Table, want: pa.Table) -> None:
    """Logically identical: same schema (names, types, nullability), same rows in the same order."""
    assert got.schema.names == want.schema.names
    assert [f.type for f in got.schema] == [f.type for f in want.schema]
    assert [f.nullable for f in got.schema] == [f.nullable for f in want.schema]
    assert got.num_rows == want.num_rows
    assert normalise_rows(got) == normalise_rows(want)


@pytest.fixture
def same_table() -> Callable[[pa.Table, pa.Table], None]:
    """``same_table(got, want)``: fixtures are how test modules share helpers without imports."""
    return assert_same_table
