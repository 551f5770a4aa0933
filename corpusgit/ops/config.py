"""Typed operator configs: build a frozen dataclass from YAML/``-c key=value`` input, or say why not.

A typo must fail before any data is read, and name the field it probably meant; a value of the
wrong type must say what was expected. The canonical JSON form (and its hash) is what lineage
records and the run-cache compare, so it never depends on how the user spelled the values.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from collections.abc import Mapping
from typing import Any

from corpusgit.errors import BadInput
from corpusgit.store.canonical import canonical_json, object_id

_TYPE_WORDS = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}


def parse_assignments(pairs: list[str]) -> dict[str, Any]:
    """``["min_chars=200", "langs=[en, zh]"]`` -> values typed as YAML scalars/lists."""
    import yaml

    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise BadInput(f"-c {pair!r} is not KEY=VALUE", hint="for example: -c min_chars=200")
        try:
            out[key.strip()] = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError:
            out[key.strip()] = raw
    return out


def load_config_file(path: str) -> dict[str, Any]:
    """A YAML (or JSON) mapping of config keys."""
    import yaml

    try:
        with open(path, encoding="utf-8") as handle:
            doc = yaml.safe_load(handle)
    except OSError as exc:
        raise BadInput(f"cannot read config file {path}: {exc.strerror}", hint="check the path") from exc
    except yaml.YAMLError as exc:
        raise BadInput(f"{path}: invalid YAML ({str(exc).splitlines()[0]})", hint="fix the file's syntax") from exc
    if doc is None:
        return {}
    if not isinstance(doc, dict):
        raise BadInput(f"{path}: a config file must be a mapping of keys to values", hint="e.g. 'min_chars: 200'")
    return doc


def build_config(op_name: str, cls: type[Any], values: Mapping[str, Any]) -> Any:
    """Validate ``values`` against the dataclass ``cls``; defaults fill the rest."""
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    hints = typing.get_type_hints(cls)
    for key in values:
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1, cutoff=0.5)
            known = ", ".join(fields) if fields else "(none: this operator takes no config)"
            hint = f"did you mean '{close[0]}'? keys are: {known}" if close else f"keys are: {known}"
            raise BadInput(f"{op_name}: unknown config key '{key}'", hint=hint)
    kwargs = {key: _coerce(op_name, key, hints[key], value) for key, value in values.items()}
    missing = [n for n, f in fields.items() if n not in kwargs and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    if missing:
        raise BadInput(f"{op_name}: config key '{missing[0]}' is required", hint=f"pass it with -c {missing[0]}=VALUE")
    try:
        return cls(**kwargs)
    except ValueError as exc:
        raise BadInput(f"{op_name}: {exc}", hint="see 'docs/operators.md' for the operator's settings") from exc


def config_to_json(config: Any) -> dict[str, Any]:
    """The canonical JSON form: tuples become lists, keys sorted by ``canonical_json``."""
    return {f.name: _jsonable(getattr(config, f.name)) for f in dataclasses.fields(config)}


def config_hash(config_json: dict[str, Any]) -> str:
    """SHA-256 of the canonical JSON: equal configs, however spelled, hash equal."""
    return object_id(canonical_json(config_json))


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    return value


def _coerce(op_name: str, key: str, hint: Any, value: Any) -> Any:
    """Accept exactly the annotated type (ints for floats, lists or "a,b" for tuples)."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        errors = []
        for option in options:
            try:
                return _coerce(op_name, key, option, value)
            except BadInput as exc:
                errors.append(exc)
        raise errors[0]
    if origin is typing.Literal:
        if value in args:
            return value
        raise _type_error(op_name, key, "one of " + ", ".join(repr(a) for a in args), value)
    if origin is tuple:
        item = args[0] if args else Any
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        if not isinstance(value, (list, tuple)):
            raise _type_error(op_name, key, "a list", value)
        return tuple(_coerce(op_name, key, item, v) for v in value)
    if hint is Any:
        return value
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if hint in _TYPE_WORDS:
        if isinstance(value, hint) and not (hint is int and isinstance(value, bool)):
            return value
        raise _type_error(op_name, key, _TYPE_WORDS[hint], value)
    raise _type_error(op_name, key, str(hint), value)


def _type_error(op_name: str, key: str, expected: str, value: Any) -> BadInput:
    return BadInput(
        f"{op_name}: config '{key}' must be {expected}, got {value!r} ({type(value).__name__})",
        hint=f"for example: -c {key}=VALUE; strings need no quotes, lists are written [a, b]",
    )
