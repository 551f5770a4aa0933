"""push: send the objects a remote lacks, then move its refs by compare-and-swap.

Every check that can refuse the push (non-fast-forward, checked-out branch, clobbered tag)
runs before anything is sent, so a rejected push leaves the remote as it was. Objects go up in
parallel; one the remote already has is skipped, which makes a rerun after an interruption
resume. Refs move last, each with a compare-and-swap against the value read at the start: of
two racing pushes to one branch exactly one wins, and the other is told to fetch and merge.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from corpusgit.branches import is_ancestor
from corpusgit.errors import BadInput, ObjectNotFound, RefConflict
from corpusgit.progress import NULL_PROGRESS, Progress, Task
from corpusgit.reach import MIXES
from corpusgit.refs import HEADS, TAGS, check_ref_name
from corpusgit.remote.backend import Backend, RefValue
from corpusgit.remote.errors import NonFastForward
from corpusgit.remote.fetch import RefUpdate
from corpusgit.remote.graph import Wanted, ancestors, local_closure, tip, tip_contents
from corpusgit.remote.settings import REMOTES_REFS, open_remote, set_remote_value
from corpusgit.remote.transfer import DEFAULT_JOBS, TransferStats, run_parallel
from corpusgit.repo import Repo
from corpusgit.store.objects import ObjectStore

FETCH_FIRST = "fetch and merge first ('cgit pull'), then push again; --force overwrites the remote's commits"


@dataclass(frozen=True, slots=True)
class PushResult:
    remote: str
    updates: list[RefUpdate]
    objects: int
    bytes: int
    already_there: int
    created: bool


@dataclass(frozen=True, slots=True)
class _Plan:
    name: str
    new: str
    old: RefValue


def push(
    repo: Repo,
    remote: str = "origin",
    branch: str | None = None,
    force: bool = False,
    tags: bool = False,
    jobs: int = DEFAULT_JOBS,
    progress: Progress = NULL_PROGRESS,
    mixes: bool = False,
) -> PushResult:
    """Push a branch (default: the current one), and/or all tags, and/or all mixes, to ``remote``."""
    wanted = _refspecs(repo, branch, tags, mixes)
    config, backend = open_remote(repo.cgit, remote, jobs)
    try:
        created = backend.is_empty()
        if created:
            backend.init_repository(_first_branch(repo, wanted))
        else:
            backend.check_repository()
        if config.cas is None:
            mode = backend.probe_cas()
            if mode is not None:
                backend.set_cas_mode(mode)
                set_remote_value(repo, remote, "cas", mode)
        plans = [p for p in (_plan(repo, backend, name, new, force) for name, new in wanted) if p is not None]
        stats, already = _send(repo.store, backend, [tip(p.name, p.new) for p in plans], jobs, progress)
        updates = []
        for plan in plans:
            try:
                backend.update_ref(plan.name, plan.new, plan.old, f"push: {plan.old.value or 'new'} -> {plan.new}")
            except RefConflict as exc:
                raise NonFastForward(f"push of {plan.name} to '{remote}' rejected: it moved on the remote during the push", hint=FETCH_FIRST) from exc
            updates.append(RefUpdate(plan.name, plan.old.value, plan.new, _note(repo, plan)))
            if plan.name.startswith(HEADS):
                _track(repo, remote, plan.name[len(HEADS):], plan.new)
        return PushResult(remote, updates, stats.objects, stats.bytes, already, created)
    finally:
        backend.close()


def _refspecs(repo: Repo, branch: str | None, tags: bool, mixes: bool) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if branch is None and not tags and not mixes:
        target = repo.refs.head_target()
        if target is None:
            raise BadInput("HEAD is detached; name the branch to push", hint="cgit push REMOTE BRANCH")
        branch = target[len(HEADS):]
    if branch is not None:
        check_ref_name(branch)
        oid = repo.refs.read(HEADS + branch)
        if oid is None:
            raise BadInput(f"no local branch '{branch}' to push", hint="'cgit branch' lists branches; commit first on a new repository")
        out.append((HEADS + branch, oid))
    if tags:
        out.extend((TAGS + name, oid) for name, oid in repo.refs.list_refs(TAGS).items())
    if mixes:
        out.extend((MIXES + name, oid) for name, oid in repo.refs.list_refs(MIXES).items())
    return out


def _first_branch(repo: Repo, wanted: list[tuple[str, str]]) -> str:
    """What a new remote's HEAD names: the pushed branch, else the current one."""
    for name, _ in wanted:
        if name.startswith(HEADS):
            return name[len(HEADS):]
    target = repo.refs.head_target() or f"{HEADS}main"
    return target[len(HEADS):]


def _plan(repo: Repo, backend: Backend, name: str, new: str, force: bool) -> _Plan | None:
    """The swap to make, or None if the remote is up to date; refuses unsafe updates."""
    old = backend.read_ref(name)
    if old.value == new:
        return None
    if name.startswith(HEADS) and backend.checked_out_branch() == name[len(HEADS):]:
        raise BadInput(
            f"refusing to push to '{name[len(HEADS):]}': it is checked out in {backend.display}",
            hint="push to a bare remote (pushing to an empty directory creates one), or switch that work tree to another branch",
        )
    if old.value is not None and not force:
        if name.startswith((TAGS, MIXES)):
            what = "tag" if name.startswith(TAGS) else "mix"
            raise NonFastForward(f"{what} '{name.split('/', 2)[2][:40]}' already exists on the remote at {old.value[:12]}", hint=f"a {what} is not moved without --force")
        if not repo.store.has(old.value) or not is_ancestor(repo, old.value, new):
            raise NonFastForward(
                f"push to '{name[len(HEADS):]}' rejected (non-fast-forward): the remote has commits this branch lacks",
                hint=FETCH_FIRST,
            )
    return _Plan(name, new, old)


def _note(repo: Repo, plan: _Plan) -> str:
    if plan.old.value is None:
        return "new tag" if plan.name.startswith(TAGS) else "new mix" if plan.name.startswith(MIXES) else "new branch"
    if plan.name.startswith(MIXES):
        return "forced update"
    if repo.store.has(plan.old.value) and is_ancestor(repo, plan.old.value, plan.new):
        return "fast-forward"
    return "forced update"


def _track(repo: Repo, remote: str, branch: str, new: str) -> None:
    local = f"{REMOTES_REFS}{remote}/{branch}"
    old = repo.refs.read(local)
    if old != new:
        repo.refs.update(local, new, old, f"push {remote}: {branch}")


def _send(store: ObjectStore, backend: Backend, tips: list[Wanted], jobs: int, progress: Progress) -> tuple[TransferStats, int]:
    """Upload what the remote lacks; returns (sent, number already present)."""
    remote_tips = [oid for name, oid in backend.list_refs().items() if name.startswith((HEADS, TAGS))]
    candidates = local_closure(store, tips, ancestors(store, remote_tips), tip_contents(store, remote_tips))
    stats = TransferStats()
    already = [0]
    lock = threading.Lock()

    def send(item: Wanted, task: Task) -> None:
        if backend.has_object(item.oid):
            with lock:
                already[0] += 1
            task.advance(store.size(item.oid))
            return
        path = _local_file(store, item.oid)
        size = path.stat().st_size
        backend.upload_object(path, item.oid)
        stats.add(size)
        task.advance(size)

    total = sum(store.size(w.oid) for w in candidates)
    with progress.task(f"sending up to {len(candidates):,} objects", total) as task:
        run_parallel(candidates, lambda w: send(w, task), jobs)
    return stats, already[0]


def _local_file(store: ObjectStore, oid: str) -> Path:
    """The object's file; a partial clone first fetches a chunk it skipped."""
    found = store.locate(oid)
    if found is None:
        store.read_raw(oid, "push")
        found = store.locate(oid)
    if found is None:
        raise ObjectNotFound(f"object {oid} is missing (needed by push)", hint="run 'cgit fsck'")
    return found
