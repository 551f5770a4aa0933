"""Exclusive lock files that name their owner, so a lock left by a killed process is recognised.

A lock held by a live process fails fast with a message naming it; a lock whose owner (same
host) is gone is broken and taken over, which keeps a SIGKILLed ``cgit`` from wedging a repo.
"""

from __future__ import annotations

import os
import socket
import tempfile
from pathlib import Path
from types import TracebackType

from corpusgit.errors import LockHeld
from corpusgit.store.atomic import translate_os_error, write_atomic


class LockFile:
    """``path + '.lock'``: created already naming its owner, and naming it until released.

    The new content goes to a temp file of its own that is renamed over ``path``; it never goes
    into the lock file. A process killed at any instant therefore leaves no lock, or one whose
    (dead) owner is recognised and broken: never an anonymous lock that wedges the repository.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        self._held = False

    def acquire(self) -> LockFile:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            if self._create():
                self._held = True
                return self
            if not self._break_if_stale():
                raise LockHeld(
                    f"{self.path.name} is locked by another cgit process ({self._owner_text()})",
                    hint=f"wait for it to finish; if none is running, remove {self.lock_path}",
                )
        raise LockHeld(f"could not lock {self.path}", hint=f"remove {self.lock_path} if no cgit process is running")

    def _create(self) -> bool:
        """Publish the lock with its owner line already inside: written to a temp file, then
        hard-linked into place (``link``, like ``O_EXCL``, fails when the lock exists)."""
        owner = f"{os.getpid()} {socket.gethostname()}\n".encode()
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{self.lock_path.name}.", suffix=".tmp", dir=self.lock_path.parent)
            try:
                os.fchmod(fd, 0o644)  # readable by the team, so others can see who holds it
                with os.fdopen(fd, "wb") as handle:
                    handle.write(owner)
                try:
                    os.link(tmp, self.lock_path)
                except FileExistsError:
                    return False
                except OSError:  # no hard links on this file system: O_EXCL, then write
                    return self._create_exclusive(owner)
                return True
            finally:
                os.unlink(tmp)
        except OSError as exc:
            raise translate_os_error(exc, self.lock_path) from exc

    def _create_exclusive(self, owner: bytes) -> bool:
        try:
            fd = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "wb") as handle:
            handle.write(owner)
        return True

    def _owner_text(self) -> str:
        try:
            return self.lock_path.read_text().strip() or "unknown owner"
        except OSError:
            return "unknown owner"

    def _break_if_stale(self) -> bool:
        parts = self._owner_text().split()
        if len(parts) != 2 or parts[1] != socket.gethostname() or not parts[0].isdigit():
            return False
        if _pid_alive(int(parts[0])):
            return False
        try:
            os.unlink(self.lock_path)
        except FileNotFoundError:
            pass
        return True

    def commit(self, data: bytes) -> None:
        """Atomically replace the target with ``data`` (temp, fsync, rename), then release."""
        assert self._held
        try:
            write_atomic(self.path, data)
        finally:
            self.release()

    def release(self) -> None:
        if self._held:
            self._held = False
            try:
                os.unlink(self.lock_path)
            except FileNotFoundError:
                pass

    def __enter__(self) -> LockFile:
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


def _pid_alive(pid: int) -> bool:
    """True while ``pid`` can still run; a zombie (killed, not yet reaped) holds nothing."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # no procfs (macOS) or the process just went away: signal 0 said it exists
        return True
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"
