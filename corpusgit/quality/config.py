"""``[hooks.<stage>.<id>]`` and ``[branches.<name>] require`` in ``cgit.toml``, parsed and
validated up front: a typo in a check name or a threshold of the wrong type fails before any
data is read, naming the exact key.

```toml
[hooks.pre-commit.short-docs]      # the id; "check" defaults to it
check = "length"
min = 200
severity = "warn"                  # or "error" (default): error blocks the commit
paths = ["data/web/*"]             # globs of table paths (default: every table)

[hooks.pre-commit.pii]             # a built-in, by its own name
max_matches = 0

[hooks.pre-merge.scores]
python = "checks/scores.py:check"  # a function in a file of the work tree
[hooks.pre-merge.external]
command = ["python3", "tools/check.py", "{path}"]

[branches.main]
require = ["pii", "short-docs"]    # always run (as errors) on merges into main
```

This module imports no pyarrow: a commit in a project without hooks stays fast.
"""

from __future__ import annotations

import difflib
import fnmatch
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from corpusgit.config import PROJECT_FILE, ProjectConfig, load_toml
from corpusgit.errors import BadInput
from corpusgit.quality.api import BuiltinCheck, Param

STAGES = ("pre-commit", "pre-merge")
SEVERITIES = ("error", "warn")
PYTHON, COMMAND = "python", "command"  # pseudo check names for custom checks
RESERVED = frozenset({"check", "severity", "paths", "python", "command", "timeout", "description"})
DEFAULT_TIMEOUT = 600.0  # seconds for an external command: a whole-table scan, but never forever
PLUGIN_GROUP = "corpusgit.checks"  # entry-point group for checks installed as packages


@dataclass(frozen=True, slots=True)
class CheckSpec:
    """One configured check: which implementation, on which tables, how severe, which params."""

    id: str
    check: str
    stage: str
    severity: str = "error"
    paths: tuple[str, ...] = ("*",)
    params: Mapping[str, Any] = field(default_factory=dict)
    where: str = ""
    target: tuple[str, ...] = ()  # python: (file, function); command: argv
    timeout: float = DEFAULT_TIMEOUT
    required: bool = False

    def applies_to(self, path: str) -> bool:
        return any(fnmatch.fnmatchcase(path, p) or fnmatch.fnmatchcase(path, p.rstrip("/") + "/*") for p in self.paths)


@dataclass(frozen=True, slots=True)
class QualityConfig:
    stages: Mapping[str, tuple[CheckSpec, ...]]
    required: Mapping[str, tuple[CheckSpec, ...]]  # branch -> checks mandatory on merges into it
    root: Path

    def select(self, stage: str, target_branch: str | None = None, no_verify: bool = False) -> list[CheckSpec]:
        """The checks a run executes. ``no_verify`` skips all but a protected branch's required
        checks, which run as errors whatever their configured severity."""
        chosen = [] if no_verify else list(self.stages.get(stage, ()))
        if stage == "pre-merge" and target_branch is not None:
            for spec in self.required.get(target_branch, ()):
                chosen = [s for s in chosen if s.id != spec.id] + [spec]
        return chosen


def builtin_checks() -> dict[str, BuiltinCheck]:
    """The checks of the top-level ``hooks`` package, by name."""
    from hooks import BUILTINS

    return dict(BUILTINS)


def plugin_names() -> list[str]:
    from importlib.metadata import entry_points

    return sorted(ep.name for ep in entry_points(group=PLUGIN_GROUP))


def load_plugin(name: str) -> Any:
    from importlib.metadata import entry_points

    (ep,) = [ep for ep in entry_points(group=PLUGIN_GROUP) if ep.name == name]
    return ep.load()


def load_quality_config(
    root: Path, stage: str | None = None, only: Sequence[str] = (), overrides: Sequence[str] = (), file: Path | None = None
) -> QualityConfig:
    """Parse and validate the hooks of ``root/cgit.toml`` (or of ``file``).

    ``only`` (``cgit check --check ID``) keeps just those ids of ``stage``, adding a built-in
    with default parameters when the id is not configured; ``overrides`` (``--set
    ID.KEY=VALUE``, VALUE in TOML syntax) change parameters before validation.
    """
    doc = load_toml(file) if file is not None else ProjectConfig.load(root).doc
    if stage is not None and (only or overrides):
        doc = _with_overrides(doc, stage, only, overrides)
    return parse_quality_config(doc, root)


def find_project_file(start: Path) -> Path | None:
    """The nearest ``cgit.toml`` at or above ``start`` (a plain git repository keeps it at its root)."""
    for directory in (start, *start.parents):
        if (directory / PROJECT_FILE).is_file():
            return directory / PROJECT_FILE
    return None


def parse_quality_config(doc: Mapping[str, Any], root: Path) -> QualityConfig:
    hooks = doc.get("hooks", {})
    if not isinstance(hooks, dict):
        raise BadInput(f"{PROJECT_FILE}: [hooks] must be a table", hint="write checks as [hooks.pre-commit.<id>] tables")
    for name in hooks:
        if name not in STAGES:
            raise BadInput(f"{PROJECT_FILE}: unknown hook stage 'hooks.{name}'", hint=_did_you_mean(name, STAGES, "stages are pre-commit and pre-merge"))
    stages: dict[str, tuple[CheckSpec, ...]] = {}
    for stage in STAGES:
        stages[stage] = tuple(parse_check(stage, cid, body, root) for cid, body in _stage_entries(stage, hooks.get(stage, {})))
    required: dict[str, tuple[CheckSpec, ...]] = {}
    branches = doc.get("branches", {})
    for branch, body in (branches.items() if isinstance(branches, dict) else ()):
        ids = body.get("require", []) if isinstance(body, dict) else []
        if isinstance(ids, str) or not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise BadInput(f"{PROJECT_FILE}: branches.{branch}.require must be a list of check ids", hint='e.g. require = ["pii", "schema"]')
        required[branch] = tuple(_required_spec(cid, branch, stages, root) for cid in ids)
    return QualityConfig(stages, required, root)


def _stage_entries(stage: str, section: Any) -> list[tuple[str, Any]]:
    """A stage's checks as (id, body) pairs, from ``[hooks.<stage>.<id>]`` tables or a
    ``[[hooks.<stage>]]`` list; in a list the id defaults to the ``check`` name."""
    if isinstance(section, dict):
        return list(section.items())
    if not isinstance(section, list):
        raise BadInput(f"{PROJECT_FILE}: hooks.{stage} must be a table or list of checks", hint=f"write one table per check: [hooks.{stage}.length] min = 20")
    entries: list[tuple[str, Any]] = []
    for n, body in enumerate(section):
        where = f"hooks.{stage}[{n}]"
        if not isinstance(body, dict):
            raise BadInput(f"{PROJECT_FILE}: {where} must be a table", hint=f"write [[hooks.{stage}]] followed by check = \"<name>\" and its parameters")
        cid = body.get("id", body.get("check"))
        if not isinstance(cid, str) or not cid:
            raise BadInput(f"{PROJECT_FILE}: {where} names no check", hint='add check = "<name>", e.g. check = "length"')
        if any(cid == seen for seen, _ in entries):
            raise BadInput(f"{PROJECT_FILE}: {where} repeats check id {cid!r}", hint='give the second one its own id = "..." (check = keeps the implementation)')
        entries.append((cid, {k: v for k, v in body.items() if k != "id"}))
    return entries


def _required_spec(cid: str, branch: str, stages: Mapping[str, tuple[CheckSpec, ...]], root: Path) -> CheckSpec:
    for stage in ("pre-merge", "pre-commit"):
        for spec in stages[stage]:
            if spec.id == cid:
                return replace(spec, stage="pre-merge", severity="error", required=True)
    if cid in builtin_checks() or cid in plugin_names():
        return replace(parse_check("pre-merge", cid, {}, root), severity="error", required=True)
    known = [s.id for s in stages["pre-merge"] + stages["pre-commit"]] + sorted(builtin_checks())
    raise BadInput(f"{PROJECT_FILE}: branches.{branch}.require names unknown check {cid!r}", hint=_did_you_mean(cid, known, "name a configured check id or a built-in check"))


def parse_check(stage: str, cid: str, body: Any, root: Path) -> CheckSpec:
    """Validate one ``[hooks.<stage>.<id>]`` table."""
    where = f"hooks.{stage}.{cid}"
    if not isinstance(body, dict):
        raise BadInput(f"{PROJECT_FILE}: {where} must be a table", hint=f"write [{where}] followed by its parameters")
    severity = body.get("severity", "error")
    if severity not in SEVERITIES:
        raise BadInput(f"{PROJECT_FILE}: {where}.severity must be \"error\" or \"warn\", got {severity!r}", hint="error blocks the commit; warn only reports")
    paths = _string_list(body.get("paths", ["*"]), f"{where}.paths", 'e.g. paths = ["data/web/*"]')
    base = CheckSpec(cid, cid, stage, severity, tuple(paths), {}, where)
    if PYTHON in body:
        return replace(base, check=PYTHON, target=_python_target(body[PYTHON], f"{where}.{PYTHON}", root), params=_extra(body))
    if COMMAND in body:
        timeout = body.get("timeout", DEFAULT_TIMEOUT)
        if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
            raise BadInput(f"{PROJECT_FILE}: {where}.timeout must be a positive number of seconds, got {timeout!r}", hint="e.g. timeout = 300")
        return replace(base, check=COMMAND, target=_argv(body[COMMAND], f"{where}.{COMMAND}"), params=_extra(body), timeout=float(timeout))
    name = body.get("check", cid)
    if not isinstance(name, str):
        raise BadInput(f"{PROJECT_FILE}: {where}.check must be a check name, got {name!r}", hint="e.g. check = \"length\"")
    builtins = builtin_checks()
    impl: Any = builtins.get(name)
    if impl is None and name in plugin_names():
        impl = load_plugin(name)
    if impl is None:
        known = sorted(builtins) + plugin_names()
        raise BadInput(
            f"{PROJECT_FILE}: {where}: unknown check {name!r}",
            hint=_did_you_mean(name, known, "custom checks use python = \"file.py:function\" or command = [...]") + f" (built-in checks: {', '.join(sorted(builtins))})",
        )
    if isinstance(impl, BuiltinCheck):
        params = _validate_params(impl, body, where, root)
        if impl.requires_language(params):
            from corpusgit.detect.language import require

            require(f"{PROJECT_FILE}: {where}")
    else:
        params = _extra(body)
    return replace(base, check=name, params=params)


def _extra(body: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in RESERVED}


def _validate_params(check: BuiltinCheck, body: Mapping[str, Any], where: str, root: Path) -> dict[str, Any]:
    declared = {p.name: p for p in check.params}
    params = check.defaults()
    for key, value in _extra(body).items():
        param = declared.get(key)
        if param is None:
            raise BadInput(f"{PROJECT_FILE}: {where}.{key}: unknown parameter of check {check.name!r}",
                           hint=_did_you_mean(key, list(declared), f"parameters: {', '.join(declared) or 'none'}"))
        params[key] = coerce(param, value, f"{where}.{key}", root)
    for param in check.params:
        if param.required and param.name not in body:
            raise BadInput(f"{PROJECT_FILE}: {where}.{param.name} is required by check {check.name!r}", hint=f"{param.help}")
    return params



def coerce(param: Param, value: Any, key: str, root: Path) -> Any:
    """Check one parameter value against its declared type; the error names the key."""
    t = param.type

    def bad(expected: str, example: str) -> BadInput:
        return BadInput(f"{PROJECT_FILE}: {key} must be {expected}, got {value!r}", hint=f"e.g. {key.rsplit('.', 1)[-1]} = {example}")

    if t == "int":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise bad("a whole number >= 0", "10")
        return value
    if t in ("number", "ratio"):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad("a number" if t == "number" else "a ratio between 0 and 1", "0.05")
        if t == "ratio" and not 0 <= value <= 1:
            raise bad("a ratio between 0 and 1", "0.05")
        return float(value)
    if t == "bool":
        if not isinstance(value, bool):
            raise bad("true or false", "true")
        return value
    if t in ("str", "column"):
        if not isinstance(value, str) or not value:
            raise bad("a non-empty string", '"text"')
        return value
    if t == "choice":
        if value not in param.choices:
            raise bad("one of " + ", ".join(f'"{c}"' for c in param.choices), f'"{param.choices[0]}"')
        return value
    if t in ("columns", "names", "kinds"):
        items = _string_list(value, key, '["text", "url"]')
        if t == "kinds":
            for item in items:
                if item not in param.choices:
                    raise BadInput(f"{PROJECT_FILE}: {key}: unknown kind {item!r}", hint=_did_you_mean(item, param.choices, "kinds: " + ", ".join(param.choices)))
        return tuple(items)
    if t == "ratio_map":
        if not isinstance(value, dict):
            raise bad("a table of name = ratio", "{ en = 0.5 }")
        return {str(k): coerce(Param(k, "ratio"), v, f"{key}.{k}", root) for k, v in value.items()}
    if t == "bounds_map":
        return _bounds_map(value, key, root)
    if t == "schema":
        if isinstance(value, list):
            return {name: "" for name in _string_list(value, key, '["id", "text"]')}
        if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
            raise bad("a list of columns or a table of column = type", '{ text = "string", id = "int64" }')
        return dict(value)
    if t == "file":
        if not isinstance(value, str) or not value:
            raise bad("a file path", '"terms.txt"')
        path = (root / value).resolve()
        if not path.is_file():
            raise BadInput(f"{PROJECT_FILE}: {key}: file {value!r} not found (looked in {root})",
                           hint="create it or fix the path; paths are relative to the directory holding cgit.toml")
        return str(path)
    raise AssertionError(f"parameter type {t!r} of {key} is not handled")


def _bounds_map(value: Any, key: str, root: Path) -> dict[float, tuple[float | None, float | None]]:
    if not isinstance(value, dict):
        raise BadInput(f"{PROJECT_FILE}: {key} must be a table of pNN = {{ min = .., max = .. }}, got {value!r}", hint="e.g. percentiles = { p50 = { min = 200 }, p99 = { max = 100000 } }")
    out: dict[float, tuple[float | None, float | None]] = {}
    for name, bounds in value.items():
        try:
            pct = float(str(name).lstrip("p"))
        except ValueError:
            pct = -1.0
        if not str(name).startswith("p") or not 0 <= pct <= 100:
            raise BadInput(f"{PROJECT_FILE}: {key}.{name}: percentile names are p0 to p100", hint="e.g. p50 = { min = 200 }")
        if not isinstance(bounds, dict) or not bounds or set(bounds) - {"min", "max"}:
            raise BadInput(f"{PROJECT_FILE}: {key}.{name} must be a table with min and/or max", hint="e.g. p50 = { min = 200, max = 20000 }")
        lo = coerce(Param("min", "number"), bounds["min"], f"{key}.{name}.min", root) if "min" in bounds else None
        hi = coerce(Param("max", "number"), bounds["max"], f"{key}.{name}.max", root) if "max" in bounds else None
        out[pct] = (lo, hi)
    return out


def _string_list(value: Any, key: str, example: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v for v in value):
        raise BadInput(f"{PROJECT_FILE}: {key} must be a list of strings, got {value!r}", hint=f"e.g. {key.rsplit('.', 1)[-1]} = {example}")
    return list(value)


def _python_target(value: Any, key: str, root: Path) -> tuple[str, str]:
    if not isinstance(value, str) or value.count(":") != 1 or not all(value.split(":")):
        raise BadInput(f"{PROJECT_FILE}: {key} must be \"FILE.py:FUNCTION\", got {value!r}", hint='e.g. python = "checks/scores.py:check"')
    file, func = value.split(":")
    path = (root / file).resolve()
    if not path.is_file():
        raise BadInput(f"{PROJECT_FILE}: {key}: file {file!r} not found (looked in {root})", hint="paths are relative to the directory holding cgit.toml")
    return str(path), func


def _argv(value: Any, key: str) -> tuple[str, ...]:
    argv = shlex.split(value) if isinstance(value, str) else value
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        raise BadInput(f"{PROJECT_FILE}: {key} must be a command line (a string or a list of strings), got {value!r}", hint='e.g. command = ["python3", "tools/check.py", "{path}"]')
    return tuple(argv)


def _did_you_mean(name: str, known: Sequence[str], fallback: str) -> str:
    close = difflib.get_close_matches(name, list(known), n=2, cutoff=0.6)
    return ("did you mean " + " or ".join(f"'{c}'" for c in close) + "?") if close else fallback


def _with_overrides(doc: Mapping[str, Any], stage: str, only: Sequence[str], overrides: Sequence[str]) -> dict[str, Any]:
    import copy
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib

    new = copy.deepcopy(dict(doc))
    hooks = new.setdefault("hooks", {})
    section = hooks.setdefault(stage, {}) if isinstance(hooks, dict) else {}
    if only and isinstance(section, dict):
        kept = {cid: section.get(cid, {}) for cid in only}
        section.clear()
        section.update(kept)
    for item in overrides:
        target, sep, raw = item.partition("=")
        cid, dot, key = target.strip().partition(".")
        if not sep or not dot or not cid or not key:
            raise BadInput(f"--set {item!r}: expected ID.KEY=VALUE", hint="e.g. --set length.min=200 or --set 'language.allowed=[\"en\"]'")
        try:
            value = tomllib.loads(f"v = {raw}")["v"]
        except tomllib.TOMLDecodeError:
            value = raw  # bare words are strings: --set pii.column=body
        if isinstance(section, dict):
            section.setdefault(cid, {})[key] = value
    return new
