"""``row-delta``: how many rows a step removed (or added) against the parent version.

Rows are matched by ``_cgit_row``: a modified row counts as one removed and one added, which
is what a reviewer of a cleaning step wants to see (the old row is gone from the corpus).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from corpusgit.quality.api import BuiltinCheck, CheckContext, Measure, Outcome, Param
from hooks.common import ratio

if TYPE_CHECKING:
    from corpusgit.quality.facts import Fact


def needs(params: Mapping[str, Any], columns: Sequence[str]) -> list[Fact]:
    from corpusgit.quality.facts import Fact

    return [Fact("rowhash")]


def run(ctx: CheckContext) -> Outcome:
    from hooks.duplicates import rows_also_in

    measures = []
    if ctx.params["min_rows"] is not None:
        measures.append(Measure("rows", ctx.table.num_rows, ctx.params["min_rows"], ">="))
    if ctx.parent is None:
        if measures:
            return Outcome(measures, f"{ctx.table.num_rows:,} rows; no parent version to compare with")
        return Outcome(skipped="no parent version to compare with")
    removed = int((~rows_also_in(ctx.parent, ctx.table)).sum())
    added = int((~rows_also_in(ctx.table, ctx.parent)).sum())
    measures.append(Measure("removed rows vs parent", ratio(removed, ctx.parent.num_rows), ctx.params["max_removed_ratio"]))
    if ctx.params["max_added_ratio"] is not None:
        measures.append(Measure("added rows vs parent", ratio(added, ctx.parent.num_rows), ctx.params["max_added_ratio"]))
    return Outcome(measures, f"{ctx.parent.num_rows:,} -> {ctx.table.num_rows:,} rows: {removed:,} removed, {added:,} added",
                   hint="check the step that produced this version, or raise max_removed_ratio if the cut is intended")


CHECK = BuiltinCheck(
    "row-delta",
    "rows removed/added vs the parent (e.g. fail if a step removed more than 50%)",
    run,
    (
        Param("max_removed_ratio", "ratio", 0.5, "largest accepted share of the parent's rows removed"),
        Param("max_added_ratio", "number", None, "largest accepted growth, as a multiple of the parent's rows (unset: any)"),
        Param("min_rows", "int", None, "fewest rows the table may have"),
    ),
    needs=needs,
    parent_needs=needs,
)
