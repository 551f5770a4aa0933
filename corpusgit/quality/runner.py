"""Running checks: pick them, compute every fact they need in one chunk-parallel pass, run each
check (a crash becomes that check's error, never the whole run's), attach offending rows, and
return a ``Report``.

``run_hooks`` is the entry point for ``cgit commit`` and ``cgit merge``; ``check_*`` serve
``cgit check`` and return the report without raising.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corpusgit.errors import CorpusGitError
from corpusgit.objects import TABLE, Tree, read_commit, read_tree
from corpusgit.quality.api import BuiltinCheck, CheckContext, Outcome
from corpusgit.quality.config import COMMAND, PYTHON, CheckSpec, QualityConfig, builtin_checks, load_plugin, load_quality_config
from corpusgit.quality.report import ERROR, FAIL, PASS, SKIP, WARN, ChecksFailed, CheckResult, Report, Sample, TableRun
from corpusgit.store.canonical import ObjectId

if TYPE_CHECKING:
    from corpusgit.quality.facts import FactStore
    from corpusgit.quality.table import TableData
    from corpusgit.repo import Repo

MAX_SAMPLES = 3  # offending rows shown per check: enough to see the pattern, short enough to read
EXCERPT_CHARS = 100  # characters of text around the offending spot
TRACE_FRAMES = 3  # innermost frames kept when a check crashes


@dataclass(frozen=True, slots=True)
class TableChange:
    """A table version to check and the version it replaces (None: a new table)."""

    path: str
    table: ObjectId
    parent: ObjectId | None = None


@dataclass(frozen=True, slots=True)
class HookRun:
    """What a commit records: ``Commit(hooks=run.hooks, report=run.report_id)``."""

    hooks: str  # none | skipped | passed | warned
    report: Report | None
    report_id: ObjectId | None


def table_changes(repo: Repo, tree: Tree, base: ObjectId | None) -> list[TableChange]:
    """Tables of ``tree`` that differ from commit ``base`` (added or modified), each paired with
    the version at the same path in ``base``. For a merge: ``table_changes(repo, merged_tree,
    target_head)``."""
    old = read_tree(repo.store, read_commit(repo.store, base).tree).entries if base else {}
    out = []
    for path, entry in sorted(tree.entries.items()):
        before = old.get(path)
        if entry.kind == TABLE and (before is None or before.id != entry.id):
            out.append(TableChange(path, entry.id, before.id if before is not None and before.kind == TABLE else None))
    return out


def run_hooks(
    repo: Repo,
    stage: str = "pre-merge",
    changes: Sequence[TableChange] | None = None,
    target_branch: str | None = None,
    no_verify: bool = False,
) -> HookRun:
    """Run the ``[hooks.<stage>]`` checks of ``cgit.toml`` over changed tables and store the report.

    Args:
        repo: the repository; ``cgit.toml`` is read from its work-tree root.
        stage: ``"pre-commit"`` or ``"pre-merge"``.
        changes: table versions to check, each with the version it replaces. ``None`` means the
            staged tables versus HEAD. A merge passes ``table_changes(repo, merged_tree,
            target_head)``, so checks compare against the target branch's versions.
        target_branch: short name of the branch merged into (``"main"``); on ``pre-merge`` its
            ``[branches.<name>] require`` checks always run, as errors.
        no_verify: skip the configured checks (required ones still run).

    Returns:
        ``HookRun(hooks, report, report_id)``; record ``hooks`` and ``report_id`` in the commit.
        ``hooks`` is ``none`` (nothing to check), ``skipped`` (``no_verify``), ``passed`` or
        ``warned``. The report object is stored only when the run does not block.

    Raises:
        ChecksFailed: (a ``QualityCheckFailed``) a blocking check failed or crashed; its
            ``report`` holds every result, for ``corpusgit.cli.quality_cmds.render_report``.
        BadInput: ``cgit.toml`` names an unknown check or has a bad parameter.
    """
    config = load_quality_config(repo.root)
    specs = config.select(stage, target_branch, no_verify)
    if not specs:
        return HookRun("skipped" if no_verify else "none", None, None)
    if changes is None:
        changes = table_changes(repo, repo.read_index().to_tree(), repo.refs.head_commit())
    report = check_repo(repo, changes, config, stage, target_branch, no_verify)
    if report is None:
        return HookRun("skipped" if no_verify else "none", None, None)
    if report.blocked:
        raise ChecksFailed(report)
    return HookRun("skipped" if no_verify else report.outcome, report, report.store(repo.store))


def check_repo(
    repo: Repo,
    changes: Sequence[TableChange],
    config: QualityConfig,
    stage: str,
    target_branch: str | None = None,
    no_verify: bool = False,
) -> Report | None:
    """The report for ``changes`` (None when no check applies to any of them)."""
    from corpusgit.quality.facts import FactStore
    from corpusgit.quality.table import TableData
    from corpusgit.table.model import TableObject

    specs = config.select(stage, target_branch, no_verify)
    facts = FactStore(repo.cgit / "cache" / "quality")
    pairs: list[tuple[TableData, TableData | None]] = []
    for change in changes:
        if not any(s.applies_to(change.path) for s in specs):
            continue
        table = TableObject.from_json(repo.store.get_meta(change.table, needed_by=change.path))
        data = TableData.from_object(repo.store, change.path, table, facts, change.table)
        parent = None
        if change.parent is not None:
            old = TableObject.from_json(repo.store.get_meta(change.parent, needed_by=f"{change.path} (parent)"))
            parent = TableData.from_object(repo.store, change.path, old, facts, change.parent)
        pairs.append((data, parent))
    if not pairs:
        return None
    return evaluate(specs, pairs, facts, config.root, stage, target_branch, skipped=no_verify)


def check_worktree(
    repo: Repo, rev: str | None = None, stage: str = "pre-commit", target_branch: str | None = None, only: Sequence[str] = (), overrides: Sequence[str] = ()
) -> Report | None:
    """``cgit check``: the staged tables vs HEAD (or the tables ``rev`` changed vs its first
    parent), as a commit would check them; the report is returned, never stored or raised."""
    config = load_quality_config(repo.root, stage, only, overrides)
    if rev is None:
        changes = table_changes(repo, repo.read_index().to_tree(), repo.refs.head_commit())
    else:
        from corpusgit.revparse import resolve_commit

        commit = read_commit(repo.store, resolve_commit(repo, rev))
        changes = table_changes(repo, read_tree(repo.store, commit.tree), commit.parents[0] if commit.parents else None)
    return check_repo(repo, changes, config, stage, target_branch)


def check_paths(
    files: Sequence[Path], cwd: Path, config_file: Path | None = None, stage: str = "pre-commit", only: Sequence[str] = (), overrides: Sequence[str] = ()
) -> Report | None:
    """``cgit check FILE...``: plain Parquet/JSONL files, with the checks of the nearest
    ``cgit.toml`` (or ``config_file``); paths in it are relative to its directory."""
    from corpusgit.errors import BadInput
    from corpusgit.quality.config import find_project_file

    for file in files:
        if not file.is_file():
            raise BadInput(f"{file}: no such file", hint="cgit check FILE takes Parquet or JSON-lines files")
    if config_file is not None and not config_file.is_file():
        raise BadInput(f"{config_file}: no such file", hint="--config names a cgit.toml")
    found = config_file or find_project_file(cwd)
    root = found.parent.resolve() if found is not None else cwd.resolve()
    config = load_quality_config(root, stage, only, overrides, file=found)
    return check_files(files, root, config, stage)


def check_files(files: Sequence[Path], root: Path, config: QualityConfig, stage: str = "pre-commit") -> Report | None:
    """The report for plain Parquet/JSONL files (``cgit check FILE``, the pre-commit framework);
    their path relative to ``root`` decides which checks apply. No parent: checks against a
    previous version report ``skip``."""
    from corpusgit.quality.facts import FactStore
    from corpusgit.quality.table import TableData

    specs = config.select(stage)
    facts = FactStore(None)
    pairs: list[tuple[TableData, TableData | None]] = []
    for file in files:
        full = file.resolve()
        try:
            rel = full.relative_to(root.resolve()).as_posix()
        except ValueError:
            rel = file.as_posix()
        if any(s.applies_to(rel) for s in specs):
            pairs.append((TableData.from_file(full, rel, (), facts), None))
    if not pairs:
        return None
    return evaluate(specs, pairs, facts, root, stage, None)


def evaluate(
    specs: Sequence[CheckSpec],
    pairs: Sequence[tuple[TableData, TableData | None]],
    facts: FactStore,
    root: Path | None,
    stage: str,
    target: str | None,
    skipped: bool = False,
) -> Report:
    """Run ``specs`` on every (table, parent) pair they apply to."""
    started = time.perf_counter()
    builtins = builtin_checks()
    _prefetch(specs, pairs, builtins, facts)
    results = []
    for table, parent in pairs:
        for spec in specs:
            if spec.applies_to(table.path):
                results.append(run_check(spec, table, parent, root, stage))
    tables = tuple(TableRun(t.path, t.table_id, p.table_id if p else None, t.num_rows) for t, p in pairs)
    return Report(stage, target, tables, tuple(results), facts.chunks_computed, facts.chunks_cached, time.perf_counter() - started, skipped)


def _prefetch(specs: Sequence[CheckSpec], pairs: Sequence[tuple[TableData, TableData | None]], builtins: dict[str, BuiltinCheck], facts: FactStore) -> None:
    """Every fact the built-ins will ask for, computed in one chunk-parallel pass. Failures are
    left for the checks themselves, which then report them as their own errors."""
    from corpusgit.quality.facts import GroupLayout

    work: list[tuple[GroupLayout, list[Any]]] = []
    for table, parent in pairs:
        for spec in specs:
            check = builtins.get(spec.check)
            if check is None or not spec.applies_to(table.path):
                continue
            try:
                work.extend(table.work(check.needs(spec.params, table.schema.names)))
                if parent is not None:
                    work.extend(parent.work(check.parent_needs(spec.params, parent.schema.names)))
            except CorpusGitError:
                continue
    try:
        facts.ensure(work)
    except Exception:  # noqa: BLE001 - the check that needs the fact reports it, with its name
        pass


def run_check(spec: CheckSpec, table: TableData, parent: TableData | None, root: Path | None, stage: str) -> CheckResult:
    """One check on one table. Any exception is that check's ``error`` (blocking), with the
    innermost frames of the traceback summarised."""
    started = time.perf_counter()
    base = CheckResult(spec.id, spec.check, table.path, spec.severity, PASS, required=spec.required)
    try:
        outcome = _as_outcome(_implementation(spec)(CheckContext(table.path, spec.params, table, parent, root, stage)))
        status = SKIP if outcome.skipped else PASS if outcome.passed else FAIL if spec.severity == "error" else WARN
        samples: tuple[Sample, ...] = ()
        offending = len(outcome.rows)
        if status in (FAIL, WARN):
            samples = _samples(table, outcome)
    except CorpusGitError as exc:
        return _replace(base, status=ERROR, message=exc.message, hint=exc.hint, seconds=time.perf_counter() - started)
    except Exception as exc:  # noqa: BLE001 - a buggy check must not take the others down
        return _replace(base, status=ERROR, message=f"crashed: {summarise_exception(exc)}",
                        hint="the check itself failed; run with --debug for the full traceback", seconds=time.perf_counter() - started)
    return _replace(base, status=status, measures=tuple(outcome.measures), message=outcome.skipped or outcome.message,
                    samples=samples, offending=offending, hint=outcome.hint if status in (FAIL, WARN) else None,
                    seconds=time.perf_counter() - started)


def _replace(result: CheckResult, **changes: Any) -> CheckResult:
    from dataclasses import replace

    return replace(result, **changes)


def _implementation(spec: CheckSpec) -> Callable[[CheckContext], Any]:
    if spec.check == PYTHON:
        from corpusgit.quality.custom import load_function

        return load_function(*spec.target)
    if spec.check == COMMAND:
        from corpusgit.quality.custom import run_command

        return lambda ctx: run_command(spec, ctx)
    builtin = builtin_checks().get(spec.check)
    impl = builtin if builtin is not None else load_plugin(spec.check)
    return impl.run if isinstance(impl, BuiltinCheck) else impl


def _as_outcome(value: Any) -> Outcome:
    if isinstance(value, Outcome):
        return value
    if isinstance(value, bool):
        return Outcome(ok=value)
    raise TypeError(f"a check must return corpusgit.quality.Outcome or a bool, not {type(value).__name__}")


def summarise_exception(exc: BaseException) -> str:
    """``ValueError: bad (at checks.py:12 in check > util.py:3 in parse)``: enough to find it."""
    frames = traceback.extract_tb(exc.__traceback__)[-TRACE_FRAMES:]
    where = " > ".join(f"{Path(f.filename).name}:{f.lineno} in {f.name}" for f in frames)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text}" + (f" (at {where})" if where else "")


def _samples(table: TableData, outcome: Outcome) -> tuple[Sample, ...]:
    import numpy as np

    rows = [int(r) for r in np.asarray(outcome.rows, dtype=np.int64)[:MAX_SAMPLES]]
    if any(not 0 <= r < table.num_rows for r in rows):
        raise IndexError(f"offending row numbers must be in [0, {table.num_rows}), got {rows}")
    if not rows:
        return ()
    columns = ([outcome.column] if outcome.column else []) + [k for k in table.key if k != outcome.column]
    values = table.fetch(rows, columns)
    ids = table.row_ids(rows)
    out = []
    for row, row_id, value in zip(rows, ids, values):
        key = ", ".join(f"{k}={value[k]!r}" for k in table.key) if table.key else None
        text = value.get(outcome.column) if outcome.column else None
        excerpt, note = excerpt_of(text, outcome) if outcome.column else ("", "")
        out.append(Sample(row, row_id, key, excerpt, note))
    return tuple(out)


def excerpt_of(text: Any, outcome: Outcome) -> tuple[str, str]:
    """(excerpt, note): a one-line window of ``text`` around the first of ``outcome.spans``.
    With ``redact`` every span in the window shows as ``[label]``: reports are kept in history,
    so they must never copy PII. Control characters show as visible symbols."""
    if text is None:
        return "∅", "null"
    text = str(text)
    spans = sorted(outcome.spans(text)) if outcome.spans is not None else []
    if not spans:
        return _clip(_printable(text[:EXCERPT_CHARS * 2]), len(text) > EXCERPT_CHARS * 2), ""
    start, end, label = spans[0]
    room = max(10, (EXCERPT_CHARS - (end - start)) // 2)
    lo, hi = max(0, start - room), min(len(text), end + room)
    if outcome.redact:
        parts, pos = [], lo
        for s, e, name in spans:
            if s >= hi:
                break
            if e <= pos:
                continue
            parts.append(text[pos:max(s, pos)])
            parts.append(f"[{name}]")
            pos = e
        hi = max(hi, pos)
        window = "".join(parts) + text[pos:hi]
    else:
        window = text[lo:hi]
    shown = ("…" if lo > 0 else "") + _printable(window) + ("…" if hi < len(text) else "")
    return shown, label


def _printable(text: str) -> str:
    """Whitespace runs become one space; other control characters their visible symbols."""
    return " ".join(text.split()).translate(_CONTROL_PICTURES)


def _clip(text: str, more: bool) -> str:
    if len(text) > EXCERPT_CHARS or more:
        return text[:EXCERPT_CHARS - 1] + "…"
    return text


_CONTROL_PICTURES = {c: 0x2400 + c for c in range(0x20)} | {0x7F: 0x2421} | {c: 0xFFFD for c in range(0x80, 0xA0)}
