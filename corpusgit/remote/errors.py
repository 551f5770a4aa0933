"""Errors only remotes raise; each names what to check, so a failed transfer is actionable."""

from __future__ import annotations

from corpusgit.errors import CorpusGitError, CorruptObject, RefConflict


class RemoteUnreachable(CorpusGitError):
    """The endpoint did not answer within the connect/read timeouts."""


class RemoteAuthError(CorpusGitError):
    """Credentials are missing or rejected; the message names the setting to fix."""


class RemoteMissing(CorpusGitError):
    """The location does not exist or holds something other than a cgit repository."""


class NonFastForward(RefConflict):
    """A push would drop commits that only the remote has."""


class RemoteObjectCorrupt(CorruptObject):
    """A received object does not match its id; it was discarded, never stored or used."""

    def __init__(self, object_id: str, expected: str, got: str, remote: str) -> None:
        super().__init__(object_id, expected, got, f"remote {remote}")
        self.hint = (
            f"the remote's copy is damaged: replace objects/{object_id[:2]}/{object_id[2:]} there with the file from an intact "
            "clone's .cgit/objects (push skips objects the remote already has), or fetch from another remote"
        )
