"""A remote in a directory (local disk or NFS): a bare repository, or the ``.cgit`` of a clone.

Objects are copied to a temp name, fsynced and renamed, so a killed push never leaves a partial
object behind a real name. Refs reuse the local ``RefStore``: compare-and-swap under an O_EXCL
lock file, which NFSv3+ honours.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from pathlib import Path

from corpusgit.errors import LockHeld, RefConflict
from corpusgit.lock import LockFile
from corpusgit.reach import MIXES
from corpusgit.refs import HEADS, TAGS, RefStore
from corpusgit.remote.backend import Backend, RefValue, object_key
from corpusgit.store.atomic import fsync_dir, sync_file, translate_os_error, write_atomic
from corpusgit.store.canonical import ObjectId

LOCK_WAIT_SECONDS = 10.0  # a racing push holds a ref lock for milliseconds; waiting beats failing
LOCK_POLL_SECONDS = 0.02


class DirBackend(Backend):
    def __init__(self, root: Path) -> None:
        self.root = root
        work_tree_repo = root / ".cgit"
        self.base = work_tree_repo if (work_tree_repo / "HEAD").exists() else root
        self.display = str(root)
        self._refs = RefStore(self.base)

    def _path(self, key: str) -> Path:
        return self.base / key

    # -- objects ------------------------------------------------------------------------------
    def has_object(self, oid: str) -> bool:
        return self._path(object_key(oid)).exists()

    def download_object(self, oid: str, dest: Path) -> bool:
        try:
            shutil.copyfile(self._path(object_key(oid)), dest)
        except FileNotFoundError:
            return False
        return True

    def upload_object(self, src: Path, oid: str) -> None:
        final = self._path(object_key(oid))
        if final.exists():
            return
        tmp = final.parent / f".{final.name[:16]}.{uuid.uuid4().hex}.tmp"
        try:
            final.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, tmp)
            sync_file(tmp)
            os.replace(tmp, final)
            fsync_dir(final.parent)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            raise translate_os_error(exc, final) from exc

    # -- small files ----------------------------------------------------------------------------
    def read_file(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            return None

    def write_file(self, key: str, data: bytes) -> None:
        write_atomic(self._path(key), data)

    def is_empty(self) -> bool:
        return not self.root.exists() or (self.root.is_dir() and not any(self.root.iterdir()))

    # -- refs -----------------------------------------------------------------------------------
    def list_refs(self) -> dict[str, ObjectId]:
        return {prefix + name: oid for prefix in (HEADS, TAGS, MIXES) for name, oid in self._refs.list_refs(prefix).items()}

    def read_ref(self, name: str) -> RefValue:
        value = self._refs.read(name)
        return RefValue(value, value)

    def update_ref(self, name: str, new: str, old: RefValue, message: str) -> None:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                if name.startswith(MIXES):
                    self._update_unlogged(name, new, old)
                else:
                    self._refs.update(name, new, old.value, message)
                return
            except LockHeld:
                if time.monotonic() > deadline:
                    raise
                time.sleep(LOCK_POLL_SECONDS)

    def _update_unlogged(self, name: str, new: str, old: RefValue) -> None:
        """Mix refs name selection records, not commits, so they get no reflog (gc reads every
        reflog entry as a commit); the swap is the same compare under the lock."""
        with LockFile(self._path(name)) as lock:
            if self._refs.read(name) != old.value:
                raise RefConflict(f"{name} moved while this command ran", hint="fetch and push again")
            lock.commit(f"{new}\n".encode())

    def checked_out_branch(self) -> str | None:
        if self.base == self.root:
            return None
        target = self._refs.head_target()
        return target[len(HEADS):] if target and target.startswith(HEADS) else None
