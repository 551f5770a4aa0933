"""corpusgit, driven through its `cgit` console script exactly as a user would.

The corpus declares `id` as its key in cgit.toml (one line users write once), so diffs report
modified rows and changed cells, not just rows added and removed.
"""

from __future__ import annotations

import json
import os
from importlib.metadata import version as package_version
from pathlib import Path

from edit_suite import Version
from edits import Cgit, cgit_command
from tools.base import IDENTITY, Timed, ToolError, WorkTreeRunner

PROJECT_FILE = '[tables."data/*"]\nkey = ["id"]\n'


def summarize(entries: list[dict[str, object]]) -> str:
    """One line from `cgit diff --json`: rows added/removed/modified/moved and cells changed.
    A top-level entry is a table, or a dataset (a directory's shards) with its files inside."""
    totals = {"rows_added": 0, "rows_removed": 0, "rows_modified": 0, "moved": 0}
    cells = schema = datasets = 0
    for entry in entries:
        datasets += entry.get("kind") == "dataset"
        for field in totals:
            totals[field] += int(entry.get(field) or 0)  # type: ignore[call-overload]
        cells += sum((entry.get("cells_changed") or {}).values())  # type: ignore[attr-defined]
        schema += len(entry.get("schema_changes") or [])  # type: ignore[arg-type]
    return (f"{len(entries) - datasets} paths, {datasets} datasets; rows +{totals['rows_added']:,} -{totals['rows_removed']:,} "
            f"~{totals['rows_modified']:,}, {totals['moved']:,} moved between files; {cells:,} cells; {schema} schema changes")


class CorpusgitRunner(WorkTreeRunner):
    """`cgit add data/` + `cgit commit`; tags name the versions."""

    name = "corpusgit"
    storage = ".cgit/"
    granularity = "cell (per dataset, keyed by id)"
    checkout_means = "cgit checkout TAG (Parquet files written)"

    def setup(self, allow_install: bool) -> str | None:
        return None  # this repository's own package; run.py runs from its venv

    def tool_version(self) -> str:
        return package_version("corpusgit")

    def init(self) -> None:
        os.environ.update(IDENTITY)
        self.cgit = Cgit(self.tree, tuple(cgit_command()))
        (self.tree / "cgit.toml").write_text(PROJECT_FILE)
        self.cgit.run("init")
        self.cgit.run("add", "cgit.toml")

    def add_commit(self, version: Version) -> float:
        _, add_seconds = self.cgit.run("add", "-q", "data/")
        _, commit_seconds = self.cgit.run("commit", "-m", version.name)
        return add_seconds + commit_seconds

    def storage_dirs(self) -> list[Path]:
        return [self.tree / ".cgit"]

    def mark(self, version: Version) -> None:
        self.cgit.run("tag", f"v{version.index}")

    def diff(self, old: Version, new: Version) -> Timed:
        proc, seconds = self.cgit.run("diff", f"v{old.index}", f"v{new.index}", "--json", "-q")
        try:
            return Timed(seconds, summarize(json.loads(proc.stdout)))
        except json.JSONDecodeError as error:
            raise ToolError(f"cgit diff --json printed no JSON: {error}") from error

    def checkout(self, version: Version) -> Timed:
        _, seconds = self.cgit.run("checkout", "-q", f"v{version.index}")
        return Timed(seconds)
