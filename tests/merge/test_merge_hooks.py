"""Merges into a protected branch run its required checks, fast-forward or not."""

from __future__ import annotations

from collections.abc import Callable

import pyarrow as pa
import pytest

from corpusgit import Repo
from corpusgit.branches import create_branch
from corpusgit.checkout import checkout
from corpusgit.errors import QualityCheckFailed
from corpusgit.history import commit
from corpusgit.add import add
from corpusgit.merge import api

PATH = "data/sft/rows.parquet"
PROTECTED = '[tables."data/sft/*"]\nkey = ["id"]\n\n[branches.main]\nrequire = ["pii"]\n'


def rows(texts: list[str]) -> pa.Table:
    return pa.table({"id": list(range(len(texts))), "text": texts, "label": ["a"] * len(texts)})


@pytest.mark.parametrize("no_ff", [False, True])
def test_required_check_blocks_merge_into_protected_branch(keyed_repo: Repo, write_parquet: Callable[..., object], no_ff: bool) -> None:
    (keyed_repo.root / "cgit.toml").write_text(PROTECTED)
    write_parquet(PATH, rows(["clean text", "more clean text"]))
    add(keyed_repo, [PATH, "cgit.toml"])
    commit(keyed_repo, "clean base")
    create_branch(keyed_repo, "feature")
    checkout(keyed_repo, "feature")
    write_parquet(PATH, rows(["clean text", "write to leak@example.com today"]))
    add(keyed_repo, [PATH])
    commit(keyed_repo, "leaks an email", no_verify=True)
    checkout(keyed_repo, "main")
    head = keyed_repo.refs.head_commit()
    index_before = {p: (e.kind, e.id) for p, e in keyed_repo.read_index().entries.items()}
    with pytest.raises(QualityCheckFailed):
        api.merge(keyed_repo, "feature", no_ff=no_ff)
    if no_ff:
        api.merge_abort(keyed_repo)
    assert keyed_repo.refs.head_commit() == head
    assert {p: (e.kind, e.id) for p, e in keyed_repo.read_index().entries.items()} == index_before
    with pytest.raises(QualityCheckFailed):
        api.merge(keyed_repo, "feature", no_ff=no_ff, no_verify=True)  # required checks cannot be skipped
    if no_ff:
        api.merge_abort(keyed_repo)
    assert keyed_repo.refs.head_commit() == head
