"""Corpus operators: the API to write one (``MapOperator``, ``FilterOperator``,
``GlobalOperator`` or the ``operator`` decorator), the built-ins, and the engine that runs them.

See ``docs/operators.md``. ``cgit run`` is ``corpusgit.lineage.run.run_step``.
"""

from corpusgit.ops.base import (
    Derived,
    FilterOperator,
    GlobalOperator,
    MapOperator,
    NoConfig,
    Operator,
    OperatorFailed,
    RowIds,
    Verdict,
    operator,
)

__all__ = [
    "Derived", "FilterOperator", "GlobalOperator", "MapOperator", "NoConfig", "Operator",
    "OperatorFailed", "RowIds", "Verdict", "operator",
]
