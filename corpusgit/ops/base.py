"""The operator API: a name, a version, a typed config and a streaming ``apply``.

Three kinds cover corpus work. A *map* keeps one output row per input row (or says which input
row each output row came from, through ``Derived``); a *filter* says which rows to keep, and why
not; a *global* operator (dedup) sees every row once in ``observe`` before it decides in
``apply``. The engine owns batching, row identity, timing and the row effects recorded in
lineage, so an operator is only the transformation (DataTrove's ``BaseFilter`` split, with
Arrow batches instead of one document at a time).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np
import pyarrow as pa

from corpusgit.errors import CorpusGitError

MAP, FILTER, GLOBAL = "map", "filter", "global"
NO_RULE = -1  # rule code of kept rows, and of rows an operator dropped without naming a rule

C = TypeVar("C")


class OperatorFailed(CorpusGitError):
    """An operator raised or broke its contract; nothing of its output was staged."""


@dataclass(frozen=True, slots=True)
class NoConfig:
    """The config of operators that take no settings."""


@dataclass(frozen=True, slots=True)
class RowIds:
    """The ``_cgit_row`` identities of one batch, as two uint64 lanes, and where it starts.

    Operators that must be deterministic per row (``sample``) or remember rows across batches
    (dedup) use these instead of positions, which change when the input is re-sharded.
    """

    hi: np.ndarray
    lo: np.ndarray
    start: int

    def __len__(self) -> int:
        return len(self.hi)


@dataclass(frozen=True, slots=True)
class Verdict:
    """A filter's decision for one batch.

    ``rule`` gives, per input row, the index in ``Operator.rules`` of the rule that dropped it
    (``NO_RULE`` for kept rows). ``duplicate_of`` gives, per input row, the lanes of the kept row
    it duplicates (only read where the row is dropped).
    """

    keep: np.ndarray
    rule: np.ndarray | None = None
    duplicate_of: tuple[np.ndarray, np.ndarray] | None = None

    @classmethod
    def first_failing(cls, failing: Sequence[np.ndarray], n: int) -> Verdict:
        """Drop rows failing any rule, each charged to the first rule it fails (in rule order),
        so per-rule counts add up to the rows dropped."""
        rule = np.full(n, NO_RULE, dtype=np.int32)
        for code in range(len(failing) - 1, -1, -1):
            rule[np.asarray(failing[code], dtype=bool)] = code
        return cls(rule == NO_RULE, rule)


@dataclass(frozen=True, slots=True)
class Derived:
    """A map result whose rows do not line up one to one with the input.

    ``parent[i]`` is the input row output row ``i`` came from, or -1 for a row made from nothing
    in the input (recorded as *created*). Input rows no output row points to are *dropped*.
    """

    batch: pa.RecordBatch
    parent: np.ndarray


class Operator(Generic[C]):
    """Base of every operator; subclass ``MapOperator``, ``FilterOperator`` or ``GlobalOperator``.

    Class attributes declare the operator: ``name`` (what ``cgit run`` takes), ``version`` (bump
    it when output changes for the same input, so the run-cache stays correct), ``Config`` (a
    frozen dataclass; keys and types are validated before any data is read), ``rules`` (named
    reasons for dropping rows, counted per run), ``requires`` (distributions whose versions are
    recorded in lineage) and ``code_modules`` (helper modules whose source is part of the code
    hash, next to the operator's own module).
    """

    name: ClassVar[str] = ""
    version: ClassVar[str] = "1"
    kind: ClassVar[str] = MAP
    Config: ClassVar[type[Any]] = NoConfig
    rules: ClassVar[tuple[str, ...]] = ()
    requires: ClassVar[tuple[str, ...]] = ()
    code_modules: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: C) -> None:
        self.config = config
        self.counts: Counter[str] = Counter()  # operator-specific counts (e.g. PII kinds), kept in lineage stats

    def apply(self, batch: pa.RecordBatch, rows: RowIds) -> Any:
        """One batch in, the kind's result out (see the subclasses)."""
        raise NotImplementedError

    @classmethod
    def describe(cls) -> str:
        """First line of the docstring: the one-line summary ``cgit run --list`` shows."""
        doc = (cls.__doc__ or "").strip()
        return doc.splitlines()[0] if doc else ""


class MapOperator(Operator[C]):
    """Rewrites batches: same rows in the same order (changed or not), or ``Derived`` rows."""

    kind: ClassVar[str] = MAP

    def apply(self, batch: pa.RecordBatch, rows: RowIds) -> pa.RecordBatch | Derived:
        raise NotImplementedError


class FilterOperator(Operator[C]):
    """Keeps a subset of rows, unchanged; a boolean mask or a ``Verdict`` per batch."""

    kind: ClassVar[str] = FILTER

    def apply(self, batch: pa.RecordBatch, rows: RowIds) -> Verdict | np.ndarray:
        raise NotImplementedError


class GlobalOperator(Operator[C]):
    """A filter that must see all rows first: ``observe`` every batch, then ``apply`` each again.

    The engine streams the input twice instead of materialising it, so memory is whatever state
    the operator keeps between the passes (for dedup: a few bytes per row).
    """

    kind: ClassVar[str] = GLOBAL

    def observe(self, batch: pa.RecordBatch, rows: RowIds) -> None:
        raise NotImplementedError

    def prepare(self) -> None:
        """Called once between the passes (e.g. to cluster near-duplicates)."""

    def apply(self, batch: pa.RecordBatch, rows: RowIds) -> Verdict | np.ndarray:
        raise NotImplementedError


def operator(
    name: str, *, kind: str = MAP, version: str = "1", config: type[Any] = NoConfig, rules: tuple[str, ...] = ()
) -> Callable[[Callable[[pa.RecordBatch, Any], Any]], type[Operator[Any]]]:
    """Turn ``fn(batch, config)`` into a map or filter operator class.

    For small local operators, where a class would be mostly boilerplate::

        @operator("strip", config=StripConfig)
        def strip(batch, config):
            return batch.set_column(...)
    """
    bases: dict[str, type[Operator[Any]]] = {MAP: MapOperator, FILTER: FilterOperator}
    if kind not in bases:
        raise ValueError(f"operator kind must be '{MAP}' or '{FILTER}' for a function, got {kind!r}")

    def wrap(fn: Callable[[pa.RecordBatch, Any], Any]) -> type[Operator[Any]]:
        def apply(self: Operator[Any], batch: pa.RecordBatch, rows: RowIds) -> Any:
            return fn(batch, self.config)

        namespace = {
            "name": name, "version": version, "Config": config, "rules": rules, "apply": apply,
            "__doc__": fn.__doc__, "__module__": fn.__module__, "__qualname__": fn.__qualname__,
        }
        return type(fn.__name__, (bases[kind],), namespace)

    return wrap
