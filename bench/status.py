"""How long a no-op `cgit status` takes over 10,000 small committed Parquet files.

Why: status runs constantly (prompts, editors, CI), so on an unchanged tree it must answer
from the stat cache without reading any file. It is compared with `git status` on the very
same tree in the same run, which is what users will compare it with. Times include process
start-up, which is reported separately because a Python CLI pays for it on every call: the bare
interpreter, and `cgit --help`, which loads the typer app that `cgit status` skips.

Run: python bench/status.py [--quick | --files N | --tree DIR] [--json results.json] [--keep]
(--keep leaves the tree behind; --tree times such a tree again without rebuilding it.)
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from edits import REPORT_WIDTH, BenchError, Cgit, cgit_command
from rich.console import Console
from rich.table import Table

from corpusgit import demo

DEFAULT_FILES = 10_000
QUICK_FILES = 1_000
FILES_PER_DIR = 100  # like a dataset of 100 sub-directories; neither tool sees one huge dir
# Documents of ~1 KB: the files are meant to be small, so the run measures per-file overhead.
DOC_MIN_CHARS, DOC_MAX_CHARS = 500, 1500
REPEATS = 5  # best of 5 hides a cold cache and scheduler noise
TARGET_SECONDS = 0.3
GIT_IDENTITY = ("-c", "user.name=bench", "-c", "user.email=bench@example.invalid")


def write_small_files(data: Path, count: int) -> None:
    """One single-row Parquet file per document, FILES_PER_DIR per directory."""
    docs = demo.iter_documents(10**15, seed=0, min_chars=DOC_MIN_CHARS, max_chars=DOC_MAX_CHARS)
    for index, doc in zip(range(count), docs):
        folder = data / f"dir-{index // FILES_PER_DIR:04d}"
        folder.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.Table.from_pylist([doc], schema=demo.SCHEMA),
                       folder / f"part-{index:05d}.parquet", compression="zstd")


def best_of(command: list[str], cwd: Path) -> tuple[float, float, str]:
    """Best and median wall time of REPEATS runs, and the last run's output."""
    times: list[float] = []
    output = ""
    for _ in range(REPEATS):
        start = time.perf_counter()
        proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, check=False)
        times.append(time.perf_counter() - start)
        if proc.returncode != 0:
            raise BenchError(f"{' '.join(command)} exited {proc.returncode}: {proc.stderr}")
        output = proc.stdout
    return min(times), statistics.median(times), output


@dataclass(frozen=True, slots=True)
class Timing:
    """One row of the report."""

    command: str
    best_seconds: float
    median_seconds: float
    clean: bool


def commit_with_git(tree: Path) -> None:
    """Track the same tree in git, ignoring .cgit, so `git status` has the same work to do."""
    def git(*args: str) -> None:
        subprocess.run(["git", *GIT_IDENTITY, *args], cwd=tree, check=True, capture_output=True)

    git("init", "-q")
    with (tree / ".git" / "info" / "exclude").open("a") as exclude:
        exclude.write(".cgit/\n")
    git("add", "-A")
    git("commit", "-q", "-m", "v0")


def build(tree: Path, files: int, console: Console) -> None:
    """Write the files and commit them with cgit."""
    write_small_files(tree / "data", files)
    cgit = Cgit(tree, tuple(cgit_command()))
    cgit.run("init")
    seconds = cgit.add_commit("v0")
    console.print(f"{files:,} files: cgit add+commit took {seconds:.1f} s")


def measure(tree: Path) -> list[Timing]:
    """Time the no-op status commands (and start-up alone) on a built tree."""
    command = cgit_command()
    best, median, _ = best_of([sys.executable, "-c", "pass"], tree)
    timings = [Timing("python -c pass (interpreter only)", best, median, True)]
    best, median, _ = best_of([*command, "--help"], tree)
    timings.append(Timing("cgit --help (typer app start-up)", best, median, True))
    best, median, output = best_of([*command, "status"], tree)
    timings.append(Timing("cgit status", best, median, "working tree clean" in output))
    best, median, output = best_of([*command, "status", "--json"], tree)
    timings.append(Timing("cgit status --json", best, median, json.loads(output)["clean"] is True))
    if shutil.which("git"):
        if not (tree / ".git").exists():
            commit_with_git(tree)
        best, median, output = best_of(["git", "status"], tree)
        timings.append(Timing("git status", best, median, "working tree clean" in output))
    return timings


def render(timings: list[Timing], console: Console) -> bool:
    """Print the table; True when cgit status met its target on a clean tree."""
    by_name = {t.command: t for t in timings}
    cgit = by_name["cgit status"]
    git = by_name.get("git status")
    table = Table(title=f"no-op status, best of {REPEATS}")
    for column in ("command", "best s", "median s", "clean", "target", "pass/fail"):
        table.add_column(column, justify="left" if column == "command" else "right")
    for t in timings:
        is_cgit = t is cgit
        verdict = ("pass" if t.clean and t.best_seconds < TARGET_SECONDS else "FAIL") if is_cgit else ""
        table.add_row(t.command, f"{t.best_seconds:.3f}", f"{t.median_seconds:.3f}",
                      "yes" if t.clean else "NO", f"< {TARGET_SECONDS}" if is_cgit else "",
                      verdict)
    console.print(table)
    if git is not None:
        console.print(f"cgit status / git status: {cgit.best_seconds / git.best_seconds:.1f}x")
    return cgit.clean and cgit.best_seconds < TARGET_SECONDS


def main() -> int:
    """Run the benchmark; exit 1 when the target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=DEFAULT_FILES)
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_FILES:,} files instead")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the work tree for inspection")
    parser.add_argument("--tree", type=Path, help="time a tree kept by an earlier --keep run instead")
    args = parser.parse_args()
    console = Console(markup=False, width=None if sys.stdout.isatty() else REPORT_WIDTH)
    tree = args.tree.resolve() if args.tree else Path(tempfile.mkdtemp(prefix="cgit-bench-status-"))
    try:
        if not args.tree:
            build(tree, QUICK_FILES if args.quick else args.files, console)
        timings = measure(tree)
    except BenchError as error:
        console.print(f"error: {error}", style="red")
        return 2
    finally:
        if args.keep and not args.tree:
            console.print(f"work tree kept in {tree}")
        elif not args.tree:
            shutil.rmtree(tree, ignore_errors=True)
    passed = render(timings, console)
    if args.json:
        args.json.write_text(json.dumps([asdict(t) for t in timings], indent=2) + "\n")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
