"""The promisor of a partial clone: fetches a skipped object the moment a reader needs it.

``cgit clone --filter=metadata`` records ``[partial] remote = NAME``. The object store asks
``promisor_for`` once, on its first missing object; from then on every miss is downloaded from
that remote, verified (a chunk by its content id: no table is at hand to name its checksum),
stored, and read as if it had always been there, so later reads are local.
"""

from __future__ import annotations

import threading
from pathlib import Path

from corpusgit.remote.backend import Backend
from corpusgit.remote.graph import ANY, Wanted
from corpusgit.remote.settings import open_remote, partial_remote
from corpusgit.remote.transfer import Incoming
from corpusgit.store.objects import ObjectStore, Promisor


class RemotePromisor:
    """Fetches from one remote; the connection opens on first use and is shared by threads."""

    def __init__(self, cgit_dir: Path, remote: str) -> None:
        self.cgit_dir = cgit_dir
        self.remote = remote
        self._backend: Backend | None = None
        self._lock = threading.Lock()

    def _open(self) -> Backend:
        with self._lock:
            if self._backend is None:
                self._backend = open_remote(self.cgit_dir, self.remote)[1]
            return self._backend

    def fetch(self, store: ObjectStore, oid: str) -> bool:
        with Incoming(store, self._open(), self.remote) as incoming:
            return incoming.receive(Wanted(oid, ANY)) is not None


def promisor_for(cgit_dir: Path) -> Promisor | None:
    """The promisor of the repository at ``cgit_dir`` if it is a partial clone, else None."""
    if not (cgit_dir / "config.toml").exists():
        return None
    name = partial_remote(cgit_dir)
    return RemotePromisor(cgit_dir, name) if name else None
