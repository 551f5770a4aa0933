"""The docs stay true: the tutorial runs as written, and docs/cli.md matches the CLI.

Tutorial rules (docs/tutorial.md):
- every ```bash block holds one command per line; each line runs on its own
  (``subprocess.run(line, shell=True)``) in order, and must exit 0;
- a line ending in ``# expect-fail`` must exit non-zero;
- ``cd DIR`` lines change the directory later lines run in (each line is its own shell);
- a ```python, ```toml or ```yaml block preceded by ``<!-- file: NAME -->`` is saved as NAME
  in the current directory when the walk reaches it.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import pytest
import typer.main

from corpusgit.cli import app

DOCS = Path(__file__).resolve().parent.parent / "docs"
TUTORIAL = DOCS / "tutorial.md"
CLI_MD = DOCS / "cli.md"
EXPECT_FAIL = "# expect-fail"
FILE_LANGS = ("python", "toml", "yaml")  # blocks a file marker can save
LINE_TIMEOUT = 300  # seconds; the tutorial corpus is small, so a hang is a bug

_FENCE = re.compile(r"^```(\w*)\s*$")
_FILE_MARK = re.compile(r"^<!--\s*file:\s*([\w.\-/]+)\s*-->\s*$")


@dataclass(frozen=True)
class Step:
    kind: str  # "bash" (one command) or "file"
    text: str  # the command, or the file's content
    name: str = ""  # file name for "file" steps
    line: int = 0  # line number in tutorial.md, for failure messages


def parse_tutorial(markdown: str) -> list[Step]:
    """Bash commands and marked Python files, in document order."""
    steps: list[Step] = []
    lines = markdown.splitlines()
    pending_file: str | None = None
    i = 0
    while i < len(lines):
        mark = _FILE_MARK.match(lines[i].strip())
        if mark:
            pending_file = mark.group(1)
            i += 1
            continue
        fence = _FENCE.match(lines[i].strip())
        if not fence:
            if lines[i].strip():
                pending_file = None  # a file marker applies only to the block right after it
            i += 1
            continue
        lang, start = fence.group(1), i + 1
        end = start
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        body = lines[start:end]
        if lang == "bash":
            for k, raw in enumerate(body):
                command = raw.strip()
                if command and not command.startswith("#"):
                    steps.append(Step("bash", command, line=start + k + 1))
        elif lang in FILE_LANGS and pending_file:
            steps.append(Step("file", "\n".join(body) + "\n", name=pending_file, line=start))
        pending_file = None
        i = end + 1
    return steps


def tutorial_env(home: Path) -> dict[str, str]:
    """The venv's bin first on PATH (``cgit``, ``python``), a fixed author, no user config."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["CGIT_AUTHOR_NAME"] = "Tutorial Reader"
    env["CGIT_AUTHOR_EMAIL"] = "reader@example.com"
    env["XDG_CONFIG_HOME"] = str(home / "xdg")
    env["HOME"] = str(home)
    env["COLUMNS"] = "200"
    return env


def test_tutorial_parses_into_files_and_commands() -> None:
    steps = parse_tutorial(TUTORIAL.read_text(encoding="utf-8"))
    assert any(s.kind == "file" for s in steps), "tutorial has no <!-- file: --> python blocks"
    assert sum(s.kind == "bash" for s in steps) >= 20
    assert any(s.text.endswith(EXPECT_FAIL) for s in steps if s.kind == "bash")


def test_tutorial_runs(tmp_path: Path) -> None:
    env = tutorial_env(tmp_path)
    cwd = tmp_path
    for step in parse_tutorial(TUTORIAL.read_text(encoding="utf-8")):
        if step.kind == "file":
            (cwd / step.name).parent.mkdir(parents=True, exist_ok=True)
            (cwd / step.name).write_text(step.text, encoding="utf-8")
            continue
        command = step.text
        if re.fullmatch(r"cd\s+\S+", command):
            cwd = (cwd / command.split(None, 1)[1]).resolve()
            assert cwd.is_dir(), f"tutorial.md:{step.line}: {command}: no such directory"
            continue
        proc = subprocess.run(command, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=LINE_TIMEOUT)
        report = f"tutorial.md:{step.line}: `{command}` exited {proc.returncode}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr}"
        if command.endswith(EXPECT_FAIL):
            assert proc.returncode != 0, report
        else:
            assert proc.returncode == 0, report


def _load_generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_cli", DOCS / "gen_cli.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_up_to_date() -> None:
    expected = _load_generator().render()
    assert CLI_MD.read_text(encoding="utf-8") == expected, "docs/cli.md is stale: run `python docs/gen_cli.py`"


def _commands() -> list[tuple[str, object]]:
    return list(_load_generator().iter_commands(typer.main.get_command(app)))


@pytest.mark.parametrize("name", [name for name, _ in _commands()])
def test_every_command_has_help_and_is_documented(name: str) -> None:
    command = dict(_commands())[name]
    assert (getattr(command, "help", None) or "").strip(), f"`{name}` has no help text (give its function a docstring)"
    assert f"\n## {name}\n" in CLI_MD.read_text(encoding="utf-8"), f"`{name}` is missing from docs/cli.md"
