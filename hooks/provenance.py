"""``provenance``: source and licence metadata columns exist and are filled in on every row
(null or empty strings count as missing)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from corpusgit.quality.api import BuiltinCheck, CheckContext, Measure, Outcome, Param
from hooks.common import display_column, ratio

if TYPE_CHECKING:
    from corpusgit.quality.facts import Fact


def needs(params: Mapping[str, Any], columns: Sequence[str]) -> list[Fact]:
    from corpusgit.quality.facts import Fact

    return [Fact("nulls", c) for c in params["columns"]]


def run(ctx: CheckContext) -> Outcome:
    import numpy as np

    from corpusgit.quality.facts import Fact

    columns = list(ctx.params["columns"])
    absent = [c for c in columns if c not in ctx.table.schema.names]
    missing = np.zeros(ctx.table.num_rows, dtype=bool)
    for column in columns:
        if column not in absent:
            facts = ctx.table.fact(Fact("nulls", column))
            missing |= facts["null"] | facts["empty"]
    measures = [Measure("missing provenance columns", len(absent), 0),
                Measure("rows without provenance", ratio(int(missing.sum()), ctx.table.num_rows), ctx.params["max_missing_ratio"])]
    parts = [f"no column {c!r}" for c in absent] + [f"{int(missing.sum()):,} rows lack {' or '.join(c for c in columns if c not in absent)}"]
    return Outcome(measures, "; ".join(parts), rows=np.flatnonzero(missing), column=display_column(ctx.table),
                   hint="record where each row came from and under which licence before it enters the corpus")


CHECK = BuiltinCheck(
    "provenance",
    "source and licence metadata columns present and non-null",
    run,
    (
        Param("columns", "columns", ("source", "license"), "metadata columns every row must fill"),
        Param("max_missing_ratio", "ratio", 0.0, "largest accepted share of rows missing any of them"),
    ),
    needs=needs,
)
