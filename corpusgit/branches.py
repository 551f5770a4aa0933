"""Branches and tags."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from corpusgit.errors import BadInput, CorpusGitError
from corpusgit.refs import HEADS, TAGS, check_ref_name
from corpusgit.revparse import resolve_commit
from corpusgit.store.canonical import ObjectId

if TYPE_CHECKING:
    from corpusgit.repo import Repo


@dataclass(frozen=True, slots=True)
class RefInfo:
    name: str
    commit: ObjectId
    current: bool


def list_branches(repo: Repo) -> list[RefInfo]:
    current = repo.refs.head_target()
    return [RefInfo(n, oid, HEADS + n == current) for n, oid in repo.refs.list_refs(HEADS).items()]


def create_branch(repo: Repo, name: str, start: str = "HEAD", force: bool = False) -> ObjectId:
    check_ref_name(name)
    oid = resolve_commit(repo, start)
    old = repo.refs.read(HEADS + name)
    if old is not None and not force:
        raise BadInput(f"branch '{name}' already exists", hint=f"switch to it with 'cgit switch {name}', or pick another name")
    repo.refs.update(HEADS + name, oid, old, f"branch: created from {start}")
    return oid


def delete_branch(repo: Repo, name: str, force: bool = False) -> ObjectId:
    oid = repo.refs.read(HEADS + name)
    if oid is None:
        raise BadInput(f"branch '{name}' not found", hint="'cgit branch' lists branches")
    if repo.refs.head_target() == HEADS + name:
        raise BadInput(f"cannot delete branch '{name}': it is checked out", hint="switch to another branch first")
    head = repo.refs.head_commit()
    if not force and head is not None and not is_ancestor(repo, oid, head):
        raise CorpusGitError(f"branch '{name}' is not merged into HEAD", hint=f"use 'cgit branch -D {name}' to delete it anyway")
    repo.refs.update(HEADS + name, None, oid, "branch: deleted")
    return oid


def rename_branch(repo: Repo, old: str, new: str) -> None:
    check_ref_name(new)
    oid = repo.refs.read(HEADS + old)
    if oid is None:
        raise BadInput(f"branch '{old}' not found", hint="'cgit branch' lists branches")
    if repo.refs.read(HEADS + new) is not None:
        raise BadInput(f"branch '{new}' already exists", hint="pick another name")
    repo.refs.update(HEADS + new, oid, None, f"branch: renamed from {old}")
    if repo.refs.head_target() == HEADS + old:
        repo.refs.set_head_symbolic(HEADS + new, f"branch: renamed {old} to {new}")
    repo.refs.update(HEADS + old, None, oid, f"branch: renamed to {new}")


def list_tags(repo: Repo) -> dict[str, ObjectId]:
    return repo.refs.list_refs(TAGS)


def create_tag(repo: Repo, name: str, rev: str = "HEAD", force: bool = False) -> ObjectId:
    check_ref_name(name, "tag")
    oid = resolve_commit(repo, rev)
    old = repo.refs.read(TAGS + name)
    if old is not None and not force:
        raise BadInput(f"tag '{name}' already exists", hint="tags are meant to stay put; use -f to move it")
    repo.refs.update(TAGS + name, oid, old, f"tag: {rev}")
    return oid


def delete_tag(repo: Repo, name: str) -> None:
    oid = repo.refs.read(TAGS + name)
    if oid is None:
        raise BadInput(f"tag '{name}' not found", hint="'cgit tag' lists tags")
    repo.refs.update(TAGS + name, None, oid, "tag: deleted")


def is_ancestor(repo: Repo, ancestor: str, descendant: str) -> bool:
    from corpusgit.objects import read_commit

    stack, seen = [descendant], set()
    while stack:
        oid = stack.pop()
        if oid == ancestor:
            return True
        if oid in seen:
            continue
        seen.add(oid)
        stack.extend(read_commit(repo.store, oid).parents)
    return False
