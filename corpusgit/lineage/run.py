"""``cgit run``: one operator step from a staged or committed table to a staged output, with
its lineage record; and the commit that links records to the history that uses them.

Nothing is visible until the operator has finished: its output is written under ``.cgit/tmp``
and only then moved into the work tree and staged. A failing operator, a bad config or an
output ``add`` refuses therefore leave work tree, index and history as they were.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq

from corpusgit.errors import BadInput, DirtyWorkTree
from corpusgit.index import IndexEntry
from corpusgit.lineage.effects import write_effects
from corpusgit.lineage.record import LineageRecord, OperatorRef, TableRef, cache_key, environment, iter_log, pending_records, read_record, write_record
from corpusgit.lineage.tables import resolve_table_ref, split_spec
from corpusgit.objects import MODE_FILE, TABLE, read_commit
from corpusgit.ops.config import build_config, config_hash, config_to_json
from corpusgit.ops.engine import execute, passes
from corpusgit.ops.registry import find_operator
from corpusgit.progress import NULL_PROGRESS, Progress
from corpusgit.store.canonical import ObjectId, canonical_json, object_id
from corpusgit.store.atomic import write_via
from corpusgit.table.reader import read_table
from corpusgit.worktree import is_table_path

if TYPE_CHECKING:
    from corpusgit.history import CommitResult
    from corpusgit.repo import Repo


@dataclass(frozen=True, slots=True)
class Step:
    """One step as the user wrote it: operator, ``path[@rev]`` input, output path, raw config."""

    operator: str
    input: str
    output: str
    config: dict[str, Any]


@dataclass(frozen=True, slots=True)
class StepResult:
    """What ``run_step`` did; ``record`` is the earlier run's when ``cached``."""

    step: Step
    record_id: str
    record: LineageRecord
    cached: bool  # True: an earlier run with the same key was reused, nothing was executed
    seconds: float


def run_step(repo: Repo, step: Step, progress: Progress = NULL_PROGRESS, use_cache: bool = True) -> StepResult:
    """Run (or reuse) one step; its output is staged, its lineage record written and logged."""
    found = find_operator(step.operator, repo)
    config = build_config(step.operator, found.cls.Config, step.config)
    config_json = config_to_json(config)
    cfg_hash = config_hash(config_json)
    in_path, in_rev = split_spec(step.input)
    source_ref, source_table = resolve_table_ref(repo, in_path, in_rev)
    output = _check_output(repo, step.output)
    key = cache_key(found.cls.name, found.cls.version, cfg_hash, [source_ref.table])
    if use_cache:
        hit = _cached(repo, key, output)
        if hit is not None:
            record_id, record = hit
            _place(repo, output, record.outputs[0].table)
            return StepResult(step, record_id, record, True, 0.0)
    op = found.cls(config)
    started = dt.datetime.now(dt.timezone.utc)
    tmp = repo.cgit / "tmp" / f"run-{os.getpid()}-{uuid.uuid4().hex}.parquet"
    tmp.parent.mkdir(parents=True, exist_ok=True)
    try:
        with progress.task(f"{found.cls.name}", source_ref.rows * passes(op) or None) as task:
            writer = LazyWriter(tmp)
            source = lambda: read_table(repo.store, source_table, None, True, needed_by=step.input)  # noqa: E731
            execution = execute(op, source, writer.write, task, label=in_path)
            assert execution.schema is not None and execution.effects is not None
            writer.close(execution.schema)
        out_entry = _stage(repo, tmp, output)
    finally:
        tmp.unlink(missing_ok=True)
    effects = write_effects(repo.store, execution.effects)  # after add: a refused add leaves no objects
    record = LineageRecord(
        operator=OperatorRef(found.cls.name, found.cls.version, found.cls.kind, found.code_hash, found.source),
        config=config_json,
        config_hash=cfg_hash,
        inputs=(source_ref,),
        outputs=(TableRef(output, out_entry.id, None, out_entry.rows),),
        effects=effects,
        rules=found.cls.rules,
        stats=execution.stats(op) | {"seconds": round(execution.seconds, 3)},
        environment=environment(found.cls.requires),
        started=started.isoformat(),
        ended=dt.datetime.now(dt.timezone.utc).isoformat(),
    )
    return StepResult(step, write_record(repo, record), record, False, execution.seconds)


def commit_runs(repo: Repo, message: str, record_ids: list[str]) -> CommitResult | None:
    """Commit the index, linking the given records and any earlier uncommitted run whose output
    is still staged as that run left it. None when the index is HEAD's tree already (a pipeline
    re-run entirely from the run-cache): there is nothing new to record."""
    from corpusgit.history import commit

    head = repo.refs.head_commit()
    if head is not None and object_id(canonical_json(repo.read_index().to_tree().to_json())) == read_commit(repo.store, head).tree:
        return None
    linked = list(dict.fromkeys([*record_ids, *pending_records(repo)]))
    return commit(repo, message, lineage=tuple(linked))


def _cached(repo: Repo, key: str, output: str) -> tuple[str, LineageRecord] | None:
    """The newest logged run of this step (same key, same output path) whose output is still stored."""
    for record_id, logged_key in iter_log(repo):
        if logged_key == key:
            record = read_record(repo.store, record_id)
            if record.outputs[0].path == output and repo.store.has(record.outputs[0].table):
                return record_id, record
    return None


def _check_output(repo: Repo, raw: str) -> str:
    """A table path in the work tree that holds nothing uncommitted we would overwrite."""
    path = raw.strip("/")
    if not is_table_path(path, repo.project().table_suffixes()):
        raise BadInput(f"output {raw} is not a table path", hint="name it *.parquet")
    full = repo.root / path
    if full.is_dir():
        raise BadInput(f"output {raw} is a directory", hint="name the output file, e.g. data/clean/part-0.parquet")
    if full.exists():
        entry = repo.read_index().entries.get(path)
        if entry is None or not entry.matches(full.stat()):
            raise DirtyWorkTree(f"output {raw} has changes that are not staged", hint=f"stage or remove it first (cgit add {path}), or choose another --output")
    return path


class LazyWriter:
    """A Parquet writer opened by the first batch, so its schema is the operator's output schema."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: pq.ParquetWriter | None = None

    def write(self, batch: pa.RecordBatch) -> None:
        if self._writer is None:
            self._writer = _open_writer(self.path, batch.schema)
        self._writer.write_batch(batch)

    def close(self, schema: pa.Schema) -> None:
        if self._writer is None:
            self._writer = _open_writer(self.path, schema)
        self._writer.close()


def _open_writer(path: Path, schema: pa.Schema) -> pq.ParquetWriter:
    return pq.ParquetWriter(path, schema, compression="zstd", compression_level=3, version="2.6", write_statistics=True)


def _stage(repo: Repo, tmp: Path, output: str) -> IndexEntry:
    """Move the finished output into the work tree and ``add`` it; on refusal put back what was there."""
    from corpusgit.add import add

    full = repo.root / output
    full.parent.mkdir(parents=True, exist_ok=True)
    backup = tmp.with_suffix(".previous") if full.exists() else None
    if backup is not None:
        os.replace(full, backup)
    os.replace(tmp, full)
    try:
        add(repo, [str(full)])
    except BaseException:
        full.unlink(missing_ok=True)
        if backup is not None:
            os.replace(backup, full)
        raise
    if backup is not None:
        backup.unlink(missing_ok=True)
    return repo.read_index().entries[output]


def _place(repo: Repo, output: str, table_id: str) -> None:
    """Put a stored table version at ``output`` (work tree and index) without re-running anything."""
    from corpusgit.table.model import TableObject

    with repo.locked_index() as (index, lock):
        current = index.entries.get(output)
        full = repo.root / output
        if current is not None and current.id == table_id and full.exists() and current.matches(full.stat()):
            return
        table = TableObject.from_json(repo.store.get_meta(table_id, needed_by=output))

        def write(tmp: Path) -> None:
            reader = read_table(repo.store, table, needed_by=output)
            with _open_writer(tmp, reader.schema) as writer:
                for batch in reader:
                    writer.write_batch(batch)

        write_via(full, write)
        index.entries[output] = IndexEntry(TABLE, ObjectId(table_id), MODE_FILE, rows=table.num_rows).with_stat(full.stat())
        repo.save_index(lock, index)

