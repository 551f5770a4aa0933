"""Merge bases: the best common ancestors of two commits.

With a criss-cross history there are several; like git's recursive strategy we then merge the
bases into a virtual base, so changes both sides already share are not seen as conflicts.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from corpusgit.objects import read_commit

if TYPE_CHECKING:
    from corpusgit.repo import Repo


def ancestors(repo: Repo, oid: str) -> set[str]:
    """``oid`` and everything reachable from it."""
    seen: set[str] = set()
    stack = [oid]
    while stack:
        cur = stack.pop()
        if cur in seen:
            continue
        seen.add(cur)
        stack.extend(read_commit(repo.store, cur).parents)
    return seen


def merge_bases(repo: Repo, a: str, b: str) -> list[str]:
    """Common ancestors that are not ancestors of another common ancestor, sorted by id."""
    common = ancestors(repo, a) & ancestors(repo, b)
    best = set(common)
    for oid in common:
        if oid in best:
            for parent in read_commit(repo.store, oid).parents:
                best -= ancestors(repo, parent) & best
    return sorted(best)


def is_ancestor(repo: Repo, ancestor: str, descendant: str) -> bool:
    return ancestor in ancestors(repo, descendant)
