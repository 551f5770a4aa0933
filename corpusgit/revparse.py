"""Revision syntax: ids and unique prefixes, branches, tags, HEAD/@, ``ref@{n}`` (the reflog),
``~n``, ``^n``, ``rev:path``."""

from __future__ import annotations

import difflib
import re
from typing import TYPE_CHECKING

from corpusgit.errors import RevisionNotFound
from corpusgit.objects import TABLE, read_commit, read_tree
from corpusgit.refs import HEADS, TAGS
from corpusgit.store.canonical import MIN_PREFIX, ObjectId, is_object_id

if TYPE_CHECKING:
    from corpusgit.repo import Repo
    from corpusgit.table.model import TableObject


_SUFFIX = re.compile(r"([~^])(\d*)")
_REFLOG = re.compile(r"(.*)@\{(\d+)\}")


def resolve_commit(repo: Repo, spec: str) -> ObjectId:
    """The commit id a revision names; unknown names get close suggestions."""
    base, ops = _split(spec)
    oid = _resolve_base(repo, base, spec)
    for op, num in ops:
        n = int(num) if num else 1
        commit = read_commit(repo.store, oid)
        if op == "~":
            for _ in range(n):
                if not commit.parents:
                    raise RevisionNotFound(f"revision '{spec}' goes past the first commit", hint=f"'{base}' has fewer ancestors")
                oid = commit.parents[0]
                commit = read_commit(repo.store, oid)
        elif n:
            if n > len(commit.parents):
                raise RevisionNotFound(f"revision '{spec}': commit {oid[:12]} has {len(commit.parents)} parent(s)", hint="use ^1 for the first parent")
            oid = commit.parents[n - 1]
    return oid


def _split(spec: str) -> tuple[str, list[tuple[str, str]]]:
    i = len(spec)
    while i > 0 and (spec[i - 1].isdigit() or spec[i - 1] in "~^"):
        i -= 1
    base, tail = spec[:i], spec[i:]
    while tail and tail[0].isdigit():  # digits belong to the base (e.g. tag 'v1')
        base, tail = base + tail[0], tail[1:]
    ops = _SUFFIX.findall(tail)
    if "".join(a + b for a, b in ops) != tail or not base:
        raise RevisionNotFound(f"cannot parse revision '{spec}'", hint="examples: HEAD~2, main^, v1, 3f2a9c")
    return base, ops


def _resolve_base(repo: Repo, base: str, spec: str) -> ObjectId:
    reflog = _REFLOG.fullmatch(base)
    if reflog is not None:
        return _from_reflog(repo, reflog.group(1), int(reflog.group(2)), spec)
    if base in ("HEAD", "@"):
        head = repo.refs.head_commit()
        if head is None:
            raise RevisionNotFound("HEAD does not point to a commit yet", hint="make the first commit with 'cgit commit -m ...'")
        return head
    for name in (base, HEADS + base, TAGS + base):
        if name.startswith("refs/"):
            oid = repo.refs.read(name)
            if oid:
                return oid
    if len(base) >= MIN_PREFIX and all(c in "0123456789abcdef" for c in base):
        matches = [ObjectId(base)] if is_object_id(base) and repo.store.has(base) else _prefix_matches(repo, base)
        kinds = {m: _kind(repo, m) for m in matches}
        commits = [m for m, kind in kinds.items() if kind == "commit"]
        if len(commits) == 1:
            return commits[0]
        if len(commits) > 1:
            raise RevisionNotFound(f"short id '{base}' is ambiguous ({len(commits)} commits)", hint="use more characters")
        if kinds:
            what = " or ".join(sorted(set(kinds.values())))
            raise RevisionNotFound(f"'{base}' names a {what}, not a commit", hint="give a commit id, branch or tag; 'cgit log' lists commits")
    raise RevisionNotFound(f"unknown revision '{spec}'", hint=_suggest(repo, base))


def _from_reflog(repo: Repo, name: str, n: int, spec: str) -> ObjectId:
    """``name@{n}``: the value ``name`` had ``n`` moves ago (``@{n}`` alone means HEAD's)."""
    ref = "HEAD" if name in ("", "HEAD", "@") else name if name.startswith("refs/") else HEADS + name
    if ref != "HEAD" and repo.refs.read(ref) is None and not repo.refs.reflog(ref):
        raise RevisionNotFound(f"unknown revision '{spec}': no branch '{name}'", hint=_suggest(repo, name))
    values = [e.new for e in repo.refs.reflog(ref) if e.new]
    if n >= len(values):
        raise RevisionNotFound(f"revision '{spec}': the reflog of {name or 'HEAD'} has only {len(values)} entries", hint=f"'cgit reflog {name or 'HEAD'}' lists them")
    return ObjectId(values[-1 - n])


def _kind(repo: Repo, oid: ObjectId) -> str:
    """An object's type; blobs and chunks are not metadata, and decoding them would fail."""
    if not repo.store.is_meta(oid):
        return "data object (blob or chunk)"
    return str(repo.store.get_meta(oid).get("type"))


def _prefix_matches(repo: Repo, prefix: str) -> list[ObjectId]:
    fan = repo.store.root / prefix[:2]
    if not fan.is_dir():
        return []
    rest = prefix[2:]
    return [ObjectId(prefix[:2] + p.name) for p in fan.iterdir() if p.name.startswith(rest)]


def _suggest(repo: Repo, name: str) -> str:
    names = ["HEAD", *repo.refs.list_refs(HEADS), *repo.refs.list_refs(TAGS)]
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5)
    if close:
        return "did you mean " + " or ".join(f"'{c}'" for c in close) + "?"
    listed = ", ".join(names[:8])
    return f"known names: {listed}" if listed else "the repository has no commits yet"


def split_path_spec(spec: str) -> tuple[str, str]:
    """``rev:path`` -> (rev, path); an empty revision (``:path``) means HEAD."""
    rev, sep, path = spec.partition(":")
    if not sep or not path:
        raise RevisionNotFound(f"'{spec}' is not of the form REV:PATH", hint="for example: HEAD:data/web/part-0001.parquet")
    return rev or "HEAD", path.strip("/")


def resolve_entry(repo: Repo, rev: str, path: str) -> tuple[ObjectId, str]:
    """(object id, kind) of ``path`` in revision ``rev``."""
    commit = read_commit(repo.store, resolve_commit(repo, rev))
    tree = read_tree(repo.store, commit.tree, needed_by=f"commit {resolve_commit(repo, rev)[:12]}")
    entry = tree.entries.get(path)
    if entry is None:
        close = difflib.get_close_matches(path, list(tree.entries), n=3, cutoff=0.6)
        hint = ("did you mean " + " or ".join(f"'{c}'" for c in close) + "?") if close else f"'cgit show {rev}' lists the files"
        raise RevisionNotFound(f"path '{path}' does not exist in '{rev}'", hint=hint)
    return entry.id, entry.kind


def resolve_table(repo: Repo, rev: str, path: str) -> TableObject:
    from corpusgit.table.model import TableObject

    oid, kind = resolve_entry(repo, rev, path)
    if kind != TABLE:
        raise RevisionNotFound(f"'{rev}:{path}' is a {kind}, not a table", hint="tables are Parquet files")
    return TableObject.from_json(repo.store.get_meta(oid, needed_by=f"{rev}:{path}"))
