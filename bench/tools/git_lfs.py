"""Git LFS: `git add` (the clean filter stores each Parquet file in .git/lfs/objects) + commit.

Only a local repository: no LFS server is involved, so the growth of .git is what LFS and git
keep on this machine.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from edit_suite import Version
from tools.base import Timed, WorkTreeRunner
from tools.gitrepo import GitRepo

APT_TIMEOUT_SECONDS = 600


def install_git_lfs() -> str | None:
    """apt-get install git-lfs (root only); a reason when that is not possible."""
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        return "git-lfs is not installed and apt-get as root is not available"
    proc = subprocess.run(["apt-get", "install", "-y", "-q", "git-lfs"], capture_output=True,
                          text=True, timeout=APT_TIMEOUT_SECONDS, check=False)
    if proc.returncode != 0:
        return f"apt-get install git-lfs failed: {proc.stderr.strip()[-300:]}"
    return None


class GitLfsRunner(WorkTreeRunner):
    """git with `*.parquet` tracked by LFS; commits name the versions."""

    name = "Git LFS"
    storage = ".git/ (incl. .git/lfs/objects)"
    granularity = "file"
    checkout_means = "git checkout (smudge from .git/lfs/objects)"

    def setup(self, allow_install: bool) -> str | None:
        if shutil.which("git") is None:
            return "git is not installed"
        if shutil.which("git-lfs") is not None:
            return None
        if not allow_install:
            return "git-lfs is not installed (a run without --ci or --no-install installs it)"
        return install_git_lfs()

    def tool_version(self) -> str:
        return self.git.output("git", "lfs", "version")[1].strip()

    def init(self) -> None:
        self.git = GitRepo(self.tree, self.tree.parent / f"{self.tree.name}-home")
        self.git.run("init", "-q")
        self.git.run("lfs", "install", "--local")
        self.git.run("lfs", "track", "*.parquet")
        self.git.run("add", ".gitattributes")
        self.git.run("commit", "-q", "-m", "track parquet with lfs")
        self.commits: dict[int, str] = {}

    def add_commit(self, version: Version) -> float:
        return self.git.run("add", "-A", "data") + self.git.run("commit", "-q", "-m", version.name)

    def storage_dirs(self) -> list[Path]:
        return [self.tree / ".git"]

    def mark(self, version: Version) -> None:
        self.commits[version.index] = self.git.head()

    def diff(self, old: Version, new: Version) -> Timed:
        seconds, out = self.git.output("git", "diff", "--no-renames", "--name-status",
                                       self.commits[old.index],
                                       self.commits[new.index])
        statuses = [line.split("\t", 1)[0][:1] for line in out.splitlines() if line]
        return Timed(seconds, f"files +{statuses.count('A')} -{statuses.count('D')} "
                              f"~{statuses.count('M')}")

    def checkout(self, version: Version) -> Timed:
        return Timed(self.git.run("checkout", "-q", self.commits[version.index]))
