"""Branches, tags, HEAD and the reflog.

Every update is a compare-and-swap under the ref's lock: the old value is re-read while locked,
so two racing commits on one branch cannot both win and no commit is lost.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from corpusgit.errors import BadInput, RefConflict
from corpusgit.lock import LockFile
from corpusgit.store.canonical import ObjectId

HEADS = "refs/heads/"
TAGS = "refs/tags/"
REMOTES = "refs/remotes/"  # remote-tracking branches: what the last fetch saw
_BAD_NAME_CHARS = set(" ~^:?*[\\\x7f") | {chr(c) for c in range(32)}


@dataclass(frozen=True, slots=True)
class ReflogEntry:
    old: str | None
    new: str | None
    time: int
    message: str


def check_ref_name(name: str, what: str = "branch") -> None:
    """Reject names git would reject, so refs stay valid file paths on every platform."""
    bad = (
        not name
        or name.startswith(("-", "/"))
        or any(part.startswith(".") for part in name.split("/"))  # dot-files are cgit's temp files
        or name.endswith(("/", ".lock", "."))
        or ".." in name
        or "//" in name
        or "@{" in name
        or name == "HEAD"
        or any(ch in _BAD_NAME_CHARS for ch in name)
    )
    if bad:
        raise BadInput(f"'{name}' is not a valid {what} name", hint="use letters, digits, '-', '_', '.' and '/'")


class RefStore:
    """Refs as small files under ``.cgit``; HEAD may be symbolic (``ref: refs/heads/main``)."""

    def __init__(self, cgit_dir: Path) -> None:
        self.root = cgit_dir

    def _path(self, name: str) -> Path:
        return self.root / name

    # -- HEAD -------------------------------------------------------------------------------
    def head_target(self) -> str | None:
        """The branch ref HEAD points to, or None when detached."""
        text = self._path("HEAD").read_text().strip()
        return text[5:].strip() if text.startswith("ref:") else None

    def head_commit(self) -> ObjectId | None:
        target = self.head_target()
        if target is None:
            return ObjectId(self._path("HEAD").read_text().strip())
        return self.read(target)

    def set_head_symbolic(self, ref: str, message: str | None = None) -> None:
        """Point HEAD at a branch; HEAD's reflog records the move, so ``HEAD@{1}`` is where
        HEAD was before a switch, as in git."""
        old = self.head_commit() if self._path("HEAD").exists() else None
        with LockFile(self._path("HEAD")) as lock:
            lock.commit(f"ref: {ref}\n".encode())
        new = self.read(ref)
        if new is not None:
            self._append_log("HEAD", old, new, message or f"checkout: moving to {_short_ref(ref)}")

    def set_head_detached(self, oid: str, message: str) -> None:
        old = self.head_commit()
        with LockFile(self._path("HEAD")) as lock:
            lock.commit(f"{oid}\n".encode())
        self._append_log("HEAD", old, oid, message)

    # -- plain refs ---------------------------------------------------------------------------
    def read(self, name: str) -> ObjectId | None:
        try:
            text = self._path(name).read_text().strip()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None
        return ObjectId(text) if text else None

    def update(self, name: str, new: str | None, expected_old: str | None, message: str) -> None:
        """Compare-and-swap ``name`` from ``expected_old`` to ``new`` (None deletes)."""
        lock = LockFile(self._path(name)).acquire()
        try:
            current = self.read(name)
            if current != expected_old:
                raise RefConflict(
                    f"{_short_ref(name)} moved from {(expected_old or 'nothing')[:12]} to {(current or 'nothing')[:12]} while this command ran",
                    hint="another cgit process updated it first; look at 'cgit log' and run the command again",
                )
            if new is None:
                os.unlink(self._path(name))
                (self.root / "logs" / name).unlink(missing_ok=True)
                return
            lock.commit(f"{new}\n".encode())
        finally:
            lock.release()
        self._append_log(name, expected_old, new, message)
        if self.head_target() == name:
            self._append_log("HEAD", expected_old, new, message)

    def update_head(self, new: str, expected_old: str | None, message: str) -> None:
        """Advance whatever HEAD points to (branch or detached HEAD), with CAS."""
        target = self.head_target()
        if target is not None:
            self.update(target, new, expected_old, message)
            return
        lock = LockFile(self._path("HEAD")).acquire()
        try:
            current = self.head_commit()
            if current != expected_old:
                raise RefConflict("HEAD moved while this command ran", hint="run the command again")
            lock.commit(f"{new}\n".encode())
        finally:
            lock.release()
        self._append_log("HEAD", expected_old, new, message)

    def list_refs(self, prefix: str) -> dict[str, ObjectId]:
        """Refs under a prefix (``refs/heads/``), by short name."""
        base = self._path(prefix)
        out: dict[str, ObjectId] = {}
        if not base.exists():
            return out
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.name.endswith(".lock") and not path.name.startswith("."):  # locks, temp files
                name = path.relative_to(base).as_posix()
                oid = self.read(prefix + name)
                if oid:
                    out[name] = oid
        return out

    # -- reflog -------------------------------------------------------------------------------
    def _append_log(self, name: str, old: str | None, new: str | None, message: str) -> None:
        path = self.root / "logs" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"old": old, "new": new, "time": int(time.time()), "message": message}) + "\n"
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())

    def reflog(self, name: str) -> list[ReflogEntry]:
        """Entries oldest first; a torn last line (crash mid-append) is skipped."""
        path = self.root / "logs" / name
        if not path.exists():
            return []
        entries = []
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            entries.append(ReflogEntry(doc.get("old"), doc.get("new"), int(doc.get("time", 0)), str(doc.get("message", ""))))
        return entries

    def all_reflog_ids(self) -> set[str]:
        ids: set[str] = set()
        logs = self.root / "logs"
        if logs.exists():
            for path in logs.rglob("*"):
                if path.is_file():
                    for entry in self.reflog(path.relative_to(logs).as_posix()):
                        ids.update(x for x in (entry.old, entry.new) if x)
        return ids


def _short_ref(name: str) -> str:
    for prefix in (HEADS, TAGS):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name
