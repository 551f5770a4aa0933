"""Typed configs: defaults, coercion of -c strings, and errors that name the field."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

from corpusgit.errors import BadInput
from corpusgit.ops.config import build_config, config_hash, config_to_json, load_config_file, parse_assignments
from corpusgit.ops.filter_length import LengthConfig
from corpusgit.ops.filter_quality import QualityConfig


@dataclass(frozen=True, slots=True)
class Mixed:
    mode: Literal["fast", "exact"] = "fast"
    langs: tuple[str, ...] = ("en",)
    ratio: float = 0.5
    limit: int | None = None
    flag: bool = False


def test_defaults_fill_missing_keys() -> None:
    assert build_config("filter-length", LengthConfig, {}) == LengthConfig()


def test_cli_assignments_are_typed_like_yaml() -> None:
    values = parse_assignments(["min_chars=200", "max_chars=null", "column=body", "langs=[en, zh]", "flag=true", "ratio=1"])
    assert values == {"min_chars": 200, "max_chars": None, "column": "body", "langs": ["en", "zh"], "flag": True, "ratio": 1}


def test_coercion_accepts_lists_comma_strings_and_ints_for_floats() -> None:
    cfg = build_config("x", Mixed, {"langs": "en, zh", "ratio": 1, "limit": 5, "mode": "exact"})
    assert cfg == Mixed(mode="exact", langs=("en", "zh"), ratio=1.0, limit=5)
    assert build_config("x", Mixed, {"langs": ["ja"]}).langs == ("ja",)


def test_config_typo_suggests_the_field() -> None:
    with pytest.raises(BadInput) as info:
        build_config("filter-length", LengthConfig, {"min_char": 3})
    assert "unknown config key 'min_char'" in info.value.message
    assert info.value.hint is not None and "did you mean 'min_chars'?" in info.value.hint


def test_mistyped_value_says_what_was_expected() -> None:
    with pytest.raises(BadInput) as info:
        build_config("filter-length", LengthConfig, {"min_chars": "many"})
    assert "'min_chars' must be an integer" in info.value.message and "'many'" in info.value.message
    with pytest.raises(BadInput, match="must be true or false"):
        build_config("x", Mixed, {"flag": "yes please"})
    with pytest.raises(BadInput, match="one of 'fast', 'exact'"):
        build_config("x", Mixed, {"mode": "slow"})
    with pytest.raises(BadInput, match="must be an integer"):
        build_config("x", Mixed, {"limit": True})  # a bool is not an int here


def test_value_checks_of_the_config_class_become_bad_input() -> None:
    with pytest.raises(BadInput, match="min_chars and min_words must be >= 0"):
        build_config("filter-length", LengthConfig, {"min_chars": -1})


def test_canonical_json_and_hash_ignore_spelling() -> None:
    a = build_config("filter-quality", QualityConfig, {"min_words": 30, "max_symbol_ratio": 0.1})
    b = build_config("filter-quality", QualityConfig, parse_assignments(["max_symbol_ratio=0.1", "min_words=30"]))
    assert config_to_json(a) == config_to_json(b)
    assert config_hash(config_to_json(a)) == config_hash(config_to_json(b))
    assert config_hash(config_to_json(a)) != config_hash(config_to_json(QualityConfig()))
    assert config_to_json(Mixed())["langs"] == ["en"]


def test_config_file(tmp_path: Path) -> None:
    good = tmp_path / "c.yaml"
    good.write_text("min_chars: 100\ncolumn: body\n", encoding="utf-8")
    assert load_config_file(str(good)) == {"min_chars": 100, "column": "body"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(BadInput, match="must be a mapping"):
        load_config_file(str(bad))
    with pytest.raises(BadInput, match="cannot read config file"):
        load_config_file(str(tmp_path / "missing.yaml"))
    with pytest.raises(BadInput, match="is not KEY=VALUE"):
        parse_assignments(["min_chars"])
