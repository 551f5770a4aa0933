"""Bad input is refused with one ``error:`` line and one ``hint:`` line, a non-zero exit code,
and no change to the index, the object store, refs or HEAD."""

from __future__ import annotations

import getpass
import io
import os
import resource
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from corpusgit import Repo
from corpusgit.objects import BLOB, MODE_FILE, Commit, Tree, TreeEntry, read_commit
from corpusgit.refs import HEADS

if TYPE_CHECKING:
    from clirun import Cli, RepoSnapshot

Snapshot = Callable[[], "RepoSnapshot"]
TABLE_PATH = "data/web/part-0.parquet"


@pytest.fixture
def committed(repo: Repo, cli: Cli, make_table: Callable[..., pa.Table], write_parquet: Callable[..., Path]) -> pa.Table:
    table = make_table(rows=500, seed=0)
    write_parquet(TABLE_PATH, table)
    (repo.root / "README.md").write_text("readme\n")
    cli("add", ".")
    cli("commit", "-m", "base")
    return table


def assert_no_leftovers(repo: Repo) -> None:
    """A refused ``add`` discards its staging directory and takes no lock with it."""
    tmp = repo.cgit / "tmp"
    assert not tmp.exists() or list(tmp.iterdir()) == []
    assert list(repo.cgit.rglob("*.lock")) == []


def refused(cli: Cli, snapshot: Snapshot, repo: Repo, *args: str) -> tuple[str, str]:
    """Run a verb that must be refused and must leave the repository exactly as it was."""
    before = snapshot()
    result = cli.fails(*args)
    assert snapshot() == before, f"cgit {' '.join(args)} changed the repository"
    assert_no_leftovers(repo)
    return cli.error_report(result.stderr)


# -- malformed Parquet ----------------------------------------------------------------------------

def parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def damaged_pages(table: pa.Table) -> bytes:
    """Footer intact, so the file opens; the text column's pages are zeroed, so reading fails."""
    data = bytearray(parquet_bytes(table))
    col = pq.ParquetFile(io.BytesIO(bytes(data))).metadata.row_group(0).column(table.schema.get_field_index("text"))
    start = col.dictionary_page_offset or col.data_page_offset
    data[start + 20 : start + col.total_compressed_size - 20] = bytes(col.total_compressed_size - 40)
    return bytes(data)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda t: b"PAR1 this is not parquet at all", id="junk"),
        pytest.param(lambda t: parquet_bytes(t)[: len(parquet_bytes(t)) // 2], id="truncated"),
        pytest.param(lambda t: parquet_bytes(t)[:-3], id="truncated-footer"),
        pytest.param(lambda t: b"", id="empty-file"),
        pytest.param(damaged_pages, id="damaged-pages"),
    ],
)
def test_malformed_parquet_is_refused_and_nothing_is_staged(
    repo: Repo, cli: Cli, snapshot: Snapshot, committed: pa.Table, make_table: Callable[..., pa.Table],
    write_parquet: Callable[..., Path], damage: Callable[[pa.Table], bytes],
) -> None:
    (repo.root / "data/web/bad.parquet").write_bytes(damage(make_table(rows=3000, seed=5)))
    write_parquet("data/web/good.parquet", make_table(rows=200, seed=6))  # valid, but in the same add
    error, hint = refused(cli, snapshot, repo, "add", "data")
    assert "data/web/bad.parquet" in error
    error, _ = refused(cli, snapshot, repo, "add", "data/web/good.parquet", "data/web/bad.parquet")
    assert "data/web/bad.parquet" in error
    assert "data/web/bad.parquet" not in repo.read_index().entries
    os.remove(repo.root / "data/web/bad.parquet")
    cli("add", "data")  # the good file alone is fine
    assert "data/web/good.parquet" in repo.read_index().entries


# -- paths outside the work tree ------------------------------------------------------------------

def test_paths_outside_the_repository_are_refused(repo: Repo, cli: Cli, snapshot: Snapshot, committed: pa.Table, tmp_path: Path) -> None:
    outside = tmp_path / "outside.parquet"
    pq.write_table(pa.table({"a": [1]}), outside)
    for args in (
        ["add", "../outside.parquet"],
        ["add", str(outside)],
        ["add", "data/../../outside.parquet"],
        ["add", ".cgit/config.toml"],
        ["rm", "../outside.parquet"],
        ["mv", "README.md", "../moved.md"],
        ["checkout", "HEAD", "--", "../outside.parquet"],
        ["restore", str(outside)],
    ):
        error, hint = refused(cli, snapshot, repo, *args)
        assert "outside the repository" in error or ".cgit/" in error, (args, error)
    assert outside.exists() and not (tmp_path / "moved.md").exists()
    assert (repo.root / "README.md").read_text() == "readme\n"


def test_symlinks_are_not_followed_out_of_the_work_tree(repo: Repo, cli: Cli, snapshot: Snapshot, committed: pa.Table, tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.mkdir()
    (target / "secret.parquet").write_bytes(parquet_bytes(pa.table({"a": [1]})))
    (repo.root / "link").symlink_to(target)
    for args in (["add", "link"], ["add", "link/secret.parquet"], ["add", "."]):
        if args == ["add", "."]:
            cli("add", ".")  # a directory scan skips the link instead of following it
            assert not any(p.startswith("link") for p in repo.read_index().entries)
            continue
        error, _ = refused(cli, snapshot, repo, *args)
        assert "symbolic link" in error or "outside the repository" in error


# -- hostile trees --------------------------------------------------------------------------------

def hostile_branch(repo: Repo, bad_path: str, name: str = "hostile") -> str:
    """A commit whose tree holds a normal file and ``bad_path``, written straight to the store."""
    src = repo.root.parent / "payload.txt"
    src.write_text("pwned\n")
    blob = repo.store.put_blob_file(src)
    src.unlink()
    head = repo.refs.head_commit()
    assert head is not None
    base = read_commit(repo.store, head)
    tree = Tree({"ok.txt": TreeEntry(BLOB, blob, MODE_FILE), bad_path: TreeEntry(BLOB, blob, MODE_FILE)})
    tree_id = repo.store.put_meta(tree.to_json())
    commit = Commit(tree_id, (head,), base.author, base.time + 1, 0, "innocent looking\n")
    oid = repo.store.put_meta(commit.to_json())
    repo.refs.update(HEADS + name, oid, None, "test: hostile branch")
    return oid


def work_tree_files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and ".cgit" not in p.relative_to(root).parts
    }


@pytest.mark.parametrize(
    "bad_path",
    ["../evil.txt", "data/../../evil.txt", "/ABSOLUTE/evil.txt", "./evil.txt", "data//evil.txt",
     ".cgit/HEAD", "..\\evil.txt", "C:/evil.txt", "a/b/../../../evil.txt"],
)
def test_checkout_refuses_tree_entries_that_escape_the_work_tree(
    repo: Repo, cli: Cli, snapshot: Snapshot, committed: pa.Table, tmp_path: Path, bad_path: str
) -> None:
    absolute = tmp_path / "abs-evil.txt"
    bad_path = bad_path.replace("/ABSOLUTE", str(tmp_path / "abs-evil-dir"))
    hostile_branch(repo, bad_path)
    files = work_tree_files(repo.root)
    for args in (["checkout", "hostile"], ["checkout", "-f", "hostile"], ["switch", "hostile"],
                 ["checkout", "hostile", "--", "ok.txt"], ["restore", "--source", "hostile", "."]):
        error, hint = refused(cli, snapshot, repo, *args)
        assert "unsafe path" in error and repr(bad_path) in error, (args, error)
        assert "nothing was written" in hint
        assert work_tree_files(repo.root) == files
    escaped = [p for p in tmp_path.rglob("*evil*")] + [absolute]
    assert not any(p.exists() for p in escaped), escaped
    assert not (repo.root / "ok.txt").exists()
    assert repo.refs.head_target() == HEADS + "main"


def test_checkout_does_not_write_through_a_symlinked_directory(repo: Repo, cli: Cli, snapshot: Snapshot, committed: pa.Table, tmp_path: Path) -> None:
    hostile_branch(repo, "sub/evil.txt")  # a safe-looking path ...
    outside = tmp_path / "outside-dir"
    outside.mkdir()
    (repo.root / "sub").symlink_to(outside)  # ... whose directory leads elsewhere
    error, _ = refused(cli, snapshot, repo, "checkout", "-f", "hostile")
    assert "sub/evil.txt" in error and "outside the work tree" in error
    assert list(outside.iterdir()) == []


# -- commits without content or author ------------------------------------------------------------

def test_empty_commits_are_refused(repo: Repo, cli: Cli, snapshot: Snapshot, make_table: Callable[..., pa.Table], write_parquet: Callable[..., Path]) -> None:
    error, hint = refused(cli, snapshot, repo, "commit", "-m", "nothing yet")
    assert "nothing to commit" in error and "cgit add" in hint
    write_parquet(TABLE_PATH, make_table(rows=50))
    cli("add", ".")
    refused(cli, snapshot, repo, "commit", "-m", "   ")
    refused(cli, snapshot, repo, "commit", "-m", "")
    cli("commit", "-m", "first")
    error, hint = refused(cli, snapshot, repo, "commit", "-m", "again")
    assert "nothing to commit" in error and "--allow-empty" in hint
    write_parquet(TABLE_PATH, make_table(rows=50))  # rewritten with the same rows: a new file, same content
    cli("add", ".")
    error, _ = refused(cli, snapshot, repo, "commit", "-m", "same rows")
    assert "nothing to commit" in error


def test_commit_without_author_falls_back_and_says_so(repo: Repo, cli: Cli, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CGIT_AUTHOR_NAME", raising=False)
    monkeypatch.delenv("CGIT_AUTHOR_EMAIL", raising=False)
    empty = tmp_path / "empty-xdg"
    empty.mkdir()
    monkeypatch.setenv("XDG_CONFIG_HOME", str(empty))
    (repo.root / "f.txt").write_text("x\n")
    cli("add", "f.txt")
    result = cli("commit", "-m", "anonymous")
    lines = result.stderr.rstrip("\n").split("\n")
    assert len(lines) == 1 and lines[0].startswith("warning: no author configured; committing as "), result.stderr
    assert "cgit config --global user.name" in lines[0]
    author = repo.read_commit("HEAD").author
    assert author.name == getpass.getuser() and author.email == f"{getpass.getuser()}@{socket.gethostname()}"
    assert f"{author.name} <{author.email}>" in lines[0]
    assert list(empty.iterdir()) == []  # guessing an author never writes config


# -- one dataset, one schema ----------------------------------------------------------------------

@pytest.mark.parametrize(
    ("change", "detail"),
    [
        pytest.param(lambda t: t.set_column(0, "id", t.column("id").cast(pa.float64())), "column 'id' is double, expected int64", id="type"),
        pytest.param(lambda t: t.drop_columns(["lang"]), "column 'lang' missing", id="missing-column"),
        pytest.param(lambda t: t.append_column("extra", pa.array([1] * t.num_rows)), "extra column 'extra'", id="extra-column"),
        pytest.param(lambda t: t.select(["text", "id", "lang", "score"]), "column order differs", id="order"),
    ],
)
def test_schema_change_inside_one_tables_shards_is_refused(
    repo: Repo, cli: Cli, snapshot: Snapshot, committed: pa.Table, make_table: Callable[..., pa.Table],
    write_parquet: Callable[..., Path], change: Callable[[pa.Table], pa.Table], detail: str,
) -> None:
    other = change(make_table(rows=100, seed=7))
    write_parquet("data/web/part-1.parquet", other)  # a new shard next to a committed one
    error, hint = refused(cli, snapshot, repo, "add", "data/web/part-1.parquet")
    assert "data/web/part-1.parquet" in error and "same dataset" in error and detail in error
    assert "data/web" in hint
    write_parquet(TABLE_PATH, change(committed))  # ... and changing one of two shards
    write_parquet("data/web/part-1.parquet", make_table(rows=100, seed=7))
    error, _ = refused(cli, snapshot, repo, "add", "data/web")
    assert "same dataset" in error

    fresh = change(make_table(rows=10, seed=8))
    write_parquet("data/new/a.parquet", make_table(rows=10, seed=9))  # two new shards added together
    write_parquet("data/new/b.parquet", fresh)
    os.remove(repo.root / "data/web/part-1.parquet")
    write_parquet(TABLE_PATH, committed)
    error, _ = refused(cli, snapshot, repo, "add", "data/new")
    assert "same dataset" in error


def test_a_table_may_change_schema_when_all_its_shards_do(repo: Repo, cli: Cli, committed: pa.Table, same_table: Callable[[pa.Table, pa.Table], None], write_parquet: Callable[..., Path]) -> None:
    widened = committed.append_column("quality", pa.array([0.5] * committed.num_rows))
    write_parquet(TABLE_PATH, widened)
    cli("add", "data")
    cli("commit", "-m", "add a column")
    same_table(repo.read_table("HEAD", TABLE_PATH).read_all(), widened)


# -- invalid UTF-8 in string columns --------------------------------------------------------------

def invalid_strings(kind: str) -> pa.Array:
    """A string array whose second value is not UTF-8, built from raw buffers (no validation)."""
    data = pa.py_buffer(b"ok\xff\xfe\xc3(fine")
    if kind == "large_string":
        offsets = pa.array([0, 2, 6, 10], pa.int64()).buffers()[1]
        return pa.Array.from_buffers(pa.large_string(), 3, [None, offsets, data])
    offsets = pa.array([0, 2, 6, 10], pa.int32()).buffers()[1]
    strings = pa.Array.from_buffers(pa.string(), 3, [None, offsets, data])
    if kind == "list":
        return pa.ListArray.from_arrays(pa.array([0, 1, 3], pa.int32()), strings)
    return strings


@pytest.mark.parametrize("kind", ["string", "large_string", "list"])
def test_non_utf8_bytes_in_a_string_column_are_refused(repo: Repo, cli: Cli, snapshot: Snapshot, committed: pa.Table, kind: str) -> None:
    column = invalid_strings(kind)
    table = pa.table({"id": pa.array(range(len(column)), pa.int64()), "text": column})
    with pytest.raises(pa.ArrowInvalid):
        column.validate(full=True)  # the file really holds invalid UTF-8 ...
    pq.write_table(table, repo.root / "bad.parquet")
    assert pq.read_table(repo.root / "bad.parquet").num_rows == len(column)  # ... and pyarrow reads it back
    error, hint = refused(cli, snapshot, repo, "add", "bad.parquet")
    assert "bad.parquet" in error and "'text'" in error and "UTF-8" in error
    assert "binary" in hint


# -- full disk ------------------------------------------------------------------------------------

def run_with_file_size_limit(repo: Repo, limit: int, *args: str) -> subprocess.CompletedProcess[str]:
    """Run real ``cgit`` with RLIMIT_FSIZE, so writes past ``limit`` bytes fail with EFBIG
    (SIGXFSZ ignored), the way a full disk fails a write half-way."""

    def limit_writes() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([sys.executable, "-m", "corpusgit", *args], cwd=repo.root, env=env, preexec_fn=limit_writes,
                          capture_output=True, text=True, timeout=120)


def assert_one_line_failure(proc: subprocess.CompletedProcess[str], cli: Cli) -> str:
    assert proc.returncode != 0, proc.stdout
    error, hint = cli.error_report(proc.stderr)
    return error + "\n" + hint


def test_full_disk_during_add_leaves_the_repository_unchanged(repo: Repo, cli: Cli, snapshot: Snapshot, committed: pa.Table, make_table: Callable[..., pa.Table], write_parquet: Callable[..., Path]) -> None:
    write_parquet(TABLE_PATH, make_table(rows=4000, seed=11))
    (repo.root / "notes.txt").write_bytes(os.urandom(200_000))
    before = snapshot()
    report = assert_one_line_failure(run_with_file_size_limit(repo, 64 * 1024, "add", "."), cli)
    assert "File too large" in report or "no space" in report
    assert snapshot() == before
    assert_no_leftovers(repo)
    cli("add", ".")  # with room again, the same add succeeds
    cli("commit", "-m", "after the disk was freed")
    assert cli.json("fsck")["ok"]


def test_full_disk_during_commit_leaves_the_repository_unchanged(repo: Repo, cli: Cli, snapshot: Snapshot) -> None:
    for i in range(40):
        (repo.root / f"f{i:02}.txt").write_text(f"file {i}\n")
    cli("add", ".")
    before = snapshot()
    assert_one_line_failure(run_with_file_size_limit(repo, 512, "commit", "-m", "big tree"), cli)
    assert snapshot() == before
    assert list(repo.cgit.rglob("*.tmp")) == [] and list(repo.cgit.rglob(".*")) == []
    cli("commit", "-m", "big tree")
    assert repo.refs.head_commit() is not None


def test_full_disk_during_checkout_keeps_head_index_and_files(repo: Repo, cli: Cli, snapshot: Snapshot, committed: pa.Table, make_table: Callable[..., pa.Table], write_parquet: Callable[..., Path], same_table: Callable[[pa.Table, pa.Table], None]) -> None:
    big = make_table(rows=4000, seed=12)
    write_parquet(TABLE_PATH, big)
    cli("add", ".")
    cli("commit", "-m", "big")
    small = make_table(rows=20, seed=13)
    write_parquet(TABLE_PATH, small)
    cli("add", ".")
    cli("commit", "-m", "small")
    before = snapshot()
    files = work_tree_files(repo.root)
    assert_one_line_failure(run_with_file_size_limit(repo, 64 * 1024, "checkout", "HEAD~1"), cli)
    assert snapshot() == before
    assert work_tree_files(repo.root) == files  # no half-written table, no temp file left behind
    cli("checkout", "HEAD~1")
    same_table(pq.read_table(repo.root / TABLE_PATH), big)
