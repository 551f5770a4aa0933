"""Planning arithmetic: pinned hash scheme, block cuts, shares, and the smooth interleave."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
import xxhash

from corpusgit.mix.model import MixObject, MixSource
from corpusgit.mix.plan import interleave, shares
from corpusgit.mix.ranking import BLOCK_CAP, block_ids, block_window, key, mix64, rank
from corpusgit.store.canonical import ObjectId


def lanes(n: int) -> tuple[np.ndarray, np.ndarray]:
    """Row-hash-like lanes from xxh3 of the row number (no RNG)."""
    digests = [xxhash.xxh3_128_intdigest(str(i).encode()) for i in range(n)]
    return (np.array([d >> 64 for d in digests], dtype=np.uint64), np.array([d & (2**64 - 1) for d in digests], dtype=np.uint64))


def test_scheme_is_pinned() -> None:
    """The documented scheme, computed by hand with Python integers: drift fails loudly."""
    hi, lo = lanes(3)
    k = xxhash.xxh3_128_intdigest(b"cgit-mix-v1/42/1/row")
    assert key(42, 1, "row") == (np.uint64(k >> 64), np.uint64(k & (2**64 - 1)))

    def mix(x: int) -> int:
        m = 2**64 - 1
        x ^= x >> 30
        x = (x * 0xBF58476D1CE4E5B9) & m
        x ^= x >> 27
        x = (x * 0x94D049BB133111EB) & m
        return x ^ (x >> 31)

    want = [mix((mix(int(h) ^ (k >> 64)) + (int(l_) ^ (k & (2**64 - 1)))) & (2**64 - 1)) for h, l_ in zip(hi, lo)]
    assert rank(hi, lo, 42, 1).tolist() == want
    assert mix64(np.array([1], dtype=np.uint64)).tolist() == [mix(1)]
    assert rank(hi, lo, 42, 1).tolist() == [8837427570494462026, 482137268022179270, 15447342520315928368]


def test_ranks_change_with_seed_and_epoch_only() -> None:
    hi, lo = lanes(1000)
    a = rank(hi, lo, 1, 0)
    assert np.array_equal(a, rank(hi, lo, 1, 0))
    assert not np.array_equal(np.argsort(a), np.argsort(rank(hi, lo, 2, 0)))
    assert not np.array_equal(np.argsort(a), np.argsort(rank(hi, lo, 1, 1)))
    assert np.array_equal(rank(hi[::-1], lo[::-1], 1, 0), a[::-1])  # a row's rank is its own, wherever it sits


def test_blocks_follow_hashes_and_are_capped() -> None:
    hi, lo = lanes(20_000)
    ids = block_ids(lo, 100)
    sizes = np.bincount(ids)
    assert 120 < len(sizes) < 300  # ~200 blocks of ~100 rows
    assert sizes.max() <= 100 * BLOCK_CAP
    assert np.all(np.diff(ids) >= 0) and ids[0] == 0
    # the same rows later in a longer source get the same cuts: cuts depend on hashes, not positions
    shifted = block_ids(np.concatenate([lo[:7], lo]), 100)
    assert np.array_equal(np.diff(shifted[7:]) > 0, np.diff(ids) > 0)
    capped = block_ids(np.zeros(100, dtype=np.uint64) | np.uint64(2**63), 2)  # no natural cut at all
    assert np.bincount(capped).tolist() == [2 * BLOCK_CAP] * (100 // (2 * BLOCK_CAP)) + [100 % (2 * BLOCK_CAP)]


def test_block_windows_are_a_fresh_permutation_per_epoch() -> None:
    hi, lo = lanes(5_000)
    ids = block_ids(lo, 50)
    w0 = block_window(ids, hi, lo, 3, 0, 4)
    w1 = block_window(ids, hi, lo, 3, 1, 4)
    n = int(ids.max()) + 1
    assert sorted(np.bincount(w0).tolist()) == sorted(np.bincount(w1).tolist())
    assert np.bincount(w0).max() == 4 and len(w0) == n
    assert not np.array_equal(w0, w1)


def test_interleave_is_smooth_in_every_prefix() -> None:
    counts = [700, 250, 50, 1]
    order = interleave(counts)
    assert np.bincount(order).tolist() == counts
    total = sum(counts)
    for s, n in enumerate(counts):
        seen = np.cumsum(order == s)
        expected = np.arange(1, total + 1) * n / total
        assert np.abs(seen - expected).max() < (len(counts) + 1) / 2


def test_interleave_alternates_equal_sources_and_skips_empty_ones() -> None:
    assert interleave([3, 3]).tolist() == [0, 1, 0, 1, 0, 1]
    assert interleave([0, 2, 1]).tolist() == [1, 2, 1]
    assert interleave([]).tolist() == []


def mix_object(unit: str, budget: int, weights: list[str]) -> MixObject:
    sources = tuple(MixSource(f"s{i}", "p", "main", ObjectId("0" * 64), (), Fraction(w), None, Fraction(1)) for i, w in enumerate(weights))
    return MixObject(sources, 0, unit, budget, {"rule": "chars/4"}, "text", ("text",), 10)


def test_rows_budget_is_split_by_largest_remainder() -> None:
    assert shares(mix_object("rows", 10, ["1", "1", "1"])) == [4, 3, 3]
    assert shares(mix_object("rows", 100, ["0.7", "0.2", "0.1"])) == [70, 20, 10]
    assert sum(shares(mix_object("rows", 1001, ["0.3", "0.3", "0.4"]))) == 1001
    assert shares(mix_object("tokens", 10, ["1", "2"])) == [Fraction(10, 3), Fraction(20, 3)]


@pytest.mark.parametrize("weights", [["0.1", "0.2"], ["1", "2"]])
def test_shares_depend_on_weight_ratios_only(weights: list[str]) -> None:
    assert shares(mix_object("rows", 300, weights)) == [100, 200]
