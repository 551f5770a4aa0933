"""Every remote command through the real CLI, against a directory and an S3 endpoint."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa

from clirun import cgit, cgit_fails
from remote_helpers import RemoteSpec, attach, write_table
from corpusgit import Repo
from corpusgit.history import commit
from corpusgit.remote.fetch import clone, fetch
from corpusgit.remote.push import push


def rows(repo: Repo, rev: str, path: str) -> list[Any]:
    """Rows as Python values, NaN made comparable (Arrow's equality says NaN != NaN)."""
    table = repo.read_table(rev, path).read_all()
    return [{k: "NaN" if isinstance(v, float) and math.isnan(v) else v for k, v in r.items()} for r in table.to_pylist()]


def assert_same_history(a: Repo, b: Repo, rev: str = "HEAD") -> None:
    assert a.refs.head_commit() is not None
    for path in ("data/part-0.parquet", "data/part-1.parquet", "data/part-2.parquet"):
        assert rows(a, rev, path) == rows(b, rev, path)


def test_remote_add_list_remove(origin: Repo, spec: RemoteSpec) -> None:
    cgit("remote", "add", "backup", *spec.cli_args(), cwd=origin.root)
    listed = json.loads(cgit("remote", "list", "--json", cwd=origin.root).stdout)
    assert listed == [{"name": "backup", "url": spec.url, "endpoint": spec.endpoint, "cas": None}]
    line, _ = cgit_fails("remote", "add", "backup", *spec.cli_args(), code=2, cwd=origin.root)
    assert "already exists" in line
    cgit("push", "backup", "main", "-q", cwd=origin.root)
    assert origin.refs.read("refs/remotes/backup/main") == origin.refs.head_commit()
    cgit("remote", "remove", "backup", cwd=origin.root)
    assert cgit("remote", "list", cwd=origin.root).stdout == ""
    assert origin.refs.read("refs/remotes/backup/main") is None


def test_push_clone_fetch_pull_round_trip(origin: Repo, spec: RemoteSpec, tmp_path: Path, make_table: Callable[..., pa.Table]) -> None:
    attach(origin, spec)
    pushed = cgit("push", "--json", cwd=origin.root)
    report = json.loads(pushed.stdout)
    assert report["created"] and report["updates"][0]["note"] == "new branch"
    sent = report["objects"]
    assert sent == len(spec.object_keys())
    cgit("push", "--tags", "-q", cwd=origin.root)

    cgit("clone", *spec.cli_args(), "copy", "-q", cwd=tmp_path)
    copy = Repo(tmp_path / "copy")
    assert copy.refs.head_commit() == origin.refs.head_commit()
    assert copy.refs.read("refs/tags/v1") == origin.refs.read("refs/tags/v1")
    assert (copy.root / "README.md").read_text() == "web corpus\n"
    assert_same_history(origin, copy)
    assert_same_history(origin, copy, "v1")
    assert cgit("fsck", cwd=copy.root).exit_code == 0
    assert cgit("status", cwd=copy.root).exit_code == 0

    # a new commit moves only what changed: one table, its chunk, a tree and a commit
    write_table(origin.root, "data/part-3.parquet", make_table(rows=50, seed=7))
    origin.add([origin.root / "data"])
    commit(origin, "more data")
    second = json.loads(cgit("push", "--json", cwd=origin.root).stdout)
    assert second["objects"] == 4 and second["updates"][0]["note"] == "fast-forward"

    fetched = json.loads(cgit("fetch", "--json", cwd=copy.root).stdout)
    assert fetched["objects"] == 4
    assert copy.refs.read("refs/remotes/origin/main") == origin.refs.head_commit()
    assert copy.refs.head_commit() != origin.refs.head_commit()  # fetch does not touch the branch
    assert "fast-forward" in cgit("pull", cwd=copy.root).stdout
    assert copy.refs.head_commit() == origin.refs.head_commit()
    assert (copy.root / "data/part-3.parquet").exists()
    assert "up to date" in cgit("pull", cwd=copy.root).stdout
    assert json.loads(cgit("fetch", "--json", cwd=copy.root).stdout)["objects"] == 0


def test_non_fast_forward_push_is_refused_until_merged_or_forced(origin: Repo, spec: RemoteSpec, tmp_path: Path) -> None:
    attach(origin, spec)
    push(origin)
    other, _ = clone(spec.url, tmp_path / "other", spec.endpoint)
    (other.root / "NOTES.md").write_text("theirs\n")
    other.add([other.root / "NOTES.md"])
    commit(other, "their note")
    push(other)

    (origin.root / "LICENSE").write_text("ours\n")
    origin.add([origin.root / "LICENSE"])
    ours = commit(origin, "our licence").id
    before = spec.object_keys()
    line, hint = cgit_fails("push", code=1, cwd=origin.root)
    assert "non-fast-forward" in line and "fetch and merge first" in hint and "--force" in hint
    assert spec.object_keys() == before  # refused before anything was sent

    result = cgit("pull", "-q", cwd=origin.root)  # diverged: three-way merge
    assert "Committed" in result.stdout
    merged = origin.read_commit("HEAD")
    assert set(merged.parents) == {ours, other.refs.head_commit()}
    assert (origin.root / "NOTES.md").read_text() == "theirs\n" and (origin.root / "LICENSE").exists()
    cgit("push", "-q", cwd=origin.root)
    assert fetch(other).updates[0].note == "fast-forward"


def test_force_push_overwrites(origin: Repo, new_spec: Callable[[str], RemoteSpec], tmp_path: Path) -> None:
    """Directory only: on S3 the swap is the same If-Match write the other push tests cover."""
    spec = new_spec("dir")
    attach(origin, spec)
    push(origin)
    other, _ = clone(spec.url, tmp_path / "other", spec.endpoint)
    commit(other, "their empty commit", allow_empty=True)
    push(other)
    commit(origin, "our empty commit", allow_empty=True)
    cgit("push", code=1, cwd=origin.root)
    out = cgit("push", "--force", cwd=origin.root).stdout
    assert "forced update" in out
    assert fetch(other).updates[0].note == "forced update"
    assert other.refs.read("refs/remotes/origin/main") == origin.refs.head_commit()


def test_tags_are_not_moved_without_force(origin: Repo, spec: RemoteSpec) -> None:
    attach(origin, spec)
    cgit("push", "origin", "main", "--tags", "-q", cwd=origin.root)
    origin.refs.update("refs/tags/v1", origin.refs.head_commit(), origin.refs.read("refs/tags/v1"), "move v1")
    line, hint = cgit_fails("push", "--tags", code=1, cwd=origin.root)
    assert "tag 'v1' already exists" in line and "--force" in hint
    cgit("push", "--tags", "--force", "-q", cwd=origin.root)


def test_clone_of_a_non_bare_repository_and_push_to_its_checked_out_branch(origin: Repo, tmp_path: Path) -> None:
    copy, _ = clone(str(origin.root), tmp_path / "copy")
    assert_same_history(origin, copy)
    commit(copy, "local change", allow_empty=True)
    line, hint = cgit_fails("push", code=2, cwd=copy.root)
    assert "checked out" in line and "bare" in hint
    cgit("push", "origin", "main:other", code=2, cwd=copy.root)  # not a valid branch name


def test_transfer_progress_bar_drives_a_push(origin: Repo, new_spec: Callable[[str], RemoteSpec]) -> None:
    """The CLI's bar (bytes, speed, object count) takes the library's per-object advances."""
    from corpusgit.cli.remote_cmds import _TransferBar

    attach(origin, new_spec("dir"))
    assert push(origin, progress=_TransferBar(), jobs=4).objects > 0
