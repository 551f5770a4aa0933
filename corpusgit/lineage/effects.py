"""Row effects of one run: which ``_cgit_row``s it dropped (why, and as a duplicate of what), which
it modified (into what), and which it created.

Each set is stored as a blob of fixed-width records sorted by row hash, so its id (SHA-256 of
the bytes) depends only on the set, reads are one ``np.frombuffer``, and blobs are verified on
every read and by ``fsck``. Row hashes are big-endian, byte for byte the ``_cgit_row`` value.
A dropped set costs 36 bytes per row, a modified set 32: complete, not sampled, because
"which operator dropped this sample?" has to be answerable for every sample.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from corpusgit.errors import CorruptObject
from corpusgit.store.canonical import object_id
from corpusgit.store.objects import ObjectStore

DROPPED = np.dtype([("hi", ">u8"), ("lo", ">u8"), ("dup_hi", ">u8"), ("dup_lo", ">u8"), ("rule", "<i4")])
MODIFIED = np.dtype([("hi", ">u8"), ("lo", ">u8"), ("new_hi", ">u8"), ("new_lo", ">u8")])
CREATED = np.dtype([("hi", ">u8"), ("lo", ">u8")])
KINDS: dict[str, np.dtype[Any]] = {"dropped": DROPPED, "modified": MODIFIED, "created": CREATED}
MAGIC = {"dropped": b"CGRD0001", "modified": b"CGRM0001", "created": b"CGRC0001"}  # kind + format version


@dataclass(frozen=True, slots=True)
class RowEffects:
    """The three sets of one run, each sorted by row hash and free of repeats."""

    dropped: np.ndarray
    modified: np.ndarray
    created: np.ndarray

    def set(self, kind: str) -> np.ndarray:
        value: np.ndarray = getattr(self, kind)
        return value


@dataclass
class EffectsBuilder:
    """Accumulates per-batch effects; ``build`` sorts and de-duplicates once at the end."""

    parts: dict[str, list[np.ndarray]] = field(default_factory=lambda: {k: [] for k in KINDS})

    def dropped(self, hi: np.ndarray, lo: np.ndarray, rule: np.ndarray, dup_hi: np.ndarray, dup_lo: np.ndarray) -> None:
        self._add("dropped", hi=hi, lo=lo, dup_hi=dup_hi, dup_lo=dup_lo, rule=rule)

    def modified(self, hi: np.ndarray, lo: np.ndarray, new_hi: np.ndarray, new_lo: np.ndarray) -> None:
        self._add("modified", hi=hi, lo=lo, new_hi=new_hi, new_lo=new_lo)

    def created(self, hi: np.ndarray, lo: np.ndarray) -> None:
        self._add("created", hi=hi, lo=lo)

    def _add(self, kind: str, **columns: np.ndarray) -> None:
        n = len(columns["hi"])
        if n == 0:
            return
        records = np.empty(n, dtype=KINDS[kind])
        for name, values in columns.items():
            records[name] = values
        self.parts[kind].append(records)

    def build(self) -> RowEffects:
        sets = {}
        for kind, parts in self.parts.items():
            records = np.concatenate(parts) if parts else np.empty(0, dtype=KINDS[kind])
            # concatenate and sorting may hand back native byte order; the stored layout is fixed
            sets[kind] = _sorted_unique(records).astype(KINDS[kind], copy=False)
        return RowEffects(**sets)


def _sorted_unique(records: np.ndarray) -> np.ndarray:
    """Sort by row (then by the other fields, so ties are deterministic) and keep one per row."""
    if len(records) == 0:
        return records
    names = records.dtype.names
    assert names is not None
    order = np.lexsort(tuple(records[n] for n in reversed(names)))
    records = records[order]
    first = np.ones(len(records), dtype=bool)
    first[1:] = (records["hi"][1:] != records["hi"][:-1]) | (records["lo"][1:] != records["lo"][:-1])
    if "new_hi" in names:  # one old row may become several (Derived)
        first[1:] |= (records["new_hi"][1:] != records["new_hi"][:-1]) | (records["new_lo"][1:] != records["new_lo"][:-1])
    unique: np.ndarray = records[first]
    return unique


def effect_ids(effects: RowEffects) -> dict[str, str | None]:
    """The blob id each set would be stored under (``rerun`` compares them without storing)."""
    return {kind: object_id(MAGIC[kind] + effects.set(kind).tobytes()) if len(effects.set(kind)) else None for kind in KINDS}


def write_effects(store: ObjectStore, effects: RowEffects) -> dict[str, dict[str, Any] | None]:
    """Store each non-empty set as a blob; returns the references a lineage record keeps."""
    refs: dict[str, dict[str, Any] | None] = {}
    for kind in KINDS:
        records = effects.set(kind)
        if len(records) == 0:
            refs[kind] = None
            continue
        store.tmp_root.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix="effects-", dir=store.tmp_root)
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(MAGIC[kind])
                handle.write(records.tobytes())
            oid = store.put_blob_file(Path(tmp))
        finally:
            os.unlink(tmp)
        refs[kind] = {"id": oid, "rows": int(len(records))}
    return refs


def read_effect_set(store: ObjectStore, ref: dict[str, Any] | None, kind: str, needed_by: str) -> np.ndarray:
    """Load one set (verified against its id); an absent set is an empty array."""
    if ref is None:
        return np.empty(0, dtype=KINDS[kind])
    data = b"".join(store.iter_blob(ref["id"], needed_by))
    magic = MAGIC[kind]
    body = data[len(magic):]
    if not data.startswith(magic) or len(body) % KINDS[kind].itemsize or len(body) // KINDS[kind].itemsize != ref["rows"]:
        raise CorruptObject(ref["id"], f"{ref['rows']} {kind} records", "another layout", needed_by)
    return np.frombuffer(body, dtype=KINDS[kind])


def find_rows(records: np.ndarray, hi: int, lo: int, prefix: str = "") -> np.ndarray:
    """Positions of the records for row ``(hi, lo)`` (``prefix="new_"`` searches modified targets).

    Sets are sorted by row, so a row is found by binary search; modified targets are not
    sorted and are scanned.
    """
    if prefix:
        mask = (records[prefix + "hi"] == np.uint64(hi)) & (records[prefix + "lo"] == np.uint64(lo))
        found: np.ndarray = np.flatnonzero(mask)
        return found
    first, last = np.searchsorted(records["hi"], np.uint64(hi), side="left"), np.searchsorted(records["hi"], np.uint64(hi), side="right")
    same = np.flatnonzero(records["lo"][first:last] == np.uint64(lo)) + first
    return same.astype(np.int64)
