"""``cgit why``: the story of one row, from its source table through every run above a table.

A row still in the table is traced upwards: in each run, either it is a row the run created
(the story starts there), or the run modified it from an older row (follow that one), or it
passed through unchanged. A row no longer in the table is found upstream (by ``_cgit_row`` or
key) and followed downwards until the run that dropped it, which gives the rule and, for
dedup, the row it duplicated.

Runs have one input, so a story is a chain (the first input is followed).
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
from corpusgit.lineage.graph import Node, Run, upstream
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
    table: TableRef  # the table the row is in after this event (for ``dropped``: the run's input)
    row: str  # _cgit_row (hex) after the event; for ``dropped`` the row that was dropped
    run: str | None = None
    operator: str | None = None
    version: str | None = None
    commit: str | None = None  # commit linking the run (or, for ``source``, holding the table)
    previous: str | None = None  # ``modified``: the row before
    rule: str | None = None  # ``dropped``: the rule that dropped it
    duplicate_of: str | None = None  # ``dropped`` by dedup: the kept row it duplicated


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
    chain = _chain(upstream(repo, path, rev))
    target = load_table(repo, chain[0].ref)
    located = _locate(repo, target, chain[0].ref, query)
    story = _Story(repo, chain)
    if located is not None:
        row, index = located
        return WhyReport(path, rev, query, True, index, _hex(row), story.back(0, row))
    for depth, row in _upstream_starts(repo, chain, target, query):
        dropped = story.forward(depth, row)
        if dropped is not None:
            drop_depth, event, before = dropped
            return WhyReport(path, rev, query, False, None, event.row, story.back(drop_depth, before) + [event])
    raise BadInput(
        f"row {query} is not in {path} and no recorded run above it dropped it",
        hint="pass the row's _cgit_row (32 hex digits), its key, or an index of a row that exists",
    )


def _upstream_starts(repo: Repo, chain: list[Node], target: TableObject, query: str) -> Iterator[tuple[int, Row]]:
    """Where to start following a missing row down: a _cgit_row is followed from the top of the
    chain (runs that never saw it do not mention it); a key from the nearest table holding it."""
    wanted = _parse_hash(query)
    if wanted is not None:
        if len(chain) > 1:
            yield len(chain) - 1, wanted
        return
    for depth in range(1, len(chain)):
        found = _locate(repo, load_table(repo, chain[depth].ref), chain[depth].ref, query, key_columns=target.key)
        if found is not None:
            yield depth, found[0]
            return


def _chain(root: Node) -> list[Node]:
    chain = [root]
    while chain[-1].run is not None and chain[-1].inputs and all(chain[-1].inputs[0] is not n for n in chain):
        chain.append(chain[-1].inputs[0])
    return chain


class _Story:
    """Walks one chain of runs; effect sets are loaded once per run."""

    def __init__(self, repo: Repo, chain: list[Node]) -> None:
        self.repo = repo
        self.chain = chain
        self._sets: dict[tuple[str, str], np.ndarray] = {}

    def effects(self, run: Run, kind: str) -> np.ndarray:
        if (run.id, kind) not in self._sets:
            self._sets[(run.id, kind)] = read_effect_set(self.repo.store, run.record.effects.get(kind), kind, f"lineage {run.id[:12]}")
        return self._sets[(run.id, kind)]

    def back(self, depth: int, row: Row) -> list[Event]:
        """Events from the source down to ``chain[depth]``, for a row present there."""
        events: list[Event] = []
        for node in self.chain[depth:]:
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
        return list(reversed(events))

    def forward(self, depth: int, row: Row) -> tuple[int, Event, Row] | None:
        """Follow a row present in ``chain[depth]`` down the runs until one drops it:
        (depth of the dropping run's input, the drop event, the row as that input held it)."""
        for d in range(depth - 1, -1, -1):
            run = self.chain[d].run
            assert run is not None
            dropped = find_rows(self.effects(run, "dropped"), *row)
            if len(dropped):
                rec = self.effects(run, "dropped")[dropped[0]]
                rule = int(rec["rule"])
                dup = (int(rec["dup_hi"]), int(rec["dup_lo"]))
                event = self._event(
                    "dropped", self.chain[d + 1].ref, row, run,
                    rule=run.record.rules[rule] if 0 <= rule < len(run.record.rules) else None,
                    duplicate_of=_hex(dup) if dup != (0, 0) else None,
                )
                return d + 1, event, row
            modified = find_rows(self.effects(run, "modified"), *row)
            if len(modified):
                rec = self.effects(run, "modified")[modified[0]]
                row = (int(rec["new_hi"]), int(rec["new_lo"]))
        return None

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
