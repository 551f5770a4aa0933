"""filter-length, filter-quality, filter-lang, filter-expr, sample and annotate on real text."""

from __future__ import annotations

import sys
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pytest
from opshelp import Runner, with_row_ids
from realtext import BULLETS, LOREM, SHORT, SYMBOLS

from corpusgit.errors import BadInput, CorpusGitError
from corpusgit.ops.annotate import Annotate, AnnotateConfig
from corpusgit.ops.config import build_config
from corpusgit.ops.filter_expr import ExprConfig, FilterExpr
from corpusgit.ops.filter_lang import FilterLang, LangConfig
from corpusgit.ops.filter_length import FilterLength, LengthConfig
from corpusgit.ops.filter_quality import FilterQuality, QualityConfig
from corpusgit.ops.sample import Sample, SampleConfig

ORIGINALS = set(range(8)) | set(range(50, 58))  # the English and Chinese prose rows


def _kept(out: pa.Table) -> set[int]:
    return set(out.column("id").to_pylist())


def test_length_counts_cjk_characters_as_words(run_op: Runner) -> None:
    table = with_row_ids(pa.table({"id": [0, 1, 2], "text": ["猫坐在垫子上。", "the cat sat on the mat", "短"]}))
    out, execution = run_op(FilterLength(LengthConfig(min_words=5, max_chars=20)), table)
    assert _kept(out) == {0}
    assert execution.by_rule == {"too_many_chars": 1, "too_few_words": 1}


def test_quality_keeps_prose_in_both_languages_and_names_rules(corpus: pa.Table, run_op: Runner) -> None:
    out, execution = run_op(FilterQuality(QualityConfig()), corpus)
    kept = _kept(out)
    assert ORIGINALS <= kept
    assert not kept & {BULLETS, LOREM, SYMBOLS, SHORT}
    # each dropped row is charged to the first rule it fails: lorem ipsum has no stop words either
    assert execution.by_rule == {"gopher_min_words": 1, "gopher_mean_word_length": 1, "gopher_symbol_ratio": 1, "gopher_stop_words": 1}
    assert sum(execution.by_rule.values()) == corpus.num_rows - out.num_rows


def test_quality_rules_can_be_switched_off(corpus: pa.Table, run_op: Runner) -> None:
    off = {"lorem_ipsum": False, "min_stop_words": None, "max_symbol_ratio": None, "min_words": None, "min_mean_word_length": None}
    cfg = build_config("filter-quality", QualityConfig, off)
    out, execution = run_op(FilterQuality(cfg), corpus)
    assert LOREM in _kept(out)
    assert not {"c4_lorem_ipsum", "gopher_stop_words", "gopher_symbol_ratio"} & set(execution.by_rule)


def test_lang_identifies_chinese_and_english(corpus: pa.Table, run_op: Runner) -> None:
    out, execution = run_op(FilterLang(LangConfig(languages=("zh",))), corpus)
    assert set(out.column("lang").to_pylist()) == {"zh"}
    assert (corpus.column("lang").to_pylist().count("zh")) == out.num_rows
    assert execution.by_rule == {"other_language": corpus.num_rows - out.num_rows}


def test_lang_blank_rows_are_undetermined(run_op: Runner) -> None:
    table = with_row_ids(pa.table({"id": [0, 1], "text": ["The weather was cold and the streets were quiet that morning.", "   "]}))
    op = FilterLang(LangConfig(languages=("en",)))
    out, execution = run_op(op, table)
    assert _kept(out) == {0}
    assert dict(op.counts) == {"lang_en": 1, "lang_und": 1}


def test_expr_filters_with_columns_functions_and_lists(corpus: pa.Table, run_op: Runner) -> None:
    op = FilterExpr(ExprConfig(expr="lang in ['zh'] and utf8_length(text) > 100 and not match_substring(text, pattern='13812345678')"))
    out, execution = run_op(op, corpus)
    assert set(out.column("lang").to_pylist()) == {"zh"} and 109 not in _kept(out)
    assert execution.by_rule == {"expression_false": corpus.num_rows - out.num_rows}
    out, _ = run_op(FilterExpr(ExprConfig(expr="id >= 100 and id < 102 or id == -(-3)")), corpus)
    assert _kept(out) == {3, 100, 101}


@pytest.mark.parametrize(
    "expr, message",
    [("lang ==", "cannot parse"), ("__import__('os')", "not a pyarrow compute function"), ("lang[0] == 'x'", "unsupported syntax"), ("1 < 2", "does not use any column")],
)
def test_expr_rejects_what_it_cannot_translate(expr: str, message: str) -> None:
    with pytest.raises(BadInput, match=message):
        build_config("filter-expr", ExprConfig, {"expr": expr})


def test_expr_needs_exactly_one_of_expr_and_sql() -> None:
    with pytest.raises(BadInput, match="exactly one"):
        build_config("filter-expr", ExprConfig, {})


def test_sql_condition_through_duckdb(corpus: pa.Table, run_op: Runner) -> None:
    out, _ = run_op(FilterExpr(ExprConfig(sql="lang = 'en' AND length(text) < 50")), corpus)
    assert _kept(out) == {SHORT}
    with pytest.raises(BadInput, match="SQL condition"):
        run_op(FilterExpr(ExprConfig(sql="no_such_column > 1")), corpus)


def test_sql_without_duckdb_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "duckdb", None)  # what an environment without the extra looks like
    with pytest.raises(CorpusGitError) as info:
        FilterExpr(ExprConfig(sql="id > 1"))
    assert info.value.hint == "install it with: pip install 'corpusgit[duckdb]'"


def test_lang_without_py3langid_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "py3langid", None)
    with pytest.raises(CorpusGitError) as info:
        FilterLang(LangConfig())
    assert info.value.hint == "pip install 'corpusgit[lang]'"


def test_sample_is_deterministic_by_row_and_independent_of_batching(make_table: Callable[..., pa.Table], run_op: Runner) -> None:
    table = with_row_ids(make_table(rows=4000, seed=5))
    a, _ = run_op(Sample(SampleConfig(fraction=0.25, seed=3)), table, 1000)
    b, _ = run_op(Sample(SampleConfig(fraction=0.25, seed=3)), table.take(np.arange(3999, -1, -1)), 333)
    c, _ = run_op(Sample(SampleConfig(fraction=0.25, seed=4)), table, 1000)
    assert set(a.column("id").to_pylist()) == set(b.column("id").to_pylist())
    assert 0.22 < a.num_rows / 4000 < 0.28
    assert set(a.column("id").to_pylist()) != set(c.column("id").to_pylist())
    with pytest.raises(BadInput, match="fraction must be between 0 and 1"):
        build_config("sample", SampleConfig, {"fraction": 1.5})


def test_annotate_adds_signal_columns(corpus: pa.Table, run_op: Runner) -> None:
    out, execution = run_op(Annotate(AnnotateConfig(signals=("n_chars", "n_words", "cjk_ratio", "lang"), prefix="q_")), corpus)
    assert out.schema.names == ["id", "text", "lang", "q_n_chars", "q_n_words", "q_cjk_ratio", "q_lang"]
    rows = {r["id"]: r for r in out.to_pylist()}
    assert rows[50]["q_n_chars"] == len(rows[50]["text"]) and rows[50]["q_cjk_ratio"] > 0.8 and rows[50]["q_lang"] == "zh"
    assert rows[0]["q_cjk_ratio"] == 0 and rows[0]["q_lang"] == "en" and rows[0]["q_n_words"] == len(rows[0]["text"].split())
    assert execution.effects is not None and len(execution.effects.modified) == corpus.num_rows
    with pytest.raises(BadInput, match="unknown signal 'n_char'"):
        build_config("annotate", AnnotateConfig, {"signals": ["n_char"]})


def test_missing_text_column_is_a_clear_error(corpus: pa.Table, run_op: Runner) -> None:
    with pytest.raises(BadInput, match="no column 'body'"):
        run_op(FilterLength(LengthConfig(column="body")), corpus)
