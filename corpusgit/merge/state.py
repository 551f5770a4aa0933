"""Merge state between ``cgit merge`` stopping on conflicts and ``--continue``/``--abort``.

Everything lives in ``.cgit/MERGE_STATE`` (one JSON file written atomically), so a crash leaves
either no merge in progress or a complete record of one.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from corpusgit.store.atomic import write_atomic

STATE_FILE = "MERGE_STATE"


@dataclass
class PathConflict:
    """One conflicted path: the three versions and what clashed."""

    kind: str  # rows | schema | blob | delete | kind
    base: str | None
    ours: str | None
    theirs: str | None
    count: int = 0
    conflicts: str | None = None  # blob id of the conflict rows (Parquet), for row conflicts
    detail: str = ""
    ours_kind: str | None = None
    theirs_kind: str | None = None


@dataclass
class MergeState:
    operation: str  # merge | revert | cherry-pick
    theirs: str
    orig_head: str
    message: str
    second_parent: bool
    conflicts: dict[str, PathConflict] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        doc = asdict(self)
        return doc

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> MergeState:
        conflicts = {p: PathConflict(**c) for p, c in doc.pop("conflicts").items()}
        return cls(conflicts=conflicts, **doc)


def read_state(cgit: Path) -> MergeState | None:
    path = cgit / STATE_FILE
    if not path.exists():
        return None
    return MergeState.from_json(json.loads(path.read_text(encoding="utf-8")))


def write_state(cgit: Path, state: MergeState) -> None:
    write_atomic(cgit / STATE_FILE, json.dumps(state.to_json(), indent=1, sort_keys=True).encode())


def clear_state(cgit: Path) -> None:
    (cgit / STATE_FILE).unlink(missing_ok=True)
