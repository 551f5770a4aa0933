"""``length``: per-row bounds and percentile bounds of text length, in chars or words."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from corpusgit.quality.api import BuiltinCheck, CheckContext, Measure, Outcome, Param
from hooks.common import column_param, ratio

if TYPE_CHECKING:
    from corpusgit.quality.facts import Fact


def needs(params: Mapping[str, Any], columns: Sequence[str]) -> list[Fact]:
    from corpusgit.quality.facts import Fact

    return [Fact(params["unit"], params["column"])]


def run(ctx: CheckContext) -> Outcome:
    import numpy as np

    from corpusgit.quality.facts import Fact

    unit, lo, hi = ctx.params["unit"], ctx.params["min"], ctx.params["max"]
    n = ctx.table.fact(Fact(unit, ctx.params["column"]))["n"]
    valid = n >= 0
    values = n[valid]
    measures = []
    outside = np.zeros(len(n), dtype=bool)
    if lo is not None:
        outside |= valid & (n < lo)
    if hi is not None:
        outside |= valid & (n > hi)
    bounds = f"[{'-inf' if lo is None else f'{lo:g}'}, {'inf' if hi is None else f'{hi:g}'}]"
    if lo is not None or hi is not None:
        measures.append(Measure(f"rows outside {bounds} {unit}", ratio(int(outside.sum()), int(valid.sum())), ctx.params["max_outside"]))
    for pct, (p_lo, p_hi) in sorted(ctx.params["percentiles"].items()):
        value = float(np.percentile(values, pct)) if len(values) else 0.0
        if p_lo is not None:
            measures.append(Measure(f"p{pct:g} {unit}", value, p_lo, ">="))
        if p_hi is not None:
            measures.append(Measure(f"p{pct:g} {unit}", value, p_hi, "<="))
    summary = ", ".join(f"p{p} {np.percentile(values, p):,.0f}" for p in (5, 50, 95)) if len(values) else "no text"
    message = f"{int(outside.sum()):,} rows outside {bounds} {unit}; {summary}" if measures and (lo is not None or hi is not None) else summary
    return Outcome(measures, message, rows=np.flatnonzero(outside), column=ctx.params["column"],
                   hint="filter the rows outside the bounds, or adjust min/max/percentiles in cgit.toml")


CHECK = BuiltinCheck(
    "length",
    "bounds and percentiles of text length (chars or words)",
    run,
    (
        column_param(),
        Param("unit", "choice", "chars", "measure in Unicode characters or whitespace-separated words", ("chars", "words")),
        Param("min", "number", None, "shortest accepted row"),
        Param("max", "number", None, "longest accepted row"),
        Param("max_outside", "ratio", 0.0, "largest accepted share of rows outside [min, max]"),
        Param("percentiles", "bounds_map", {}, "e.g. { p50 = { min = 200 }, p99 = { max = 100000 } }"),
    ),
    needs=needs,
)
