"""What every test directory shares about running ``cgit``: the real typer app in-process (a
crash is a failed test, never an exit code), the two lines a refused command prints, a snapshot
of everything a refused or failed command must leave as it was, and an operator that fails
part-way through a run.

A plain module at the top of ``tests/`` (which has no ``__init__.py``): pytest puts ``tests/`` on
``sys.path`` for the root ``conftest.py``, so ``from clirun import cgit`` works from every test
directory, whether the whole suite or one directory is collected. Per-directory helper modules
keep only what is specific to them.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from typer.testing import CliRunner, Result

from corpusgit import Repo
from corpusgit.cli import app
from corpusgit.repo import CGIT_DIR

# -- the CLI in-process -----------------------------------------------------------------------------


def cgit(*args: str, code: int | None = 0, cwd: Path | None = None) -> Result:
    """Run ``cgit ARGS`` in-process (in ``cwd`` if given, else the current directory); stderr
    is kept apart from stdout. A crash (any exception but ``SystemExit``) raises an
    ``AssertionError`` naming the command; unless ``code`` is None the exit code must equal it."""
    with contextlib.chdir(cwd) if cwd is not None else contextlib.nullcontext():
        result = CliRunner().invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"cgit {' '.join(args)} crashed: {result.exception!r}\n{result.output}") from result.exception
    if code is not None:
        assert result.exit_code == code, f"cgit {' '.join(args)} exited {result.exit_code}, wanted {code}\n{result.output}"
    return result


def cgit_json(*args: str, cwd: Path | None = None) -> Any:
    """Run a verb with ``--json`` (it must succeed) and parse stdout, which must be JSON only."""
    return json.loads(cgit(*args, "--json", cwd=cwd).stdout)


class Refusal(NamedTuple):
    """What a refused command printed: its one ``error:`` line and its one ``hint:`` line."""

    error: str
    hint: str

    @property
    def stderr(self) -> str:
        """Both lines as printed, for checks that do not care which of the two says it."""
        return f"{self.error}\n{self.hint}\n"


def assert_error_report(stderr: str) -> Refusal:
    """Exactly one non-empty ``error:`` line then one non-empty ``hint:`` line; no traceback."""
    lines = stderr.rstrip("\n").split("\n")
    assert len(lines) == 2, f"want 'error:' + 'hint:' lines, got:\n{stderr}"
    assert lines[0].startswith("error: ") and len(lines[0]) > len("error: "), stderr
    assert lines[1].startswith("hint: ") and len(lines[1]) > len("hint: "), stderr
    assert "Traceback" not in stderr
    return Refusal(lines[0], lines[1])


def cgit_fails(*args: str, code: int | None = None, cwd: Path | None = None) -> Refusal:
    """Run a verb that must be refused: a non-zero exit (exactly ``code`` if given) and the
    ``error:`` + ``hint:`` report."""
    result = cgit(*args, code=code, cwd=cwd)
    assert result.exit_code != 0, f"cgit {' '.join(args)} should have failed\n{result.output}"
    return assert_error_report(result.stderr)


class Cli:
    """The same runner as an object, for fixtures: ``cli("add", ".")``, ``cli.json("log")``,
    ``cli.fails("log", "nosuch")``; ``cwd`` (default: the current directory) is where it runs."""

    def __init__(self, cwd: Path | None = None) -> None:
        self.cwd = cwd

    def __call__(self, *args: str, code: int | None = 0) -> Result:
        return cgit(*args, code=code, cwd=self.cwd)

    def json(self, *args: str) -> Any:
        return cgit_json(*args, cwd=self.cwd)

    def fails(self, *args: str, code: int | None = None) -> Refusal:
        return cgit_fails(*args, code=code, cwd=self.cwd)

    error_report = staticmethod(assert_error_report)


# -- what a refused or failed command must leave alone ----------------------------------------------

ALWAYS_SKIPPED = frozenset({"tmp"})  # .cgit/tmp: the object store's staging area, emptied by gc


@dataclass(frozen=True, slots=True)
class RepoSnapshot:
    """A repository by value: every work-tree file, link and directory, and every file under
    ``.cgit`` (objects, refs, logs, index, HEAD, config, caches) but the skipped ones. Files are
    compared by SHA-256; ``index`` and ``head`` are also kept whole for tests that read them."""

    files: dict[str, tuple[str, int]]  # work-tree file (links followed) -> (sha256, permission bits)
    links: dict[str, str]  # work-tree symbolic link -> its target
    dirs: frozenset[str]  # work-tree directories (links to directories included, not entered)
    cgit: dict[str, str]  # file under .cgit -> sha256
    index: bytes | None
    head: bytes


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(root: Path, skip: Collection[str] = ()) -> RepoSnapshot:
    """Capture the repository whose work tree is ``root``. ``skip`` names top-level entries of
    ``.cgit`` a refused command may legitimately write (``cache``); ``tmp`` is always skipped."""
    files: dict[str, tuple[str, int]] = {}
    links: dict[str, str] = {}
    dirs: set[str] = set()
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root)
        if rel.parts[0] == CGIT_DIR:
            continue
        if path.is_symlink():
            links[rel.as_posix()] = os.readlink(path)
        if path.is_dir():
            dirs.add(rel.as_posix())
        elif path.is_file():
            files[rel.as_posix()] = (_sha256(path), path.stat().st_mode & 0o777)
    cgit_dir = root / CGIT_DIR
    skipped = ALWAYS_SKIPPED | set(skip)
    cgit_files = {
        path.relative_to(cgit_dir).as_posix(): _sha256(path)
        for path in sorted(cgit_dir.rglob("*"))
        if path.is_file() and path.relative_to(cgit_dir).parts[0] not in skipped
    }
    index = cgit_dir / "index"
    return RepoSnapshot(files, links, frozenset(dirs), cgit_files, index.read_bytes() if index.exists() else None,
                        (cgit_dir / "HEAD").read_bytes())


@contextlib.contextmanager
def unchanged(root: Path, skip: Collection[str] = ()) -> Iterator[RepoSnapshot]:
    """``with unchanged(repo.root): ...``: the block must leave the repository as it found it
    (see ``snapshot``); yields the snapshot taken before."""
    before = snapshot(root, skip)
    yield before
    assert snapshot(root, skip) == before


# -- a run that fails part-way ----------------------------------------------------------------------

EXPLODING_OPERATOR = '''
from corpusgit.ops import MapOperator, NoConfig


class Explode(MapOperator[NoConfig]):
    """Fails on one document, like a tokenizer meeting bad input."""

    name = "explode"

    def apply(self, batch, rows):
        if {fail_on_id} in batch.column("id").to_pylist():
            raise RuntimeError("tokenizer crashed")
        return batch
'''


def commit_exploding_operator(repo: Repo, fail_on_id: int, toml: str = "") -> None:
    """Commit ``ops/explode.py``, a map operator ``explode`` that raises ``RuntimeError("tokenizer
    crashed")`` on the batch holding the row whose ``id`` is ``fail_on_id``, and a ``cgit.toml``
    (``toml`` first) that registers it."""
    (repo.root / "ops").mkdir()
    (repo.root / "ops/explode.py").write_text(EXPLODING_OPERATOR.format(fail_on_id=fail_on_id), encoding="utf-8")
    (repo.root / "cgit.toml").write_text(toml + '[operators]\npaths = ["ops/explode.py"]\n', encoding="utf-8")
    repo.add(["ops", "cgit.toml"])
    repo.commit("explode operator")
