"""``cgit quickstart``: the 2-minute tour on a real-text corpus built from this machine's files."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import xxhash

from corpusgit.checkout import checkout
from corpusgit.cli.history_cmds import log as log_cmd
from corpusgit.cli.maint_cmds import du as du_cmd
from corpusgit.cli.render import human_bytes, out, progress_for
from corpusgit.demo import write_corpus
from corpusgit.errors import BadInput
from corpusgit.history import commit
from corpusgit.repo import Repo
from corpusgit.add import add

SHARDS = 8
MARKER = ".cgit/quickstart"  # inside .cgit, so the tour's work tree stays clean
DROP_SHARE = 10  # percent of documents the demo "quality filter" removes


def run_quickstart(directory: Path, mb: int, quiet: bool) -> None:
    if (directory / MARKER).exists():
        shutil.rmtree(directory)  # a previous tour: start it afresh
    if directory.exists() and any(directory.iterdir()):
        raise BadInput(f"{directory}: exists and is not empty", hint="pass --dir to pick a new directory, or remove it")
    directory = directory.resolve()
    progress = progress_for(quiet)
    os.environ.setdefault("CGIT_AUTHOR_NAME", "cgit quickstart")
    os.environ.setdefault("CGIT_AUTHOR_EMAIL", "quickstart@localhost")
    data = directory / "data" / "docs"
    _step(f"1. building a {mb} MB corpus of real text (Python sources, docs, man pages) in {data}")
    write_corpus(data, mb * 1_000_000, SHARDS)
    repo = Repo.init(directory)
    (directory / MARKER).write_text("made by cgit quickstart; running it again replaces this directory\n")
    here = Path.cwd()
    os.chdir(repo.root)
    try:
        _step("2. cgit init && cgit add data && cgit commit -m 'raw corpus'")
        first = add(repo, ["data"], progress)
        commit(repo, "raw corpus")
        out.print(f"   stored {human_bytes(first.new_bytes)} for {len(first.added)} shards")
        _step(f"3. a pipeline step drops {DROP_SHARE}% of documents and adds a quality score column")
        for shard in sorted(data.glob("*.parquet")):
            _filter_and_score(shard)
        second = add(repo, ["data"], progress)
        commit(repo, f"quality filter: drop {DROP_SHARE}%, add score")
        out.print(f"   the new version cost {human_bytes(second.new_bytes)} (only the score column is new data)")
        _step("4. cgit log --oneline")
        log_cmd(["HEAD"], None, True, False)
        _step("5. cgit du")
        du_cmd("HEAD", False, None, False)
        _step("6. cgit checkout HEAD~1   (the raw corpus is back, logically identical)")
        checkout(repo, "HEAD~1", progress=progress)
        rows = sum(pq.ParquetFile(p).metadata.num_rows for p in data.glob("*.parquet"))
        out.print(f"   work tree now holds {rows:,} documents again")
        checkout(repo, "main", progress=progress)
    finally:
        os.chdir(here)
    _step(f"done. Explore it: cd {directory} && cgit log && cgit show HEAD:{sorted(data.glob('*.parquet'))[0].relative_to(directory)}")


def _step(text: str) -> None:
    out.print("")
    out.print(text, style="bold cyan")


def _filter_and_score(path: Path) -> None:
    """Drop a deterministic pseudo-random 10% of rows and append a score, as a real step would."""
    table = pq.read_table(path)
    keys = [xxhash.xxh64_intdigest(str(i).encode()) % 100 for i in table.column("id").to_pylist()]
    kept = table.filter(pa.array(np.asarray(keys) >= DROP_SHARE))
    score = pc.divide(pc.cast(kept.column("n_chars"), pa.float64()), 8000.0)
    tmp = path.with_suffix(".tmp")
    pq.write_table(kept.append_column("score", score), tmp, compression="zstd")
    shutil.move(tmp, path)


