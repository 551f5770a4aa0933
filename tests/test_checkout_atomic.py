"""A checkout or switch that fails part-way changes nothing: every work-tree file, the index and
HEAD stay byte for byte as they were, no temp file is left, and the error is one line naming the
file, plus a hint. A killed checkout's temp files are never listed by status, and the next
checkout removes them."""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import textwrap
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from clirun import RepoSnapshot, assert_error_report, cgit, cgit_fails, snapshot
from smallcorpus import corpus_table

from corpusgit import Repo
from corpusgit.checkout import JOURNAL, checkout
from corpusgit.objects import read_commit_tree
from corpusgit.refs import HEADS
from corpusgit.store.atomic import is_temp_name
from corpusgit.table.model import TableObject

CGIT = [sys.executable, "-m", "corpusgit"]
AUTHOR_ENV = {"CGIT_AUTHOR_NAME": "Test Author", "CGIT_AUTHOR_EMAIL": "test@example.com"}
# The target branch's tables, in the order checkout writes them (sorted paths); the second is damaged.
OTHER_TABLES = ["data/code/part-0.parquet", "data/web/part-0.parquet", "data/web/part-1.parquet", "data/web/part-2.parquet"]
DAMAGED = OTHER_TABLES[1]


def write_table(root: Path, rel: str, table: pa.Table) -> None:
    """Written aside and renamed in, so every version is a new inode (as real tools do)."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path.with_name("incoming.parquet.part"))
    os.replace(path.with_name("incoming.parquet.part"), path)


def copy_repo(src: Path, dst: Path) -> Path:
    """A copy whose stat cache is refreshed (copies get new inodes, which would look modified)."""
    shutil.copytree(src, dst, symlinks=True)
    Repo(dst).add([str(dst)])
    return dst


def index_tree(index: bytes) -> dict[str, list[object]]:
    """The index's tree part (kind, id, mode), without the stat cache, which differs per copy."""
    return {p: e[:3] for p, e in json.loads(index)["entries"].items()}


def temp_files(root: Path) -> list[str]:
    """cgit's temp files anywhere in the work tree (not in .cgit)."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*")
                  if is_temp_name(p.name) and p.relative_to(root).parts[0] != ".cgit")


@dataclass(frozen=True)
class Template:
    root: Path
    main: RepoSnapshot  # the repository on main
    other: RepoSnapshot  # the repository after an uninterrupted switch to 'other'


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """main: three web shards, a README and an asset. other: every shard rewritten with new rows,
    a new dataset directory, the README edited, the asset removed. Built once per module."""
    base = tmp_path_factory.mktemp("atomic")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in AUTHOR_ENV.items():
            mp.setenv(key, value)
        mp.setenv("XDG_CONFIG_HOME", str(base / "xdg"))
        repo = Repo.init(base / "repo")
        mp.chdir(repo.root)
        for i in range(3):
            write_table(repo.root, f"data/web/part-{i}.parquet", corpus_table(3000, i))
        (repo.root / "README.md").write_text("corpus v1\n")
        (repo.root / "assets").mkdir()
        (repo.root / "assets/vocab.bin").write_bytes(os.urandom(50_000))
        repo.add(["."])
        repo.commit("v1")
        cgit("switch", "-c", "other")
        write_table(repo.root, OTHER_TABLES[0], corpus_table(500, 9))
        for i in range(3):
            write_table(repo.root, f"data/web/part-{i}.parquet", corpus_table(3000, 10 + i))
        (repo.root / "README.md").write_text("corpus v2\n")
        (repo.root / "assets/vocab.bin").unlink()
        (repo.root / "assets").rmdir()
        repo.add(["."])
        repo.commit("v2")
        cgit("switch", "main")
        main = snapshot(repo.root)
        probe = copy_repo(repo.root, base / "probe")
        mp.chdir(probe)
        cgit("switch", "other")
        other = snapshot(probe)
        shutil.rmtree(probe)
    assert set(other.files) == {"README.md", *OTHER_TABLES}
    return Template(repo.root, main, other)


@pytest.fixture
def work(template: Template, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """A private copy of the template, checked out on main, as the current directory."""
    for key, value in AUTHOR_ENV.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    root = copy_repo(template.root, tmp_path / "repo")
    monkeypatch.chdir(root)
    return Repo(root)


def damage_second_table(repo: Repo, how: str) -> str:
    """Damage a chunk only the second table of 'other' uses; returns the chunk id."""
    tree = read_commit_tree(repo.store, repo.refs.read(HEADS + "other"))
    table = TableObject.from_json(repo.store.get_meta(tree.entries[DAMAGED].id))
    others = {ref.id for path in OTHER_TABLES if path != DAMAGED
              for ref in TableObject.from_json(repo.store.get_meta(tree.entries[path].id)).chunk_refs()}
    chunk = next(ref.id for ref in table.chunk_refs() if ref.id not in others)
    path = repo.store.path(chunk)
    os.chmod(path, 0o644)
    if how == "missing":
        path.unlink()
    else:
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
    return chunk


def assert_refused_unchanged(repo: Repo, before: RepoSnapshot, args: tuple[str, ...], *needles: str) -> str:
    error, hint = cgit_fails(*args)
    for needle in needles:
        assert needle in error, (needle, error)
    assert "left as they were" in hint or "nothing was changed" in hint, hint
    assert snapshot(repo.root) == before
    assert temp_files(repo.root) == []
    assert not (repo.cgit / JOURNAL).exists()
    return error


@pytest.mark.parametrize("how", ["bit-flip", "missing"])
@pytest.mark.parametrize("args", [("switch", "other"), ("checkout", "other"), ("checkout", "--detach", "other"), ("reset", "--hard", "other")], ids=" ".join)
def test_damaged_chunk_mid_checkout_changes_nothing(work: Repo, template: Template, args: tuple[str, ...], how: str) -> None:
    chunk = damage_second_table(work, how)
    before = snapshot(work.root)
    assert before.files == template.main.files
    assert_refused_unchanged(work, before, args, DAMAGED, chunk)
    assert work.refs.head_target() == HEADS + "main"
    assert work.status().clean


def test_damaged_chunk_mid_restore_changes_nothing(work: Repo) -> None:
    chunk = damage_second_table(work, "bit-flip")
    before = snapshot(work.root)
    assert_refused_unchanged(work, before, ("restore", "--source", "other", "data", "README.md"), DAMAGED, chunk)


def test_failure_after_the_renames_puts_every_old_file_back(work: Repo, template: Template) -> None:
    """HEAD is locked by a live process: the files are already renamed into place when moving
    HEAD fails, and all of them must go back (same bytes, same inodes, so the stat cache holds)."""
    (work.cgit / "HEAD.lock").write_text(f"{os.getpid()} {socket.gethostname()}\n")
    before = snapshot(work.root)
    inodes = {p: (work.root / p).stat().st_ino for p in before.files}
    assert_refused_unchanged(work, before, ("switch", "other"), "HEAD is locked")
    assert {p: (work.root / p).stat().st_ino for p in before.files} == inodes
    (work.cgit / "HEAD.lock").unlink()
    assert work.status().clean
    cgit("switch", "other")
    assert snapshot(work.root).files == template.other.files


def test_full_disk_mid_checkout_changes_nothing(work: Repo) -> None:
    """A file-size limit makes the first large table fail to write, as a full disk would."""
    before = snapshot(work.root)
    sizes = {p: (work.root / p).stat().st_size for p in before.files}
    limit = max(sizes.values()) // 2  # small files (README, index, HEAD) fit; a shard does not

    def limit_file_size() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of being killed
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.run([*CGIT, "switch", "other"], cwd=work.root, capture_output=True, text=True, timeout=120,
                          preexec_fn=limit_file_size)
    assert proc.returncode != 0
    error, hint = assert_error_report(proc.stderr)
    assert "data/" in error, proc.stderr
    assert "left as they were" in hint or "nothing was changed" in hint, hint
    assert snapshot(work.root) == before
    assert temp_files(work.root) == [] and not (work.cgit / JOURNAL).exists()


# -- real processes, stopped at a chosen fsync ------------------------------------------------------

STOP_AT_FSYNC = textwrap.dedent(
    """
    import os, signal, sys
    how, when, count_file = sys.argv[1], sys.argv[2], sys.argv[3]
    calls = [0]
    real_fsync = os.fsync

    def fsync(fd):
        calls[0] += 1
        name = os.path.basename(os.readlink(f"/proc/self/fd/{fd}"))
        if str(calls[0]) == when or (not when.isdigit() and name.startswith(when)):
            os.kill(os.getpid(), getattr(signal, how))
        real_fsync(fd)

    os.fsync = fsync
    sys.argv = ["cgit", *sys.argv[4:]]
    from corpusgit.cli import main
    try:
        main()
    finally:
        with open(count_file, "w") as handle:
            handle.write(str(calls[0]))
    """
)


def stop_at_fsync(root: Path, how: str, when: str, *args: str) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run ``cgit ARGS`` and send signal ``how`` at fsync number ``when`` (or at the fsync of a
    file whose name starts with ``when``). Returns the process and how many fsyncs ran."""
    script = root.parent / "stop_at_fsync.py"
    script.write_text(STOP_AT_FSYNC)
    count = root.parent / f"fsyncs-{how}-{when}"
    proc = subprocess.run([sys.executable, str(script), how, when, str(count), *args], cwd=root,
                          capture_output=True, text=True, timeout=120)
    return proc, int(count.read_text()) if count.exists() else -1


def status_json(root: Path) -> dict[str, list[str]]:
    proc = subprocess.run([*CGIT, "status", "--json"], cwd=root, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    return {key: doc[key] for key in ("staged", "unstaged", "untracked")}


def test_sigkill_while_writing_leaves_the_old_version_and_the_next_checkout_cleans_up(work: Repo, template: Template) -> None:
    proc, _ = stop_at_fsync(work.root, "SIGKILL", f".{Path(DAMAGED).name}.", "switch", "other")
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    left = temp_files(work.root)
    assert left, "the kill should have left the temp files it was writing"
    assert any(p.startswith("data/code/") for p in left)  # in a directory the checkout created
    state = snapshot(work.root)
    assert {p: v for p, v in state.files.items() if p not in left} == template.main.files
    assert index_tree(state.index) == index_tree(template.main.index) and state.head == template.main.head
    status = status_json(work.root)
    assert status["untracked"] == [] and status["unstaged"] == [] and status["staged"] == [], status
    cgit("switch", "other")
    assert temp_files(work.root) == [] and not (work.cgit / JOURNAL).exists()
    assert snapshot(work.root).files == template.other.files
    assert work.status().clean


def test_killed_checkout_leftovers_are_removed_by_switching_back_and_by_gc(work: Repo, template: Template) -> None:
    proc, _ = stop_at_fsync(work.root, "SIGKILL", f".{Path(DAMAGED).name}.", "switch", "other")
    assert proc.returncode == -signal.SIGKILL and temp_files(work.root)
    assert "a checkout was interrupted" in cgit("fsck", code=None).stderr
    cgit("gc")
    assert temp_files(work.root) == [] and not (work.root / "data/code").exists()
    assert "a checkout was interrupted" not in cgit("fsck", code=None).stderr
    assert snapshot(work.root).files == template.main.files and work.status().clean


def interrupted_switch(template: Template, root: Path, how: str, when: str) -> str:
    """Copy the template to ``root``, send ``how`` at fsync ``when`` of ``cgit switch other``, and
    check the outcome is wholly the old version or wholly the new one; returns which."""
    copy_repo(template.root, root)
    before = snapshot(root)
    proc, _ = stop_at_fsync(root, how, when, "switch", "other")
    assert proc.returncode == 130, (when, proc.returncode, proc.stderr)
    state = snapshot(root)
    assert temp_files(root) == [] and not (root / ".cgit" / JOURNAL).exists(), when
    if state.head == template.main.head:
        assert state.files == template.main.files and state.index == before.index, when
        outcome = "old"
    else:
        assert state.head == template.other.head and state.files == template.other.files, when
        assert index_tree(state.index) == index_tree(template.other.index), when
        outcome = "new"
    repo = Repo(root)
    assert repo.status().clean, when
    assert repo.refs.read(HEADS + "main") == Repo(template.root).refs.read(HEADS + "main")
    shutil.rmtree(root)
    return outcome


def test_ctrl_c_at_every_fsync_gives_the_old_or_the_new_version_never_a_mix(template: Template, tmp_path: Path) -> None:
    """Ctrl-C at each fsync of a switch: while files are being written, the switch stops and
    nothing changed; once the renames begin, it is held until the switch has finished (then
    exits 130 all the same). Either way status is clean afterwards."""
    probe = copy_repo(template.root, tmp_path / "probe")
    _, total = stop_at_fsync(probe, "SIGINT", "0", "switch", "other")
    assert total > len(OTHER_TABLES)
    with ThreadPoolExecutor(max_workers=2) as pool:
        outcomes = list(pool.map(lambda n: interrupted_switch(template, tmp_path / f"int-{n}", "SIGINT", str(n)), range(1, total + 1)))
    assert outcomes[0] == "old" and outcomes[-1] == "new", outcomes


@pytest.mark.parametrize(("when", "outcome"), [(f".{Path(DAMAGED).name}.", "old"), (".HEAD.", "new")])
def test_sigterm_acts_like_ctrl_c(template: Template, tmp_path: Path, when: str, outcome: str) -> None:
    """A supervisor's SIGTERM while writing (the second table's temp file) or while publishing
    (HEAD's write): the same two outcomes as Ctrl-C, and no temp file left behind."""
    assert interrupted_switch(template, tmp_path / "repo", "SIGTERM", when) == outcome


def test_sigkill_at_every_fsync_never_mixes_versions_and_recovers(work: Repo, template: Template, tmp_path: Path) -> None:
    """SIGKILL cannot be held. Killed while writing, nothing changed; killed after the renames,
    the files are all new (status then shows them as modified until the index catches up).
    Never a mix of the two versions, never a temp file listed, and the next checkout works."""
    _, total = stop_at_fsync(work.root, "SIGKILL", "0", "switch", "other")

    def trial(n: int) -> None:
        root = copy_repo(template.root, tmp_path / f"kill-{n}")
        proc, _ = stop_at_fsync(root, "SIGKILL", str(n), "switch", "other")
        assert proc.returncode == -signal.SIGKILL, (n, proc.stderr)
        left = temp_files(root)
        files = {p: v for p, v in snapshot(root).files.items() if p not in left}
        assert files in (template.main.files, template.other.files), n
        repo = Repo(root)
        assert not any(is_temp_name(Path(p).name) for p in repo.status().untracked), n
        checkout(repo, "other", force=True)  # what the user runs next
        assert temp_files(root) == [] and snapshot(root).files == template.other.files, n
        assert repo.status().clean, n
        shutil.rmtree(root)

    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(trial, range(1, total + 1)))


def test_status_does_not_list_temp_files_but_lists_look_alikes(work: Repo) -> None:
    (work.root / "data/web/.part-0.parquet.k2j4x_9a.tmp").write_bytes(b"left by a killed cgit")
    (work.root / "data/web/.notes.tmp").write_text("a user's own file\n")
    (work.root / "data/web/part-0.parquet.k2j4x_9a.tmp").write_text("no leading dot: not ours\n")
    assert sorted(work.status().untracked) == ["data/web/.notes.tmp", "data/web/part-0.parquet.k2j4x_9a.tmp"]
    cgit("add", "data")
    assert "data/web/.part-0.parquet.k2j4x_9a.tmp" not in work.read_index().entries


def test_successful_checkout_leaves_no_temp_files_or_journal(work: Repo, template: Template) -> None:
    cgit("checkout", "other")
    assert snapshot(work.root).files == template.other.files and not (work.root / "assets").exists()
    cgit("checkout", "main")
    assert snapshot(work.root).files == template.main.files and not (work.root / "data/code").exists()
    assert temp_files(work.root) == [] and not (work.cgit / JOURNAL).exists()
    assert work.status().clean
