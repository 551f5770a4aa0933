"""``pii``: personal data found by the detectors the ``redact-pii`` operator uses
(``corpusgit.detect.pii``), against a count threshold. Excerpts in reports show the kind
found, never the value: reports are kept in history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from corpusgit.detect.pii import KINDS
from corpusgit.quality.api import BuiltinCheck, CheckContext, Measure, Outcome, Param
from hooks.common import column_param

if TYPE_CHECKING:
    from corpusgit.quality.facts import Fact


def needs(params: Mapping[str, Any], columns: Sequence[str]) -> list[Fact]:
    from corpusgit.quality.facts import Fact

    return [Fact("pii", params["column"])]


def run(ctx: CheckContext) -> Outcome:
    import numpy as np

    from corpusgit.detect.pii import find_pii
    from corpusgit.quality.facts import Fact

    kinds = tuple(ctx.params["kinds"]) or KINDS
    counts = ctx.table.fact(Fact("pii", ctx.params["column"]))
    per_row = np.zeros(ctx.table.num_rows, dtype=np.int64)
    found = []
    for kind in kinds:
        per_row += counts[kind]
        if int(counts[kind].sum()):
            found.append(f"{kind} {int(counts[kind].sum()):,}")
    rows = np.flatnonzero(per_row)

    def spans(text: str) -> list[tuple[int, int, str]]:
        return [(m.start, m.end, m.kind) for m in find_pii(text, kinds)]

    total = int(per_row.sum())
    message = f"{total:,} matches in {len(rows):,} rows" + (f" ({', '.join(found)})" if found else "")
    return Outcome([Measure("PII matches", total, ctx.params["max_matches"])], message, rows=rows, column=ctx.params["column"],
                   spans=spans, redact=True, hint="run the redact-pii operator on this table, or raise max_matches")


CHECK = BuiltinCheck(
    "pii",
    "emails, phones, IP addresses, card numbers, Chinese IDs (shared with redact-pii)",
    run,
    (
        column_param(),
        Param("kinds", "kinds", (), "detectors to use (default: all)", KINDS),
        Param("max_matches", "int", 0, "largest accepted number of matches in the table"),
    ),
    needs=needs,
)
