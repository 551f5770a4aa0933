"""From a spec to a mix object: refs to commits, paths to tables, columns and filters checked.

Everything here reads only metadata (commits, trees, table objects), so a bad spec is refused in
well under a second, before the long scan over the data starts.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa

from corpusgit.errors import BadInput, RevisionNotFound
from corpusgit.mix.counting import rule_identity
from corpusgit.mix.model import MixObject, MixSource
from corpusgit.mix.spec import MixSpec, SourceSpec
from corpusgit.objects import TABLE
from corpusgit.refs import HEADS
from corpusgit.store.canonical import ObjectId
from corpusgit.table.model import TableObject

if TYPE_CHECKING:
    from corpusgit.repo import Repo


@dataclass(frozen=True, slots=True)
class Resolved:
    """The mix object plus the table objects of each source (in the mix's source order)."""

    mix: MixObject
    tables: tuple[tuple[TableObject, ...], ...]


def resolve_spec(repo: Repo, spec: MixSpec) -> Resolved:
    """Resolve refs and paths and check columns, types and filters against the tables."""
    sources: list[MixSource] = []
    tables: list[tuple[TableObject, ...]] = []
    for s in spec.sources:
        commit = _resolve_ref(repo, s)
        found = _source_tables(repo, s, commit)
        loaded = tuple(TableObject.from_json(repo.store.get_meta(oid, needed_by=f"{s.ref}:{p}")) for p, oid in found)
        sources.append(MixSource(s.name, s.path, s.ref, commit, found, s.weight,
                                 s.filter.canonical() if s.filter else None, s.max_epochs))
        tables.append(loaded)
    columns = output_columns(spec, sources, tables)
    for s, src, source_tables in zip(spec.sources, sources, tables):
        for (path, _), table in zip(src.tables, source_tables):
            _check_filter(s, path, table.schema)
    mix = MixObject(tuple(sources), spec.seed, spec.budget_unit, spec.budget, rule_identity(spec.count),
                    spec.text_column, columns, spec.shard_rows, spec.block_bytes, spec.window_blocks)
    return Resolved(mix, tuple(tables))


def _resolve_ref(repo: Repo, s: SourceSpec) -> ObjectId:
    from corpusgit.revparse import resolve_commit

    try:
        return resolve_commit(repo, s.ref)
    except RevisionNotFound as exc:
        branches = list(repo.refs.list_refs(HEADS))
        close = difflib.get_close_matches(s.ref, branches, n=3, cutoff=0.4)
        listed = close or branches[:8]
        hint = ("did you mean " + " or ".join(f"'{b}'" for b in listed) + "?") if close else (
            "branches: " + ", ".join(listed) if listed else exc.hint or "commit something first")
        raise RevisionNotFound(f"source '{s.name}': ref '{s.ref}' does not resolve ({exc.message})", hint=hint) from None


def _source_tables(repo: Repo, s: SourceSpec, commit: ObjectId) -> tuple[tuple[str, ObjectId], ...]:
    """The table at ``path``, or every table under the directory ``path``, in path order."""
    from corpusgit.history import tree_of

    tree = tree_of(repo, commit)
    exact = tree.get(s.path)
    if exact is not None:
        if exact[0] != TABLE:
            raise BadInput(f"source '{s.name}': {s.path} at {s.ref} is a {exact[0]}, not a table", hint="sources are Parquet tables or directories of them")
        return ((s.path, exact[1]),)
    prefix = s.path + "/"
    found = tuple(sorted((p, oid) for p, (kind, oid) in tree.items() if p.startswith(prefix) and kind == TABLE))
    if not found:
        dirs = {p.rsplit("/", 1)[0] for p, (kind, _) in tree.items() if kind == TABLE and "/" in p}
        close = difflib.get_close_matches(s.path, sorted(dirs | {p for p, (k, _) in tree.items() if k == TABLE}), n=3, cutoff=0.5)
        hint = ("did you mean " + " or ".join(f"'{c}'" for c in close) + "?") if close else f"'cgit show {s.ref}' lists the files"
        raise BadInput(f"source '{s.name}': no table at or under '{s.path}' in {s.ref} ({commit[:12]})", hint=hint)
    return found


def output_columns(spec: MixSpec, sources: list[MixSource], tables: list[tuple[TableObject, ...]]) -> tuple[str, ...]:
    """The columns every sample carries: as listed, or those common to every table, which must
    agree in type (a mix is one table, so ``id`` cannot be int here and string there)."""
    schemas = [(src.name, p, t.schema) for src, ts in zip(sources, tables) for (p, _), t in zip(src.tables, ts)]
    first = schemas[0][2]
    wanted = list(spec.columns) if spec.columns is not None else [n for n in first.names if all(n in s.names for _, _, s in schemas)]
    if spec.text_column not in wanted:
        wanted.append(spec.text_column)
    for name in wanted:
        types: dict[str, str] = {}
        for source, path, schema in schemas:
            if name not in schema.names:
                close = difflib.get_close_matches(name, schema.names, n=1)
                what = "text_column" if name == spec.text_column else "column"
                raise BadInput(f"source '{source}': {path} has no {what} '{name}'",
                               hint=f"did you mean '{close[0]}'?" if close else f"its columns are: {', '.join(schema.names)}")
            types.setdefault(str(schema.field(name).type), f"{source}:{path}")
        if len(types) > 1:
            (t1, w1), (t2, w2) = list(types.items())[:2]
            raise BadInput(f"column '{name}' is {t1} in {w1} but {t2} in {w2}", hint="cast the column to one type, or leave it out with 'columns:'")
    text_type = first.field(spec.text_column).type
    if not (pa.types.is_string(text_type) or pa.types.is_large_string(text_type)):
        raise BadInput(f"text_column '{spec.text_column}' is {text_type}, not text", hint="name the column that holds the documents with text_column:")
    return tuple(wanted)


def _check_filter(s: SourceSpec, path: str, schema: pa.Schema) -> None:
    """Compile and run the filter on zero rows, so type errors surface before the scan."""
    if s.filter is None:
        return
    for name in sorted(s.filter.columns()):
        if name not in schema.names:
            close = difflib.get_close_matches(name, schema.names, n=1)
            raise BadInput(f"filter of source '{s.name}' uses column '{name}', which {path} does not have",
                           hint=f"did you mean '{close[0]}'?" if close else f"its columns are: {', '.join(schema.names)}")
    empty = schema.empty_table()
    try:
        empty.filter(s.filter.compile())
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise BadInput(f"filter of source '{s.name}' cannot run on {path}: {str(exc).splitlines()[0]}",
                       hint="compare columns with values of their type (strings in quotes, numbers bare)") from None
