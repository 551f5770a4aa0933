"""Branches, tags, HEAD and the reflog.

Every update is a compare-and-swap under the ref's lock: the old value is re-read while locked,
so two racing commits on one branch cannot both win and no commit is lost.

Every write to a reflog (an append, gc's rewrite when entries expire, the deletion with its
ref) holds the reflog's own lock, ``logs/<name>.lock``, so a rewrite can never lose an entry
appended meanwhile. It is not the ref's lock: gc would then make a concurrent commit fail.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

from corpusgit.errors import BadInput, LockHeld, RefConflict
from corpusgit.lock import LockFile
from corpusgit.store.atomic import write_atomic
from corpusgit.store.canonical import ObjectId

HEADS = "refs/heads/"
TAGS = "refs/tags/"
REMOTES = "refs/remotes/"  # remote-tracking branches: what the last fetch saw
_BAD_NAME_CHARS = set(" ~^:?*[\\\x7f") | {chr(c) for c in range(32)}
# How long a reflog append waits for the log's lock. Its other holders are appends and gc's
# rewrite of one log, which take milliseconds; a ref update must not fail because gc runs.
REFLOG_LOCK_WAIT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class ReflogEntry:
    old: str | None
    new: str | None
    time: int
    message: str

    def to_line(self) -> str:
        return json.dumps({"old": self.old, "new": self.new, "time": self.time, "message": self.message}) + "\n"


def surviving_entries(entries: list[ReflogEntry], cutoff: float, tip: str | None) -> list[ReflogEntry]:
    """What expiry at ``cutoff`` (Unix seconds) keeps of a reflog: entries newer than the
    cutoff, and the newest entry that set the ref's current value ``tip``, so ``NAME@{0}``
    still works. When entries are dropped, each kept entry's ``old`` becomes the ``new`` of the
    kept entry before it (None for the first), as ``git reflog expire --rewrite`` does: an
    expired value must not stay alive as the ``old`` of a survivor."""
    tip_at = next((i for i in range(len(entries) - 1, -1, -1) if tip is not None and entries[i].new == tip), -1)
    kept = [e for i, e in enumerate(entries) if e.time > cutoff or i == tip_at]
    if len(kept) == len(entries):
        return entries
    chained: list[ReflogEntry] = []
    for entry in kept:
        chained.append(replace(entry, old=chained[-1].new if chained else None))
    return chained


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
                with self._log_locked(name) as log:
                    log.unlink(missing_ok=True)
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
    @contextmanager
    def _log_locked(self, name: str) -> Iterator[Path]:
        """``logs/<name>`` under its lock, waiting (briefly) for another holder to finish."""
        path = self.root / "logs" / name
        deadline = time.monotonic() + REFLOG_LOCK_WAIT_SECONDS
        while True:
            try:
                lock = LockFile(path).acquire()
                break
            except LockHeld:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.01)
        try:
            yield path
        finally:
            lock.release()

    def _append_log(self, name: str, old: str | None, new: str | None, message: str) -> None:
        self.append_reflog(name, ReflogEntry(old, new, int(time.time()), message))

    def append_reflog(self, name: str, entry: ReflogEntry) -> None:
        """Append ``entry`` to ``name``'s reflog, fsynced. Ref updates call this with the current
        time; tools that import history (and tests of expiry) pass their own dates."""
        with self._log_locked(name) as path:
            with open(path, "ab") as handle:
                torn = handle.tell() > 0 and not _ends_with_newline(path)
                handle.write((("\n" if torn else "") + entry.to_line()).encode("utf-8"))  # a torn line stays alone
                handle.flush()
                os.fsync(handle.fileno())

    def write_reflog(self, name: str, entries: list[ReflogEntry]) -> None:
        """Replace ``name``'s reflog with ``entries`` atomically (temp, fsync, rename) under its
        lock; no entries deletes it."""
        with self._log_locked(name) as path:
            self._replace_log(path, entries)

    @staticmethod
    def _replace_log(path: Path, entries: list[ReflogEntry]) -> None:
        if entries:
            write_atomic(path, "".join(e.to_line() for e in entries).encode("utf-8"))
        else:
            path.unlink(missing_ok=True)

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

    def reflog_names(self) -> list[str]:
        """Every ref with a reflog, including refs deleted since (their logs await expiry)."""
        logs = self.root / "logs"
        if not logs.exists():
            return []
        return sorted(
            p.relative_to(logs).as_posix() for p in logs.rglob("*")
            if p.is_file() and not p.name.endswith(".lock") and not p.name.startswith(".")  # locks, temp files
        )

    def _tip(self, name: str) -> str | None:
        return self.head_commit() if name == "HEAD" else self.read(name)

    def all_reflog_ids(self, expire_before: float | None = None) -> set[str]:
        """Every commit id the reflogs name; with ``expire_before``, only the ids of entries that
        expiry at that time would keep (see ``surviving_entries``)."""
        ids: set[str] = set()
        for name in self.reflog_names():
            entries = self.reflog(name)
            if expire_before is not None:
                entries = surviving_entries(entries, expire_before, self._tip(name))
            for entry in entries:
                ids.update(x for x in (entry.old, entry.new) if x)
        return ids

    def expire_reflogs(self, expire_before: float, dry_run: bool = False) -> int:
        """Drop the entries of every reflog that ``surviving_entries`` does not keep; a log left
        empty (a deleted branch's, once old enough) is deleted. Each log is rewritten
        atomically under its lock. Returns the number of entries dropped."""
        dropped = 0
        for name in self.reflog_names():
            with self._log_locked(name) as path:
                lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
                entries = self.reflog(name)
                kept = surviving_entries(entries, expire_before, self._tip(name))
                if kept is entries and len(lines) == len(entries):
                    continue
                dropped += len(entries) - len(kept)
                if not dry_run:
                    self._replace_log(path, kept)
        return dropped


def _short_ref(name: str) -> str:
    for prefix in (HEADS, TAGS):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def _ends_with_newline(path: Path) -> bool:
    with open(path, "rb") as handle:
        handle.seek(-1, os.SEEK_END)
        return handle.read(1) == b"\n"
