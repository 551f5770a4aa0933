"""Three-way merges on real Parquet tables: every conflict rule, strategies, resolve, abort,
continue, criss-cross bases, revert and cherry-pick, and bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clirun import cgit
from corpusgit import Repo
from corpusgit.branches import create_branch
from corpusgit.checkout import checkout
from corpusgit.errors import BadInput, DirtyWorkTree, MergeConflict, RevisionNotFound
from corpusgit.merge import api
from corpusgit.merge.resolve import list_conflicts, resolve

KEYED = "data/sft/rows.parquet"
KEYLESS = "data/web/rows.parquet"
SCHEMA = pa.schema([("id", pa.int64()), ("text", pa.string()), ("label", pa.string())])
Rows = dict[int, tuple[str, str]]
Save = Callable[[str, pa.Table, str], str]


def table(rows: Rows) -> pa.Table:
    ids = list(rows)
    return pa.table({"id": ids, "text": [rows[i][0] for i in ids], "label": [rows[i][1] for i in ids]}, schema=SCHEMA)


def base_rows(n: int = 50) -> Rows:
    return {i: (f"text {i}", "a") for i in range(n)}


def branch_edits(repo: Repo, save: Save, path: str, base: Rows, ours: Rows, theirs: Rows) -> None:
    """base on main, theirs on branch 'feature', ours on main."""
    save(path, table(base), "base")
    create_branch(repo, "feature")
    checkout(repo, "feature")
    save(path, table(theirs), "theirs")
    checkout(repo, "main")
    save(path, table(ours), "ours")


def test_keyed_cells_merge_cleanly_when_columns_differ(keyed_repo: Repo, save: Save, read_rows: Callable[[str, str], Rows]) -> None:
    base = base_rows()
    ours, theirs = dict(base), dict(base)
    ours[1] = ("ours text", "a")  # ours edits text, theirs edits label of the same row
    theirs[1] = ("text 1", "theirs")
    ours[2] = ("same", "same")  # the same change on both sides
    theirs[2] = ("same", "same")
    del theirs[3]  # theirs deletes an untouched row
    theirs[100] = ("new", "b")  # and adds one
    ours[101] = ("mine", "c")
    branch_edits(keyed_repo, save, KEYED, base, ours, theirs)
    outcome = api.merge(keyed_repo, "feature")
    assert outcome.kind == "merged"
    merged = read_rows("HEAD", KEYED)
    assert merged[1] == ("ours text", "theirs")
    assert merged[2] == ("same", "same")
    assert 3 not in merged and merged[100] == ("new", "b") and merged[101] == ("mine", "c")
    assert len(merged) == len(base) - 1 + 2
    head = keyed_repo.read_commit("HEAD")
    assert len(head.parents) == 2


@pytest.mark.parametrize(
    ("ours_edit", "theirs_edit", "kind"),
    [
        ({1: ("text 1", "o")}, {1: ("text 1", "t")}, "modify/modify"),
        ({1: ("text 1", "o")}, {1: None}, "delete/modify"),
        ({1: None}, {1: ("text 1", "t")}, "modify/delete"),
        ({900: ("x", "o")}, {900: ("x", "t")}, "add/add"),
    ],
)
def test_conflict_rules(keyed_repo: Repo, save: Save, ours_edit: dict[int, object], theirs_edit: dict[int, object], kind: str) -> None:
    base = base_rows()
    ours, theirs = _apply(base, ours_edit), _apply(base, theirs_edit)
    branch_edits(keyed_repo, save, KEYED, base, ours, theirs)
    head_before = keyed_repo.refs.head_commit()
    outcome = api.merge(keyed_repo, "feature")
    assert outcome.kind == "conflicts" and set(outcome.conflicts) == {KEYED}
    assert keyed_repo.refs.head_commit() == head_before
    (view,) = list_conflicts(keyed_repo)
    assert view.rows is not None
    kinds = set(view.rows.column("_conflict").to_pylist())
    assert kinds == {kind}
    key = next(iter(ours_edit))
    assert set(view.rows.column("id").to_pylist()) == {key}
    with pytest.raises(MergeConflict):
        api.merge_continue(keyed_repo)


def _apply(base: Rows, edits: dict[int, object]) -> Rows:
    out = dict(base)
    for k, v in edits.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = v  # type: ignore[assignment]
    return out


def test_add_same_key_with_same_values_is_not_a_conflict(keyed_repo: Repo, save: Save, read_rows: Callable[[str, str], Rows]) -> None:
    base = base_rows()
    ours, theirs = dict(base), dict(base)
    ours[77] = theirs[77] = ("both", "b")
    branch_edits(keyed_repo, save, KEYED, base, ours, theirs)
    assert api.merge(keyed_repo, "feature").kind == "merged"
    assert read_rows("HEAD", KEYED)[77] == ("both", "b")
    assert sum(1 for k in read_rows("HEAD", KEYED) if k == 77) == 1


def test_keyless_tables_merge_as_row_sets(keyed_repo: Repo, save: Save) -> None:
    base = base_rows()
    ours, theirs = dict(base), dict(base)
    del ours[1]
    del theirs[2]
    del ours[3]
    del theirs[3]  # deleted on both sides
    ours[200] = ("ours", "x")
    theirs[201] = ("theirs", "y")
    ours[202] = theirs[202] = ("both", "z")  # the same row added on both sides appears once
    branch_edits(keyed_repo, save, KEYLESS, base, ours, theirs)
    assert api.merge(keyed_repo, "feature").kind == "merged"
    got = keyed_repo.read_table("HEAD", KEYLESS).read_all().to_pydict()
    expected = set(base) - {1, 2, 3} | {200, 201, 202}
    assert sorted(got["id"]) == sorted(expected)


def test_columns_added_on_either_side_are_unioned(keyed_repo: Repo, save: Save) -> None:
    base = table(base_rows(20))
    save(KEYED, base, "base")
    create_branch(keyed_repo, "feature")
    checkout(keyed_repo, "feature")
    save(KEYED, base.append_column("score", pa.array([float(i) for i in range(20)])), "theirs adds score")
    checkout(keyed_repo, "main")
    save(KEYED, base.append_column("tag", pa.array([f"t{i}" for i in range(20)])), "ours adds tag")
    assert api.merge(keyed_repo, "feature").kind == "merged"
    got = keyed_repo.read_table("HEAD", KEYED).read_all()
    assert got.schema.names == ["id", "text", "label", "tag", "score"]
    assert got.column("score").to_pylist() == [float(i) for i in range(20)]
    assert got.column("tag").to_pylist() == [f"t{i}" for i in range(20)]


def test_same_column_added_with_different_types_is_a_schema_conflict(keyed_repo: Repo, save: Save) -> None:
    base = table(base_rows(10))
    save(KEYED, base, "base")
    create_branch(keyed_repo, "feature")
    checkout(keyed_repo, "feature")
    save(KEYED, base.append_column("score", pa.array([1] * 10, pa.int64())), "int score")
    checkout(keyed_repo, "main")
    save(KEYED, base.append_column("score", pa.array([1.0] * 10, pa.float64())), "float score")
    outcome = api.merge(keyed_repo, "feature")
    assert outcome.conflicts[KEYED].kind == "schema"
    resolve(keyed_repo, KEYED, "theirs", None)
    api.merge_continue(keyed_repo)
    assert keyed_repo.read_table("HEAD", KEYED).schema.field("score").type == pa.int64()


def test_text_blobs_changed_on_both_sides_get_markers(keyed_repo: Repo, save: Save) -> None:
    notes = keyed_repo.root / "notes.txt"
    notes.write_text("one\n")
    save(KEYED, table(base_rows(5)), "base")
    from corpusgit.add import add
    from corpusgit.history import commit

    add(keyed_repo, ["notes.txt"])
    commit(keyed_repo, "notes")
    create_branch(keyed_repo, "feature")
    checkout(keyed_repo, "feature")
    notes.write_text("theirs\n")
    add(keyed_repo, ["notes.txt"])
    commit(keyed_repo, "theirs notes")
    checkout(keyed_repo, "main")
    notes.write_text("ours\n")
    add(keyed_repo, ["notes.txt"])
    commit(keyed_repo, "ours notes")
    outcome = api.merge(keyed_repo, "feature")
    assert outcome.conflicts["notes.txt"].kind == "blob"
    assert notes.read_text() == "<<<<<<< ours\nours\n=======\ntheirs\n>>>>>>> theirs\n"


@pytest.mark.parametrize(("option", "label"), [("ours", "o"), ("theirs", "t")])
def test_strategy_option_settles_conflicts(keyed_repo: Repo, save: Save, read_rows: Callable[[str, str], Rows], option: str, label: str) -> None:
    base = base_rows()
    branch_edits(keyed_repo, save, KEYED, base, _apply(base, {1: ("text 1", "o")}), _apply(base, {1: ("text 1", "t")}))
    assert api.merge(keyed_repo, "feature", prefer=option).kind == "merged"
    assert read_rows("HEAD", KEYED)[1] == ("text 1", label)


@pytest.mark.parametrize("strategy", ["ours", "theirs", "union"])
def test_per_table_strategy_in_cgit_toml(keyed_repo: Repo, save: Save, read_rows: Callable[[str, str], Rows], strategy: str) -> None:
    (keyed_repo.root / "cgit.toml").write_text(f'[tables."data/sft/*"]\nkey = ["id"]\nmerge = "{strategy}"\n')
    base = base_rows()
    ours = _apply(base, {1: ("text 1", "o"), 5: ("ours only", "a")})
    theirs = _apply(base, {1: ("text 1", "t"), 6: ("theirs only", "a")})
    branch_edits(keyed_repo, save, KEYED, base, ours, theirs)
    assert api.merge(keyed_repo, "feature").kind == "merged"
    got = read_rows("HEAD", KEYED)
    if strategy == "ours":
        assert got == ours
    elif strategy == "theirs":
        assert got == theirs
    else:
        assert got[5] == ("ours only", "a") and got[6] == ("theirs only", "a")
        rows = keyed_repo.read_table("HEAD", KEYED).read_all().to_pydict()
        assert [l for i, l in zip(rows["id"], rows["label"]) if i == 1] == ["o", "t"]


@pytest.mark.parametrize("how", ["ours", "theirs", "union"])
def test_resolve_then_continue(keyed_repo: Repo, save: Save, how: str) -> None:
    base = base_rows()
    branch_edits(keyed_repo, save, KEYED, base, _apply(base, {1: ("text 1", "o"), 2: ("x", "a")}), _apply(base, {1: ("text 1", "t"), 3: ("y", "a")}))
    api.merge(keyed_repo, "feature")
    resolve(keyed_repo, KEYED, how, None)
    oid = api.merge_continue(keyed_repo)
    rows = keyed_repo.read_table(oid, KEYED).read_all().to_pydict()
    labels = [l for i, l in zip(rows["id"], rows["label"]) if i == 1]
    assert labels == {"ours": ["o"], "theirs": ["t"], "union": ["o", "t"]}[how]
    texts = dict(zip(rows["id"], rows["text"]))
    assert texts[2] == "x" and texts[3] == "y"
    assert pq.read_table(keyed_repo.root / KEYED).num_rows == len(rows["id"])


def test_resolve_from_edited_conflicts_file(keyed_repo: Repo, save: Save, tmp_path: Path) -> None:
    base = base_rows()
    branch_edits(keyed_repo, save, KEYED, base, _apply(base, {1: ("text 1", "o"), 4: ("text 4", "o")}), _apply(base, {1: ("text 1", "t"), 4: ("text 4", "t")}))
    api.merge(keyed_repo, "feature")
    out = tmp_path / "conflicts.parquet"
    result = cgit("conflicts", KEYED, "--output", str(out), code=None)
    assert result.exit_code == 0, result.output
    rows = pq.read_table(out).to_pylist()
    assert {r["_side"] for r in rows} == {"base", "ours", "theirs"}
    # keep a hand-written value for key 1, drop key 4 entirely (delete it)
    edited = [dict(r, label="hand", _side="resolved") for r in rows if r["id"] == 1 and r["_side"] == "ours"]
    pq.write_table(pa.Table.from_pylist(edited), out)
    result = cgit("resolve", KEYED, "--from", str(out), code=None)
    assert result.exit_code == 0, result.output
    oid = api.merge_continue(keyed_repo)
    got = keyed_repo.read_table(oid, KEYED).read_all().to_pydict()
    labels = dict(zip(got["id"], got["label"]))
    assert labels[1] == "hand" and 4 not in labels


def test_conflicts_json_lists_base_ours_theirs(keyed_repo: Repo, save: Save) -> None:
    base = base_rows()
    branch_edits(keyed_repo, save, KEYED, base, _apply(base, {7: ("text 7", "o")}), _apply(base, {7: ("text 7", "t")}))
    api.merge(keyed_repo, "feature")
    result = cgit("conflicts", "--json", code=None)
    doc = json.loads(result.output)
    (entry,) = doc[0]["rows"]
    assert entry["key"] == {"id": 7} and entry["columns"] == ["label"]
    assert (entry["base"]["label"], entry["ours"]["label"], entry["theirs"]["label"]) == ("a", "o", "t")
    status = json.loads(cgit("status", "--json", code=None).output)
    assert status["conflicts"] == [KEYED] and status["operation"] == "merge"


def test_abort_restores_exact_pre_merge_state(keyed_repo: Repo, save: Save) -> None:
    base = base_rows()
    branch_edits(keyed_repo, save, KEYED, base, _apply(base, {1: ("text 1", "o")}), _apply(base, {1: ("text 1", "t"), 500: ("n", "n")}))
    before_bytes = (keyed_repo.root / KEYED).read_bytes()
    before_index = (keyed_repo.cgit / "index").read_bytes()
    head = keyed_repo.refs.head_commit()
    api.merge(keyed_repo, "feature")
    assert (keyed_repo.root / KEYED).read_bytes() != before_bytes
    api.merge_abort(keyed_repo)
    assert keyed_repo.refs.head_commit() == head
    assert pq.read_table(keyed_repo.root / KEYED).equals(pq.read_table(pa.BufferReader(before_bytes)))
    assert {p: (e.kind, e.id) for p, e in keyed_repo.read_index().entries.items()} == {
        p: (e[0], e[1]) for p, e in json.loads(before_index)["entries"].items()
    }
    assert keyed_repo.status().clean


def test_criss_cross_merge_uses_a_virtual_base(keyed_repo: Repo, save: Save, read_rows: Callable[[str, str], Rows]) -> None:
    rows = base_rows(10)
    save(KEYED, table(rows), "base")
    create_branch(keyed_repo, "b")
    checkout(keyed_repo, "b")
    b_rows = _apply(rows, {2: ("text 2", "b2")})
    save(KEYED, table(b_rows), "b2")
    checkout(keyed_repo, "main")
    m_rows = _apply(rows, {1: ("text 1", "m1")})
    save(KEYED, table(m_rows), "m1")
    create_branch(keyed_repo, "b-pre", "b")
    api.merge(keyed_repo, "b-pre")  # main <- b
    checkout(keyed_repo, "b")
    api.merge(keyed_repo, "main~1")  # b <- old main: criss-cross
    save(KEYED, table(_apply(read_rows("HEAD", KEYED), {4: ("text 4", "b4")})), "b4")
    checkout(keyed_repo, "main")
    save(KEYED, table(_apply(read_rows("HEAD", KEYED), {3: ("text 3", "m3")})), "m3")
    from corpusgit.merge.base import merge_bases
    from corpusgit.revparse import resolve_commit

    assert len(merge_bases(keyed_repo, resolve_commit(keyed_repo, "main"), resolve_commit(keyed_repo, "b"))) == 2
    assert api.merge(keyed_repo, "b").kind == "merged"
    labels = {k: v[1] for k, v in read_rows("HEAD", KEYED).items()}
    assert [labels[i] for i in range(6)] == ["a", "m1", "b2", "m3", "b4", "a"]


def test_fast_forward_and_up_to_date(keyed_repo: Repo, save: Save) -> None:
    save(KEYED, table(base_rows(5)), "base")
    create_branch(keyed_repo, "feature")
    checkout(keyed_repo, "feature")
    tip = save(KEYED, table(base_rows(6)), "more")
    checkout(keyed_repo, "main")
    assert api.merge(keyed_repo, "feature").kind == "fast-forward"
    assert keyed_repo.refs.head_commit() == tip
    assert pq.read_table(keyed_repo.root / KEYED).num_rows == 6
    assert api.merge(keyed_repo, "feature").kind == "up-to-date"


def test_revert_and_cherry_pick(keyed_repo: Repo, save: Save, read_rows: Callable[[str, str], Rows]) -> None:
    rows = base_rows(10)
    save(KEYED, table(rows), "base")
    bad = _apply(rows, {3: None, 4: None})
    save(KEYED, table(bad), "bad filter")
    save(KEYED, table(_apply(bad, {1: ("text 1", "later")})), "later edit")
    assert api.revert(keyed_repo, "HEAD~1").kind == "merged"
    got = read_rows("HEAD", KEYED)
    assert 3 in got and 4 in got and got[1] == ("text 1", "later")
    assert keyed_repo.read_commit("HEAD").subject == 'Revert "bad filter"'
    create_branch(keyed_repo, "other", "HEAD~3")
    checkout(keyed_repo, "other")
    assert api.cherry_pick(keyed_repo, "main~1").kind == "merged"
    assert read_rows("HEAD", KEYED)[1] == ("text 1", "later")
    assert len(keyed_repo.read_commit("HEAD").parents) == 1


def test_refuses_unrelated_histories(keyed_repo: Repo, save: Save) -> None:
    save(KEYED, table(base_rows(5)), "base")
    other = Repo.init(keyed_repo.root.parent / "other")
    (other.root / "f.txt").write_text("x\n")
    import os

    here = os.getcwd()
    os.chdir(other.root)
    try:
        from corpusgit.add import add
        from corpusgit.history import commit

        add(other, ["f.txt"])
        foreign = commit(other, "foreign").id
    finally:
        os.chdir(here)
    for path in other.store.root.rglob("*"):
        if path.is_file():
            target = keyed_repo.store.root / path.relative_to(other.store.root)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(path.read_bytes())
    keyed_repo.refs.update("refs/heads/foreign", foreign, None, "test")
    with pytest.raises(BadInput, match="unrelated histories"):
        api.merge(keyed_repo, "foreign")
    assert api.merge(keyed_repo, "foreign", allow_unrelated=True).kind == "merged"
    assert (keyed_repo.root / "f.txt").read_text() == "x\n"


def test_refuses_dirty_work_tree_naming_files(keyed_repo: Repo, save: Save) -> None:
    base = base_rows(5)
    branch_edits(keyed_repo, save, KEYED, base, _apply(base, {1: ("a", "b")}), _apply(base, {2: ("a", "b")}))
    (keyed_repo.root / KEYED).write_bytes(b"not parquet any more")
    with pytest.raises(DirtyWorkTree, match="rows.parquet"):
        api.merge(keyed_repo, "feature")


def test_unknown_branch_suggests(keyed_repo: Repo, save: Save) -> None:
    save(KEYED, table(base_rows(5)), "base")
    create_branch(keyed_repo, "feature")
    result = cgit("merge", "featur", code=None)
    assert result.exit_code != 0
    assert "feature" in result.output
    with pytest.raises(RevisionNotFound):
        api.merge(keyed_repo, "nope")
