"""``schema``: required columns (and their types), and no unexpected change against the parent."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from corpusgit.quality.api import BuiltinCheck, CheckContext, Measure, Outcome, Param


def type_name(t: Any) -> str:
    """The name ``cgit.toml`` uses for a type: the canonical JSON name (``float64``, ``string``)."""
    from corpusgit.store.canonical import canonical_json
    from corpusgit.table.schema import canonical_type, type_to_json

    doc = type_to_json(canonical_type(t))
    return doc if isinstance(doc, str) else canonical_json(doc).decode()


def run(ctx: CheckContext) -> Outcome:
    schema = ctx.table.schema
    have = {f.name: type_name(f.type) for f in schema}
    aliases = {f.name: str(f.type) for f in schema}  # pyarrow's spelling (double, large_string) works too
    problems: list[str] = []
    required: Mapping[str, str] = ctx.params["required"]
    bad_required = 0
    for name, want in required.items():
        if name not in have:
            problems.append(f"missing column {name!r}")
            bad_required += 1
        elif want and want not in (have[name], aliases[name]):
            problems.append(f"column {name!r} is {have[name]}, expected {want}")
            bad_required += 1
    measures = [Measure("missing or mistyped required columns", bad_required, 0)]
    if ctx.parent is not None:
        old = {f.name: type_name(f.type) for f in ctx.parent.schema}
        added = [c for c in have if c not in old]
        removed = [c for c in old if c not in have]
        retyped = [c for c in have if c in old and have[c] != old[c]]
        for names, allowed, what in ((added, ctx.params["allow_new_columns"], "new"), (removed, ctx.params["allow_removed_columns"], "removed")):
            if names:
                problems.append(f"{what} column(s) {', '.join(names)} vs parent")
            measures.append(Measure(f"{what} columns vs parent", len(names), None if allowed else 0))
        if retyped:
            problems.append("type changed vs parent: " + ", ".join(f"{c} {old[c]} -> {have[c]}" for c in retyped))
        measures.append(Measure("type changes vs parent", len(retyped), None if ctx.params["allow_type_changes"] else 0))
    return Outcome(measures, "; ".join(problems) or f"{len(have)} columns as expected",
                   hint="update the data, or the schema rules in cgit.toml if the change is intended")


CHECK = BuiltinCheck(
    "schema",
    "required columns and types; no unexpected schema change vs the parent",
    run,
    (
        Param("required", "schema", {}, 'columns that must exist: ["id", "text"] or { text = "string", id = "int64" }'),
        Param("allow_new_columns", "bool", True, "accept columns the parent did not have"),
        Param("allow_removed_columns", "bool", False, "accept dropping columns the parent had"),
        Param("allow_type_changes", "bool", False, "accept a column changing type"),
    ),
)
