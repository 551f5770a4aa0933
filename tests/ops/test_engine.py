"""The engine: row identity of outputs, row effects, contract checks and failure reports."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from opshelp import Runner, with_row_ids

from corpusgit.ops.base import Derived, FilterOperator, GlobalOperator, MapOperator, NoConfig, OperatorFailed, RowIds, Verdict, operator
from corpusgit.ops.engine import execute
from corpusgit.table.hashing import binary_to_lanes, row_lanes


def _rows(table: pa.Table) -> set[tuple[int, int]]:
    hi, lo = row_lanes(table)
    return set(zip(hi.tolist(), lo.tolist()))


def _input_rows(table: pa.Table) -> set[tuple[int, int]]:
    hi, lo = binary_to_lanes(table.column("_cgit_row"))
    return set(zip(hi.tolist(), lo.tolist()))


def _pairs(records: np.ndarray, a: str = "", b: str | None = None) -> set[Any]:
    if b is None:
        return set(zip(records[a + "hi"].tolist(), records[a + "lo"].tolist()))
    return set(zip(zip(records["hi"].tolist(), records["lo"].tolist()), zip(records[b + "hi"].tolist(), records[b + "lo"].tolist())))


class Rewrite(MapOperator[NoConfig]):
    """Upper-cases one column, adds one, drops one: every kind of hash change at once."""

    name = "test-rewrite"

    def apply(self, batch: pa.RecordBatch, rows: RowIds) -> pa.RecordBatch:
        batch = batch.set_column(batch.schema.get_field_index("lang"), "lang", pc.utf8_upper(batch.column("lang")))
        batch = batch.append_column("n_chars", pc.utf8_length(batch.column("text")))
        return batch.drop_columns(["score"])


def test_map_output_hashes_equal_what_add_computes(make_table: Callable[..., pa.Table], run_op: Runner) -> None:
    table = with_row_ids(make_table(rows=3000, seed=3))
    out, execution = run_op(Rewrite(NoConfig()), table, 700)
    assert execution.effects is not None
    assert _pairs(execution.effects.modified, "new_") == _rows(out)
    assert _pairs(execution.effects.modified) == _input_rows(table)
    assert execution.rows_in == execution.rows_out == 3000 and execution.batches == 5


def test_unchanged_rows_are_not_modified(corpus: pa.Table, run_op: Runner) -> None:
    @operator("test-identity")
    def identity(batch: pa.RecordBatch, config: Any) -> pa.RecordBatch:
        return batch.select(batch.schema.names)

    out, execution = run_op(identity(NoConfig()), corpus)
    assert execution.effects is not None
    assert len(execution.effects.modified) == 0 and len(execution.effects.dropped) == 0
    assert out.equals(corpus.drop_columns(["_cgit_row"]))


def test_filter_effects_and_rule_counts(corpus: pa.Table, run_op: Runner) -> None:
    class OddIds(FilterOperator[NoConfig]):
        name = "test-odd"
        rules = ("even", "big")

        def apply(self, batch: pa.RecordBatch, rows: RowIds) -> Verdict:
            ids = batch.column("id").to_numpy()
            return Verdict.first_failing([ids % 2 == 0, ids > 100], batch.num_rows)

    out, execution = run_op(OddIds(NoConfig()), corpus)
    ids = corpus.column("id").to_numpy()
    assert sorted(out.column("id").to_pylist()) == sorted(i for i in ids.tolist() if i % 2 and i <= 100)
    assert execution.by_rule == {"even": int((ids % 2 == 0).sum()), "big": int(((ids % 2 == 1) & (ids > 100)).sum())}
    assert execution.effects is not None
    assert _pairs(execution.effects.dropped) == _input_rows(corpus) - _rows(out)
    names = [("even", "big")[r] for r in execution.effects.dropped["rule"].tolist()]
    assert names.count("big") == execution.by_rule["big"]


def test_derived_rows_record_created_and_dropped(corpus: pa.Table, run_op: Runner) -> None:
    class Split(MapOperator[NoConfig]):
        """Sentences of English rows become rows; Chinese rows vanish; one header row per batch."""

        name = "test-split"

        def apply(self, batch: pa.RecordBatch, rows: RowIds) -> Derived:
            texts, parents = ["header"], [-1]
            for i, (text, lang) in enumerate(zip(batch.column("text").to_pylist(), batch.column("lang").to_pylist())):
                if lang == "en":
                    for sentence in text.split(". "):
                        texts.append(sentence)
                        parents.append(i)
            return Derived(pa.record_batch({"text": texts}), np.array(parents))

    out, execution = run_op(Split(NoConfig()), corpus)
    effects = execution.effects
    assert effects is not None
    assert len(effects.created) == 1  # the same header row in every batch is one row
    zh = corpus.filter(pc.equal(corpus.column("lang"), "zh"))
    assert _pairs(effects.dropped) == _input_rows(zh)
    assert _pairs(effects.modified, "new_") | _pairs(effects.created) == _rows(out)


class Boom(MapOperator[NoConfig]):
    name = "test-boom"

    def apply(self, batch: pa.RecordBatch, rows: RowIds) -> pa.RecordBatch:
        if rows.start >= 10:
            raise ValueError("bad document")
        return batch


def test_operator_failure_names_operator_batch_and_rows(corpus: pa.Table, run_op: Runner) -> None:
    with pytest.raises(OperatorFailed) as info:
        run_op(Boom(NoConfig()), corpus, 5)
    assert info.value.message == "operator 'test-boom' failed in batch 2 (rows 10-14 of input): ValueError: bad document"
    assert info.value.hint is not None and "nothing was staged" in info.value.hint


def test_contract_violations_are_reported(corpus: pa.Table, run_op: Runner) -> None:
    @operator("test-short")
    def short(batch: pa.RecordBatch, config: Any) -> pa.RecordBatch:
        return batch.slice(1)

    with pytest.raises(OperatorFailed, match="returned 4 rows for 5"):
        run_op(short(NoConfig()), corpus, 5)

    class Drifting(MapOperator[NoConfig]):
        name = "test-drifting"

        def apply(self, batch: pa.RecordBatch, rows: RowIds) -> pa.RecordBatch:
            return batch.append_column(f"c{rows.start % 2}", pa.array([1] * batch.num_rows))

    with pytest.raises(OperatorFailed, match="changed its output schema"):
        run_op(Drifting(NoConfig()), corpus, 5)

    @operator("test-mask", kind="filter")
    def mask(batch: pa.RecordBatch, config: Any) -> np.ndarray:
        return np.ones(3, dtype=bool)

    with pytest.raises(OperatorFailed, match="mask of 3 values for 5 rows"):
        run_op(mask(NoConfig()), corpus, 5)


def test_global_operator_sees_every_row_before_deciding(corpus: pa.Table, run_op: Runner) -> None:
    class KeepLongest(GlobalOperator[NoConfig]):
        name = "test-longest"

        def __init__(self, config: NoConfig) -> None:
            super().__init__(config)
            self.lengths: list[int] = []

        def observe(self, batch: pa.RecordBatch, rows: RowIds) -> None:
            self.lengths += pc.utf8_length(batch.column("text")).to_pylist()

        def apply(self, batch: pa.RecordBatch, rows: RowIds) -> np.ndarray:
            lengths = np.array(self.lengths[rows.start:rows.start + len(rows)])
            return np.asarray(lengths == max(self.lengths))

    out, execution = run_op(KeepLongest(NoConfig()), corpus, 4)
    assert out.num_rows == 1 and execution.rows_in == corpus.num_rows


def test_empty_input_still_has_the_output_schema() -> None:
    table = with_row_ids(pa.table({"text": pa.array([], pa.string())}))
    outs: list[pa.RecordBatch] = []
    execution = execute(Rewrite_without_score(NoConfig()), lambda: pa.RecordBatchReader.from_batches(table.schema, []), outs.append)
    assert outs == [] and execution.schema is not None and execution.schema.names == ["text", "n_chars"]


class Rewrite_without_score(MapOperator[NoConfig]):
    name = "test-n-chars"

    def apply(self, batch: pa.RecordBatch, rows: RowIds) -> pa.RecordBatch:
        return batch.append_column("n_chars", pc.utf8_length(batch.column("text")))
