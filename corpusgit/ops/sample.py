"""``sample``: keep a fraction of rows, chosen by ``_cgit_row`` and a seed.

The choice depends only on a row's identity, so it is the same on every machine, for every
batch size and shard layout, and a row kept from one version stays kept in the next.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import xxhash

from corpusgit.ops.base import FilterOperator, RowIds, Verdict

_M1 = np.uint64(0xFF51AFD7ED558CCD)  # MurmurHash3 fmix64 constants: a full-avalanche bijection
_M2 = np.uint64(0xC4CEB9FE1A85EC53)
_UNIT_BITS = 53  # top bits used as a uniform number in [0, 1), like random.random()


@dataclass(frozen=True, slots=True)
class SampleConfig:
    fraction: float = 0.1
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.0 <= self.fraction <= 1.0:
            raise ValueError(f"fraction must be between 0 and 1, got {self.fraction}")


class Sample(FilterOperator[SampleConfig]):
    """Keep a deterministic fraction of rows, chosen by their _cgit_row and a seed."""

    name = "sample"
    version = "1"
    Config = SampleConfig
    rules = ("not_sampled",)

    def apply(self, batch: pa.RecordBatch, rows: RowIds) -> Verdict:
        seed = np.uint64(xxhash.xxh3_64_intdigest(f"cgit-sample:{self.config.seed}".encode()))
        with np.errstate(over="ignore"):
            x = rows.hi ^ seed ^ (rows.lo * _M2)
            x ^= x >> np.uint64(33)
            x *= _M1
            x ^= x >> np.uint64(33)
            x *= _M2
            x ^= x >> np.uint64(33)
        threshold = np.uint64(int(self.config.fraction * (1 << _UNIT_BITS)))
        keep = (x >> np.uint64(64 - _UNIT_BITS)) < threshold
        return Verdict(keep, np.where(keep, -1, 0).astype(np.int32))
