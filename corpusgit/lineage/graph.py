"""The upstream graph of a table version: the runs that produced it, their inputs, and so on
back to tables no recorded run produced (the raw sources).

Producers are found by (path, table id) among the records linked by the commits in the history
of the revision asked about, then among this clone's logged runs (staged outputs not yet
committed). A run whose output equals its own input (a filter that dropped nothing, written
in place) is never taken as that table's producer, so walks always end.

A run over a dataset is the producer of every output shard it wrote and has every input shard
as an input: ``iter_distinct_runs`` lists it once, and ``dataset_groups`` lets renderers show
its 100 shards as one ``data/web/ (100 tables)`` line.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable, Hashable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from corpusgit.lineage.record import LineageRecord, TableRef, iter_log, read_record
from corpusgit.lineage.tables import INDEX, resolve_table_ref
from corpusgit.objects import read_tree

if TYPE_CHECKING:
    from corpusgit.repo import Repo


@dataclass(frozen=True, slots=True)
class Run:
    """A lineage record as found in the graph, with the commit that links it."""

    id: str
    record: LineageRecord
    commit: str | None  # the commit that links the record (None: staged, not yet committed)


@dataclass
class Node:
    """A table version; ``run`` made it from ``inputs``, or it is a source (``run`` is None)."""

    ref: TableRef
    run: Run | None = None
    inputs: list[Node] = field(default_factory=list)


def upstream(repo: Repo, path: str, rev: str | None) -> Node:
    """The graph above ``path`` at ``rev`` (None: the index)."""
    ref, _ = resolve_table_ref(repo, path, rev)
    producers = _producers(repo, rev)
    root = Node(ref)
    nodes = {(ref.path, ref.table): root}  # one node per table version, so shared inputs are shared
    stack = [root]
    while stack:
        node = stack.pop()
        node.run = _pick(producers.get((node.ref.path, node.ref.table), []), node.ref)
        if node.run is None:
            continue
        for source in node.run.record.inputs:
            child = nodes.get((source.path, source.table))
            if child is None:
                child = nodes[(source.path, source.table)] = Node(source)
                stack.append(child)
            node.inputs.append(child)
    _date_sources(repo, root, rev)
    return root


def iter_nodes(root: Node) -> Iterator[Node]:
    """Every table version above (and including) ``root``, nearest first, each once."""
    seen: set[int] = set()
    queue = [root]
    while queue:
        node = queue.pop(0)
        if id(node) not in seen:
            seen.add(id(node))
            yield node
            queue.extend(node.inputs)


def iter_runs(root: Node) -> Iterator[tuple[Node, Run]]:
    """(output node, run) for every run above ``root``, nearest first."""
    for node in iter_nodes(root):
        if node.run is not None:
            yield node, node.run


def iter_distinct_runs(root: Node) -> Iterator[tuple[Run, list[Node], list[Node]]]:
    """(run, its output tables in the graph, its input tables) for every run above ``root``,
    each run once (a dataset run makes several nodes), nearest first."""
    order: dict[str, tuple[Run, list[Node], list[Node]]] = {}
    for node, run in iter_runs(root):
        if run.id not in order:
            order[run.id] = (run, [], node.inputs)
        order[run.id][1].append(node)
    yield from order.values()


def dataset_groups(nodes: Iterable[Node], extra: Callable[[Node], Hashable] | None = None) -> list[list[Node]]:
    """``nodes`` grouped by directory and producing run (sources together), first-seen order:
    the shards one run wrote, or the source shards of one directory, render as one dataset.
    ``extra`` splits groups further (e.g. by the runs that read them)."""
    groups: dict[Hashable, list[Node]] = {}
    for node in nodes:
        key = (posixpath.dirname(node.ref.path), node.run.id if node.run else None, extra(node) if extra else None)
        groups.setdefault(key, []).append(node)
    return list(groups.values())


def _pick(runs: list[Run], ref: TableRef) -> Run | None:
    for run in runs:
        if not any(i.path == ref.path and i.table == ref.table for i in run.record.inputs):
            return run
    return None


def _producers(repo: Repo, rev: str | None) -> dict[tuple[str, str], list[Run]]:
    """(output path, table id) -> runs, newest first; committed links before logged runs."""
    from corpusgit.history import log

    found: dict[tuple[str, str], list[Run]] = {}
    known: set[str] = set()

    def add(record_id: str, commit: str | None) -> None:
        if record_id in known:
            return
        known.add(record_id)
        record = read_record(repo.store, record_id, needed_by=f"lineage of {commit[:12]}" if commit else "the lineage log")
        for out in record.outputs:
            found.setdefault((out.path, out.table), []).append(Run(record_id, record, commit))

    if repo.refs.head_commit() is not None or rev is not INDEX:
        for entry in log(repo, rev or "HEAD"):
            for record_id in entry.commit.lineage:
                add(record_id, entry.id)
    for record_id, _ in iter_log(repo):
        add(record_id, None)
    return found


def _date_sources(repo: Repo, root: Node, rev: str | None) -> None:
    """Give every source without a commit the oldest commit (in ``rev``'s history) holding it."""
    from corpusgit.history import log

    undated = [n for n in iter_nodes(root) if n.run is None and n.ref.commit is None]
    if not undated or (rev is INDEX and repo.refs.head_commit() is None):
        return
    oldest: dict[tuple[str, str], str] = {}
    wanted = {(n.ref.path, n.ref.table) for n in undated}
    for entry in log(repo, rev or "HEAD"):
        entries = read_tree(repo.store, entry.commit.tree).entries
        for path, table in wanted:
            e = entries.get(path)
            if e is not None and e.id == table:
                oldest[(path, table)] = entry.id
    for node in undated:
        commit = oldest.get((node.ref.path, node.ref.table))
        if commit is not None:
            node.ref = TableRef(node.ref.path, node.ref.table, commit, node.ref.rows)
