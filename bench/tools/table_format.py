"""Delta Lake and Lance: table formats driven through their Python APIs in a worker.

Each is measured two ways, because users meet both:
- "overwrite": the pipeline's output shards replace the table at every version, the way most
  pipelines that write files would feed it;
- "best": each edit as the table format's native operation (bench/tools/ops/*_ops.py), with
  the feature that gives it a row-level diff switched on.
Re-sharding and shuffling change no row of an unordered table, so in the best case they are
no-ops: the table has no files or order of its own to change.
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
        self.table = root / "table"
        self.worker = Worker(self.python, self.ops_script, root / "worker.log")

    def commit(self, version: Version) -> Timed:
        change = version.change
        if change.kind == "create":
            return self.worker.timed("create", uri=str(self.table),
                                     files=[str(p) for p in shard_paths(version.data)],
                                     best=self.best)
        if not self.best:
            return self.worker.timed("overwrite",
                                     files=[str(p) for p in shard_paths(version.data)])
        if change.kind == "reorder":
            return Timed(None, NO_ORDER)
        if change.kind == "revert":
            return self.worker.timed("restore", index=change.revert_to)
        payload = [str(p) for p in change.payload]
        if change.kind == "append":
            return self.worker.timed("append", files=payload)
        if change.kind == "delete":
            return self.worker.timed("delete", ids_file=payload[0])
        if change.kind == "add_column":
            return self.worker.timed("add_column", column_file=payload[0])
        return self.worker.timed("update", rows_file=payload[0])

    def storage_bytes(self) -> int:
        return tree_bytes(self.table)

    def mark(self, version: Version) -> None:
        self.worker.call("mark", index=version.index)

    def diff(self, old: Version, new: Version) -> Timed:
        return self.worker.timed("diff", old=old.index, new=new.index, best=self.best)

    def checkout(self, version: Version) -> Timed:
        return self.worker.timed("read", index=version.index)

    def digest(self) -> str:
        return str(self.worker.call("digest")["digest"])

    def close(self) -> None:
        if hasattr(self, "worker"):
            self.worker.close()
