"""Training mixes: one hash names an exact, replayable sequence of documents.

``cgit mix create`` (``corpusgit.mix.create.create_mix``) plans and stores a mix; ``open`` streams
it back. Heavy modules load only when a mix is used, so ``import corpusgit.mix`` stays cheap.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from corpusgit.mix.reader import MixReader
    from corpusgit.repo import Repo


def open(mix: str, repo: Repo | str | Path = ".", columns: list[str] | None = None,
         batch_size: int | None = None, cache_bytes: int | None = None) -> MixReader:  # noqa: A001 (like tarfile.open)
    """Stream a stored mix from its first sample: an iterable of records, with ``batches()``,
    ``state_dict()``/``load_state_dict()``, ``shard(rank, world_size)`` and
    ``split_for_worker(worker_id, num_workers)``.

    ``mix`` is a mix name, id or unique id prefix; ``repo`` a ``Repo`` or a path inside one. The plan
    was computed at ``create``, so the first batch needs only a few chunk reads.
    """
    from corpusgit.mix.reader import BATCH_SIZE, MixReader
    from corpusgit.mix.storage import load_mix
    from corpusgit.repo import Repo as RepoClass

    handle = repo if isinstance(repo, RepoClass) else RepoClass.open(repo)
    return MixReader.open(handle, load_mix(handle, mix), columns, batch_size or BATCH_SIZE, cache_bytes)
