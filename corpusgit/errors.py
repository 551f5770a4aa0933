"""One exception tree, so the CLI needs a single handler and every failure carries a hint."""

from __future__ import annotations


class CorpusGitError(Exception):
    """Base of every error a user can cause or repair.

    The CLI prints ``error: <message>`` and, when present, ``hint: <hint>`` on stderr and exits
    with ``exit_code``. Anything that is not a ``CorpusGitError`` is a bug.
    """

    exit_code = 1

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class NotARepository(CorpusGitError):
    """Raised outside a work tree, before anything is read or written."""


class BadInput(CorpusGitError):
    """User-supplied data (a file, a path, an argument) cannot be accepted as it is."""

    exit_code = 2


class UnsafePath(BadInput):
    """A path that would escape the work tree; reading hostile repositories must stay inside."""


class ObjectNotFound(CorpusGitError):
    """A referenced object is absent from the store."""


class CorruptObject(CorpusGitError):
    """An object's bytes do not hash to its id; it is never used."""

    def __init__(self, object_id: str, expected: str, got: str, needed_by: str | None = None) -> None:
        where = f" (needed by {needed_by})" if needed_by else ""
        super().__init__(
            f"object {object_id} is corrupt{where}: expected checksum {expected}, got {got}",
            hint="run 'cgit fsck' to list every damaged object; restore it from a clone or remote",
        )
        self.object_id = object_id
        self.expected = expected
        self.got = got


class RevisionNotFound(CorpusGitError):
    """A revision or path spec that names nothing."""


class RefConflict(CorpusGitError):
    """A compare-and-swap on a ref lost a race; the caller's view of history is stale."""


class LockHeld(CorpusGitError):
    """Another live process holds a lock the operation needs."""


class NothingToCommit(CorpusGitError):
    """An empty commit would only add noise to history."""


class DirtyWorkTree(CorpusGitError):
    """The operation would overwrite changes that are not committed."""


class MergeConflict(CorpusGitError):
    """A merge stopped on conflicts that need a decision."""


class QualityCheckFailed(CorpusGitError):
    """A blocking quality check failed."""


class StorageFull(CorpusGitError):
    """The disk filled up; the write was rolled back."""

    exit_code = 3
