"""``language``: allowed languages and bounds on the language mix.

Languages come from py3langid on a deterministic per-chunk sample (see
``corpusgit.quality.facts.LANG_SAMPLE_ROWS``), so shares are estimates over the sampled rows;
blank texts (``und``) are left out of the shares.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from corpusgit.quality.api import BuiltinCheck, CheckContext, Measure, Outcome, Param
from hooks.common import column_param, ratio

if TYPE_CHECKING:
    import numpy as np

    from corpusgit.quality.facts import Fact
    from corpusgit.quality.table import TableData


def needs(params: Mapping[str, Any], columns: Sequence[str]) -> list[Fact]:
    from corpusgit.quality.facts import Fact

    return [Fact("lang", params["column"])]


def language_shares(table: TableData, column: str) -> tuple[dict[str, float], np.ndarray, list[str], int]:
    """(share per language over sampled non-blank rows, per-row language code (-1: not
    sampled), the codes' names, sample size). Works on integer codes: tables have many rows."""
    import numpy as np

    from corpusgit.detect.language import UNDETERMINED
    from corpusgit.quality.facts import Fact

    fact = table.fact(Fact("lang", column))
    names = [str(v) for v in fact["vocab"]]
    codes = fact["codes"]
    counts = np.bincount(codes[codes >= 0], minlength=len(names))
    if UNDETERMINED in names:
        counts[names.index(UNDETERMINED)] = 0
    total = int(counts.sum())
    return {n: ratio(int(c), total) for n, c in zip(names, counts) if c}, codes, names, total


def run(ctx: CheckContext) -> Outcome:
    import numpy as np

    shares, codes, names, total = language_shares(ctx.table, ctx.params["column"])
    allowed = ctx.params["allowed"]
    measures = []
    offending = np.zeros(len(codes), dtype=bool)
    if allowed:
        other = [i for i, n in enumerate(names) if n not in allowed and shares.get(n)]
        offending = np.isin(codes, other)
        measures.append(Measure("share in other languages", sum(v for k, v in shares.items() if k not in allowed), ctx.params["max_other"]))
    for lang, bound in sorted(ctx.params["min_share"].items()):
        measures.append(Measure(f"share {lang}", shares.get(lang, 0.0), bound, ">="))
    for lang, bound in sorted(ctx.params["max_share"].items()):
        measures.append(Measure(f"share {lang}", shares.get(lang, 0.0), bound, "<="))
    top = ", ".join(f"{k} {v:.1%}" for k, v in sorted(shares.items(), key=lambda kv: -kv[1])[:6])
    return Outcome(measures, f"{top or 'no text'} ({total:,} rows sampled)", rows=np.flatnonzero(offending),
                   column=ctx.params["column"], hint="filter rows in other languages, or adjust allowed/min_share/max_share")


CHECK = BuiltinCheck(
    "language",
    "allowed languages and language-mix bounds (py3langid on a sample)",
    run,
    (
        column_param(),
        Param("allowed", "names", (), 'ISO 639-1 codes, e.g. ["en", "zh"] (default: any)'),
        Param("max_other", "ratio", 0.05, "largest accepted share of rows in languages not allowed"),
        Param("min_share", "ratio_map", {}, "e.g. { en = 0.5 }"),
        Param("max_share", "ratio_map", {}, "e.g. { zh = 0.3 }"),
    ),
    needs=needs,
    requires_language=lambda params: True,
)
