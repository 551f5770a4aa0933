"""Which objects a transfer must move: the closure of the new commits, minus what the other side
certainly has.

A ref is only ever moved after every object it reaches is in place, so every commit reachable
from the receiver's refs is complete there; the walk stops at those commits, and at the trees,
tables and blobs their tips hold (an edit usually keeps most tables, which are then not even
looked at). Lineage and report objects hang off commits; inside such objects any string that
is a full object id is followed, since their layout belongs to other modules.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from corpusgit.objects import TABLE, Commit, Tree, read_commit, read_tree
from corpusgit.reach import BLOB, CHUNK, COMMIT, TREE
from corpusgit.store.canonical import is_object_id
from corpusgit.store.objects import LARGE_MAGIC, ObjectStore
from corpusgit.table.model import ChunkRef, TableObject

META = "meta"  # lineage, report, mix... metadata whose kind we learn on arrival
ANY = "any"  # an id found inside such an object: may not be an object at all
METADATA_KINDS = (COMMIT, TREE, TABLE, META)
DATA_KINDS = (BLOB, CHUNK)
_ZSTD_FRAME = b"\x28\xb5\x2f\xfd"
_PARQUET = b"PAR1"


@dataclass(frozen=True, slots=True)
class Wanted:
    """An object to move; chunks carry the checksum their table recorded, to verify them."""

    oid: str
    kind: str
    ref: ChunkRef | None = None


def children(kind: str, doc: dict[str, Any]) -> list[Wanted]:
    """Objects a metadata object points at."""
    if kind == COMMIT:
        commit = Commit.from_json(doc)
        found = [Wanted(commit.tree, TREE)] + [Wanted(p, COMMIT) for p in commit.parents]
        extra = list(commit.lineage) + ([commit.report] if commit.report else [])
        return found + [Wanted(x, ANY) for x in extra if is_object_id(x)]
    if kind == TREE:
        return [Wanted(e.id, e.kind) for e in Tree.from_json(doc).entries.values()]
    if kind == TABLE:
        return [Wanted(r.id, CHUNK, r) for r in TableObject.from_json(doc).chunk_refs()]
    return [Wanted(x, ANY) for x in sorted(set(_ids_in(doc)))]


def _ids_in(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        if is_object_id(value):
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _ids_in(item)
    elif isinstance(value, list):
        for item in value:
            yield from _ids_in(item)


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
    for tip in tips:
        if store.has(tip):
            tree_id = read_commit(store, tip).tree
            out.add(tree_id)
            out.update(e.id for e in read_tree(store, tree_id).entries.values())
    return out


def local_closure(store: ObjectStore, tips: Iterable[str], have_commits: set[str], have_objects: set[str]) -> list[Wanted]:
    """Objects reachable from ``tips`` in the local store, minus what the other side has.

    Objects absent locally are listed too (a partial clone's chunks): the sender fetches them
    from its promisor, or finds the receiver already has them.
    """
    out: list[Wanted] = []
    seen: set[str] = set()
    stack = [Wanted(t, COMMIT) for t in tips]
    while stack:
        item = stack.pop()
        if item.oid in seen or item.oid in have_commits or item.oid in have_objects:
            continue
        seen.add(item.oid)
        kind = item.kind
        if kind == ANY:
            found = store.locate(item.oid)
            if found is None:
                continue
            with open(found, "rb") as handle:
                kind = sniff(handle.read(4))
        if kind in METADATA_KINDS:
            doc = store.get_meta(item.oid, "push")
            kind = kind_of(doc) if kind == META else kind
            stack.extend(children(kind, doc))
        out.append(Wanted(item.oid, kind, item.ref))
    return out
