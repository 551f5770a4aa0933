"""A git work tree for the runners built on git (DVC, Git LFS), isolated from the machine's
git configuration so that results do not depend on whoever runs them."""

from __future__ import annotations

import os
from pathlib import Path

from tools.base import IDENTITY, run_output, run_timed


class GitRepo:
    """Runs git (and tools that call git, like dvc) in one work tree with a private HOME."""

    def __init__(self, root: Path, home: Path, extra_path: Path | None = None) -> None:
        self.root = root
        home.mkdir(parents=True, exist_ok=True)
        path = os.environ.get("PATH", "")
        self.env = {**os.environ, **IDENTITY, "HOME": str(home), "GIT_CONFIG_NOSYSTEM": "1",
                    "PATH": f"{extra_path}:{path}" if extra_path else path}

    def run(self, *args: str) -> float:
        """`git ARGS`; seconds."""
        return run_timed(["git", *args], self.root, self.env)

    def tool(self, *command: str) -> float:
        """Another command in this tree and environment (dvc, git lfs); seconds."""
        return run_timed(list(command), self.root, self.env)

    def output(self, *command: str) -> tuple[float, str]:
        """A command's seconds and stdout."""
        return run_output(list(command), self.root, self.env)

    def head(self) -> str:
        """The commit HEAD points at."""
        return self.output("git", "rev-parse", "HEAD")[1].strip()
