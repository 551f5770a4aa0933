"""Lineage records: one metadata object per operator run, and the local log of runs.

A record names the operator (name, version, code hash), the canonical config and its hash, the
input and output tables (path, table id, commit; an operator run over a dataset lists every
shard, and ``outputs[i]`` was written from ``inputs[i]``), the row-effect sets, the
environment, stats and times. It lists its effect blobs under ``reaches`` so gc keeps them and fsck verifies them
once a commit links the record.

The log (``.cgit/lineage/log``) lists every record this clone wrote, newest last: the run-cache
and ``cgit lineage`` on staged (not yet committed) outputs read it. It is a cache, not history:
records only survive gc through the commits that link them.
"""

from __future__ import annotations

import datetime as dt
import importlib.metadata
import os
import platform
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from corpusgit.errors import CorpusGitError, RevisionNotFound
from corpusgit.objects import load_typed, read_commit
from corpusgit.store.canonical import MIN_PREFIX, ObjectId, canonical_json, is_object_id, object_id
from corpusgit.store.objects import ObjectStore

if TYPE_CHECKING:
    from corpusgit.repo import Repo

LINEAGE = "lineage"
RECORD_FORMAT = 1
LOG = "lineage/log"
BASE_PACKAGES = ("corpusgit", "pyarrow", "numpy", "xxhash")  # what every run's output depends on


@dataclass(frozen=True, slots=True)
class TableRef:
    """A table version as a run saw it; ``commit`` is None for a staged, uncommitted table."""

    path: str
    table: str
    commit: str | None = None
    rows: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "table": self.table, "commit": self.commit, "rows": self.rows}

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> TableRef:
        return cls(str(doc["path"]), str(doc["table"]), doc.get("commit"), int(doc.get("rows", 0)))


@dataclass(frozen=True, slots=True)
class OperatorRef:
    """Which code ran: ``source`` says where it was found (builtin, local file, entry point)."""

    name: str
    version: str
    kind: str
    code_hash: str
    source: str


@dataclass(frozen=True, slots=True)
class LineageRecord:
    """One operator run (see the module docstring); ``to_json`` is the stored object."""

    operator: OperatorRef
    config: dict[str, Any]
    config_hash: str
    inputs: tuple[TableRef, ...]
    outputs: tuple[TableRef, ...]
    effects: dict[str, dict[str, Any] | None]
    rules: tuple[str, ...]
    stats: dict[str, Any]
    environment: dict[str, Any]
    started: str
    ended: str

    @property
    def cache_key(self) -> str:
        return cache_key(self.operator.name, self.operator.version, self.config_hash, [t.table for t in self.inputs], [t.path for t in self.outputs])

    def to_json(self) -> dict[str, Any]:
        op = self.operator
        return {
            "type": LINEAGE,
            "format": RECORD_FORMAT,
            "operator": {"name": op.name, "version": op.version, "kind": op.kind, "code_hash": op.code_hash, "source": op.source},
            "config": self.config,
            "config_hash": self.config_hash,
            "inputs": [t.to_json() for t in self.inputs],
            "outputs": [t.to_json() for t in self.outputs],
            "effects": self.effects,
            "rules": list(self.rules),
            "stats": self.stats,
            "environment": self.environment,
            "started": self.started,
            "ended": self.ended,
            "cache_key": self.cache_key,
            "reaches": [["blob", ref["id"]] for ref in self.effects.values() if ref is not None],
        }

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> LineageRecord:
        op = doc["operator"]
        return cls(
            OperatorRef(str(op["name"]), str(op["version"]), str(op["kind"]), str(op["code_hash"]), str(op["source"])),
            dict(doc["config"]),
            str(doc["config_hash"]),
            tuple(TableRef.from_json(t) for t in doc["inputs"]),
            tuple(TableRef.from_json(t) for t in doc["outputs"]),
            dict(doc["effects"]),
            tuple(doc.get("rules", [])),
            dict(doc.get("stats", {})),
            dict(doc.get("environment", {})),
            str(doc["started"]),
            str(doc["ended"]),
        )


def cache_key(name: str, version: str, config_hash: str, input_tables: list[str], output_paths: list[str]) -> str:
    """What makes two runs interchangeable: operator, version, config, the input table ids and
    the output paths, both in run order (so for a dataset, which shard goes where)."""
    doc = {"operator": name, "version": version, "config": config_hash, "inputs": input_tables, "outputs": output_paths}
    return object_id(canonical_json(doc))


def environment(requires: tuple[str, ...]) -> dict[str, Any]:
    """Python and the versions of the packages a run's output depends on (installed ones)."""
    packages = {}
    for name in (*BASE_PACKAGES, *requires):
        try:
            packages[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return {"python": platform.python_version(), "implementation": platform.python_implementation(), "platform": platform.platform(), "packages": packages}


def write_record(repo: Repo, record: LineageRecord) -> ObjectId:
    """Store the record and log it (the log line is one small O_APPEND write: atomic)."""
    oid = repo.store.put_meta(record.to_json())
    log = repo.cgit / LOG
    log.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, f"{oid} {record.cache_key}\n".encode())
    finally:
        os.close(fd)
    return oid


def read_record(store: ObjectStore, oid: str, needed_by: str | None = None) -> LineageRecord:
    """Load a record; any other object type under that id fails loudly."""
    return LineageRecord.from_json(load_typed(store, oid, LINEAGE, needed_by))


def iter_log(repo: Repo) -> Iterator[tuple[str, str]]:
    """(record id, cache key) of logged runs, newest first; records gc removed are skipped."""
    log = repo.cgit / LOG
    if not log.exists():
        return
    for line in reversed(log.read_text(encoding="ascii").splitlines()):
        parts = line.split()
        if len(parts) == 2 and repo.store.has(parts[0]):
            yield parts[0], parts[1]


def _is_record(store: ObjectStore, oid: str) -> bool:
    try:
        return store.get_meta(oid).get("type") == LINEAGE
    except CorpusGitError:  # chunks and blobs share the id space but are not metadata
        return False


def resolve_record(repo: Repo, text: str) -> ObjectId:
    """A lineage id from a full id or a unique prefix (as ``cgit lineage`` prints them)."""
    text = text.strip().lower()
    if is_object_id(text) and repo.store.has(text):
        candidates = [ObjectId(text)]
    elif len(text) >= MIN_PREFIX and all(c in "0123456789abcdef" for c in text):
        fan = repo.store.root / text[:2]
        names = [p.name for p in fan.iterdir()] if fan.is_dir() else []
        candidates = [ObjectId(text[:2] + n) for n in names if n.startswith(text[2:])]
    else:
        candidates = []
    records = [c for c in candidates if _is_record(repo.store, c)]
    if len(records) == 1:
        return records[0]
    if len(records) > 1:
        raise RevisionNotFound(f"lineage id '{text}' is ambiguous ({len(records)} runs)", hint="use more characters")
    raise RevisionNotFound(f"no lineage record '{text}'", hint="'cgit lineage <path>' lists the runs behind a table, with their ids")


def pending_records(repo: Repo) -> list[str]:
    """Logged runs since HEAD's commit whose outputs are staged exactly as they left them."""
    head = repo.refs.head_commit()
    since = read_commit(repo.store, head).time if head else 0
    already = set(read_commit(repo.store, head).lineage) if head else set()
    entries = repo.read_index().entries
    found = []
    for record_id, _ in iter_log(repo):
        record = read_record(repo.store, record_id)
        if dt.datetime.fromisoformat(record.ended).timestamp() < since:
            break
        if record_id not in already and all(entries.get(o.path) is not None and entries[o.path].id == o.table for o in record.outputs):
            found.append(record_id)
    return found
