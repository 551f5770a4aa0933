"""Crash-safe file writes: temp file, fsync, rename, fsync of the directory.

A reader (or a process killed half-way) sees either the old file or the new one, never a
partial one. ENOSPC becomes ``StorageFull`` so callers can roll back and say what to do.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from corpusgit.errors import CorpusGitError, StorageFull


def _default_file_mode() -> int:
    """0o666 less the umask, as ``open()`` would give: mkstemp's 0o600 would make shared
    repositories unreadable to the rest of the team."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


FILE_MODE = _default_file_mode()

# ``mkstemp(prefix=".<name>.", suffix=".tmp")`` names: ``.<name>.`` + 8 characters from
# tempfile's alphabet + ``.tmp``. Matching exactly this (not any dot-file ending in .tmp) lets
# status hide, and cleanup delete, only files that cgit itself created.
TEMP_NAME = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")


def is_temp_name(name: str) -> bool:
    """True for a file name made by ``_temp_beside`` or ``create_temp_beside``."""
    return name.startswith(".") and name.endswith(".tmp") and TEMP_NAME.fullmatch(name) is not None


def create_temp_beside(path: Path) -> Path:
    """An empty temp file next to ``path`` (parents created), named as ``_temp_beside`` names
    them, with the default file mode. The caller renames or removes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)
    return Path(tmp)


def fsync_dir(path: Path) -> None:
    """Persist a rename: the directory entry is only durable once its directory is synced."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def translate_os_error(exc: OSError, path: Path) -> CorpusGitError:
    """Turn a low-level write failure into a one-line error with a hint."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return StorageFull(
            f"no space left on device while writing {path}",
            hint="free some disk space (or run 'cgit gc') and run the command again; nothing was changed",
        )
    return CorpusGitError(f"cannot write {path}: {exc.strerror or exc}", hint="check permissions and free space")


@contextmanager
def _temp_beside(path: Path, sync_dir: bool = True) -> Iterator[Path]:
    """A temp file next to ``path`` that replaces it (fsynced, then renamed) if the block
    completes, and is removed otherwise; write errors become one-line errors.

    ``sync_dir=False`` skips the directory fsync, for private staging directories whose
    entries are made durable when they are published.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, FILE_MODE)
        os.close(fd)
        yield Path(tmp)
        sync_file(Path(tmp))
        os.replace(tmp, path)
        if sync_dir:
            fsync_dir(path.parent)
    except OSError as exc:
        _unlink_quietly(tmp)
        raise translate_os_error(exc, path) from exc
    except BaseException:
        _unlink_quietly(tmp)
        raise


@contextmanager
def atomic_file(path: Path, sync_dir: bool = True) -> Iterator[BinaryIO]:
    """Yield a binary file that replaces ``path`` only if the block completes."""
    with _temp_beside(path, sync_dir) as tmp, open(tmp, "wb") as handle:
        yield handle


def write_atomic(path: Path, data: bytes, sync_dir: bool = True) -> None:
    """Replace ``path`` with ``data`` atomically and durably."""
    with atomic_file(path, sync_dir) as handle:
        handle.write(data)


def write_via(path: Path, writer: Callable[[Path], None]) -> None:
    """Let ``writer`` produce a temp file (e.g. a Parquet writer), then publish it atomically."""
    with _temp_beside(path) as tmp:
        writer(tmp)


def sync_file(path: Path) -> None:
    """fsync a file that another library wrote and closed."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unlink_quietly(path: str | Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
