"""Replace many files so that every one changes, or none does.

``checkout`` writes each new file to a temp file beside its target, streamed and fsynced one at
a time (memory stays bounded), and renames nothing until all of them are written. A failure
while writing (a corrupt chunk, a full disk, Ctrl-C) removes the temp files: the work tree is
as it was. Then ``publish`` renames them into place in one burst, with SIGINT and SIGTERM held
back. Each replaced or removed file stays reachable under a temp name (a hard link, or a
rename where hard links are not supported) until the caller's last step (index, HEAD) has
succeeded, so a failure there puts every old file back.

Only SIGKILL or a power cut during the burst (renames and the fsyncs of their directories) can
leave some files new and some old. A journal, written before the first temp file, names the
directories a batch writes in; the next batch (or ``gc``) under the same lock removes the temp
files a killed one left there (``clean_interrupted``), and nothing else.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, TracebackType
from typing import Any

from corpusgit.store.atomic import (
    create_temp_beside,
    fsync_dir,
    is_temp_name,
    sync_file,
    translate_os_error,
    write_atomic,
)

# Signals a user or a supervisor sends to stop a command; held during the rename burst so the
# burst and the caller's index and HEAD updates finish together, then delivered.
HELD_SIGNALS = (signal.SIGINT, signal.SIGTERM)


@dataclass
class _Change:
    target: Path
    temp: Path | None  # new content until it is renamed over target; None for a removal
    backup: Path | None = None  # the old file under a temp name, once it has one
    backup_is_link: bool = False  # True: target still holds the old file too
    swapped: bool = False  # target now has the new content (or is gone, for a removal)


class FileBatch:
    """Writes and removals under ``root``, published together.

    Use as a context manager: an exception inside the block rolls back whatever was done.
    ``targets`` are every path the batch will write or remove, so the journal can name their
    directories before anything exists on disk.
    """

    def __init__(self, root: Path, journal: Path, targets: Iterable[Path]) -> None:
        self.root = root
        self.journal = journal
        self._targets = list(targets)
        self._changes: list[_Change] = []
        self._dirs: set[Path] = {target.parent for target in self._targets}
        self._created: set[Path] = set()
        self._finished = False
        self._sigterm: Any = None

    def __enter__(self) -> FileBatch:
        """Remove what a killed batch left, then write the journal. While the batch is open,
        SIGTERM interrupts like Ctrl-C, so the temp files are removed on the way out (by
        default it would end the process on the spot)."""
        if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            self._sigterm = signal.signal(signal.SIGTERM, _interrupt)
        try:
            clean_interrupted(self.root, self.journal)  # its journal must not be overwritten unread
            for target in self._targets:
                parent = target.parent
                while not parent.exists() and parent != self.root and self.root in parent.parents:
                    self._created.add(parent)
                    parent = parent.parent
            if self._dirs:
                doc = {"dirs": sorted(self._rel(d) for d in self._dirs), "created": sorted(self._rel(d) for d in self._created)}
                write_atomic(self.journal, json.dumps(doc).encode())
        except BaseException:
            _quietly(os.unlink, self.journal)
            self._restore_sigterm()
            raise
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        try:
            if exc_type is not None:
                self.rollback()
        finally:
            self._restore_sigterm()

    def _restore_sigterm(self) -> None:
        if self._sigterm is not None:
            signal.signal(signal.SIGTERM, self._sigterm)
            self._sigterm = None

    def _rel(self, path: Path) -> str:
        return path.relative_to(self.root).as_posix()

    # -- phase 1: write ---------------------------------------------------------------------------
    def write(self, target: Path, writer: Callable[[Path], None], mode: int) -> os.stat_result:
        """Let ``writer`` fill a temp file beside ``target``; fsync it and give it ``mode``.

        Returns the temp file's stat, which the renamed file keeps (same inode, size and
        mtime), so callers can fill a stat cache before publishing.
        """
        assert target.parent in self._dirs, f"{target} was not announced to the batch"
        try:
            temp = create_temp_beside(target)
            self._changes.append(_Change(target, temp))
            writer(temp)
            sync_file(temp)
            os.chmod(temp, mode)
            return temp.stat()
        except OSError as exc:
            raise translate_os_error(exc, target) from exc

    def remove(self, target: Path) -> None:
        """Delete ``target`` when the batch is published (a no-op if it is already gone)."""
        assert target.parent in self._dirs, f"{target} was not announced to the batch"
        self._changes.append(_Change(target, None))

    # -- phase 2: publish -------------------------------------------------------------------------
    def publish(self, then: Callable[[], None] = lambda: None) -> None:
        """Rename everything into place, fsync the directories, run ``then`` (the caller's index
        and HEAD updates); if any of it fails, undo all of it and re-raise. SIGINT and SIGTERM
        are held until the batch is finished either way."""
        with hold_signals():
            current: Path = self.root
            try:
                for change in self._changes:
                    current = change.target
                    self._swap(change)
                for directory in sorted(self._dirs):
                    if directory.exists():
                        current = directory
                        fsync_dir(directory)
                current = self.root
                then()
            except OSError as exc:
                self.rollback()
                raise translate_os_error(exc, current) from exc
            except BaseException:
                self.rollback()
                raise
            self.finish()

    def _swap(self, change: _Change) -> None:
        target = change.target
        if change.temp is None:
            if os.path.lexists(target) and (target.is_symlink() or not target.is_dir()):  # a directory is not ours to remove
                change.backup = _rename_aside(target)
                change.swapped = True
            return
        if os.path.lexists(target):
            change.backup, change.backup_is_link = _keep_aside(target)
        os.replace(change.temp, target)
        change.swapped = True

    def rollback(self) -> None:
        """Undo every rename, delete every temp file and every directory the batch created;
        idempotent and best effort (each step is a rename or unlink in a directory the batch
        has just written to)."""
        if self._finished:
            return
        self._finished = True
        with hold_signals():  # a second Ctrl-C must not stop the undo half-way
            for change in reversed(self._changes):
                _undo(change)
            for directory in sorted(self._created, key=lambda d: len(d.parts), reverse=True):
                _quietly(os.rmdir, directory)  # fails, as it should, if anything else is inside
            for directory in self._dirs:
                if directory.exists():
                    _quietly(fsync_dir, directory)
            _quietly(os.unlink, self.journal)

    def finish(self) -> None:
        """Forget the old files: delete the backups and the journal."""
        if self._finished:
            return
        self._finished = True
        for change in self._changes:
            if change.backup is not None:
                _quietly(os.unlink, change.backup)
        _quietly(os.unlink, self.journal)


def _undo(change: _Change) -> None:
    target, backup = change.target, change.backup
    if change.swapped:  # target has the new content, or is gone: the backup goes back
        if backup is not None:
            _quietly(os.replace, backup, target)
        else:  # a new file
            _quietly(os.unlink, target)
    elif backup is not None:  # aside, but not yet replaced
        if change.backup_is_link:
            _quietly(os.unlink, backup)
        else:
            _quietly(os.replace, backup, target)
    if change.temp is not None and not change.swapped:
        _quietly(os.unlink, change.temp)


def clean_interrupted(root: Path, journal: Path) -> int:
    """Remove what a batch killed part-way left: files named like cgit's temp files in the
    directories its journal names, then the directories it created if they are empty. Call it
    under the lock that batches take, so no live batch is writing there. Returns files removed."""
    try:
        doc = json.loads(journal.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return 0
    except ValueError:  # written atomically, so never torn; unreadable means not ours
        doc = {}
    removed = 0
    real_root = root.resolve()
    dirs = [d for d in doc.get("dirs", []) if isinstance(d, str)]
    created = [d for d in doc.get("created", []) if isinstance(d, str)]
    for rel in dirs:
        directory = root / rel
        if not _inside(real_root, directory):
            continue
        try:
            entries = list(os.scandir(directory))
        except OSError:
            continue
        for entry in entries:
            if is_temp_name(entry.name) and entry.is_file(follow_symlinks=False):
                _quietly(os.unlink, entry.path)
                removed += 1
    for rel in sorted(created, key=lambda d: d.count("/"), reverse=True):
        if _inside(real_root, root / rel):
            _quietly(os.rmdir, root / rel)
    _quietly(os.unlink, journal)
    return removed


@contextmanager
def hold_signals() -> Iterator[None]:
    """Hold SIGINT and SIGTERM for the duration of the block, then deliver them if the block
    completed (an exception already ends the command). Only the main thread can install
    handlers; elsewhere this does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        caught.append(signum)

    previous: dict[int, Any] = {}
    for sig in HELD_SIGNALS:
        if signal.getsignal(sig) is not None:  # None: a handler installed outside Python; leave it
            previous[sig] = signal.signal(sig, hold)
    try:
        yield
    finally:
        for held, handler in previous.items():
            signal.signal(held, handler)
    for signum in dict.fromkeys(caught):
        signal.raise_signal(signum)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def _keep_aside(target: Path) -> tuple[Path, bool]:
    """A second name for the file at ``target`` (a hard link, so ``target`` never disappears),
    or, where hard links are refused, ``target`` renamed aside. Returns (name, is_link)."""
    while True:
        backup = _aside_name(target)
        try:
            os.link(target, backup, follow_symlinks=False)
            return backup, True
        except FileExistsError:
            continue
        except OSError:
            return _rename_aside(target), False


def _rename_aside(target: Path) -> Path:
    while True:
        backup = _aside_name(target)
        if not os.path.lexists(backup):
            os.replace(target, backup)
            return backup


def _aside_name(target: Path) -> Path:
    """Named like a temp file (``is_temp_name``), so status hides it and cleanup finds it."""
    return target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")


def _inside(real_root: Path, path: Path) -> bool:
    try:
        real = path.resolve()
    except OSError:
        return False
    return real == real_root or real_root in real.parents


def _quietly(action: Callable[..., object], *args: Any) -> None:
    try:
        action(*args)
    except OSError:
        pass
