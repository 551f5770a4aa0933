"""``cgit mix create``: resolve, validate, scan once, plan, store.

Creating the same spec at the same commits again is a no-op that returns the same id. When the
spec was created before and some ref has moved since, the result says which, so nobody mistakes
the new mix for the old one.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from corpusgit.errors import CorpusGitError
from corpusgit.mix.counting import token_counter
from corpusgit.mix.model import MixObject
from corpusgit.mix.plan import build_plan
from corpusgit.mix.resolve import resolve_spec
from corpusgit.mix.scan import scan_source
from corpusgit.mix.spec import MixSpec, load_spec
from corpusgit.mix.storage import SourceTotals, StoredMix, list_mix_ids, load_mix, store_mix
from corpusgit.progress import NULL_PROGRESS, Progress
from corpusgit.store.canonical import ObjectId, canonical_json, object_id

if TYPE_CHECKING:
    from corpusgit.repo import Repo


@dataclass(frozen=True, slots=True)
class RefMove:
    """A source whose ref points elsewhere than when an earlier mix of the same spec was made."""

    source: str
    ref: str
    old_commit: str
    new_commit: str
    old_mix: str


@dataclass(frozen=True, slots=True)
class CreateResult:
    stored: StoredMix
    existed: bool
    moved: tuple[RefMove, ...]


def create_mix(repo: Repo, spec: MixSpec | Path, progress: Progress = NULL_PROGRESS) -> CreateResult:
    """Create (or find) the mix a spec describes at the refs' current commits."""
    if isinstance(spec, Path):
        spec = load_spec(spec)
    resolved = resolve_spec(repo, spec)
    mix = resolved.mix
    mix_id = object_id(canonical_json(mix.to_json()))  # stored only once the plan is: a refused spec leaves no trace
    moved = _moved_refs(repo, mix_id, mix)
    if mix_id in list_mix_ids(repo):
        return CreateResult(load_mix(repo, mix_id), True, moved)
    counter = token_counter(spec.count)
    total_rows = sum(t.num_rows for ts in resolved.tables for t in ts)
    scans = []
    with progress.task("scanning sources", total_rows or None) as task:
        for s, src, tables in zip(spec.sources, mix.sources, resolved.tables):
            named = tuple((p, t) for (p, _), t in zip(src.tables, tables))
            scans.append(scan_source(repo.store, src.name, named, s.filter, mix.text_column, counter, task))
    plan = build_plan(mix, scans)
    totals = [
        SourceTotals(sc.rows, len(sc.eligible), int(sc.tokens.sum()), int(sc.bytes.sum()), p.block_rows,
                     p.samples, p.unique_rows, p.tokens, p.bytes)
        for sc, p in zip(scans, plan.sources)
    ]
    return CreateResult(store_mix(repo, mix_id, mix, plan, totals), False, moved)


def _moved_refs(repo: Repo, mix_id: ObjectId, mix: MixObject) -> tuple[RefMove, ...]:
    """Differences from the newest earlier mix made from the same spec."""
    spec_key = mix.spec_key()
    earlier: list[StoredMix] = []
    for other in list_mix_ids(repo):
        if other == mix_id:
            continue
        try:
            stored = load_mix(repo, other)
        except CorpusGitError:
            continue  # a damaged mix is fsck's business, not a reason to refuse a new one
        if stored.mix.spec_key() == spec_key:
            earlier.append(stored)
    if not earlier:
        return ()
    last = max(earlier, key=lambda m: (m.created, m.id))
    return tuple(
        RefMove(new.name, new.ref, old.commit, new.commit, last.id)
        for old, new in zip(last.mix.sources, mix.sources)
        if old.commit != new.commit
    )
