"""Oxen's Python API (package oxenai) on a local repository, served to bench/tools/oxen.py.

Runs inside bench/.venvs/oxen. Oxen has no tags in its Python API, so each version is named
by a branch created at its commit (and the work continues on the main branch).
"""

from __future__ import annotations

import os
from importlib.metadata import version as package_version
from typing import Any

import oxen
from serve import serve, timed

STATUS_COLUMN = "_oxen_diff_status"  # per-row status in a tabular diff's result
state: dict[str, Any] = {}


def init(root: str, name: str, email: str) -> dict[str, Any]:
    """Configure the (private) user and create the repository.

    The worker then works from the repository root: oxen.diff only finds a path in a revision
    when it is given relative to the current directory.
    """
    oxen.user.config_user(name, email)
    os.chdir(root)
    repo = oxen.Repo(root)
    repo.init()
    state.update(root=root, repo=repo, main=None, commits={})
    return {}


def version() -> str:
    """The installed oxenai version."""
    return package_version("oxenai")


def commit(message: str) -> dict[str, Any]:
    """`add data` (stages new, changed and deleted files) + commit."""
    repo = state["repo"]

    def add_commit() -> None:
        repo.add(os.path.join(state["root"], "data"))
        repo.commit(message)

    return timed(add_commit)


def mark(index: int) -> dict[str, Any]:
    """A branch v<index> at the current commit; stay on the main branch."""
    repo = state["repo"]
    if state["main"] is None:
        state["main"] = repo.current_branch.name
    state["commits"][index] = repo.log()[0].id
    repo.checkout(f"v{index}", create=True)
    repo.checkout(state["main"])
    return {}


def diff(old: int, new: int, paths: list[str]) -> dict[str, Any]:
    """Tabular diff keyed by id of every shard present in both versions (Oxen diffs per file)."""
    counts: dict[str, int] = {}
    left, right = state["commits"][old], state["commits"][new]

    def run() -> None:
        for path in paths:
            result = oxen.diff(path, repo_dir=".", revision_left=left, revision_right=right,
                               keys=["id"])
            if result.format != "tabular":
                raise RuntimeError(f"oxen diff of {path} is {result.format}, not tabular")
            frame = result.tabular.data
            for status, count in frame[STATUS_COLUMN].value_counts().iter_rows():
                counts[status] = counts.get(status, 0) + count

    reply = timed(run)
    reply["detail"] = (f"{len(paths)} shared files; rows +{counts.get('added', 0):,} "
                       f"-{counts.get('removed', 0):,} ~{counts.get('modified', 0):,}")
    return reply


def checkout(index: int) -> dict[str, Any]:
    """Switch the work tree to the branch naming that version."""
    return timed(lambda: state["repo"].checkout(f"v{index}"))


if __name__ == "__main__":
    serve({"init": init, "version": lambda: {"version": version()}, "commit": commit,
           "mark": mark, "diff": diff, "checkout": checkout})
