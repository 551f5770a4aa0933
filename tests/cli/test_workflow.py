"""The everyday verbs end to end through the real CLI, checking repository state, not just text."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpusgit import Repo
from corpusgit.objects import BLOB, TABLE, read_commit, read_tree
from corpusgit.refs import HEADS

if TYPE_CHECKING:
    from clirun import Cli

SameTable = Callable[[pa.Table, pa.Table], None]


TABLE_PATH = "data/web/part-0.parquet"


def read_back(repo: Repo, rev: str, path: str) -> pa.Table:
    return repo.read_table(rev, path).read_all()


def tree_at(repo: Repo, rev: str) -> dict[str, tuple[str, str]]:
    tree = read_tree(repo.store, repo.read_commit(rev).tree)
    return {p: (e.kind, e.id) for p, e in tree.entries.items()}


def edit(table: pa.Table, new_rows: pa.Table) -> pa.Table:
    """A typical curation step: drop every 7th row, rewrite one text, append new rows."""
    keep = [i for i in range(table.num_rows) if i % 7]
    kept = table.take(keep)
    texts = kept.column("text").to_pylist()
    texts[3] = texts[3] + " [redacted]"
    kept = kept.set_column(kept.schema.get_field_index("text"), "text", pa.array(texts, pa.string()))
    return pa.concat_tables([kept, new_rows])


@pytest.fixture
def first_commit(repo: Repo, cli: Cli, make_table: Callable[..., pa.Table], write_parquet: Callable[..., Path]) -> pa.Table:
    table = make_table(rows=1500, seed=1)
    write_parquet(TABLE_PATH, table)
    (repo.root / "README.md").write_text("a corpus\n")
    cli("add", ".")
    cli("commit", "-m", "first")
    return table


def test_init_creates_repository_and_is_idempotent(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert "Initialized empty" in cli("init", "proj").stdout
    assert (tmp_path / "proj/.cgit/HEAD").read_text() == "ref: refs/heads/main\n"
    assert "Reinitialized existing" in cli("init", "proj").stdout
    cli("init", "other", "-b", "trunk")
    repo = Repo.open(tmp_path / "other")
    assert repo.refs.head_target() == HEADS + "trunk"
    assert repo.refs.head_commit() is None


def test_outside_a_repository_verbs_say_so(cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    result = cli.fails("status")
    assert "not a cgit repository" in result.stderr and "cgit init" in result.stderr


def test_add_status_commit_log_show_round_trip(repo: Repo, cli: Cli, make_table: Callable[..., pa.Table], write_parquet: Callable[..., Path], same_table: SameTable) -> None:
    v1 = make_table(rows=2000, seed=0)
    write_parquet(TABLE_PATH, v1)
    (repo.root / "README.md").write_text("hello corpus\n")

    st = cli.json("status")
    assert st["head"] is None and st["branch"] == "refs/heads/main" and not st["clean"]
    assert st["untracked"] == ["README.md", "data/"]
    assert "No commits yet" in cli("status").stdout

    cli("add", ".")
    index = repo.read_index().entries
    assert set(index) == {"README.md", TABLE_PATH}
    assert index[TABLE_PATH].kind == TABLE and index[TABLE_PATH].rows == 2000
    assert index["README.md"].kind == BLOB
    st = cli.json("status")
    assert {(c["path"], c["change"], c["rows_after"]) for c in st["staged"]} == {("README.md", "added", None), (TABLE_PATH, "added", 2000)}
    assert st["untracked"] == [] and st["unstaged"] == []

    out = cli("commit", "-m", "first version\n\nwith a body").stdout
    c1 = repo.refs.read(HEADS + "main")
    assert c1 is not None and c1[:12] in out and "first version" in out
    assert tree_at(repo, c1) == {p: (e.kind, e.id) for p, e in repo.read_index().entries.items()}
    assert cli.json("status")["clean"]
    assert "nothing to commit, working tree clean" in cli("status").stdout

    v2 = edit(v1, make_table(rows=300, seed=2))
    write_parquet(TABLE_PATH, v2)
    st = cli.json("status")
    assert [(c["path"], c["change"]) for c in st["unstaged"]] == [(TABLE_PATH, "modified")]
    assert cli("status", "--short").stdout == f" M {TABLE_PATH}\n"
    cli("add", "data")
    st = cli.json("status")
    assert [(c["path"], c["change"], c["rows_before"], c["rows_after"]) for c in st["staged"]] == [(TABLE_PATH, "modified", 2000, v2.num_rows)]
    cli("commit", "-m", "filter and append")
    c2 = repo.refs.read(HEADS + "main")
    assert c2 != c1 and read_commit(repo.store, c2).parents == (c1,)

    entries = cli.json("log")
    assert [e["id"] for e in entries] == [c2, c1]
    assert entries[1]["message"] == "first version\n\nwith a body\n"
    assert entries[0]["author"] == {"name": "Test Author", "email": "test@example.com"}
    assert entries[0]["parents"] == [c1] and entries[1]["parents"] == []
    assert cli("log", "--oneline").stdout.splitlines() == [f"{c2[:12]} filter and append", f"{c1[:12]} first version"]
    assert [e["id"] for e in cli.json("log", "-n", "1")] == [c2]
    full = cli("log").stdout
    assert f"commit {c2}" in full and "Author: Test Author <test@example.com>" in full and "    with a body" in full

    shown = cli.json("show", "HEAD")
    assert shown["id"] == c2 and shown["parents"] == [c1]
    assert shown["changes"] == [{"path": TABLE_PATH, "change": "modified", "kind": "table", "rows_before": 2000, "rows_after": v2.num_rows}]
    assert f"2,000 → {v2.num_rows:,} rows" in cli("show").stdout

    view = cli.json("show", f"HEAD:{TABLE_PATH}", "--rows", "3")
    assert view["rows"] == v2.num_rows and [f["name"] for f in view["schema"]] == v2.schema.names
    assert view["id"] == repo.read_index().entries[TABLE_PATH].id
    assert [r["id"] for r in view["head"]] == v2.column("id").to_pylist()[:3]
    assert cli.json("show", f"HEAD~1:{TABLE_PATH}")["rows"] == 2000
    assert cli("show", "HEAD:README.md").stdout == "hello corpus\n"
    assert cli.json("show", "HEAD:README.md")["text"] == "hello corpus\n"

    same_table(read_back(repo, "HEAD", TABLE_PATH), v2)
    same_table(read_back(repo, "HEAD~1", TABLE_PATH), v1)


def test_checkout_previous_commit_gives_each_table_back_logically_identical(repo: Repo, cli: Cli, write_parquet: Callable[..., Path], same_table: SameTable) -> None:
    n = 3000
    utc = dt.timezone.utc
    v1 = pa.table(
        {
            "id": pa.array(range(n), pa.int64()),
            "text": pa.array([None if i % 97 == 0 else f"row {i} ünïcödé 数据 🙂" for i in range(n)], pa.string()),
            "score": pa.array([float("nan") if i % 31 == 0 else (None if i % 37 == 0 else i / 7) for i in range(n)], pa.float64()),
            "ok": pa.array([i % 3 == 0 for i in range(n)], pa.bool_()),
            "tags": pa.array([[f"t{i % 5}", "x"] if i % 4 else [] for i in range(n)], pa.list_(pa.string())),
            "ts": pa.array([dt.datetime(2024, 1, 1, tzinfo=utc) + dt.timedelta(seconds=i) for i in range(n)], pa.timestamp("us", tz="UTC")),
            "meta": pa.array([{"src": f"s{i % 3}", "n": i} for i in range(n)], pa.struct([("src", pa.string()), ("n", pa.int32())])),
        }
    )
    other = pa.table({"k": pa.array(["b", "a", "c"] * 400, pa.string())})
    write_parquet("data/mixed/part-0.parquet", v1)
    write_parquet("data/other.parquet", other)
    cli("add", "data")
    cli("commit", "-m", "v1")
    c1 = repo.refs.head_commit()

    reordered = v1.take(list(range(n - 1, -1, -3)) + list(range(0, n, 3)))  # shuffled order and duplicates
    write_parquet("data/mixed/part-0.parquet", reordered)
    os.remove(repo.root / "data/other.parquet")
    write_parquet("data/extra.parquet", pa.table({"z": [1, 2, 3]}))
    cli("add", "data")
    cli("commit", "-m", "v2")
    c2 = repo.refs.head_commit()

    out = cli("checkout", "HEAD~1").stdout
    assert "detached HEAD" in out
    assert repo.refs.head_target() is None and repo.refs.head_commit() == c1
    assert (repo.cgit / "HEAD").read_text().strip() == c1
    same_table(pq.read_table(repo.root / "data/mixed/part-0.parquet"), v1)
    same_table(pq.read_table(repo.root / "data/other.parquet"), other)
    assert not (repo.root / "data/extra.parquet").exists()
    assert set(repo.read_index().entries) == {"data/mixed/part-0.parquet", "data/other.parquet"}
    st = cli.json("status")
    assert st["clean"] and st["branch"] is None and st["head"] == c1
    assert cli("status").stdout.startswith(f"HEAD detached at {c1[:12]}")
    assert cli("branch").stdout.startswith("  main")  # no branch is current

    cli("checkout", "main")
    assert repo.refs.head_target() == HEADS + "main" and repo.refs.head_commit() == c2
    same_table(pq.read_table(repo.root / "data/mixed/part-0.parquet"), reordered)
    assert not (repo.root / "data/other.parquet").exists()
    assert cli.json("status")["clean"]


def test_checkout_rev_dash_dash_paths_restores_only_those_paths(repo: Repo, cli: Cli, first_commit: pa.Table, make_table: Callable[..., pa.Table], write_parquet: Callable[..., Path], same_table: SameTable) -> None:
    c1 = repo.refs.head_commit()
    v2 = make_table(rows=700, seed=3)
    write_parquet(TABLE_PATH, v2)
    (repo.root / "README.md").write_text("v2 readme\n")
    cli("add", ".")
    cli("commit", "-m", "v2")
    c2 = repo.refs.head_commit()

    assert "Restored 1 file" in cli("checkout", "HEAD~1", "--", TABLE_PATH).stdout
    assert repo.refs.head_target() == HEADS + "main" and repo.refs.head_commit() == c2  # HEAD does not move
    same_table(pq.read_table(repo.root / TABLE_PATH), first_commit)
    assert (repo.root / "README.md").read_text() == "v2 readme\n"
    assert repo.read_index().entries[TABLE_PATH].id == tree_at(repo, c1)[TABLE_PATH][1]
    st = cli.json("status")
    assert [(c["path"], c["change"]) for c in st["staged"]] == [(TABLE_PATH, "modified")] and st["unstaged"] == []

    cli("checkout", "main", "--", "README.md", TABLE_PATH)  # back to HEAD's version, both paths
    assert cli.json("status")["clean"]
    (repo.root / "README.md").write_text("scribble\n")
    cli("restore", "README.md")
    assert (repo.root / "README.md").read_text() == "v2 readme\n"
    cli.fails("checkout", "HEAD", "--", "no/such/file")


def test_detached_head_commit_then_switch_create_keeps_the_work(repo: Repo, cli: Cli, first_commit: pa.Table, make_table: Callable[..., pa.Table], write_parquet: Callable[..., Path], same_table: SameTable) -> None:
    c1 = repo.refs.head_commit()
    write_parquet(TABLE_PATH, make_table(rows=100, seed=4))
    cli("add", TABLE_PATH)
    cli("commit", "-m", "on main")
    c2 = repo.refs.head_commit()

    cli("checkout", c1[:10])
    assert repo.refs.head_target() is None and repo.refs.head_commit() == c1
    side = make_table(rows=50, seed=5)
    write_parquet(TABLE_PATH, side)
    cli("add", TABLE_PATH)
    out = cli("commit", "-m", "detached work").stdout
    assert out.startswith("[detached HEAD ")
    d1 = repo.refs.head_commit()
    assert read_commit(repo.store, d1).parents == (c1,)
    assert repo.refs.read(HEADS + "main") == c2  # the branch did not move
    assert [e.new for e in repo.refs.reflog("HEAD")][-2:] == [c1, d1]

    assert "Switched to a new branch 'rescue'" in cli("switch", "-c", "rescue").stdout
    assert repo.refs.head_target() == HEADS + "rescue" and repo.refs.read(HEADS + "rescue") == d1
    assert [e["id"] for e in cli.json("log", "rescue")] == [d1, c1]
    same_table(pq.read_table(repo.root / TABLE_PATH), side)

    cli("switch", "main")
    assert repo.refs.head_commit() == c2
    same_table(read_back(repo, "rescue", TABLE_PATH), side)
    cli("checkout", "--detach", "main")
    assert repo.refs.head_target() is None and repo.refs.head_commit() == c2
    cli("switch", "--detach", "rescue")
    assert repo.refs.head_target() is None and repo.refs.head_commit() == d1
    cli("switch", "-c", "from-tag-start", "main")
    assert repo.refs.read(HEADS + "from-tag-start") == c2 and repo.refs.head_target() == HEADS + "from-tag-start"


def test_checkout_refuses_to_overwrite_local_changes_unless_forced(repo: Repo, cli: Cli, first_commit: pa.Table, make_table: Callable[..., pa.Table], write_parquet: Callable[..., Path], same_table: SameTable) -> None:
    cli("switch", "-c", "other")
    write_parquet(TABLE_PATH, make_table(rows=10, seed=6))
    cli("add", TABLE_PATH)
    cli("commit", "-m", "other")
    dirty = make_table(rows=20, seed=7)
    write_parquet(TABLE_PATH, dirty)
    index_before = (repo.cgit / "index").read_bytes()
    result = cli.fails("checkout", "main")
    assert "uncommitted changes" in result.stderr and TABLE_PATH in result.stderr
    assert repo.refs.head_target() == HEADS + "other" and (repo.cgit / "index").read_bytes() == index_before
    same_table(pq.read_table(repo.root / TABLE_PATH), dirty)

    (repo.root / "new.txt").write_text("untracked\n")
    cli("checkout", "-f", "main")
    same_table(pq.read_table(repo.root / TABLE_PATH), first_commit)
    assert repo.refs.head_target() == HEADS + "main"


def test_branch_list_create_rename_delete(repo: Repo, cli: Cli, first_commit: pa.Table) -> None:
    c1 = repo.refs.head_commit()
    assert "Created branch feature" in cli("branch", "feature").stdout
    assert repo.refs.read(HEADS + "feature") == c1
    assert cli.json("branch") == [{"name": "feature", "commit": c1, "current": False}, {"name": "main", "commit": c1, "current": True}]
    assert cli("branch").stdout.splitlines() == [f"  feature  {c1[:12]}", f"* main  {c1[:12]}"]
    cli.fails("branch", "feature")
    cli.fails("branch", "bad name")
    cli.fails("branch", "x", "nosuchrev")

    cli("branch", "feature", "-m", "renamed")
    assert repo.refs.read(HEADS + "feature") is None and repo.refs.read(HEADS + "renamed") == c1
    cli("branch", "main", "-m", "trunk")  # renaming the current branch moves HEAD along
    assert repo.refs.head_target() == HEADS + "trunk"

    cli("switch", "renamed")
    (repo.root / "more.txt").write_text("x\n")
    cli("add", "more.txt")
    cli("commit", "-m", "unmerged")
    cli("switch", "trunk")
    assert "not merged" in cli.fails("branch", "-d", "renamed").stderr
    assert repo.refs.read(HEADS + "renamed") is not None
    cli("branch", "-D", "renamed")
    assert repo.refs.read(HEADS + "renamed") is None
    assert "checked out" in cli.fails("branch", "-d", "trunk").stderr
    cli("branch", "merged")
    cli("branch", "-d", "merged")
    assert [b["name"] for b in cli.json("branch")] == ["trunk"]


def test_tag_create_list_move_delete(repo: Repo, cli: Cli, first_commit: pa.Table) -> None:
    c1 = repo.refs.head_commit()
    (repo.root / "README.md").write_text("v2\n")
    cli("add", "README.md")
    cli("commit", "-m", "second")
    c2 = repo.refs.head_commit()

    cli("tag", "v1", "HEAD~1")
    cli("tag", "v2")
    assert cli.json("tag") == [{"name": "v1", "commit": c1}, {"name": "v2", "commit": c2}]
    assert "already exists" in cli.fails("tag", "v1").stderr
    assert repo.refs.read("refs/tags/v1") == c1
    cli("tag", "-f", "v1", "HEAD")
    assert repo.refs.read("refs/tags/v1") == c2
    cli("tag", "-d", "v1")
    assert cli.json("tag") == [{"name": "v2", "commit": c2}]
    cli.fails("tag", "-d", "v1")
    cli.fails("tag", "bad:name")
    cli("checkout", "v2")  # a tag detaches HEAD, as in git
    assert repo.refs.head_target() is None and repo.refs.head_commit() == c2


def test_rm_and_rm_cached(repo: Repo, cli: Cli, first_commit: pa.Table, make_table: Callable[..., pa.Table], write_parquet: Callable[..., Path]) -> None:
    write_parquet("data/web/part-1.parquet", make_table(rows=30, seed=8))
    cli("add", "data")
    cli("commit", "-m", "two shards")

    assert cli("rm", "README.md").stdout == "rm 'README.md'\n"
    assert not (repo.root / "README.md").exists() and "README.md" not in repo.read_index().entries
    assert "pass -r" in cli.fails("rm", "data/web").stderr
    cli("rm", "--cached", "-r", "data/web")
    assert (repo.root / TABLE_PATH).exists() and repo.read_index().entries == {}
    st = cli.json("status")
    assert {c["path"] for c in st["staged"] if c["change"] == "deleted"} == {"README.md", TABLE_PATH, "data/web/part-1.parquet"}
    assert st["untracked"] == ["data/"]
    cli("add", "data/web/part-1.parquet")
    cli("commit", "-m", "keep one shard")
    assert set(tree_at(repo, "HEAD")) == {"data/web/part-1.parquet"}
    cli("rm", "-r", "data")
    assert not (repo.root / "data/web/part-1.parquet").exists()
    assert (repo.root / TABLE_PATH).exists()  # untracked files are never touched by rm
    cli.fails("rm", "README.md")


def test_mv_renames_without_copying_data(repo: Repo, cli: Cli, first_commit: pa.Table) -> None:
    before = repo.read_index().entries[TABLE_PATH]
    objects_before = set(repo.store.iter_ids())
    cli("mv", TABLE_PATH, "data/web/renamed.parquet")
    entries = repo.read_index().entries
    assert TABLE_PATH not in entries and entries["data/web/renamed.parquet"].id == before.id
    assert not (repo.root / TABLE_PATH).exists() and (repo.root / "data/web/renamed.parquet").exists()
    (repo.root / "archive").mkdir()
    cli("mv", "README.md", "archive")
    assert "archive/README.md" in repo.read_index().entries
    assert cli.json("status")["unstaged"] == []
    cli("commit", "-m", "move")
    assert set(repo.store.iter_ids()) - objects_before == {repo.refs.head_commit(), repo.read_commit("HEAD").tree}
    changes = {(c["path"], c["change"]) for c in cli.json("show")["changes"]}
    assert changes == {(TABLE_PATH, "deleted"), ("data/web/renamed.parquet", "added"), ("README.md", "deleted"), ("archive/README.md", "added")}
    assert "destination exists" in cli.fails("mv", "data/web/renamed.parquet", "archive/README.md").stderr
    assert "not tracked" in cli.fails("mv", "nope.txt", "x.txt").stderr


def test_cgitignore_is_honoured_by_add_and_status(repo: Repo, cli: Cli, write_parquet: Callable[..., Path]) -> None:
    (repo.root / ".cgitignore").write_text("# scratch\n*.tmp\nscratch/\n!keep.tmp\n/rootonly.txt\n")
    (repo.root / "a.tmp").write_text("x")
    (repo.root / "keep.tmp").write_text("x")
    (repo.root / "rootonly.txt").write_text("x")
    (repo.root / "sub").mkdir()
    (repo.root / "sub/rootonly.txt").write_text("x")
    (repo.root / "sub/b.tmp").write_text("x")
    write_parquet("scratch/big.parquet", pa.table({"a": [1]}))
    write_parquet("data/t.parquet", pa.table({"a": [1]}))

    assert cli.json("status")["untracked"] == [".cgitignore", "data/", "keep.tmp", "sub/"]
    cli("add", ".")
    assert set(repo.read_index().entries) == {".cgitignore", "data/t.parquet", "keep.tmp", "sub/rootonly.txt"}
    st = cli.json("status")
    assert st["untracked"] == [] and st["unstaged"] == []
    before = (repo.cgit / "index").read_bytes()
    result = cli.fails("add", "a.tmp")
    assert ".cgitignore" in result.stderr and "--force" in result.stderr
    assert (repo.cgit / "index").read_bytes() == before
    cli("add", "--force", "a.tmp")
    assert "a.tmp" in repo.read_index().entries


def test_du_fsck_gc(repo: Repo, cli: Cli, first_commit: pa.Table, make_table: Callable[..., pa.Table], write_parquet: Callable[..., Path], same_table: SameTable) -> None:
    write_parquet(TABLE_PATH, make_table(rows=400, seed=9))
    cli("add", TABLE_PATH)  # staged, then replaced before committing: these objects become garbage
    abandoned = repo.read_index().entries[TABLE_PATH].id
    v3 = edit(first_commit, make_table(rows=200, seed=10))
    write_parquet(TABLE_PATH, v3)
    cli("add", TABLE_PATH)
    cli("commit", "-m", "edit")

    usage = cli.json("du")
    assert [u["commit"] for u in usage] == [e.id for e in repo.log()]
    assert usage[0]["rows"] == v3.num_rows and usage[1]["rows"] == first_commit.num_rows
    assert all(u["added_bytes"] > 0 for u in usage)
    assert usage[0]["added_bytes"] < usage[1]["added_bytes"]  # the edit reuses most stored rows
    tables = cli.json("du", "--tables", "HEAD~1")
    assert [(t["path"], t["rows"]) for t in tables] == [(TABLE_PATH, first_commit.num_rows)]

    report = cli.json("fsck")
    assert report["ok"] and report["problems"] == [] and report["dangling"] > 0
    assert report["checked"]["commit"] == 2
    assert "0 problem(s)" in cli("fsck").stdout

    kept = cli.json("gc")  # default grace period keeps young garbage (a concurrent add may own it)
    assert kept["removed"] == 0 and repo.store.has(abandoned)
    dry = cli.json("gc", "--now", "--dry-run")
    assert dry["removed"] > 0 and repo.store.has(abandoned)
    done = cli.json("gc", "--now")
    assert done["removed"] == dry["removed"] and not repo.store.has(abandoned)
    assert cli.json("fsck")["dangling"] == 0 and cli.json("fsck")["ok"]
    same_table(read_back(repo, "HEAD~1", TABLE_PATH), first_commit)
    same_table(read_back(repo, "HEAD", TABLE_PATH), v3)
    assert cli.json("gc", "--now")["removed"] == 0


def test_config_sets_author_for_commits(repo: Repo, cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CGIT_AUTHOR_NAME")
    monkeypatch.delenv("CGIT_AUTHOR_EMAIL")
    cli("config", "user.name", "Ada Lovelace")
    cli("config", "--global", "user.email", "ada@example.org")
    assert (tmp_path / "xdg/cgit/config.toml").exists()
    assert cli("config", "user.name").stdout == "Ada Lovelace\n"
    assert cli("config", "user.email").stdout == "ada@example.org\n"  # falls through to the user config
    assert cli.json("config", "user.name") == {"user.name": "Ada Lovelace"}
    assert cli("config", "user.nothing", code=1).stdout == ""
    cli.fails("config", "nosection", "x")

    (repo.root / "f.txt").write_text("x\n")
    cli("add", "f.txt")
    result = cli("commit", "-m", "configured")
    assert "warning" not in result.stderr
    author = repo.read_commit("HEAD").author
    assert (author.name, author.email) == ("Ada Lovelace", "ada@example.org")


def test_json_outputs_are_plain_json(repo: Repo, cli: Cli, first_commit: pa.Table) -> None:
    cli("tag", "v1")
    for args in (["status"], ["log"], ["show"], ["show", f"HEAD:{TABLE_PATH}"], ["show", "HEAD:README.md"],
                 ["branch"], ["tag"], ["du"], ["du", "--tables"], ["fsck"], ["gc", "--dry-run"]):
        result = cli(*args, "--json")
        doc = json.loads(result.stdout)
        assert isinstance(doc, (dict, list)) and doc, args
        assert result.stderr == "", args


def test_commit_messages_and_hooks_flag_are_recorded(repo: Repo, cli: Cli, first_commit: pa.Table) -> None:
    cli("commit", "--allow-empty", "--no-verify", "-m", "  checkpoint  ")
    c = repo.read_commit("HEAD")
    assert c.message == "checkpoint\n" and c.hooks == "skipped" and c.tree == repo.read_commit("HEAD~1").tree
    assert "[hooks skipped]" in cli("log", "--oneline", "-n", "1").stdout
    cli.error_report(cli("commit", "-m", "again", code=None).stderr)
