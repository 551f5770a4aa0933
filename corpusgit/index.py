"""The index: the next commit's tree plus a stat cache of the work tree.

An entry whose size, mtime and inode still match the file is trusted without reading the file,
which is what makes ``status`` and ``add`` instant on unchanged corpora.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from corpusgit.lock import LockFile
from corpusgit.objects import Tree, TreeEntry
from corpusgit.store.canonical import ObjectId

INDEX_VERSION = 1
# A stored entry is the row [kind, id, mode, size, mtime_ns, ino, rows] (see write_index).
ROW_ID = 1
_ROW_STAT = slice(3, 6)  # size, mtime_ns, ino: the fields the stat cache compares

IndexRow = list[Any]


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
    return Index({p: entry_from_row(row) for p, row in read_index_rows(path).items()})


def read_index_rows(path: Path) -> dict[str, IndexRow]:
    """The stored rows by path, not yet entries: building an ``IndexEntry`` costs about as much
    as the whole stat-cache comparison, so a no-op ``status`` over 10,000 files compares rows
    (``ROW_ID``, ``row_matches``) and builds entries only for the paths that changed."""
    if not path.exists():
        return {}
    entries: dict[str, IndexRow] = json.loads(path.read_text(encoding="utf-8"))["entries"]
    return entries


def entry_from_row(row: IndexRow) -> IndexEntry:
    return IndexEntry(row[0], ObjectId(row[1]), *row[2:])


def row_matches(row: IndexRow, st: os.stat_result) -> bool:
    """``IndexEntry.matches`` on a stored row."""
    return row[_ROW_STAT] == [st.st_size, st.st_mtime_ns, st.st_ino]


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
