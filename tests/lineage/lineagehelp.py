"""Lineage test helpers: the real-text corpus (loaded by path from ``tests/ops/realtext.py``), a
CLI runner and a repository snapshot. A module of its own (not ``conftest``), so test modules
import it unambiguously when several test directories are collected together.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from corpusgit import Repo
from corpusgit.cli import app

_spec = importlib.util.spec_from_file_location("realtext", Path(__file__).resolve().parent.parent / "ops" / "realtext.py")
assert _spec is not None and _spec.loader is not None
realtext = sys.modules.get("realtext") or importlib.util.module_from_spec(_spec)
if "realtext" not in sys.modules:
    sys.modules["realtext"] = realtext
    _spec.loader.exec_module(realtext)

RAW = "data/raw/web.parquet"


class Cli:
    """``cli("run", ...)`` runs the real typer app in-process; stderr is kept apart."""

    def __call__(self, *args: str, code: int | None = 0) -> Result:
        result = CliRunner().invoke(app, list(args))
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError(f"cgit {' '.join(args)} crashed: {result.exception!r}\n{result.output}") from result.exception
        if code is not None:
            assert result.exit_code == code, f"cgit {' '.join(args)} exited {result.exit_code}, wanted {code}\n{result.output}"
        return result

    def json(self, *args: str) -> Any:
        return json.loads(self(*args, "--json").stdout)

    def fails(self, *args: str) -> tuple[str, str]:
        """A refused command: exit != 0 and exactly the 'error:' and 'hint:' lines."""
        result = self(*args, code=None)
        assert result.exit_code != 0, result.output
        lines = result.stderr.rstrip("\n").split("\n")
        assert len(lines) == 2 and lines[0].startswith("error: ") and lines[1].startswith("hint: "), result.stderr
        return lines[0], lines[1]


def snapshot(repo: Repo) -> dict[str, Any]:
    """What a refused command must leave alone: work tree files, index, objects, refs, log."""
    def files(root: Path, skip: str | None = None) -> dict[str, str]:
        return {
            p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*"))
            if p.is_file() and (skip is None or skip not in p.relative_to(root).parts)
        }

    return {"work": files(repo.root, ".cgit"), "cgit": files(repo.cgit, "tmp")}
