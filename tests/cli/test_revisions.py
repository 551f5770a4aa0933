"""Revision syntax (ids, short ids, branches, tags, HEAD/@, ~n, ^n, rev:path) and suggestions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pytest

from corpusgit import Repo
from corpusgit.history import commit as make_commit
from corpusgit.objects import Author, Commit
from corpusgit.reach import walk, roots
from corpusgit.refs import HEADS
from corpusgit.store.canonical import canonical_json, object_id

if TYPE_CHECKING:
    from clirun import Cli


@dataclass(frozen=True)
class History:
    """c0 <- c1 (tag v1) <- c2 (branch release2) <- c3 <- m (main, merge of c3 and side)."""

    c: tuple[str, ...]
    side: str
    merge: str


@pytest.fixture
def history(repo: Repo, cli: Cli, write_parquet: Callable[..., Path]) -> History:
    write_parquet("data/t.parquet", pa.table({"id": [1, 2, 3]}))
    cli("add", "data")
    ids = []
    for i in range(4):
        (repo.root / "notes.txt").write_text(f"version {i}\n")
        cli("add", "notes.txt")
        cli("commit", "-m", f"c{i}")
        ids.append(repo.refs.head_commit())
        if i == 1:
            cli("tag", "v1")
        if i == 2:
            cli("branch", "release2")
    cli("switch", "-c", "side", "HEAD~1")
    (repo.root / "side.txt").write_text("side\n")
    cli("add", "side.txt")
    cli("commit", "-m", "side work")
    side = repo.refs.head_commit()
    cli("switch", "main")
    merge = make_commit(repo, "merge side", extra_parents=(side,)).id
    return History(tuple(ids), side, merge)


def resolve(cli: Cli, rev: str) -> str:
    """What ``cgit log -n1 --json REV`` says REV is (the CLI path, not a shortcut)."""
    return str(cli.json("log", "-n", "1", rev)[0]["id"])


REVISIONS = [
        ("HEAD", "merge"), ("@", "merge"), ("main", "merge"), ("refs/heads/main", "merge"),
        ("HEAD^", "c3"), ("HEAD^1", "c3"), ("HEAD^2", "side"), ("HEAD~1", "c3"), ("HEAD~", "c3"),
        ("HEAD~2", "c2"), ("HEAD~4", "c0"), ("HEAD^^", "c2"), ("HEAD~2^", "c1"), ("main~1~1~1", "c1"),
        ("@~3", "c1"), ("HEAD^2~1", "c2"), ("HEAD^2^", "c2"), ("HEAD^2^^", "c1"),
        ("v1", "c1"), ("v1~1", "c0"), ("v1^", "c0"), ("refs/tags/v1", "c1"),
        ("release2", "c2"), ("release2~2", "c0"), ("release2^", "c1"), ("side", "side"), ("side~1", "c2"),
]


def test_revision_names(cli: Cli, history: History) -> None:
    """One history, every spelling (a single test: building the history dominates the cost)."""
    expected = {"merge": history.merge, "side": history.side} | {f"c{i}": c for i, c in enumerate(history.c)}
    got = {rev: resolve(cli, rev) for rev, _ in REVISIONS}
    assert got == {rev: expected[want] for rev, want in REVISIONS}


def test_full_and_short_ids(repo: Repo, cli: Cli, history: History) -> None:
    commits = [*history.c, history.side, history.merge]
    for oid in commits:
        assert resolve(cli, oid) == oid
        assert resolve(cli, oid[:12]) == oid
        assert resolve(cli, oid + "~0") == oid
    c2 = history.c[2]
    assert resolve(cli, c2[:10] + "~2") == history.c[0]
    assert resolve(cli, c2[:10] + "^") == history.c[1]
    shortest = next(n for n in range(4, 65) if sum(c.startswith(c2[:n]) for c in commits) == 1)
    assert resolve(cli, c2[:shortest]) == c2
    assert cli.json("show", c2[:12])["id"] == c2
    cli("checkout", c2[:12])
    assert repo.refs.head_target() is None and repo.refs.head_commit() == c2
    assert (repo.root / "notes.txt").read_text() == "version 2\n"


def test_rev_path_specs(cli: Cli, history: History) -> None:
    assert cli("show", "HEAD:notes.txt").stdout == "version 3\n"
    assert cli("show", "v1:notes.txt").stdout == "version 1\n"
    assert cli("show", "HEAD~4:notes.txt").stdout == "version 0\n"
    assert cli("show", "HEAD^2:side.txt").stdout == "side\n"
    assert cli("show", f"{history.c[2][:12]}:notes.txt").stdout == "version 2\n"
    assert cli("show", "release2:/notes.txt").stdout == "version 2\n"
    result = cli.fails("show", "HEAD:note.txt")
    assert "path 'note.txt' does not exist in 'HEAD'" in result.stderr and "did you mean 'notes.txt'?" in result.stderr
    assert "does not exist in 'v1'" in cli.fails("show", "v1:side.txt").stderr
    cli.fails("show", "HEAD:")


BAD_REVISIONS = [
        ("mian", "unknown revision 'mian'", "did you mean 'main'?"),
        ("mian~2", "unknown revision 'mian~2'", "did you mean 'main'?"),
        ("relase2", "unknown revision 'relase2'", "'release2'"),
        ("v2", "unknown revision 'v2'", "'v1'"),
        ("HAED", "unknown revision 'HAED'", "'HEAD'"),
        ("sdie", "unknown revision 'sdie'", "'side'"),
        ("HEAD~5", "goes past the first commit", "fewer ancestors"),
        ("v1~2", "goes past the first commit", "fewer ancestors"),
        ("HEAD~1^2", "has 1 parent(s)", "^1"),
        ("HEAD^3", "has 2 parent(s)", "^1"),
        ("main~x", "unknown revision 'main~x'", "did you mean 'main'?"),
        ("~1", "cannot parse revision '~1'", "HEAD~2"),
        ("f" * 64, "unknown revision", "known names"),
        ("qqqqq", "unknown revision 'qqqqq'", "known names: HEAD, main, release2, side, v1"),
]


def test_unknown_or_impossible_revisions_explain_themselves(repo: Repo, cli: Cli, history: History) -> None:
    before = (repo.cgit / "HEAD").read_text(), (repo.cgit / "index").read_bytes()
    for rev, message, hint in BAD_REVISIONS:
        for args in (["log", rev], ["show", rev], ["checkout", rev], ["branch", "newbranch", rev], ["tag", "newtag", rev]):
            result = cli.fails(*args)
            error, hint_line = cli.error_report(result.stderr)
            assert message in error, (args, error)
            assert hint in hint_line, (args, hint_line)
    assert ((repo.cgit / "HEAD").read_text(), (repo.cgit / "index").read_bytes()) == before
    assert repo.refs.read(HEADS + "newbranch") is None and repo.refs.read("refs/tags/newtag") is None


def test_ids_of_objects_that_are_not_commits_are_refused_clearly(repo: Repo, cli: Cli, history: History) -> None:
    reach = walk(repo, roots(repo))
    assert set(reach.kinds.values()) == {"commit", "tree", "blob", "table", "chunk"}
    for oid, kind in reach.kinds.items():
        if kind == "commit":
            continue
        for spec in (oid, oid[:12]):
            result = cli.fails("log", spec)
            error, _ = cli.error_report(result.stderr)
            assert "corrupt" not in error, (kind, error)  # the object is fine, it just is not a commit
            assert spec in error and "not a commit" in error, (kind, error)


def test_ambiguous_short_id_asks_for_more_characters(repo: Repo, cli: Cli, history: History) -> None:
    """Two commit objects sharing a 4-digit prefix (found by varying the message) are ambiguous."""
    base = Commit(repo.read_commit("HEAD").tree, (), Author("A", "a@example.com"), 0, 0, "")
    seen: dict[str, dict[str, object]] = {}
    prefix = None
    for i in range(100_000):
        doc = Commit(base.tree, (), base.author, 0, 0, f"probe {i}\n").to_json()
        p = object_id(canonical_json(doc))[:4]
        if p in seen:
            repo.store.put_meta(seen[p])
            repo.store.put_meta(doc)
            prefix = p
            break
        seen[p] = doc
    assert prefix is not None
    result = cli.fails("log", prefix)
    error, hint = cli.error_report(result.stderr)
    assert "ambiguous" in error and prefix in error and "more characters" in hint


def test_head_of_an_empty_repository(cli: Cli) -> None:
    result = cli.fails("log")
    error, hint = cli.error_report(result.stderr)
    assert "HEAD does not point to a commit yet" in error and "first commit" in hint
    assert "unknown revision 'main'" in cli.fails("show", "main").stderr


def test_branch_names_are_validated(cli: Cli, history: History) -> None:
    for bad in ("a..b", "x.lock", "a b", "x~1", "x^", "HEAD", "a:b", "@{x}"):
        result = cli.fails("branch", bad)
        assert "not a valid branch name" in result.stderr, bad
