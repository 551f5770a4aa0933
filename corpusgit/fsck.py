"""fsck: every reachable object present and matching its id; dangling objects and stale locks."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from corpusgit.errors import CorpusGitError
from corpusgit.progress import NULL_PROGRESS, Progress
from corpusgit.reach import BLOB, CHUNK, Problem, roots, walk
from corpusgit.table.chunkio import chunk_id, read_chunk
from corpusgit.table.schema import ROW_HASH_COLUMN

if TYPE_CHECKING:
    from corpusgit.repo import Repo

STALE_SECONDS = 3600  # temp dirs older than this belong to no running command


@dataclass
class FsckReport:
    checked: dict[str, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    dangling: int = 0
    warnings: list[str] = field(default_factory=list)
    not_fetched: int = 0  # chunks a partial clone leaves on its remote until something reads them

    @property
    def ok(self) -> bool:
        return not self.problems


def fsck(repo: Repo, full: bool = False, progress: Progress = NULL_PROGRESS) -> FsckReport:
    """Verify reachable objects; ``full`` also recomputes every chunk's content id."""
    reach = walk(repo, roots(repo))
    report = FsckReport(problems=list(reach.problems))
    bad = {p.object_id for p in report.problems}
    promised: set[str] = set()
    if _is_partial(repo):
        promised = {p.object_id for p in report.problems if p.kind == CHUNK and not repo.store.has(p.object_id)}
        report.problems = [p for p in report.problems if p.object_id not in promised]
        report.not_fetched = len(promised)
        if promised:
            report.warnings.append(f"{len(promised):,} chunks not fetched (partial clone)")
    for oid, kind in reach.kinds.items():
        if oid not in promised:
            report.checked[kind] = report.checked.get(kind, 0) + 1
    with progress.task("verifying", len(reach.kinds)) as task:
        for oid, kind in reach.kinds.items():
            task.advance()
            if oid in bad:
                continue
            try:
                if kind == CHUNK:
                    _check_chunk(repo, oid, reach.chunks[oid], reach.needed_by[oid], full)
                elif kind == BLOB:
                    for _ in repo.store.iter_blob(oid, reach.needed_by[oid]):
                        pass
            except CorpusGitError as exc:
                report.problems.append(Problem(oid, kind, reach.needed_by[oid], exc.message))
    report.dangling = sum(1 for oid in repo.store.iter_ids() if oid not in reach.kinds)
    report.warnings.extend(_leftovers(repo))
    return report


def _is_partial(repo: Repo) -> bool:
    """A partial clone lacks chunks on purpose; verifying them would download them all."""
    from corpusgit.remote.settings import partial_remote

    return partial_remote(repo.cgit) is not None


def _check_chunk(repo: Repo, oid: str, ref: object, needed_by: str, full: bool) -> None:
    from corpusgit.table.model import ChunkRef

    assert isinstance(ref, ChunkRef)
    table = read_chunk(repo.store, ref, None if full else [ROW_HASH_COLUMN], needed_by)
    if full:
        got = chunk_id(table)
        if got != oid:
            raise CorpusGitError(f"chunk {oid} holds other content ({got[:12]}) (needed by {needed_by})")


def _leftovers(repo: Repo) -> list[str]:
    warnings = []
    tmp = repo.store.tmp_root
    if tmp.exists():
        old = [p for p in tmp.iterdir() if time.time() - p.stat().st_mtime > STALE_SECONDS]
        if old:
            warnings.append(f"{len(old)} stale temporary director{'y' if len(old) == 1 else 'ies'} in {tmp} ('cgit gc' removes them)")
    if (repo.cgit / "CHECKOUT_JOURNAL").exists():
        warnings.append("a checkout was interrupted and may have left temporary files; 'cgit status' shows what changed, 'cgit checkout -f HEAD' or 'cgit gc' cleans up")
    for lock in repo.cgit.rglob("*.lock"):
        warnings.append(f"lock file {lock.relative_to(repo.root)} exists; remove it if no cgit process is running")
    return warnings
