"""Custom checks: a function in a work-tree file, an installed entry point, an external command."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

from corpusgit import Repo
from corpusgit.errors import BadInput
from corpusgit.quality.report import CheckResult, Report
from corpusgit.quality.runner import check_worktree

Stage = Callable[..., None]


def run(repo: Repo, toml: str) -> Report:
    (repo.root / "cgit.toml").write_text(toml, encoding="utf-8")
    report = check_worktree(repo)
    assert report is not None
    return report


def only(report: Report) -> CheckResult:
    (result,) = report.results
    return result


def test_python_function_in_a_file(repo: Repo, stage_table: Stage, corpus: Callable[..., pa.Table]) -> None:
    (repo.root / "checks").mkdir()
    (repo.root / "checks" / "scores.py").write_text(
        "import numpy as np\n"
        "from corpusgit.quality import Measure, Outcome\n\n"
        "def few_books(ctx):\n"
        "    sources = ctx.table.read(['source']).read_all().column('source').to_pylist()\n"
        "    rows = [i for i, s in enumerate(sources) if s == 'books']\n"
        "    return Outcome([Measure('books', len(rows), ctx.params['max_books'])], f'{len(rows)} books', rows=rows, column='text')\n"
    )
    stage_table(corpus(9))
    toml = '[hooks.pre-commit.books]\npython = "checks/scores.py:few_books"\nmax_books = {}\n'
    failed = only(run(repo, toml.format(1)))
    assert (failed.kind, failed.status, failed.message, failed.offending) == ("python", "fail", "3 books", 3)
    assert failed.samples[0].excerpt.startswith("Document 0 ")
    assert only(run(repo, toml.format(3))).status == "pass"
    (repo.root / "checks" / "scores.py").write_text("def few_books(ctx):\n    return 'yes'\n")
    wrong = only(run(repo, toml.format(3)))
    assert wrong.status == "error" and "must return corpusgit.quality.Outcome or a bool, not str" in wrong.message
    missing = only(run(repo, toml.replace("few_books", "nope").format(3)))
    assert missing.status == "error" and "has no function 'nope'" in missing.message


def test_entry_point_plugins(repo: Repo, stage_table: Stage, corpus: Callable[..., pa.Table], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    (site / "cgit_plugin_demo").mkdir(parents=True)
    (site / "cgit_plugin_demo" / "__init__.py").write_text(
        "from corpusgit.quality import BuiltinCheck, Measure, Outcome, Param\n\n"
        "def plain(ctx):\n"
        "    return Outcome(ok=ctx.table.num_rows >= ctx.params.get('min', 0), message='plain plugin')\n\n"
        "def _rows(ctx):\n"
        "    return Outcome([Measure('rows', ctx.table.num_rows, ctx.params['limit'])])\n\n"
        "STRICT = BuiltinCheck('strict-rows', 'rows under a limit', _rows, (Param('limit', 'int', 100),))\n"
    )
    dist = site / "cgit_plugin_demo-0.1.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: cgit-plugin-demo\nVersion: 0.1\n")
    (dist / "entry_points.txt").write_text("[corpusgit.checks]\nplain-rows = cgit_plugin_demo:plain\nstrict-rows = cgit_plugin_demo:STRICT\n")
    monkeypatch.syspath_prepend(str(site))
    stage_table(corpus(5))
    plain = only(run(repo, "[hooks.pre-commit.plain-rows]\nmin = 10\n"))
    assert (plain.kind, plain.status, plain.message) == ("plain-rows", "fail", "plain plugin")
    assert only(run(repo, "[hooks.pre-commit.strict-rows]\n")).status == "pass"
    assert only(run(repo, "[hooks.pre-commit.strict-rows]\nlimit = 3\n")).status == "fail"
    with pytest.raises(BadInput, match="hooks.pre-commit.strict-rows.limit must be a whole number"):
        run(repo, '[hooks.pre-commit.strict-rows]\nlimit = "x"\n')
    with pytest.raises(BadInput) as info:
        run(repo, "[hooks.pre-commit.plain-row]\n")
    assert "did you mean 'plain-rows'?" in (info.value.hint or "")


SCRIPT = """
import sys
import pyarrow.parquet as pq
path, name = sys.argv[1], sys.argv[2]
rows = pq.read_metadata(path).num_rows
print(f"{name}: {rows} rows")
sys.exit(0 if rows >= int(sys.argv[3]) else 3)
"""


def test_external_command_receives_the_table_path(repo: Repo, stage_table: Stage, corpus: Callable[..., pa.Table]) -> None:
    (repo.root / "tool.py").write_text(SCRIPT)
    stage_table(corpus(7))
    toml = '[hooks.pre-commit.ext]\ncommand = ["{python}", "tool.py", "{{path}}", "{{name}}", "{min}"]\n'
    ok = only(run(repo, toml.format(python=sys.executable, min=5)))
    assert (ok.kind, ok.status, ok.message) == ("command", "pass", "data/a.parquet: 7 rows")
    bad = only(run(repo, toml.format(python=sys.executable, min=50)))
    assert bad.status == "fail" and bad.measures[0].value == 3 and bad.message == "data/a.parquet: 7 rows"
    appended = only(run(repo, f'[hooks.pre-commit.ext]\ncommand = "{sys.executable} -c \'import sys; print(sys.argv[1].endswith(\\".parquet\\"))\'"\n'))
    assert appended.status == "pass" and appended.message == "True"


def test_external_command_failures_are_check_errors(repo: Repo, stage_table: Stage, corpus: Callable[..., pa.Table]) -> None:
    stage_table(corpus(3))
    missing = only(run(repo, '[hooks.pre-commit.ext]\ncommand = ["no-such-cgit-tool-xyz"]\n'))
    assert missing.status == "error" and missing.message == "command not found: no-such-cgit-tool-xyz"
    slow = only(run(repo, f'[hooks.pre-commit.ext]\ncommand = ["{sys.executable}", "-c", "import time; time.sleep(10)"]\ntimeout = 0.3\n'))
    assert slow.status == "error" and slow.message.startswith("command timed out after 0.3 s")


def test_commands_see_plain_files_directly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qcli: Any) -> None:
    import pyarrow.parquet as pq

    project = tmp_path / "plain"
    project.mkdir()
    pq.write_table(pa.table({"text": ["a", "b"]}), project / "shard.parquet")
    (project / "cgit.toml").write_text(f'[hooks.pre-commit.ext]\ncommand = ["{sys.executable}", "-c", "import sys; print(sys.argv[1])"]\n')
    monkeypatch.chdir(project)
    out = qcli("check", "shard.parquet", "--json")
    import json

    report = json.loads(out.stdout)
    assert report["results"][0]["message"] == str((project / "shard.parquet").resolve())
