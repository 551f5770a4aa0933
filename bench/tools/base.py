"""What every tool runner provides to bench/run.py, and the plumbing runners share.

Why a runner per tool behind one interface: run.py walks the versions once and asks each tool
to commit, name, diff and check out the same states, so the tables compare like with like.
Each tool lives in its own benchmark venv (bench/.venvs/<name>), never in corpusgit's: their
pins (DVC's especially) would otherwise fight ours and each other's, and a result must name
the exact version that produced it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, ClassVar

import pyarrow.parquet as pq
from edit_suite import Version
from edits import shard_paths, tree_bytes
from tools.ops.digest import CANONICAL, rows_digest

VENVS = Path(__file__).resolve().parents[1] / ".venvs"
OPS = Path(__file__).resolve().parent / "ops"
PIP_TIMEOUT_SECONDS = 1800  # DVC pulls ~100 packages; a slow mirror must not hang the run
IDENTITY = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
            "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid",
            "CGIT_AUTHOR_NAME": "bench", "CGIT_AUTHOR_EMAIL": "bench@example.invalid"}


class ToolError(RuntimeError):
    """A tool failed at a step; run.py records it and stops measuring that tool."""


@dataclass(frozen=True, slots=True)
class Timed:
    """One measured operation.

    Attributes:
        seconds: wall time, or None when the tool had nothing to do (e.g. a Delta table
            has no shard files to re-shard).
        detail: what the tool reported (diff counts) or why it did nothing.
    """

    seconds: float | None
    detail: str = ""


def run_output(command: list[str], cwd: Path, env: Mapping[str, str] | None = None
               ) -> tuple[float, str]:
    """Run a command to completion: its wall time, including process start-up as users see
    it, and its stdout (a diff's report). A non-zero exit raises ToolError."""
    start = time.perf_counter()
    proc = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise ToolError(f"{' '.join(command)} exited {proc.returncode}: "
                        f"{(proc.stderr or proc.stdout).strip()[-1500:]}")
    return seconds, proc.stdout


def run_timed(command: list[str], cwd: Path, env: Mapping[str, str] | None = None) -> float:
    """run_output, for when only the time matters."""
    return run_output(command, cwd, env)[0]


def ensure_venv(name: str, requirements: list[str], allow_install: bool
                ) -> tuple[Path | None, str | None]:
    """bench/.venvs/<name> holding exactly `requirements`: (its python, None) or (None, reason).

    A marker file records what was installed, so a changed pin reinstalls and an unchanged one
    costs nothing. Installing goes through pip and the configured package index only.
    """
    venv = VENVS / name
    python = venv / "bin" / "python"
    marker = venv / "bench-requirements.txt"
    wanted = "\n".join(requirements) + "\n"
    if marker.exists() and marker.read_text() == wanted and python.exists():
        return python, None
    if not allow_install:
        return None, (f"not installed in bench/.venvs/{name} "
                      "(a run without --ci or --no-install installs it)")
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    proc = subprocess.run([str(python), "-m", "pip", "install", "--quiet", *requirements],
                          capture_output=True, text=True, timeout=PIP_TIMEOUT_SECONDS,
                          check=False)
    if proc.returncode != 0:
        return None, f"pip install {' '.join(requirements)} failed: {proc.stderr.strip()[-300:]}"
    marker.write_text(wanted)
    return python, None


class Worker:
    """A tool's Python API, driven in its own venv over JSON lines by one long-lived process.

    Why one process rather than one per call: a Delta or Lance user works in one interpreter,
    so per-call start-up and import time would be charged to them unfairly. Operations time
    themselves inside the worker. Its stderr (and the tools' own chatter) goes to `log`.
    """

    def __init__(self, python: Path, script: str, log: Path,
                 env: Mapping[str, str] | None = None) -> None:
        self._log: IO[str] = log.open("a")
        self._proc = subprocess.Popen([str(python), str(OPS / script)], stdin=subprocess.PIPE,
                                      stdout=subprocess.PIPE, stderr=self._log, text=True,
                                      env={**os.environ, **(env or {})}, bufsize=1)

    def call(self, op: str, **args: Any) -> dict[str, Any]:
        """Run one operation; raise ToolError with the worker's message if it failed."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._proc.stdin.write(json.dumps({"op": op, "args": args}) + "\n")
        self._proc.stdin.flush()
        line = self._proc.stdout.readline()
        if not line:
            raise ToolError(f"{op}: the worker exited ({self._proc.wait()}); see {self._log.name}")
        reply: dict[str, Any] = json.loads(line)
        if not reply["ok"]:
            raise ToolError(f"{op}: {reply['error']}")
        result: dict[str, Any] = reply["result"]
        return result

    def timed(self, op: str, **args: Any) -> Timed:
        """Call an operation that reports {"seconds", "detail"}."""
        result = self.call(op, **args)
        return Timed(result["seconds"], result.get("detail", ""))

    def close(self) -> None:
        """End the worker (closing stdin ends its loop)."""
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        self._proc.wait(timeout=60)
        self._log.close()


def sync_tree(version: Version, target: Path, held: dict[str, str]) -> None:
    """Make target hold version's shards, rewriting only files whose bytes differ.

    Why not copy everything: a pipeline leaves untouched shards untouched, and tools that skip
    unchanged files by stat (git, DVC, corpusgit) must get the same chance as in real use.

    Args:
        held: name -> content hash of what target holds now (version.files of the last sync).
    """
    target.mkdir(parents=True, exist_ok=True)
    for name in set(held) - set(version.files):
        (target / name).unlink()
    for name, content in version.files.items():
        if held.get(name) == content:
            continue
        tmp = target / f".{name}.tmp"
        shutil.copyfile(version.data / name, tmp)
        os.replace(tmp, target / name)


def files_digest(data: Path) -> str:
    """rows_digest of a directory of Parquet shards (a work tree after checkout), streamed."""
    return rows_digest(batch for path in shard_paths(data)
                       for batch in pq.ParquetFile(path).iter_batches(columns=CANONICAL.names))


class Runner(ABC):
    """One tool (or one way of using it), measured on every version of the edit suite.

    Call order: setup, start, then per version commit, storage_bytes, mark and (from v1)
    diff; at the end checkout and digest; close always.
    """

    name: ClassVar[str]
    storage: ClassVar[str]  # which directory's growth is counted, for the report
    granularity: ClassVar[str]  # what its diff between versions can tell apart
    checkout_means: ClassVar[str]  # what "check out v0" is for this tool

    @abstractmethod
    def setup(self, allow_install: bool) -> str | None:
        """Make the tool available; a reason to skip it, or None."""

    @abstractmethod
    def tool_version(self) -> str:
        """The exact version measured."""

    @abstractmethod
    def start(self, root: Path) -> None:
        """Create an empty repository or table location under root (not timed)."""

    @abstractmethod
    def commit(self, version: Version) -> Timed:
        """Record this version the tool's way; the wall time of add+commit."""

    @abstractmethod
    def storage_bytes(self) -> int:
        """Bytes in the tool's own storage now."""

    @abstractmethod
    def mark(self, version: Version) -> None:
        """Name the version just committed, for diff and checkout (not timed)."""

    @abstractmethod
    def diff(self, old: Version, new: Version) -> Timed:
        """The tool's own diff between two marked versions."""

    @abstractmethod
    def checkout(self, version: Version) -> Timed:
        """Get a marked version back; timed."""

    @abstractmethod
    def digest(self) -> str:
        """rows_digest of what the last checkout produced (not timed)."""

    def close(self) -> None:
        """Release processes; the default has none."""


class WorkTreeRunner(Runner):
    """A tool that versions a work tree of files: run.py's shards are synced into tree/data."""

    tree: Path
    held: dict[str, str]  # what tree/data holds: version.files of the last sync

    def start(self, root: Path) -> None:
        self.tree = root
        self.held = {}
        (root / "data").mkdir(parents=True)
        self.init()

    @abstractmethod
    def init(self) -> None:
        """Create the repository in self.tree."""

    @abstractmethod
    def add_commit(self, version: Version) -> float:
        """Stage data/ and commit it; seconds."""

    @abstractmethod
    def storage_dirs(self) -> list[Path]:
        """The tool's storage directories under self.tree."""

    def commit(self, version: Version) -> Timed:
        sync_tree(version, self.tree / "data", self.held)
        self.held = version.files
        return Timed(self.add_commit(version))

    def storage_bytes(self) -> int:
        return sum(tree_bytes(d) for d in self.storage_dirs() if d.exists())

    def digest(self) -> str:
        return files_digest(self.tree / "data")
