"""Running one operator over a stream of batches, with row identity and row effects.

The engine feeds an operator batches without ``_cgit_row``, checks what comes back, and keeps
track of identity: a filter's kept rows keep their hash; a map's output rows get theirs from
the input hash plus the hash change of the columns it touched (row hashes are sums of
per-column cell hashes), so a map that adds one integer column costs one vectorised pass, not a
re-hash of the documents. Any exception an operator raises is re-raised as ``OperatorFailed``
naming the operator, the batch and its row range; the caller has staged nothing yet.

A run covers one table or a dataset of several (``execute_shards``). The shards form one
stream: a global operator observes every shard, prepares once, then applies shard by shard;
``RowIds.start`` counts rows across the whole stream, so "the first occurrence" means the first
in shard order. Each shard's output goes to its own sink, so outputs line up with inputs.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Protocol

import numpy as np
import pyarrow as pa

from corpusgit.lineage.effects import EffectsBuilder, RowEffects
from corpusgit.ops.base import MAP, NO_RULE, Derived, GlobalOperator, Operator, OperatorFailed, RowIds, Verdict
from corpusgit.errors import CorpusGitError
from corpusgit.progress import Task
from corpusgit.store.canonical import canonical_json
from corpusgit.table.hashing import array_lanes, binary_to_lanes, column_seed
from corpusgit.table.schema import ROW_HASH_COLUMN, canonical_schema, type_to_json

Source = Callable[[], pa.RecordBatchReader]  # opens the input (with _cgit_row); global operators open it twice
Sink = Callable[[pa.RecordBatch], None]


class ShardSink(Protocol):
    """Where one shard's output goes: batches in order, then ``close`` with the run's output schema.

    ``close`` is called once per shard, also for a shard whose output is empty (its file still
    gets the schema every other shard has).
    """

    def write(self, batch: pa.RecordBatch) -> None: ...

    def close(self, schema: pa.Schema) -> None: ...


@dataclass(frozen=True, slots=True)
class Shard:
    """One input table of a run: ``label`` names it in error messages (its path)."""

    label: str
    source: Source
    sink: ShardSink


@dataclass
class Execution:
    """What one run did: counts, timing, per-rule drops, operator counts and row effects."""

    rows_in: int = 0
    rows_out: int = 0
    batches: int = 0
    seconds: float = 0.0
    by_rule: Counter[str] = field(default_factory=Counter)
    effects: RowEffects | None = None
    schema: pa.Schema | None = None
    shard_rows_out: list[int] = field(default_factory=list)  # rows written per shard, in shard order

    def stats(self, op: Operator[Any]) -> dict[str, Any]:
        """The stats a lineage record keeps (counts per rule and per operator counter, rows/s)."""
        assert self.effects is not None
        return {
            "rows_in": self.rows_in,
            "rows_out": self.rows_out,
            "batches": self.batches,
            "dropped": int(len(self.effects.dropped)),
            "modified": int(len(self.effects.modified)),
            "created": int(len(self.effects.created)),
            "dropped_by_rule": dict(sorted(self.by_rule.items())),
            "operator": dict(sorted(op.counts.items())),
            "rows_per_second": round(self.rows_in / self.seconds) if self.seconds > 0 else None,
        }


def passes(op: Operator[Any]) -> int:
    """How many times ``execute`` reads the input (progress bars count rows of every pass)."""
    return 2 if isinstance(op, GlobalOperator) else 1


class _CallSink:
    """A plain callable as a shard sink; the caller closes its own writer (``execute``)."""

    def __init__(self, sink: Sink) -> None:
        self._sink = sink

    def write(self, batch: pa.RecordBatch) -> None:
        self._sink(batch)

    def close(self, schema: pa.Schema) -> None:
        return None


def execute(op: Operator[Any], source: Source, sink: Sink, task: Task | None = None, label: str = "input") -> Execution:
    """Run ``op`` over one table; output batches go to ``sink`` in input order."""
    return execute_shards(op, [Shard(label, source, _CallSink(sink))], task)


def execute_shards(op: Operator[Any], shards: Sequence[Shard], task: Task | None = None) -> Execution:
    """Run ``op`` over the shards of a dataset, in the given order, as one stream of rows.

    A global operator observes every shard before it applies to any; filters and maps go shard
    by shard with the same operator instance. One batch is in memory at a time.
    """
    if not shards:
        raise ValueError("execute_shards needs at least one shard")
    run = _Run(op, task)
    started = time.perf_counter()
    if isinstance(op, GlobalOperator):
        run.start_pass()
        for shard in shards:
            for batch, rows in run.batches(shard):
                run.guard(rows, partial(op.observe, batch, rows))
        run.guard(None, op.prepare)
    run.apply_pass(shards)
    run.result.seconds = time.perf_counter() - started
    run.result.effects = run.effects.build()
    run.result.schema = run.out_schema
    return run.result


class _Run:
    def __init__(self, op: Operator[Any], task: Task | None) -> None:
        self.op = op
        self.task = task
        self.label = "input"
        self.result = Execution()
        self.effects = EffectsBuilder()
        self.out_schema: pa.Schema | None = None
        self.reader_schema: pa.Schema | None = None
        self.batch_no = 0
        self.position = 0  # rows of the pass so far, across shards: what RowIds.start counts
        self.shard_start = 0  # ... where the current shard began (error messages count per shard)

    def start_pass(self) -> None:
        self.position = 0

    def apply_pass(self, shards: Sequence[Shard]) -> None:
        """The final pass: apply to every batch; each shard's sink is closed once the output
        schema is known (a shard that wrote nothing gets it from a later shard, or from
        ``empty_schema`` when every output is empty)."""
        self.start_pass()
        waiting: list[ShardSink] = []
        for shard in shards:
            rows_before = self.result.rows_out
            for batch, rows in self.batches(shard):
                self.step(batch, rows, shard.sink)
            self.result.shard_rows_out.append(self.result.rows_out - rows_before)
            waiting.append(shard.sink)
            if self.out_schema is not None:
                for sink in waiting:
                    sink.close(self.out_schema)
                waiting.clear()
        if self.out_schema is None:
            assert self.reader_schema is not None
            self.out_schema = self.empty_schema(self.reader_schema)
        for sink in waiting:
            sink.close(self.out_schema)

    def batches(self, shard: Shard) -> Iterator[tuple[pa.RecordBatch, RowIds]]:
        """(batch without _cgit_row, its RowIds) of one shard, numbering batches for error messages."""
        self.label = shard.label
        self.shard_start = self.position
        self.batch_no = 0
        reader = shard.source()
        self.reader_schema = reader.schema
        for number, batch in enumerate(reader):
            self.batch_no = number
            hi, lo = binary_to_lanes(batch.column(ROW_HASH_COLUMN))
            data = batch.drop_columns([ROW_HASH_COLUMN])
            yield data, RowIds(hi, lo, self.position)
            self.position += batch.num_rows
            if self.task is not None:
                self.task.advance(batch.num_rows)

    def guard(self, rows: RowIds | None, call: Callable[[], Any]) -> Any:
        """Call into the operator; a crash becomes ``OperatorFailed`` naming where it happened."""
        try:
            return call()
        except CorpusGitError:  # already says what is wrong and what to do (a missing column, ...)
            raise
        except Exception as exc:
            raise self.failure(rows, f"{type(exc).__name__}: {exc}") from exc

    def failure(self, rows: RowIds | None, why: str) -> OperatorFailed:
        first = rows.start - self.shard_start if rows is not None else 0
        where = (
            f"batch {self.batch_no} (rows {first:,}-{first + len(rows) - 1:,} of {self.label})"
            if rows is not None and len(rows)
            else f"batch {self.batch_no} of {self.label}" if rows is not None else "between its passes"
        )
        return OperatorFailed(
            f"operator '{self.op.name}' failed in {where}: {why}",
            hint="nothing was staged; fix the operator or its config (--debug shows the traceback)",
        )

    def step(self, batch: pa.RecordBatch, rows: RowIds, sink: ShardSink) -> None:
        """One batch of the final pass: apply, check the result, record effects, emit to ``sink``."""
        self.result.batches += 1
        self.result.rows_in += batch.num_rows
        out = self.guard(rows, partial(self.op.apply, batch, rows))
        if self.op.kind == MAP:
            self._map(batch, rows, out, sink)
        else:
            self._filter(batch, rows, out, sink)

    def _filter(self, batch: pa.RecordBatch, rows: RowIds, out: Any, sink: ShardSink) -> None:
        verdict = out if isinstance(out, Verdict) else Verdict(np.asarray(out, dtype=bool))
        keep = np.asarray(verdict.keep, dtype=bool)
        if keep.shape != (batch.num_rows,):
            raise self.failure(rows, f"returned a mask of {keep.size} values for {batch.num_rows} rows")
        drop = ~keep
        rule = np.full(batch.num_rows, NO_RULE, np.int32) if verdict.rule is None else np.asarray(verdict.rule, np.int32)
        dup_hi, dup_lo = verdict.duplicate_of if verdict.duplicate_of is not None else (np.zeros(batch.num_rows, np.uint64),) * 2
        self.effects.dropped(rows.hi[drop], rows.lo[drop], rule[drop], dup_hi[drop], dup_lo[drop])
        codes, counts = np.unique(rule[drop], return_counts=True)
        for code, count in zip(codes.tolist(), counts.tolist()):
            self.result.by_rule[self.op.rules[code] if 0 <= code < len(self.op.rules) else "unnamed"] += count
        self._emit(batch.filter(pa.array(keep)) if drop.any() else batch, rows, sink)

    def _map(self, batch: pa.RecordBatch, rows: RowIds, out: Any, sink: ShardSink) -> None:
        derived = out if isinstance(out, Derived) else None
        result = derived.batch if derived is not None else out
        if not isinstance(result, pa.RecordBatch):
            raise self.failure(rows, f"returned {type(result).__name__}, not a pyarrow RecordBatch")
        if ROW_HASH_COLUMN in result.schema.names:
            raise self.failure(rows, f"returned the reserved column {ROW_HASH_COLUMN}")
        result = _canonical(result)
        if derived is None:
            if result.num_rows != batch.num_rows:
                raise self.failure(rows, f"returned {result.num_rows} rows for {batch.num_rows} (return Derived(batch, parent) to change the row count)")
            parent = np.arange(batch.num_rows)
        else:
            parent = np.asarray(derived.parent, dtype=np.int64)
            if parent.shape != (result.num_rows,) or (parent >= batch.num_rows).any():
                raise self.failure(rows, "Derived.parent must give one input row (or -1) per output row")
        new_hi, new_lo = output_lanes(batch, result, rows.hi, rows.lo, parent)
        from_input = parent >= 0
        src = parent[from_input]
        changed = (new_hi[from_input] != rows.hi[src]) | (new_lo[from_input] != rows.lo[src])
        self.effects.modified(rows.hi[src][changed], rows.lo[src][changed], new_hi[from_input][changed], new_lo[from_input][changed])
        self.effects.created(new_hi[~from_input], new_lo[~from_input])
        if derived is not None:
            orphan = np.ones(batch.num_rows, dtype=bool)
            orphan[src] = False
            zeros = np.zeros(int(orphan.sum()), np.uint64)
            self.effects.dropped(rows.hi[orphan], rows.lo[orphan], np.full(len(zeros), NO_RULE, np.int32), zeros, zeros)
            self.result.by_rule["unnamed"] += len(zeros)
        self._emit(result, rows, sink)

    def _emit(self, out: pa.RecordBatch, rows: RowIds, sink: ShardSink) -> None:
        if self.out_schema is None:
            self.out_schema = out.schema
        elif out.schema != self.out_schema:
            raise self.failure(rows, f"changed its output schema between batches ({self.out_schema} -> {out.schema})")
        self.result.rows_out += out.num_rows
        if out.num_rows:
            sink.write(out)

    def empty_schema(self, schema: pa.Schema) -> pa.Schema:
        """Output schema of a run over no rows: a map shows it on an empty batch."""
        data = pa.schema([f for f in schema if f.name != ROW_HASH_COLUMN], metadata=schema.metadata)
        if self.op.kind != MAP:
            return data
        empty = pa.RecordBatch.from_pylist([], schema=data)
        rows = RowIds(np.zeros(0, np.uint64), np.zeros(0, np.uint64), 0)
        out = self.guard(rows, partial(self.op.apply, empty, rows))
        result = out.batch if isinstance(out, Derived) else out
        return _canonical(result).schema


def _canonical(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Cast to canonical types (what ingest will store), so hashes here match ``add``'s."""
    schema = canonical_schema(batch.schema)
    if schema == batch.schema:
        return batch
    return pa.RecordBatch.from_arrays([col.cast(f.type) for col, f in zip(batch.columns, schema)], schema=schema)


def output_lanes(before: pa.RecordBatch, after: pa.RecordBatch, hi: np.ndarray, lo: np.ndarray, parent: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Row hashes of ``after``: its parent's hash, minus the cells that went, plus the new ones.

    Columns passed through untouched (same buffers) cost nothing; rows with ``parent == -1``
    start from zero, which makes theirs a plain hash of their cells.
    """
    valid = parent >= 0
    safe = np.where(valid, parent, 0)
    out_hi = np.where(valid, hi[safe], np.uint64(0))
    out_lo = np.where(valid, lo[safe], np.uint64(0))
    old = {f.name: (f, before.column(i)) for i, f in enumerate(before.schema)}
    identity = valid.all() and len(parent) == before.num_rows and bool((parent == np.arange(len(parent))).all())
    with np.errstate(over="ignore"):
        for i, f in enumerate(after.schema):
            new_col = after.column(i)
            prev = old.pop(f.name, None)
            if prev is not None and prev[0].type == f.type and identity and _same_buffers(prev[1], new_col):
                continue
            if prev is not None:
                p_hi, p_lo = _cell_lanes(prev[0], prev[1])
                out_hi -= np.where(valid, p_hi[safe], np.uint64(0))
                out_lo -= np.where(valid, p_lo[safe], np.uint64(0))
            c_hi, c_lo = _cell_lanes(f, new_col)
            out_hi += c_hi
            out_lo += c_lo
        for f, col in old.values():
            p_hi, p_lo = _cell_lanes(f, col)
            out_hi -= np.where(valid, p_hi[safe], np.uint64(0))
            out_lo -= np.where(valid, p_lo[safe], np.uint64(0))
    return out_hi, out_lo


def _cell_lanes(f: pa.Field, arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    return array_lanes(arr, column_seed(f.name, canonical_json(type_to_json(f.type)).decode()))


def _same_buffers(a: pa.Array, b: pa.Array) -> bool:
    """True when ``b`` is ``a`` passed through (no copy), which is the common case in a map."""
    if len(a) != len(b) or a.offset != b.offset or a.type != b.type:
        return False
    return all((x is None and y is None) or (x is not None and y is not None and x.address == y.address and x.size == y.size)
               for x, y in zip(a.buffers(), b.buffers()))
