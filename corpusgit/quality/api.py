"""What a check is: the types built-in checks (``hooks/``) and custom checks share.

A check is a function of a ``CheckContext`` returning an ``Outcome``. Built-ins are wrapped in a
``BuiltinCheck`` that also declares typed parameters (validated when ``cgit.toml`` loads, so a
bad threshold fails before any data is read) and the per-chunk facts it will need (computed
for all checks in one parallel pass over the chunks). Custom checks (entry points in the
``corpusgit.checks`` group, or ``python = "file.py:function"`` in ``cgit.toml``) may be plain
functions; they get their parameters unvalidated in ``ctx.params``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from corpusgit.quality.facts import Fact
    from corpusgit.quality.table import TableData

OPS = {"<=": lambda v, lim: v <= lim, ">=": lambda v, lim: v >= lim}


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter of a built-in check, as written in ``cgit.toml``.

    ``type`` is one of: ``int``, ``number``, ``ratio`` (a number in [0, 1]), ``bool``, ``str``,
    ``choice``, ``column``, ``columns``/``names`` (lists of strings), ``kinds`` (list drawn
    from ``choices``), ``ratio_map`` (name -> ratio), ``bounds_map`` (``pNN`` -> {min, max}),
    ``schema`` (list of names, or name -> type), ``file`` (a path that must exist).
    """

    name: str
    type: str
    default: Any = None
    help: str = ""
    choices: tuple[str, ...] = ()
    required: bool = False


@dataclass(frozen=True, slots=True)
class Measure:
    """A metric against its threshold: ``value op limit`` must hold (no limit: informative)."""

    name: str
    value: float
    limit: float | None = None
    op: str = "<="

    @property
    def ok(self) -> bool:
        return self.limit is None or bool(OPS[self.op](self.value, self.limit))

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "value": self.value, "limit": self.limit, "op": self.op}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Measure:
        return cls(str(doc["name"]), float(doc["value"]), None if doc.get("limit") is None else float(doc["limit"]), str(doc.get("op", "<=")))


@dataclass
class Outcome:
    """What a check found. It fails when ``ok`` is False, or (``ok`` unset) when a measure is
    over its limit. ``rows`` are offending logical row numbers; the runner shows the first few
    with ``_cgit_row``/key and an excerpt of ``column`` centred on the first of ``spans(text)``,
    the ``(start, end, label)`` of each offending spot; ``redact`` shows every spot as its label
    instead (reports are kept in history, so they must not copy PII)."""

    measures: Sequence[Measure] = ()
    message: str = ""
    rows: Sequence[int] | Any = ()
    column: str | None = None
    spans: Callable[[str], Sequence[tuple[int, int, str]]] | None = None
    redact: bool = False
    hint: str | None = None
    ok: bool | None = None
    skipped: str | None = None  # why the check did not apply (e.g. no parent version)

    @property
    def passed(self) -> bool:
        if self.ok is not None:
            return self.ok
        return all(m.ok for m in self.measures)


@dataclass
class CheckContext:
    """Everything a check sees: the table version under test, its parent (the same path in
    the commit's parent, or in the merge target), and its parameters."""

    path: str
    params: Mapping[str, Any]
    table: TableData
    parent: TableData | None
    root: Path | None = None  # work-tree (or project) root, for files named in parameters
    stage: str = "pre-commit"


@dataclass(frozen=True, slots=True)
class BuiltinCheck:
    """A check with declared parameters and facts; see ``hooks/`` for the built-ins."""

    name: str
    description: str
    run: Callable[[CheckContext], Outcome]
    params: tuple[Param, ...] = ()
    needs: Callable[[Mapping[str, Any], Sequence[str]], list[Fact]] = field(default=lambda params, columns: [])  # (params, column names)
    parent_needs: Callable[[Mapping[str, Any], Sequence[str]], list[Fact]] = field(default=lambda params, columns: [])
    requires_language: Callable[[Mapping[str, Any]], bool] = field(default=lambda p: False)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}
