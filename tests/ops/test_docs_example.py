"""The operator written out in docs/operators.md works as a local operator, as the page says."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from corpusgit import Repo
from corpusgit.add import add
from corpusgit.history import commit
from corpusgit.lineage.run import Step, run_step

DOC = Path(__file__).resolve().parents[2] / "docs" / "operators.md"


def test_documented_operator_runs_from_cgit_toml(repo: Repo, write_parquet: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    match = re.search(r"<!-- file: (\S+) -->\n```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert match is not None, "docs/operators.md lost its example operator"
    name, source = match.groups()
    (repo.root / name).parent.mkdir(parents=True, exist_ok=True)
    (repo.root / name).write_text(source, encoding="utf-8")
    (repo.root / "cgit.toml").write_text(f'[operators]\npaths = ["{name}"]\n', encoding="utf-8")
    menu = "\n".join(["Home", "News", "About us", "Contact"])
    prose = "This line is long enough to read like a sentence of real prose.\nAnd so is this one, which follows it."
    write_parquet("data/raw/a.parquet", pa.table({"text": [menu, prose]}))
    monkeypatch.chdir(repo.root)
    add(repo, ["data/raw/a.parquet"])
    commit(repo, "raw")
    result = run_step(repo, Step("keep-long-lines", "data/raw/a.parquet", "data/long/a.parquet", {}))
    assert result.record.stats["dropped_by_rule"] == {"short_lines": 1}
    assert repo.read_index().entries["data/long/a.parquet"].rows == 1
