"""Spec validation: every mistake is refused before any data is read, naming the key."""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from mixhelp import spec_doc

from corpusgit.errors import BadInput
from corpusgit.mix.expr import FilterSyntaxError
from corpusgit.mix.spec import load_spec, parse_amount, parse_spec


@pytest.mark.parametrize(("text", "value"), [
    (2000, 2000), ("2M", 2_000_000), ("1.5B", 1_500_000_000), ("500k", 500_000), ("10GiB", 10 * 2**30),
    ("3 GB", 3_000_000_000), ("7", 7),
])
def test_amounts(text: Any, value: int) -> None:
    assert parse_amount(text, "budget.tokens") == value


@pytest.mark.parametrize("text", ["1.5", "2X", "lots", "-3", True, None])
def test_bad_amounts(text: Any) -> None:
    with pytest.raises(BadInput):
        parse_amount(text, "budget.tokens")


def test_weights_and_epochs_are_exact_fractions() -> None:
    spec = parse_spec(spec_doc())
    assert [s.weight for s in spec.sources] == [Fraction(7, 10), Fraction(3, 10)]
    assert spec.sources[1].max_epochs == 3 and spec.budget == 200_000 and spec.budget_unit == "tokens"
    assert spec.block_bytes == 32 * 1024 and spec.window_blocks == 3


def with_source(i: int, **changes: Any) -> dict[str, Any]:
    doc = spec_doc()
    doc["sources"][i].update(changes)
    return doc


@pytest.mark.parametrize(("doc", "words"), [
    (spec_doc(sources=[dict(s, weight=0) for s in spec_doc()["sources"]]), "sum to 0"),
    (with_source(1, weight=-1), "negative"),
    (with_source(1, weight="heavy"), "must be a number"),
    (with_source(0, max_epochs=0), "max_epochs must be positive"),
    (with_source(1, name="web"), "two sources are named 'web'"),
    (with_source(0, path=""), "has no path"),
    (with_source(0, wieght=1), "unknown key 'wieght'"),
    (spec_doc(budget={"tokens": 0}), "must be positive"),
    (spec_doc(budget={"words": 10}), "unknown budget unit"),
    (spec_doc(budget={"rows": 10, "tokens": 5}), "exactly one"),
    (spec_doc(sources=[]), "no sources"),
    (spec_doc(seed=-1), "seed"),
    (spec_doc(tokenizer="gpt2"), "unknown tokenizer"),
    (spec_doc(shard_rows=0), "shard_rows"),
    (spec_doc(order={"window_blocks": 0}), "positive"),
    (spec_doc(columns="text"), "list of column names"),
    (spec_doc(budjet={"rows": 1}), "unknown key 'budjet'"),
])
def test_bad_specs_are_refused_with_the_key(doc: dict[str, Any], words: str) -> None:
    with pytest.raises(BadInput) as info:
        parse_spec(doc)
    assert words in info.value.message
    assert info.value.hint


def test_unknown_key_suggests_the_close_one() -> None:
    with pytest.raises(BadInput) as info:
        parse_spec(with_source(0, wieght=1))
    assert info.value.hint == "did you mean 'weight'?"


def test_filter_errors_point_at_the_column_and_name_the_source() -> None:
    with pytest.raises(FilterSyntaxError) as info:
        parse_spec(with_source(0, filter='lang == "en" and and'))
    assert info.value.column == 18 and "source 'web'" in info.value.message


def test_yaml_and_json_files(tmp_path: Path) -> None:
    (tmp_path / "spec.json").write_text(json.dumps(spec_doc()))
    (tmp_path / "spec.yaml").write_text(
        "seed: 7\nbudget: {tokens: 200k}\norder: {block_bytes: 32KiB, window_blocks: 3}\nshard_rows: 700\nsources:\n"
        "  - {name: web, path: data/web, ref: main, weight: 0.7, filter: 'lang != \"ko\"'}\n"
        "  - {name: books, path: data/books, ref: main, weight: 0.3, max_epochs: 3}\n"
    )
    assert load_spec(tmp_path / "spec.json") == load_spec(tmp_path / "spec.yaml")


def test_unreadable_spec_files(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="does not exist"):
        load_spec(tmp_path / "missing.yaml")
    (tmp_path / "bad.yaml").write_text("sources: [\n  - x")
    with pytest.raises(BadInput, match="not valid YAML at line"):
        load_spec(tmp_path / "bad.yaml")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(BadInput, match="not valid JSON"):
        load_spec(tmp_path / "bad.json")


def test_tokenizer_path_is_relative_to_the_spec(tmp_path: Path) -> None:
    spec = parse_spec(spec_doc(tokenizer="tok/tokenizer.json"), base=tmp_path)
    assert spec.count.rule == "tokenizer" and spec.count.file == tmp_path / "tok" / "tokenizer.json"
