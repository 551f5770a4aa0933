"""Diff cost follows the change: a 10M-row keyed table with 1% of rows modified, and identical
versions, against a naive full-scan pyarrow join of the same two versions in the same run; then
the same rows re-sharded (1 file -> 10 files) and re-sharded again with 1% of rows filtered out
(10 files -> 18 files), where the dataset view must report moved rows without reading them.

Targets (issue "Row-level diff"): 1% changed in < 2 s on this 2-core machine; identical
versions in < 50 ms. Re-shards (issue "diff: rows moved between files"): < 1 s, and at most the
filtered rows' hashes read.

Run: python bench/diff.py [--rows N | --quick] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

from corpusgit import Repo
from corpusgit.add import add
from corpusgit.diff.datasets import DatasetDiff
from corpusgit.diff.tables import TableDiff
from corpusgit.diff.trees import diff_sides, revision_side
from corpusgit.history import commit

PATH = "data/sft/rows.parquet"
ROW_GROUP = 1_000_000


def build(rows: int, path: Path, changed: np.ndarray | None) -> None:
    """Short documents keyed by id; ``changed`` rows get a different text."""
    with pq.ParquetWriter(path, pa.schema([("id", pa.int64()), ("text", pa.string())])) as writer:
        for start in range(0, rows, ROW_GROUP):
            ids = np.arange(start, min(start + ROW_GROUP, rows), dtype=np.int64)
            text = pc.binary_join_element_wise(pa.array(["row"] * len(ids)), pc.cast(pa.array(ids), pa.string()), "text of a short sample document", " ")
            if changed is not None:
                mask = np.isin(ids, changed)
                text = pc.if_else(pa.array(mask), pc.utf8_upper(text), text)
            writer.write_table(pa.table({"id": ids, "text": text}))


def reshard(sources: list[Path], directory: Path, n: int, drop: np.ndarray | None) -> list[Path]:
    """The rows of ``sources``, in order, as ``n`` files (minus ids in ``drop``), streamed."""
    total = sum(pq.ParquetFile(p).metadata.num_rows for p in sources) - (len(drop) if drop is not None else 0)
    per_file = -(-total // n)
    directory.mkdir(parents=True)
    paths = [directory / f"{directory.name}-part-{k:02d}.parquet" for k in range(n)]  # new names: every row changes file
    writer: pq.ParquetWriter | None = None
    k = written = 0
    for source in sources:
        for batch in pq.ParquetFile(source).iter_batches(batch_size=ROW_GROUP):
            if drop is not None:
                batch = batch.filter(pa.array(~np.isin(batch.column("id").to_numpy(), drop)))
            while batch.num_rows:
                if writer is None:
                    writer = pq.ParquetWriter(paths[k], batch.schema)
                take = min(batch.num_rows, per_file - written)
                writer.write_batch(batch.slice(0, take))
                batch, written = batch.slice(take), written + take
                if written == per_file:
                    writer.close()
                    writer, k, written = None, k + 1, 0
    if writer is not None:
        writer.close()
    return paths


def naive(old: list[Path], new: list[Path]) -> tuple[float, int]:
    """Read both versions whole, join on the key, count rows whose text differs."""
    start = time.perf_counter()
    a = pq.read_table(old).rename_columns(["id", "text_old"])
    b = pq.read_table(new).rename_columns(["id", "text_new"])
    joined = a.join(b, "id", join_type="full outer")
    differ = pc.invert(pc.fill_null(pc.equal(joined["text_old"], joined["text_new"]), False))
    return time.perf_counter() - start, int(pc.sum(differ).as_py() or 0)


def timed(repo: Repo, a: str, b: str, by_path: bool = False) -> tuple[float, int, int]:
    """What ``cgit diff A B`` does after start-up: resolve both revisions, load their trees,
    diff every differing table. Returns seconds, rows changed, rows moved between files."""
    start = time.perf_counter()
    diffs = diff_sides(repo, revision_side(repo, a), revision_side(repo, b), by_path=by_path)
    seconds = time.perf_counter() - start
    changed = sum(d.rows_modified + d.rows_added + d.rows_removed for d in diffs if isinstance(d, (TableDiff, DatasetDiff)))
    return seconds, changed, sum(d.moved for d in diffs if isinstance(d, DatasetDiff))


def replace_files(repo: Repo, new: list[Path]) -> None:
    """Make ``data/sft`` hold hard links to exactly ``new``."""
    for path in (repo.root / "data/sft").iterdir():
        path.unlink()
    for path in new:
        os.link(path, repo.root / "data/sft" / path.name)


def reshard_cases(repo: Repo, root: Path, rows: int, current: list[Path]) -> list[tuple[str, float, float, int, int, float]]:
    """Re-shard the current rows 1 -> 10 files, then 10 -> 18 files minus 1%; per case: name,
    dataset-view seconds, --by-path seconds, rows changed, rows moved, rows whose hashes were read."""
    import corpusgit.diff.moves as moves

    read: list[int] = []
    take = moves.take_hashes
    moves.take_hashes = lambda store, table, positions, *rest: (read.append(len(positions)), take(store, table, positions, *rest))[1]  # type: ignore[assignment]
    drop = np.sort(np.random.default_rng(1).choice(rows, rows // 100, replace=False))
    out = []
    for name, n, dropped in (("re-shard 1 -> 10 files", 10, None), ("re-shard 10 -> 18, 1% filtered", 18, drop)):
        files = reshard(current, root / f"shards{n}", n, dropped)
        replace_files(repo, files)
        add(repo, ["."])
        commit(repo, name)
        timed(repo, "HEAD~1", "HEAD")  # warm
        read.clear()
        seconds, changed, moved = min(timed(repo, "HEAD~1", "HEAD") for _ in range(3))
        hashed = sum(read) // 3
        per_path, _, _ = min(timed(repo, "HEAD~1", "HEAD", by_path=True) for _ in range(3))
        expected = len(dropped) if dropped is not None else 0
        assert (changed, moved) == (expected, rows - expected), (name, changed, moved)
        out.append((name, seconds, per_path, changed, moved, hashed))
        current = files
    moves.take_hashes = take  # type: ignore[assignment]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--quick", action="store_true", help="1M rows")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    rows = 1_000_000 if args.quick else args.rows
    os.environ.setdefault("CGIT_AUTHOR_NAME", "bench")
    os.environ.setdefault("CGIT_AUTHOR_EMAIL", "bench@example.com")
    console = Console()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        repo = Repo.init(root / "repo")
        (repo.root / "cgit.toml").write_text('[tables."data/sft/*"]\nkey = ["id"]\n')
        os.chdir(repo.root)
        (repo.root / "data/sft").mkdir(parents=True)
        old_copy = root / "v0.parquet"
        build(rows, old_copy, None)
        os.link(old_copy, repo.root / PATH)
        t0 = time.perf_counter()
        add(repo, ["."])
        commit(repo, "v0")
        ingest = time.perf_counter() - t0
        changed = np.random.default_rng(0).choice(rows, rows // 100, replace=False)
        (repo.root / PATH).unlink()
        new_copy = root / "v1.parquet"
        build(rows, new_copy, changed)
        os.link(new_copy, repo.root / PATH)
        add(repo, ["."])
        commit(repo, "v1: 1% of rows modified")
        timed(repo, "HEAD~1", "HEAD")  # warm the page cache as the naive run gets it
        ours, n_ours, _ = min(timed(repo, "HEAD~1", "HEAD") for _ in range(3))
        commit(repo, "v2: same data", allow_empty=True)
        same, _, _ = min(timed(repo, "HEAD~1", "HEAD") for _ in range(5))
        base, n_naive = min(naive([old_copy], [new_copy]) for _ in range(2))
        cases = reshard_cases(repo, root, rows, [new_copy])
        naive_reshard, n_naive_reshard = naive([new_copy], sorted((root / "shards10").iterdir()))
    assert n_ours == n_naive == len(changed), (n_ours, n_naive, len(changed))
    assert n_naive_reshard == 0
    t = Table(title=f"diff of a {rows:,}-row keyed table ({rows // 100:,} rows modified); v0 ingest took {ingest:.1f} s")
    for col in ("case", "cgit diff", "naive pyarrow join", "speed-up", "target", "ok"):
        t.add_column(col)
    t.add_row("1% changed", f"{ours:.3f} s", f"{base:.3f} s", f"{base / ours:.1f}x", "< 2 s", "yes" if ours < 2 else "NO")
    t.add_row("identical", f"{same * 1000:.1f} ms", f"{base:.3f} s", f"{base / same:.0f}x", "< 50 ms", "yes" if same < 0.05 else "NO")
    for name, seconds, _, _, _, _ in cases:
        t.add_row(name, f"{seconds:.3f} s", f"{naive_reshard:.3f} s", f"{naive_reshard / seconds:.0f}x", "< 1 s", "yes" if seconds < 1 else "NO")
    console.print(t)
    moved = Table(title="re-shards: the dataset view next to --by-path")
    for col in ("case", "dataset view", "--by-path", "reported", "rows hashed"):
        moved.add_column(col)
    for name, seconds, per_path, n_changed, n_moved, hashed in cases:
        moved.add_row(name, f"{seconds:.3f} s", f"{per_path:.3f} s", f"{n_moved:,} moved, {n_changed:,} removed", f"{hashed:,}")
    console.print(moved)
    if args.json:
        doc = {"rows": rows, "changed_s": ours, "identical_s": same, "naive_s": base, "naive_reshard_s": naive_reshard}
        doc["reshard"] = [{"case": c[0], "seconds": c[1], "by_path_s": c[2], "changed": c[3], "moved": c[4], "rows_hashed": c[5]} for c in cases]
        args.json.write_text(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
