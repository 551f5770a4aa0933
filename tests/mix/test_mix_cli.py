"""``cgit mix`` end to end through the real CLI: output, JSON, exit codes and repository state."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from clirun import Cli
from mixhelp import spec_doc

from corpusgit import Repo
from corpusgit.mix.storage import list_mix_ids


def write_spec(repo: Repo, name: str = "spec.yaml", **overrides: object) -> str:
    (repo.root / name).write_text(yaml.safe_dump(spec_doc(**overrides)))
    return name


def test_create_show_list(cli: Cli, corpus: Repo) -> None:
    result = cli("mix", "create", write_spec(corpus))
    (mix_id,) = list_mix_ids(corpus)
    assert f"created mix {mix_id}" in result.stdout and "planned:" in result.stdout and "web" in result.stdout
    again = json.loads(cli("mix", "create", "spec.yaml", "--json").stdout)
    assert again["existed"] and again["id"] == mix_id and again["moved"] == []
    shown = json.loads(cli("mix", "show", mix_id[:8], "--json").stdout)
    assert shown["id"] == mix_id and [s["name"] for s in shown["sources"]] == ["web", "books"]
    assert shown["sources"][0]["filter"] == '(`lang` != "ko")' and shown["budget"] == {"unit": "tokens", "amount": 200_000}
    assert mix_id in cli("mix", "show", mix_id).stdout
    listed = json.loads(cli("mix", "list", "--json").stdout)
    assert [m["id"] for m in listed] == [mix_id]
    assert mix_id[:12] in cli("mix", "list").stdout


def test_materialize_verify_locate_diff(cli: Cli, corpus: Repo, tmp_path: Path) -> None:
    first = json.loads(cli("mix", "create", write_spec(corpus), "--json").stdout)["id"]
    second = json.loads(cli("mix", "create", write_spec(corpus, "other.yaml", seed=9), "--json").stdout)["id"]
    out = tmp_path / "shards"
    done = json.loads(cli("mix", "materialize", first, "-o", str(out), "--json").stdout)
    assert done["mix"] == first and len(done["shards"]) == len(list(out.glob("part-*.parquet")))
    assert "OK: exactly mix" in cli("mix", "verify", first, str(out)).stdout
    report = cli("mix", "verify", second, str(out), "--json", code=1)
    assert json.loads(report.stdout)["ok"] is False
    located = json.loads(cli("mix", "locate", first, "--index", "3", "--json").stdout)
    assert len(located) == 1 and located[0]["index"] == 3 and located[0]["source"] in ("web", "books")
    step = json.loads(cli("mix", "locate", first, "--step", "2", "--batch-size", "3", "--world-size", "2", "--json").stdout)
    assert [r["index"] for r in step] == list(range(12, 18)) and [r["rank"] for r in step] == [0, 1] * 3
    assert "data/" in cli("mix", "locate", first, "-i", "0").stdout
    diff = json.loads(cli("mix", "diff", first, second, "--json").stdout)
    assert diff["settings"]["seed"] == [7, 9] and {s["name"] for s in diff["sources"]} == {"web", "books"}
    assert "in both:" in cli("mix", "diff", first, second).stdout


def test_refusals_are_one_error_and_one_hint(cli: Cli, corpus: Repo, tmp_path: Path) -> None:
    spec = spec_doc()
    spec["sources"][0]["ref"] = "mian"
    (corpus.root / "bad-ref.yaml").write_text(yaml.safe_dump(spec))
    error, hint = cli.fails("mix", "create", "bad-ref.yaml", code=1)
    assert "ref 'mian' does not resolve" in error and hint == "hint: did you mean 'main'?"
    spec = spec_doc()
    spec["sources"][0]["filter"] = "lang == 'en' and"
    (corpus.root / "bad-filter.yaml").write_text(yaml.safe_dump(spec))
    error, hint = cli.fails("mix", "create", "bad-filter.yaml", code=2)
    assert "column 17" in error and "▸" in hint
    error, _ = cli.fails("mix", "create", write_spec(corpus, "huge.yaml", budget={"tokens": "9M"}), code=2)
    assert "more than the sources allow" in error
    spec = spec_doc()
    spec["sources"] = [dict(s, weight=0) for s in spec["sources"]]
    (corpus.root / "zero.yaml").write_text(yaml.safe_dump(spec))
    assert "sum to 0" in cli.fails("mix", "create", "zero.yaml", code=2)[0]
    assert "tokenizer file" in cli.fails("mix", "create", write_spec(corpus, "tok.yaml", tokenizer="nope/tokenizer.json"), code=2)[0]
    cli.fails("mix", "show", "abcd", code=1)
    assert list_mix_ids(corpus) == []  # nothing refused above left a mix behind
    mix_id = json.loads(cli("mix", "create", write_spec(corpus), "--json").stdout)["id"]
    cli.fails("mix", "locate", mix_id, code=2)
    cli.fails("mix", "locate", mix_id, "--step", "1", code=2)
    cli.fails("mix", "materialize", mix_id, "-o", str(corpus.root), code=2)
    cli.fails("mix", "verify", mix_id, str(tmp_path), code=2)
    assert list_mix_ids(corpus) == [mix_id]
