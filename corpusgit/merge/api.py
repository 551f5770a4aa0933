"""``merge``, ``revert`` and ``cherry-pick`` share one three-way machine; conflicts stop it
with a recorded state that ``resolve``, ``--continue`` and ``--abort`` work on."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from corpusgit.checkout import advance_head, switch_tree
from corpusgit.errors import BadInput, CorpusGitError, DirtyWorkTree, MergeConflict
from corpusgit.history import commit
from corpusgit.merge.base import is_ancestor, merge_bases
from corpusgit.merge.state import MergeState, PathConflict, clear_state, read_state, write_state
from corpusgit.merge.trees import Entries, TreeMerge, merge_trees
from corpusgit.objects import BLOB, Tree, read_commit, read_commit_tree
from corpusgit.progress import NULL_PROGRESS, Progress
from corpusgit.revparse import resolve_commit
from corpusgit.store.canonical import ObjectId
from corpusgit.worktree import status

if TYPE_CHECKING:
    from corpusgit.repo import Repo

PREFERENCES = ("mark", "ours", "theirs")


@dataclass(frozen=True, slots=True)
class MergeOutcome:
    kind: str  # up-to-date | fast-forward | merged | conflicts
    commit: str | None
    conflicts: dict[str, PathConflict]


def entries_of(repo: Repo, oid: str | None) -> Entries:
    if oid is None:
        return {}
    return dict(read_commit_tree(repo.store, oid).entries)


def _require_clean(repo: Repo, operation: str) -> str:
    if read_state(repo.cgit) is not None:
        raise CorpusGitError(f"a {read_state(repo.cgit).operation} is in progress", hint="finish it with 'cgit merge --continue' or 'cgit merge --abort'")  # type: ignore[union-attr]
    head = repo.refs.head_commit()
    if head is None:
        raise BadInput(f"cannot {operation}: HEAD has no commit yet", hint="commit something first")
    st = status(repo)
    dirty = [c.path for c in st.staged + st.unstaged]
    if dirty:
        more = f" and {len(dirty) - 5} more" if len(dirty) > 5 else ""
        raise DirtyWorkTree(f"cannot {operation} with uncommitted changes: {', '.join(dirty[:5])}{more}", hint="commit them, or restore them with 'cgit checkout HEAD -- <path>'")
    return head


def virtual_base(repo: Repo, a: str, b: str, progress: Progress) -> Entries | None:
    """The base tree; several best common ancestors are merged into one (recursive strategy)."""
    bases = merge_bases(repo, a, b)
    if not bases:
        return None
    tree = entries_of(repo, bases[0])
    for other in bases[1:]:
        inner = virtual_base(repo, bases[0], other, progress) or {}
        tree = merge_trees(repo, inner, tree, entries_of(repo, other), "ours", progress).entries
    return tree


def merge(
    repo: Repo,
    rev: str,
    prefer: str = "mark",
    allow_unrelated: bool = False,
    message: str | None = None,
    no_ff: bool = False,
    progress: Progress = NULL_PROGRESS,
    no_verify: bool = False,
) -> MergeOutcome:
    if prefer not in PREFERENCES:
        raise BadInput(f"unknown strategy option '{prefer}'", hint="use -X ours or -X theirs")
    head = _require_clean(repo, "merge")
    theirs = resolve_commit(repo, rev)
    if is_ancestor(repo, theirs, head):
        return MergeOutcome("up-to-date", head, {})
    if is_ancestor(repo, head, theirs) and not no_ff:
        _gate_fast_forward(repo, theirs, head, no_verify)
        switch_tree(repo, Tree(entries_of(repo, theirs)), False, progress, advance_head(repo, theirs, head, f"merge {rev}: fast-forward"))
        return MergeOutcome("fast-forward", theirs, {})
    base = virtual_base(repo, head, theirs, progress)
    if base is None and not allow_unrelated:
        raise BadInput(f"refusing to merge unrelated histories ('{rev}' shares no commit with HEAD)", hint="pass --allow-unrelated-histories if this is intended")
    state = MergeState("merge", theirs, head, message or f"Merge '{rev}'", True)
    return _three_way(repo, base or {}, head, entries_of(repo, theirs), state, prefer, progress, no_verify)


def _gate_fast_forward(repo: Repo, theirs: str, head: str, no_verify: bool) -> None:
    """A fast-forward moves the branch without a commit, so its pre-merge checks (and the
    branch's required ones) run here; a failing check leaves everything as it was."""
    from corpusgit.quality import run_hooks, table_changes
    from corpusgit.refs import HEADS

    target = repo.refs.head_target()
    branch = target[len(HEADS):] if target and target.startswith(HEADS) else None
    run_hooks(repo, "pre-merge", table_changes(repo, read_commit_tree(repo.store, theirs), ObjectId(head)), branch, no_verify)


def revert(repo: Repo, rev: str, prefer: str = "mark", progress: Progress = NULL_PROGRESS) -> MergeOutcome:
    """Undo a commit's changes on top of HEAD (base = the commit, theirs = its parent)."""
    return _replay(repo, rev, "revert", prefer, progress)


def cherry_pick(repo: Repo, rev: str, prefer: str = "mark", progress: Progress = NULL_PROGRESS) -> MergeOutcome:
    """Apply one commit's changes on top of HEAD (base = its parent, theirs = the commit)."""
    return _replay(repo, rev, "cherry-pick", prefer, progress)


def _replay(repo: Repo, rev: str, operation: str, prefer: str, progress: Progress) -> MergeOutcome:
    """Revert and cherry-pick are one three-way merge between a commit and its parent, in
    opposite directions."""
    head = _require_clean(repo, operation)
    target = resolve_commit(repo, rev)
    c = read_commit(repo.store, target)
    if len(c.parents) > 1:
        raise BadInput(f"{rev} is a merge commit", hint=f"{operation} the commits it brought in one by one")
    parent = entries_of(repo, c.parents[0] if c.parents else None)
    if operation == "revert":
        state = MergeState(operation, target, head, f'Revert "{c.subject}"\n\nThis reverts commit {target}.', False)
        return _three_way(repo, entries_of(repo, target), head, parent, state, prefer, progress)
    state = MergeState(operation, target, head, c.message, False)
    return _three_way(repo, parent, head, entries_of(repo, target), state, prefer, progress)


def _three_way(
    repo: Repo, base: Entries, head: str, theirs: Entries, state: MergeState, prefer: str, progress: Progress, no_verify: bool = False
) -> MergeOutcome:
    result: TreeMerge = merge_trees(repo, base, entries_of(repo, head), theirs, prefer, progress)
    switch_tree(repo, Tree(result.entries), False, progress)
    if result.conflicts:
        state.conflicts = result.conflicts
        write_state(repo.cgit, state)
        _write_blob_markers(repo, result.conflicts)
        return MergeOutcome("conflicts", None, result.conflicts)
    oid = _record(repo, state, no_verify)
    return MergeOutcome("merged", oid, {})


def _record(repo: Repo, state: MergeState, no_verify: bool = False) -> str:
    """Commit the merged index; ``commit`` runs the pre-merge checks, adds the second parent
    and clears the state."""
    write_state(repo.cgit, state)
    return commit(repo, state.message, no_verify=no_verify).id


def _write_blob_markers(repo: Repo, conflicts: dict[str, PathConflict]) -> None:
    """Text files that both sides changed get git-style conflict markers in the work tree."""
    for path, c in conflicts.items():
        if c.kind != "blob" or c.ours is None or c.theirs is None:
            continue
        ours = b"".join(repo.store.iter_blob(c.ours, path))
        theirs = b"".join(repo.store.iter_blob(c.theirs, path))
        if b"\x00" in ours + theirs:
            continue
        text = b"<<<<<<< ours\n" + _nl(ours) + b"=======\n" + _nl(theirs) + b">>>>>>> theirs\n"
        (repo.root / path).write_bytes(text)


def _nl(data: bytes) -> bytes:
    return data if data.endswith(b"\n") or not data else data + b"\n"


def merge_continue(repo: Repo, no_verify: bool = False) -> str:
    state = _state(repo)
    if state.conflicts:
        names = ", ".join(sorted(state.conflicts)[:5])
        raise MergeConflict(f"unresolved conflicts remain in: {names}", hint="resolve them with 'cgit resolve <path> --ours|--theirs|--union|--from FILE'")
    return _record(repo, state, no_verify)


def merge_abort(repo: Repo, progress: Progress = NULL_PROGRESS) -> str:
    """Back to exactly the pre-merge state (the work tree was clean when the merge began)."""
    state = _state(repo)
    switch_tree(repo, Tree(entries_of(repo, state.orig_head)), True, progress)
    clear_state(repo.cgit)
    return state.orig_head


def _state(repo: Repo) -> MergeState:
    state = read_state(repo.cgit)
    if state is None:
        raise BadInput("no merge, revert or cherry-pick in progress", hint="start one with 'cgit merge <branch>'")
    return state


def mark_resolved(repo: Repo, path: str, entry_id: str | None, kind: str | None) -> None:
    """Record a resolution: index and work tree get the chosen version, the conflict is dropped."""
    from corpusgit.checkout import write_entries
    from corpusgit.objects import TreeEntry

    state = _state(repo)
    old = repo.read_index().entries.get(path)
    entry = None
    if entry_id is not None:
        entry = TreeEntry(kind or (old.kind if old else BLOB), entry_id, old.mode if old else 0o644)  # type: ignore[arg-type]
    write_entries(repo, {path: entry})
    del state.conflicts[path]
    write_state(repo.cgit, state)
