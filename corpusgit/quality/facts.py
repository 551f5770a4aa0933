"""Per-chunk row facts: the cached per-row measurements that checks and ``cgit stats`` reduce.

Why per row, per chunk: chunks are immutable and named by their content, so whatever is
measured on a chunk's rows holds forever and is cached under the chunk id; an append-only
commit then measures only its new chunks. A table's segments may reference only part of a
chunk (after a filter), so the cache never holds per-chunk *totals*: it holds one value per
chunk row, and a table's facts are gathered through its segment list with numpy indexing.
Every table-level metric (ratios, exact percentiles, duplicate sets, distributions, KS/PSI)
is then computed from the gathered arrays, correct for any segment layout. The cost is 1-16
bytes per row and fact, small next to the kilobytes of text they summarise; the bound is
that one table's facts sit in memory during a check (~50 bytes per row for every built-in).

A chunk's facts live in one file, ``<cache>/<id[:2]>/<id>.facts`` (arrays named
``<fact digest>.<field>``), replaced atomically when facts are added: one file per chunk rather
than per chunk and fact. The cache is derived data: deleting it only costs time, and a file that
does not load is recomputed.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from corpusgit.detect.columns import string_array
from corpusgit.detect.terms import TermList
from corpusgit.errors import CorpusGitError
from corpusgit.table.hashing import array_lanes, binary_to_lanes, column_seed
from corpusgit.table.schema import ROW_HASH_COLUMN

FACTS_VERSION = 1  # bump when any fact's computation changes: older cache entries are ignored
LANG_SAMPLE_ROWS = 128  # rows per chunk given to language ID (~15 ms, the costliest fact per
#                         chunk): a chunk's mix +-9% (95%), a 1 GB table's (~130 chunks) +-1%
CATEGORY_MAX_CHARS = 200  # category values are labels; a longer value is cut to keep vocabularies small
MAX_WORKERS = 8  # chunk-parallel fact computation; pyarrow kernels release the GIL

TEXT_KINDS = frozenset({"chars", "words", "bytes", "texthash", "pii", "encoding", "terms", "lang", "domain"})
CATEGORICAL_KINDS = frozenset({"lang", "category", "domain"})

Arrays = dict[str, np.ndarray]


class ColumnError(CorpusGitError):
    """A check names a column the table lacks, or one of the wrong type."""


@dataclass(frozen=True, slots=True)
class Fact:
    """One per-row measurement of one column (``rowhash`` needs none)."""

    kind: str
    column: str = ""
    terms: TermList | None = None

    @property
    def name(self) -> str:
        return f"{self.kind}:{self.column}" + (f":{self.terms.digest}" if self.terms is not None else "")

    @property
    def digest(self) -> str:
        return _digest(self.name)


@functools.lru_cache(maxsize=None)
def _digest(name: str) -> str:
    """A fact's name in cache files (hashed, so term lists and long names stay short)."""
    return hashlib.sha256(f"{FACTS_VERSION}|{name}".encode()).hexdigest()[:16]


def _by_fact(stored: Arrays) -> dict[str, Arrays]:
    """A chunk's cache file (arrays named ``<fact digest>.<field>``) grouped by fact digest."""
    out: dict[str, Arrays] = {}
    for name, array in stored.items():
        digest, _, field = name.partition(".")
        out.setdefault(digest, {})[field] = array
    return out


@dataclass(frozen=True)
class GroupLayout:
    """A column group as fact gathering sees it: chunks, segments, and how to load a chunk.

    ``load(i, columns)`` returns chunk ``i``'s columns (plus ``_cgit_row`` when asked);
    ``keys`` name chunks in the cache, and ``cacheable`` is False for plain files, whose
    "chunks" (row groups) are not content-addressed.
    """

    columns: tuple[str, ...]
    keys: tuple[str, ...]
    chunk_rows: np.ndarray
    seg_chunk: np.ndarray
    seg_start: np.ndarray
    seg_rows: np.ndarray
    load: Callable[[int, list[str]], pa.Table]
    cacheable: bool = True

    def row_index(self) -> np.ndarray | None:
        """Positions of the table's rows in the concatenated chunks (None: identity)."""
        base = np.concatenate([[0], np.cumsum(self.chunk_rows)[:-1]]).astype(np.int64)
        starts = base[self.seg_chunk] + self.seg_start
        total = int(self.seg_rows.sum())
        if len(starts) == len(self.keys) and np.array_equal(starts, base) and np.array_equal(self.seg_rows, self.chunk_rows):
            return None
        ends = np.cumsum(self.seg_rows)
        offsets = np.repeat(starts - (ends - self.seg_rows), self.seg_rows)
        return offsets + np.arange(total, dtype=np.int64)


def is_text_type(t: pa.DataType) -> bool:
    if pa.types.is_dictionary(t):
        t = t.value_type
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t))


def compute_fact(fact: Fact, chunk: pa.Table) -> Arrays:
    """Measure one fact on every row of a chunk (``chunk`` holds the needed columns)."""
    if fact.kind == "rowhash":
        hi, lo = binary_to_lanes(chunk.column(ROW_HASH_COLUMN))
        return {"hi": hi, "lo": lo}
    col = chunk.column(fact.column)
    if fact.kind == "nulls":
        null = np.asarray(col.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        empty = np.zeros(len(col), dtype=bool)
        if is_text_type(col.type) or pa.types.is_binary(col.type) or pa.types.is_large_binary(col.type):
            lengths = pc.binary_length(string_array(col) if is_text_type(col.type) else col.combine_chunks())
            empty = np.asarray(pc.equal(lengths, 0).fill_null(False), dtype=bool)
        return {"null": null, "empty": empty}
    if fact.kind == "category":
        values = col.combine_chunks()
        if pa.types.is_dictionary(values.type):
            values = values.dictionary_decode()
        if not is_text_type(values.type):
            values = values.cast(pa.string())
        return _categories(pc.utf8_slice_codeunits(string_array(values), 0, CATEGORY_MAX_CHARS))
    arr = string_array(col)
    if fact.kind == "chars":
        return {"n": _lengths(pc.utf8_length(arr))}
    if fact.kind == "bytes":
        return {"n": _lengths(pc.binary_length(arr))}
    if fact.kind == "words":
        return {"n": _lengths(pc.list_value_length(pc.utf8_split_whitespace(arr)))}
    if fact.kind == "texthash":
        hi, lo = array_lanes(arr, column_seed("text-hash"))
        return {"hi": hi, "lo": lo}
    if fact.kind == "pii":
        from corpusgit.detect.pii import count_pii

        return count_pii(arr)
    if fact.kind == "encoding":
        from corpusgit.detect.encoding import count_encoding_issues

        return count_encoding_issues(arr)
    if fact.kind == "terms":
        from corpusgit.detect.terms import count_terms

        assert fact.terms is not None
        return {"n": count_terms(arr, fact.terms)}
    if fact.kind == "lang":
        return _languages(arr, chunk.column(ROW_HASH_COLUMN))
    if fact.kind == "domain":
        return _categories(_hosts(arr))
    raise ValueError(f"unknown fact kind {fact.kind!r}")


def _lengths(result: pa.Array) -> np.ndarray:
    """Lengths as int64 with -1 for null rows, so 'no text' never looks like 'empty text'."""
    return np.asarray(result.fill_null(-1), dtype=np.int64)


def _categories(values: pa.Array) -> Arrays:
    encoded = values.dictionary_encode()
    codes = np.asarray(encoded.indices.fill_null(-1), dtype=np.int32)
    vocab = np.array(encoded.dictionary.to_pylist(), dtype=str) if len(encoded.dictionary) else np.array([], dtype="<U1")
    return {"codes": codes, "vocab": vocab}


def _languages(arr: pa.Array, row_hash: pa.ChunkedArray | pa.Array) -> Arrays:
    """Language of a deterministic sample of rows: the LANG_SAMPLE_ROWS non-null rows with the
    lowest row hash. Sampling by row identity means a row is in or out whatever chunk or table
    it appears in; -1 marks rows not sampled."""
    from corpusgit.detect.language import PREFIX_CHARS, detect

    codes = np.full(len(arr), -1, dtype=np.int32)
    candidates = np.flatnonzero(~np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool))
    if len(candidates) > LANG_SAMPLE_ROWS:
        _, lo = binary_to_lanes(row_hash)
        candidates = np.sort(candidates[np.argsort(lo[candidates], kind="stable")[:LANG_SAMPLE_ROWS]])
    if len(candidates) == 0:
        return {"codes": codes, "vocab": np.array([], dtype="<U1")}
    texts = pc.utf8_slice_codeunits(arr.take(pa.array(candidates)), 0, PREFIX_CHARS).to_pylist()
    found = detect([t or "" for t in texts])
    vocab = sorted(set(found))
    index = {v: i for i, v in enumerate(vocab)}
    codes[candidates] = [index[v] for v in found]
    return {"codes": codes, "vocab": np.array(vocab, dtype=str)}


def _hosts(arr: pa.Array) -> pa.Array:
    """Lower-cased host of each URL (``www.`` dropped); null where there is none."""
    found = pc.extract_regex(arr, r"^\s*(?:[A-Za-z][A-Za-z0-9+.\-]*://)?(?:[^@/?#\s]*@)?(?:www\.)?(?P<host>[^/:?#\s]+)")
    return pc.utf8_lower(found.field("host"))


class FactStore:
    """Facts by (chunk, fact): in memory for this run, on disk across runs.

    ``ensure`` computes everything missing in one pass per chunk, chunks in parallel; the
    counters say how much was computed versus served from the cache (the benchmark's and the
    report's evidence that an append re-checks only new chunks).
    """

    def __init__(self, cache_dir: Path | None, workers: int | None = None) -> None:
        self.cache_dir = cache_dir
        self.workers = workers or max(1, min(os.cpu_count() or 1, MAX_WORKERS))
        self._mem: dict[tuple[str, Fact], Arrays] = {}
        self._lock = threading.Lock()
        self.chunks_computed = 0
        self.chunks_cached = 0

    def get(self, layout: GroupLayout, index: int, fact: Fact) -> Arrays:
        key = (layout.keys[index], fact)
        found = self._mem.get(key)
        if found is None:
            self.ensure([(layout, [fact])])
            found = self._mem[key]
        return found

    def ensure(self, work: Iterable[tuple[GroupLayout, Iterable[Fact]]]) -> None:
        """Make every listed fact of every chunk of every listed group available.

        Cached facts are served in this thread (a file read each: threads would only add GIL
        contention); chunks with anything to compute go to the thread pool.
        """
        pending: dict[str, tuple[GroupLayout, int, set[Fact]]] = {}
        for layout, facts in work:
            wanted = set(facts)
            for i, key in enumerate(layout.keys):
                missing = {f for f in wanted if (key, f) not in self._mem}
                if missing:
                    entry = pending.setdefault(key, (layout, i, set()))
                    entry[2].update(missing)
        pool: ThreadPoolExecutor | None = None
        running = []
        preloading = False
        try:
            for layout, index, facts in pending.values():
                stored = self._read(layout.keys[index]) if layout.cacheable else {}
                by_fact = _by_fact(stored)
                found = {f: by_fact[f.digest] for f in facts if f.digest in by_fact}
                if len(found) == len(facts):
                    self._keep(layout.keys[index], found, computed=False)
                    continue
                pool = pool or ThreadPoolExecutor(max_workers=self.workers)
                if not preloading and any(f.kind == "lang" and f not in found for f in facts):
                    from corpusgit.detect.language import preload

                    pool.submit(preload)  # loads while the first chunks are read and scanned
                    preloading = True
                running.append(pool.submit(self._compute, layout, index, facts, stored, found))  # while later caches are read
            for job in running:
                job.result()
        finally:
            if pool is not None:
                pool.shutdown(wait=True)

    def _compute(self, layout: GroupLayout, index: int, facts: set[Fact], stored: Arrays, found: dict[Fact, Arrays]) -> None:
        """Measure the facts of one chunk that its cache file lacks, in one read of the chunk."""
        todo = [f for f in facts if f not in found]
        columns = sorted({f.column for f in todo if f.column} | ({ROW_HASH_COLUMN} if any(f.kind in ("rowhash", "lang") for f in todo) else set()))
        chunk = layout.load(index, columns)
        found = dict(found)
        for fact in todo:
            found[fact] = compute_fact(fact, chunk)
        if layout.cacheable:
            merged = dict(stored)
            for fact in todo:
                merged.update({f"{fact.digest}.{name}": a for name, a in found[fact].items()})
            self._write(layout.keys[index], merged)
        self._keep(layout.keys[index], found, computed=True)

    def _keep(self, key: str, found: dict[Fact, Arrays], computed: bool) -> None:
        with self._lock:
            for fact, arrays in found.items():
                self._mem[(key, fact)] = arrays
            if computed:
                self.chunks_computed += 1
            else:
                self.chunks_cached += 1

    def _path(self, key: str) -> Path | None:
        return None if self.cache_dir is None else self.cache_dir / key[:2] / f"{key}.facts"

    def _read(self, key: str) -> Arrays:
        path = self._path(key)
        if path is None:
            return {}
        try:
            return decode_arrays(path.read_bytes())
        except (OSError, ValueError):
            return {}  # absent, torn or foreign: recompute and overwrite it

    def _write(self, key: str, arrays: Arrays) -> None:
        """Atomic (a reader sees the old file or the new one) but not fsynced: after a crash a
        torn file fails its checksum and is recomputed, so durability would only cost time."""
        path = self._path(key)
        if path is None:
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{key[:12]}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(encode_arrays(arrays))
            os.replace(tmp, path)
        except OSError:
            Path(tmp).unlink(missing_ok=True)  # a full or read-only disk only costs a recomputation


_MAGIC = b"CGF1"  # cached facts, format 1: magic, header length, JSON header, aligned array bytes
_ALIGN = 8


def encode_arrays(arrays: Arrays) -> bytes:
    """One file for all of a chunk's facts: a JSON header (name -> dtype, length, offset) and
    the raw arrays. Loading is one read and a ``frombuffer`` per array, where ``.npz`` costs a
    zip lookup and header parse per array (it dominated re-checks of large tables)."""
    layout: dict[str, list[object]] = {}
    parts: list[bytes] = []
    offset = 0
    for name, array in sorted(arrays.items()):
        raw = np.ascontiguousarray(array).tobytes()
        layout[name] = [array.dtype.str, len(array), offset]
        parts.append(raw + b"\0" * (-len(raw) % _ALIGN))
        offset += len(raw) + (-len(raw) % _ALIGN)
    body = b"".join(parts)
    header = json.dumps({"arrays": layout, "xxh3": xxhash.xxh3_64_hexdigest(body)}, separators=(",", ":")).encode()
    header += b" " * (-(len(_MAGIC) + 4 + len(header)) % _ALIGN)
    return _MAGIC + len(header).to_bytes(4, "little") + header + body


def decode_arrays(data: bytes) -> Arrays:
    """Inverse of ``encode_arrays``; arrays are read-only views, so a check can never alter
    cached facts. Raises ValueError on anything but an intact file."""
    if data[:4] != _MAGIC:
        raise ValueError("not a facts file")
    size = int.from_bytes(data[4:8], "little")
    doc = json.loads(data[8:8 + size])
    body = memoryview(data)[8 + size:]
    if xxhash.xxh3_64_hexdigest(body) != doc["xxh3"]:
        raise ValueError("facts file checksum mismatch")
    return {name: np.frombuffer(body, dtype=np.dtype(dtype), count=count, offset=offset) for name, (dtype, count, offset) in doc["arrays"].items()}


def empty_fact(fact: Fact) -> Arrays:
    """The fact of a table without rows (no chunks to measure): right fields, length 0."""
    empty = pa.table({"_": pa.array([], pa.string()), ROW_HASH_COLUMN: pa.array([], pa.binary(16))})
    return compute_fact(Fact(fact.kind, "_" if fact.column else "", fact.terms), empty)


def gather(layout: GroupLayout, per_chunk: list[Arrays], categorical: bool) -> Arrays:
    """A table's rows of one fact, from its chunks' rows through the segment list."""
    index = layout.row_index()
    if categorical:
        vocab: dict[str, int] = {}
        codes = []
        for arrays in per_chunk:
            mapping = np.array([vocab.setdefault(str(v), len(vocab)) for v in arrays["vocab"]] + [-1], dtype=np.int32)
            codes.append(mapping[arrays["codes"]])  # code -1 picks the trailing -1
        joined = np.concatenate(codes) if codes else np.zeros(0, dtype=np.int32)
        return {"codes": joined if index is None else joined[index], "vocab": np.array(list(vocab), dtype=str)}
    out: Arrays = {}
    for name in per_chunk[0]:
        joined = np.concatenate([a[name] for a in per_chunk])
        out[name] = joined if index is None else joined[index]
    return out
