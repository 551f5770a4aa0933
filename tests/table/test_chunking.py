"""Content-defined chunk boundaries: the same rows give the same chunks however they arrive."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from corpusgit.store.objects import ObjectStore
from corpusgit.table.chunking import ChunkParams, find_cuts
from corpusgit.table.hashing import row_lanes, row_sizes
from corpusgit.table.ingest import TableIngest
from corpusgit.table.model import TableObject

PARAMS = ChunkParams(min_bytes=8_000, target_bytes=16_000, max_bytes=64_000, max_rows=400)


def random_rows(n: int, seed: int, mean_size: float = 500.0) -> tuple[np.ndarray, np.ndarray]:
    """Row hash low lanes and byte sizes; sizes stay below max - min so only hashes decide cuts."""
    rng = np.random.default_rng(seed)
    lo = rng.integers(0, 2**64 - 1, size=n, dtype=np.uint64, endpoint=True)
    sizes = np.clip(rng.lognormal(np.log(mean_size), 0.8, size=n), 1, PARAMS.max_bytes - PARAMS.min_bytes).astype(np.int64)
    return lo, sizes


def cuts_in_slices(lo: np.ndarray, sizes: np.ndarray, bounds: Sequence[int], params: ChunkParams = PARAMS) -> list[int]:
    """Global cut positions when rows arrive in slices, carrying the open chunk like ingest does.

    A cut at -1 within a slice closes the chunk left open by earlier slices.
    """
    cuts: list[int] = []
    carry_bytes = carry_rows = 0
    edges = [0, *bounds, len(sizes)]
    for a, b in zip(edges[:-1], edges[1:]):
        if a == b:
            continue
        local = find_cuts(lo[a:b], sizes[a:b], carry_bytes, carry_rows, params)
        for c in local:
            if c == -1:
                assert carry_rows > 0, "closing an empty chunk"
            cuts.append(a + c)
        last = local[-1] if local else -1
        if local:
            carry_bytes, carry_rows = 0, 0
        carry_bytes += int(sizes[a + last + 1:b].sum())
        carry_rows += b - (a + last + 1)
    return cuts


def chunks_of(cuts: list[int], n: int) -> list[tuple[int, int]]:
    """[start, end) row ranges, the last chunk closed at the end of the data."""
    starts = [0] + [c + 1 for c in cuts]
    ends = [c + 1 for c in cuts] + [n]
    return [(a, b) for a, b in zip(starts, ends) if b > a]


# -- content-defined ------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_batching_does_not_move_boundaries(seed: int) -> None:
    lo, sizes = random_rows(5_000, seed)
    whole = find_cuts(lo, sizes, 0, 0, PARAMS)
    assert len(whole) > 20
    rng = np.random.default_rng(100 + seed)
    for parts in (2, 7, 50, 600):
        bounds = sorted(rng.choice(np.arange(1, len(sizes)), size=parts, replace=False).tolist())
        assert cuts_in_slices(lo, sizes, bounds) == whole
    assert cuts_in_slices(lo, sizes, list(range(1, len(sizes)))) == whole  # one row at a time


def test_boundaries_resynchronise_after_a_prepend() -> None:
    lo, sizes = random_rows(5_000, 1)
    p_lo, p_sizes = random_rows(37, 99)
    before = chunks_of(find_cuts(lo, sizes, 0, 0, PARAMS), len(sizes))
    after = chunks_of(find_cuts(np.concatenate([p_lo, lo]), np.concatenate([p_sizes, sizes]), 0, 0, PARAMS), len(sizes) + 37)
    shifted = {(a - 37, b - 37) for a, b in after}
    kept = [c for c in before if c in shifted]
    assert len(kept) >= len(before) - 2
    assert before[2:] == kept[-(len(before) - 2):]  # only the first chunks differ


def test_a_deleted_row_disturbs_only_its_neighbourhood() -> None:
    lo, sizes = random_rows(5_000, 2)
    before = chunks_of(find_cuts(lo, sizes, 0, 0, PARAMS), len(sizes))
    gone = 2_500
    lo2, sizes2 = np.delete(lo, gone), np.delete(sizes, gone)
    after = chunks_of(find_cuts(lo2, sizes2, 0, 0, PARAMS), len(sizes2))
    original = np.delete(np.arange(len(sizes)), gone)  # new row index -> original row index
    after_content = {tuple(original[a:b].tolist()) for a, b in after}
    changed = [(a, b) for a, b in before if tuple(range(a, b)) not in after_content]
    assert 1 <= len(changed) <= 3
    assert any(a <= gone < b for a, b in changed)
    assert all(abs(a - gone) < 500 for a, _ in changed)


# -- size bounds -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(3))
def test_min_and_max_bytes_and_rows_are_respected(seed: int) -> None:
    lo, sizes = random_rows(20_000, seed, mean_size=300)
    chunks = chunks_of(find_cuts(lo, sizes, 0, 0, PARAMS), len(sizes))
    nbytes = [int(sizes[a:b].sum()) for a, b in chunks]
    assert all(b - a <= PARAMS.max_rows for a, b in chunks)
    assert all(n <= PARAMS.max_bytes for n in nbytes)
    assert all(n >= PARAMS.min_bytes for n in nbytes[:-1])
    mean = float(np.mean(nbytes[:-1]))
    assert PARAMS.min_bytes + PARAMS.target_bytes / 2 < mean < PARAMS.min_bytes + 2 * PARAMS.target_bytes


def test_tiny_rows_are_capped_by_max_rows() -> None:
    lo, _ = random_rows(2_000, 3)
    sizes = np.ones(2_000, np.int64)
    chunks = chunks_of(find_cuts(lo, sizes, 0, 0, PARAMS), 2_000)
    assert [b - a for a, b in chunks] == [PARAMS.max_rows] * 5


def test_a_row_over_max_bytes_gets_its_own_chunk() -> None:
    lo, sizes = random_rows(3_000, 4)
    huge = 1_700
    sizes[huge] = 5 * PARAMS.max_bytes
    chunks = chunks_of(find_cuts(lo, sizes, 0, 0, PARAMS), len(sizes))
    assert (huge, huge + 1) in chunks
    assert all(int(sizes[a:b].sum()) <= PARAMS.max_bytes for a, b in chunks if b - a > 1)
    for bounds in ([huge], [huge + 1], [huge - 3, huge, huge + 1], list(range(1, len(sizes), 97))):
        assert cuts_in_slices(lo, sizes, bounds) == find_cuts(lo, sizes, 0, 0, PARAMS)


def test_a_row_that_would_overflow_the_open_chunk_starts_a_new_one() -> None:
    sizes = np.array([100, 100, PARAMS.max_bytes - 50, 100], np.int64)
    lo = np.full(4, 2**64 - 1, np.uint64)  # no row is a content-defined candidate
    chunks = chunks_of(find_cuts(lo, sizes, 0, 0, PARAMS), 4)
    assert chunks == [(0, 2), (2, 3), (3, 4)]
    assert find_cuts(lo[2:], sizes[2:], 200, 2, PARAMS)[0] == -1


# -- through ingest ------------------------------------------------------------------------------------------


def corpus(rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    lengths = rng.integers(20, 400, size=rows)
    text = ["row %d-%d %s" % (seed, i, "数据 🙂 lorem ipsum "[: int(k) % 17] * (int(k) // 17 + 1)) for i, k in enumerate(lengths)]
    return pa.table({"id": pa.array(np.arange(rows) + seed * 1_000_000), "text": pa.array(text)})


def ingest(store: ObjectStore, table: pa.Table, batch_rows: int) -> TableObject:
    job = TableIngest(store, table.schema, [tuple(table.column_names)], [None], params=PARAMS)
    for batch in table.to_batches(max_chunksize=batch_rows):
        job.feed(batch)
    return job.finish()


def chunk_ids(table: TableObject) -> list[str]:
    return [ref.id for ref in table.groups[0].chunks]


@pytest.fixture
def store_factory(tmp_path: Path) -> Callable[[str], ObjectStore]:
    return lambda name: ObjectStore(tmp_path / name / "objects", tmp_path / name / "tmp")


def test_ingest_chunks_do_not_depend_on_batch_size(store_factory: Callable[[str], ObjectStore]) -> None:
    table = corpus(6_000, 0)
    results = [ingest(store_factory(f"s{rows}"), table, rows) for rows in (6_000, 1_000, 333, 7)]
    assert len(chunk_ids(results[0])) > 10
    assert all(r.to_json() == results[0].to_json() for r in results[1:])


def test_ingest_prepend_shares_all_but_the_first_chunks(store_factory: Callable[[str], ObjectStore]) -> None:
    table = corpus(6_000, 0)
    before = chunk_ids(ingest(store_factory("a"), table, 1_024))
    after = chunk_ids(ingest(store_factory("b"), pa.concat_tables([corpus(50, 1), table]), 1_024))
    assert len(set(before) - set(after)) <= 2
    assert before[-1] == after[-1]


def test_ingest_stores_a_huge_row_alone(store_factory: Callable[[str], ObjectStore]) -> None:
    table = corpus(2_000, 0)
    texts = table.column("text").to_pylist()
    texts[1_000] = "大" * PARAMS.max_bytes  # 3 bytes per character: three times the cap
    table = table.set_column(1, "text", pa.array(texts))
    result = ingest(store_factory("h"), table, 512)
    group = result.groups[0]
    sizes = row_sizes(table)
    bounds = np.concatenate([[0], np.cumsum(group.seg_rows)])
    alone = [int(r) for r, a in zip(group.seg_rows, bounds[:-1]) if a <= 1_000 < a + r]
    assert alone == [1]
    hi, lo = row_lanes(table)
    assert find_cuts(lo, sizes, 0, 0, PARAMS).count(999) == 1
