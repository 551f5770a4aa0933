"""Banned-term lists: plain substrings, no word boundaries, so CJK (which has no spaces between
words) works exactly like English.

A term list is a UTF-8 file with one term per line; blank lines and lines starting with ``#``
are ignored. Matching is by one alternation, longest terms first, so at any position the longest
listed term wins (``坏人`` before ``坏``). The pattern is in the common subset of Python ``re``
and RE2, so ``count_terms`` (C++, a whole column) equals ``find_terms`` (Python, one string).
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from corpusgit.detect.columns import string_array
from corpusgit.errors import BadInput

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa


@dataclass(frozen=True, slots=True)
class TermMatch:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class TermList:
    """Terms plus matching options; ``digest`` names the list in fact caches. The pattern and
    digest are computed once (a list can hold thousands of terms, and facts ask often)."""

    terms: tuple[str, ...]
    ignore_case: bool = True

    @classmethod
    def load(cls, path: Path, ignore_case: bool = True, where: str = "term list") -> TermList:
        """Read a term-list file; a missing, unreadable or empty file is a user error."""
        if not path.is_file():
            raise BadInput(f"{where}: term list file {str(path)!r} not found", hint="create it (UTF-8, one term per line) or fix the path; relative paths start at the work-tree root")
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise BadInput(f"{where}: cannot read term list {str(path)!r}: {exc}", hint="term lists are UTF-8 text, one term per line") from exc
        terms = [line.strip() for line in text.splitlines()]
        kept = tuple(t for t in terms if t and not t.startswith("#"))
        if not kept:
            raise BadInput(f"{where}: term list {str(path)!r} has no terms", hint="write one term per line (lines starting with # are comments)")
        return cls(kept, ignore_case)

    @functools.cached_property
    def pattern(self) -> str:
        ordered = sorted(set(self.terms), key=lambda t: (-len(t), t))
        body = "|".join(_escape(t) for t in ordered)
        return f"(?i)(?:{body})" if self.ignore_case else body

    @functools.cached_property
    def digest(self) -> str:
        return hashlib.sha256(self.pattern.encode("utf-8")).hexdigest()[:16]


def _escape(term: str) -> str:
    """Backslash every ASCII punctuation character: the escape both engines read as a literal."""
    return "".join("\\" + ch if ch.isascii() and not ch.isalnum() else ch for ch in term)


def find_terms(text: str, terms: TermList) -> list[TermMatch]:
    """Every non-overlapping term occurrence in one string, leftmost first."""
    return [TermMatch(m.start(), m.end(), m.group()) for m in re.finditer(terms.pattern, text)]


def count_terms(values: pa.Array | pa.ChunkedArray, terms: TermList) -> np.ndarray:
    """Term occurrences per row (uint32; null rows count 0), in one RE2 pass."""
    import numpy as np
    import pyarrow.compute as pc

    arr = string_array(values)
    return np.asarray(pc.count_substring_regex(arr, terms.pattern).fill_null(0), dtype=np.uint32)
