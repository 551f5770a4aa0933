"""corpusgit against the tools users would pick instead, on the same corpus and edits.

Why: the product has to win on the work users do — append, filter, add a column, redact,
re-shard, shuffle, revert — against DVC, Git LFS, Oxen, Delta Lake and Lance, measured side by
side in one run on one machine. Every tool commits the same versions (bench/edit_suite.py);
for each step the run records the bytes its storage grew, the wall time of add+commit, the
time and granularity of its diff from the previous version, and at the end the time to check
out v0 again (verified row by row). Steps run version by version across all tools, so load
from other work on the machine falls on every tool alike.

Each tool is installed into its own venv under bench/.venvs (or skipped with the reason).
Results go to bench/results/<date>.md and .json (a --quick run adds "-quick"; --ci writes to
bench/results/tmp/, which is not versioned).

Run: python bench/run.py [--quick | --ci | --mb N] [--tools NAME,...] [--no-install] [--keep]
"""

from __future__ import annotations

import argparse
import datetime
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pyarrow.parquet as pq
from edit_suite import RESHARDED, SHUFFLED, Version, build_versions
from edits import REPORT_WIDTH, SHARDS, pyarrow_copy_seconds, shard_paths
from report import Corpus, RunResult, StepResult, ToolResult, read_machine, write_results
from rich.console import Console
from tools import RUNNERS
from tools.base import Runner, files_digest

DEFAULT_MB = 500  # the default corpus: about 500 MB of Parquet
QUICK_MB = 50  # --quick must finish in under 5 minutes
CI_MB = 2  # --ci only proves the scripts work
RESULTS = Path(__file__).resolve().parent / "results"


def build_in_child(work: Path, target_mb: float) -> list[Version]:
    """build_versions in a child process, so its peak memory (the shuffle holds the whole
    corpus twice) is returned to the machine before the tools run; Arrow's allocator would
    otherwise keep it in this process for the whole run."""
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        versions: list[Version] = pool.submit(build_versions, work / "versions",
                                              work / "scratch", target_mb).result()
    return versions


def measure_tool(runner: Runner, result: ToolResult, version: Version,
                 previous: Version | None) -> None:
    """Commit one version with one tool and record bytes, time and the diff from previous."""
    before = runner.storage_bytes() if previous else 0
    timed = runner.commit(version)
    after = runner.storage_bytes()
    runner.mark(version)
    step = StepResult(version.name, after - before, after, timed.seconds, timed.detail)
    if previous is not None:
        diff = runner.diff(previous, version)
        step.diff_seconds, step.diff_detail = diff.seconds, diff.detail
    result.steps.append(step)


def check_out_v0(runner: Runner, result: ToolResult, versions: list[Version],
                 v0_digest: str) -> None:
    """Time checking out the shuffled version from the final state, the re-sharded one from
    there, then v0.

    Why not v0 from the final state: after "revert to v0" the tools already hold v0's content,
    and git-based tools would answer without doing anything. The shuffled version is the hard
    case for a row store: every row of every file moved, so each file gathers rows from all
    chunks.
    """
    result.checkout_shuffled_seconds = runner.checkout(versions[SHUFFLED]).seconds
    result.checkout_resharded_seconds = runner.checkout(versions[RESHARDED]).seconds
    result.checkout_seconds = runner.checkout(versions[0]).seconds
    result.checkout_verified = runner.digest() == v0_digest


def start_tool(runner: Runner, result: ToolResult, work: Path) -> None:
    """Create the tool's repository or table under work/tools/<name>; record its version."""
    slug = runner.name.lower().replace(" ", "-").replace("(", "").replace(")", "")
    runner.start(work / "tools" / slug)
    result.version = runner.tool_version()


class Session:
    """The tools still being measured, with their results."""

    def __init__(self, runners: list[Runner], results: list[ToolResult],
                 console: Console) -> None:
        self.live = dict(zip(runners, results))
        self.console = console

    def attempt(self, runner: Runner, what: str, action: Callable[..., object],
                *args: object) -> None:
        """action(runner, result, *args); on any exception, record it and drop the tool.

        Why any exception: one tool's trouble must not cost the whole run's measurements;
        the report shows the error and the exit status is 1.
        """
        result = self.live[runner]
        try:
            action(runner, result, *args)
        except Exception as error:  # noqa: BLE001 - recorded per tool, see the docstring
            traceback.print_exc(file=sys.stderr)
            result.error = f"{what}: {error}".splitlines()[0][:300]
            self.console.log(f"  {runner.name} failed at {what}: {result.error}")
            runner.close()
            del self.live[runner]


def run_tools(session: Session, versions: list[Version], work: Path) -> None:
    """Walk the versions, each through every live tool, then check out v0 with each."""
    for runner in list(session.live):
        session.attempt(runner, "start", start_tool, work)
    for position, version in enumerate(versions):
        previous = versions[position - 1] if position else None
        session.console.log(f"step {position}: {version.name}")
        for runner in list(session.live):
            start = time.perf_counter()
            session.attempt(runner, version.name, measure_tool, version, previous)
            if runner in session.live:
                session.console.log(f"  {runner.name}: {time.perf_counter() - start:.1f} s")
    v0_digest = files_digest(versions[0].data)
    for runner in list(session.live):
        session.attempt(runner, "checkout v0", check_out_v0, versions, v0_digest)
    for runner in session.live:
        runner.close()


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--mb", type=float, default=DEFAULT_MB, help="v0 Parquet size in MB")
    size.add_argument("--quick", action="store_true", help=f"{QUICK_MB} MB")
    size.add_argument("--ci", action="store_true",
                      help=f"{CI_MB} MB, installed tools only, results to bench/results/tmp")
    parser.add_argument("--tools", help="comma-separated tool names (default: all)")
    parser.add_argument("--no-install", action="store_true", help="skip tools not installed")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    return parser.parse_args()


def main() -> int:
    """Run every tool over the edit suite; exit 1 if a tool that ran failed."""
    args = parse_args()
    console = Console(markup=False, width=None if sys.stdout.isatty() else REPORT_WIDTH,
                      log_path=False)
    mode = "ci" if args.ci else "quick" if args.quick else "full"
    target_mb = CI_MB if args.ci else QUICK_MB if args.quick else args.mb
    wanted = {n.strip().lower() for n in args.tools.split(",")} if args.tools else None
    classes = [c for c in RUNNERS if wanted is None or c.name.lower() in wanted]
    started = time.perf_counter()
    machine = read_machine()
    work = Path(tempfile.mkdtemp(prefix="cgit-bench-run-"))
    try:
        runners = [cls() for cls in classes]
        results = [ToolResult(r.name, r.storage, r.granularity, r.checkout_means)
                   for r in runners]
        for runner, result in zip(runners, results):
            console.log(f"setting up {runner.name}")
            result.skipped = runner.setup(allow_install=not (args.ci or args.no_install))
            if result.skipped:
                console.log(f"  skipped: {result.skipped}")
        console.log(f"building {target_mb:g} MB of Parquet and its {mode} edit suite")
        (work / "scratch").mkdir()
        versions = build_in_child(work, target_mb)
        v0_files = shard_paths(versions[0].data)
        corpus = Corpus(sum(pq.ParquetFile(p).metadata.num_rows for p in v0_files),
                        sum(p.stat().st_size for p in v0_files), SHARDS, target_mb,
                        [v.name for v in versions])
        run = RunResult(datetime.date.today().isoformat(), mode, machine, corpus,
                        pyarrow_copy_seconds(v0_files, work / "scratch"))
        active = [i for i, r in enumerate(results) if not r.skipped]
        run_tools(Session([runners[i] for i in active], [results[i] for i in active], console),
                  versions, work)
    finally:
        if args.keep:
            console.log(f"work directory kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    run.tools = results
    run.machine.load_at_end = os.getloadavg()
    run.wall_seconds = time.perf_counter() - started
    out_dir = RESULTS / "tmp" if args.ci else RESULTS
    stem = run.date + ("" if mode == "full" else f"-{mode}")
    md, js = write_results(run, out_dir, stem)
    console.print(md.read_text())
    console.print(f"wrote {md} and {js}")
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
