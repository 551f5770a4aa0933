"""Decoded chunks for mix reads: loaded on a few threads at once, kept LRU within a byte budget.

Decoding Parquet is most of the cost of reading a mix, and a request for one batch of samples
names a dozen or more chunks; pyarrow releases the GIL while decoding, so decoding them side by
side uses every core. The core ``ChunkCache`` loads under its caller's control and is not
thread-safe, hence this small variant; both verify through ``read_chunk``.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import pyarrow as pa

from corpusgit.store.objects import ObjectStore
from corpusgit.table.chunkio import read_chunk
from corpusgit.table.model import ChunkRef

DECODE_THREADS = min(4, os.cpu_count() or 1)  # beyond 4, disk and memory bandwidth stop the gain
T = TypeVar("T")


class ChunkLoader:
    """Thread-safe LRU of decoded chunks plus the pool that fills it.

    The pool is created on first use in each process: a DataLoader worker forked from a process
    that already read does not inherit live threads, only a pool object that would hang.
    """

    def __init__(self, store: ObjectStore, budget: int, threads: int = DECODE_THREADS) -> None:
        self._store = store
        self._budget = budget
        self._threads = threads
        self._used = 0
        self._items: OrderedDict[tuple[str, tuple[str, ...]], pa.Table] = OrderedDict()
        self._lock = threading.Lock()
        self._pool: ThreadPoolExecutor | None = None
        self._pid = 0

    def get(self, ref: ChunkRef, columns: list[str], needed_by: str) -> pa.Table:
        """A chunk's columns, decoded at most once while it stays in the budget."""
        key = (ref.id, tuple(columns))
        with self._lock:
            table = self._items.get(key)
            if table is not None:
                self._items.move_to_end(key)
                return table
        # Outside the lock, so decodes overlap; single-threaded inside, so no Arrow pool or I/O
        # future is involved: many readers waiting on Arrow futures at once could hang on glibc
        # 2.36's condition variables (seen in a test run: a broadcast stuck against a waiter).
        table = read_chunk(self._store, ref, columns, needed_by, threads=False)
        with self._lock:
            if key not in self._items:
                self._items[key] = table
                self._used += table.nbytes
                while self._used > self._budget and len(self._items) > 1:
                    _, old = self._items.popitem(last=False)
                    self._used -= old.nbytes
        return table

    def map(self, fn: Callable[[T], pa.Table], items: Iterable[T]) -> Iterator[pa.Table]:
        """``fn`` over ``items`` on the pool, results in order."""
        if self._pool is None or self._pid != os.getpid():
            self._pool = ThreadPoolExecutor(self._threads, thread_name_prefix="cgit-mix-decode")
            self._pid = os.getpid()
        return self._pool.map(fn, items)
