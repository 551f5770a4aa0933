"""``create``: identity of mixes, what gets planned, storage and gc, and refused specs."""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from mixhelp import make_mix, spec_doc, stream

from corpusgit import Repo
from corpusgit.add import add
from corpusgit.errors import BadInput, RevisionNotFound
from corpusgit.fsck import fsck
from corpusgit.gc import gc
from corpusgit.history import commit
from corpusgit.mix.create import create_mix
from corpusgit.mix.expr import FilterSyntaxError
from corpusgit.mix.spec import parse_spec
from corpusgit.mix.storage import MIXES, list_mix_ids, load_mix


def objects(repo: Repo) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in repo.store.root.rglob("*") if p.is_file()}


def test_same_spec_same_commits_same_hash(corpus: Repo) -> None:
    first = create_mix(corpus, parse_spec(spec_doc()))
    again = create_mix(corpus, parse_spec(spec_doc()))
    assert not first.existed and again.existed
    assert first.stored.id == again.stored.id and list_mix_ids(corpus) == [first.stored.id]
    assert again.moved == ()
    respaced = spec_doc()
    respaced["sources"][0]["filter"] = "  lang!='ko' "
    assert make_mix(corpus, respaced).id == first.stored.id  # the canonical filter is what counts


def test_moved_ref_gives_a_new_hash_and_says_so(corpus: Repo, make_table: Callable[..., pa.Table], write_parquet: Callable[..., Path]) -> None:
    old = make_mix(corpus)
    write_parquet("data/books/more.parquet", make_table(rows=200, seed=5))
    add(corpus, ["data"])
    new_commit = commit(corpus, "more books").id
    result = create_mix(corpus, parse_spec(spec_doc()))
    assert result.stored.id != old.id and not result.existed
    assert [(m.source, m.ref, m.old_commit, m.new_commit, m.old_mix) for m in result.moved] == [
        ("web", "main", old.mix.sources[0].commit, new_commit, old.id),
        ("books", "main", old.mix.sources[1].commit, new_commit, old.id),
    ]
    pinned = spec_doc()
    for s in pinned["sources"]:
        s["ref"] = old.mix.sources[0].commit
    assert make_mix(corpus, pinned).mix.sources[0].commit == old.mix.sources[0].commit


def test_plan_matches_the_budget_and_the_stored_totals(mix: Any, corpus: Repo) -> None:
    table = stream(corpus, mix)
    assert table.num_rows == mix.samples == sum(t.samples for t in mix.totals)
    text = table.column("text").to_pylist()
    tokens = np.array([(len(t) + 3) // 4 for t in text])
    names = np.array(table.column("_source").to_pylist())
    for src, totals in zip(mix.mix.sources, mix.totals):
        assert totals.tokens == int(tokens[names == src.name].sum())
    assert 200_000 <= int(tokens.sum()) < 200_000 + 2 * 1300  # each source overshoots by < one document
    assert "ko" not in set(table.filter(pa.compute.equal(table["_source"], "web")).column("lang").to_pylist())
    assert table.schema.names == ["id", "text", "lang", "score", "_source", "_cgit_row"]


def test_mix_survives_gc_and_keeps_its_sources_alive(corpus: Repo, mix: Any, make_table: Callable[..., pa.Table], write_parquet: Callable[..., Path]) -> None:
    before = stream(corpus, mix)
    corpus.refs.update("refs/heads/main", None, corpus.refs.read("refs/heads/main"), "drop main")  # nothing else names the commit...
    (corpus.cgit / "HEAD").write_text("ref: refs/heads/other\n")
    for log in (corpus.cgit / "logs").rglob("*"):
        if log.is_file():
            log.unlink()  # ...not even a reflog
    (corpus.cgit / "index").unlink()
    removed = gc(corpus, grace_seconds=0)
    assert removed.removed == 0
    after = stream(corpus, load_mix(corpus, mix.id))
    assert after.column("_cgit_row").equals(before.column("_cgit_row")) and after.column("text").equals(before.column("text"))
    report = fsck(corpus)
    assert report.ok and report.dangling == 0 and report.checked.get("raw") == len(mix.pieces)
    (corpus.cgit / (MIXES + mix.id)).unlink()
    assert gc(corpus, grace_seconds=0).removed > 0  # with the mix gone, so is everything


def test_short_ids_resolve(corpus: Repo, mix: Any) -> None:
    assert load_mix(corpus, mix.id[:6]).id == mix.id
    with pytest.raises(RevisionNotFound, match="no mix 'ffff'"):
        load_mix(corpus, "ffff" if not mix.id.startswith("ffff") else "0000")


def refused(corpus: Repo, doc: dict[str, Any], error: type[Exception] = BadInput) -> Any:
    """Run create on a spec that must fail; the repository must be untouched."""
    before, mixes = objects(corpus), list_mix_ids(corpus)
    with pytest.raises(error) as info:
        create_mix(corpus, parse_spec(doc, corpus.root))
    assert objects(corpus) == before and list_mix_ids(corpus) == mixes
    return info.value


def source(i: int, **changes: Any) -> dict[str, Any]:
    doc = spec_doc()
    doc["sources"][i].update(changes)
    return doc


def test_unresolvable_ref_is_named_with_branch_suggestions(corpus: Repo) -> None:
    corpus.refs.update("refs/heads/release", corpus.refs.read("refs/heads/main"), None, "branch")
    err = refused(corpus, source(0, ref="mian"), RevisionNotFound)
    assert "source 'web': ref 'mian' does not resolve" in err.message
    assert err.hint == "did you mean 'main'?"
    err = refused(corpus, source(0, ref="zzzzzz"), RevisionNotFound)
    assert err.hint == "branches: main, release"


def test_budget_beyond_max_epochs_says_by_how_much(corpus: Repo) -> None:
    err = refused(corpus, spec_doc(budget={"tokens": "5M"}))
    assert "budget of 5,000,000 tokens is" in err.message and "more than the sources allow" in err.message
    allowed = int(err.message.split("(at most ")[1].split(")")[0].replace(",", ""))
    assert f"{5_000_000 - allowed:,} more" in err.message
    assert "source 'web'" in err.message and f"lower the budget to {allowed:,} tokens" in err.hint
    ok = spec_doc(budget={"tokens": allowed})
    assert make_mix(corpus, ok).samples > 0  # exactly the limit is fine
    assert "rows" in refused(corpus, spec_doc(budget={"rows": 10_000}) | {"seed": 8}).message


def test_bad_sources_are_refused_before_reading_data(corpus: Repo) -> None:
    assert "no table at or under 'data/webb'" in refused(corpus, source(0, path="data/webb")).message
    assert refused(corpus, source(0, path="data/webb")).hint.startswith("did you mean 'data/web'")
    assert "uses column 'langg'" in refused(corpus, source(0, filter='langg == "en"')).message
    assert "cannot run on" in refused(corpus, source(0, filter="lang > 5")).message
    assert "no rows" in refused(corpus, source(0, filter='lang == "xx"')).message
    assert "has no column 'body'" in refused(corpus, spec_doc(columns=["id", "body"])).message
    assert "text_column 'body'" in refused(corpus, spec_doc(text_column="body")).message


def test_column_types_must_agree(corpus: Repo, make_table: Callable[..., pa.Table], write_parquet: Callable[..., Path]) -> None:
    other = make_table(rows=50, seed=3)
    write_parquet("data/other/x.parquet", other.set_column(0, "id", other.column("id").cast(pa.string())))
    add(corpus, ["data"])
    commit(corpus, "other")
    doc = spec_doc()
    doc["sources"].append({"name": "other", "path": "data/other", "ref": "main", "weight": 0.01})
    err = refused(corpus, doc)
    assert "column 'id' is int64" in err.message and "string" in err.message
    doc["columns"] = ["text", "lang"]
    assert make_mix(corpus, doc).mix.columns == ("text", "lang")


def test_missing_tokenizer_file(corpus: Repo) -> None:
    err = refused(corpus, spec_doc(tokenizer="tokenizers/missing.json"))
    assert "tokenizer file" in err.message and "does not exist" in err.message


def test_tokenizer_without_the_extra_names_it(corpus: Repo, monkeypatch: pytest.MonkeyPatch) -> None:
    (corpus.root / "tokenizer.json").write_text("{}")
    monkeypatch.setitem(sys.modules, "tokenizers", None)  # import tokenizers now raises ImportError
    err = refused(corpus, spec_doc(tokenizer="tokenizer.json"))
    assert "needs the 'tokenizers' package" in err.message and err.hint.startswith("pip install 'corpusgit[tokenizers]'")


def test_filter_syntax_error_from_a_spec_file(corpus: Repo) -> None:
    (corpus.root / "spec.yaml").write_text("budget: {rows: 10}\nsources:\n  - {path: data/web, weight: 1, filter: 'lang == '}\n")
    with pytest.raises(FilterSyntaxError) as info:
        create_mix(corpus, corpus.root / "spec.yaml")
    assert info.value.column == 9
