"""CLI-test fixtures: ``cli`` runs ``cgit`` in-process inside the ``repo`` fixture, ``snapshot``
captures that repository, ``same_table`` compares tables. The runner and the snapshot themselves
live in ``tests/clirun.py``; ``repo``, ``make_table`` and ``write_parquet`` in ``tests/conftest.py``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pytest
from clirun import Cli, RepoSnapshot
from clirun import snapshot as capture

from corpusgit import Repo


@pytest.fixture
def cli(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """A ``Cli`` running in the ``repo`` work tree (tests may ``monkeypatch.chdir`` elsewhere)."""
    monkeypatch.chdir(repo.root)
    return Cli()


@pytest.fixture
def snapshot(repo: Repo) -> Callable[[], RepoSnapshot]:
    """``snapshot()``: the ``repo`` by value, to prove a refused command changed nothing."""
    return lambda: capture(repo.root)


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
