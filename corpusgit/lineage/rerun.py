"""``cgit rerun``: execute a recorded run again, from its recorded input tables and config, and
say whether the output table ids (and the row effects) came out identical.

Each new output is ingested against the recorded output at its path as its previous version,
exactly as a re-``add`` of the same file would be, so equal rows in equal order give an equal
table id. A run over a dataset is re-run over all its recorded shards, in recorded order.
Nothing in the work tree or index changes; new chunks of a differing output are stored but
unreachable, and ``gc`` removes them.
"""

from __future__ import annotations

import os
import shutil
import uuid
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from corpusgit.errors import BadInput
from corpusgit.lineage.effects import effect_ids
from corpusgit.lineage.outputs import LazyWriter
from corpusgit.lineage.record import LineageRecord, read_record, resolve_record
from corpusgit.lineage.tables import load_table
from corpusgit.ops.config import build_config
from corpusgit.ops.engine import Shard, execute_shards, passes
from corpusgit.ops.registry import find_operator
from corpusgit.progress import NULL_PROGRESS, Progress
from corpusgit.store.canonical import ObjectId
from corpusgit.table.reader import read_table

if TYPE_CHECKING:
    from corpusgit.repo import Repo


@dataclass(frozen=True, slots=True)
class RerunResult:
    """The outcome of a rerun; ``identical`` is the reproducibility verdict."""

    record_id: str
    record: LineageRecord
    tables: tuple[str, ...]  # the output table ids the rerun produced, in recorded output order
    identical: bool  # ... equal the recorded output table ids
    effects_identical: bool  # dropped/modified/created sets are the same sets
    code_changed: bool  # the operator's code hash differs from the recorded one
    version_changed: bool
    rows: int
    seconds: float

    @property
    def table(self) -> str:
        """The (first) output table id: the only one for a run over one table."""
        return self.tables[0]

    @property
    def differing(self) -> list[int]:
        """Positions of the outputs whose table id differs from the recorded one."""
        return [i for i, (new, old) in enumerate(zip(self.tables, self.record.outputs)) if new != old.table]


def rerun(repo: Repo, lineage_id: str, progress: Progress = NULL_PROGRESS) -> RerunResult:
    """Re-execute the run ``lineage_id`` names and compare its outputs with the recorded ones."""
    from corpusgit.ingest_files import IngestSession

    record_id = resolve_record(repo, lineage_id)
    record = read_record(repo.store, record_id)
    if not record.inputs or len(record.inputs) != len(record.outputs):
        raise BadInput(
            f"run {record_id[:12]} ({record.operator.name}) did not write one output per input table",
            hint="only operator runs ('cgit run') can be re-executed",
        )
    found = find_operator(record.operator.name, repo)
    op = found.cls(build_config(record.operator.name, found.cls.Config, record.config))
    tmp = repo.cgit / "tmp" / f"rerun-{os.getpid()}-{uuid.uuid4().hex}"
    tmp.mkdir(parents=True)
    writers = [LazyWriter(tmp / f"{n:06d}.parquet") for n in range(len(record.outputs))]
    try:
        shards = [
            Shard(ref.path, partial(read_table, repo.store, load_table(repo, ref), None, True, ref.path), writer)
            for ref, writer in zip(record.inputs, writers)
        ]
        rows = sum(ref.rows for ref in record.inputs)
        with progress.task(f"re-running {found.cls.name}", rows * passes(op) or None) as task:
            execution = execute_shards(op, shards, task)
        assert execution.effects is not None
        tables = []
        with repo.store.transaction(), progress.task("comparing", execution.rows_out or None) as task:
            session = IngestSession(repo.store, {o.path: ObjectId(o.table) for o in record.outputs})
            try:
                for output, writer in zip(record.outputs, writers):
                    table_id, _ = session.ingest(output.path, writer.path, repo.project().table_key(output.path), task)
                    tables.append(str(table_id))
            finally:
                session.close()
    finally:
        for writer in writers:
            writer.abort()
        shutil.rmtree(tmp, ignore_errors=True)
    recorded = {kind: (ref or {}).get("id") for kind, ref in record.effects.items()}
    return RerunResult(
        record_id, record, tuple(tables), tuple(tables) == tuple(o.table for o in record.outputs),
        effect_ids(execution.effects) == recorded,
        found.code_hash != record.operator.code_hash, found.cls.version != record.operator.version,
        execution.rows_out, execution.seconds,
    )
