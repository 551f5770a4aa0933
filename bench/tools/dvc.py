"""DVC with a local cache: `dvc add data` + `git add data.dvc` + `git commit`.

DVC tracks the directory as a whole: its cache keeps each distinct file once (by MD5), and a
small .dir manifest per version lists the files.
"""

from __future__ import annotations

import json
from pathlib import Path

from edit_suite import Version
from tools.base import Timed, WorkTreeRunner, ensure_venv
from tools.gitrepo import GitRepo

REQUIREMENTS = ["dvc==3.67.1"]


class DvcRunner(WorkTreeRunner):
    """DVC 3 in bench/.venvs/dvc; git commits name the versions."""

    name = "DVC"
    storage = ".dvc/ + .git/"
    granularity = "file"
    checkout_means = "git checkout + dvc checkout (files copied from the cache)"

    def setup(self, allow_install: bool) -> str | None:
        python, reason = ensure_venv("dvc", REQUIREMENTS, allow_install)
        self.bin = python.parent if python else None
        return reason

    def tool_version(self) -> str:
        assert self.bin is not None
        return self.git.output(str(self.bin / "dvc"), "--version")[1].strip()

    def init(self) -> None:
        assert self.bin is not None
        self.git = GitRepo(self.tree, self.tree.parent / f"{self.tree.name}-home", self.bin)
        self.git.env["DVC_NO_ANALYTICS"] = "1"
        self.dvc = str(self.bin / "dvc")
        self.git.run("init", "-q")
        self.git.tool(self.dvc, "init", "-q")
        self.git.tool(self.dvc, "config", "core.analytics", "false")
        self.git.tool(self.dvc, "config", "core.check_update", "false")
        self.git.run("add", ".dvc")
        self.git.run("commit", "-q", "-m", "dvc init")
        self.commits: dict[int, str] = {}

    def add_commit(self, version: Version) -> float:
        seconds = self.git.tool(self.dvc, "add", "-q", "data")
        seconds += self.git.run("add", "data.dvc", ".gitignore")
        return seconds + self.git.run("commit", "-q", "-m", version.name)

    def storage_dirs(self) -> list[Path]:
        return [self.tree / ".dvc", self.tree / ".git"]

    def mark(self, version: Version) -> None:
        self.commits[version.index] = self.git.head()

    def diff(self, old: Version, new: Version) -> Timed:
        seconds, out = self.git.output(self.dvc, "diff", "--json", self.commits[old.index],
                                       self.commits[new.index])
        report = json.loads(out or "{}")
        counts = {kind: sum(1 for e in report.get(kind, []) if not e["path"].endswith(("/", "\\")))
                  for kind in ("added", "deleted", "modified")}
        return Timed(seconds, f"files +{counts['added']} -{counts['deleted']} "
                              f"~{counts['modified']}")

    def checkout(self, version: Version) -> Timed:
        seconds = self.git.run("checkout", "-q", self.commits[version.index])
        return Timed(seconds + self.git.tool(self.dvc, "checkout", "-q", "--force"))
