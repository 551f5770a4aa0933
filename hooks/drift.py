"""``drift``: has the length or language distribution moved away from the parent's?

Length: the two-sample Kolmogorov-Smirnov statistic (largest gap between the two length
CDFs, 0..1), or the population stability index over the parent's deciles. Language: PSI over
the sampled language shares. PSI below 0.1 is conventionally "no real change", above 0.25
"a major shift".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from corpusgit.quality.api import BuiltinCheck, CheckContext, Measure, Outcome, Param
from hooks.common import column_param

if TYPE_CHECKING:
    import numpy as np

    from corpusgit.quality.facts import Fact

PSI_FLOOR = 1e-4  # share given to an empty bin so PSI stays finite (a standard choice)
PSI_BINS = 10  # deciles of the parent's lengths
COUNTING_MAX = 1 << 24  # lengths up to 16M chars are counted (a 128 MiB array at worst), longer sorted


def needs(params: Mapping[str, Any], columns: Sequence[str]) -> list[Fact]:
    from corpusgit.quality.facts import Fact

    facts = [Fact("chars", params["column"])]
    return facts + [Fact("lang", params["column"])] if params["languages"] else facts


def ks_statistic(a: np.ndarray, b: np.ndarray) -> float:
    """sup |F_a - F_b| over all values, exact. Lengths are small integers, so the two CDFs come
    from counting (linear time); other values are sorted."""
    import numpy as np

    if not len(a) or not len(b):
        return 0.0
    top = int(max(a.max(), b.max()))
    if a.dtype.kind in "iu" and min(a.min(), b.min()) >= 0 and top <= COUNTING_MAX:
        fa = np.cumsum(np.bincount(a, minlength=top + 1)) / len(a)
        fb = np.cumsum(np.bincount(b, minlength=top + 1)) / len(b)
        return float(np.max(np.abs(fa - fb)))
    a, b = np.sort(a), np.sort(b)
    points = np.concatenate([a, b])
    fa = np.searchsorted(a, points, side="right") / len(a)
    fb = np.searchsorted(b, points, side="right") / len(b)
    return float(np.max(np.abs(fa - fb)))


def psi(expected: np.ndarray, actual: np.ndarray) -> float:
    """Population stability index of two share vectors over the same bins."""
    import numpy as np

    e = np.maximum(expected, PSI_FLOOR)
    a = np.maximum(actual, PSI_FLOOR)
    return float(np.sum((a - e) * np.log(a / e)))


def length_psi(old: np.ndarray, new: np.ndarray) -> float:
    import numpy as np

    if not len(old) or not len(new):
        return 0.0
    # Bins (-inf, p10], ..., (p90, max], (max, inf): lengths beyond anything the parent had get
    # a bin of their own instead of hiding in its top decile.
    edges = np.unique(np.append(np.percentile(old, np.linspace(0, 100, PSI_BINS + 1)[1:-1]), old.max()))
    e = np.bincount(np.searchsorted(edges, old, side="left"), minlength=len(edges) + 1) / len(old)
    a = np.bincount(np.searchsorted(edges, new, side="left"), minlength=len(edges) + 1) / len(new)
    return psi(e, a)


def run(ctx: CheckContext) -> Outcome:
    import numpy as np

    from corpusgit.quality.facts import Fact
    from hooks.language import language_shares

    if ctx.parent is None:
        return Outcome(skipped="no parent version to compare with")
    column = ctx.params["column"]
    new = ctx.table.fact(Fact("chars", column))["n"]
    old = ctx.parent.fact(Fact("chars", column))["n"]
    new, old = new[new >= 0], old[old >= 0]
    test = ctx.params["length_test"]
    value = ks_statistic(old, new) if test == "ks" else length_psi(old, new)
    measures = [Measure(f"length drift ({test.upper()})", value, ctx.params["max_length_drift"])]
    message = f"median length {np.median(old) if len(old) else 0:,.0f} -> {np.median(new) if len(new) else 0:,.0f} chars"
    if ctx.params["languages"]:
        before = language_shares(ctx.parent, column)[0]
        after = language_shares(ctx.table, column)[0]
        langs = sorted(set(before) | set(after))
        value = psi(np.array([before.get(k, 0.0) for k in langs]), np.array([after.get(k, 0.0) for k in langs]))
        measures.append(Measure("language drift (PSI)", value, ctx.params["max_language_psi"]))
        moved = sorted(langs, key=lambda k: -abs(after.get(k, 0.0) - before.get(k, 0.0)))[:3]
        message += "; " + ", ".join(f"{k} {before.get(k, 0.0):.1%} -> {after.get(k, 0.0):.1%}" for k in moved)
    return Outcome(measures, message, hint="if the shift is intended (a new source, a filter), raise the thresholds in cgit.toml")


CHECK = BuiltinCheck(
    "drift",
    "length (KS or PSI) and language (PSI) distribution vs the parent",
    run,
    (
        column_param(),
        Param("length_test", "choice", "ks", "ks (Kolmogorov-Smirnov statistic) or psi", ("ks", "psi")),
        Param("max_length_drift", "number", 0.1, "largest accepted KS statistic or PSI of lengths"),
        Param("languages", "bool", True, "also compare the language mix"),
        Param("max_language_psi", "number", 0.1, "largest accepted PSI of the language mix"),
    ),
    needs=needs,
    parent_needs=needs,
    requires_language=lambda params: bool(params["languages"]),
)
