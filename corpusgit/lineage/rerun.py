"""``cgit rerun``: execute a recorded run again, from its recorded input table and config, and
say whether the output table id (and the row effects) came out identical.

The new output is ingested against the recorded output as its previous version, exactly as a
re-``add`` of the same file would be, so equal rows in equal order give an equal table id.
Nothing in the work tree or index changes; new chunks of a differing output are stored but
unreachable, and ``gc`` removes them.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from corpusgit.lineage.effects import effect_ids
from corpusgit.lineage.record import LineageRecord, read_record, resolve_record
from corpusgit.lineage.run import LazyWriter
from corpusgit.lineage.tables import load_table
from corpusgit.ops.config import build_config
from corpusgit.ops.engine import execute, passes
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
    table: str  # the output table id the rerun produced
    identical: bool  # ... equals the recorded output table id
    effects_identical: bool  # dropped/modified/created sets are the same sets
    code_changed: bool  # the operator's code hash differs from the recorded one
    version_changed: bool
    rows: int
    seconds: float


def rerun(repo: Repo, lineage_id: str, progress: Progress = NULL_PROGRESS) -> RerunResult:
    """Re-execute the run ``lineage_id`` names and compare its output with the recorded one."""
    from corpusgit.ingest_files import IngestSession

    record_id = resolve_record(repo, lineage_id)
    record = read_record(repo.store, record_id)
    found = find_operator(record.operator.name, repo)
    op = found.cls(build_config(record.operator.name, found.cls.Config, record.config))
    source_ref, output = record.inputs[0], record.outputs[0]
    source = load_table(repo, source_ref)
    tmp = repo.cgit / "tmp" / f"rerun-{os.getpid()}-{uuid.uuid4().hex}.parquet"
    tmp.parent.mkdir(parents=True, exist_ok=True)
    try:
        with progress.task(f"re-running {found.cls.name}", source_ref.rows * passes(op) or None) as task:
            writer = LazyWriter(tmp)
            execution = execute(op, lambda: read_table(repo.store, source, None, True, needed_by=source_ref.path), writer.write, task, source_ref.path)
            assert execution.schema is not None and execution.effects is not None
            writer.close(execution.schema)
        with repo.store.transaction(), progress.task("comparing", execution.rows_out or None) as task:
            session = IngestSession(repo.store, {output.path: ObjectId(output.table)})
            try:
                table_id, _ = session.ingest(output.path, tmp, repo.project().table_key(output.path), task)
            finally:
                session.close()
    finally:
        tmp.unlink(missing_ok=True)
    recorded = {kind: (ref or {}).get("id") for kind, ref in record.effects.items()}
    return RerunResult(
        record_id, record, table_id, table_id == output.table, effect_ids(execution.effects) == recorded,
        found.code_hash != record.operator.code_hash, found.cls.version != record.operator.version,
        execution.rows_out, execution.seconds,
    )
