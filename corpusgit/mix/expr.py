"""Filter expressions for mix sources: a small, safe language compiled to pyarrow expressions.

Why not ``eval`` or pyarrow's own syntax: a mix spec travels between people and machines, so a
filter must not run arbitrary code, must be canonical (``n>5`` and ``n > 5`` are one mix), and a
typo must be reported at the exact column where it happens.

Grammar (keywords are case-sensitive, lower case)::

    expr   := and ("or" and)*
    and    := not ("and" not)*
    not    := "not" not | cmp
    cmp    := sum [("==" | "!=" | "<" | "<=" | ">" | ">=") sum
                   | ["not"] "in" "[" literal ("," literal)* "]"
                   | "is" ["not"] "null"]
    sum    := prod (("+" | "-") prod)*
    prod   := unary (("*" | "/") unary)*
    unary  := "-" unary | atom
    atom   := number | string | "true" | "false" | "null" | column | call | "(" expr ")"
    column := identifier | `any name in backticks`
    call   := function "(" column-expression ["," string] ")"

Comparisons with a null cell are null, and a row whose filter is null is dropped (SQL rules).
``/`` is true division. Functions: ``len(x)`` (characters), ``lower(x)``, ``upper(x)``,
``contains(x, "s")``, ``startswith(x, "s")``, ``endswith(x, "s")``, ``matches(x, "regex")``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Union

from corpusgit.errors import BadInput

if TYPE_CHECKING:
    import pyarrow.compute as pc

_TOKEN = re.compile(
    r"""(?P<ws>\s+)
      | (?P<number>\d+(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
      | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
      | (?P<quoted>`[^`]+`)
      | (?P<name>[A-Za-z_][A-Za-z0-9_.]*)
      | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,|\+|-|\*|/)
    """,
    re.VERBOSE,
)
_KEYWORDS = {"and", "or", "not", "in", "is", "null", "true", "false"}
_COMPARE = {"==": "equal", "!=": "not_equal", "<": "less", "<=": "less_equal", ">": "greater", ">=": "greater_equal"}
_ARITH = {"+": "add", "-": "subtract", "*": "multiply", "/": "divide"}
_UNARY_FUNCS = {"len": "utf8_length", "lower": "utf8_lower", "upper": "utf8_upper"}
_PATTERN_FUNCS = {"contains": "match_substring", "startswith": "starts_with", "endswith": "ends_with", "matches": "match_substring_regex"}

Literal = Union[str, int, float, bool, None]


class FilterSyntaxError(BadInput):
    """A filter that does not parse; ``column`` is 1-based, for editors and the CLI caret."""

    def __init__(self, text: str, column: int, problem: str, source: str) -> None:
        where = f"filter of source '{source}'" if source else "filter"
        marked = text[: column - 1] + "▸" + text[column - 1:]
        super().__init__(f"{where} does not parse at column {column}: {problem}", hint=f"here: {marked!r}  (text values need quotes: lang == \"en\")")
        self.column = column


@dataclass(frozen=True, slots=True)
class Node:
    """One node of the parsed filter: an operator (or function) over children, or a leaf."""

    op: str  # "col", "lit", "list", a comparison/arithmetic symbol, "and", "or", "not", "in", "is_null", or a function name
    args: tuple[Node, ...] = ()
    value: Literal | tuple[Literal, ...] = None

    def canonical(self) -> str:
        """Fully parenthesised text; equal filters (up to spacing and redundant parentheses)
        print equally, so they give the same mix id."""
        if self.op == "col":
            return f"`{self.value}`"
        if self.op == "lit":
            return _literal_text(self.value)  # type: ignore[arg-type]
        if self.op == "list":
            assert isinstance(self.value, tuple)
            return "[" + ", ".join(_literal_text(v) for v in self.value) + "]"
        if self.op == "not":
            return f"(not {self.args[0].canonical()})"
        if self.op == "is_null":
            return f"({self.args[0].canonical()} is null)"
        if self.op in _UNARY_FUNCS or self.op in _PATTERN_FUNCS:
            return f"{self.op}(" + ", ".join(a.canonical() for a in self.args) + ")"
        return f"({self.args[0].canonical()} {self.op} {self.args[1].canonical()})"

    def columns(self) -> set[str]:
        """Every column the filter reads, so a scan can project just those."""
        found = {str(self.value)} if self.op == "col" else set()
        for a in self.args:
            found |= a.columns()
        return found

    def compile(self) -> pc.Expression:
        """The pyarrow expression; evaluating it needs a table with ``columns()``."""
        import pyarrow as pa
        import pyarrow.compute as pc

        if self.op == "col":
            return pc.field(str(self.value))
        if self.op == "lit":
            return pc.scalar(self.value)
        if self.op == "not":
            return pc.invert(self.args[0].compile())
        if self.op == "is_null":
            return pc.is_null(self.args[0].compile())
        if self.op == "in":
            assert isinstance(self.args[1].value, tuple)
            value = self.args[0].compile()
            found = pc.is_in(value, value_set=pa.array(list(self.args[1].value)))
            return pc.if_else(pc.is_null(value), pc.scalar(pa.scalar(None, pa.bool_())), found)  # SQL: null in [...] is null
        if self.op in ("and", "or"):
            join = pc.and_kleene if self.op == "and" else pc.or_kleene
            return join(self.args[0].compile(), self.args[1].compile())
        if self.op in _COMPARE:
            compare: Callable[..., pc.Expression] = getattr(pc, _COMPARE[self.op])
            return compare(self.args[0].compile(), self.args[1].compile())
        if self.op == "/":
            return pc.divide(self.args[0].compile().cast(pa.float64()), self.args[1].compile().cast(pa.float64()))
        if self.op in _ARITH:
            arith: Callable[..., pc.Expression] = getattr(pc, _ARITH[self.op] + "_checked")
            return arith(self.args[0].compile(), self.args[1].compile())
        if self.op in _UNARY_FUNCS:
            unary: Callable[..., pc.Expression] = getattr(pc, _UNARY_FUNCS[self.op])
            return unary(self.args[0].compile())
        pattern = self.args[1].value
        func: Callable[..., pc.Expression] = getattr(pc, _PATTERN_FUNCS[self.op])
        return func(self.args[0].compile(), pattern=pattern)


def _literal_text(value: Literal) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    return repr(value)


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # "number", "string", "name", "quoted", "op", "end"
    text: str
    col: int  # 1-based column of the token's first character


def parse_filter(text: str, source: str = "") -> Node:
    """Parse a filter; errors name the source and point at the column."""
    return _Parser(text, source).parse()


class _Parser:
    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.source = source
        self.toks = self._tokenize()
        self.i = 0

    def _fail(self, tok: _Tok, problem: str) -> FilterSyntaxError:
        return FilterSyntaxError(self.text, tok.col, problem, self.source)

    def _tokenize(self) -> list[_Tok]:
        toks: list[_Tok] = []
        pos = 0
        while pos < len(self.text):
            m = _TOKEN.match(self.text, pos)
            if m is None:
                raise FilterSyntaxError(self.text, pos + 1, f"unexpected character {self.text[pos]!r}", self.source)
            kind = m.lastgroup or ""
            if kind != "ws":
                toks.append(_Tok(kind, m.group(), pos + 1))
            pos = m.end()
        toks.append(_Tok("end", "", len(self.text) + 1))
        return toks

    def _peek(self) -> _Tok:
        return self.toks[self.i]

    def _take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def _is(self, *words: str) -> bool:
        tok = self._peek()
        return tok.kind in ("op", "name") and tok.text in words

    def _expect(self, word: str, what: str) -> _Tok:
        if not self._is(word):
            raise self._fail(self._peek(), f"expected {what}, got {_describe(self._peek())}")
        return self._take()

    def parse(self) -> Node:
        if self._peek().kind == "end":
            raise self._fail(self._peek(), "the filter is empty")
        node = self._or()
        if self._peek().kind != "end":
            raise self._fail(self._peek(), f"unexpected {_describe(self._peek())} after a complete expression")
        return node

    def _or(self) -> Node:
        node = self._and()
        while self._is("or"):
            self._take()
            node = Node("or", (node, self._and()))
        return node

    def _and(self) -> Node:
        node = self._not()
        while self._is("and"):
            self._take()
            node = Node("and", (node, self._not()))
        return node

    def _not(self) -> Node:
        if self._is("not"):
            self._take()
            return Node("not", (self._not(),))
        return self._cmp()

    def _cmp(self) -> Node:
        left = self._sum()
        tok = self._peek()
        if tok.kind == "op" and tok.text in _COMPARE:
            self._take()
            return Node(tok.text, (left, self._sum()))
        if self._is("in"):
            self._take()
            return Node("in", (left, self._list()))
        if self._is("not") and self.toks[self.i + 1].text == "in":
            self.i += 2
            return Node("not", (Node("in", (left, self._list())),))
        if self._is("is"):
            self._take()
            negate = self._is("not")
            if negate:
                self._take()
            self._expect("null", "'null' after 'is'")
            node = Node("is_null", (left,))
            return Node("not", (node,)) if negate else node
        return left

    def _list(self) -> Node:
        self._expect("[", "'[' to start a list of values")
        values: list[Literal] = [self._literal()]
        while self._is(","):
            self._take()
            values.append(self._literal())
        self._expect("]", "',' or ']' in the list")
        return Node("list", value=tuple(values))

    def _literal(self) -> Literal:
        negative = self._is("-")
        if negative:
            self._take()
        node = self._atom()
        if node.op != "lit" or (negative and not isinstance(node.value, (int, float))):
            raise self._fail(self.toks[self.i - 1], "lists may hold only literal values")
        value = node.value
        assert not isinstance(value, tuple)
        return -value if negative and isinstance(value, (int, float)) else value

    def _sum(self) -> Node:
        node = self._prod()
        while self._is("+", "-"):
            op = self._take().text
            node = Node(op, (node, self._prod()))
        return node

    def _prod(self) -> Node:
        node = self._unary()
        while self._is("*", "/"):
            op = self._take().text
            node = Node(op, (node, self._unary()))
        return node

    def _unary(self) -> Node:
        if self._is("-"):
            self._take()
            inner = self._unary()
            if inner.op == "lit" and isinstance(inner.value, (int, float)) and not isinstance(inner.value, bool):
                return Node("lit", value=-inner.value)
            return Node("-", (Node("lit", value=0), inner))
        return self._atom()

    def _atom(self) -> Node:
        tok = self._take()
        if tok.kind == "number":
            number: int | float = float(tok.text) if any(c in tok.text for c in ".eE") else int(tok.text)
            return Node("lit", value=number)
        if tok.kind == "string":
            return Node("lit", value=_unquote(tok, self))
        if tok.kind == "quoted":
            return Node("col", value=tok.text[1:-1])
        if tok.kind == "op" and tok.text == "(":
            node = self._or()
            self._expect(")", "')'")
            return node
        if tok.kind == "name":
            if tok.text in ("true", "false"):
                return Node("lit", value=tok.text == "true")
            if tok.text == "null":
                return Node("lit", value=None)
            if tok.text in _KEYWORDS:
                raise self._fail(tok, f"expected a value, got keyword '{tok.text}'")
            if self._is("("):
                return self._call(tok)
            return Node("col", value=tok.text)
        raise self._fail(tok, f"expected a value, got {_describe(tok)}")

    def _call(self, name: _Tok) -> Node:
        if name.text not in _UNARY_FUNCS and name.text not in _PATTERN_FUNCS:
            known = ", ".join(sorted([*_UNARY_FUNCS, *_PATTERN_FUNCS]))
            raise self._fail(name, f"unknown function '{name.text}' (known: {known})")
        self._take()
        arg = self._or()
        if name.text in _UNARY_FUNCS:
            self._expect(")", f"')' after the argument of {name.text}()")
            return Node(name.text, (arg,))
        self._expect(",", f"',' and a quoted pattern in {name.text}(column, \"pattern\")")
        tok = self._peek()
        if tok.kind != "string":
            raise self._fail(tok, f"the pattern of {name.text}() must be a quoted string")
        self._take()
        pattern = Node("lit", value=_unquote(tok, self))
        self._expect(")", f"')' after the pattern of {name.text}()")
        return Node(name.text, (arg, pattern))


def _unquote(tok: _Tok, parser: _Parser) -> str:
    body = tok.text[1:-1]
    if tok.text[0] == "'":
        body = body.replace('\\"', '"').replace("\\'", "'").replace('"', '\\"')
    try:
        value = json.loads(f'"{body}"')
    except ValueError:
        raise parser._fail(tok, "bad escape in string") from None
    assert isinstance(value, str)
    return value


def _describe(tok: _Tok) -> str:
    return "the end of the filter" if tok.kind == "end" else f"'{tok.text}'"
