"""Custom checks: a Python function in a file of the work tree, or an external command that
receives the table as a Parquet file path.

Commands see exactly the version being checked: a staged or committed table is written to a
temporary Parquet file first (the work-tree file may have changed since ``cgit add``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from corpusgit.errors import CorpusGitError
from corpusgit.quality.api import CheckContext, Measure, Outcome
from corpusgit.quality.config import CheckSpec

OUTPUT_LINES = 3  # lines of a command's output kept as the result's message


def load_function(file: str, name: str) -> Callable[[CheckContext], Any]:
    """Import ``file`` as a private module and return its function ``name``."""
    module_name = "cgit_check_" + hashlib.sha256(file.encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise CorpusGitError(f"cannot import {file}", hint="python checks are .py files")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    func = getattr(module, name, None)
    if not callable(func):
        raise CorpusGitError(f"{file} has no function {name!r}", hint=f"define def {name}(ctx): ... returning corpusgit.quality.Outcome or a bool")
    return func  # type: ignore[no-any-return]


def run_command(spec: CheckSpec, ctx: CheckContext) -> Outcome:
    """Run the check's command on the table; exit status 0 passes."""
    with tempfile.TemporaryDirectory(prefix="cgit-check-") as tmp:
        file = ctx.table.file or _materialise(ctx, Path(tmp) / "table.parquet")
        argv = [a.replace("{path}", str(file)).replace("{name}", ctx.path) for a in spec.target]
        if not any("{path}" in a for a in spec.target):
            argv.append(str(file))
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=spec.timeout, cwd=ctx.root, check=False)
        except FileNotFoundError:
            raise CorpusGitError(f"command not found: {argv[0]}", hint="install it or fix command = [...] in cgit.toml") from None
        except subprocess.TimeoutExpired:
            raise CorpusGitError(f"command timed out after {spec.timeout:g} s: {' '.join(argv)}", hint="raise timeout = ... in cgit.toml") from None
    lines = [line.strip() for line in (proc.stdout + "\n" + proc.stderr).splitlines() if line.strip()]
    message = " | ".join(lines[-OUTPUT_LINES:])
    return Outcome([Measure("exit status", float(proc.returncode), 0.0)], message or f"exit status {proc.returncode}")


def _materialise(ctx: CheckContext, target: Path) -> Path:
    import pyarrow.parquet as pq

    reader = ctx.table.read()
    with pq.ParquetWriter(target, reader.schema, compression="zstd") as writer:
        for batch in reader:
            writer.write_batch(batch)
    return target
