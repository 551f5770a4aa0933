"""Trees and commits: the history layer's objects, as frozen dataclasses with canonical JSON.

Trees are flat (path -> entry) because corpora hold thousands of shards in a few directories;
one sorted list diffs and loads in a single read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from corpusgit.errors import CorruptObject, UnsafePath
from corpusgit.store.canonical import ObjectId
from corpusgit.store.objects import ObjectStore

TABLE = "table"
BLOB = "blob"
MODE_FILE = 0o644
MODE_EXEC = 0o755


@dataclass(frozen=True, slots=True)
class TreeEntry:
    kind: str
    id: ObjectId
    mode: int = MODE_FILE


@dataclass(frozen=True, slots=True)
class Tree:
    entries: dict[str, TreeEntry]

    def to_json(self) -> dict[str, Any]:
        return {"type": "tree", "entries": [[p, e.kind, e.id, e.mode] for p, e in sorted(self.entries.items())]}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Tree:
        return cls({p: TreeEntry(k, i, m) for p, k, i, m in doc["entries"]})


@dataclass(frozen=True, slots=True)
class Author:
    name: str
    email: str


@dataclass(frozen=True, slots=True)
class Commit:
    tree: ObjectId
    parents: tuple[ObjectId, ...]
    author: Author
    time: int
    tz_offset: int
    message: str
    hooks: str = "none"
    lineage: tuple[str, ...] = field(default_factory=tuple)
    report: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "commit",
            "tree": self.tree,
            "parents": list(self.parents),
            "author": {"name": self.author.name, "email": self.author.email},
            "time": self.time,
            "tz_offset": self.tz_offset,
            "message": self.message,
            "hooks": self.hooks,
            "lineage": list(self.lineage),
            "report": self.report,
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> Commit:
        return cls(
            ObjectId(doc["tree"]),
            tuple(ObjectId(p) for p in doc["parents"]),
            Author(doc["author"]["name"], doc["author"]["email"]),
            int(doc["time"]),
            int(doc.get("tz_offset", 0)),
            str(doc["message"]),
            str(doc.get("hooks", "none")),
            tuple(doc.get("lineage", [])),
            doc.get("report"),
        )

    @property
    def subject(self) -> str:
        return self.message.strip().splitlines()[0] if self.message.strip() else ""


def load_typed(store: ObjectStore, oid: str, kind: str, needed_by: str | None = None) -> dict[str, Any]:
    """Load a metadata object and insist on its type, so a wrong id fails loudly."""
    doc = store.get_meta(oid, needed_by)
    if doc.get("type") != kind:
        raise CorruptObject(oid, kind, str(doc.get("type")), needed_by)
    return doc


def read_commit(store: ObjectStore, oid: str, needed_by: str | None = None) -> Commit:
    return Commit.from_json(load_typed(store, oid, "commit", needed_by))


def read_tree(store: ObjectStore, oid: str, needed_by: str | None = None, check_paths: bool = True) -> Tree:
    """Load a tree; its paths are checked for safety unless the caller only compares ids
    (``status`` on 10,000 files saves the checks; everything that writes files keeps them)."""
    tree = Tree.from_json(load_typed(store, oid, "tree", needed_by))
    if check_paths:
        for path in tree.entries:
            check_tree_path(path)
    return tree


def read_commit_tree(store: ObjectStore, commit_id: str, check_paths: bool = True) -> Tree:
    """The tree of a commit; a damaged or missing tree is reported as needed by that commit."""
    return read_tree(store, read_commit(store, commit_id).tree, f"commit {commit_id[:12]}", check_paths)


def check_tree_path(path: str) -> str:
    """Refuse paths that could write outside the work tree (hostile or corrupt repositories)."""
    if not isinstance(path, str):
        raise UnsafePath(f"unsafe path in tree: {path!r}", hint="the repository may be hostile or corrupt; nothing was written")
    parts = path.split("/")
    if (
        not path
        or path.startswith("/")
        or "\\" in path
        or "\x00" in path
        or any(p in ("", ".", "..") for p in parts)
        or parts[0] in (".cgit", ".git")
        or (len(path) > 1 and path[1] == ":")
    ):
        raise UnsafePath(f"unsafe path in tree: {path!r}", hint="the repository may be hostile or corrupt; nothing was written")
    return path
