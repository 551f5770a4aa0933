"""``cgit run``: one operator step from a staged or committed table, or a whole dataset (a
directory of shards), to staged outputs, with its lineage record; and the commit that links
records to the history that uses them.

Nothing is visible until the operator has finished: its outputs are written under
``.cgit/tmp`` and only then moved into the work tree and staged (``outputs``). A failing
operator, a bad config or an output ``add`` refuses therefore leave work tree, index and
history as they were.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import uuid
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from corpusgit.lineage.effects import write_effects
from corpusgit.lineage.outputs import LazyWriter, place_outputs, plan_outputs, stage_outputs
from corpusgit.lineage.record import LineageRecord, OperatorRef, TableRef, cache_key, environment, iter_log, pending_records, read_record, write_record
from corpusgit.lineage.tables import Inputs, resolve_inputs, split_spec
from corpusgit.objects import read_commit
from corpusgit.ops.config import build_config, config_hash, config_to_json
from corpusgit.ops.engine import Shard, execute_shards, passes
from corpusgit.ops.registry import find_operator
from corpusgit.progress import NULL_PROGRESS, Progress
from corpusgit.store.canonical import canonical_json, object_id
from corpusgit.table.reader import read_table

if TYPE_CHECKING:
    from corpusgit.history import CommitResult
    from corpusgit.repo import Repo


@dataclass(frozen=True, slots=True)
class Step:
    """One step as the user wrote it: operator, ``path[@rev]`` input (a table or a dataset's
    directory), output path (a table, or a directory for a dataset), raw config."""

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
    dataset: bool = False  # the input was a directory: one output shard per input shard


def run_step(repo: Repo, step: Step, progress: Progress = NULL_PROGRESS, use_cache: bool = True) -> StepResult:
    """Run (or reuse) one step; its outputs are staged, its lineage record written and logged.

    For a dataset, the shards are one stream in path order: a global operator sees all of them
    before it drops anything, so a row repeated across shards is dropped once (the first
    occurrence is kept), and the run writes one record with every input and output.
    """
    found = find_operator(step.operator, repo)
    config = build_config(step.operator, found.cls.Config, step.config)
    config_json = config_to_json(config)
    cfg_hash = config_hash(config_json)
    in_path, in_rev = split_spec(step.input)
    inputs = resolve_inputs(repo, in_path, in_rev)
    outputs = plan_outputs(repo, inputs, step.output)
    key = cache_key(found.cls.name, found.cls.version, cfg_hash, [r.table for r in inputs.refs], list(outputs))
    if use_cache:
        hit = _cached(repo, key, outputs)
        if hit is not None:
            record_id, record = hit
            place_outputs(repo, record.outputs)
            return StepResult(step, record_id, record, True, 0.0, inputs.dataset)
    op = found.cls(config)
    started = dt.datetime.now(dt.timezone.utc)
    tmp = repo.cgit / "tmp" / f"run-{os.getpid()}-{uuid.uuid4().hex}"
    tmp.mkdir(parents=True)
    writers = [LazyWriter(tmp / f"{n:06d}.parquet") for n in range(len(outputs))]
    try:
        with progress.task(found.cls.name, inputs.rows * passes(op) or None) as task:
            execution = execute_shards(op, _shards(repo, inputs, in_rev, writers), task)
        assert execution.effects is not None
        entries = stage_outputs(repo, [(w.path, o) for w, o in zip(writers, outputs)])
    finally:
        for writer in writers:
            writer.abort()
        shutil.rmtree(tmp, ignore_errors=True)
    effects = write_effects(repo.store, execution.effects)  # after add: a refused add leaves no objects
    record = LineageRecord(
        operator=OperatorRef(found.cls.name, found.cls.version, found.cls.kind, found.code_hash, found.source),
        config=config_json,
        config_hash=cfg_hash,
        inputs=inputs.refs,
        outputs=tuple(TableRef(o, entries[o].id, None, entries[o].rows) for o in outputs),
        effects=effects,
        rules=found.cls.rules,
        stats=execution.stats(op) | {"seconds": round(execution.seconds, 3)},
        environment=environment(found.cls.requires),
        started=started.isoformat(),
        ended=dt.datetime.now(dt.timezone.utc).isoformat(),
    )
    return StepResult(step, write_record(repo, record), record, False, execution.seconds, inputs.dataset)


def _shards(repo: Repo, inputs: Inputs, rev: str | None, writers: list[LazyWriter]) -> list[Shard]:
    """One engine shard per input table, streamed from the store, written to its own file."""
    shards = []
    for ref, table, writer in zip(inputs.refs, inputs.tables, writers):
        needed_by = f"{ref.path}@{rev}" if rev else ref.path
        shards.append(Shard(ref.path, partial(read_table, repo.store, table, None, True, needed_by), writer))
    return shards


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


def _cached(repo: Repo, key: str, outputs: tuple[str, ...]) -> tuple[str, LineageRecord] | None:
    """The newest logged run of this step (same key, same output paths) whose outputs are all
    still stored."""
    for record_id, logged_key in iter_log(repo):
        if logged_key == key:
            record = read_record(repo.store, record_id)
            if tuple(o.path for o in record.outputs) == outputs and all(repo.store.has(o.table) for o in record.outputs):
                return record_id, record
    return None
