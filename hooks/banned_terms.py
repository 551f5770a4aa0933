"""``banned-terms``: occurrences of the terms of a term-list file. Plain substring matching
(no word boundaries), so CJK terms match inside running text."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from corpusgit.quality.api import BuiltinCheck, CheckContext, Measure, Outcome, Param
from hooks.common import column_param

if TYPE_CHECKING:
    from corpusgit.detect.terms import TermList
    from corpusgit.quality.facts import Fact


def terms_of(params: Mapping[str, Any]) -> TermList:
    from corpusgit.detect.terms import TermList

    return TermList.load(Path(params["terms"]), params["ignore_case"], where="banned-terms")


def needs(params: Mapping[str, Any], columns: Sequence[str]) -> list[Fact]:
    from corpusgit.quality.facts import Fact

    return [Fact("terms", params["column"], terms_of(params))]


def run(ctx: CheckContext) -> Outcome:
    import numpy as np

    from corpusgit.detect.terms import find_terms
    from corpusgit.quality.facts import Fact

    terms = terms_of(ctx.params)
    per_row = ctx.table.fact(Fact("terms", ctx.params["column"], terms))["n"]
    rows = np.flatnonzero(per_row)

    def spans(text: str) -> list[tuple[int, int, str]]:
        return [(m.start, m.end, "term") for m in find_terms(text, terms)]

    total = int(per_row.sum())
    return Outcome([Measure("banned term matches", total, ctx.params["max_matches"])],
                   f"{total:,} matches of {len(terms.terms):,} terms in {len(rows):,} rows", rows=rows,
                   column=ctx.params["column"], spans=spans, hint="filter or rewrite the rows shown, or edit the term list")


CHECK = BuiltinCheck(
    "banned-terms",
    "occurrences of terms from a term-list file (CJK-safe substring match)",
    run,
    (
        Param("terms", "file", None, 'terms = "banned.txt" (UTF-8, one term per line, # comments)', required=True),
        column_param(),
        Param("ignore_case", "bool", True, "match regardless of case"),
        Param("max_matches", "int", 0, "largest accepted number of matches in the table"),
    ),
    needs=needs,
)
