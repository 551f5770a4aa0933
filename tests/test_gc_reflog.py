"""Reflogs expire, so gc can free what deleted branches left: entries older than
``gc.reflogExpire`` (90 days) go at every gc, ``gc --prune=now`` expires all but the current
ref tips, and whatever a current branch or tag needs is never freed. Old dates are written
through the public reflog functions (``RefStore.write_reflog`` / ``append_reflog``)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pytest
from clirun import cgit, cgit_fails

from corpusgit import Repo
from corpusgit.errors import BadInput
from corpusgit.fsck import fsck
from corpusgit.gc import parse_expiry
from corpusgit.lock import LockFile
from corpusgit.objects import read_commit_tree
from corpusgit.refs import HEADS, RefStore, ReflogEntry
from corpusgit.store.atomic import is_temp_name
from corpusgit.table.model import TableObject

DAY = 86_400
MAIN_TABLE = "data/web/part-0.parquet"
SIDE_TABLE = "data/side/part-0.parquet"


def gc_json(*args: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(cgit("gc", *args, "--json").stdout)
    return doc


@dataclass(frozen=True)
class Scene:
    repo: Repo
    main_table: pa.Table
    side_commit: str
    side_chunks: frozenset[str]  # chunks only the deleted branch used


@pytest.fixture
def scene(repo: Repo, make_table: Callable[..., pa.Table], write_parquet: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> Scene:
    """main with one table; a branch 'side' that added its own table, committed, then deleted
    unmerged (``branch -D``): only HEAD's reflog still names its commit."""
    monkeypatch.chdir(repo.root)
    main_table = make_table(rows=2000, seed=0)
    write_parquet(MAIN_TABLE, main_table)
    cgit("add", ".")
    cgit("commit", "-m", "main v1")
    cgit("switch", "-c", "side")
    write_parquet(SIDE_TABLE, make_table(rows=2000, seed=5))
    cgit("add", ".")
    cgit("commit", "-m", "side work")
    side_commit = repo.refs.head_commit()
    assert side_commit is not None
    cgit("switch", "main")
    cgit("branch", "-D", "side")
    assert repo.refs.read(HEADS + "side") is None and not (repo.cgit / "logs/refs/heads/side").exists()
    assert side_commit in {e.new for e in repo.refs.reflog("HEAD")}
    return Scene(repo, main_table, side_commit, frozenset(chunks_of(repo, side_commit)) - chunks_of(repo, "main"))


def chunks_of(repo: Repo, rev: str) -> set[str]:
    tree = read_commit_tree(repo.store, repo.refs.read(HEADS + rev) or rev)
    return {ref.id for e in tree.entries.values() if e.kind == "table"
            for ref in TableObject.from_json(repo.store.get_meta(e.id)).chunk_refs()}


def age_reflogs(repo: Repo, days: int) -> None:
    """Backdate every entry of every reflog by ``days``, through the public rewrite."""
    for name in repo.refs.reflog_names():
        age_reflogs_of(repo.refs, name, days)


def age_reflogs_of(refs: RefStore, name: str, days: int) -> None:
    refs.write_reflog(name, [replace(e, time=e.time - days * DAY) for e in refs.reflog(name)])


def assert_freed(scene: Scene, freed: bool) -> None:
    store = scene.repo.store
    for oid in (scene.side_commit, *scene.side_chunks):
        assert store.has(oid) is not freed, oid


def same_rows(a: pa.Table, b: pa.Table) -> bool:
    """Equal tables, where NaN equals NaN (the fixture tables hold NaN scores)."""
    scores = [t.column("score") for t in (a, b)]
    return (a.drop_columns(["score"]).equals(b.drop_columns(["score"])) and scores[0].null_count == scores[1].null_count
            and np.array_equal(scores[0].to_numpy(), scores[1].to_numpy(), equal_nan=True))


def assert_current_data_intact(repo: Repo, main_table: pa.Table) -> None:
    assert same_rows(repo.read_table("main", MAIN_TABLE).read_all(), main_table)
    report = fsck(repo)
    assert report.ok and report.problems == [], report.problems


def test_deleted_branch_is_kept_by_default_gc_and_freed_by_prune_now(scene: Scene) -> None:
    assert scene.side_chunks
    assert gc_json("--now")["reflog_expired"] == 0  # young entries; objects have no grace, still kept
    assert_freed(scene, False)
    cgit("show", scene.side_commit)  # still recoverable, as the reflog promises

    done = gc_json("--prune=now")
    assert done["reflog_expired"] > 0 and done["removed"] > 0
    assert_freed(scene, True)
    assert_current_data_intact(scene.repo, scene.main_table)
    main = scene.repo.refs.read(HEADS + "main")
    assert [e.new for e in scene.repo.refs.reflog("HEAD")] == [main]  # only the tip's entry stays
    assert [e.new for e in scene.repo.refs.reflog(HEADS + "main")] == [main]
    assert gc_json("--prune=now")["removed"] == 0


def test_entries_older_than_the_default_expiry_go_at_a_plain_gc(scene: Scene) -> None:
    age_reflogs(scene.repo, 89)
    gc_json("--now")
    assert_freed(scene, False)  # 89 days: younger than the default 90
    age_reflogs(scene.repo, 2)
    assert gc_json("--now")["reflog_expired"] > 0
    assert_freed(scene, True)
    assert_current_data_intact(scene.repo, scene.main_table)


@pytest.mark.parametrize(("setting", "freed"), [("never", False), ("200.days", False), ("30.days", True), ("4.weeks.ago", True), ("45", True)])
def test_gc_reflogExpire_setting(scene: Scene, setting: str, freed: bool) -> None:
    age_reflogs(scene.repo, 60)
    cgit("config", "gc.reflogExpire", setting)
    gc_json("--now")
    assert_freed(scene, freed)
    assert_current_data_intact(scene.repo, scene.main_table)


def test_user_config_sets_the_default_for_every_repository(scene: Scene) -> None:
    age_reflogs(scene.repo, 10)
    cgit("config", "--global", "gc.reflogExpire", "1.week")
    gc_json("--now")
    assert_freed(scene, True)


def test_a_deleted_refs_own_reflog_is_dropped_once_expired(scene: Scene) -> None:
    """A log whose ref is gone (kept by an older cgit, or a tool) expires like any other, and
    the file goes with its last entry."""
    refs = scene.repo.refs
    now = int(time.time())
    refs.append_reflog(HEADS + "gone", ReflogEntry(None, scene.side_commit, now - 100 * DAY, "branch: created"))
    refs.append_reflog(HEADS + "recent", ReflogEntry(None, scene.side_commit, now - DAY, "branch: created"))
    age_reflogs_of(refs, "HEAD", 100)
    gc_json("--now")
    assert not (scene.repo.cgit / "logs" / HEADS / "gone").exists()
    assert_freed(scene, False)  # 'recent' still names it
    gc_json("--prune", "now")
    assert not (scene.repo.cgit / "logs" / HEADS / "recent").exists()
    assert_freed(scene, True)


def test_current_branches_tags_and_detached_head_are_never_freed(scene: Scene, make_table: Callable[..., pa.Table], write_parquet: Callable[..., Path]) -> None:
    repo = scene.repo
    cgit("switch", "-c", "keep")
    keep_table = make_table(rows=800, seed=7)
    write_parquet("data/keep/part-0.parquet", keep_table)
    cgit("add", ".")
    cgit("commit", "-m", "keep work")
    cgit("switch", "-c", "tagged")
    tagged_table = make_table(rows=600, seed=8)
    write_parquet("data/tagged/part-0.parquet", tagged_table)
    cgit("add", ".")
    cgit("commit", "-m", "tagged work")
    cgit("tag", "v1")
    cgit("switch", "main")
    cgit("branch", "-D", "tagged")  # only the tag keeps it now
    cgit("checkout", "--detach", "keep")
    age_reflogs(repo, 1000)

    result = gc_json("--prune=now")
    assert result["removed"] > 0
    assert_freed(scene, True)
    assert same_rows(repo.read_table("keep", "data/keep/part-0.parquet").read_all(), keep_table)
    assert same_rows(repo.read_table("v1", "data/tagged/part-0.parquet").read_all(), tagged_table)
    assert same_rows(repo.read_table("HEAD", "data/keep/part-0.parquet").read_all(), keep_table)
    assert_current_data_intact(repo, scene.main_table)
    for branch in ("main", "keep"):
        assert cgit("show", f"{branch}@{{0}}").exit_code == 0  # the tip's entry survives
    assert repo.status().clean


def test_dry_run_changes_nothing(scene: Scene) -> None:
    logs = {p: p.read_bytes() for p in (scene.repo.cgit / "logs").rglob("*") if p.is_file()}
    objects = sorted(scene.repo.store.iter_ids())
    dry = gc_json("--prune=now", "--dry-run")
    assert dry["reflog_expired"] > 0 and dry["removed"] > 0
    assert {p: p.read_bytes() for p in (scene.repo.cgit / "logs").rglob("*") if p.is_file()} == logs
    assert sorted(scene.repo.store.iter_ids()) == objects
    done = gc_json("--prune=now")
    assert (done["reflog_expired"], done["removed"]) == (dry["reflog_expired"], dry["removed"])


def test_rewritten_reflogs_are_whole_chains_with_no_leftovers(scene: Scene) -> None:
    repo = scene.repo
    head_before = repo.refs.reflog("HEAD")
    repo.refs.write_reflog("HEAD", [replace(e, time=e.time - 10 * DAY) if i < 3 else e for i, e in enumerate(head_before)])
    cgit("gc", "--prune", "5.days")
    kept = repo.refs.reflog("HEAD")
    assert [(e.new, e.message) for e in kept] == [(e.new, e.message) for e in head_before[3:]]
    assert kept[0].old is None and all(b.old == a.new for a, b in zip(kept, kept[1:]))
    leftovers = [p.name for p in (repo.cgit / "logs").rglob("*") if p.name.endswith(".lock") or is_temp_name(p.name)]
    assert leftovers == []
    lines = (repo.cgit / "logs/HEAD").read_text().splitlines()
    assert len(lines) == len(kept) and all(json.loads(line) for line in lines)


def test_a_torn_last_line_stays_alone_and_is_dropped_by_the_next_rewrite(scene: Scene) -> None:
    repo = scene.repo
    log = repo.cgit / "logs/HEAD"
    with open(log, "a") as handle:
        handle.write('{"old": null, "new": "abc')  # a crash mid-append
    entries = repo.refs.reflog("HEAD")
    cgit("commit", "--allow-empty", "-m", "after the crash")
    assert len(repo.refs.reflog("HEAD")) == len(entries) + 1  # the new entry is not glued to the torn one
    gc_json("--prune", "never")  # expires nothing, keeps every object
    assert_freed(scene, False)
    age_reflogs_of(repo.refs, "HEAD", 0)  # a rewrite: the torn line is gone
    assert all(json.loads(line) for line in log.read_text().splitlines())


def test_an_append_waits_for_a_rewrite_instead_of_failing(scene: Scene) -> None:
    """gc holds a log's lock while rewriting it; a commit at that moment waits for it."""
    repo = scene.repo
    lock = LockFile(repo.cgit / "logs" / HEADS / "main").acquire()
    timer = threading.Timer(0.3, lock.release)
    timer.start()
    try:
        start = time.monotonic()
        cgit("commit", "--allow-empty", "-m", "during gc")
        assert time.monotonic() - start >= 0.25
    finally:
        timer.join()
    assert repo.refs.reflog(HEADS + "main")[-1].message.endswith("during gc")


@pytest.mark.parametrize(("text", "seconds"), [
    ("now", 0), ("never", None), ("90.days", 90 * DAY), ("2.weeks.ago", 14 * DAY), ("12 hours", 12 * 3600),
    ("1.day", DAY), ("3600.seconds.ago", 3600), ("90", 90 * DAY), ("6.months", 180 * DAY), (" Never ", None),
])
def test_parse_expiry(text: str, seconds: int | None) -> None:
    assert parse_expiry(text) == seconds


@pytest.mark.parametrize("text", ["soon", "-1.days", "2.fortnights", "1.5.days", ""])
def test_parse_expiry_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(BadInput):
        parse_expiry(text)


def test_cli_refuses_bad_or_conflicting_options(scene: Scene) -> None:
    for args in (["--prune", "soon"], ["--prune", "now", "--now"], ["--prune", "now", "--grace", "10"]):
        cgit_fails("gc", *args, code=2)
    assert_freed(scene, False)
