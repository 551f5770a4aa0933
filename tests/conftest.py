"""Shared fixtures: real text-like tables, a fresh repository, Parquet files in its work tree.

Names (``make_table``, ``repo``, ``write_parquet``) are shared with the CLI tests; keep them stable.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpusgit import Repo

# Shared helper modules assert like tests do: show the values on failure (rewritten at import).
pytest.register_assert_rewrite("clirun")

_WORDS = (
    "the of and to in is that for it as was with be by on not he this are or his from at which but "
    "have an they you were her she there been one all we their has would when if so no will more "
    "data model token corpus filter shard version row chunk train mix quality dedup language"
).split()
_FOREIGN = ("数据集", "训练语料", "日本語のテキスト", "한국어 문장", "🙂", "🚀✨", "naïve café", "Ελληνικά", "ℌ𝔢𝔩𝔩𝔬")
_LANGS = ("en", "zh", "ja", "ko", "de", "fr")


@functools.lru_cache(maxsize=16)
def build_table(rows: int = 10_000, seed: int = 0) -> pa.Table:
    """Deterministic corpus-like rows: unique ids, ~60-1200 byte texts (some CJK/emoji), NaN/None scores.

    Every text starts with its id, so rows are unique and an edit to any row changes its hash.
    Cached: tables are immutable, and several tests start from the same one.
    """
    rng = np.random.default_rng(seed)
    lengths = rng.integers(10, 200, size=rows)
    words = rng.integers(0, len(_WORDS), size=int(lengths.sum()))
    foreign = rng.random(rows) < 0.15
    picks = rng.integers(0, len(_FOREIGN), size=rows)
    ids = np.arange(rows, dtype=np.int64) + seed * 10_000_000
    texts = []
    pos = 0
    for i in range(rows):
        n = int(lengths[i])
        body = " ".join(_WORDS[w] for w in words[pos:pos + n])
        pos += n
        if foreign[i]:
            body = f"{_FOREIGN[picks[i]]} {body} {_FOREIGN[(picks[i] + 1) % len(_FOREIGN)]}"
        texts.append(f"doc {ids[i]}: {body}")
    score = rng.random(rows)
    score[rng.random(rows) < 0.03] = np.nan
    score_mask = rng.random(rows) < 0.03  # None (null), distinct from NaN
    lang = [_LANGS[k] for k in rng.integers(0, len(_LANGS), size=rows)]
    return pa.table(
        {
            "id": pa.array(ids, pa.int64()),
            "text": pa.array(texts, pa.string()),
            "lang": pa.array(lang, pa.string()),
            "score": pa.array(score, pa.float64(), mask=score_mask),
        }
    )


@pytest.fixture
def make_table() -> Callable[..., pa.Table]:
    """``make_table(rows=10_000, seed=0)``: equal arguments give equal tables; seeds share no ids."""
    return build_table


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """An empty repository in ``tmp_path/repo`` with a fixed author and no user config."""
    monkeypatch.setenv("CGIT_AUTHOR_NAME", "Test Author")
    monkeypatch.setenv("CGIT_AUTHOR_EMAIL", "test@example.com")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    return Repo.init(tmp_path / "repo")


def write_parquet_file(root: Path, rel: str, table: pa.Table, **options: object) -> Path:
    """Write ``table`` to ``root/rel`` (parents created); ``options`` go to ``pq.write_table``."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    pq.write_table(table, tmp, **options)  # type: ignore[arg-type]
    os.replace(tmp, path)  # a new inode, so the stat cache can never mistake it for the old file
    return path


@pytest.fixture
def write_parquet(repo: Repo) -> Callable[..., Path]:
    """``write_parquet(rel, table, **pq_options) -> Path`` inside the ``repo`` work tree."""

    def write(rel: str, table: pa.Table, **options: object) -> Path:
        return write_parquet_file(repo.root, rel, table, **options)

    return write
