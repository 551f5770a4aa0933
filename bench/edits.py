"""What each typical corpus edit adds to the object store, as a share of the first version.

Why: the product promise is that a filter, redaction, re-shard or append costs about what
changed, not a new copy of every shard it touched (as with DVC or Git LFS). Each edit here is
applied the way a user's pipeline would apply it, by rewriting Parquet shard files with
pyarrow, then committed with `cgit add data/` + `cgit commit`; the growth of `.cgit/objects`
is compared with v0's. The v0 commit is also timed against a plain pyarrow read+write of the
same files, since ingest must not be much slower than the data pipeline that feeds it.

Run: python bench/edits.py [--quick | --mb N] [--json results.json] [--keep]
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import xxhash
from rich.console import Console
from rich.table import Table

from corpusgit import demo

MB = 1_000_000
DEFAULT_MB = 200  # the product issue asks for at least 200 MB of Parquet
QUICK_MB = 20
SHARDS = 16
# A different file count than SHARDS, so that no shard boundary survives the re-shard.
RESHARD_FILES = 10
APPEND_SHARE = 0.10
FILTER_SHARE = 0.10
MODIFY_SHARE = 0.02
MODIFY_TARGET = 0.05  # the target for rewriting the text of 2% of rows
# Allowance per edit, as a share of v0, for what is not row data: segment lists (~20-30 bytes
# per segment), trees and commits.
SLACK = 0.01
UNCHANGED_MAX_SECONDS = 1.0
# Ingest may be at most this much slower than a plain pyarrow read+write of the same files.
MIN_THROUGHPUT_RATIO = 0.5
# Text written once to measure the Parquet compression ratio that sizes the corpus.
SAMPLE_TEXT_BYTES = 16 * MB
ROW_GROUP_ROWS = 2048  # as demo.write_corpus writes: ~10 MB of text per row group
REPORT_WIDTH = 140  # when piped to a file or CI log, rich would otherwise wrap at 80 columns


class BenchError(RuntimeError):
    """A cgit command failed in a way the benchmark cannot measure around."""


def cgit_command() -> list[str]:
    """The cgit console script next to this interpreter, on PATH, or `python -m corpusgit`."""
    sibling = Path(sys.executable).with_name("cgit")
    if sibling.exists():
        return [str(sibling)]
    found = shutil.which("cgit")
    return [found] if found else [sys.executable, "-m", "corpusgit"]


@dataclass(frozen=True, slots=True)
class Cgit:
    """Runs cgit in one work tree and times each call, including interpreter start-up."""

    root: Path
    command: tuple[str, ...]

    def run(self, *args: str, ok_codes: tuple[int, ...] = (0,)
            ) -> tuple[subprocess.CompletedProcess[str], float]:
        """Run `cgit ARGS`; raise BenchError unless it exits with one of ok_codes."""
        start = time.perf_counter()
        proc = subprocess.run([*self.command, *args], cwd=self.root, capture_output=True,
                              text=True, check=False)
        elapsed = time.perf_counter() - start
        if proc.returncode not in ok_codes:
            raise BenchError(f"cgit {' '.join(args)} exited {proc.returncode}:\n"
                             f"{proc.stdout.strip()}\n{proc.stderr.strip()}")
        return proc, elapsed

    def add_commit(self, message: str) -> float:
        """Stage data/ and commit it; the seconds both took."""
        _, add_seconds = self.run("add", "data/")
        _, commit_seconds = self.run("commit", "-m", message)
        return add_seconds + commit_seconds


def tree_bytes(path: Path) -> int:
    """Total size of the regular files under path (the object store's disk cost)."""
    return sum(entry.stat().st_size for entry in path.rglob("*") if entry.is_file())


def shard_paths(data: Path) -> list[Path]:
    """The Parquet files of the dataset, in name order (the dataset's row order)."""
    return sorted(data.glob("*.parquet"))


def write_shard(path: Path, table: pa.Table) -> None:
    """Replace a shard atomically, with every writer option spelled out like a pipeline's."""
    tmp = path.with_name(path.name + ".tmp")
    pq.write_table(table, tmp, row_group_size=ROW_GROUP_ROWS, version="2.6",
                   compression="zstd", compression_level=3, use_dictionary=["source", "lang"],
                   write_statistics=True, data_page_size=1 << 20)
    os.replace(tmp, path)


def rewrite_shards(data: Path, transform: Callable[[int, pa.Table], pa.Table]) -> None:
    """Apply a per-shard transform in place, one shard in memory at a time."""
    for index, path in enumerate(shard_paths(data)):
        write_shard(path, transform(index, pq.read_table(path)))


def hash_unit(ids: pa.ChunkedArray, salt: str) -> np.ndarray:
    """A deterministic uniform [0, 1) per row from its id, so choices are scattered and stable."""
    seed = xxhash.xxh3_64_intdigest(salt.encode())
    values = [xxhash.xxh3_64_intdigest(i.encode(), seed=seed) for i in ids.to_pylist()]
    return np.asarray(values, dtype=np.uint64) / float(2**64)


def append_rows(data: Path, new_rows: int) -> None:
    """Append unseen documents (seed 1) to the end of every shard, as a crawl refresh would."""
    docs = demo.iter_documents(10**15, seed=1)
    shards = len(shard_paths(data))

    def transform(index: int, table: pa.Table) -> pa.Table:
        count = new_rows * (index + 1) // shards - new_rows * index // shards
        fresh = pa.Table.from_pylist(list(itertools.islice(docs, count)), schema=demo.SCHEMA)
        return pa.concat_tables([table, fresh.cast(table.schema)])

    rewrite_shards(data, transform)


def filter_rows(data: Path, share: float) -> None:
    """Drop a scattered, hash-chosen share of rows, as a quality filter would."""
    rewrite_shards(data, lambda _, t: t.filter(pa.array(hash_unit(t["id"], "filter") >= share)))


def add_float_column(data: Path, scratch: Path) -> int:
    """Add a `quality` score column; returns that column's own zstd Parquet size, per shard."""
    own_bytes = 0

    def transform(index: int, table: pa.Table) -> pa.Table:
        nonlocal own_bytes
        score = pa.array(hash_unit(table["id"], "quality"), pa.float64())
        alone = scratch / f"quality-{index}.parquet"
        pq.write_table(pa.table({"quality": score}), alone, compression="zstd",
                       row_group_size=ROW_GROUP_ROWS)
        own_bytes += alone.stat().st_size
        alone.unlink()
        return table.append_column("quality", score)

    rewrite_shards(data, transform)
    return own_bytes


def shout_first_sentence(text: str) -> str:
    """Upper-case the first sentence: a small, realistic in-place text fix."""
    end = text.find(". ")
    end = end + 1 if 0 < end < 300 else min(len(text), 120)
    return text[:end].upper() + text[end:]


def modify_text(data: Path, share: float,
                rewrite: Callable[[str], str] = shout_first_sentence, salt: str = "modify"
                ) -> None:
    """Rewrite the text of a scattered share of rows, keeping n_chars consistent.

    The rows are chosen by `hash_unit(id, salt) < share`, so a caller can find them again;
    bench/edit_suite.py passes its own rewrite and salt for the redaction edit.
    """

    def transform(_: int, table: pa.Table) -> pa.Table:
        chosen = hash_unit(table["id"], salt) < share
        texts = table["text"].to_pylist()
        texts = [rewrite(t) if c else t for t, c in zip(texts, chosen)]
        table = table.set_column(table.schema.get_field_index("text"), "text",
                                 pa.array(texts, pa.string()))
        lengths = pa.array([len(t) for t in texts], pa.int64())
        return table.set_column(table.schema.get_field_index("n_chars"), "n_chars", lengths)

    rewrite_shards(data, transform)


def iter_rows(paths: list[Path]) -> Iterator[pa.RecordBatch]:
    """All rows of the dataset in order, streamed a row group at a time."""
    for path in paths:
        yield from pq.ParquetFile(path).iter_batches(batch_size=ROW_GROUP_ROWS)


def reshard(data: Path, files: int, scratch: Path) -> None:
    """Rewrite the same rows, in the same order, into a different number of renamed files."""
    old = shard_paths(data)
    total = sum(pq.ParquetFile(p).metadata.num_rows for p in old)
    schema = pq.read_schema(old[0])
    staging = scratch / "reshard"
    staging.mkdir()
    batches = iter_rows(old)
    pending: pa.RecordBatch | None = None
    for index in range(files):
        want = total * (index + 1) // files - total * index // files
        with pq.ParquetWriter(staging / f"reshard-{index:04d}.parquet", schema, version="2.6",
                              compression="zstd", compression_level=3,
                              use_dictionary=["source", "lang"], write_statistics=True,
                              data_page_size=1 << 20) as writer:
            while want > 0:
                batch = pending if pending is not None else next(batches)
                writer.write_batch(batch.slice(0, want))
                pending = batch.slice(want) if batch.num_rows > want else None
                want -= min(want, batch.num_rows)
    for path in old:
        path.unlink()
    for path in sorted(staging.iterdir()):
        os.replace(path, data / path.name)
    staging.rmdir()


@dataclass(frozen=True, slots=True)
class EditResult:
    """One row of the report."""

    edit: str
    bytes_added: int
    share_of_v0_parquet: float
    share_of_v0_store: float  # the targets' denominator: bytes in .cgit/objects after v0
    target: str
    seconds: float
    passed: bool
    note: str = ""


def measure_edit(cgit: Cgit, name: str, apply: Callable[[], tuple[float, str]], v0: V0Result
                 ) -> EditResult:
    """Apply an edit (returning its allowed share of v0's Parquet and a note), commit, measure.

    Targets are shares of v0 as the object store holds it (the issue: "bytes added to
    .cgit/objects as a % of v0"); the share of the user's Parquet is printed beside it.
    """
    objects = cgit.root / ".cgit" / "objects"
    limit, note = apply()
    before = tree_bytes(objects)
    seconds = cgit.add_commit(name)
    added = tree_bytes(objects) - before
    return EditResult(name, added, added / v0.parquet_bytes, added / v0.store_bytes,
                      f"≤ {limit:.1%}", seconds, added <= limit * v0.store_bytes, note)


def measure_unchanged(cgit: Cgit) -> EditResult:
    """Re-adding an unchanged tree must be quick and the commit must refuse, adding nothing."""
    objects = cgit.root / ".cgit" / "objects"
    before = tree_bytes(objects)
    _, add_seconds = cgit.run("add", "data/")
    proc, commit_seconds = cgit.run("commit", "-m", "unchanged", ok_codes=tuple(range(256)))
    added = tree_bytes(objects) - before
    refused = proc.returncode != 0 and "nothing to commit" in (proc.stdout + proc.stderr).lower()
    seconds = add_seconds + commit_seconds
    return EditResult("add + commit unchanged tree", added, 0.0, 0.0,
                      f"0 B, refused, < {UNCHANGED_MAX_SECONDS:g} s", seconds,
                      added == 0 and refused and seconds < UNCHANGED_MAX_SECONDS)


def pyarrow_copy_seconds(paths: list[Path], scratch: Path) -> float:
    """The baseline: pq.read_table + pq.write_table (zstd) of each file, one at a time."""
    start = time.perf_counter()
    for path in paths:
        out = scratch / f"copy-{path.name}"
        pq.write_table(pq.read_table(path), out, compression="zstd")
        out.unlink()
    return time.perf_counter() - start


def text_bytes_for(parquet_bytes: int, scratch: Path,
                   sample_bytes: int = SAMPLE_TEXT_BYTES) -> int:
    """How much document text makes `parquet_bytes` of Parquet, from a measured sample.

    A tiny corpus (bench/run.py --ci) passes a smaller sample, so sizing it costs no more
    than building it.
    """
    sample = demo.write_corpus(scratch / "sample", sample_bytes, shards=1, seed=0)
    ratio = sample_bytes / sample[0].stat().st_size
    shutil.rmtree(scratch / "sample")
    return int(parquet_bytes * ratio)


@dataclass(frozen=True, slots=True)
class V0Result:
    """The first commit: sizes and ingest speed against the pyarrow baseline."""

    rows: int
    text_bytes: int
    parquet_bytes: int
    store_bytes: int
    build_seconds: float
    cgit_seconds: float
    pyarrow_seconds: float
    throughput_ratio: float
    passed: bool


def build_v0(cgit: Cgit, target_mb: float, scratch: Path) -> V0Result:
    """Write the corpus, time pyarrow on it, then init, add and commit it as v0."""
    start = time.perf_counter()
    text_target = text_bytes_for(int(target_mb * MB), scratch)
    paths = demo.write_corpus(cgit.root / "data", text_target, shards=SHARDS, seed=0)
    build_seconds = time.perf_counter() - start
    rows = sum(pq.ParquetFile(p).metadata.num_rows for p in paths)
    arrow_seconds = pyarrow_copy_seconds(paths, scratch)
    cgit.run("init")
    cgit_seconds = cgit.add_commit("v0")
    ratio = arrow_seconds / cgit_seconds
    return V0Result(rows, text_target, sum(p.stat().st_size for p in paths),
                    tree_bytes(cgit.root / ".cgit" / "objects"), build_seconds, cgit_seconds,
                    arrow_seconds, ratio, ratio >= MIN_THROUGHPUT_RATIO)


def run_edits(cgit: Cgit, v0: V0Result, scratch: Path) -> list[EditResult]:
    """Apply every edit on top of the previous version, committing each."""
    data = cgit.root / "data"

    def append() -> tuple[float, str]:
        append_rows(data, round(APPEND_SHARE * v0.rows))
        return APPEND_SHARE + SLACK, ""

    def filter_() -> tuple[float, str]:
        filter_rows(data, FILTER_SHARE)
        return SLACK, ""

    def column() -> tuple[float, str]:
        own = add_float_column(data, scratch)
        return own / v0.store_bytes + SLACK, f"the column alone, zstd Parquet: {own:,} bytes"

    def modify() -> tuple[float, str]:
        modify_text(data, MODIFY_SHARE)
        return MODIFY_TARGET, ""

    def reshard_() -> tuple[float, str]:
        reshard(data, RESHARD_FILES, scratch)
        return SLACK, ""

    steps = [(f"append {APPEND_SHARE:.0%} rows (to every shard)", append),
             (f"filter out {FILTER_SHARE:.0%} rows (scattered)", filter_),
             ("add a float64 column", column),
             (f"modify text of {MODIFY_SHARE:.0%} rows (scattered)", modify),
             (f"re-shard {SHARDS} -> {RESHARD_FILES} renamed files", reshard_)]
    results = [measure_edit(cgit, name, apply, v0) for name, apply in steps]
    return [*results, measure_unchanged(cgit)]


def render(v0: V0Result, results: list[EditResult], console: Console) -> None:
    """Print the v0 summary and the edit table."""
    console.print(f"v0: {v0.rows:,} rows, {v0.text_bytes / MB:,.0f} MB text, "
                  f"{v0.parquet_bytes / MB:,.1f} MB Parquet in {SHARDS} shards "
                  f"(built in {v0.build_seconds:.1f} s), store {v0.store_bytes / MB:,.1f} MB "
                  f"({v0.store_bytes / v0.parquet_bytes:.2f}x Parquet)")
    verdict = "pass" if v0.passed else "FAIL"
    console.print(f"v0 add+commit {v0.cgit_seconds:.1f} s vs pyarrow read+write "
                  f"{v0.pyarrow_seconds:.1f} s: throughput ratio {v0.throughput_ratio:.2f}x "
                  f"(target ≥ {MIN_THROUGHPUT_RATIO}x) {verdict}")
    table = Table(title="bytes added to .cgit/objects per edit")
    for column in ("edit", "bytes added", "% of v0 Parquet", "% of v0 store", "target",
                   "add+commit s", "pass/fail"):
        table.add_column(column, justify="left" if column == "edit" else "right")
    for r in results:
        table.add_row(r.edit, f"{r.bytes_added:,}", f"{r.share_of_v0_parquet:.2%}",
                      f"{r.share_of_v0_store:.2%}", r.target,
                      f"{r.seconds:.2f}", "pass" if r.passed else "FAIL")
    console.print(table)
    for r in results:
        if r.note:
            console.print(f"{r.edit}: {r.note}")


def parse_args() -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mb", type=float, default=DEFAULT_MB, help="v0 Parquet size in MB")
    parser.add_argument("--quick", action="store_true", help=f"{QUICK_MB} MB instead")
    parser.add_argument("--json", type=Path, help="also write the results as JSON here")
    parser.add_argument("--keep", action="store_true", help="keep the work tree for inspection")
    return parser.parse_args()


def main() -> int:
    """Run the benchmark; exit 1 when any target is missed."""
    args = parse_args()
    console = Console(markup=False, width=None if sys.stdout.isatty() else REPORT_WIDTH)
    work = Path(tempfile.mkdtemp(prefix="cgit-bench-edits-"))
    try:
        (work / "tree").mkdir()
        (work / "scratch").mkdir()
        cgit = Cgit(work / "tree", tuple(cgit_command()))
        v0 = build_v0(cgit, QUICK_MB if args.quick else args.mb, work / "scratch")
        results = run_edits(cgit, v0, work / "scratch")
    except BenchError as error:
        console.print(f"error: {error}", style="red")
        return 2
    finally:
        if args.keep:
            console.print(f"work tree kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    render(v0, results, console)
    if args.json:
        args.json.write_text(json.dumps({"v0": asdict(v0), "edits": [asdict(r) for r in results]},
                                        indent=2) + "\n")
    return 0 if v0.passed and all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
