"""Quality reports: every check's result on every table, stored as an object linked from the
commit (``Commit.report``), so "what did the gates say about this version" is part of history.

Canonical JSON like every metadata object (``{"type": "report", ...}``); this module imports
neither pyarrow nor numpy, so ``cgit show`` and ``cgit log`` stay light.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from corpusgit.errors import QualityCheckFailed
from corpusgit.objects import load_typed
from corpusgit.quality.api import Measure
from corpusgit.store.canonical import ObjectId
from corpusgit.store.objects import ObjectStore

REPORT_FORMAT = 1
PASS, FAIL, WARN, ERROR, SKIP = "pass", "fail", "warn", "error", "skip"
BLOCKING = frozenset({FAIL, ERROR})


@dataclass(frozen=True, slots=True)
class Sample:
    """An offending row: its identity (``_cgit_row``, and key values when the table has a
    key), an excerpt of the checked text, and what is wrong with it."""

    row: int
    row_id: str
    key: str | None
    excerpt: str
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "row_id": self.row_id, "key": self.key, "excerpt": self.excerpt, "note": self.note}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Sample:
        return cls(int(doc["row"]), str(doc["row_id"]), doc.get("key"), str(doc["excerpt"]), str(doc.get("note", "")))


@dataclass(frozen=True, slots=True)
class CheckResult:
    check: str  # the id from cgit.toml
    kind: str  # the implementation (built-in name, plugin, python, command)
    path: str
    severity: str
    status: str  # pass | fail | warn | error | skip
    measures: tuple[Measure, ...] = ()
    message: str = ""
    samples: tuple[Sample, ...] = ()
    offending: int = 0  # offending rows in total (samples shows a few)
    hint: str | None = None
    required: bool = False
    seconds: float = 0.0

    @property
    def blocking(self) -> bool:
        return self.status in BLOCKING

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check, "kind": self.kind, "path": self.path, "severity": self.severity, "status": self.status,
            "measures": [m.to_json() for m in self.measures], "message": self.message,
            "samples": [s.to_json() for s in self.samples], "offending": self.offending, "hint": self.hint,
            "required": self.required, "seconds": round(self.seconds, 3),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> CheckResult:
        return cls(
            str(doc["check"]), str(doc["kind"]), str(doc["path"]), str(doc["severity"]), str(doc["status"]),
            tuple(Measure.from_json(m) for m in doc.get("measures", [])), str(doc.get("message", "")),
            tuple(Sample.from_json(s) for s in doc.get("samples", [])), int(doc.get("offending", 0)), doc.get("hint"),
            bool(doc.get("required", False)), float(doc.get("seconds", 0.0)),
        )


@dataclass(frozen=True, slots=True)
class TableRun:
    """Which table versions a report covers, and how much fact work each took."""

    path: str
    table: str | None  # table id (None for a plain file)
    parent: str | None
    rows: int

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "table": self.table, "parent": self.parent, "rows": self.rows}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> TableRun:
        return cls(str(doc["path"]), doc.get("table"), doc.get("parent"), int(doc["rows"]))


@dataclass(frozen=True, slots=True)
class Report:
    stage: str
    target: str | None
    tables: tuple[TableRun, ...]
    results: tuple[CheckResult, ...]
    chunks_computed: int = 0
    chunks_cached: int = 0
    seconds: float = 0.0
    skipped: bool = False  # --no-verify: only a protected branch's required checks ran

    @property
    def outcome(self) -> str:
        """failed (something blocks), warned, or passed."""
        if any(r.blocking for r in self.results):
            return "failed"
        if any(r.status == WARN for r in self.results):
            return "warned"
        return "passed"

    @property
    def blocked(self) -> bool:
        return self.outcome == "failed"

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for r in self.results:
            out[r.status] = out.get(r.status, 0) + 1
        return out

    def summary(self) -> str:
        """One line: ``passed: 9 checks on 2 tables (1 warn, 1 skip)``."""
        counts = self.counts()
        detail = ", ".join(f"{n} {s}" for s, n in sorted(counts.items()) if s != PASS)
        tables = len(self.tables)
        line = f"{self.outcome}: {len(self.results)} check result(s) on {tables} table{'s' if tables != 1 else ''}"
        return line + (f" ({detail})" if detail else "")

    def to_json(self) -> dict[str, Any]:
        return {
            "type": "report", "format": REPORT_FORMAT, "stage": self.stage, "target": self.target,
            "outcome": self.outcome, "skipped": self.skipped,
            "tables": [t.to_json() for t in self.tables], "results": [r.to_json() for r in self.results],
            "chunks": {"computed": self.chunks_computed, "cached": self.chunks_cached}, "seconds": round(self.seconds, 3),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Report:
        chunks = doc.get("chunks", {})
        return cls(
            str(doc["stage"]), doc.get("target"), tuple(TableRun.from_json(t) for t in doc.get("tables", [])),
            tuple(CheckResult.from_json(r) for r in doc.get("results", [])),
            int(chunks.get("computed", 0)), int(chunks.get("cached", 0)), float(doc.get("seconds", 0.0)), bool(doc.get("skipped", False)),
        )

    def store(self, store: ObjectStore) -> ObjectId:
        return store.put_meta(self.to_json())


def read_report(store: ObjectStore, oid: str, needed_by: str | None = None) -> Report:
    return Report.from_json(load_typed(store, oid, "report", needed_by))


class ChecksFailed(QualityCheckFailed):
    """Blocking checks failed; ``report`` holds every result so the CLI can show the table."""

    def __init__(self, report: Report, blocking: bool = True) -> None:
        """``blocking``: the report stopped a commit or merge (else ``cgit check`` only reports)."""
        bad = [r for r in report.results if r.blocking]
        names = ", ".join(f"{r.check} on {r.path}" for r in bad[:3]) + (f" and {len(bad) - 3} more" if len(bad) > 3 else "")
        action = "merge" if report.stage == "pre-merge" else "commit"
        if not blocking:
            message, hint = f"{report.stage} checks failed: {names}", "fix the rows shown above, or change the thresholds in cgit.toml"
        elif any(r.required for r in bad):
            message, hint = f"{report.stage} checks blocked the {action}: {names}", "required by [branches] in cgit.toml, so --no-verify cannot skip it; fix the rows shown above"
        else:
            message = f"{report.stage} checks blocked the {action}: {names}"
            hint = f"fix the rows shown above, change the threshold in cgit.toml, or {action} with --no-verify (recorded in history)"
        super().__init__(message, hint=hint)
        self.report = report
