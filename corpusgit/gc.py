"""gc: expire old reflog entries, then delete objects nothing reaches (refs, tags, reflogs,
index, merge state).

Reflog entries older than ``gc.reflogExpire`` (default 90 days, as git's) are dropped first, so
the data of a deleted branch, which only HEAD's reflog still names, is freed once its entries
age out; ``prune="now"`` expires every entry except those of the current ref tips at once.

Objects younger than the grace period survive even when unreachable: a concurrent ``add``
publishes its objects before it writes the index, and must not lose them in between.
"""

from __future__ import annotations

import math
import re
import shutil
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from corpusgit.config import get_value, user_config_path
from corpusgit.errors import BadInput, CorpusGitError, LockHeld
from corpusgit.reach import CHUNK, Problem, roots, walk

if TYPE_CHECKING:
    from corpusgit.repo import Repo

DEFAULT_GRACE_SECONDS = 3600  # longer than any single add between publishing and indexing
REFLOG_EXPIRE_KEY = "gc.reflogExpire"
DEFAULT_REFLOG_EXPIRE = "90.days"  # git's default for entries still reachable from their ref
_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400, "month": 30 * 86400, "year": 365 * 86400}
_AGE = re.compile(r"(\d+)(?:[ .]?(second|minute|hour|day|week|month|year)s?)?(?:[ .]ago)?")


@dataclass(frozen=True, slots=True)
class GcResult:
    kept: int
    removed: int
    freed_bytes: int
    temp_removed: int
    reflog_expired: int = 0  # reflog entries dropped
    worktree_temp_removed: int = 0  # temp files a killed checkout left in the work tree


def parse_expiry(text: str) -> float | None:
    """An age in seconds from git's spelling of WHEN: ``now``, ``never`` (None: nothing
    expires), or a count and a unit, ``90.days``, ``2.weeks.ago``, ``12 hours``. A bare number
    counts days, so ``reflogExpire = 90`` in TOML means what it looks like."""
    value = text.strip().lower()
    if value in ("now", "all"):
        return 0.0
    if value in ("never", "false"):
        return None
    match = _AGE.fullmatch(value)
    if match is None:
        raise BadInput(f"cannot read '{text}' as an age", hint="use 'now', 'never', or a count and a unit: '90.days', '2.weeks.ago', '12.hours'")
    return float(int(match.group(1)) * _UNITS[match.group(2) or "day"])


def reflog_expire_setting(repo: Repo) -> str:
    """``gc.reflogExpire`` from this repository's config, else the user's, else 90 days."""
    return get_value([repo.config_path, user_config_path()], REFLOG_EXPIRE_KEY) or DEFAULT_REFLOG_EXPIRE


def _promised(repo: Repo, problem: Problem) -> bool:
    """A partial clone leaves chunks on its remote on purpose; that is not damage."""
    from corpusgit.remote.settings import partial_remote

    return problem.kind == CHUNK and not repo.store.has(problem.object_id) and partial_remote(repo.cgit) is not None


def gc(repo: Repo, grace_seconds: int = DEFAULT_GRACE_SECONDS, dry_run: bool = False, prune: str | None = None) -> GcResult:
    """Expire reflog entries, then delete unreachable objects older than the grace period.

    ``prune`` is git's ``--prune=WHEN``, taken further: reflog entries *and* unreachable
    objects older than WHEN go, in place of ``gc.reflogExpire`` and ``grace_seconds``. So
    ``prune="now"`` frees everything no current branch, tag, HEAD, index or merge needs.
    Nothing is changed when the walk finds damage, or with ``dry_run``.
    """
    now = time.time()
    reflog_age = parse_expiry(prune if prune is not None else reflog_expire_setting(repo))
    grace: float = grace_seconds
    if prune is not None:
        grace = math.inf if reflog_age is None else reflog_age
    expire_before = None if reflog_age is None else now - reflog_age
    reach = walk(repo, roots(repo, expire_before))
    problems = [p for p in reach.problems if not _promised(repo, p)]
    if problems:
        first = problems[0]
        raise CorpusGitError(
            f"refusing to gc a damaged repository: {first.message}",
            hint="run 'cgit fsck' and repair the missing or corrupt objects first",
        )
    expired = 0 if expire_before is None else repo.refs.expire_reflogs(expire_before, dry_run)
    removed = freed = kept = 0
    for oid in list(repo.store.iter_ids()):
        if oid in reach.kinds:
            kept += 1
            continue
        path = repo.store.path(oid)
        st = path.stat()
        if now - st.st_mtime < grace:
            kept += 1
            continue
        if not dry_run:
            path.unlink(missing_ok=True)
        removed += 1
        freed += st.st_size
    temp_removed = 0
    tmp = repo.store.tmp_root
    if tmp.exists() and not dry_run:
        for entry in tmp.iterdir():
            if now - entry.stat().st_mtime >= grace:
                shutil.rmtree(entry, ignore_errors=True)
                temp_removed += 1
    worktree_temp = 0 if dry_run else _clean_interrupted_checkout(repo)
    return GcResult(kept, removed, freed, temp_removed, expired, worktree_temp)


def _clean_interrupted_checkout(repo: Repo) -> int:
    """Temp files a killed checkout left beside work-tree files; only when no command holds
    the index (a running checkout's temp files are not stale)."""
    from corpusgit.checkout import clean_interrupted_checkout

    try:
        with repo.locked_index():
            return clean_interrupted_checkout(repo)
    except LockHeld:
        return 0
