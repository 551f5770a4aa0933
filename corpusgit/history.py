"""Making commits and walking history."""

from __future__ import annotations

import heapq
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from corpusgit.config import resolve_author
from corpusgit.errors import MergeConflict, NothingToCommit
from corpusgit.merge.state import clear_state, read_state
from corpusgit.objects import Commit, read_commit, read_tree
from corpusgit.revparse import resolve_commit
from corpusgit.store.canonical import ObjectId, canonical_json, object_id

if TYPE_CHECKING:
    from corpusgit.quality import HookRun
    from corpusgit.repo import Repo


@dataclass(frozen=True, slots=True)
class CommitResult:
    id: ObjectId
    commit: Commit
    branch: str | None
    warning: str | None


@dataclass(frozen=True, slots=True)
class LogEntry:
    id: ObjectId
    commit: Commit


def commit(
    repo: Repo,
    message: str,
    allow_empty: bool = False,
    no_verify: bool = False,
    extra_parents: tuple[ObjectId, ...] = (),
    lineage: tuple[str, ...] = (),
) -> CommitResult:
    """Record the index as a new commit on HEAD (compare-and-swap; a lost race fails cleanly).

    During a merge (or revert, cherry-pick) the commit concludes it: refused while conflicts
    remain, and a merge gets its second parent.
    """
    state = read_state(repo.cgit)
    if state is not None:
        if state.conflicts:
            names = ", ".join(sorted(state.conflicts)[:5])
            raise MergeConflict(f"cannot commit: unresolved conflicts in {names}", hint="settle them with 'cgit resolve <path> ...' (or 'cgit merge --abort')")
        if state.second_parent and not extra_parents:
            extra_parents = (ObjectId(state.theirs),)
    if not message.strip():
        raise NothingToCommit("empty commit message", hint="pass -m 'what changed and why'")
    with repo.locked_index() as (index, _lock):
        head = repo.refs.head_commit()
        tree = index.to_tree()
        # The id is computed before anything is stored: a refused commit must add no objects.
        tree_id = object_id(canonical_json(tree.to_json()))
        if head is not None and not allow_empty and not extra_parents:
            parent_tree = read_commit(repo.store, head).tree
            if parent_tree == tree_id:
                raise NothingToCommit("nothing to commit, working tree matches HEAD", hint="stage changes with 'cgit add' (or pass --allow-empty)")
        if head is None and not tree.entries and not allow_empty:
            raise NothingToCommit("nothing to commit", hint="stage files with 'cgit add <path>' first")
        lineage = lineage or _pending_runs(repo)
        hooks = _run_hooks(repo, "pre-merge" if state is not None and state.operation == "merge" else "pre-commit", no_verify)
        repo.store.put_meta(tree.to_json())
        author, warning = resolve_author(repo.config_path)
        offset = -time.altzone if time.daylight and time.localtime().tm_isdst else -time.timezone
        new = Commit(
            tree=tree_id,
            parents=((head,) if head else ()) + extra_parents,
            author=author,
            time=int(time.time()),
            tz_offset=offset // 60,
            message=message.strip() + "\n",
            hooks=hooks.hooks,
            lineage=lineage,
            report=hooks.report_id,
        )
        oid = repo.store.put_meta(new.to_json())
        repo.refs.update_head(oid, head, f"commit: {new.subject}" if head else f"commit (initial): {new.subject}")
        if state is not None:
            clear_state(repo.cgit)
    return CommitResult(oid, new, repo.refs.head_target(), warning)


def _pending_runs(repo: Repo) -> tuple[str, ...]:
    """Operator runs whose outputs are staged as they left them: a plain ``cgit commit`` of
    ``cgit run`` output links its lineage records, like ``cgit run --commit`` does."""
    from corpusgit.lineage.record import pending_records

    return tuple(pending_records(repo))


def _run_hooks(repo: Repo, stage: str, no_verify: bool) -> HookRun:
    """Quality hooks over the staged tables vs HEAD; a merge commit runs ``pre-merge`` with the
    current branch as target (its ``[branches.<name>] require`` checks cannot be skipped).
    Raises ``QualityCheckFailed`` when a blocking check fails, before anything is stored."""
    from corpusgit.quality import run_hooks
    from corpusgit.refs import HEADS

    target = repo.refs.head_target()
    branch = target[len(HEADS):] if target and target.startswith(HEADS) and stage == "pre-merge" else None
    return run_hooks(repo, stage, None, branch, no_verify)


def log(repo: Repo, rev: str = "HEAD", max_count: int | None = None, paths: Sequence[str] = ()) -> Iterator[LogEntry]:
    """Ancestors of ``rev``, newest first (by commit time; within one second, children before
    their parents, as they were reached), each once.

    With ``paths`` (files or directories), only commits that changed something under them:
    a commit whose files there differ from its parent's (for a merge: from every parent's), as
    ``git log -- PATH`` shows the history of one dataset."""
    start = resolve_commit(repo, rev)
    seen = {start}
    first = read_commit(repo.store, start)
    heap: list[tuple[int, int, str, Commit]] = [(-first.time, 0, start, first)]
    reached = 0
    touched = _PathFilter(repo, paths) if paths else None
    count = 0
    while heap and (max_count is None or count < max_count):
        _, _, oid, c = heapq.heappop(heap)
        if touched is None or touched(c):
            yield LogEntry(ObjectId(oid), c)
            count += 1
        for parent in c.parents:
            if parent not in seen:
                seen.add(parent)
                pc = read_commit(repo.store, parent, needed_by=f"history of {oid[:12]}")
                reached += 1
                heapq.heappush(heap, (-pc.time, reached, parent, pc))


class _PathFilter:
    """Does a commit change anything under some paths? Each tree is read once."""

    def __init__(self, repo: Repo, paths: Sequence[str]) -> None:
        self.repo = repo
        self.prefixes = [p.strip("/") for p in paths]
        self._views: dict[str, dict[str, ObjectId]] = {}

    def __call__(self, c: Commit) -> bool:
        mine = self._view(c.tree)
        if not c.parents:
            return bool(mine)
        return all(self._view(read_commit(self.repo.store, p).tree) != mine for p in c.parents)

    def _view(self, tree_id: str) -> dict[str, ObjectId]:
        if tree_id not in self._views:
            entries = read_tree(self.repo.store, tree_id).entries
            self._views[tree_id] = {p: e.id for p, e in entries.items() if any(not x or p == x or p.startswith(x + "/") for x in self.prefixes)}
        return self._views[tree_id]


def tree_of(repo: Repo, rev: str) -> dict[str, tuple[str, ObjectId]]:
    """path -> (kind, id) of a revision's tree."""
    oid = resolve_commit(repo, rev)
    tree = read_tree(repo.store, read_commit(repo.store, oid).tree, needed_by=f"commit {oid[:12]}")
    return {p: (e.kind, e.id) for p, e in tree.entries.items()}
