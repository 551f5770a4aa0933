"""O_EXCL lock files that name their owner, so a lock left by a killed process is recognised.

A lock held by a live process fails fast with a message naming it; a lock whose owner (same
host) is gone is broken and taken over, which keeps a SIGKILLed ``cgit`` from wedging a repo.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path
from types import TracebackType

from corpusgit.errors import LockHeld
from corpusgit.store.atomic import fsync_dir, translate_os_error


class LockFile:
    """``path + '.lock'``; the lock file doubles as the temp file of the new content."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> LockFile:
        self.lock_path.parent.mkdir(parents=True, exist_ok=True)
        for _ in range(2):
            try:
                self._fd = os.open(self.lock_path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
                os.write(self._fd, f"{os.getpid()} {socket.gethostname()}\n".encode())
                return self
            except FileExistsError:
                if not self._break_if_stale():
                    raise LockHeld(
                        f"{self.path.name} is locked by another cgit process ({self._owner_text()})",
                        hint=f"wait for it to finish; if none is running, remove {self.lock_path}",
                    ) from None
        raise LockHeld(f"could not lock {self.path}", hint=f"remove {self.lock_path} if no cgit process is running")

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
        """Write ``data`` as the new content and atomically replace the target; releases the lock."""
        assert self._fd is not None
        try:
            os.ftruncate(self._fd, 0)
            os.lseek(self._fd, 0, os.SEEK_SET)
            os.write(self._fd, data)
            os.fsync(self._fd)
            os.close(self._fd)
            self._fd = None
            os.replace(self.lock_path, self.path)
            fsync_dir(self.path.parent)
        except OSError as exc:
            self.release()
            raise translate_os_error(exc, self.path) from exc

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
            try:
                os.unlink(self.lock_path)
            except FileNotFoundError:
                pass

    def __enter__(self) -> LockFile:
        return self.acquire()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
