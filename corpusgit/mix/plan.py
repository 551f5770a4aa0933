"""Planning: how much of each source, which rows in which epoch, and the order of all samples.

- **Shares.** Source s gets ``budget * w_s / sum(w)`` budget units, as an exact fraction. A
  rows budget is split into whole rows by largest remainder (ties to the earlier source). A
  tokens or bytes budget is met per source by the shortest run of samples reaching the share,
  so a source overshoots by less than one document.
- **Within a source**, epoch e ranks the eligible rows by ``rank(seed, e, row)``. Whole epochs
  take every row; the last, partial epoch takes the lowest ranks (bottom-k). The epoch's rows
  are then emitted window by window (see ``ranking.block_window``), by rank inside a window.
- **Across sources**, sample j of source s (of n_s) gets the virtual time ``(2j+1) / (2 n_s)``
  and all samples are merged by (time, source number): a smooth weighted round-robin in which
  every prefix holds each source's share to within (K + 1) / 2 samples, K the number of sources. The times are IEEE-754 doubles;
  division is correctly rounded on every platform, so the merge is the same everywhere.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from corpusgit.errors import BadInput
from corpusgit.mix.model import MixObject, MixSource
from corpusgit.mix.ranking import block_ids, block_window, order_by_rank, rank
from corpusgit.mix.scan import SourceScan


@dataclass(frozen=True, slots=True)
class SourcePlan:
    """One source's samples in emission order: row positions (in the source's table order) and
    the epoch each was drawn in."""

    rows: np.ndarray
    epochs: np.ndarray
    tokens: int
    bytes: int
    block_rows: int

    @property
    def samples(self) -> int:
        return len(self.rows)

    @property
    def unique_rows(self) -> int:
        return int(len(np.unique(self.rows)))


@dataclass(frozen=True, slots=True)
class Plan:
    """Every sample of the mix in order: which source, which row, which epoch."""

    source: np.ndarray
    row: np.ndarray
    epoch: np.ndarray
    sources: tuple[SourcePlan, ...]


def shares(mix: MixObject) -> list[Fraction]:
    """Budget units owed to each source."""
    total = sum((s.weight for s in mix.sources), Fraction(0))
    exact = [mix.budget * s.weight / total for s in mix.sources]
    if mix.budget_unit != "rows":
        return exact
    floors = [math.floor(x) for x in exact]
    left = mix.budget - sum(floors)
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in by_remainder[:left]:
        floors[i] += 1
    return [Fraction(f) for f in floors]


def _units(mix: MixObject, scan: SourceScan) -> np.ndarray:
    if mix.budget_unit == "tokens":
        return scan.tokens
    if mix.budget_unit == "bytes":
        return scan.bytes
    return np.ones(len(scan.eligible), dtype=np.int64)


def check_budget(mix: MixObject, scans: list[SourceScan]) -> None:
    """Refuse a budget the sources cannot fill within ``max_epochs``, saying by how much."""
    total_w = sum((s.weight for s in mix.sources), Fraction(0))
    worst: tuple[Fraction, MixSource, int] | None = None
    for src, scan, share in zip(mix.sources, scans, shares(mix)):
        available = int(_units(mix, scan).sum())
        if share > 0 and available == 0:
            what = "no rows left after its filter" if len(scan.eligible) == 0 else f"no {mix.budget_unit} in its {len(scan.eligible):,} rows"
            raise BadInput(f"source '{src.name}' has {what} but weight {_num(src.weight)}",
                           hint="loosen the filter, check the path and text_column, or give the source weight 0")
        if share == 0:
            continue
        allowed = available * src.max_epochs
        limit = allowed * total_w / src.weight  # the largest budget this source alone permits
        if worst is None or limit < worst[0]:
            worst = (limit, src, available)
    assert worst is not None
    limit, src, available = worst
    cap = math.floor(limit)
    if mix.budget > cap:
        unit = mix.budget_unit
        need = Fraction(mix.budget) * src.weight / total_w / available
        raise BadInput(
            f"budget of {mix.budget:,} {unit} is {mix.budget - cap:,} more than the sources allow (at most {cap:,}): "
            f"source '{src.name}' has {available:,} {unit} and max_epochs {_num(src.max_epochs)}, but its share needs {float(need):.3g} epochs",
            hint=f"lower the budget to {cap:,} {unit}, or raise max_epochs of '{src.name}' to {math.ceil(float(need) * 100) / 100:g}",
        )


def _num(x: Fraction) -> str:
    return str(x.numerator) if x.denominator == 1 else f"{float(x):g}"


def plan_source(mix: MixObject, scan: SourceScan, share: Fraction) -> SourcePlan:
    """The source's samples, epoch after epoch, until its share is met."""
    units = _units(mix, scan)
    block_rows = max(1, round(mix.block_bytes * scan.rows / scan.logical_bytes)) if scan.logical_bytes else 1
    ids = block_ids(scan.lo, block_rows)
    hi, lo = scan.hi[scan.eligible], scan.lo[scan.eligible]
    available = int(units.sum())
    remaining = math.ceil(share)
    picked: list[np.ndarray] = []
    epochs: list[np.ndarray] = []
    epoch = 0
    while remaining > 0:
        ranks = rank(hi, lo, mix.seed, epoch)
        if remaining >= available:
            take = np.arange(len(ranks))
            remaining -= available
        else:
            by_rank = order_by_rank(ranks, hi, lo)
            k = int(np.searchsorted(np.cumsum(units[by_rank]), remaining, side="left")) + 1
            take = by_rank[:k]
            remaining = 0
        window = block_window(ids, scan.hi, scan.lo, mix.seed, epoch, mix.window_blocks)[ids[scan.eligible[take]]]
        take = take[order_by_rank(ranks[take], hi[take], lo[take], window)]
        picked.append(take)
        epochs.append(np.full(len(take), epoch, dtype=np.uint16))
        epoch += 1
    chosen = np.concatenate(picked) if picked else np.zeros(0, dtype=np.int64)
    return SourcePlan(
        scan.eligible[chosen], np.concatenate(epochs) if epochs else np.zeros(0, dtype=np.uint16),
        int(scan.tokens[chosen].sum()), int(scan.bytes[chosen].sum()), block_rows,
    )


def interleave(counts: list[int]) -> np.ndarray:
    """Source number of every sample position (the smooth weighted round-robin above)."""
    if not counts or sum(counts) == 0:
        return np.zeros(0, dtype=np.uint16)
    times = np.concatenate([(2 * np.arange(n, dtype=np.float64) + 1) / (2.0 * n) for n in counts if n])
    ids = np.concatenate([np.full(n, s, dtype=np.uint16) for s, n in enumerate(counts) if n])
    order = np.lexsort((ids, times))
    merged: np.ndarray = ids[order]
    return merged


def build_plan(mix: MixObject, scans: list[SourceScan]) -> Plan:
    """Check the budget, plan every source, and merge them into one sample order."""
    check_budget(mix, scans)
    plans = tuple(plan_source(mix, scan, share) for scan, share in zip(scans, shares(mix)))
    source = interleave([p.samples for p in plans])
    row = np.empty(len(source), dtype=np.int64)
    epoch = np.empty(len(source), dtype=np.uint16)
    for s, p in enumerate(plans):
        at = source == s
        row[at] = p.rows
        epoch[at] = p.epochs
    return Plan(source, row, epoch, plans)
