"""Property: a keyed merge equals a naive cell-level three-way merge computed on dicts."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpusgit import Repo
from corpusgit.add import add
from corpusgit.branches import create_branch
from corpusgit.checkout import checkout
from corpusgit.history import commit
from corpusgit.merge import api
from corpusgit.merge.resolve import list_conflicts

PATH = "data/sft/rows.parquet"
COLUMNS = ("text", "label")
Row = tuple[str, str]
Rows = dict[int, Row]

edit = st.one_of(
    st.tuples(st.just("set"), st.integers(0, 11), st.sampled_from(COLUMNS), st.sampled_from(["p", "q"])),
    st.tuples(st.just("del"), st.integers(0, 11), st.just(""), st.just("")),
    st.tuples(st.just("add"), st.integers(100, 103), st.sampled_from(["p", "q"]), st.sampled_from(["p", "q"])),
)


def apply(rows: Rows, script: list[tuple[str, int, str, str]]) -> Rows:
    out = dict(rows)
    for op, key, a, b in script:
        if op == "set" and key in out:
            text, label = out[key]
            out[key] = (b, label) if a == "text" else (text, b)
        elif op == "del":
            out.pop(key, None)
        elif op == "add" and key not in out:
            out[key] = (a, b)
    return out


def reference(base: Rows, ours: Rows, theirs: Rows) -> tuple[Rows, set[int]]:
    """Naive three-way merge; conflicting cells keep ours, as ``cgit merge`` leaves them."""
    result: Rows = {}
    conflicts: set[int] = set()
    for key in sorted(set(base) | set(ours) | set(theirs)):
        b, o, t = base.get(key), ours.get(key), theirs.get(key)
        if o == t:
            merged = o
        elif o == b:
            merged = t
        elif t == b:
            merged = o
        elif b is None or o is None or t is None:
            conflicts.add(key)
            merged = o
        else:
            cells = []
            for i in range(2):
                if o[i] == t[i] or t[i] == b[i]:
                    cells.append(o[i])
                elif o[i] == b[i]:
                    cells.append(t[i])
                else:
                    conflicts.add(key)
                    cells.append(o[i])
            merged = (cells[0], cells[1])
        if merged is not None:
            result[key] = merged
    return result, conflicts


def write(repo: Repo, rows: Rows, message: str) -> None:
    ids = sorted(rows)
    table = pa.table({"id": pa.array(ids, pa.int64()), "text": [rows[i][0] for i in ids], "label": [rows[i][1] for i in ids]})
    path = repo.root / PATH
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(".tmp.parquet")
    pq.write_table(table, tmp)
    os.replace(tmp, path)
    add(repo, [PATH, "cgit.toml"])
    commit(repo, message, allow_empty=True)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(edit, max_size=8), st.lists(edit, max_size=8))
def test_keyed_merge_matches_reference(ours_script: list[tuple[str, int, str, str]], theirs_script: list[tuple[str, int, str, str]]) -> None:
    base = {i: (f"t{i}", "a") for i in range(12)}
    ours, theirs = apply(base, ours_script), apply(base, theirs_script)
    expected, expected_conflicts = reference(base, ours, theirs)
    here = os.getcwd()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ.setdefault("CGIT_AUTHOR_NAME", "prop")
        os.environ.setdefault("CGIT_AUTHOR_EMAIL", "prop@example.com")
        repo = Repo.init(Path(tmp) / "r")
        (repo.root / "cgit.toml").write_text('[tables."data/sft/*"]\nkey = ["id"]\n')
        os.chdir(repo.root)
        try:
            write(repo, base, "base")
            create_branch(repo, "theirs")
            checkout(repo, "theirs")
            write(repo, theirs, "theirs")
            checkout(repo, "main")
            write(repo, ours, "ours")
            outcome = api.merge(repo, "theirs")
            got_conflicts: set[int] = set()
            if outcome.kind == "conflicts":
                for view in list_conflicts(repo):
                    assert view.rows is not None
                    got_conflicts |= set(view.rows.column("id").to_pylist())
            merged = pq.read_table(repo.root / PATH).to_pydict() if (repo.root / PATH).exists() else {"id": [], "text": [], "label": []}
        finally:
            os.chdir(here)
    got = {i: (t, l) for i, t, l in zip(merged["id"], merged["text"], merged["label"])}
    assert len(got) == len(merged["id"]), "a key appears twice in the merge result"
    assert got == expected
    assert got_conflicts == expected_conflicts
