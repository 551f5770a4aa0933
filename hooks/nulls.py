"""``nulls``: the share of null values per column stays under a ratio."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from corpusgit.quality.api import BuiltinCheck, CheckContext, Measure, Outcome, Param
from hooks.common import display_column, ratio

if TYPE_CHECKING:
    from corpusgit.quality.facts import Fact


def needs(params: Mapping[str, Any], columns: Sequence[str]) -> list[Fact]:
    from corpusgit.quality.facts import Fact

    return [Fact("nulls", c) for c in (params["columns"] or columns)]


def run(ctx: CheckContext) -> Outcome:
    import numpy as np

    from corpusgit.quality.facts import Fact

    columns = list(ctx.params["columns"] or ctx.table.schema.names)
    limit = ctx.params["max_ratio"]
    worst, worst_col, worst_mask = -1.0, "", np.zeros(ctx.table.num_rows, dtype=bool)
    over = []
    for column in columns:
        null = ctx.table.fact(Fact("nulls", column))["null"]
        share = ratio(int(null.sum()), ctx.table.num_rows)
        if share > limit:
            over.append(f"{column} {share:.2%}")
        if share > worst:
            worst, worst_col, worst_mask = share, column, null
    if not columns:
        return Outcome(skipped="the table has no columns")
    return Outcome(
        [Measure(f"null ratio ({worst_col})", worst, limit)],
        ("over the limit: " + ", ".join(over)) if over else f"worst column {worst_col}: {worst:.2%} null",
        rows=np.flatnonzero(worst_mask), column=display_column(ctx.table),
        hint=f"fill or drop the null values, or raise max_ratio (now {limit:g})",
    )


CHECK = BuiltinCheck(
    "nulls",
    "share of null values per column",
    run,
    (
        Param("columns", "columns", (), "columns to check (default: every column)"),
        Param("max_ratio", "ratio", 0.01, "largest accepted share of nulls in any checked column"),
    ),
    needs=needs,
)
