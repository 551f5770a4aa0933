"""The storage a remote lives on, behind one small interface: objects, small files and refs.

Keys are '/'-separated paths inside the repository (``objects/ab/cdef…``, ``refs/heads/main``).
Every method may be called from several threads at once; transfers rely on it.
"""

from __future__ import annotations

import sys
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from corpusgit.config import FORMAT, dump_toml
from corpusgit.refs import HEADS
from corpusgit.remote.errors import RemoteMissing
from corpusgit.remote.url import DIR, RemoteUrl
from corpusgit.store.canonical import ObjectId

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

CONFIG_KEY = "config.toml"
HEAD_KEY = "HEAD"
REFS_PREFIX = "refs/"
LAYOUT_HINT = "a cgit remote holds HEAD, config.toml, objects/ and refs/; check the URL"


def object_key(oid: str) -> str:
    """Same fan-out as the local store, so object files move unchanged."""
    return f"objects/{oid[:2]}/{oid[2:]}"


@dataclass(frozen=True, slots=True)
class RefValue:
    """A ref as read for a later compare-and-swap.

    ``token`` is what the swap compares: the old value on a directory remote, the ETag on S3
    (so a ref rewritten to the same value in between still counts as moved).
    """

    value: ObjectId | None
    token: str | None


class Backend(ABC):
    """One remote location."""

    display: str

    # -- objects ------------------------------------------------------------------------------
    @abstractmethod
    def has_object(self, oid: str) -> bool: ...

    @abstractmethod
    def download_object(self, oid: str, dest: Path) -> bool:
        """Write the object's bytes to ``dest`` (a temp path the caller owns); False if absent."""

    @abstractmethod
    def upload_object(self, src: Path, oid: str) -> None:
        """Publish ``src`` as the object; readers never see a partial object."""

    # -- small files ----------------------------------------------------------------------------
    @abstractmethod
    def read_file(self, key: str) -> bytes | None: ...

    @abstractmethod
    def write_file(self, key: str, data: bytes) -> None: ...

    @abstractmethod
    def is_empty(self) -> bool:
        """True when nothing at all is stored at the location yet."""

    # -- refs -----------------------------------------------------------------------------------
    @abstractmethod
    def list_refs(self) -> dict[str, ObjectId]:
        """Full ref name (``refs/heads/main``) -> commit id."""

    @abstractmethod
    def read_ref(self, name: str) -> RefValue: ...

    @abstractmethod
    def update_ref(self, name: str, new: str, old: RefValue, message: str) -> None:
        """Compare-and-swap ``name`` from ``old`` to ``new``; raises ``RefConflict`` if it moved."""

    def checked_out_branch(self) -> str | None:
        """The branch a non-bare remote has checked out (pushing to it would desync its files)."""
        return None

    def probe_cas(self) -> str | None:
        """How this store does compare-and-swap, when that must be discovered (S3); else None."""
        return None

    def set_cas_mode(self, mode: str) -> None:
        """Use the mode an earlier ``probe_cas`` found (cached in the remote's settings)."""
        return None

    def close(self) -> None:
        """Release connections; the backend is not used afterwards."""
        return None

    # -- repository format ------------------------------------------------------------------------
    def check_repository(self) -> None:
        """Refuse a location that does not hold a cgit repository this version can read."""
        raw = self.read_file(CONFIG_KEY)
        if raw is None or self.read_file(HEAD_KEY) is None:
            if self.is_empty():
                raise RemoteMissing(
                    f"{self.display} is empty: there is no cgit repository there yet",
                    hint="'cgit push REMOTE BRANCH' creates one; or check the URL",
                )
            raise RemoteMissing(f"{self.display} is not a cgit repository", hint=LAYOUT_HINT)
        try:
            fmt = tomllib.loads(raw.decode("utf-8")).get("format")
        except (UnicodeDecodeError, tomllib.TOMLDecodeError):
            raise RemoteMissing(f"{self.display} is not a cgit repository (unreadable config.toml)", hint=LAYOUT_HINT) from None
        if fmt != FORMAT:
            raise RemoteMissing(f"{self.display}: repository format {fmt} is not supported (this cgit reads {FORMAT})", hint="upgrade corpusgit")

    def init_repository(self, branch: str) -> None:
        """Lay out an empty bare repository; only ever called on an empty location."""
        self.write_file(CONFIG_KEY, dump_toml({"format": FORMAT, "bare": True}).encode())
        self.write_file(HEAD_KEY, f"ref: {HEADS}{branch}\n".encode())

    def head_branch(self) -> str | None:
        """The branch the remote's HEAD names (what a clone checks out)."""
        raw = self.read_file(HEAD_KEY)
        text = raw.decode("utf-8", "replace").strip() if raw else ""
        if text.startswith("ref:") and text[4:].strip().startswith(HEADS):
            return text[4:].strip()[len(HEADS):]
        return None


def open_backend(url: RemoteUrl, endpoint: str | None = None, jobs: int = 8) -> Backend:
    """The backend for a URL; S3 support is imported only when an s3:// remote is used."""
    if url.scheme == DIR:
        from corpusgit.remote.dirfs import DirBackend

        assert url.path is not None
        return DirBackend(url.path)
    from corpusgit.remote.s3 import S3Backend

    return S3Backend(url.bucket, url.prefix, endpoint, jobs)
