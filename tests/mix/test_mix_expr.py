"""The filter language: what parses, what it selects, its canonical form, and pointed errors."""

from __future__ import annotations

import pyarrow as pa
import pytest

from corpusgit.errors import BadInput
from corpusgit.mix.expr import FilterSyntaxError, parse_filter

ROWS = pa.table({
    "lang": ["en", "de", None, "en", "ko"],
    "n_chars": [600, 100, 900, None, 50],
    "score": [0.9, 0.2, float("nan"), 0.5, 0.7],
    "text": ["Hello world", "Guten Tag", "x", "Hello again", "안녕"],
    "my col": [1, 2, 3, 4, 5],
})


def selected(text: str) -> list[int]:
    """Row numbers (0-4) the filter keeps."""
    return ROWS.append_column("i", pa.array(range(5))).filter(parse_filter(text).compile()).column("i").to_pylist()


@pytest.mark.parametrize(("text", "rows"), [
    ('lang == "en" and n_chars > 500', [0]),
    ("lang == 'en' or n_chars < 200", [0, 1, 3, 4]),
    ('not lang == "en"', [1, 4]),
    ('lang in ["en", "ko"]', [0, 3, 4]),
    ('lang not in ["en", "ko"]', [1]),
    ("lang is null", [2]),
    ("n_chars is not null and n_chars / 3 >= 200", [0, 2]),
    ("n_chars - 50 * 2 == 0", [1]),
    ("-n_chars < -500", [0, 2]),
    ("len(text) > 9", [0, 3]),
    ('contains(lower(text), "hello")', [0, 3]),
    ('startswith(text, "Gut") or endswith(text, "again")', [1, 3]),
    ('matches(text, "^H.*d$")', [0]),
    ("`my col` >= 4", [3, 4]),
    ("score > 0.6", [0, 4]),
    ("(lang == 'en') == true", [0, 3]),
])
def test_filters_select_rows_with_sql_null_rules(text: str, rows: list[int]) -> None:
    assert selected(text) == rows


def test_canonical_form_ignores_spacing_quotes_and_redundant_parentheses() -> None:
    a = parse_filter('lang=="en" and (n_chars>500)')
    b = parse_filter("  ( lang == 'en' )  and  n_chars > 500 ")
    assert a.canonical() == b.canonical() == '((`lang` == "en") and (`n_chars` > 500))'
    assert parse_filter(a.canonical()).canonical() == a.canonical()  # canonical text re-parses to itself
    assert parse_filter("a == 1 or b == 2 and c == 3").canonical() == "((`a` == 1) or ((`b` == 2) and (`c` == 3)))"


def test_columns_are_collected_for_projection() -> None:
    assert parse_filter('lang == "en" and len(text) > n_chars').columns() == {"lang", "text", "n_chars"}


@pytest.mark.parametrize(("text", "column", "words"), [
    ('lang == and n > 1', 9, "keyword 'and'"),
    ('lang == "en" and', 17, "end of the filter"),
    ("lang = 'en'", 6, "unexpected character '='"),
    ('(lang == "en"', 14, "expected ')'"),
    ("lang in ('en')", 9, "'['"),
    ("lang in [en]", 10, "only literal values"),
    ("size(text) > 3", 1, "unknown function 'size'"),
    ('contains(text, lang)', 16, "quoted string"),
    ("lang is nul", 9, "'null' after 'is'"),
    ("n > 1 n < 2", 7, "after a complete expression"),
    ("", 1, "empty"),
    ('x == "bad \\q"', 6, "bad escape"),
])
def test_parse_errors_point_at_the_column(text: str, column: int, words: str) -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse_filter(text, "web")
    assert info.value.column == column
    assert words in info.value.message
    assert f"column {column}" in info.value.message and "source 'web'" in info.value.message
    assert info.value.hint is not None and "▸" in info.value.hint
    assert isinstance(info.value, BadInput)


def test_caret_marks_the_offending_token() -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse_filter("score > 0.5 and and")
    assert info.value.hint is not None and "score > 0.5 and ▸and" in info.value.hint
