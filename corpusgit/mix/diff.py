"""``cgit mix diff``: how two mixes differ in settings, per-source counts and selected rows.

Rows are compared by ``_cgit_row``, so the overlap is meaningful across commits: a row kept by
a filter edit counts as shared even though the tables differ. Only the ``_cgit_row`` column of
the chunks is decoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from corpusgit.mix.access import MixData
from corpusgit.mix.storage import StoredMix, load_mix, read_piece
from corpusgit.progress import NULL_PROGRESS, Progress, Task
from corpusgit.table.schema import ROW_HASH_COLUMN

if TYPE_CHECKING:
    from corpusgit.repo import Repo


@dataclass(frozen=True, slots=True)
class SourceDiff:
    """One source name; counts are None on the side that does not have the source."""

    name: str
    commit_a: str | None
    commit_b: str | None
    share_a: float | None
    share_b: float | None
    samples_a: int | None
    samples_b: int | None
    unique_a: int | None
    unique_b: int | None
    overlap: int


@dataclass(frozen=True, slots=True)
class MixDiff:
    a: str
    b: str
    settings: dict[str, tuple[object, object]]
    sources: tuple[SourceDiff, ...]
    unique_a: int
    unique_b: int
    overlap: int


def diff_mixes(repo: Repo, a: str, b: str, progress: Progress = NULL_PROGRESS) -> MixDiff:
    """Compare two stored mixes; the overlap counts distinct rows selected by both."""
    sa, sb = load_mix(repo, a), load_mix(repo, b)
    with progress.task("reading selected rows", len(sa.pieces) + len(sb.pieces)) as task:
        rows_a, rows_b = _selected(repo, sa, task), _selected(repo, sb, task)
    names = [s.name for s in sa.mix.sources] + [s.name for s in sb.mix.sources if s.name not in {x.name for x in sa.mix.sources}]
    sources = []
    for name in names:
        ia, ib = _index(sa, name), _index(sb, name)
        ra, rb = rows_a.get(name), rows_b.get(name)
        sources.append(SourceDiff(
            name,
            sa.mix.sources[ia].commit if ia is not None else None, sb.mix.sources[ib].commit if ib is not None else None,
            _share(sa, ia), _share(sb, ib),
            sa.totals[ia].samples if ia is not None else None, sb.totals[ib].samples if ib is not None else None,
            len(ra) if ra is not None else None, len(rb) if rb is not None else None,
            _overlap(ra, rb),
        ))
    all_a, all_b = _union(rows_a), _union(rows_b)
    return MixDiff(sa.id, sb.id, _settings(sa, sb), tuple(sources), len(all_a), len(all_b), _overlap(all_a, all_b))


def _index(stored: StoredMix, name: str) -> int | None:
    names = [s.name for s in stored.mix.sources]
    return names.index(name) if name in names else None


def _share(stored: StoredMix, i: int | None) -> float | None:
    if i is None:
        return None
    return float(stored.mix.sources[i].weight / sum(s.weight for s in stored.mix.sources))


def _settings(sa: StoredMix, sb: StoredMix) -> dict[str, tuple[object, object]]:
    a, b = sa.mix, sb.mix
    pairs: dict[str, tuple[object, object]] = {
        "seed": (a.seed, b.seed), "budget": (f"{a.budget:,} {a.budget_unit}", f"{b.budget:,} {b.budget_unit}"),
        "count": (a.count.get("rule"), b.count.get("rule")), "columns": (list(a.columns), list(b.columns)),
        "samples": (sa.samples, sb.samples),
    }
    return {k: v for k, v in pairs.items() if v[0] != v[1]}


def _selected(repo: Repo, stored: StoredMix, task: Task) -> dict[str, pa.Array]:
    """Distinct ``_cgit_row`` values each source contributes."""
    positions: list[list[np.ndarray]] = [[] for _ in stored.mix.sources]
    for piece in stored.pieces:
        source, row, _ = read_piece(repo, piece, stored.id)
        for s in np.unique(source).tolist():
            positions[s].append(row[source == s])
        task.advance()
    data = MixData(repo, stored, columns=[])
    out = {}
    for s, src in enumerate(stored.mix.sources):
        rows = np.unique(np.concatenate(positions[s])) if positions[s] else np.zeros(0, dtype=np.int64)
        ids = data.sources[s].take(rows).column(ROW_HASH_COLUMN).combine_chunks()
        out[src.name] = pc.unique(ids)
    return out


def _union(rows: dict[str, pa.Array]) -> pa.Array:
    if not rows:
        return pa.array([], pa.binary(16))
    return pc.unique(pa.concat_arrays(list(rows.values())))


def _overlap(a: pa.Array | None, b: pa.Array | None) -> int:
    if a is None or b is None or len(a) == 0 or len(b) == 0:
        return 0
    return int(pc.sum(pc.is_in(a, value_set=b)).as_py() or 0)
