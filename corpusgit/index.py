"""The index: the next commit's tree plus a stat cache of the work tree.

An entry whose size, mtime and inode still match the file is trusted without reading the file,
which is what makes ``status`` and ``add`` instant on unchanged corpora.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

from corpusgit.lock import LockFile
from corpusgit.objects import Tree, TreeEntry
from corpusgit.store.canonical import ObjectId

INDEX_VERSION = 1


@dataclass(frozen=True, slots=True)
class IndexEntry:
    kind: str
    id: ObjectId
    mode: int
    size: int = -1
    mtime_ns: int = -1
    ino: int = -1
    rows: int = -1

    def matches(self, st: os.stat_result) -> bool:
        """True when the file is unchanged since it was hashed (the stat cache hit)."""
        return self.size == st.st_size and self.mtime_ns == st.st_mtime_ns and self.ino == st.st_ino

    def with_stat(self, st: os.stat_result) -> IndexEntry:
        return replace(self, size=st.st_size, mtime_ns=st.st_mtime_ns, ino=st.st_ino)

    def tree_entry(self) -> TreeEntry:
        return TreeEntry(self.kind, self.id, self.mode)


@dataclass
class Index:
    entries: dict[str, IndexEntry]

    def to_tree(self) -> Tree:
        return Tree({p: e.tree_entry() for p, e in self.entries.items()})


def read_index(path: Path) -> Index:
    if not path.exists():
        return Index({})
    doc = json.loads(path.read_text(encoding="utf-8"))
    return Index({p: IndexEntry(e[0], ObjectId(e[1]), *e[2:]) for p, e in doc["entries"].items()})


def write_index(lock: LockFile, index: Index) -> None:
    """Persist under the already-held index lock (atomic replace)."""
    doc = {
        "version": INDEX_VERSION,
        "entries": {
            p: [e.kind, e.id, e.mode, e.size, e.mtime_ns, e.ino, e.rows] for p, e in sorted(index.entries.items())
        },
    }
    lock.commit(json.dumps(doc, separators=(",", ":")).encode("utf-8"))


def index_from_tree(tree: Tree, rows: dict[str, int] | None = None) -> Index:
    """An index for a checked-out tree; stat fields get filled as files are written."""
    rows = rows or {}
    return Index({p: IndexEntry(e.kind, e.id, e.mode, rows=rows.get(p, -1)) for p, e in tree.entries.items()})
