"""Oxen (oxenai) on a local repository, through its Python API in bench/.venvs/oxen.

Oxen stores each distinct file once and diffs tabular files row by row (keyed by id) — per
file path, so a re-shard or shuffle shows up as whole files added and removed.
"""

from __future__ import annotations

from pathlib import Path

from edit_suite import Version
from tools.base import Timed, Worker, WorkTreeRunner, ensure_venv

REQUIREMENTS = ["oxenai==0.65.1"]


class OxenRunner(WorkTreeRunner):
    """`repo.add("data")` + `repo.commit()`; a branch per version."""

    name = "Oxen"
    storage = ".oxen/"
    granularity = "cell (per file, keyed by id)"
    checkout_means = "repo.checkout(branch)"

    def setup(self, allow_install: bool) -> str | None:
        self.python, reason = ensure_venv("oxen", REQUIREMENTS, allow_install)
        return reason

    def tool_version(self) -> str:
        return f"oxenai {self.worker.call('version')['version']}"

    def init(self) -> None:
        assert self.python is not None
        home = self.tree.parent / f"{self.tree.name}-home"
        home.mkdir()
        self.worker = Worker(self.python, "oxen_ops.py", self.tree.parent / "oxen.log",
                             {"HOME": str(home)})
        self.worker.call("init", root=str(self.tree), name="bench", email="bench@example.invalid")

    def add_commit(self, version: Version) -> float:
        seconds = self.worker.timed("commit", message=version.name).seconds
        assert seconds is not None
        return seconds

    def storage_dirs(self) -> list[Path]:
        return [self.tree / ".oxen"]

    def mark(self, version: Version) -> None:
        self.worker.call("mark", index=version.index)

    def diff(self, old: Version, new: Version) -> Timed:
        shared = sorted(f"data/{name}" for name in set(old.files) & set(new.files))
        timed = self.worker.timed("diff", old=old.index, new=new.index, paths=shared)
        files = set(old.files) ^ set(new.files)
        return Timed(timed.seconds, f"{timed.detail}; {len(files)} files added or removed")

    def checkout(self, version: Version) -> Timed:
        return self.worker.timed("checkout", index=version.index)

    def close(self) -> None:
        if hasattr(self, "worker"):
            self.worker.close()
