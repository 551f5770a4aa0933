"""``encoding``: rows with replacement characters, control characters or mojibake."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from corpusgit.detect.encoding import KINDS
from corpusgit.quality.api import BuiltinCheck, CheckContext, Measure, Outcome, Param
from hooks.common import column_param, ratio

if TYPE_CHECKING:
    from corpusgit.quality.facts import Fact


def needs(params: Mapping[str, Any], columns: Sequence[str]) -> list[Fact]:
    from corpusgit.quality.facts import Fact

    return [Fact("encoding", params["column"])]


def run(ctx: CheckContext) -> Outcome:
    import numpy as np

    from corpusgit.detect.encoding import find_encoding_issues
    from corpusgit.quality.facts import Fact

    kinds = tuple(ctx.params["kinds"]) or KINDS
    counts = ctx.table.fact(Fact("encoding", ctx.params["column"]))
    bad = np.zeros(ctx.table.num_rows, dtype=bool)
    found = []
    for kind in kinds:
        hit = counts[kind] > 0
        bad |= hit
        if hit.any():
            found.append(f"{kind} in {int(hit.sum()):,} rows")
    rows = np.flatnonzero(bad)

    def spans(text: str) -> list[tuple[int, int, str]]:
        return [(i.start, i.end, i.kind) for i in find_encoding_issues(text, kinds)]

    return Outcome([Measure("rows with encoding issues", ratio(len(rows), ctx.table.num_rows), ctx.params["max_ratio"])],
                   "; ".join(found) or "no encoding issues", rows=rows, column=ctx.params["column"], spans=spans,
                   hint="re-decode the source as UTF-8 (ftfy can repair mojibake), or drop the rows")


CHECK = BuiltinCheck(
    "encoding",
    "replacement characters, control characters, mojibake",
    run,
    (
        column_param(),
        Param("kinds", "kinds", (), "issues to count (default: all)", KINDS),
        Param("max_ratio", "ratio", 0.0, "largest accepted share of rows with an issue"),
    ),
    needs=needs,
)
