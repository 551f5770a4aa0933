"""Training mixes: materialisation throughput, time to the first batch, and locate latency.

Why: a mix is only useful if exporting it is about as fast as the pipeline users would write by
hand, if a training job starts streaming at once, and if "what did step N see?" is answered
while someone is looking at the loss curve. The corpus is real text (`corpusgit.demo`): a big
`data/web` source plus `data/books` (a tenth of its size), committed with `cgit`.

- materialise: `cgit mix materialize` of a mix taking ~MIX_SHARE of each source's tokens, against
  a plain pyarrow pipeline on the same selected rows: read each source file, `take` the
  selected rows (in file order, no shuffling), write them with the same Parquet writer options
  into shards of the same size. Target: at least 0.5x the plain pipeline's throughput.
- first batch: a fresh process imports `corpusgit.mix`, opens the mix and takes its first batch
  of 1,024 samples. Target: < 2 s (the interpreter's own start-up is not counted).
- locate: `cgit mix locate HASH --index N` (a whole CLI process, as users run it), best of 3,
  at the middle of the mix. Target: < 1 s.

Run: python bench/mix.py [--quick | --gb N] [--json results.json] [--keep]
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

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from edits import REPORT_WIDTH, BenchError, Cgit, cgit_command
from rich.console import Console
from rich.table import Table

from corpusgit import Repo, demo
from corpusgit.mix.access import MixData
from corpusgit.mix.materialize import ROW_GROUP_ROWS, parquet_options, shard_ranges
from corpusgit.mix.storage import load_mix

GB = 1_000_000_000
DEFAULT_GB = 10.0  # the "10 GB source", in document text
QUICK_GB = 0.3
WEB_SHARDS_PER_GB = 4  # ~250 MB text files, a common shard size for crawls
MIX_SHARE = 0.25  # of each source's tokens: a typical down-sampled pre-training mix
MIN_THROUGHPUT_RATIO = 0.5
MAX_FIRST_BATCH_SECONDS = 2.0
MAX_LOCATE_SECONDS = 1.0
REPEATS = 3
FIRST_BATCH = (
    "import sys, time\n"
    "start = time.perf_counter()\n"
    "import corpusgit.mix as mix\n"
    "batch = next(mix.open(sys.argv[1], sys.argv[2]).batches())\n"
    "print(time.perf_counter() - start, batch.num_rows)\n"
)


@dataclass(frozen=True, slots=True)
class Result:
    measure: str
    value: float
    unit: str
    target: str
    passed: bool
    note: str


def build_corpus(cgit: Cgit, text_bytes: int) -> tuple[float, int]:
    """Write and commit data/web and data/books; returns (seconds to commit, Parquet bytes)."""
    data = cgit.root / "data"
    shards = max(1, round(text_bytes / GB * WEB_SHARDS_PER_GB))
    paths = demo.write_corpus(data / "web", text_bytes, shards, seed=0)
    paths += demo.write_corpus(data / "books", text_bytes // 10, max(1, shards // 4), seed=1)
    cgit.run("init")
    return cgit.add_commit("corpus"), sum(p.stat().st_size for p in paths)


def write_spec(root: Path, text_bytes: int) -> Path:
    tokens = int(text_bytes * 1.1 / 4 * MIX_SHARE)  # both sources' text, ~4 characters per token
    spec = root / "mix.json"
    spec.write_text(json.dumps({
        "seed": 1, "budget": {"tokens": tokens}, "shard_rows": 20_000,
        "sources": [{"name": "web", "path": "data/web", "weight": 10}, {"name": "books", "path": "data/books", "weight": 1}],
    }))
    return spec


def plain_pyarrow_seconds(root: Path, mix_id: str, scratch: Path) -> tuple[float, int]:
    """The baseline pipeline on the rows the mix selected; returns (seconds, rows written)."""
    repo = Repo(root)
    data = MixData(repo, load_mix(repo, mix_id))
    source, row, _ = data.plan_at(np.arange(data.num_samples, dtype=np.int64))
    per_file: list[tuple[Path, np.ndarray]] = []
    for s, tables in enumerate(data.tables):
        chosen = np.sort(row[source == s])
        file_of, local = data.sources[s].locate(chosen)
        per_file += [(root / path, local[file_of == t]) for t, (path, _) in enumerate(tables)]
    columns = data.columns
    shard_rows = data.stored.mix.shard_rows
    out = scratch / "plain"
    out.mkdir()
    start = time.perf_counter()
    writer: pq.ParquetWriter | None = None
    in_shard = shards = written = 0
    for path, rows in per_file:
        table = pq.read_table(path, columns=columns).take(pa.array(rows))
        for batch in table.to_batches(max_chunksize=ROW_GROUP_ROWS):
            while batch.num_rows:
                if writer is None:
                    writer = pq.ParquetWriter(out / f"part-{shards:05d}.parquet", table.schema, **parquet_options(table.schema, table))
                piece = batch.slice(0, shard_rows - in_shard)
                writer.write_batch(piece, row_group_size=ROW_GROUP_ROWS)
                in_shard += piece.num_rows
                written += piece.num_rows
                batch = batch.slice(piece.num_rows)
                if in_shard == shard_rows:
                    writer.close()
                    writer, in_shard, shards = None, 0, shards + 1
    if writer is not None:
        writer.close()
    seconds = time.perf_counter() - start
    shutil.rmtree(out)
    return seconds, written


def first_batch_seconds(root: Path, mix_id: str) -> tuple[float, int]:
    """Best of REPEATS fresh processes (the first also warms the page cache like a rerun would)."""
    best, rows = float("inf"), 0
    for _ in range(REPEATS):
        proc = subprocess.run([sys.executable, "-c", FIRST_BATCH, mix_id, str(root)], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            raise BenchError(f"mix.open failed:\n{proc.stderr[-2000:]}")
        seconds, n = proc.stdout.split()
        best, rows = min(best, float(seconds)), int(n)
    return best, rows


def measure(cgit: Cgit, text_bytes: int, scratch: Path) -> list[Result]:
    commit_seconds, parquet_bytes = build_corpus(cgit, text_bytes)
    spec = write_spec(cgit.root, text_bytes)
    proc, create_seconds = cgit.run("mix", "create", str(spec), "--json", "-q")
    created = json.loads(proc.stdout)
    mix_id, samples = created["id"], created["samples"]
    plain_seconds, rows = plain_pyarrow_seconds(cgit.root, mix_id, scratch)
    if rows != samples:
        raise BenchError(f"baseline wrote {rows} rows, the mix has {samples}")
    _, mat_seconds = cgit.run("mix", "materialize", mix_id, "-o", str(scratch / "mix-out"), "-q")
    out_bytes = sum(p.stat().st_size for p in (scratch / "mix-out").glob("*.parquet"))
    shards = len(shard_ranges(samples, 20_000))
    shutil.rmtree(scratch / "mix-out")
    ratio = plain_seconds / mat_seconds
    first, batch_rows = first_batch_seconds(cgit.root, mix_id)
    locate = min(cgit.run("mix", "locate", mix_id, "--index", str(samples // 2), "--json")[1] for _ in range(REPEATS))
    corpus = f"{text_bytes / GB:g} GB of text, {parquet_bytes / GB:.2f} GB Parquet"
    return [
        Result("commit the corpus (cgit add + commit)", commit_seconds, "s", "-", True, corpus),
        Result("mix create (scan, plan, store)", create_seconds, "s", "-", True, f"{samples:,} samples, ~{MIX_SHARE:.0%} of tokens"),
        Result("materialize throughput vs plain pyarrow", ratio, "x", f">= {MIN_THROUGHPUT_RATIO}", ratio >= MIN_THROUGHPUT_RATIO,
               f"cgit {mat_seconds:.1f} s vs pyarrow {plain_seconds:.1f} s for {samples:,} rows, {out_bytes / 1e6:,.0f} MB in {shards} shards"),
        Result("mix.open: first batch", first, "s", f"< {MAX_FIRST_BATCH_SECONDS:g}", first < MAX_FIRST_BATCH_SECONDS,
               f"{batch_rows:,} samples, fresh process, imports included"),
        Result("cgit mix locate --index", locate, "s", f"< {MAX_LOCATE_SECONDS:g}", locate < MAX_LOCATE_SECONDS, "whole CLI process, best of 3"),
    ]


def render(results: list[Result], console: Console) -> None:
    table = Table(title="cgit mix", title_justify="left")
    for col in ("measure", "value", "target", "ok", "note"):
        table.add_column(col, justify="right" if col == "value" else "left", no_wrap=col != "note")
    for r in results:
        table.add_row(r.measure, f"{r.value:.2f} {r.unit}", r.target, "yes" if r.passed else "NO", r.note)
    console.print(table)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--gb", type=float, default=DEFAULT_GB, help="text in the big source, in GB")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_GB} GB instead")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the work tree for inspection")
    return parser.parse_args()


def main() -> int:
    """Run the benchmark; exit 1 when any target is missed."""
    args = parse_args()
    console = Console(markup=False, width=None if sys.stdout.isatty() else REPORT_WIDTH)
    work = Path(tempfile.mkdtemp(prefix="cgit-bench-mix-"))
    try:
        (work / "tree").mkdir()
        (work / "scratch").mkdir()
        results = measure(Cgit(work / "tree", tuple(cgit_command())), int((QUICK_GB if args.quick else args.gb) * GB), work / "scratch")
    except BenchError as error:
        console.print(f"error: {error}", style="red")
        return 2
    finally:
        if args.keep:
            console.print(f"work tree kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    render(results, console)
    if args.json:
        args.json.write_text(json.dumps([asdict(r) for r in results], indent=2) + "\n")
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
