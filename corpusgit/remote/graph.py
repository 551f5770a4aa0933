"""Which objects a transfer must move: the closure of the new tips, minus what the other side
certainly has.

A ref is only ever moved after every object it reaches is in place, so every commit reachable
from the receiver's refs is complete there; the walk stops at those commits, and at the trees,
tables and blobs their tips hold (an edit usually keeps most tables, which are then not even
looked at). Beyond commits, trees and tables the walk follows the same edges as
``corpusgit.reach``: a commit's lineage records, and whatever a metadata object lists under
``reaches`` (mix selections, lineage effect sets).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from corpusgit.objects import TABLE, Commit, Tree, read_commit, read_tree
from corpusgit.reach import BLOB, CHUNK, COMMIT, META, MIXES, RAW, TREE
from corpusgit.store.canonical import is_object_id
from corpusgit.store.objects import LARGE_MAGIC, ObjectStore
from corpusgit.table.model import ChunkRef, TableObject

ANY = "any"  # kind unknown until the bytes arrive (a partial clone's on-demand fetch)
METADATA_KINDS = (COMMIT, TREE, TABLE, META)
DATA_KINDS = (BLOB, CHUNK, RAW)
_ZSTD_FRAME = b"\x28\xb5\x2f\xfd"
_PARQUET = b"PAR1"


@dataclass(frozen=True, slots=True)
class Wanted:
    """An object to move, with what its referrer recorded to verify it by.

    ``ref``: a chunk's size and checksum from its table. ``checksum``: a raw object's checksum
    when its referrer records one (mix plan pieces).
    """

    oid: str
    kind: str
    ref: ChunkRef | None = None
    checksum: str | None = None


def tip(ref_name: str, oid: str) -> Wanted:
    """Branches and tags name commits; ``refs/mixes/*`` name mix selection records."""
    return Wanted(oid, META if ref_name.startswith(MIXES) else COMMIT)


def children(kind: str, doc: dict[str, Any]) -> list[Wanted]:
    """Objects a metadata object points at."""
    if kind == COMMIT:
        commit = Commit.from_json(doc)
        found = [Wanted(commit.tree, TREE)] + [Wanted(p, COMMIT) for p in commit.parents]
        return found + [Wanted(x, META) for x in (*commit.lineage, commit.report) if x and is_object_id(x)]
    if kind == TREE:
        return [Wanted(e.id, e.kind) for e in Tree.from_json(doc).entries.values()]
    if kind == TABLE:
        return [Wanted(r.id, CHUNK, r) for r in TableObject.from_json(doc).chunk_refs()]
    checksums = _raw_checksums(doc)
    return [Wanted(str(i), str(k), checksum=checksums.get(str(i))) for k, i in doc.get("reaches", []) if is_object_id(str(i))]


def _raw_checksums(doc: dict[str, Any]) -> dict[str, str]:
    """A mix selection records each plan piece as [id, checksum, samples]."""
    if doc.get("type") != "mix-selection":
        return {}
    return {str(p[0]): str(p[1]) for p in doc.get("pieces", [])}


def kind_of(doc: dict[str, Any]) -> str:
    """Metadata kind from the object's own ``type`` field."""
    kind = doc.get("type")
    return kind if kind in (COMMIT, TREE, TABLE) else META


def sniff(head: bytes) -> str:
    """Kind of a stored object file from its first bytes (Parquet, zstd blob, zlib metadata)."""
    if head.startswith(_PARQUET):
        return CHUNK
    if head.startswith((_ZSTD_FRAME, LARGE_MAGIC)):
        return BLOB
    return META


def ancestors(store: ObjectStore, tips: Iterable[str]) -> set[str]:
    """Every commit reachable from ``tips`` that is present in ``store``."""
    seen: set[str] = set()
    stack = [t for t in tips if store.has(t)]
    while stack:
        oid = stack.pop()
        if oid in seen:
            continue
        seen.add(oid)
        stack.extend(p for p in read_commit(store, oid).parents if p not in seen and store.has(p))
    return seen


def tip_contents(store: ObjectStore, tips: Iterable[str]) -> set[str]:
    """Trees, tables and blobs of the tip commits: complete wherever the tips are."""
    out: set[str] = set()
    for oid in tips:
        if store.has(oid):
            tree_id = read_commit(store, oid).tree
            out.add(tree_id)
            out.update(e.id for e in read_tree(store, tree_id).entries.values())
    return out


def local_closure(store: ObjectStore, tips: Iterable[Wanted], have_commits: set[str], have_objects: set[str]) -> list[Wanted]:
    """Objects reachable from ``tips`` in the local store, minus what the other side has.

    Objects absent locally are listed too (a partial clone's chunks): the sender fetches them
    from its promisor, or finds the receiver already has them.
    """
    out: list[Wanted] = []
    seen: set[str] = set()
    stack = list(tips)
    while stack:
        item = stack.pop()
        if item.oid in seen or item.oid in have_commits or item.oid in have_objects:
            continue
        seen.add(item.oid)
        if item.kind in METADATA_KINDS:
            doc = store.get_meta(item.oid, "push")
            stack.extend(children(kind_of(doc) if item.kind == META else item.kind, doc))
        out.append(item)
    return out
