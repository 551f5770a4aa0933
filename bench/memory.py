"""Peak memory of `cgit add` + `cgit commit` on one Parquet file larger than RAM allows.

Why: corpora are bigger than the machines that curate them, so ingest must stream: hash,
chunk and store a row group at a time, never the whole table. The file is written streaming
(row group by row group) and the peak RSS of each cgit process is read from the kernel via
wait4(); a plain `pq.read_table` of the same file, the thing users would otherwise do, is
measured the same way for comparison.

Run: python bench/memory.py [--quick | --gb N] [--json results.json] [--keep]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pyarrow.parquet as pq
from edits import REPORT_WIDTH, ROW_GROUP_ROWS, cgit_command
from rich.console import Console
from rich.table import Table

from corpusgit import demo

GB = 1_000_000_000
DEFAULT_GB = 5.0  # of document text, i.e. roughly the Arrow size of the table in memory
QUICK_GB = 0.3
TARGET_PEAK_BYTES = 1_500_000_000
# Measures its child with wait4(). It exists because a child of this benchmark would inherit
# our own high-water RSS (the demo text pool): Linux carries it over across fork and exec.
LAUNCHER = (
    "import os, subprocess, sys\n"
    "child = subprocess.Popen(sys.argv[2:])\n"
    "_, status, usage = os.wait4(child.pid, 0)\n"
    "open(sys.argv[1], 'w').write(str(usage.ru_maxrss))\n"
    "sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)\n"
)
READ_TABLE = "import sys, pyarrow.parquet as pq; print(pq.read_table(sys.argv[1]).nbytes)"


@dataclass(frozen=True, slots=True)
class Run:
    """One measured process: what ran, how long, how much memory at most."""

    step: str
    seconds: float
    peak_rss_bytes: int
    exit_code: int


def run_measured(step: str, command: list[str], cwd: Path, scratch: Path) -> Run:
    """Run a command through LAUNCHER and return its peak RSS as the kernel counted it."""
    rss_file = scratch / "maxrss"
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", LAUNCHER, str(rss_file), *command],
                              cwd=cwd, stdout=out, stderr=subprocess.STDOUT, check=False)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            out.seek(0)
            tail = out.read()[-2000:].decode("utf-8", "replace")
            print(f"{step} exited {proc.returncode}:\n{tail}", file=sys.stderr)
    peak_kib = int(rss_file.read_text())  # Linux reports ru_maxrss in KiB
    return Run(step, seconds, peak_kib * 1024, proc.returncode)


def write_big_file(path: Path, text_bytes: int) -> int:
    """Stream documents into one Parquet file, a row group per batch; returns its size."""
    batches = demo.iter_batches(text_bytes, batch_rows=ROW_GROUP_ROWS, seed=0)
    with pq.ParquetWriter(path, demo.SCHEMA, version="2.6", compression="zstd",
                          compression_level=3, use_dictionary=["source", "lang"],
                          write_statistics=True, data_page_size=1 << 20) as writer:
        for batch in batches:
            writer.write_batch(batch)
    return path.stat().st_size


def measure(tree: Path, text_bytes: int, console: Console) -> list[Run]:
    """Write the file, then measure pyarrow's read and cgit's init, add and commit."""
    (tree / "data").mkdir()
    big = tree / "data" / "big.parquet"
    start = time.perf_counter()
    size = write_big_file(big, text_bytes)
    console.print(f"wrote {text_bytes / GB:.2f} GB of text as {size / GB:.2f} GB of Parquet "
                  f"in {time.perf_counter() - start:.0f} s")
    cgit = cgit_command()
    scratch = tree / ".bench"
    scratch.mkdir()
    runs = [run_measured("pyarrow pq.read_table", [sys.executable, "-c", READ_TABLE, str(big)],
                         tree, scratch)]
    steps: list[tuple[str, list[str] | None]] = [
        ("cgit init", ["init"]), ("cgit add data/", ["add", "data/"]), ("cgit commit", ["commit", "-m", "big"]),
        ("branch", ["switch", "-c", "side"]), ("edit: drop 1%", None), ("commit side", ["add", "data/"]),
        ("", ["commit", "-m", "side drops 1%"]), ("back", ["switch", "main"]), ("edit: append 1%", None),
        ("commit main", ["add", "data/"]), ("", ["commit", "-m", "main appends 1%"]),
        ("cgit merge side (3-way)", ["merge", "side", "-m", "merge"]),
    ]
    for step, args in steps:
        if args is None:
            rewrite_big_file(big, drop=step.startswith("edit: drop"))
            continue
        run = run_measured(step, [*cgit, *args], tree, scratch)
        if step.startswith("cgit"):
            runs.append(run)
        if run.exit_code != 0:
            break
    return runs


def rewrite_big_file(path: Path, drop: bool) -> None:
    """A pipeline step on the big table, streaming: drop every 100th row, or append 1% more."""
    pf = pq.ParquetFile(path)
    tmp = path.with_name(".rewrite.parquet")
    with pq.ParquetWriter(tmp, pf.schema_arrow, compression="zstd") as writer:
        for group in range(pf.num_row_groups):
            batch = pf.read_row_group(group)
            if drop:
                keep = [i % 100 != 7 for i in range(batch.num_rows)]
                batch = batch.filter(keep)
            writer.write_table(batch)
        if not drop:
            extra = pf.metadata.num_rows // 100
            for batch in demo.iter_batches(extra * 5000, batch_rows=ROW_GROUP_ROWS, seed=9):
                writer.write_batch(batch)
    tmp.replace(path)


def render(runs: list[Run], console: Console) -> bool:
    """Print the table; True when every cgit step succeeded within the memory target."""
    table = Table(title="peak RSS per process")
    for column in ("step", "seconds", "peak RSS", "target", "pass/fail"):
        table.add_column(column, justify="left" if column == "step" else "right")
    cgit_runs = [r for r in runs if r.step.startswith("cgit")]
    for r in runs:
        is_cgit = r in cgit_runs
        ok = r.exit_code == 0 and r.peak_rss_bytes <= TARGET_PEAK_BYTES
        table.add_row(r.step, f"{r.seconds:.1f}", f"{r.peak_rss_bytes / GB:.2f} GB",
                      f"≤ {TARGET_PEAK_BYTES / GB:.1f} GB" if is_cgit else "",
                      ("pass" if ok else "FAIL") if is_cgit else "")
    console.print(table)
    arrow = runs[0].peak_rss_bytes
    cgit_peak = max(r.peak_rss_bytes for r in cgit_runs)
    console.print(f"cgit peak / pyarrow read_table peak: {cgit_peak / arrow:.2f}x")
    return len(cgit_runs) == 4 and all(
        r.exit_code == 0 and r.peak_rss_bytes <= TARGET_PEAK_BYTES for r in cgit_runs)


def main() -> int:
    """Run the benchmark; exit 1 when the target is missed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gb", type=float, default=DEFAULT_GB, help="GB of document text")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_GB} GB instead")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the work tree for inspection")
    args = parser.parse_args()
    console = Console(markup=False, width=None if sys.stdout.isatty() else REPORT_WIDTH)
    tree = Path(tempfile.mkdtemp(prefix="cgit-bench-memory-"))
    try:
        runs = measure(tree, int((QUICK_GB if args.quick else args.gb) * GB), console)
    finally:
        if args.keep:
            console.print(f"work tree kept in {tree}")
        else:
            shutil.rmtree(tree, ignore_errors=True)
    passed = render(runs, console)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in runs], indent=2) + "\n")
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
