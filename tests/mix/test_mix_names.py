"""Mix names: a training config says ``pretrain-v3``, not a 64-digit hash, and the name travels
with the mix through push and clone."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from clirun import Cli
from mixhelp import spec_doc

from corpusgit import Repo
from corpusgit.mix.storage import list_mix_ids


def write_spec(repo: Repo, name: str = "spec.yaml", **overrides: object) -> str:
    (repo.root / name).write_text(yaml.safe_dump(spec_doc(**overrides)), encoding="utf-8")
    return name


def test_a_named_mix_is_found_by_name_everywhere(corpus: Repo, cli: Cli, tmp_path: Path) -> None:
    created = json.loads(cli("mix", "create", write_spec(corpus), "--name", "pretrain-v3", "--json", "-q").stdout)
    assert created["name"] == "pretrain-v3"
    shown = json.loads(cli("mix", "show", "pretrain-v3", "--json").stdout)
    assert shown["id"] == created["id"] and shown["names"] == ["pretrain-v3"]
    assert "pretrain-v3" in cli("mix", "list").stdout
    cli("mix", "materialize", "pretrain-v3", "-o", str(tmp_path / "out"), "-q")
    assert cli("mix", "verify", "pretrain-v3", str(tmp_path / "out")).exit_code == 0
    assert list_mix_ids(corpus) == [created["id"]]  # a name is not a second mix


def test_names_move_only_with_force_and_can_be_deleted(corpus: Repo, cli: Cli) -> None:
    first = json.loads(cli("mix", "create", write_spec(corpus), "--name", "web-heavy", "--json", "-q").stdout)["id"]
    second = json.loads(cli("mix", "create", write_spec(corpus, "other.yaml", seed=8), "--json", "-q").stdout)["id"]
    refused = cli("mix", "name", "web-heavy", second[:12], code=2)
    assert f"already names mix {first[:12]}" in refused.stderr and "--force" in refused.stderr
    cli("mix", "name", "web-heavy", second[:12], "--force")
    assert json.loads(cli("mix", "show", "web-heavy", "--json").stdout)["id"] == second
    assert json.loads(cli("mix", "name", "--json").stdout) == [{"name": "web-heavy", "mix": second}]
    cli("mix", "name", "-d", "web-heavy")
    assert "no mix 'web-heavy'" in cli("mix", "show", "web-heavy", code=1).stderr
    assert sorted(list_mix_ids(corpus)) == sorted([first, second])


def test_bad_names_are_refused_before_anything_is_stored(corpus: Repo, cli: Cli) -> None:
    assert "looks like a mix hash" in cli("mix", "create", write_spec(corpus), "--name", "abc123", code=2).stderr
    assert "not a valid mix name" in cli("mix", "create", write_spec(corpus), "--name", "../x", code=2).stderr
    assert list_mix_ids(corpus) == []


def test_names_travel_with_push_and_clone(corpus: Repo, cli: Cli, tmp_path: Path) -> None:
    created = json.loads(cli("mix", "create", write_spec(corpus), "--name", "pretrain-v3", "--json", "-q").stdout)["id"]
    cli("remote", "add", "origin", str(tmp_path / "remote"))
    cli("push", "origin", "main", "--mixes", "-q")
    cli("clone", str(tmp_path / "remote"), str(tmp_path / "copy"), "-q")
    copy = Repo(tmp_path / "copy")
    from corpusgit.mix.storage import mix_names

    assert mix_names(copy) == {"pretrain-v3": created}
