"""``cgit reset`` and ``cgit restore --staged``: move the branch, the index, or both, back.

These are the undo verbs of a pipeline run gone wrong: a commit made too early (``--soft``), a
step staged by mistake (``restore --staged``), or a work tree to throw away (``--hard``). The
old branch tip stays in the reflog (``HEAD@{1}``), so a reset is itself undoable until gc.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from corpusgit.errors import BadInput, RevisionNotFound
from corpusgit.index import Index, IndexEntry
from corpusgit.merge.state import clear_state, read_state
from corpusgit.objects import TABLE, Tree, TreeEntry, read_commit_tree
from corpusgit.progress import NULL_PROGRESS, Progress
from corpusgit.revparse import resolve_commit
from corpusgit.store.canonical import ObjectId

if TYPE_CHECKING:
    from corpusgit.repo import Repo

ResetMode = Literal["soft", "mixed", "hard"]
RESET_MODES: tuple[ResetMode, ...] = ("soft", "mixed", "hard")


@dataclass(frozen=True, slots=True)
class ResetResult:
    old: ObjectId | None
    new: ObjectId
    mode: ResetMode
    written: int  # work-tree files written (--hard)
    removed: int  # work-tree files deleted (--hard)


def reset(repo: Repo, rev: str, mode: ResetMode = "mixed", progress: Progress = NULL_PROGRESS) -> ResetResult:
    """Point the current branch (or detached HEAD) at ``rev``; ``mixed`` also makes the index
    its tree, ``hard`` the work tree too. A merge in progress is abandoned by mixed and hard."""
    if mode not in RESET_MODES:
        raise BadInput(f"unknown reset mode '{mode}'", hint="use --soft, --mixed or --hard")
    old = repo.refs.head_commit()
    new = resolve_commit(repo, rev)
    merging = read_state(repo.cgit) is not None
    if merging and mode == "soft":
        raise BadInput("cannot do a soft reset in the middle of a merge", hint="finish it (cgit commit) or abandon it (cgit merge --abort)")
    tree = read_commit_tree(repo.store, new)
    message = f"reset: moving to {rev}"
    written = removed = 0
    if mode == "hard":
        from corpusgit.checkout import advance_head, switch_tree

        written, removed = switch_tree(repo, tree, True, progress, advance_head(repo, new, old, message))
    else:
        if mode == "mixed":
            with repo.locked_index() as (index, lock):
                repo.save_index(lock, _index_for(repo, index, tree, list(tree.entries), keep_others=False))
        repo.refs.update_head(new, old, message)
    if merging:
        clear_state(repo.cgit)
    return ResetResult(old, new, mode, written, removed)


def unstage(repo: Repo, paths: list[str], rev: str = "HEAD") -> int:
    """Make the index entries under ``paths`` what ``rev`` has (dropping ones it lacks), leaving
    the work tree alone: the changes become unstaged again. Returns the entries changed."""
    head = repo.refs.head_commit() if rev == "HEAD" else resolve_commit(repo, rev)
    tree = read_commit_tree(repo.store, head) if head is not None else Tree({})
    with repo.locked_index() as (index, lock):
        chosen: list[str] = []
        for raw in paths:
            rel = repo.relpath(raw)
            hits = [p for p in {*tree.entries, *index.entries} if not rel or p == rel or p.startswith(rel + "/")]
            if not hits:
                raise RevisionNotFound(f"path '{raw}' is neither staged nor in {rev}", hint="'cgit status' lists the staged paths")
            chosen.extend(hits)
        changed = [p for p in set(chosen) if _tree_entry(index.entries.get(p)) != tree.entries.get(p)]
        repo.save_index(lock, _index_for(repo, index, tree, changed, keep_others=True))
    return len(changed)


def _tree_entry(entry: IndexEntry | None) -> TreeEntry | None:
    return entry.tree_entry() if entry is not None else None


def _index_for(repo: Repo, index: Index, tree: Tree, paths: list[str], keep_others: bool) -> Index:
    """``index`` with ``paths`` taken from ``tree``. An entry whose object is unchanged keeps its
    stat cache, so status stays instant; a changed one has none, so status re-reads the file
    and reports it as an unstaged change if it differs."""
    entries = dict(index.entries) if keep_others else {}
    for path in paths:
        target = tree.entries.get(path)
        current = index.entries.get(path)
        if target is None:
            entries.pop(path, None)
        elif current is not None and current.tree_entry() == target:
            entries[path] = current
        else:
            rows = int(repo.store.get_meta(target.id)["num_rows"]) if target.kind == TABLE else -1
            entries[path] = IndexEntry(target.kind, target.id, target.mode, rows=rows)
    return Index(entries)
