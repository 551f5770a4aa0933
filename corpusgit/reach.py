"""Reachability: the object graph from refs, reflogs and the index down to chunks.

gc, fsck and du all need the same walk; a damaged object is reported with the path that needs
it and the walk goes on, so one bad chunk does not hide others.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from corpusgit.errors import CorpusGitError
from corpusgit.objects import TABLE, Commit, Tree
from corpusgit.refs import HEADS, REMOTES, TAGS

if TYPE_CHECKING:
    from corpusgit.repo import Repo
    from corpusgit.table.model import ChunkRef

COMMIT, TREE, BLOB, CHUNK = "commit", "tree", "blob", "chunk"
# A metadata object may keep others alive by listing them as "reaches": [[kind, id], ...]; a raw
# object is checked for presence only (its owner verifies its checksum on every read).
META, RAW = "meta", "raw"
MIXES = "refs/mixes/"  # each names a mix's selection record (see corpusgit/mix/storage.py)


@dataclass(frozen=True, slots=True)
class Problem:
    object_id: str
    kind: str
    needed_by: str
    message: str


@dataclass
class Reach:
    kinds: dict[str, str] = field(default_factory=dict)
    needed_by: dict[str, str] = field(default_factory=dict)
    chunks: dict[str, ChunkRef] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)


def roots(repo: Repo, reflog_expire_before: float | None = None) -> list[tuple[str, str, str]]:
    """(id, kind, label) of everything that keeps objects alive. With ``reflog_expire_before``
    (Unix seconds), reflog entries count only if expiry at that time keeps them: what gc
    plans with, before it rewrites the logs."""
    out: list[tuple[str, str, str]] = []
    for prefix in (HEADS, TAGS, REMOTES):
        for name, oid in repo.refs.list_refs(prefix).items():
            out.append((oid, COMMIT, prefix + name))
    head = repo.refs.head_commit()
    if head:
        out.append((head, COMMIT, "HEAD"))
    for special in ("MERGE_HEAD", "ORIG_HEAD"):
        special_id = repo.refs.read(special)
        if special_id:
            out.append((special_id, COMMIT, special))
    out.extend((oid, COMMIT, "reflog") for oid in sorted(repo.refs.all_reflog_ids(reflog_expire_before)))
    for path, entry in repo.read_index().entries.items():
        out.append((entry.id, entry.kind, f"index:{path}"))
    for name, oid in repo.refs.list_refs(MIXES).items():
        out.append((oid, META, MIXES + name))
    out.extend(_merge_roots(repo))
    return out


def _merge_roots(repo: Repo) -> list[tuple[str, str, str]]:
    """A merge stopped on conflicts still needs its sides, its (possibly virtual) base and the
    stored conflict rows until it is continued or aborted."""
    from corpusgit.merge.state import read_state

    state = read_state(repo.cgit)
    if state is None:
        return []
    out = [(state.theirs, COMMIT, "merge in progress"), (state.orig_head, COMMIT, "merge in progress")]
    for path, c in state.conflicts.items():
        label = f"conflict:{path}"
        kind = c.ours_kind or c.theirs_kind or BLOB
        out.extend((oid, k, label) for oid, k in ((c.base, kind), (c.ours, c.ours_kind or kind), (c.theirs, c.theirs_kind or kind)) if oid)
        if c.conflicts:
            out.append((c.conflicts, BLOB, label))
    return out


def walk(repo: Repo, starts: Iterable[tuple[str, str, str]]) -> Reach:
    """Visit every object reachable from ``starts``; missing or corrupt ones become problems."""
    reach = Reach()
    stack = list(starts)
    while stack:
        oid, kind, label = stack.pop()
        if oid in reach.kinds:
            continue
        reach.kinds[oid] = kind
        reach.needed_by[oid] = label
        try:
            stack.extend(_children(repo, oid, kind, label, reach))
        except CorpusGitError as exc:
            reach.problems.append(Problem(oid, kind, label, exc.message))
    return reach


def _children(repo: Repo, oid: str, kind: str, label: str, reach: Reach) -> list[tuple[str, str, str]]:
    if kind == COMMIT:
        commit = Commit.from_json(repo.store.get_meta(oid, label))
        where = f"commit {oid[:12]}"
        found: list[tuple[str, str, str]] = [(commit.tree, TREE, where)]
        found += [(lid, META, f"lineage of {oid[:12]}") for lid in commit.lineage]  # records list their row-effect blobs
        return found + [(p, COMMIT, f"parent of {oid[:12]}") for p in commit.parents]
    if kind == TREE:
        tree = Tree.from_json(repo.store.get_meta(oid, label))
        return [(e.id, e.kind, f"{p} in {label}") for p, e in tree.entries.items()]
    if kind == TABLE:
        from corpusgit.table.model import TableObject

        table = TableObject.from_json(repo.store.get_meta(oid, label))
        for ref in table.chunk_refs():
            reach.chunks.setdefault(ref.id, ref)
        return [(ref.id, CHUNK, label) for ref in table.chunk_refs()]
    if kind == META:
        doc = repo.store.get_meta(oid, label)
        return [(str(i), str(k), label) for k, i in doc.get("reaches", [])]
    if kind == BLOB or kind == CHUNK or kind == RAW:
        if not repo.store.has(oid):
            reach.problems.append(Problem(oid, kind, label, f"{kind} {oid} is missing (needed by {label})"))
    return []
