"""dedup-exact and dedup-minhash on English and Chinese text, and the MinHash estimator itself."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from opshelp import Runner, with_row_ids
from realtext import CHINESE, ENGLISH, EXACT_DUP_EN, EXACT_DUP_ZH, NEAR_DUP_EN, NEAR_DUP_ZH

from corpusgit.ops.dedup_exact import DedupExact, ExactConfig
from corpusgit.ops.dedup_minhash import DedupMinHash, MinHashConfig
from corpusgit.ops.minhash import hash_functions, shingles, signatures
from corpusgit.ops.text import normalise
from corpusgit.table.hashing import binary_to_lanes


def _dropped_ids(corpus: pa.Table, out: pa.Table) -> set[int]:
    return set(corpus.column("id").to_pylist()) - set(out.column("id").to_pylist())


def _duplicate_map(corpus: pa.Table, effects_dropped: np.ndarray) -> dict[int, int]:
    """dropped id -> id of the row it duplicated, from the recorded row effects."""
    hi, lo = binary_to_lanes(corpus.column("_cgit_row"))
    by_row = {(h, l): i for h, l, i in zip(hi.tolist(), lo.tolist(), corpus.column("id").to_pylist())}
    return {by_row[(int(r["hi"]), int(r["lo"]))]: by_row[(int(r["dup_hi"]), int(r["dup_lo"]))] for r in effects_dropped}


def test_exact_folds_nfkc_whitespace_and_case(corpus: pa.Table, run_op: Runner) -> None:
    out, execution = run_op(DedupExact(ExactConfig()), corpus)
    assert execution.effects is not None
    assert _duplicate_map(corpus, execution.effects.dropped) == {EXACT_DUP_EN: 0, EXACT_DUP_ZH: 50}
    assert execution.by_rule == {"duplicate": 2}


def test_exact_case_sensitive_keeps_the_upper_case_copy(corpus: pa.Table, run_op: Runner) -> None:
    out, _ = run_op(DedupExact(ExactConfig(lowercase=False)), corpus)
    assert _dropped_ids(corpus, out) == {EXACT_DUP_ZH}


def test_exact_keeps_first_of_many_across_batches(run_op: Runner) -> None:
    texts = ["数据", "data", "ＤＡＴＡ", "数据 ", "other", " Data"] * 5
    table = with_row_ids(pa.table({"id": list(range(len(texts))), "text": texts}))
    out, execution = run_op(DedupExact(ExactConfig()), table, 4)
    assert out.column("id").to_pylist() == [0, 1, 4]
    assert execution.effects is not None
    assert set(_duplicate_map(table, execution.effects.dropped).values()) == {0, 1, 4}


def test_minhash_finds_near_duplicates_in_both_languages(corpus: pa.Table, run_op: Runner) -> None:
    out, execution = run_op(DedupMinHash(MinHashConfig()), corpus)
    assert execution.effects is not None
    dups = _duplicate_map(corpus, execution.effects.dropped)
    assert dups == {EXACT_DUP_EN: 0, EXACT_DUP_ZH: 50, NEAR_DUP_EN: 1, NEAR_DUP_ZH: 51}
    assert execution.by_rule == {"near_duplicate": 4}


def test_minhash_threshold_one_keeps_near_duplicates(corpus: pa.Table, run_op: Runner) -> None:
    out, _ = run_op(DedupMinHash(MinHashConfig(threshold=1.0)), corpus)
    assert _dropped_ids(corpus, out) == {EXACT_DUP_EN, EXACT_DUP_ZH}


def test_cjk_text_is_shingled_by_character() -> None:
    shingle, doc = shingles(pa.array(["猫坐在垫子上", "the cat sat"]), 2)
    assert np.bincount(doc).tolist() == [5, 2]  # 6 characters -> 5 bigrams; 3 words -> 2 bigrams
    short, short_doc = shingles(pa.array(["单", "", "!!!"]), 5)
    assert short_doc.tolist() == [0]  # a document shorter than n is one shingle; no words, none


@pytest.mark.parametrize("text", [ENGLISH[3], CHINESE[3]])
def test_signature_agreement_estimates_jaccard(text: str) -> None:
    words = text.split(" ") if " " in text else list(text)
    variants = [text] + [(" " if " " in text else "").join(words[: len(words) - k]) for k in (len(words) // 4, len(words) // 2)]
    arr = normalise(pa.array(variants))
    shingle, doc = shingles(arr, 3)
    a, b = hash_functions(512, seed=7)
    sig = signatures(shingle, doc, len(variants), a, b)
    sets = [set(shingle[doc == i].tolist()) for i in range(len(variants))]
    for other in (1, 2):
        true = len(sets[0] & sets[other]) / len(sets[0] | sets[other])
        estimate = float((sig[0] == sig[other]).mean())
        assert abs(estimate - true) < 0.08, (true, estimate)
