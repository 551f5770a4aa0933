"""cgit.toml hooks: every bad input is one clear error naming the key, before any data is read,
and a refused commit changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from corpusgit import Repo
from corpusgit.errors import BadInput
from corpusgit.quality.config import load_quality_config, parse_quality_config

QCliT = Callable[..., Any]


def load(repo: Repo, text: str) -> object:
    (repo.root / "cgit.toml").write_text(text, encoding="utf-8")
    return load_quality_config(repo.root)


@pytest.mark.parametrize(
    ("toml", "message", "hint"),
    [
        ("[hooks.pre-commit.lenght]\nmin = 3\n", "hooks.pre-commit.lenght: unknown check 'lenght'", "did you mean 'length'?"),
        ("[hooks.pre-commit.short]\ncheck = \"lenth\"\n", "unknown check 'lenth'", "did you mean 'length'?"),
        ("[hooks.pre-commit.pii]\nmax_matches = \"ten\"\n", "hooks.pre-commit.pii.max_matches must be a whole number >= 0, got 'ten'", "max_matches = 10"),
        ("[hooks.pre-commit.nulls]\nmax_ratio = 1.5\n", "hooks.pre-commit.nulls.max_ratio must be a ratio between 0 and 1", None),
        ("[hooks.pre-commit.nulls]\nmax_ratio = true\n", "hooks.pre-commit.nulls.max_ratio must be a ratio", None),
        ("[hooks.pre-commit.length]\nunit = \"tokens\"\n", "hooks.pre-commit.length.unit must be one of \"chars\", \"words\"", None),
        ("[hooks.pre-commit.length]\npercentiles = { p50 = 3 }\n", "hooks.pre-commit.length.percentiles.p50 must be a table with min and/or max", None),
        ("[hooks.pre-commit.length]\npercentiles = { median = { min = 3 } }\n", "percentile names are p0 to p100", None),
        ("[hooks.pre-commit.length]\npercentiles = { p50 = { min = \"x\" } }\n", "hooks.pre-commit.length.percentiles.p50.min must be a number", None),
        ("[hooks.pre-commit.length]\nmax_len = 3\n", "hooks.pre-commit.length.max_len: unknown parameter of check 'length'", "did you mean 'max'?"),
        ("[hooks.pre-commit.pii]\nkinds = [\"emails\"]\n", "hooks.pre-commit.pii.kinds: unknown kind 'emails'", "did you mean 'email'?"),
        ("[hooks.pre-commit.language]\nmin_share = { en = 2 }\n", "hooks.pre-commit.language.min_share.en must be a ratio", None),
        ("[hooks.pre-commit.schema]\nrequired = 3\n", "hooks.pre-commit.schema.required must be a list of columns", None),
        ("[hooks.pre-commit.pii]\nseverity = \"fatal\"\n", "hooks.pre-commit.pii.severity must be \"error\" or \"warn\"", None),
        ("[hooks.pre-commit.pii]\npaths = \"\"\n", "hooks.pre-commit.pii.paths must be a list of strings", None),
        ("[hooks.pre-commit.banned-terms]\nmax_matches = 1\n", "hooks.pre-commit.banned-terms.terms is required by check 'banned-terms'", None),
        ("[hooks.pre-commit.banned-terms]\nterms = \"missing.txt\"\n", "hooks.pre-commit.banned-terms.terms: file 'missing.txt' not found", "create it or fix the path"),
        ("[hooks.pre-comit.pii]\n", "unknown hook stage 'hooks.pre-comit'", "did you mean 'pre-commit'?"),
        ("[hooks]\npre-commit = 3\n", "hooks.pre-commit must be a table or list of checks", None),
        ("[[hooks.pre-commit]]\nmin = 3\n", "hooks.pre-commit[0] names no check", 'check = "length"'),
        ("[[hooks.pre-commit]]\ncheck = \"length\"\n[[hooks.pre-commit]]\ncheck = \"length\"\n", "hooks.pre-commit[1] repeats check id 'length'", "id ="),
        ("[[hooks.pre-commit]]\ncheck = \"lenght\"\n", "hooks.pre-commit.lenght: unknown check 'lenght'", "did you mean 'length'?"),
        ("[hooks.pre-commit]\npii = 3\n", "hooks.pre-commit.pii must be a table", None),
        ("[hooks.pre-commit.mine]\npython = \"checks.py\"\n", "hooks.pre-commit.mine.python must be \"FILE.py:FUNCTION\"", None),
        ("[hooks.pre-commit.mine]\npython = \"nope.py:check\"\n", "hooks.pre-commit.mine.python: file 'nope.py' not found", None),
        ("[hooks.pre-commit.ext]\ncommand = []\n", "hooks.pre-commit.ext.command must be a command line", None),
        ("[hooks.pre-commit.ext]\ncommand = \"true\"\ntimeout = -1\n", "hooks.pre-commit.ext.timeout must be a positive number", None),
        ("[hooks.pre-commit.x]\ncheck = 3\n", "hooks.pre-commit.x.check must be a check name", None),
        ("[branches.main]\nrequire = \"pii\"\n", "branches.main.require must be a list of check ids", None),
        ("[branches.main]\nrequire = [\"pi\"]\n", "branches.main.require names unknown check 'pi'", "did you mean 'pii'?"),
        ("hooks = 3\n", "[hooks] must be a table", None),
    ],
)
def test_bad_configuration_names_the_key(repo: Repo, toml: str, message: str, hint: str | None) -> None:
    with pytest.raises(BadInput) as info:
        load(repo, toml)
    assert message in info.value.message, info.value.message
    assert info.value.message.startswith("cgit.toml: ")
    assert info.value.hint
    if hint is not None:
        assert hint in info.value.hint, info.value.hint


def test_a_valid_configuration(repo: Repo) -> None:
    (repo.root / "terms.txt").write_text("bad\n")
    (repo.root / "checks.py").write_text("def check(ctx):\n    return True\n")
    config = parse_quality_config(
        {
            "hooks": {
                "pre-commit": {
                    "short": {"check": "length", "min": 20, "severity": "warn", "paths": ["data/web/*"], "percentiles": {"p50": {"min": 100}}},
                    "pii": {},
                    "banned-terms": {"terms": "terms.txt"},
                    "mine": {"python": "checks.py:check", "threshold": 3},
                    "ext": {"command": "python3 tool.py {path}", "timeout": 5},
                },
                "pre-merge": {"schema": {"required": {"text": "string"}}},
            },
            "branches": {"main": {"require": ["pii", "schema", "drift"]}, "dev": {"other": 1}},
        },
        repo.root,
    )
    short = config.stages["pre-commit"][0]
    assert (short.check, short.severity, short.params["min"], short.params["percentiles"]) == ("length", "warn", 20.0, {50.0: (100.0, None)})
    assert short.applies_to("data/web/a.parquet") and not short.applies_to("data/code/a.parquet")
    assert config.stages["pre-commit"][2].params["terms"] == str(repo.root / "terms.txt")
    assert config.stages["pre-commit"][3].params == {"threshold": 3}
    assert config.stages["pre-commit"][4].target == ("python3", "tool.py", "{path}")
    merge = config.select("pre-merge", "main", no_verify=True)
    assert [(s.id, s.severity, s.required) for s in merge] == [("pii", "error", True), ("schema", "error", True), ("drift", "error", True)]
    assert [s.id for s in config.select("pre-merge", "dev")] == ["schema"]
    assert config.select("pre-commit", no_verify=True) == []


def test_a_list_of_checks_reads_like_tables(repo: Repo) -> None:
    listed = load(repo, '[[hooks.pre-commit]]\ncheck = "pii"\nmax_matches = 2\n[[hooks.pre-commit]]\ncheck = "length"\nid = "short"\nmin = 20\nseverity = "warn"\n')
    tabled = load(repo, '[hooks.pre-commit.pii]\nmax_matches = 2\n[hooks.pre-commit.short]\ncheck = "length"\nmin = 20\nseverity = "warn"\n')
    assert listed == tabled
    assert [(s.id, s.check) for s in listed.stages["pre-commit"]] == [("pii", "pii"), ("short", "length")]  # type: ignore[attr-defined]


def test_language_checks_need_the_language_package(repo: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    monkeypatch.setitem(sys.modules, "py3langid", None)
    with pytest.raises(BadInput, match="hooks.pre-commit.language needs language identification") as info:
        load(repo, "[hooks.pre-commit.language]\n")
    assert "corpusgit[lang]" in (info.value.hint or "")
    load(repo, "[hooks.pre-commit.drift]\nlanguages = false\n")  # the length part alone needs nothing


def test_commit_with_a_bad_threshold_is_refused_and_changes_nothing(
    repo: Repo, write_parquet: Callable[..., Path], qcli: QCliT, repo_state: Callable[[], object]
) -> None:
    write_parquet("data/a.parquet", pa.table({"text": ["a fine row of text"] * 3}))
    (repo.root / "cgit.toml").write_text("[hooks.pre-commit.pii]\nmax_matches = 1.5\n")
    repo.add([repo.root / "data"])
    before = repo_state()
    result = qcli("commit", "-m", "x", code=2)
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "error: cgit.toml: hooks.pre-commit.pii.max_matches must be a whole number >= 0, got 1.5",
        "hint: e.g. max_matches = 10",
    ]
    assert repo_state() == before


def test_cli_overrides_are_validated_too(repo: Repo, write_parquet: Callable[..., Path], qcli: QCliT) -> None:
    write_parquet("data/a.parquet", pa.table({"text": ["a fine row of text"] * 3}))
    repo.add([repo.root / "data"])
    bad = qcli("check", "--check", "pii", "--set", "pii.max_matches=oops", code=2)
    assert "hooks.pre-commit.pii.max_matches must be a whole number" in bad.stderr
    malformed = qcli("check", "--set", "max_matches=1", code=2)
    assert "--set 'max_matches=1': expected ID.KEY=VALUE" in malformed.stderr
    unknown = qcli("check", "--check", "lenght", code=2)
    assert "did you mean 'length'?" in unknown.stderr
