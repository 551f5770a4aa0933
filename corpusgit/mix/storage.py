"""Storing and finding mixes: the mix object, its selection record and the plan pieces.

- The **mix object** (metadata, hashed) is the identity.
- The **plan** (source, row, epoch per sample) is cut into pieces of ``PIECE_SAMPLES`` samples,
  each a small Parquet file stored raw under an id derived from its logical content (as chunks
  are), with an xxh3 checksum of its bytes recorded and verified on every read. Pieces let
  ``open``, ``locate`` and resuming load only the part of the plan they need.
- The **selection record** (metadata) lists the pieces and per-source totals, and says what it
  keeps alive (``reaches``): the mix object, the pieces and the source commits, so ``gc`` never
  drops a source a mix still names.
- ``.cgit/refs/mixes/<mix id>`` points at the selection record. It is written under a lock
  without a reflog entry: reflog entries are read as commits by ``gc``.
- A **name** (``cgit mix create --name pretrain-v3``) is one more ref in the same place,
  ``.cgit/refs/mixes/<name>``, pointing at the same selection record, so names keep mixes alive
  and travel with ``push --mixes`` / ``fetch`` exactly as the ids do. A name must not look like
  a hex id prefix, so the two never collide.
"""

from __future__ import annotations

import time
from dataclasses import astuple, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from corpusgit.errors import BadInput, CorruptObject, RevisionNotFound
from corpusgit.lock import LockFile
from corpusgit.mix.model import MixObject
from corpusgit.refs import check_ref_name
from corpusgit.store.canonical import MIN_PREFIX, ObjectId, is_object_id, object_id
from corpusgit.table.chunkio import arrow_owned, file_checksum

if TYPE_CHECKING:
    from corpusgit.mix.plan import Plan
    from corpusgit.repo import Repo

MIXES = "refs/mixes/"
SELECTION_FORMAT = 1
PIECE_SAMPLES = 1 << 20  # ~5 MB of plan per piece: one piece loads in tens of milliseconds
_PIECE_SCHEMA = pa.schema([("source", pa.uint16()), ("row", pa.int64()), ("epoch", pa.uint16())])


@dataclass(frozen=True, slots=True)
class PieceRef:
    id: str
    checksum: str
    samples: int


@dataclass(frozen=True, slots=True)
class SourceTotals:
    """What ``create`` planned for one source, kept so ``show`` and ``list`` need no data."""

    rows: int
    eligible_rows: int
    eligible_tokens: int
    eligible_bytes: int
    block_rows: int
    samples: int
    unique_rows: int
    tokens: int
    bytes: int


@dataclass(frozen=True, slots=True)
class StoredMix:
    """A mix as stored: its id, object, selection record fields and pieces."""

    id: ObjectId
    mix: MixObject
    created: int
    samples: int
    pieces: tuple[PieceRef, ...]
    totals: tuple[SourceTotals, ...]


def store_mix(repo: Repo, mix_id: ObjectId, mix: MixObject, plan: Plan, totals: list[SourceTotals]) -> StoredMix:
    """Persist the objects in one transaction, then the ref: a crash leaves at most objects that
    nothing references, which gc removes."""
    created = int(time.time())
    with repo.store.transaction():
        if repo.store.put_meta(mix.to_json()) != mix_id:
            raise ValueError("mix id does not match the mix object")  # a caller bug, never user input
        pieces = []
        for start in range(0, len(plan.source), PIECE_SAMPLES):
            stop = start + PIECE_SAMPLES
            pieces.append(_put_piece(repo, plan.source[start:stop], plan.row[start:stop], plan.epoch[start:stop]))
        record_id = repo.store.put_meta(_record(mix_id, mix, len(plan.source), pieces, totals, created))
    ref = repo.cgit / (MIXES + mix_id)
    with LockFile(ref) as lock:
        lock.commit(f"{record_id}\n".encode())
    return StoredMix(mix_id, mix, created, len(plan.source), tuple(pieces), tuple(totals))


def _record(mix_id: ObjectId, mix: MixObject, samples: int, pieces: list[PieceRef], totals: list[SourceTotals], created: int) -> dict[str, Any]:
    return {
        "type": "mix-selection", "format": SELECTION_FORMAT, "mix": mix_id, "created": created,
        "samples": samples, "piece_samples": PIECE_SAMPLES,
        "pieces": [[p.id, p.checksum, p.samples] for p in pieces],
        "sources": [list(astuple(t)) for t in totals],
        "reaches": [["meta", mix_id], *(["raw", p.id] for p in pieces), *(["commit", c] for c in sorted({s.commit for s in mix.sources}))],
    }


def _put_piece(repo: Repo, source: np.ndarray, row: np.ndarray, epoch: np.ndarray) -> PieceRef:
    logical = b"cgit-mix-piece/1\0" + source.astype("<u2").tobytes() + row.astype("<i8").tobytes() + epoch.astype("<u2").tobytes()
    oid = object_id(logical)
    table = pa.table([pa.array(source), pa.array(row), pa.array(epoch)], schema=_PIECE_SCHEMA)
    sink = pa.BufferOutputStream()
    with pq.ParquetWriter(sink, _PIECE_SCHEMA, compression="zstd", compression_level=3, version="2.6",
                          use_dictionary=False, write_statistics=False, store_schema=False) as writer:
        writer.write_table(table, row_group_size=max(len(source), 1))
    data = sink.getvalue()
    existing = repo.store.locate(oid)
    if existing is not None:  # same plan piece stored by an earlier create: keep its bytes
        return PieceRef(oid, file_checksum(existing.read_bytes()), len(source))
    repo.store.put_raw(oid, data)
    return PieceRef(oid, file_checksum(data), len(source))


def read_piece(repo: Repo, piece: PieceRef, mix_id: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(source, row, epoch) arrays of one piece, verified against the recorded checksum."""
    needed_by = f"mix {mix_id[:12]}"
    data = repo.store.read_raw(piece.id, needed_by)
    got = file_checksum(data)
    if got != piece.checksum:
        raise CorruptObject(piece.id, piece.checksum, got, needed_by)
    table = pq.read_table(pa.BufferReader(arrow_owned(data)))
    if table.num_rows != piece.samples:
        raise CorruptObject(piece.id, f"{piece.samples} samples", f"{table.num_rows} samples", needed_by)
    return (table.column("source").to_numpy(), table.column("row").to_numpy(), table.column("epoch").to_numpy())


def list_mix_ids(repo: Repo) -> list[ObjectId]:
    """Every stored mix id, in no particular order."""
    return [ObjectId(name) for name in repo.refs.list_refs(MIXES) if is_object_id(name)]


def mix_names(repo: Repo) -> dict[str, ObjectId]:
    """Mix name -> mix id, sorted by name."""
    names = {}
    for name, record_id in sorted(repo.refs.list_refs(MIXES).items()):
        if not is_object_id(name):
            names[name] = _record_mix(repo, name, record_id)
    return names


def _named(repo: Repo, name: str) -> ObjectId | None:
    """The mix ``name`` names, reading only its own ref (None: not a name here)."""
    try:
        check_ref_name(name, "mix")
    except BadInput:
        return None
    record_id = None if is_object_id(name) else repo.refs.read(MIXES + name)
    return _record_mix(repo, name, record_id) if record_id is not None else None


def _record_mix(repo: Repo, name: str, record_id: str) -> ObjectId:
    return ObjectId(str(repo.store.get_meta(record_id, needed_by=f"mix name '{name}'")["mix"]))


def check_mix_name(name: str) -> None:
    check_ref_name(name, "mix")
    if all(c in "0123456789abcdefABCDEF" for c in name):
        raise BadInput(f"mix name '{name}' looks like a mix hash", hint="use a name with a letter beyond a-f, e.g. pretrain-v3")


def name_mix(repo: Repo, name: str, mix_id: ObjectId, force: bool = False) -> ObjectId | None:
    """Point ``name`` at a stored mix; returns the mix it named before (None if new).
    Moving a name to another mix needs ``force``, as moving a tag does."""
    check_mix_name(name)
    record_id = (repo.cgit / (MIXES + mix_id)).read_text().strip()
    old = _named(repo, name)
    if old is not None and old != mix_id and not force:
        raise BadInput(f"mix name '{name}' already names mix {old[:12]}", hint="pick another name, or pass --force to move it")
    with LockFile(repo.cgit / (MIXES + name)) as lock:
        lock.commit(f"{record_id}\n".encode())
    return old


def delete_mix_name(repo: Repo, name: str) -> ObjectId:
    """Remove a name; the mix stays (under its id) until it is deleted."""
    old = _named(repo, name)
    if old is None:
        raise RevisionNotFound(f"no mix named '{name}'", hint="'cgit mix list' shows the names")
    with LockFile(repo.cgit / (MIXES + name)):
        (repo.cgit / (MIXES + name)).unlink()
    return old


def resolve_mix_id(repo: Repo, text: str) -> ObjectId:
    """A full mix id from a name, a full id or a unique prefix of at least MIN_PREFIX characters."""
    named = _named(repo, text.strip())
    if named is not None:
        return named
    ids = list_mix_ids(repo)
    text = text.strip().lower()
    matches = [i for i in ids if i.startswith(text)] if len(text) >= MIN_PREFIX else [i for i in ids if i == text]
    if len(matches) == 1:
        return matches[0]
    if len(matches) > 1:
        raise RevisionNotFound(f"mix id '{text}' is ambiguous ({len(matches)} mixes)", hint="use more characters")
    hint = "'cgit mix list' shows the mixes; 'cgit mix create spec.yaml' makes one" if ids else "no mixes yet: 'cgit mix create spec.yaml' makes one"
    raise RevisionNotFound(f"no mix '{text}' in this repository", hint=hint)


def load_mix(repo: Repo, text: str) -> StoredMix:
    """The stored mix named by a full id or unique prefix."""
    mix_id = resolve_mix_id(repo, text)
    record_id = (repo.cgit / (MIXES + mix_id)).read_text().strip()
    record = repo.store.get_meta(record_id, needed_by=f"mix {mix_id[:12]}")
    mix = MixObject.from_json(repo.store.get_meta(mix_id, needed_by=f"mix {mix_id[:12]}"))
    return StoredMix(
        mix_id, mix, int(record["created"]), int(record["samples"]),
        tuple(PieceRef(str(i), str(c), int(n)) for i, c, n in record["pieces"]),
        tuple(SourceTotals(*(int(v) for v in t)) for t in record["sources"]),
    )


def piece_samples(stored: StoredMix) -> int:
    """Samples per piece (all but the last piece are full)."""
    return stored.pieces[0].samples if stored.pieces else PIECE_SAMPLES


def stored_summary(stored: StoredMix) -> dict[str, Any]:
    """JSON-ready summary of a stored mix (``show``/``list``/``create --json``)."""
    mix = stored.mix
    total_w = sum(s.weight for s in mix.sources)
    return {
        "id": stored.id, "created": stored.created, "samples": stored.samples, "seed": mix.seed,
        "budget": {"unit": mix.budget_unit, "amount": mix.budget}, "count": mix.count,
        "columns": list(mix.columns), "shard_rows": mix.shard_rows,
        "sources": [
            {
                "name": s.name, "path": s.path, "ref": s.ref, "commit": s.commit, "tables": len(s.tables),
                "weight": float(s.weight), "share": float(s.weight / total_w), "filter": s.filter,
                "max_epochs": float(s.max_epochs), "rows": t.rows, "eligible_rows": t.eligible_rows,
                "eligible_tokens": t.eligible_tokens, "eligible_bytes": t.eligible_bytes, "samples": t.samples, "unique_rows": t.unique_rows,
                "tokens": t.tokens, "bytes": t.bytes,
                "epochs": _epochs(mix.budget_unit, t),
            }
            for s, t in zip(mix.sources, stored.totals)
        ],
    }


def _epochs(unit: str, t: SourceTotals) -> float:
    """Passes over the eligible data, in budget units (2.5 = two full epochs and half a third)."""
    if unit == "tokens":
        return t.tokens / t.eligible_tokens if t.eligible_tokens else 0.0
    if unit == "bytes":
        return t.bytes / t.eligible_bytes if t.eligible_bytes else 0.0
    return t.samples / t.eligible_rows if t.eligible_rows else 0.0
