"""``filter-expr``: keep rows matching a pyarrow compute expression, or a SQL condition (DuckDB).

Expressions are written in Python syntax and translated node by node into ``pyarrow.compute``
expressions, never evaluated as Python::

    score > 0.5 and lang in ["en", "zh"] and utf8_length(text) >= 200

Names are columns, calls are pyarrow compute functions (``match_substring(text,
pattern="lorem")``). Rows where the condition is null are dropped, as in SQL. ``sql`` takes a
DuckDB ``WHERE`` condition instead, with the ``duckdb`` extra installed.
"""

from __future__ import annotations

import ast
import functools
import operator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from corpusgit.errors import BadInput, CorpusGitError
from corpusgit.ops.base import FilterOperator, RowIds, Verdict

_ROW = "__cgit_position"  # temporary column naming batch positions in the SQL query
_COMPARE: dict[type[ast.cmpop], Any] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt,
    ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
}
_ARITH = {ast.Add: "add", ast.Sub: "subtract", ast.Mult: "multiply", ast.Div: "divide"}


@dataclass(frozen=True, slots=True)
class ExprConfig:
    expr: str | None = None
    sql: str | None = None

    def __post_init__(self) -> None:
        if (self.expr is None) == (self.sql is None):
            raise ValueError("set exactly one of 'expr' (pyarrow compute, Python syntax) or 'sql' (DuckDB WHERE condition)")
        if self.expr is not None:
            parse_expression(self.expr)


class FilterExpr(FilterOperator[ExprConfig]):
    """Keep rows where a pyarrow compute expression (or a DuckDB SQL condition) is true."""

    name = "filter-expr"
    version = "1"
    Config = ExprConfig
    rules = ("expression_false",)
    requires = ("duckdb",)  # recorded in lineage when installed

    def __init__(self, config: ExprConfig) -> None:
        super().__init__(config)
        self._expression = parse_expression(config.expr) if config.expr is not None else None
        if config.sql is not None:
            try:
                import duckdb
            except ImportError as exc:
                raise CorpusGitError("filter-expr with 'sql' needs DuckDB", hint="install it with: pip install 'corpusgit[duckdb]'") from exc
            self._duckdb = duckdb.connect()

    def apply(self, batch: pa.RecordBatch, rows: RowIds) -> Verdict:
        keep = self._sql_mask(batch) if self._expression is None else self._expr_mask(batch)
        return Verdict(keep, np.where(keep, -1, 0).astype(np.int32))

    def _expr_mask(self, batch: pa.RecordBatch) -> np.ndarray:
        import pyarrow.dataset as ds

        assert self._expression is not None
        try:
            result = ds.dataset(pa.Table.from_batches([batch])).to_table(columns={"keep": self._expression})
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
            raise BadInput(f"filter-expr: cannot evaluate {self.config.expr!r}: {str(exc).splitlines()[0]}", hint=f"columns are: {', '.join(batch.schema.names)}") from exc
        column = result.column("keep")
        if not pa.types.is_boolean(column.type):
            raise BadInput(f"filter-expr: {self.config.expr!r} gives {column.type}, not true/false", hint="compare it with something, e.g. 'score > 0.5'")
        mask: np.ndarray = pc.fill_null(column, False).to_numpy(zero_copy_only=False)
        return mask

    def _sql_mask(self, batch: pa.RecordBatch) -> np.ndarray:
        table = pa.Table.from_batches([batch]).append_column(_ROW, pa.array(np.arange(batch.num_rows)))
        self._duckdb.register("batch", table)
        try:
            found = self._duckdb.execute(f"SELECT {_ROW} FROM batch WHERE {self.config.sql}").fetchnumpy()[_ROW]
        except Exception as exc:  # duckdb's error classes vary by release; all are user input errors here
            raise BadInput(f"filter-expr: SQL condition {self.config.sql!r} failed: {str(exc).splitlines()[0]}", hint="the table is called 'batch'; columns are: " + ", ".join(batch.schema.names)) from exc
        finally:
            self._duckdb.unregister("batch")
        keep = np.zeros(batch.num_rows, dtype=bool)
        keep[np.asarray(found, dtype=np.int64)] = True
        return keep


def parse_expression(text: str) -> pc.Expression:
    """Translate Python-syntax ``text`` into a pyarrow compute expression."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise BadInput(f"filter-expr: cannot parse {text!r}: {exc.msg}", hint="write it like Python: score > 0.5 and lang == 'en'") from exc
    value = _build(tree.body, text)
    if not isinstance(value, pc.Expression):
        raise BadInput(f"filter-expr: {text!r} does not use any column", hint="name a column, e.g. 'score > 0.5'")
    return value


def _build(node: ast.AST, text: str) -> Any:
    if isinstance(node, ast.Name):
        return pc.field(node.id)
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_build(e, text) for e in node.elts]
    if isinstance(node, ast.BoolOp):
        parts = [_build(v, text) for v in node.values]
        return functools.reduce(operator.and_ if isinstance(node.op, ast.And) else operator.or_, parts)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        return ~_build(node.operand, text)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _build(node.operand, text)
        return -inner if not isinstance(inner, pc.Expression) else pc.negate(inner)
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITH:
        return getattr(pc, _ARITH[type(node.op)])(_build(node.left, text), _build(node.right, text))
    if isinstance(node, ast.Compare):
        return _compare(node, text)
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
        try:
            pc.get_function(node.func.id)
        except pa.ArrowKeyError:
            raise BadInput(f"filter-expr: {node.func.id}() is not a pyarrow compute function", hint="see pyarrow.compute, e.g. utf8_length(text) > 100") from None
        args = [_build(a, text) for a in node.args]
        kwargs = {k.arg: _build(k.value, text) for k in node.keywords if k.arg}
        return getattr(pc, node.func.id)(*args, **kwargs)
    raise BadInput(f"filter-expr: unsupported syntax in {text!r}: {ast.unparse(node)}", hint="use columns, constants, comparisons, and/or/not, + - * /, 'in [...]' and pyarrow compute functions")


def _compare(node: ast.Compare, text: str) -> Any:
    left = _build(node.left, text)
    parts = []
    for op, right_node in zip(node.ops, node.comparators):
        right = _build(right_node, text)
        if isinstance(op, (ast.In, ast.NotIn)):
            if not isinstance(left, pc.Expression) or not isinstance(right, list):
                raise BadInput(f"filter-expr: 'in' needs a column on the left and a list on the right in {text!r}", hint="e.g. lang in ['en', 'zh']")
            test = left.isin(right)
            parts.append(~test if isinstance(op, ast.NotIn) else test)
        elif type(op) in _COMPARE:
            parts.append(_COMPARE[type(op)](left, right))
        else:
            raise BadInput(f"filter-expr: unsupported comparison in {text!r}", hint="use == != < <= > >= in, not in")
        left = right
    return functools.reduce(operator.and_, parts)
