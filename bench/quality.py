"""Quality-check throughput, and what re-checking costs after a 1% append.

Why: hooks run on every commit, so a full check must keep up with ingest, and an append-only
commit must cost about what it adds, not a re-scan of the table. Facts are cached per chunk id,
so after an append only the new chunks are measured; table-level metrics (duplicate sets,
percentiles, drift) are recombined from the cached per-row facts.

Setup: one table of real text from ``corpusgit.demo`` (1 GB by default), committed with
``cgit add`` + ``cgit commit --no-verify``; a ``cgit.toml`` configuring all eleven built-in
checks (severity ``warn``, so the demo text's own PII and code never stop the run), with a
200-term list (Latin and CJK) for ``banned-terms``.

- full: every check over the committed table with an empty fact cache (``cgit check --rev
  HEAD``'s work); MB/s = the table's logical bytes / seconds; best of 2.
- re-check: 1% new documents appended to the file, ``cgit add``, then the staged table checked
  against HEAD (``cgit commit``'s hooks), with the cache the full check left (the new chunks'
  facts dropped before each run); best of 3.

Both are timed inside a fresh interpreter around the library call (numpy and pyarrow imported
before), so the numbers include loading the language model and reading caches but not start-up; the CLI's wall time for
the re-check (``cgit check``, start-up included) is shown for reference, and so is CPU time
(user + system, all threads): on a busy machine wall time inflates, CPU time much less.

Targets: full >= 100 MB/s; re-check <= 5% of full.

Run: python bench/quality.py [--quick | --mb N] [--json results.json] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

from corpusgit import demo

MB = 1_000_000
DEFAULT_MB = 1000  # the "1 GB table"
QUICK_MB = 100
APPEND_SHARE = 0.01
MIN_MBPS = 100.0
MAX_RECHECK_SHARE = 0.05
FULL_RUNS = 2  # best of: a shared machine's other processes only ever add time
RECHECK_RUNS = 3
PATH = "data/corpus.parquet"
TERMS = [f"forbiddenterm{i}" for i in range(180)] + [f"违禁词{i}" for i in range(20)]
REPORT_WIDTH = 120  # when piped to a file or CI log, rich would otherwise wrap at 80 columns
CGIT_TOML = """\
[hooks.pre-commit.schema]
required = { id = "string", text = "string", source = "string" }
severity = "warn"
[hooks.pre-commit.nulls]
severity = "warn"
[hooks.pre-commit.duplicates]
max_parent_ratio = 0.0
severity = "warn"
[hooks.pre-commit.length]
min = 200
max = 100000
percentiles = { p50 = { min = 500 } }
severity = "warn"
[hooks.pre-commit.language]
allowed = ["en"]
severity = "warn"
[hooks.pre-commit.pii]
severity = "warn"
[hooks.pre-commit.banned-terms]
terms = "terms.txt"
severity = "warn"
[hooks.pre-commit.encoding]
severity = "warn"
[hooks.pre-commit.row-delta]
severity = "warn"
[hooks.pre-commit.drift]
severity = "warn"
[hooks.pre-commit.provenance]
columns = ["source"]
severity = "warn"
"""

MEASURE = """
import json, resource, sys, time
import numpy, pyarrow, pyarrow.compute, pyarrow.parquet  # start-up, not check work: loaded before timing
from corpusgit import Repo
from corpusgit.quality.runner import check_worktree
repo = Repo(sys.argv[1])
rev = sys.argv[2] or None
before = resource.getrusage(resource.RUSAGE_SELF)
start = time.perf_counter()
report = check_worktree(repo, rev)
seconds = time.perf_counter() - start
after = resource.getrusage(resource.RUSAGE_SELF)
cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "computed": report.chunks_computed, "cached": report.chunks_cached,
                  "results": len(report.results), "outcome": report.outcome}))
"""


class BenchError(RuntimeError):
    """A cgit command failed in a way the benchmark cannot measure around."""


# Child processes cache bytecode as a normal installation does (some sandboxes switch it off,
# which makes every start-up recompile each imported module).
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def cgit(root: Path, *args: str) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "corpusgit", *args], cwd=root, capture_output=True, text=True, env=ENV)
    if done.returncode != 0 and args[0] != "check":
        raise BenchError(f"cgit {' '.join(args)} failed:\n{done.stderr}")
    return time.perf_counter() - start


def measure(root: Path, rev: str | None) -> dict[str, Any]:
    done = subprocess.run([sys.executable, "-c", MEASURE, str(root), rev or ""], capture_output=True, text=True, env=ENV)
    if done.returncode != 0:
        raise BenchError(f"check failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def best(reset: Callable[[], None], run: Callable[[], dict[str, Any]], runs: int) -> dict[str, Any]:
    """The fastest of ``runs`` runs, each after ``reset``: other processes on a shared machine
    only ever add time."""
    results = []
    for _ in range(runs):
        reset()
        results.append(run())
    return min(results, key=lambda r: float(r["seconds"]))


def forget_new_chunks(root: Path) -> None:
    """Drop the cached facts of chunks HEAD's table does not have: the state right after
    ``cgit add`` of the appended file, so every re-check run measures the new chunks."""
    from corpusgit import Repo
    from corpusgit.revparse import resolve_table
    from corpusgit.table.model import TableObject

    repo = Repo(root)
    old = {c.id for c in resolve_table(repo, "HEAD", PATH).chunk_refs()}
    staged = TableObject.from_json(repo.store.get_meta(repo.read_index().entries[PATH].id))
    for ref in staged.chunk_refs():
        if ref.id not in old:
            (root / ".cgit" / "cache" / "quality" / ref.id[:2] / f"{ref.id}.facts").unlink(missing_ok=True)


def write_corpus(path: Path, target_bytes: int) -> int:
    """Stream demo documents into one Parquet file; returns the row count."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rows = 0
    with pq.ParquetWriter(path, demo.SCHEMA, compression="zstd") as writer:
        for batch in demo.iter_batches(target_bytes):
            writer.write_batch(batch)
            rows += batch.num_rows
    return rows


def append(path: Path, rows: int) -> int:
    """Rewrite ``path`` as its rows plus ``rows`` new documents (another seed) at the end."""
    tmp = path.with_name(".append.parquet")
    added = 0
    with pq.ParquetWriter(tmp, demo.SCHEMA, compression="zstd") as writer:
        for batch in pq.ParquetFile(path).iter_batches(batch_size=demo.WRITE_BATCH_ROWS):
            writer.write_batch(batch)
        for batch in demo.iter_batches(1 << 62, seed=1):
            take = min(batch.num_rows, rows - added)
            writer.write_batch(batch.slice(0, take))
            added += take
            if added >= rows:
                break
    os.replace(tmp, path)
    return added


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=DEFAULT_MB, help="size of the table's text in MB")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_MB} MB")
    parser.add_argument("--json", type=Path, help="write the results here")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    mb = QUICK_MB if args.quick else args.mb
    console = Console(width=REPORT_WIDTH if not sys.stdout.isatty() else None)
    os.environ.setdefault("CGIT_AUTHOR_NAME", "bench")
    os.environ.setdefault("CGIT_AUTHOR_EMAIL", "bench@example.com")
    tmp = Path(tempfile.mkdtemp(prefix="cgit-bench-quality-"))
    try:
        root = tmp / "repo"
        root.mkdir()
        cgit(root, "init")
        console.print(f"writing {mb} MB of demo text ...")
        rows = write_corpus(root / PATH, mb * MB)
        add_s = cgit(root, "add", "data") + cgit(root, "commit", "-m", "v0", "--no-verify")
        from corpusgit import Repo
        from corpusgit.revparse import resolve_table

        table = resolve_table(Repo(root), "HEAD", PATH)
        logical = table.logical_bytes
        (root / "cgit.toml").write_text(CGIT_TOML)
        (root / "terms.txt").write_text("\n".join(TERMS) + "\n", encoding="utf-8")
        console.print(f"{rows:,} rows, {logical / MB:,.0f} MB logical in {len(table.chunk_refs())} chunks (add + commit {add_s:.1f} s); full check ...")
        full = best(lambda: shutil.rmtree(root / ".cgit" / "cache", ignore_errors=True), lambda: measure(root, "HEAD"), FULL_RUNS)
        new_rows = max(1, int(rows * APPEND_SHARE))
        append(root / PATH, new_rows)
        add2_s = cgit(root, "add", "data")
        console.print(f"appended {new_rows:,} rows (add {add2_s:.1f} s); re-check ...")
        again = best(lambda: forget_new_chunks(root), lambda: measure(root, None), RECHECK_RUNS)
        forget_new_chunks(root)
        cli_s = cgit(root, "check")
    finally:
        if args.keep:
            console.print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    mbps = logical / MB / full["seconds"]
    share = again["seconds"] / full["seconds"]
    ok_full, ok_share = mbps >= MIN_MBPS, share <= MAX_RECHECK_SHARE
    t = Table(title=f"quality checks: {len(CGIT_TOML.split('[hooks')) - 1} checks on a {logical / MB:,.0f} MB table ({rows:,} rows)")
    for col in ("run", "time", "cpu", "chunks measured", "chunks from cache", "result", "target", "ok"):
        t.add_column(col, justify="right" if col not in ("run", "ok") else "left")
    t.add_row("full check", f"{full['seconds']:.2f} s", f"{full['cpu_seconds']:.2f} s", str(full["computed"]), str(full["cached"]),
              f"{mbps:,.0f} MB/s", f">= {MIN_MBPS:.0f} MB/s", "yes" if ok_full else "NO")
    t.add_row(f"re-check after {APPEND_SHARE:.0%} append", f"{again['seconds']:.2f} s", f"{again['cpu_seconds']:.2f} s", str(again["computed"]),
              str(again["cached"]), f"{share:.1%} of full", f"<= {MAX_RECHECK_SHARE:.0%}", "yes" if ok_share else "NO")
    t.add_row("  cgit check (wall, start-up incl.)", f"{cli_s:.2f} s", "", "", "", f"{cli_s / full['seconds']:.1%} of full", "", "")
    console.print(f"CPU counts every thread; the full check measures chunks on {os.cpu_count()} threads, the re-check mostly reads caches.")
    console.print(t)
    if args.json:
        args.json.write_text(json.dumps({"mb": mb, "rows": rows, "logical_bytes": logical, "full": full, "recheck": again,
                                         "full_mb_per_s": mbps, "recheck_share": share, "recheck_cli_s": cli_s}, indent=2))
    if not (ok_full and ok_share):
        sys.exit(1)


if __name__ == "__main__":
    main()
