"""``why`` beyond the pipeline: created rows, dedup chains, in-place runs, and how rows are named."""

from __future__ import annotations

from pathlib import Path

import pytest
from lineagehelp import RAW, realtext

from corpusgit import Repo
from corpusgit.errors import BadInput
from corpusgit.lineage.graph import iter_runs, upstream
from corpusgit.lineage.run import Step, run_step
from corpusgit.lineage.why import why

SPLIT_OP = '''
import numpy as np
import pyarrow as pa
from corpusgit.ops import Derived, MapOperator, NoConfig


class Paragraphs(MapOperator[NoConfig]):
    """One row per sentence of English rows, plus a synthetic header row; Chinese rows go."""

    name = "sentences"

    def apply(self, batch, rows):
        ids, texts, parents = [-1], ["corpus header"], [-1]
        for i, (key, text, lang) in enumerate(zip(*(batch.column(c).to_pylist() for c in ("id", "text", "lang")))):
            if lang == "en":
                for n, sentence in enumerate(text.split(". ")):
                    ids.append(key * 1000 + n)
                    texts.append(sentence)
                    parents.append(i)
        return Derived(pa.record_batch({"id": ids, "text": texts}), np.array(parents))
'''


@pytest.fixture
def split_repo(corpus_repo: Repo) -> Repo:
    Path("ops").mkdir()
    Path("ops/sentences.py").write_text(SPLIT_OP, encoding="utf-8")
    Path("cgit.toml").write_text('[tables."data/*"]\nkey = ["id"]\n\n[operators]\npaths = ["ops/sentences.py"]\n', encoding="utf-8")
    run_step(corpus_repo, Step("sentences", RAW, "data/sentences/web.parquet", {}))
    return corpus_repo


def test_created_and_split_rows(split_repo: Repo) -> None:
    created = why(split_repo, "data/sentences/web.parquet", None, "-1")
    assert [e.kind for e in created.events] == ["created"] and created.events[0].operator == "sentences"
    split = why(split_repo, "data/sentences/web.parquet", None, "3001")  # second sentence of ENGLISH[3]
    assert [e.kind for e in split.events] == ["source", "modified"]
    assert split.events[0].table.path == RAW
    gone = why(split_repo, "data/sentences/web.parquet", None, "52")  # a Chinese row: no output points to it
    assert [e.kind for e in gone.events] == ["source", "dropped"] and gone.events[-1].rule is None


def test_dedup_chain_and_staged_runs(corpus_repo: Repo) -> None:
    run_step(corpus_repo, Step("dedup-exact", RAW, "data/a/web.parquet", {}))
    run_step(corpus_repo, Step("redact-pii", "data/a/web.parquet", "data/b/web.parquet", {}))
    report = why(corpus_repo, "data/b/web.parquet", None, str(realtext.EXACT_DUP_EN))
    dropped = report.events[-1]
    assert dropped.kind == "dropped" and dropped.rule == "duplicate" and dropped.commit is None  # not committed yet
    original = why(corpus_repo, "data/b/web.parquet", None, "0")
    assert dropped.duplicate_of == original.events[0].row


def test_in_place_run_that_changes_nothing_ends_the_walk(corpus_repo: Repo) -> None:
    run_step(corpus_repo, Step("filter-length", RAW, RAW, {}))  # keeps every row: same table id, same path
    root = upstream(corpus_repo, RAW, None)
    assert list(iter_runs(root)) == []
    assert [e.kind for e in why(corpus_repo, RAW, None, "5").events] == ["source"]


def test_row_naming(corpus_repo: Repo) -> None:
    run_step(corpus_repo, Step("sample", RAW, "data/s/web.parquet", {"fraction": 1.0}))
    by_key = why(corpus_repo, "data/s/web.parquet", None, "key:57")
    assert by_key.present and by_key.row is not None
    assert why(corpus_repo, "data/s/web.parquet", None, by_key.row).index == by_key.index
    assert why(corpus_repo, "data/s/web.parquet", None, f"index:{by_key.index}").row == by_key.row
    with pytest.raises(BadInput, match="does not fit column 'id'"):
        why(corpus_repo, "data/s/web.parquet", None, "not-a-number")
