"""Operator discovery: built-ins, local files from cgit.toml, the entry-point group; code hashes."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from corpusgit import Repo
from corpusgit.errors import BadInput
from corpusgit.ops.registry import BUILTINS, code_hash, find_operator, operator_names

LOCAL_OP = '''
"""A local operator, versioned with the data."""
from dataclasses import dataclass

import pyarrow.compute as pc

from corpusgit.ops import MapOperator


@dataclass(frozen=True, slots=True)
class ShoutConfig:
    column: str = "text"


class Shout(MapOperator[ShoutConfig]):
    """Upper-case a column."""

    name = "shout"
    version = "2"
    Config = ShoutConfig

    def apply(self, batch, rows):
        i = batch.schema.get_field_index(self.config.column)
        return batch.set_column(i, self.config.column, pc.utf8_upper(batch.column(i)))
'''


def _local(repo: Repo, source: str = LOCAL_OP, name: str = "ops/shout.py") -> Path:
    path = repo.root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(source, encoding="utf-8")
    (repo.root / "cgit.toml").write_text(f'[operators]\npaths = ["{name}"]\n', encoding="utf-8")
    return path


def test_every_builtin_loads_with_its_declared_name() -> None:
    for name in BUILTINS:
        found = find_operator(name, None)
        assert found.cls.name == name and found.source == "builtin" and len(found.code_hash) == 64
        assert found.cls.describe(), f"{name} has no one-line description"


def test_unknown_operator_suggests_names(repo: Repo) -> None:
    with pytest.raises(BadInput) as info:
        find_operator("dedup-exakt", repo)
    assert info.value.message == "unknown operator 'dedup-exakt'"
    assert info.value.hint is not None and info.value.hint.startswith("did you mean 'dedup-exact'")


def test_local_operator_from_cgit_toml(repo: Repo) -> None:
    _local(repo)
    found = find_operator("shout", repo)
    assert found.cls.version == "2" and found.source == "local ops/shout.py"
    assert operator_names(repo)["shout"] == "local ops/shout.py"
    assert "shout" not in operator_names(None)


def test_code_hash_follows_the_operator_source(repo: Repo) -> None:
    path = _local(repo)
    before = find_operator("shout", repo).code_hash
    path.write_text(LOCAL_OP.replace("utf8_upper", "utf8_lower"), encoding="utf-8")
    after = find_operator("shout", repo).code_hash
    assert before != after
    assert code_hash(find_operator("filter-length", None).cls) == find_operator("filter-length", None).code_hash


def test_local_operator_cannot_shadow_a_builtin(repo: Repo) -> None:
    _local(repo, LOCAL_OP.replace('name = "shout"', 'name = "sample"'))
    with pytest.raises(BadInput, match="shadows the built-in"):
        find_operator("sample", repo)


def test_broken_local_file_is_reported(repo: Repo) -> None:
    _local(repo, "import no_such_module_anywhere\n")
    with pytest.raises(BadInput, match="cannot load operator file ops/shout.py: ModuleNotFoundError"):
        find_operator("shout", repo)
    (repo.root / "cgit.toml").write_text('[operators]\npaths = ["ops/missing.py"]\n', encoding="utf-8")
    with pytest.raises(BadInput, match="does not exist"):
        find_operator("shout", repo)


def test_entry_point_group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    (site / "thirdparty_ops").mkdir(parents=True)
    (site / "thirdparty_ops" / "__init__.py").write_text(LOCAL_OP.replace('name = "shout"', 'name = "third-shout"'), encoding="utf-8")
    dist = site / "thirdparty_ops-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: thirdparty-ops\nVersion: 1.0\n", encoding="utf-8")
    (dist / "entry_points.txt").write_text(textwrap.dedent("""
        [corpusgit.operators]
        third-shout = thirdparty_ops:Shout
    """), encoding="utf-8")
    monkeypatch.syspath_prepend(str(site))
    found = find_operator("third-shout", None)
    assert found.cls.name == "third-shout" and found.source == "entry point thirdparty_ops:Shout"
    assert operator_names(None)["third-shout"] == "entry point thirdparty_ops:Shout"
