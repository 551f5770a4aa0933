"""FileBatch: many files change together or not at all; a killed batch's leftovers are found."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from corpusgit.errors import CorpusGitError
from corpusgit.store.atomic import is_temp_name
from corpusgit.store.filebatch import FileBatch, clean_interrupted


def tree(root: Path) -> dict[str, bytes | None]:
    """Every path under root (directories as None), journal excluded."""
    return {p.relative_to(root).as_posix(): None if p.is_dir() else p.read_bytes()
            for p in sorted(root.rglob("*")) if p.name != "journal"}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    work = tmp_path / "work"
    (work / "a").mkdir(parents=True)
    (work / "a/old.txt").write_text("old\n")
    (work / "a/gone.txt").write_text("to be removed\n")
    return work


def writer(text: str) -> Callable[[Path], None]:
    def write(tmp: Path) -> None:
        tmp.write_text(text)

    return write


def test_publish_replaces_writes_and_removes_together(root: Path) -> None:
    journal = root / "journal"
    targets = [root / "a/old.txt", root / "b/c/new.txt", root / "a/gone.txt"]
    with FileBatch(root, journal, targets) as batch:
        assert json.loads(journal.read_text()) == {"dirs": ["a", "b/c"], "created": ["b", "b/c"]}
        st = batch.write(root / "a/old.txt", writer("new\n"), 0o644)
        batch.write(root / "b/c/new.txt", writer("fresh\n"), 0o755)
        batch.remove(root / "a/gone.txt")
        assert (root / "a/old.txt").read_text() == "old\n" and not (root / "b/c/new.txt").exists()  # nothing renamed yet
        batch.publish()
    assert tree(root) == {"a": None, "a/old.txt": b"new\n", "b": None, "b/c": None, "b/c/new.txt": b"fresh\n"}
    assert (root / "a/old.txt").stat().st_ino == st.st_ino and (root / "b/c/new.txt").stat().st_mode & 0o777 == 0o755
    assert not journal.exists()


@pytest.mark.parametrize("where", ["writing", "after the renames"])
def test_a_failure_leaves_everything_as_it_was(root: Path, where: str) -> None:
    before = tree(root)
    inode = (root / "a/old.txt").stat().st_ino

    def fail() -> None:
        raise CorpusGitError("boom")

    with pytest.raises(CorpusGitError, match="boom"):
        with FileBatch(root, root / "journal", [root / "a/old.txt", root / "b/c/new.txt", root / "a/gone.txt"]) as batch:
            batch.write(root / "b/c/new.txt", writer("fresh\n"), 0o644)
            if where == "writing":
                batch.write(root / "a/old.txt", lambda tmp: fail(), 0o644)
            batch.write(root / "a/old.txt", writer("new\n"), 0o644)
            batch.remove(root / "a/gone.txt")
            batch.publish(fail)
    assert tree(root) == before
    assert (root / "a/old.txt").stat().st_ino == inode  # the very same file, so stat caches hold
    assert not (root / "journal").exists()


def test_a_directory_where_a_removed_file_was_is_left_alone(root: Path) -> None:
    (root / "a/gone.txt").unlink()
    (root / "a/gone.txt").mkdir()
    (root / "a/gone.txt/mine").write_text("user data\n")
    with FileBatch(root, root / "journal", [root / "a/gone.txt"]) as batch:
        batch.remove(root / "a/gone.txt")
        batch.publish()
    assert (root / "a/gone.txt/mine").read_text() == "user data\n"
    assert not any(is_temp_name(p.name) for p in root.rglob("*"))


def test_clean_interrupted_removes_only_temp_files_in_journal_directories(root: Path) -> None:
    (root / "b/c").mkdir(parents=True)
    (root / "b/c/.new.txt.abc123_z.tmp").write_text("partial\n")  # the only file in a created dir
    (root / "a/.old.txt.k2j4x9ab.tmp").write_text("partial\n")
    (root / "a/.notes.tmp").write_text("a user's file\n")
    (root / "elsewhere").mkdir()
    (root / "elsewhere/.x.abcdefgh.tmp").write_text("not in the journal\n")
    (root / "journal").write_text(json.dumps({"dirs": ["a", "b/c", "../outside"], "created": ["b", "b/c"]}))
    assert clean_interrupted(root, root / "journal") == 2
    assert tree(root) == {
        "a": None, "a/.notes.tmp": b"a user's file\n", "a/gone.txt": b"to be removed\n", "a/old.txt": b"old\n",
        "elsewhere": None, "elsewhere/.x.abcdefgh.tmp": b"not in the journal\n",
    }
    assert not (root / "journal").exists()
    assert clean_interrupted(root, root / "journal") == 0  # no journal: nothing to do


def test_a_new_batch_cleans_up_after_a_killed_one_first(root: Path) -> None:
    (root / "a/.old.txt.k2j4x9ab.tmp").write_text("partial\n")
    (root / "journal").write_text(json.dumps({"dirs": ["a"], "created": []}))
    with FileBatch(root, root / "journal", [root / "a/old.txt"]) as batch:
        batch.write(root / "a/old.txt", writer("new\n"), 0o644)
        batch.publish()
    assert tree(root) == {"a": None, "a/gone.txt": b"to be removed\n", "a/old.txt": b"new\n"}
