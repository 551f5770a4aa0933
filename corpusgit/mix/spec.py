"""The mix spec a user writes (YAML or JSON), validated into frozen dataclasses.

Everything a user can get wrong is caught here, before any data is read, with the key path in
the message (``sources[1].weight``). Numbers that decide the sample sequence (weights, epochs)
become exact fractions, so no float rounding can differ between machines.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

from corpusgit.errors import BadInput
from corpusgit.mix.expr import Node, parse_filter
from corpusgit.mix.model import BLOCK_BYTES, WINDOW_BLOCKS

UNITS = ("rows", "tokens", "bytes")
RULES = ("chars/4", "words")  # built-in token-count rules; anything ending in .json is a tokenizer file
DEFAULT_SHARD_ROWS = 50_000  # ~100 MB of 2 KB documents per materialised shard: big enough for
#                              fast sequential reads, small enough to retry or move one at a time
_TOP_KEYS = {"sources", "seed", "budget", "tokenizer", "text_column", "columns", "shard_rows", "order"}
_ORDER_KEYS = {"block_bytes", "window_blocks"}
_SOURCE_KEYS = {"name", "path", "ref", "weight", "filter", "max_epochs"}
_AMOUNT = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")
_SCALE = {
    "": 1, "k": 10**3, "m": 10**6, "b": 10**9, "g": 10**9, "t": 10**12,
    "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
    "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40,
}


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """One source as written: ``path`` is a table or a directory of tables at ``ref``."""

    name: str
    path: str
    ref: str
    weight: Fraction
    filter: Node | None
    max_epochs: Fraction


@dataclass(frozen=True, slots=True)
class CountRule:
    """How tokens are counted: ``chars/4``, ``words``, or a ``tokenizer.json`` file."""

    rule: str  # "chars/4", "words" or "tokenizer"
    file: Path | None = None


@dataclass(frozen=True, slots=True)
class MixSpec:
    sources: tuple[SourceSpec, ...]
    seed: int
    budget_unit: str
    budget: int
    count: CountRule
    text_column: str
    columns: tuple[str, ...] | None
    shard_rows: int
    block_bytes: int = BLOCK_BYTES
    window_blocks: int = WINDOW_BLOCKS


def load_spec(path: Path) -> MixSpec:
    """Read and validate a spec file; a tokenizer path is relative to the spec's directory."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInput(f"mix spec {path} does not exist", hint="write a YAML spec; see docs/mixes.md for an example") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"cannot read mix spec {path}: {exc}", hint="the spec must be a UTF-8 YAML or JSON file") from None
    return parse_spec(_parse_document(raw, path), base=path.parent)


def _parse_document(raw: str, path: Path) -> Any:
    if path.suffix == ".json":
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise BadInput(f"{path} is not valid JSON: {exc}", hint="check commas and quotes at that line") from None
    import yaml  # loaded only when a YAML spec is read: JSON specs and readers never need it

    try:
        return yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        raise BadInput(f"{path} is not valid YAML{where}: {getattr(exc, 'problem', None) or exc}", hint="check indentation and quoting there") from None


def parse_spec(doc: Any, base: Path = Path(".")) -> MixSpec:
    """Validate a parsed spec document (a dict, as YAML or JSON gives it)."""
    if not isinstance(doc, dict):
        raise BadInput("a mix spec must be a mapping with 'sources' and 'budget'", hint="see docs/mixes.md for an example spec")
    _check_keys(doc, _TOP_KEYS, "spec")
    raw_sources = doc.get("sources")
    if not isinstance(raw_sources, list) or not raw_sources:
        raise BadInput("the spec has no sources", hint="add 'sources:' with at least one '- path: ... weight: ...' entry")
    sources = tuple(_source(s, i) for i, s in enumerate(raw_sources))
    names = [s.name for s in sources]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise BadInput(f"two sources are named '{dup}'", hint="give each source a distinct 'name:'")
    total = sum((s.weight for s in sources), Fraction(0))
    if total <= 0:
        raise BadInput("source weights sum to 0; they must sum to a positive number", hint="give at least one source a weight above 0")
    unit, amount = _budget(doc.get("budget"))
    seed = doc.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or seed < 0:
        raise BadInput(f"seed must be a non-negative integer, got {seed!r}", hint="for example: seed: 42")
    columns = doc.get("columns")
    if columns is not None and (not isinstance(columns, list) or not columns or not all(isinstance(c, str) for c in columns)):
        raise BadInput("columns must be a list of column names", hint="for example: columns: [id, text]")
    text_column = doc.get("text_column", "text")
    if not isinstance(text_column, str) or not text_column:
        raise BadInput("text_column must be a column name", hint="for example: text_column: text")
    shard_rows = doc.get("shard_rows", DEFAULT_SHARD_ROWS)
    if not isinstance(shard_rows, int) or isinstance(shard_rows, bool) or shard_rows <= 0:
        raise BadInput(f"shard_rows must be a positive integer, got {shard_rows!r}", hint=f"for example: shard_rows: {DEFAULT_SHARD_ROWS}")
    block_bytes, window_blocks = _order(doc.get("order", {}))
    return MixSpec(sources, seed, unit, amount, _count_rule(doc.get("tokenizer", "chars/4"), base), text_column,
                   tuple(columns) if columns is not None else None, shard_rows, block_bytes, window_blocks)


def _order(raw: Any) -> tuple[int, int]:
    """Shuffle granularity: smaller blocks and more of them per window mix a source's regions
    more finely, at the cost of reading more chunks per window and holding more in memory."""
    if not isinstance(raw, dict):
        raise BadInput("order must be a mapping", hint="for example: order: {block_bytes: 8MiB, window_blocks: 4}")
    _check_keys(raw, _ORDER_KEYS, "order")
    block_bytes = parse_amount(raw.get("block_bytes", BLOCK_BYTES), "order.block_bytes")
    window_blocks = raw.get("window_blocks", WINDOW_BLOCKS)
    if block_bytes <= 0 or not isinstance(window_blocks, int) or isinstance(window_blocks, bool) or window_blocks <= 0:
        raise BadInput("order.block_bytes and order.window_blocks must be positive", hint="for example: order: {block_bytes: 8MiB, window_blocks: 4}")
    return block_bytes, window_blocks


def _check_keys(doc: dict[str, Any], allowed: set[str], where: str) -> None:
    for key in doc:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
            hint = f"did you mean '{close[0]}'?" if close else "allowed keys: " + ", ".join(sorted(allowed))
            raise BadInput(f"unknown key '{key}' in {where}", hint=hint)


def _source(raw: Any, i: int) -> SourceSpec:
    where = f"sources[{i}]"
    if not isinstance(raw, dict):
        raise BadInput(f"{where} must be a mapping", hint="each source needs at least 'path:' and 'weight:'")
    _check_keys(raw, _SOURCE_KEYS, where)
    path = raw.get("path")
    if not isinstance(path, str) or not path.strip("/"):
        raise BadInput(f"{where} has no path", hint="path: names a table or a directory of tables, e.g. data/web")
    path = path.strip("/")
    name = raw.get("name", path)
    if not isinstance(name, str) or not name:
        raise BadInput(f"{where}.name must be a non-empty string", hint="for example: name: web")
    ref = raw.get("ref", "HEAD")
    if not isinstance(ref, str) or not ref:
        raise BadInput(f"{where}.ref must be a branch, tag or commit id", hint="for example: ref: main")
    if "weight" not in raw:
        raise BadInput(f"{where} ('{name}') has no weight", hint="weights are relative: 3 and 1 mean 75% and 25%")
    weight = _number(raw["weight"], f"{where}.weight")
    if weight < 0:
        raise BadInput(f"{where}.weight is negative ({raw['weight']})", hint="weights must be 0 or more")
    max_epochs = _number(raw.get("max_epochs", 1), f"{where}.max_epochs")
    if max_epochs <= 0:
        raise BadInput(f"{where}.max_epochs must be positive", hint="1 means each row at most once; 2.5 allows upsampling")
    text = raw.get("filter")
    if text is not None and not isinstance(text, str):
        raise BadInput(f"{where}.filter must be a string", hint="quote it in YAML: filter: 'lang == \"en\"'")
    return SourceSpec(name, path, ref, weight, parse_filter(text, name) if text else None, max_epochs)


def _number(value: Any, where: str) -> Fraction:
    """Exact value of a YAML number: 0.1 means one tenth, not the nearest binary float."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise BadInput(f"{where} must be a number, got {value!r}", hint="for example: 0.7 or 3")
    try:
        return Fraction(str(value))
    except (ValueError, ZeroDivisionError):
        raise BadInput(f"{where} must be a number, got {value!r}", hint="for example: 0.7, 3 or 1/3") from None


def _budget(raw: Any) -> tuple[str, int]:
    hint = "for example: budget: {tokens: 2B} (or rows: / bytes:)"
    if not isinstance(raw, dict) or len(raw) != 1:
        raise BadInput("budget must name exactly one of rows, tokens or bytes", hint=hint)
    ((unit, value),) = raw.items()
    if unit not in UNITS:
        raise BadInput(f"unknown budget unit '{unit}'", hint=hint)
    amount = parse_amount(value, f"budget.{unit}")
    if amount <= 0:
        raise BadInput(f"budget.{unit} must be positive", hint=hint)
    return unit, amount


def parse_amount(value: Any, where: str) -> int:
    """``2000``, ``"2M"``, ``"1.5B"``, ``"10GiB"`` -> an exact integer (decimal suffixes are powers of 1000)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    m = _AMOUNT.match(str(value)) if isinstance(value, (str, float)) else None
    scale = _SCALE.get(m.group(2).lower()) if m else None
    if m is None or scale is None:
        raise BadInput(f"{where}: cannot read {value!r} as an amount", hint="use an integer or a suffix: 500k, 2M, 1.5B, 10GiB")
    exact = Fraction(m.group(1)) * scale
    if exact.denominator != 1:
        raise BadInput(f"{where}: {value!r} is not a whole number", hint="use more digits or a smaller suffix")
    return int(exact)


def _count_rule(raw: Any, base: Path) -> CountRule:
    if raw in RULES:
        return CountRule(str(raw))
    if isinstance(raw, str) and raw.endswith(".json"):
        return CountRule("tokenizer", (base / raw).resolve())
    raise BadInput(f"unknown tokenizer {raw!r}", hint="use chars/4, words, or the path of a tokenizer.json file")
