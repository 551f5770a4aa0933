"""``duplicates``: exact duplicates within the table, and new rows that repeat the parent.

Duplicates are judged on one column's value (default ``text``: the same document under other
metadata is still a duplicate) or, with ``column = "*"``, on whole rows (``_cgit_row``).
"Against the parent" counts rows added by this version (row ids the parent lacks) whose value
the parent already holds, e.g. a crawl ingested twice under new ids.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from corpusgit.quality.api import BuiltinCheck, CheckContext, Measure, Outcome, Param
from hooks.common import display_column, ratio

if TYPE_CHECKING:
    import numpy as np

    from corpusgit.quality.facts import Fact
    from corpusgit.quality.table import TableData

WHOLE_ROW = "*"


def _value_facts(params: Mapping[str, Any]) -> list[Fact]:
    from corpusgit.quality.facts import Fact

    column = params["column"]
    return [Fact("rowhash")] if column == WHOLE_ROW else [Fact("texthash", column), Fact("chars", column)]


def needs(params: Mapping[str, Any], columns: Sequence[str]) -> list[Fact]:
    from corpusgit.quality.facts import Fact

    extra = [Fact("rowhash")] if params["max_parent_ratio"] is not None else []
    return _value_facts(params) + extra


def _values(table: TableData, column: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(hi, lo, valid): 128-bit value hashes and which rows have a value (nulls never duplicate)."""
    import numpy as np

    from corpusgit.quality.facts import Fact

    if column == WHOLE_ROW:
        ids = table.fact(Fact("rowhash"))
        return ids["hi"], ids["lo"], np.ones(table.num_rows, dtype=bool)
    hashes = table.fact(Fact("texthash", column))
    return hashes["hi"], hashes["lo"], table.fact(Fact("chars", column))["n"] >= 0


def repeated(hi: np.ndarray, lo: np.ndarray) -> np.ndarray:
    """True for every row whose value occurred in an earlier row (first occurrences stay False).

    Sorted by the lo lane only (a stable sort keeps row order within equal values); a run of
    equal lo lanes holding different hi lanes is astronomically rare and redone exactly.
    """
    import numpy as np

    order = np.argsort(lo, kind="stable")
    s_lo, s_hi = lo[order], hi[order]
    same_lo = s_lo[1:] == s_lo[:-1]
    out = np.zeros(len(lo), dtype=bool)
    out[order[1:][same_lo & (s_hi[1:] == s_hi[:-1])]] = True
    for value in np.unique(s_lo[1:][same_lo & (s_hi[1:] != s_hi[:-1])]).tolist():
        seen: set[int] = set()
        for i in np.flatnonzero(lo == value).tolist():
            out[i] = int(hi[i]) in seen
            seen.add(int(hi[i]))
    return out


def member(hi: np.ndarray, lo: np.ndarray, set_hi: np.ndarray, set_lo: np.ndarray) -> np.ndarray:
    """True where the 128-bit value (hi, lo) is in the set given as (set_hi, set_lo)."""
    import numpy as np

    order = np.argsort(set_lo)
    return member_of_sorted(hi, lo, set_hi[order], set_lo[order])


def member_of_sorted(hi: np.ndarray, lo: np.ndarray, s_hi: np.ndarray, s_lo: np.ndarray) -> np.ndarray:
    """``member`` against a set already sorted by its lo lane: a binary search on the lo lane,
    confirmed on the hi lane (vectorised; equal lo lanes with different hi lanes are
    astronomically rare and take a short loop). Sorted probes search fastest."""
    import numpy as np

    if not len(lo) or not len(s_lo):
        return np.zeros(len(lo), dtype=bool)
    pos = np.minimum(np.searchsorted(s_lo, lo), len(s_lo) - 1)
    same_lo = s_lo[pos] == lo
    found = np.asarray(same_lo & (s_hi[pos] == hi), dtype=bool)
    for i in np.flatnonzero(same_lo & ~found).tolist():
        end = int(np.searchsorted(s_lo, lo[i], side="right"))
        found[i] = bool((s_hi[pos[i]:end] == hi[i]).any())
    return found


def sorted_row_ids(table: TableData) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(order, hi, lo): the table's ``_cgit_row`` lanes sorted by lo, computed once per run."""
    import numpy as np

    from corpusgit.quality.facts import Fact

    def compute() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ids = table.fact(Fact("rowhash"))
        order = np.argsort(ids["lo"])
        return order, ids["hi"][order], ids["lo"][order]

    found: tuple[np.ndarray, np.ndarray, np.ndarray] = table.derived(("sorted-row-ids",), compute)
    return found


def rows_also_in(table: TableData, other: TableData) -> np.ndarray:
    """Which rows of ``table`` (by ``_cgit_row``) ``other`` has too; shared by the checks that
    compare a version with its parent, so it is computed once (from both tables' sorted ids)."""
    import numpy as np

    def compute() -> np.ndarray:
        order, hi, lo = sorted_row_ids(table)
        _, o_hi, o_lo = sorted_row_ids(other)
        found = np.empty(len(order), dtype=bool)
        found[order] = member_of_sorted(hi, lo, o_hi, o_lo)
        return found

    found: np.ndarray = table.derived(("rows-also-in", id(other)), compute)
    return found


def run(ctx: CheckContext) -> Outcome:
    import numpy as np

    from corpusgit.quality.facts import Fact

    column = ctx.params["column"]
    hi, lo, valid = _values(ctx.table, column)
    rows = np.flatnonzero(valid)
    dup = np.zeros(ctx.table.num_rows, dtype=bool)
    dup[rows] = repeated(hi[rows], lo[rows])
    within = ratio(int(dup.sum()), len(rows))
    what = "whole rows" if column == WHOLE_ROW else f"{column!r}"
    measures = [Measure("duplicate ratio", within, ctx.params["max_ratio"])]
    message = f"{int(dup.sum()):,} of {len(rows):,} rows repeat an earlier row's {what}"
    offending = [np.flatnonzero(dup)]
    limit = ctx.params["max_parent_ratio"]
    if limit is not None and ctx.parent is not None:
        added = valid & ~rows_also_in(ctx.table, ctx.parent)
        p_hi, p_lo, p_valid = _values(ctx.parent, column)
        again = np.zeros(ctx.table.num_rows, dtype=bool)
        again[added] = member(hi[added], lo[added], p_hi[p_valid], p_lo[p_valid])
        measures.append(Measure("added rows already in parent", ratio(int(again.sum()), int(added.sum())), limit))
        message += f"; {int(again.sum()):,} of {int(added.sum()):,} added rows repeat the parent"
        offending.append(np.flatnonzero(again))
    elif limit is not None:
        message += "; no parent version to compare with"
    return Outcome(measures, message, rows=np.concatenate(offending), column=column if column != WHOLE_ROW else display_column(ctx.table),
                   hint="deduplicate the rows shown (e.g. keep the first occurrence), or raise max_ratio")


CHECK = BuiltinCheck(
    "duplicates",
    "exact duplicate ratio within the table and against the parent",
    run,
    (
        Param("column", "column", "text", 'column whose value must be unique ("*": whole rows)'),
        Param("max_ratio", "ratio", 0.0, "largest accepted share of rows repeating an earlier row"),
        Param("max_parent_ratio", "ratio", None, "largest accepted share of added rows already in the parent (unset: not checked)"),
    ),
    needs=needs,
    parent_needs=needs,
)
