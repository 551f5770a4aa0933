"""gc: delete objects nothing reaches (refs, tags, reflogs, index, merge state).

Objects younger than the grace period survive even when unreachable: a concurrent ``add``
publishes its objects before it writes the index, and must not lose them in between.
"""

from __future__ import annotations

import shutil
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from corpusgit.errors import CorpusGitError
from corpusgit.reach import CHUNK, Problem, roots, walk

if TYPE_CHECKING:
    from corpusgit.repo import Repo

DEFAULT_GRACE_SECONDS = 3600  # longer than any single add between publishing and indexing


@dataclass(frozen=True, slots=True)
class GcResult:
    kept: int
    removed: int
    freed_bytes: int
    temp_removed: int


def _promised(repo: Repo, problem: Problem) -> bool:
    """A partial clone leaves chunks on its remote on purpose; that is not damage."""
    from corpusgit.remote.settings import partial_remote

    return problem.kind == CHUNK and not repo.store.has(problem.object_id) and partial_remote(repo.cgit) is not None


def gc(repo: Repo, grace_seconds: int = DEFAULT_GRACE_SECONDS, dry_run: bool = False) -> GcResult:
    reach = walk(repo, roots(repo))
    problems = [p for p in reach.problems if not _promised(repo, p)]
    if problems:
        first = problems[0]
        raise CorpusGitError(
            f"refusing to gc a damaged repository: {first.message}",
            hint="run 'cgit fsck' and repair the missing or corrupt objects first",
        )
    now = time.time()
    removed = freed = kept = 0
    for oid in list(repo.store.iter_ids()):
        if oid in reach.kinds:
            kept += 1
            continue
        path = repo.store.path(oid)
        st = path.stat()
        if now - st.st_mtime < grace_seconds:
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
            if now - entry.stat().st_mtime >= grace_seconds:
                shutil.rmtree(entry, ignore_errors=True)
                temp_removed += 1
    return GcResult(kept, removed, freed, temp_removed)
