"""fetch, clone and pull.

Fetch walks the remote's new commits level by level, downloading metadata in parallel and
publishing each verified object at once; then it downloads the data files; the
remote-tracking refs move last. A partial clone skips chunk files, which its promisor brings
in when something reads them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corpusgit.branches import is_ancestor
from corpusgit.errors import BadInput, CorpusGitError, ObjectNotFound
from corpusgit.objects import read_commit, read_tree
from corpusgit.progress import NULL_PROGRESS, Progress, Task
from corpusgit.lock import LockFile
from corpusgit.reach import CHUNK, META, MIXES
from corpusgit.refs import HEADS, TAGS, check_ref_name
from corpusgit.remote.graph import DATA_KINDS, Wanted, ancestors, children, kind_of, tip, tip_contents
from corpusgit.remote.settings import REMOTES_REFS, add_remote, mark_partial, open_remote, partial_remote, remote_config
from corpusgit.remote.transfer import DEFAULT_JOBS, Incoming, run_parallel
from corpusgit.remote.url import parse_url
from corpusgit.repo import DEFAULT_BRANCH, Repo
from corpusgit.store.canonical import ObjectId, is_object_id

if TYPE_CHECKING:
    from corpusgit.merge.api import MergeOutcome


@dataclass(frozen=True, slots=True)
class RefUpdate:
    ref: str
    old: str | None
    new: str
    note: str


@dataclass(frozen=True, slots=True)
class FetchResult:
    remote: str
    updates: list[RefUpdate]
    objects: int
    bytes: int
    chunks_not_fetched: int
    head_branch: str | None


@dataclass(frozen=True, slots=True)
class PullResult:
    fetch: FetchResult
    branch: str
    old: str | None
    new: str | None
    how: str  # "up to date", "fast-forward", "ahead", "merge"
    merge: MergeOutcome | None = None  # the three-way merge of diverged histories (may stop on conflicts)


def local_tips(repo: Repo) -> list[str]:
    """Every commit a local ref names: all of them are complete here."""
    tips: list[str] = [oid for prefix in (HEADS, TAGS, REMOTES_REFS) for oid in repo.refs.list_refs(prefix).values()]
    head = repo.refs.head_commit()
    return tips + ([head] if head else [])


def fetch(repo: Repo, remote: str = "origin", jobs: int = DEFAULT_JOBS, progress: Progress = NULL_PROGRESS, verify_content: bool = False) -> FetchResult:
    """Bring the remote's branches and tags, and every object they need, into this repository."""
    _, backend = open_remote(repo.cgit, remote, jobs)
    try:
        backend.check_repository()
        remote_refs = {name: oid for name, oid in backend.list_refs().items() if _acceptable(name, oid)}
        skip_chunks = partial_remote(repo.cgit) == remote
        tips = list({oid: tip(name, oid) for name, oid in sorted(remote_refs.items())}.values())
        with Incoming(repo.store, backend, remote, verify_content) as incoming:
            skipped = _receive(repo, incoming, tips, jobs, progress, skip_chunks)
        updates = _update_refs(repo, remote, remote_refs)
        return FetchResult(remote, updates, incoming.stats.objects, incoming.stats.bytes, skipped, backend.head_branch())
    finally:
        backend.close()


def _acceptable(name: str, oid: str) -> bool:
    """A hostile remote must not name refs outside ``refs/`` or values that are not ids."""
    for prefix in (HEADS, TAGS, MIXES):  # under refs/mixes/: mix ids and mix names
        if name.startswith(prefix):
            try:
                check_ref_name(name[len(prefix):])
            except BadInput:
                return False
            return is_object_id(oid)
    return False


def _receive(repo: Repo, incoming: Incoming, tips: list[Wanted], jobs: int, progress: Progress, skip_chunks: bool) -> int:
    """Receive the closure of ``tips``; returns how many chunks were left to the promisor."""
    store = repo.store
    mine = local_tips(repo)
    have_commits, have_objects = ancestors(store, mine), tip_contents(store, mine)
    seen: set[str] = set()
    data: list[Wanted] = []
    skipped = 0
    frontier = tips
    with progress.task("finding objects", None) as task:
        while frontier:
            metas: list[Wanted] = []
            for item in frontier:
                if item.oid in seen or item.oid in have_commits or item.oid in have_objects:
                    continue
                seen.add(item.oid)
                if item.kind not in DATA_KINDS:
                    metas.append(item)
                elif not store.has(item.oid):
                    if skip_chunks and item.kind == CHUNK:
                        skipped += 1
                    else:
                        data.append(item)
            loaded = run_parallel(metas, lambda w: _load(incoming, w, task), jobs)
            frontier = [child for doc in loaded for child in children(*doc)]
    sizes = [w.ref.size for w in data if w.ref is not None]
    total = sum(sizes) if len(sizes) == len(data) else None
    with progress.task(f"receiving {len(data):,} objects", total) as task:
        run_parallel(data, lambda w: _require(incoming.receive(w, task), w, incoming.remote), jobs)
    return skipped


def _load(incoming: Incoming, item: Wanted, task: Task) -> tuple[str, dict[str, Any]]:
    """(kind, document) of a metadata object, local if present, else received and verified."""
    if incoming.store.has(item.oid):
        doc = incoming.store.get_meta(item.oid, "fetch")
        return (kind_of(doc) if item.kind == META else item.kind), doc
    kind, received = _require(incoming.receive(item, task), item, incoming.remote)
    assert received is not None
    return kind, received


def _require(got: Any, item: Wanted, remote: str) -> Any:
    if got is None:
        raise ObjectNotFound(
            f"{item.kind} {item.oid} is missing on remote '{remote}'",
            hint="the remote is incomplete; push again from a complete clone",
        )
    return got


def _update_refs(repo: Repo, remote: str, remote_refs: dict[str, ObjectId]) -> list[RefUpdate]:
    """Remote branches become ``refs/remotes/REMOTE/*``; new tags and mixes are created, and
    ones that name something else here are kept."""
    updates: list[RefUpdate] = []
    for name, new in sorted(remote_refs.items()):
        if name.startswith(HEADS):
            local = f"{REMOTES_REFS}{remote}/{name[len(HEADS):]}"
            old = repo.refs.read(local)
            if old == new:
                continue
            note = "new branch" if old is None else "fast-forward" if is_ancestor(repo, old, new) else "forced update"
            repo.refs.update(local, new, old, f"fetch {remote}: {note}")
            updates.append(RefUpdate(local, old, new, note))
        else:
            what = "mix" if name.startswith(MIXES) else "tag"
            old = repo.refs.read(name)
            if old is None:
                _create_ref(repo, name, new, f"fetch {remote}: new tag")
                updates.append(RefUpdate(name, None, new, f"new {what}"))
            elif old != new:
                updates.append(RefUpdate(name, old, new, f"rejected: the local {what} names something else"))
    return updates


def _create_ref(repo: Repo, name: str, new: str, message: str) -> None:
    """Mix refs get no reflog: gc reads every reflog entry as a commit, and they name records."""
    if not name.startswith(MIXES):
        repo.refs.update(name, new, None, message)
        return
    with LockFile(repo.cgit / name) as lock:
        if repo.refs.read(name) is None:
            lock.commit(f"{new}\n".encode())


def clone(
    url: str,
    directory: Path | str | None = None,
    endpoint: str | None = None,
    filter: str | None = None,
    checkout: bool = True,
    jobs: int = DEFAULT_JOBS,
    progress: Progress = NULL_PROGRESS,
    verify_content: bool = False,
) -> tuple[Repo, FetchResult]:
    """Copy a remote into a new directory; rerunning an interrupted clone resumes it."""
    from corpusgit.remote.backend import open_backend

    if filter not in (None, "metadata"):
        raise BadInput(f"unknown clone filter '{filter}'", hint="the only filter is --filter=metadata (no chunk data until read)")
    parsed = parse_url(url)
    probe = open_backend(parsed, endpoint, jobs)
    try:
        probe.check_repository()
        head_branch = probe.head_branch() or DEFAULT_BRANCH
    finally:
        probe.close()
    target = Path(directory) if directory is not None else Path(parsed.default_dir_name)
    repo = _clone_target(target, parsed.text, head_branch)
    if not _has_origin(repo):
        add_remote(repo, "origin", url, endpoint)
        if filter:
            mark_partial(repo, "origin")
    result = fetch(repo, "origin", jobs, progress, verify_content)
    tip = repo.refs.read(f"{REMOTES_REFS}origin/{head_branch}")
    if tip is not None and repo.refs.read(HEADS + head_branch) is None:
        repo.refs.update(HEADS + head_branch, tip, None, f"clone: from {parsed.text}")
        if checkout:
            from corpusgit.checkout import switch_tree

            switch_tree(repo, read_tree(repo.store, read_commit(repo.store, tip).tree), False, progress)
    return repo, result


def _has_origin(repo: Repo) -> bool:
    try:
        remote_config(repo.cgit, "origin")
    except BadInput:
        return False
    return True


def _clone_target(target: Path, url_text: str, branch: str) -> Repo:
    """A new repository at ``target``, or the one an interrupted clone of ``url_text`` left there."""
    if target.exists() and any(target.iterdir()):
        try:
            existing = Repo(target)
            resumable = existing.refs.head_commit() is None and remote_config(existing.cgit, "origin").url == url_text
        except (CorpusGitError, OSError):  # unreadable state: not an interrupted clone of ours
            resumable = False
        if not resumable:
            raise BadInput(f"destination '{target}' already exists and is not empty", hint="choose another directory: cgit clone URL DIR")
        return existing
    return Repo.init(target, branch=branch)


def pull(repo: Repo, remote: str = "origin", branch: str | None = None, jobs: int = DEFAULT_JOBS, progress: Progress = NULL_PROGRESS) -> PullResult:
    """fetch, then fast-forward the current branch; diverged histories get a three-way merge."""
    target = repo.refs.head_target()
    if target is None:
        raise BadInput("HEAD is detached; pull needs a branch", hint="switch to a branch first: cgit switch main")
    branch = branch or target[len(HEADS):]
    fetched = fetch(repo, remote, jobs, progress)
    tracking = f"{REMOTES_REFS}{remote}/{branch}"
    theirs = repo.refs.read(tracking)
    if theirs is None:
        raise BadInput(f"remote '{remote}' has no branch '{branch}'", hint=f"'cgit fetch {remote}' lists its branches under refs/remotes/{remote}/")
    ours = repo.refs.head_commit()
    if ours == theirs:
        return PullResult(fetched, branch, ours, theirs, "up to date")
    if ours is None or is_ancestor(repo, ours, theirs):
        from corpusgit.checkout import advance_head, switch_tree

        switch_tree(repo, read_tree(repo.store, read_commit(repo.store, theirs).tree), False, progress,
                    advance_head(repo, theirs, ours, f"pull {remote} {branch}: fast-forward"))
        return PullResult(fetched, branch, ours, theirs, "fast-forward")
    if is_ancestor(repo, theirs, ours):
        return PullResult(fetched, branch, ours, ours, "ahead")
    from corpusgit.merge.api import merge

    outcome = merge(repo, tracking, message=f"Merge branch '{branch}' of {remote}", progress=progress)
    return PullResult(fetched, branch, ours, outcome.commit, "merge", outcome)
