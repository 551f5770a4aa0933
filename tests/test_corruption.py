"""A corrupt, truncated or missing object is reported by ``fsck`` and on every read (``show``,
``checkout``, the Python API), naming the object id and the path that needs it; never used."""

from __future__ import annotations

import json
import os
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from clirun import assert_error_report, cgit

from corpusgit import CorpusGitError, Repo
from corpusgit.objects import read_tree
from corpusgit.table.model import TableObject

TABLE_PATH = "data/web/part-0.parquet"
TEXT_PATH = "README.md"
BINARY_PATH = "assets/vocab.bin"  # larger than show's text preview, so show must not only stat it


def refused(*args: str) -> str:
    """The command fails with one ``error:`` and one ``hint:`` line; returns the error line."""
    result = cgit(*args, code=None)
    assert result.exit_code != 0, f"cgit {' '.join(args)} succeeded on a damaged repository:\n{result.output}"
    error, _ = assert_error_report(result.stderr)
    assert result.stdout == "", "nothing may be printed from damaged data"
    return error


@dataclass(frozen=True)
class Corpus:
    repo: Repo
    table: pa.Table
    ids: dict[str, str]  # chunk / table / text-blob / binary-blob / tree / commit -> object id


def corpus_table(rows: int, seed: int) -> pa.Table:
    rng = random.Random(seed)
    words = "data model token corpus filter shard version row chunk train mix quality dedup the of and".split()
    texts = [f"doc {i}: " + " ".join(rng.choice(words) for _ in range(rng.randint(10, 80))) for i in range(rows)]
    return pa.table({"id": pa.array(range(rows), pa.int64()), "text": texts, "lang": ["en", "de"] * (rows // 2)})


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pa.Table]:
    """One committed corpus per module; each test damages its own copy."""
    root = tmp_path_factory.mktemp("corpus") / "repo"
    table = corpus_table(2000, 0)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CGIT_AUTHOR_NAME", "Test Author")
        mp.setenv("CGIT_AUTHOR_EMAIL", "test@example.com")
        mp.setenv("XDG_CONFIG_HOME", str(root.parent / "xdg"))
        Repo.init(root)
        mp.chdir(root)
        (root / "data/web").mkdir(parents=True)
        pq.write_table(table, root / TABLE_PATH)
        (root / TEXT_PATH).write_text("a small corpus\n")
        (root / "assets").mkdir()
        (root / BINARY_PATH).write_bytes(random.Random(1).randbytes(100_000))
        cgit("add", ".")
        cgit("commit", "-m", "base")
    return root, table


@pytest.fixture
def corpus(repo: Repo, template: tuple[Path, pa.Table], monkeypatch: pytest.MonkeyPatch) -> Corpus:
    src, table = template
    shutil.rmtree(repo.cgit)
    shutil.copytree(src, repo.root, dirs_exist_ok=True)
    monkeypatch.chdir(repo.root)
    commit = repo.refs.head_commit()
    assert commit is not None
    tree_id = repo.read_commit("HEAD").tree
    entries = read_tree(repo.store, tree_id).entries
    tobj = TableObject.from_json(repo.store.get_meta(entries[TABLE_PATH].id))
    chunks = tobj.chunk_refs()
    assert len(chunks) == 1
    ids = {
        "chunk": chunks[0].id, "table": entries[TABLE_PATH].id, "text-blob": entries[TEXT_PATH].id,
        "binary-blob": entries[BINARY_PATH].id, "tree": tree_id, "commit": commit,
    }
    return Corpus(repo, table, ids)


def damage(repo: Repo, oid: str, how: str) -> None:
    path = repo.store.path(oid)
    data = path.read_bytes()
    os.chmod(path, 0o644)
    if how == "missing":
        path.unlink()
    elif how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "bit-flip":
        flipped = bytearray(data)
        flipped[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(flipped))
    elif how == "tail-flip":  # the trailer / footer region
        flipped = bytearray(data)
        flipped[-3] ^= 0xFF
        path.write_bytes(bytes(flipped))
    else:
        raise AssertionError(how)


# which path needs each kind of object, as the messages must say
NEEDED_BY = {"chunk": TABLE_PATH, "table": TABLE_PATH, "text-blob": TEXT_PATH, "binary-blob": BINARY_PATH}
HOWS = ["missing", "truncated", "empty", "bit-flip", "tail-flip"]


def assert_fsck_reports(oid: str, needed_by: str) -> None:
    result = cgit("fsck", code=None)
    assert result.exit_code != 0, result.output
    assert oid in result.stderr and needed_by in result.stderr, result.stderr
    assert "Traceback" not in result.output
    report = json.loads(cgit("fsck", "--json", code=None).stdout)
    assert report["ok"] is False
    assert oid in {p["object_id"] for p in report["problems"]}


@pytest.mark.parametrize("how", HOWS)
@pytest.mark.parametrize("kind", list(NEEDED_BY))
def test_damaged_data_objects_are_reported_and_never_used(corpus: Corpus, kind: str, how: str) -> None:
    repo, oid, path = corpus.repo, corpus.ids[kind], NEEDED_BY[kind]
    damage(repo, oid, how)
    assert_fsck_reports(oid, path)

    error = refused("show", f"HEAD:{path}")
    assert oid in error and path in error, error
    error = refused("show", f"HEAD:{path}", "--json")
    assert oid in error

    if kind in ("chunk", "table"):
        with pytest.raises(CorpusGitError) as caught:
            repo.read_table("HEAD", path).read_all()
        assert oid in caught.value.message and path in caught.value.message

    index_before = (repo.cgit / "index").read_bytes()
    os.remove(repo.root / path)
    error = refused("checkout", "-f", "HEAD")
    assert oid in error and path in error, error
    assert not (repo.root / path).exists(), "damaged content was written to the work tree"
    assert [p.name for p in (repo.root / path).parent.iterdir() if p.name.endswith(".tmp")] == []
    assert (repo.cgit / "index").read_bytes() == index_before
    error = refused("checkout", "HEAD", "--", path)
    assert oid in error and path in error
    assert not (repo.root / path).exists()

    objects_before = sorted(repo.store.iter_ids())
    if kind == "table" or how == "missing":  # reachability is unknown (or broken): gc must not guess
        error = refused("gc", "--now")
        assert "damaged" in error and oid in error
    else:  # a damaged leaf does not hide what is reachable; gc keeps it for repair
        cgit("gc", "--now")
    assert sorted(repo.store.iter_ids()) == objects_before
    assert cgit("fsck", code=None).exit_code != 0


@pytest.mark.parametrize("how", HOWS)
def test_damaged_tree_is_reported_with_the_commit_that_needs_it(corpus: Corpus, how: str) -> None:
    repo, oid, commit = corpus.repo, corpus.ids["tree"], corpus.ids["commit"]
    damage(repo, oid, how)
    assert_fsck_reports(oid, f"commit {commit[:12]}")
    for args in (["show", f"HEAD:{TABLE_PATH}"], ["show", "HEAD"], ["checkout", "-f", "HEAD"], ["status"],
                 ["checkout", "HEAD", "--", TEXT_PATH], ["du"]):
        error = refused(*args)
        assert oid in error and commit[:12] in error, (args, error)


@pytest.mark.parametrize("how", HOWS)
def test_damaged_commit_is_reported(corpus: Corpus, how: str) -> None:
    repo, oid = corpus.repo, corpus.ids["commit"]
    damage(repo, oid, how)
    result = cgit("fsck", code=None)
    assert result.exit_code != 0 and oid in result.stderr
    for args in (["log"], ["show"], ["show", f"HEAD:{TEXT_PATH}"], ["checkout", "-f", "main"], ["status"]):
        assert oid in refused(*args), args


def test_damage_to_an_older_version_is_found_by_fsck_and_blocks_only_what_needs_it(corpus: Corpus, make_table: Callable[..., pa.Table], write_parquet: Callable[..., Path]) -> None:
    repo = corpus.repo
    write_parquet(TABLE_PATH, make_table(rows=50, seed=1))  # entirely new rows: no old chunk reused
    cgit("add", TABLE_PATH)
    cgit("commit", "-m", "replace")
    old_chunk = corpus.ids["chunk"]
    damage(repo, old_chunk, "bit-flip")
    assert_fsck_reports(old_chunk, TABLE_PATH)
    cgit("show", f"HEAD:{TABLE_PATH}")  # the current version does not need it
    error = refused("show", f"HEAD~1:{TABLE_PATH}")
    assert old_chunk in error and f"HEAD~1:{TABLE_PATH}" in error
    error = refused("checkout", "-f", "HEAD~1")
    assert old_chunk in error and TABLE_PATH in error
    assert repo.refs.head_target() == "refs/heads/main"


def test_add_never_matches_rows_against_a_damaged_chunk(corpus: Corpus, write_parquet: Callable[..., Path]) -> None:
    """A new version is matched against the old chunks; a damaged one must fail the add, not
    leak unverified rows (or references to them) into the new version."""
    repo = corpus.repo
    damage(repo, corpus.ids["chunk"], "bit-flip")
    write_parquet(TABLE_PATH, corpus.table.slice(0, 1500))
    index_before = (repo.cgit / "index").read_bytes()
    error = refused("add", TABLE_PATH)
    assert corpus.ids["chunk"] in error
    assert (repo.cgit / "index").read_bytes() == index_before


def test_fsck_full_recomputes_chunk_contents(repo: Repo, make_table: Callable[..., pa.Table], write_parquet: Callable[..., Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """A chunk file holding other rows under a matching checksum (as a buggy writer might leave
    it) passes the fast check; only ``--full``, which recomputes content ids, can catch it."""
    from corpusgit.table.chunkio import file_checksum

    monkeypatch.chdir(repo.root)
    write_parquet(TABLE_PATH, make_table(rows=300, seed=2))
    cgit("add", TABLE_PATH)  # staged only: the index is the sole root
    table_id = repo.read_index().entries[TABLE_PATH].id
    doc = repo.store.get_meta(table_id)
    ref = TableObject.from_json(doc).chunk_refs()[0]
    path = repo.store.path(ref.id)
    original = pq.read_table(path)
    tampered = original.set_column(original.schema.get_field_index("text"), "text", pa.array(["tampered"] * original.num_rows, pa.string()))
    os.chmod(path, 0o644)
    pq.write_table(tampered, path)
    new_sum, new_size = file_checksum(path.read_bytes()), path.stat().st_size
    doc = json.loads(json.dumps(doc).replace(f'"{ref.checksum}"', f'"{new_sum}"').replace(f", {ref.size}, ", f", {new_size}, "))
    new_table = repo.store.put_meta(doc)
    new_ref = TableObject.from_json(repo.store.get_meta(new_table)).chunk_refs()[0]
    assert (new_ref.id, new_ref.checksum, new_ref.size) == (ref.id, new_sum, new_size)
    index = json.loads((repo.cgit / "index").read_text())
    index["entries"][TABLE_PATH][1] = new_table
    (repo.cgit / "index").write_text(json.dumps(index))

    assert json.loads(cgit("fsck", "--json", code=None).stdout)["ok"] is True  # the fast check cannot tell
    result = cgit("fsck", "--full", code=None)
    assert result.exit_code != 0 and ref.id in result.stderr and "other content" in result.stderr
    report = json.loads(cgit("fsck", "--json", "--full", code=None).stdout)
    assert any(p["object_id"] == ref.id and "other content" in p["message"] for p in report["problems"])
