"""``cgit diff`` forms: work tree vs index, index vs a revision, a revision vs the work tree, A vs B."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING

from corpusgit.diff.trees import FileDiff, Side, diff_sides, index_side, resolve_sides, revision_side, worktree_side
from corpusgit.progress import NULL_PROGRESS, Progress

if TYPE_CHECKING:
    from corpusgit.repo import Repo


@contextmanager
def diff(
    repo: Repo,
    revs: list[str],
    staged: bool = False,
    paths: list[str] | None = None,
    progress: Progress = NULL_PROGRESS,
    by_path: bool = False,
) -> Iterator[list[FileDiff]]:
    """Yield the diffs; inside the block, work-tree versions stay readable for sample rows.

    Tables are compared per dataset (rows moving between shards are moved, not removed and
    added) unless ``by_path``; see ``diff_sides``.
    """
    old_name, new_name = resolve_sides(repo, revs, staged)
    with ExitStack() as stack:
        sides = [_side(repo, name, stack, progress) for name in (old_name, new_name)]
        yield diff_sides(repo, sides[0], sides[1], paths, progress, by_path)


def _side(repo: Repo, name: str, stack: ExitStack, progress: Progress) -> Side:
    if name == ":index":
        return index_side(repo)
    if name == ":worktree":
        return stack.enter_context(worktree_side(repo, progress))
    return revision_side(repo, name)
