"""Finding operators: built-ins, the ``corpusgit.operators`` entry-point group, and local files.

Built-ins are listed by import path and loaded on first use, so ``cgit run filter-length`` never
imports the MinHash or language-id code. Local operators are ``*.py`` files named in
``cgit.toml`` (``[operators] paths = ["ops/my_op.py"]``), versioned with the data they clean.
"""

from __future__ import annotations

import difflib
import hashlib
import importlib
import importlib.metadata
import importlib.util
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from corpusgit.errors import BadInput
from corpusgit.ops.base import Operator

if TYPE_CHECKING:
    from corpusgit.repo import Repo

ENTRY_POINT_GROUP = "corpusgit.operators"

BUILTINS: dict[str, str] = {
    "dedup-exact": "corpusgit.ops.dedup_exact:DedupExact",
    "dedup-minhash": "corpusgit.ops.dedup_minhash:DedupMinHash",
    "filter-length": "corpusgit.ops.filter_length:FilterLength",
    "filter-quality": "corpusgit.ops.filter_quality:FilterQuality",
    "filter-lang": "corpusgit.ops.filter_lang:FilterLang",
    "redact-pii": "corpusgit.ops.redact_pii:RedactPii",
    "annotate": "corpusgit.ops.annotate:Annotate",
    "sample": "corpusgit.ops.sample:Sample",
    "filter-expr": "corpusgit.ops.filter_expr:FilterExpr",
}


@dataclass(frozen=True, slots=True)
class Found:
    """An operator class and where it came from (recorded in lineage)."""

    cls: type[Operator[Any]]
    source: str
    code_hash: str


def operator_names(repo: Repo | None) -> dict[str, str]:
    """name -> source, for every operator visible from ``repo`` (``cgit run --list``)."""
    names = {name: "builtin" for name in BUILTINS}
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        names.setdefault(ep.name, f"entry point {ep.value}")
    if repo is not None:
        for name, (_, source) in _local_operators(repo).items():
            names.setdefault(name, source)
    return names


def find_operator(name: str, repo: Repo | None) -> Found:
    """Load the operator called ``name``; unknown names get the closest known ones."""
    locals_ = _local_operators(repo) if repo is not None else {}
    if name in locals_ and name in BUILTINS:
        raise BadInput(f"operator '{name}' in {locals_[name][1]} shadows the built-in", hint="give the local operator another name")
    if name in BUILTINS:
        module, _, attr = BUILTINS[name].partition(":")
        return _found(getattr(importlib.import_module(module), attr), "builtin")
    if name in locals_:
        return _found(*locals_[name])
    for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == name:
            cls = ep.load()
            _check_class(cls, f"entry point {ep.value}")
            return _found(cls, f"entry point {ep.value}")
    known = sorted(operator_names(repo))
    close = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
    hint = ("did you mean " + " or ".join(f"'{c}'" for c in close) + "? ") if close else ""
    raise BadInput(f"unknown operator '{name}'", hint=f"{hint}'cgit run --list' shows all {len(known)} operators")


def code_hash(cls: type[Operator[Any]]) -> str:
    """SHA-256 over the source of the operator's module and its declared helper modules.

    Source files, not bytecode, so the hash is the same on every Python version.
    """
    digest = hashlib.sha256()
    for module_name in (cls.__module__, *cls.code_modules):
        module = sys.modules.get(module_name) or importlib.import_module(module_name)
        digest.update(module_name.encode() + b"\0")
        path = getattr(module, "__file__", None)
        digest.update(Path(path).read_bytes() if path else b"")
    return digest.hexdigest()


def _found(cls: type[Operator[Any]], source: str) -> Found:
    return Found(cls, source, code_hash(cls))


def _check_class(cls: Any, source: str) -> None:
    if not (isinstance(cls, type) and issubclass(cls, Operator) and cls.name):
        raise BadInput(f"{source} is not a corpusgit operator", hint="subclass MapOperator, FilterOperator or GlobalOperator and set 'name'")


def _local_operators(repo: Repo) -> dict[str, tuple[type[Operator[Any]], str]]:
    """Operators defined in the ``*.py`` files ``cgit.toml`` lists under ``[operators] paths``."""
    paths = repo.project().doc.get("operators", {}).get("paths", [])
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise BadInput("cgit.toml: [operators] paths must be a list of .py files", hint='e.g. paths = ["ops/my_op.py"]')
    found: dict[str, tuple[type[Operator[Any]], str]] = {}
    for rel in paths:
        module = _load_file(repo.root / rel, rel)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Operator) and value.name and value.__module__ == module.__name__:
                if value.name in found:
                    raise BadInput(f"operator '{value.name}' is defined twice ({found[value.name][1]} and {rel})", hint="rename one of them")
                found[value.name] = (value, f"local {rel}")
    return found


def _load_file(path: Path, rel: str) -> ModuleType:
    if not path.is_file():
        raise BadInput(f"cgit.toml lists operator file {rel}, which does not exist", hint="fix [operators] paths in cgit.toml")
    source = path.read_bytes()
    name = "cgit_local_ops_" + hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:12]
    cached = sys.modules.get(name)
    if cached is not None and getattr(cached, "__cgit_source__", None) == source:
        return cached
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        del sys.modules[name]
        raise BadInput(f"cannot load operator file {rel}: {type(exc).__name__}: {exc}", hint="fix the file, or remove it from cgit.toml") from exc
    module.__dict__["__cgit_source__"] = source  # reloaded when the file changes
    return module
