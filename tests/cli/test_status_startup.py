"""``cgit status`` starts fast: ``main()`` answers it without typer, and a no-op status loads
neither typer, rich nor pyarrow (see ``corpusgit.cli``). Each run is a fresh interpreter, so
``sys.modules`` shows exactly what one ``cgit status`` imported; the fast path's output is
compared with the typer app's, byte for byte, in the states status reports on.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pytest
import typer.main
from clirun import assert_error_report

from corpusgit import Repo
from corpusgit.cli import _STATUS_FLAGS, _fast_status_args, app
from corpusgit.cli.status_view import plain_lines, render_status
from corpusgit.worktree import Status

if TYPE_CHECKING:
    from clirun import Cli

TIMEOUT = 120  # seconds per run; a run takes well under one, so only a hang reaches it
STARTUP_HEAVY = {"typer", "click", "pydantic", "rich"}  # the CLI framework: only for other verbs
DATA_HEAVY = {"pyarrow", "numpy", "pandas"}  # status never reads a table

# Runs cgit's console-script entry point, then lists the top-level packages it imported.
FAST = """
import json, sys
report, *args = sys.argv[1:]
sys.argv = ["cgit", *args]
from corpusgit.cli import main
try:
    main()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
with open(report, "w") as f:
    json.dump(sorted({name.partition(".")[0] for name in sys.modules}), f)
sys.exit(code)
"""
# The same arguments through the typer app, as every verb but status runs.
TYPER = """
import sys
sys.argv = ["cgit", *sys.argv[1:]]
from corpusgit.cli import app
app()
"""


@dataclass(frozen=True)
class Run:
    code: int
    stdout: str
    stderr: str
    modules: frozenset[str] = frozenset()


def run_fast(cwd: Path, report: Path, *args: str) -> Run:
    proc = subprocess.run([sys.executable, "-c", FAST, str(report), *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    return Run(proc.returncode, proc.stdout, proc.stderr, frozenset(json.loads(report.read_text())))


def run_typer(cwd: Path, *args: str) -> Run:
    proc = subprocess.run([sys.executable, "-c", TYPER, *args], cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT, check=False)
    return Run(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def tracked(repo: Repo, cli: Cli, make_table: Callable[..., pa.Table], write_parquet: Callable[..., Path]) -> Repo:
    """One committed table and one committed blob; the work tree matches HEAD."""
    write_parquet("data/part-0.parquet", make_table(rows=300, seed=0))
    (repo.root / "README.md").write_text("a corpus\n")
    cli("add", ".")
    cli("commit", "-m", "first")
    return repo


def make_dirty(repo: Repo, cli: Cli, make_table: Callable[..., pa.Table], write_parquet: Callable[..., Path]) -> None:
    """Every kind of change status lists, with names rich must render (':' and non-ASCII)."""
    write_parquet("data/part-1.parquet", make_table(rows=50, seed=2))
    cli("add", "data/part-1.parquet")
    write_parquet("data/part-0.parquet", make_table(rows=310, seed=0))
    (repo.root / "README.md").unlink()
    (repo.root / "new" / "deep").mkdir(parents=True)
    (repo.root / "new" / "deep" / "x.txt").write_text("x\n")
    (repo.root / "odd: námé.txt").write_text("y\n")


def test_no_op_status_imports_neither_the_cli_framework_nor_pyarrow(tracked: Repo, tmp_path: Path) -> None:
    report = tmp_path / "modules.json"
    for args, want in [
        (["status"], "On branch main\nnothing to commit, working tree clean\n"),
        (["status", "-s"], ""),
        (["--debug", "status", "--short"], ""),
    ]:
        run = run_fast(tracked.root, report, *args)
        assert (run.code, run.stdout, run.stderr) == (0, want, ""), args
        assert not run.modules & (STARTUP_HEAVY | DATA_HEAVY), (args, sorted(run.modules & (STARTUP_HEAVY | DATA_HEAVY)))
    run = run_fast(tracked.root, report, "status", "--json")
    assert run.code == 0 and json.loads(run.stdout)["clean"] is True
    assert not run.modules & (STARTUP_HEAVY - {"rich"} | DATA_HEAVY), sorted(run.modules)


def test_status_with_changes_never_imports_pyarrow(tracked: Repo, cli: Cli, make_table: Callable[..., pa.Table],
                                                   write_parquet: Callable[..., Path], tmp_path: Path) -> None:
    make_dirty(tracked, cli, make_table, write_parquet)
    for args in (["status"], ["status", "--json"], ["status", "-s"]):
        run = run_fast(tracked.root, tmp_path / "modules.json", *args)
        assert run.code == 0 and "part-1.parquet" in run.stdout, (args, run.stderr)
        assert not run.modules & (DATA_HEAVY | {"typer", "click", "pydantic"}), (args, sorted(run.modules))


ARGS = [["status"], ["status", "-s"], ["--debug", "status", "--short", "--json"]]


@pytest.mark.parametrize("state", ["no commits", "clean", "changes", "detached", "long branch name"])
def test_fast_path_prints_what_the_typer_app_prints(state: str, repo: Repo, cli: Cli, make_table: Callable[..., pa.Table],
                                                    write_parquet: Callable[..., Path], tmp_path: Path) -> None:
    if state != "no commits":
        write_parquet("data/part-0.parquet", make_table(rows=300, seed=0))
        (repo.root / "README.md").write_text("a corpus\n")
        cli("add", ".")
        cli("commit", "-m", "first")
    if state == "changes":
        make_dirty(repo, cli, make_table, write_parquet)
    elif state == "detached":
        cli("checkout", "--detach", "main")
    elif state == "long branch name":  # longer than a pipe's 160 columns: never wrapped
        cli("switch", "-c", "b" * 200)
    for args in ARGS:
        fast, slow = run_fast(repo.root, tmp_path / "modules.json", *args), run_typer(repo.root, *args)
        assert (fast.code, fast.stdout, fast.stderr) == (slow.code, slow.stdout, slow.stderr), args
        assert fast.code == 0, (args, fast.stderr)


def test_outside_a_repository_the_fast_path_reports_like_the_app(tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    cwd = tmp_path / "elsewhere"
    fast, slow = run_fast(cwd, tmp_path / "modules.json", "status"), run_typer(cwd, "status")
    assert (fast.code, fast.stdout, fast.stderr) == (slow.code, slow.stdout, slow.stderr)
    assert fast.code == 1 and fast.stdout == ""
    error, _ = assert_error_report(fast.stderr)
    assert "not a cgit repository" in error
    debug = run_fast(cwd, tmp_path / "modules.json", "--debug", "status")
    assert debug.code == 1 and "Traceback" in debug.stderr and "NotARepository" in debug.stderr


def test_fast_path_takes_only_the_arguments_it_knows() -> None:
    assert _fast_status_args(["status"]) == (False, False, False)
    assert _fast_status_args(["--debug", "--debug", "status", "-s", "--json", "--short"]) == (True, True, True)
    for args in ([], ["log"], ["status", "-h"], ["status", "--help"], ["--help", "status"], ["status", "--bogus"],
                 ["status", "extra"], ["status", "--"], ["status", "-sq"], ["status", "--json=1"], ["status", "--debug"]):
        assert _fast_status_args(args) is None, args


def test_fast_path_knows_the_status_command_options() -> None:
    """A new status option must reach the fast path (or at least not be shadowed by it)."""
    root = typer.main.get_command(app)
    command = root.commands["status"]  # type: ignore[attr-defined]
    assert {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)} == set(_STATUS_FLAGS)
    assert {opt for param in root.params for opt in (*param.opts, *param.secondary_opts)} == {"--debug"}


HEAD_ID = "0123456789abcdef" * 4


@pytest.mark.parametrize("short", [False, True])
@pytest.mark.parametrize("branch, head", [
    ("refs/heads/main", HEAD_ID),
    (None, HEAD_ID),  # detached
    ("refs/heads/main", None),  # no commits yet
    ("refs/heads/" + "b" * 300, HEAD_ID),  # wider than any console
    ("refs/heads/[bold]x[/bold]-<y>&'z'", HEAD_ID),  # markup is off
])
def test_plain_output_is_what_rich_prints(branch: str | None, head: str | None, short: bool, capsys: pytest.CaptureFixture[str]) -> None:
    st = Status(branch, head, [], [], [])
    render_status(st, short)
    lines = plain_lines(st, short)
    assert lines is not None
    assert "".join(line + "\n" for line in lines) == capsys.readouterr().out


@pytest.mark.parametrize("branch", ["refs/heads/:smile:", "refs/heads/tab\there", "refs/heads/naïve", "refs/heads/bell\x07"])
def test_text_rich_would_change_is_left_to_rich(branch: str) -> None:
    assert plain_lines(Status(branch, HEAD_ID, [], [], []), short=False) is None
    assert plain_lines(Status(branch, HEAD_ID, [], [], []), short=True) == []  # nothing to print at all


def test_anything_but_a_clean_tree_is_left_to_rich() -> None:
    assert plain_lines(Status("refs/heads/main", HEAD_ID, [], [], ["new.txt"]), short=True) is None
    assert plain_lines(Status("refs/heads/main", HEAD_ID, [], [], [], operation="merge"), short=False) is None
