"""Adapters to PyTorch and Hugging Face ``datasets`` (optional extras, imported on first use).

Both wrap a ``MixReader`` and add no ordering of their own: the mix decides the sequence, the
rank decides the shard (``reader.shard(rank, world_size)``), and each DataLoader worker reads
``split_for_worker(worker_id, num_workers)`` of it, so workers never repeat each other's samples.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from corpusgit.errors import BadInput
from corpusgit.mix.reader import MixReader


def torch_dataset(reader: MixReader) -> Any:
    """A ``torch.utils.data.IterableDataset`` over ``reader``'s records.

    ``state_dict``/``load_state_dict`` follow torchdata's ``StatefulDataLoader`` protocol: each
    worker saves and restores the position of its own part.
    """
    try:
        from torch.utils.data import IterableDataset, get_worker_info
    except ImportError:
        raise BadInput("the PyTorch adapter needs PyTorch", hint="pip install 'corpusgit[torch]'") from None

    class MixIterableDataset(IterableDataset):  # type: ignore[misc]
        def __init__(self) -> None:
            self._part: MixReader | None = None
            self._pending: dict[str, Any] | None = None

        def __iter__(self) -> Iterator[dict[str, Any]]:
            info = get_worker_info()
            part = reader if info is None else reader.split_for_worker(info.id, info.num_workers)
            if self._pending is not None:
                part.load_state_dict(self._pending)
                self._pending = None
            self._part = part
            return iter(part)

        def state_dict(self) -> dict[str, Any]:
            return (self._part or reader).state_dict()

        def load_state_dict(self, state: dict[str, Any]) -> None:
            self._pending = state

    return MixIterableDataset()


def hf_dataset(reader: MixReader) -> Any:
    """A ``datasets.IterableDataset`` yielding ``reader``'s records in mix order."""
    try:
        from datasets import IterableDataset
    except ImportError:
        raise BadInput("the Hugging Face adapter needs the datasets package", hint="pip install 'corpusgit[hf]'") from None

    def records() -> Iterator[dict[str, Any]]:
        yield from reader

    return IterableDataset.from_generator(records)
