"""Delta Lake and Lance: table formats driven through their Python APIs in a worker.

Each is measured two ways, because users meet both:
- "overwrite": the pipeline's output shards replace the table at every version, the way most
  pipelines that write files would feed it;
- "best": each edit as the table format's native operation (bench/tools/ops/*_ops.py), with
  the feature that gives it a row-level diff switched on.
Re-sharding and shuffling change no row of an unordered table, so in the best case they are
no-ops: the table has no files or order of its own to change. Each step and each checkout
gets a fresh worker process (see the ops modules).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from edit_suite import Version
from edits import shard_paths, tree_bytes
from tools.base import Runner, Timed, Worker, ensure_venv

NO_ORDER = "no-op: no row changed, and the table has no shard files or row order"


class TableFormatRunner(Runner):
    """One table format, used by overwrite or by its native operations (`best`)."""

    venv: ClassVar[str]
    requirements: ClassVar[list[str]]
    ops_script: ClassVar[str]
    best: ClassVar[bool]

    def setup(self, allow_install: bool) -> str | None:
        self.python, reason = ensure_venv(self.venv, self.requirements, allow_install)
        return reason

    def tool_version(self) -> str:
        return str(self.worker.call("version")["version"])

    def start(self, root: Path) -> None:
        assert self.python is not None
        root.mkdir(parents=True)
        self.root = root
        self.uri = str(root / "table")
        self.table_versions: dict[int, int] = {}  # step index -> table version
        self.worker = self._fresh_worker()

    def _fresh_worker(self) -> Worker:
        """A new worker process (the previous one, if any, is ended)."""
        if hasattr(self, "worker"):
            self.worker.close()
        assert self.python is not None
        return Worker(self.python, self.ops_script, self.root / "worker.log")

    def commit(self, version: Version) -> Timed:
        self.worker = self._fresh_worker()
        change = version.change
        if change.kind == "create":
            return self.worker.timed("create", uri=self.uri, best=self.best,
                                     files=[str(p) for p in shard_paths(version.data)])
        if not self.best:
            return self.worker.timed("overwrite", uri=self.uri,
                                     files=[str(p) for p in shard_paths(version.data)])
        if change.kind == "reorder":
            return Timed(None, NO_ORDER)
        if change.kind == "revert":
            assert change.revert_to is not None
            return self.worker.timed("restore", uri=self.uri,
                                     table_version=self.table_versions[change.revert_to])
        payload = [str(p) for p in change.payload]
        if change.kind == "append":
            return self.worker.timed("append", uri=self.uri, files=payload)
        if change.kind == "delete":
            return self.worker.timed("delete", uri=self.uri, ids_file=payload[0])
        if change.kind == "add_column":
            return self.worker.timed("add_column", uri=self.uri, column_file=payload[0])
        return self.worker.timed("update", uri=self.uri, rows_file=payload[0])

    def storage_bytes(self) -> int:
        return tree_bytes(Path(self.uri))

    def mark(self, version: Version) -> None:
        reply = self.worker.call("current_version", uri=self.uri)
        self.table_versions[version.index] = int(reply["version"])

    def diff(self, old: Version, new: Version) -> Timed:
        return self.worker.timed("diff", uri=self.uri, best=self.best,
                                 first=self.table_versions[old.index],
                                 last=self.table_versions[new.index])

    def checkout(self, version: Version) -> Timed:
        self.worker = self._fresh_worker()
        self.checked_out = self.table_versions[version.index]
        return self.worker.timed("read", uri=self.uri, table_version=self.checked_out)

    def digest(self) -> str:
        reply = self.worker.call("digest", uri=self.uri, table_version=self.checked_out)
        return str(reply["digest"])

    def close(self) -> None:
        if hasattr(self, "worker"):
            self.worker.close()
