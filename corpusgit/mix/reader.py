"""``corpusgit.mix.open``: a mix as an iterable of records or record batches, resumable and
shardable by arithmetic on the sample index alone.

A reader sees the samples ``offset, offset + stride, offset + 2*stride, ...`` of the mix.
``shard(rank, world_size)`` of that gives ``offset + rank*stride`` and ``stride*world_size``, so
sharding by rank and then by DataLoader worker partitions the mix exactly: every sample goes to
one (rank, worker), none is lost. The resume state is the mix id, the shard, and how many of
the shard's samples were consumed; no RNG state exists to save.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from corpusgit.errors import BadInput
from corpusgit.mix.access import MixData

if TYPE_CHECKING:
    from corpusgit.repo import Repo
    from corpusgit.mix.storage import StoredMix

BATCH_SIZE = 1024  # samples per batch by default: a typical global batch, and a fast first batch
STATE_FORMAT = 1


class MixReader:
    """Iterating yields records (dicts); ``batches()`` yields ``pa.RecordBatch``es."""

    def __init__(self, data: MixData, offset: int = 0, stride: int = 1, batch_size: int = BATCH_SIZE) -> None:
        if batch_size <= 0:
            raise BadInput(f"batch_size must be positive, got {batch_size}", hint="for example: batch_size=1024")
        self._data = data
        self.offset = offset
        self.stride = stride
        self.batch_size = batch_size
        self.consumed = 0

    @classmethod
    def open(cls, repo: Repo, stored: StoredMix, columns: list[str] | None = None, batch_size: int = BATCH_SIZE,
             cache_bytes: int | None = None) -> MixReader:
        return cls(MixData(repo, stored, columns, cache_bytes), batch_size=batch_size)

    @property
    def mix_id(self) -> str:
        return self._data.stored.id

    @property
    def schema(self) -> pa.Schema:
        return self._data.schema

    def __len__(self) -> int:
        """Samples in this shard (all of them, consumed or not)."""
        n = self._data.num_samples
        return 0 if self.offset >= n else (n - self.offset + self.stride - 1) // self.stride

    def shard(self, rank: int, world_size: int) -> MixReader:
        """The part of this reader's samples that ``rank`` of ``world_size`` should read."""
        if world_size <= 0 or not 0 <= rank < world_size:
            raise BadInput(f"rank {rank} is not in 0..{world_size - 1}", hint="rank must satisfy 0 <= rank < world_size")
        return MixReader(self._data, self.offset + rank * self.stride, self.stride * world_size, self.batch_size)

    def split_for_worker(self, worker_id: int, num_workers: int) -> MixReader:
        """The part a DataLoader worker reads; equal to ``shard`` on the rank's reader."""
        return self.shard(worker_id, num_workers)

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume exactly: which mix, which shard, how far."""
        return {"format": STATE_FORMAT, "mix": self.mix_id, "offset": self.offset, "stride": self.stride, "consumed": self.consumed}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue where ``state`` was taken; refuses a state of another mix or shard."""
        if state.get("mix") != self.mix_id:
            raise BadInput(f"the state belongs to mix {str(state.get('mix'))[:12]}, not {self.mix_id[:12]}", hint="open the mix the state was saved from")
        if (state.get("offset"), state.get("stride")) != (self.offset, self.stride):
            raise BadInput(f"the state belongs to shard offset={state.get('offset')} stride={state.get('stride')}, not offset={self.offset} stride={self.stride}",
                           hint="call shard(rank, world_size) with the same values before load_state_dict")
        consumed = state.get("consumed")
        if not isinstance(consumed, int) or not 0 <= consumed <= len(self):
            raise BadInput(f"bad 'consumed' in state: {consumed!r}", hint=f"it must be between 0 and {len(self)}")
        self.consumed = consumed

    def indices(self, start: int, stop: int) -> np.ndarray:
        """Global sample numbers of this shard's samples ``start`` to ``stop`` (exclusive)."""
        return self.offset + self.stride * np.arange(start, min(stop, len(self)), dtype=np.int64)

    def batches(self, batch_size: int | None = None) -> Iterator[pa.RecordBatch]:
        """Batches from the current position; the state advances as each batch is handed out."""
        size = batch_size or self.batch_size
        while self.consumed < len(self):
            table = self._data.fetch(self.indices(self.consumed, self.consumed + size))
            self.consumed += table.num_rows
            yield from table.combine_chunks().to_batches(max_chunksize=size)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        """Records from the current position; the state advances record by record."""
        while self.consumed < len(self):
            start = self.consumed
            rows = self._data.fetch(self.indices(start, start + self.batch_size)).to_pylist()
            for k, record in enumerate(rows):
                self.consumed = start + k + 1
                yield record
