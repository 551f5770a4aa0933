"""``cgit why``: the story of one row, from its source table through every run above a table.

A row still in the table is traced upwards: in each run, either it is a row the run created
(the story starts there), or the run modified it from an older row (follow that one), or it
passed through unchanged. A row no longer in the table is found upstream (by ``_cgit_row`` or
key) and the run that dropped it is looked up in the runs' row effects, which gives the rule
and, for dedup, the row it duplicated.

A run over a dataset has many inputs: the story follows the input that actually holds the row
(the shard ``outputs[i]`` was written from is tried first), found by reading only row hashes
(16 bytes a row). A dropped row is charged to the shard it was dropped from, and the row it
duplicated is looked up in the run's inputs too, so a cross-shard duplicate names both shards.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from corpusgit.errors import BadInput
from corpusgit.lineage.effects import find_rows, read_effect_set
from corpusgit.lineage.graph import Node, Run, iter_nodes, upstream
from corpusgit.lineage.record import TableRef
from corpusgit.lineage.tables import load_table
from corpusgit.table.hashing import binary_to_lanes
from corpusgit.table.reader import read_table
from corpusgit.table.schema import ROW_HASH_COLUMN

if TYPE_CHECKING:
    from corpusgit.repo import Repo
    from corpusgit.table.model import TableObject

_HASH = re.compile(r"(?:0x)?([0-9a-fA-F]{32})")
Row = tuple[int, int]  # (hi, lo) lanes of a _cgit_row


@dataclass(frozen=True, slots=True)
class Event:
    """One thing that happened to the row: ``source``, ``created``, ``modified``, ``kept`` or ``dropped``."""

    kind: str
    table: TableRef  # the table the row is in after this event (for ``dropped``: the input it was dropped from)
    row: str  # _cgit_row (hex) after the event; for ``dropped`` the row that was dropped
    run: str | None = None
    operator: str | None = None
    version: str | None = None
    commit: str | None = None  # commit linking the run (or, for ``source``, holding the table)
    previous: str | None = None  # ``modified``: the row before
    rule: str | None = None  # ``dropped``: the rule that dropped it
    duplicate_of: str | None = None  # ``dropped`` by dedup: the kept row it duplicated
    duplicate_in: str | None = None  # ... and the input table that held the kept row


@dataclass(frozen=True, slots=True)
class WhyReport:
    """The answer to ``cgit why``: where the row is (if anywhere) and its story."""

    path: str
    rev: str | None
    query: str
    present: bool  # the row is in the table asked about
    index: int | None  # its position there
    row: str | None  # its _cgit_row there (present) or as identified upstream
    events: list[Event]  # source first


def why(repo: Repo, path: str, rev: str | None, query: str) -> WhyReport:
    """Where a row came from and what every run above ``path@rev`` did to it."""
    root = upstream(repo, path, rev)
    target = load_table(repo, root.ref)
    located = _locate(repo, target, root.ref, query)
    story = _Story(repo, root)
    if located is not None:
        row, index = located
        return WhyReport(path, rev, query, True, index, _hex(row), story.back(root, row))
    wanted = _parse_hash(query)
    elsewhere: tuple[str, str, str] | None = None
    if wanted is not None:
        dropped = story.find_drop(story.runs, wanted)
    else:
        dropped = None
        for node, row in _key_upstream(repo, story, target, query):
            dropped = story.find_drop(story.runs_below(node), row, node)
            if dropped is not None:
                break
            elsewhere = elsewhere or story.kept_elsewhere(node, row)
    if dropped is not None:
        holder, event, before = dropped
        return WhyReport(path, rev, query, False, None, event.row, story.back(holder, before) + [event])
    hint = "pass the row's _cgit_row (32 hex digits), its key, or an index of a row that exists"
    if wanted is None and elsewhere is not None:
        hint = f"it is in {elsewhere[0]}, which {elsewhere[1]} wrote to {elsewhere[2]}, not to {path}"
    raise BadInput(f"row {query} is not in {path} and no recorded run above it dropped it", hint=hint)


def _key_upstream(repo: Repo, story: _Story, target: TableObject, query: str) -> Iterator[tuple[Node, Row]]:
    """Tables above the target holding the row a key names, nearest first."""
    for node in story.nodes[1:]:
        found = _locate(repo, load_table(repo, node.ref), node.ref, query, key_columns=target.key)
        if found is not None:
            yield node, found[0]


class _Story:
    """The graph above one table, with the row effects and row-hash look-ups a story needs
    (each effect set is read once, each table's hashes only when a run has several inputs)."""

    def __init__(self, repo: Repo, root: Node) -> None:
        self.repo = repo
        self.root = root
        self.nodes = list(iter_nodes(root))  # nearest first
        self.readers: dict[int, list[Node]] = {}  # node -> the nodes whose run read it
        seen: dict[str, Node] = {}
        for node in self.nodes:
            if node.run is not None and node.run.id not in seen:
                seen[node.run.id] = node
            for child in node.inputs:
                self.readers.setdefault(id(child), []).append(node)
        self.runs = list(reversed(seen.values()))  # one output node per run, farthest run first
        self._sets: dict[tuple[str, str], np.ndarray] = {}
        self._holds: dict[tuple[str, Row], bool] = {}

    def effects(self, run: Run, kind: str) -> np.ndarray:
        if (run.id, kind) not in self._sets:
            self._sets[(run.id, kind)] = read_effect_set(self.repo.store, run.record.effects.get(kind), kind, f"lineage {run.id[:12]}")
        return self._sets[(run.id, kind)]

    def holds(self, node: Node, row: Row) -> bool:
        """Whether ``node``'s table has ``row`` (streams its row hashes only)."""
        key = (node.ref.table, row)
        if key not in self._holds:
            table = load_table(self.repo, node.ref)
            self._holds[key] = any(
                len(_match_hash(*binary_to_lanes(batch.column(ROW_HASH_COLUMN)), row))
                for batch in read_table(self.repo.store, table, [], with_row_hash=True, needed_by=node.ref.path)
            )
        return self._holds[key]

    def holder(self, made: Node, row: Row, first: Node | None = None) -> Node | None:
        """The input of the run that made ``made`` holding ``row``: ``first`` or the input
        aligned with ``made`` is tried first; with one input, no table is read."""
        inputs = made.inputs
        if len(inputs) == 1:
            return inputs[0]
        assert made.run is not None
        outputs = made.run.record.outputs
        aligned = [inputs[i] for i, o in enumerate(outputs) if i < len(inputs) and (o.path, o.table) == (made.ref.path, made.ref.table)]
        tried: set[int] = set()
        for node in [*([first] if first is not None and any(first is i for i in inputs) else []), *aligned, *inputs]:
            if id(node) not in tried:
                tried.add(id(node))
                if self.holds(node, row):
                    return node
        return None

    def back(self, node: Node, row: Row) -> list[Event]:
        """Events from the source down to ``node``, for a row present there."""
        events: list[Event] = []
        visited: set[int] = set()
        while id(node) not in visited:
            visited.add(id(node))
            run = node.run
            if run is None:
                events.append(Event("source", node.ref, _hex(row), commit=node.ref.commit))
                break
            created = find_rows(self.effects(run, "created"), *row)
            modified = find_rows(self.effects(run, "modified"), *row, prefix="new_")
            if len(created):
                events.append(self._event("created", node.ref, row, run))
                break
            if len(modified):
                rec = self.effects(run, "modified")[modified[0]]
                before = (int(rec["hi"]), int(rec["lo"]))
                events.append(self._event("modified", node.ref, row, run, previous=_hex(before)))
                row = before
            else:
                events.append(self._event("kept", node.ref, row, run))
            if not node.inputs:
                break
            node = self.holder(node, row) or node.inputs[0]
        return list(reversed(events))

    def runs_below(self, node: Node) -> list[Node]:
        """Output nodes (one per run) of the runs between ``node`` and the root, farthest first."""
        below: set[str] = set()
        stack = [node]
        reached: set[int] = set()
        while stack:
            current = stack.pop()
            for reader in self.readers.get(id(current), []):
                if id(reader) not in reached:
                    reached.add(id(reader))
                    assert reader.run is not None
                    below.add(reader.run.id)
                    stack.append(reader)
        return [n for n in self.runs if n.run is not None and n.run.id in below]

    def find_drop(self, runs: list[Node], row: Row, start: Node | None = None) -> tuple[Node, Event, Row] | None:
        """The run among ``runs`` that dropped ``row``, or a row it was modified into:
        (the input holding it, the drop event, the row as that input held it)."""
        rows = [row]
        for current in rows:
            for made in runs:
                run = made.run
                assert run is not None
                dropped = find_rows(self.effects(run, "dropped"), *current)
                if len(dropped) and made.inputs:
                    holder = self.holder(made, current, start) or made.inputs[0]
                    return holder, self._drop_event(made, holder, current, self.effects(run, "dropped")[dropped[0]]), current
                for i in find_rows(self.effects(run, "modified"), *current).tolist():
                    rec = self.effects(run, "modified")[i]
                    new = (int(rec["new_hi"]), int(rec["new_lo"]))
                    if new not in rows:
                        rows.append(new)
        return None

    def kept_elsewhere(self, node: Node, row: Row) -> tuple[str, str, str] | None:
        """(input, operator, output) when a run read ``row`` in ``node`` and wrote it to another
        table than the root (a shard of a dataset run), for the hint of a row that is elsewhere."""
        for reader in self.readers.get(id(node), []):
            assert reader.run is not None
            record = reader.run.record
            for ref, out in zip(record.inputs, record.outputs):
                if (ref.path, ref.table) == (node.ref.path, node.ref.table) and out.path != self.root.ref.path:
                    return node.ref.path, f"{record.operator.name} run {reader.run.id[:12]}", out.path
        return None

    def _drop_event(self, made: Node, holder: Node, row: Row, rec: np.void) -> Event:
        run = made.run
        assert run is not None
        rule = int(rec["rule"])
        dup = (int(rec["dup_hi"]), int(rec["dup_lo"]))
        kept_in = None
        if dup != (0, 0):
            keeper = holder if len(made.inputs) == 1 else self.holder(made, dup, holder)
            kept_in = keeper.ref.path if keeper is not None else None
        return self._event(
            "dropped", holder.ref, row, run,
            rule=run.record.rules[rule] if 0 <= rule < len(run.record.rules) else None,
            duplicate_of=_hex(dup) if dup != (0, 0) else None,
            duplicate_in=kept_in,
        )

    @staticmethod
    def _event(kind: str, table: TableRef, row: Row, run: Run, **extra: str | None) -> Event:
        op = run.record.operator
        return Event(kind, table, _hex(row), run.id, op.name, op.version, run.commit, **extra)


def _locate(repo: Repo, table: TableObject, ref: TableRef, query: str, key_columns: tuple[str, ...] = ()) -> tuple[Row, int] | None:
    """(row, index) of the row ``query`` names in ``table``, or None when it is not there."""
    wanted = _parse_hash(query)
    key = tuple(table.key) or key_columns
    index = _parse_index(query, bool(key))
    if wanted is None and index is None and not key:
        raise BadInput(f"cannot tell which row '{query}' means: {ref.path} has no key column", hint="pass a _cgit_row (32 hex digits), an index (index:N), or set a key in cgit.toml")
    if index is not None and not 0 <= index < table.num_rows:
        raise BadInput(f"index {index} is out of range: {ref.path} has {table.num_rows:,} rows", hint="indexes start at 0")
    columns = [] if wanted is not None or index is not None else [c for c in key if c in table.schema.names]
    if wanted is None and index is None and len(columns) != len(key):
        return None
    position = 0
    for batch in read_table(repo.store, table, columns, with_row_hash=True, needed_by=ref.path):
        hi, lo = binary_to_lanes(batch.column(ROW_HASH_COLUMN))
        if index is not None:
            if index < position + batch.num_rows:
                return (int(hi[index - position]), int(lo[index - position])), index
        else:
            match = _match_hash(hi, lo, wanted) if wanted is not None else _match_key(batch, columns, query)
            if len(match):
                i = int(match[0])
                return (int(hi[i]), int(lo[i])), position + i
        position += batch.num_rows
    return None


def _match_hash(hi: np.ndarray, lo: np.ndarray, row: Row) -> np.ndarray:
    found: np.ndarray = np.flatnonzero((hi == np.uint64(row[0])) & (lo == np.uint64(row[1])))
    return found


def _match_key(batch: pa.RecordBatch, columns: list[str], query: str) -> np.ndarray:
    text = query[len("key:"):] if query.startswith("key:") else query
    values = text.split(",") if len(columns) > 1 else [text]
    if len(values) != len(columns):
        raise BadInput(f"key '{text}' has {len(values)} parts; the key is {', '.join(columns)}", hint="separate key values with commas")
    mask = np.ones(batch.num_rows, dtype=bool)
    for column, value in zip(columns, values):
        arr = batch.column(column)
        try:
            scalar = pa.scalar(value).cast(arr.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise BadInput(f"key value '{value}' does not fit column {column!r} ({arr.type})", hint="check the key") from exc
        mask &= np.asarray(pc.fill_null(pc.equal(arr, scalar), False), dtype=bool)
    found: np.ndarray = np.flatnonzero(mask)
    return found


def _parse_hash(query: str) -> Row | None:
    m = _HASH.fullmatch(query.strip())
    if m is None:
        return None
    value = int(m.group(1), 16)
    return value >> 64, value & ((1 << 64) - 1)


def _parse_index(query: str, has_key: bool) -> int | None:
    """``index:N`` always; a bare integer only when the table has no key (else it is a key)."""
    text = query.strip()
    if text.startswith("index:"):
        text = text[len("index:"):]
    elif has_key or text.startswith("key:"):
        return None
    return int(text) if text.isdigit() else None


def _hex(row: Row) -> str:
    return f"{row[0]:016x}{row[1]:016x}"
