"""Encoding damage: U+FFFD replacement characters, control characters, and mojibake (UTF-8
read as Latin-1/cp1252, e.g. ``Ã©`` for ``é``, ``â€™`` for ``’``).

Shared by the ``encoding`` check and any fixing operator. As in ``corpusgit.detect.pii``, the
patterns are in the common subset of Python ``re`` and RE2, so ``count_encoding_issues`` (C++,
a whole column) equals ``find_encoding_issues`` (Python, one string).

The mojibake rule is a heuristic: a Latin-1 lead character that UTF-8 uses for two-byte
sequences (``Â Ã Å Ð Ñ``, or ``â€``/``â‚`` for three-byte punctuation) followed by a character
that a UTF-8 continuation byte (0x80-0xBF) becomes under Latin-1 or cp1252. Real text seldom
puts those pairs side by side; ``ftfy`` has finer rules but would be a heavy dependency.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from corpusgit.detect.columns import bool_mask, string_array
from corpusgit.errors import BadInput

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

# What bytes 0x80-0xBF turn into under Latin-1 (U+0080-U+00BF) or cp1252 (its 0x80-0x9F glyphs).
_CONTINUATION = "\u0080-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"

PATTERNS: dict[str, str] = {
    "replacement": "\ufffd",
    # C0 controls except tab, newline and carriage return; DEL; C1 controls (U+0080-U+009F).
    "control": r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]",
    "mojibake": f"[ÂÃÅÐÑ][{_CONTINUATION}]|â[€‚][{_CONTINUATION}]",
}
KINDS: tuple[str, ...] = tuple(PATTERNS)
_COMPILED = {kind: re.compile(p) for kind, p in PATTERNS.items()}


@dataclass(frozen=True, slots=True)
class EncodingIssue:
    kind: str
    start: int
    end: int
    text: str


def resolve_kinds(kinds: Iterable[str] | None) -> tuple[str, ...]:
    if kinds is None:
        return KINDS
    chosen = tuple(kinds)
    for kind in chosen:
        if kind not in PATTERNS:
            raise BadInput(f"unknown encoding issue {kind!r}", hint=f"kinds are: {', '.join(KINDS)}")
    return chosen


def find_encoding_issues(text: str, kinds: Iterable[str] | None = None) -> list[EncodingIssue]:
    """Every issue in one string, ordered by position."""
    found = [
        EncodingIssue(kind, m.start(), m.end(), m.group())
        for kind in resolve_kinds(kinds)
        for m in _COMPILED[kind].finditer(text)
    ]
    found.sort(key=lambda i: (i.start, i.kind))
    return found


def count_encoding_issues(values: pa.Array | pa.ChunkedArray, kinds: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """Issues per row and kind (uint32; null rows count 0).

    The replacement character is a literal RE2 finds with ``memchr`` speed, so it is counted
    directly; control characters and mojibake share one prefilter pass, then are counted on
    the (normally rare) rows that have either.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    chosen = resolve_kinds(kinds)
    arr = string_array(values)
    counts = {kind: np.zeros(len(arr), dtype=np.uint32) for kind in chosen}
    if len(arr) == 0:
        return counts
    if "replacement" in counts:
        counts["replacement"][:] = np.asarray(pc.count_substring_regex(arr, PATTERNS["replacement"]).fill_null(0), dtype=np.uint32)
    rest = [k for k in chosen if k != "replacement"]
    if not rest:
        return counts
    rows = np.flatnonzero(bool_mask(pc.match_substring_regex(arr, "|".join(f"(?:{PATTERNS[k]})" for k in rest))))
    if len(rows):
        sub = arr.take(pa.array(rows))
        for kind in rest:
            counts[kind][rows] = np.asarray(pc.count_substring_regex(sub, PATTERNS[kind]).fill_null(0), dtype=np.uint32)
    return counts
