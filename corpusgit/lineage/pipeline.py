"""``cgit run pipeline.yaml``: several steps in order (a recipe), each with its own lineage record.

```yaml
commit: "clean web shard"          # optional: commit at the end, linking every step's record
steps:
  - op: dedup-exact
    input: data/raw/web.parquet    # PATH or PATH@REV; later steps default to the previous output
    output: data/dedup/web.parquet
  - op: filter-quality
    output: data/clean/web.parquet
    config: {min_words: 30}
```

Paths are relative to the repository root. An ``input`` may be a dataset's directory
(``data/raw/web``), which takes a directory ``output``; a later step then reads that directory.
A step whose operator, version, config, input tables and output paths match an earlier run is
not executed again: its recorded outputs are put in place (the run-cache), so re-running a
pipeline after a failure resumes where it stopped.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corpusgit.errors import BadInput
from corpusgit.lineage.run import Step, StepResult, run_step
from corpusgit.progress import NULL_PROGRESS, Progress

if TYPE_CHECKING:
    from corpusgit.repo import Repo

STEP_KEYS = ("op", "input", "output", "config")
TOP_KEYS = ("steps", "commit")


@dataclass(frozen=True, slots=True)
class Pipeline:
    """A parsed pipeline file: steps with inputs filled in, and the commit message if any."""

    steps: tuple[Step, ...]
    message: str | None  # commit message from the file, if it asks for a commit


def is_pipeline_file(target: str) -> bool:
    """``cgit run X``: a YAML file is a pipeline, anything else an operator name."""
    return target.lower().endswith((".yaml", ".yml"))


def load_pipeline(path: Path) -> Pipeline:
    """Parse and check the whole file before any step runs."""
    import yaml

    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise BadInput(f"cannot read pipeline {path}: {exc.strerror}", hint="check the path") from exc
    except yaml.YAMLError as exc:
        raise BadInput(f"{path}: invalid YAML ({str(exc).splitlines()[0]})", hint="fix the file's syntax") from exc
    if not isinstance(doc, dict) or not isinstance(doc.get("steps"), list) or not doc["steps"]:
        raise BadInput(f"{path}: a pipeline is a mapping with a non-empty 'steps' list", hint="see 'docs/operators.md' for an example")
    _check_keys(doc, TOP_KEYS, f"{path}")
    steps: list[Step] = []
    for number, raw in enumerate(doc["steps"], 1):
        where = f"{path}: step {number}"
        if not isinstance(raw, dict):
            raise BadInput(f"{where} is not a mapping", hint="each step has op, input, output and optional config")
        _check_keys(raw, STEP_KEYS, where)
        previous = steps[-1].output if steps else None
        source = raw.get("input", previous)
        for key, value in (("op", raw.get("op")), ("input", source), ("output", raw.get("output"))):
            if not isinstance(value, str) or not value:
                raise BadInput(f"{where} needs '{key}'", hint="each step has op, input (the first step at least), output")
        config = raw.get("config") or {}
        if not isinstance(config, dict):
            raise BadInput(f"{where}: config must be a mapping", hint="e.g. config: {min_words: 30}")
        steps.append(Step(str(raw["op"]), str(source), str(raw["output"]), config))
    message = doc.get("commit")
    if message is not None and not isinstance(message, str):
        raise BadInput(f"{path}: commit must be a message string", hint='e.g. commit: "clean web shard"')
    return Pipeline(tuple(steps), message)


def run_pipeline(
    repo: Repo,
    pipeline: Pipeline,
    progress: Progress = NULL_PROGRESS,
    use_cache: bool = True,
    on_step: Callable[[int, StepResult], None] | None = None,
) -> list[StepResult]:
    """Run the steps in order; a failing step stops the pipeline (earlier steps stay staged)."""
    results = []
    for number, step in enumerate(pipeline.steps, 1):
        result = run_step(repo, step, progress, use_cache)
        results.append(result)
        if on_step is not None:
            on_step(number, result)
    return results


def _check_keys(doc: dict[str, Any], allowed: tuple[str, ...], where: str) -> None:
    for key in doc:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.5)
            hint = f"did you mean '{close[0]}'? " if close else ""
            raise BadInput(f"{where}: unknown key '{key}'", hint=f"{hint}keys are: {', '.join(allowed)}")
