"""PII detectors: emails, phone numbers (incl. mainland-China mobiles), IPv4/IPv6 addresses,
payment cards (Luhn) and Chinese resident IDs (ISO 7064 checksum).

Shared by the ``pii`` quality check and the ``redact-pii`` operator, so a corpus that passes
the check is exactly a corpus the operator would leave unchanged.

Every pattern is written in the common subset of Python's ``re`` and RE2 (the engine behind
``pyarrow.compute``): ASCII classes only, no look-arounds, no back-references. Both engines
then report the same non-overlapping leftmost-first matches, so ``count_pii`` (vectorised over
an Arrow column, scanning in C++) and ``find_pii`` (one Python string) agree match for match.
What a look-around would say ("not part of a longer digit run") is a *context* rule on the
characters around a match, and checksums are *validators*; both run in Python, on candidate
matches only.

Known, accepted limits (shared by check and operator, so they stay consistent): a candidate
that fails its context or validator still consumes its characters, and kinds are independent
(``13812345678@qq.com`` is an email and a mobile number).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from corpusgit.detect.columns import bool_mask, string_array
from corpusgit.errors import BadInput

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa

MARK = "\ufdd0"  # a Unicode noncharacter (never in interchanged text): brackets RE2's matches


def _is_digit(ch: str) -> bool:
    return len(ch) == 1 and "0" <= ch <= "9"


def _is_alnum(ch: str) -> bool:
    return len(ch) == 1 and ch.isascii() and ch.isalnum()


def _apart_from_digits(before: str, after: str) -> bool:
    """Not a slice of a longer number: no ASCII digit touches either end."""
    return not _is_digit(before) and not _is_digit(after[:1])


def _ipv4_context(before: str, after: str) -> bool:
    """Not part of a longer dotted number (``1.2.3.4.5``); a sentence's full stop is fine."""
    if _is_digit(before) or before == ".":
        return False
    return not _is_digit(after[:1]) and not (after[:1] == "." and _is_digit(after[1:2]))


def _ipv6_context(before: str, after: str) -> bool:
    """Not glued to a word or a longer colon run (``std::string``, ``a:b:c:d:e``)."""
    return not (_is_alnum(before) or before == ":") and not (_is_alnum(after[:1]) or after[:1] == ":")


def _id_context(before: str, after: str) -> bool:
    return not _is_digit(before) and not _is_alnum(after[:1])


def luhn_valid(digits: str) -> bool:
    """The Luhn mod-10 checksum every payment card number carries."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


# Issuer prefixes (IIN ranges) of the major networks: Visa 4, Mastercard 51-55 and 2221-2720,
# Amex 34/37, Diners 300-305/36/38, Discover 6011/644-649/65, JCB 3528-3589, UnionPay 62.
# Luhn alone accepts one random digit string in ten; the prefix rule cuts that further.
_CARD_PREFIX = re.compile(r"4|5[1-5]|2(?:22[1-9]|2[3-9][0-9]|[3-6][0-9]{2}|7[01][0-9]|720)|3[47]|30[0-5]|3[68]|6011|64[4-9]|65|35(?:2[89]|[3-8][0-9])|62")


def card_valid(text: str) -> bool:
    digits = text.replace(" ", "").replace("-", "")
    return 13 <= len(digits) <= 19 and _CARD_PREFIX.match(digits) is not None and luhn_valid(digits)


_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"  # GB 11643-1999: ISO 7064 MOD 11-2 remainder -> check character


def cn_id_valid(text: str) -> bool:
    """Chinese resident identity number (GB 11643-1999): 17 digits and a MOD 11-2 check."""
    if len(text) != 18:
        return False
    total = sum((ord(c) - 48) * w for c, w in zip(text[:17], _ID_WEIGHTS))
    return _ID_CHECK[total % 11] == text[17].upper()


def ipv6_valid(text: str) -> bool:
    """A real IPv6 address with at least three non-empty groups: ``::1`` or ``a[1::2]`` slices
    are too short to identify anyone and too common in code to flag."""
    if "::" not in text and text.count(":") != 7:
        return False  # neither compressed nor full: times (12:30:45) and the like, rejected cheaply
    try:
        ipaddress.IPv6Address(text)
    except ValueError:
        return False
    return sum(1 for part in text.split(":") if part) >= 3


@dataclass(frozen=True, slots=True)
class Detector:
    """One kind of PII: a pattern plus the context rule and validator applied to its matches."""

    name: str
    pattern: str
    prefilter: str  # RE2 pattern found in every row that holds an accepted match (a superset)
    description: str
    context: Callable[[str, str], bool] | None = None
    validate: Callable[[str], bool] | None = None
    family: str = ""  # detectors of one family share a narrowing pass (digit runs, mostly)

    @property
    def plain(self) -> bool:
        """True when RE2's own matches are final, so counting needs no Python at all."""
        return self.context is None and self.validate is None

    def accepts(self, text: str, start: int, end: int) -> bool:
        if self.context is not None and not self.context(text[start - 1:start] if start else "", text[end:end + 2]):
            return False
        return self.validate is None or self.validate(text[start:end])


_OCTET = r"(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
DIGITS = "digits"  # the family of detectors that need a run of digits

DETECTORS: dict[str, Detector] = {
    d.name: d
    for d in (
        Detector(
            "email",
            r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}",
            r"[A-Za-z0-9._%+\-]@[A-Za-z0-9\-]",
            "e-mail addresses",
        ),
        Detector(
            "phone_cn",
            r"(?:\+86[ \-]?|0086[ \-]?)?1[3-9][0-9](?:[ \-]?[0-9]{4}){2}",
            r"1[3-9][0-9][ \-]?[0-9]{4}",
            "mainland-China mobile numbers (13x-19x, optional +86)",
            _apart_from_digits,
            family=DIGITS,
        ),
        Detector(
            "phone",
            # E.164 excludes +86: mainland mobiles are phone_cn's, and one number counts once.
            r"(?:\+[0-9]{1,3}[ .\-]?)?(?:\([0-9]{3}\)[ .\-]?|[0-9]{3}[ .\-])[0-9]{3}[ .\-][0-9]{4}|\+(?:[1-7]|8[0-57-9]|9)[0-9]{7,13}",
            r"[0-9]{3}[ .\-][0-9]{4}|\+[0-9]{8}",
            "formatted phone numbers ((555) 123-4567, +1 555 123 4567) and E.164 (+4420...)",
            _apart_from_digits,
            family=DIGITS,
        ),
        Detector("ipv4", rf"{_OCTET}\.{_OCTET}\.{_OCTET}\.{_OCTET}", r"[0-9]\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]", "IPv4 addresses", _ipv4_context, family=DIGITS),
        Detector(
            "ipv6",
            r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}",
            # An accepted address has 3+ non-empty groups and either "::" (with a group on each
            # side, or two groups after/before it) or all eight groups; times and reST "::" fail.
            r"[0-9A-Fa-f]::[0-9A-Fa-f]|::[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]|[0-9A-Fa-f]:[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}::"
            r"|[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){7}",
            "IPv6 addresses (3+ groups)",
            _ipv6_context,
            ipv6_valid,
        ),
        Detector(
            "credit_card",
            r"[0-9](?:[ \-]?[0-9]){12,18}",
            r"[0-9](?:[ \-]?[0-9]){12}",
            "payment card numbers (issuer prefix + Luhn)",
            _apart_from_digits,
            card_valid,
            family=DIGITS,
        ),
        Detector(
            "cn_id",
            r"[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]",
            r"[0-9]{17}",
            "Chinese resident identity numbers (GB 11643 checksum)",
            _id_context,
            cn_id_valid,
            family=DIGITS,
        ),
    )
}
KINDS: tuple[str, ...] = tuple(DETECTORS)
_COMPILED: dict[str, re.Pattern[str]] = {name: re.compile(d.pattern) for name, d in DETECTORS.items()}


@dataclass(frozen=True, slots=True)
class PiiMatch:
    kind: str
    start: int  # code-point offsets into the string, as Python slicing uses
    end: int
    text: str


def resolve_kinds(kinds: Iterable[str] | None) -> tuple[str, ...]:
    """The detector names to run; unknown names are a user error naming the valid ones."""
    if kinds is None:
        return KINDS
    chosen = tuple(kinds)
    for kind in chosen:
        if kind not in DETECTORS:
            raise BadInput(f"unknown PII kind {kind!r}", hint=f"kinds are: {', '.join(KINDS)}")
    return chosen


def find_pii(text: str, kinds: Iterable[str] | None = None) -> list[PiiMatch]:
    """Every PII match in one string, ordered by position (the reference ``count_pii`` equals)."""
    found: list[PiiMatch] = []
    for kind in resolve_kinds(kinds):
        det = DETECTORS[kind]
        for m in _COMPILED[kind].finditer(text):
            if det.accepts(text, m.start(), m.end()):
                found.append(PiiMatch(kind, m.start(), m.end(), m.group()))
    found.sort(key=lambda m: (m.start, m.end, m.kind))
    return found


def count_pii(values: pa.Array | pa.ChunkedArray, kinds: Iterable[str] | None = None) -> dict[str, np.ndarray]:
    """Matches per row and kind (uint32; null rows count 0), scanning in C++.

    Rows are narrowed in stages, each an RE2 pass over the rows left by the previous one: the
    union of every detector's ``prefilter`` (a necessary condition, cheaper for RE2 than the full
    pattern), then the union of a family's prefilters (the digit-based detectors share one),
    then each detector's own prefilter. Detectors without context or validator are then counted
    by RE2 directly; the others get their candidate matches bracketed by ``MARK`` (one RE2
    replace), so Python looks only at candidates, never at the text between them.
    """
    import numpy as np
    import pyarrow.compute as pc

    chosen = resolve_kinds(kinds)
    arr = string_array(values)
    counts = {kind: np.zeros(len(arr), dtype=np.uint32) for kind in chosen}
    if not chosen or len(arr) == 0:
        return counts
    rows, sub = _narrow(arr, np.arange(len(arr)), [DETECTORS[k].prefilter for k in chosen])
    if len(rows) == 0:
        return counts
    had_mark = bool_mask(pc.match_substring_regex(sub, MARK))
    fallback = set(rows[had_mark].tolist())
    families: dict[str, list[str]] = {}
    for kind in chosen:
        families.setdefault(DETECTORS[kind].family or kind, []).append(kind)
    for members in families.values():
        fam_rows, fam = (rows, sub) if len(members) == 1 else _narrow(sub, rows, [DETECTORS[k].prefilter for k in members])
        for kind in members:
            det = DETECTORS[kind]
            if det.plain:
                counts[kind][fam_rows] = np.asarray(pc.count_substring_regex(fam, det.pattern).fill_null(0), dtype=np.uint32)
                continue
            hit_rows, hits = _narrow(fam, fam_rows, [det.prefilter])
            if not len(hit_rows):
                continue
            marked = pc.replace_substring_regex(hits, det.pattern, MARK + r"\0" + MARK).to_pylist()
            originals = hits.to_pylist() if fallback.intersection(hit_rows.tolist()) else None
            for j, (row, text) in enumerate(zip(hit_rows.tolist(), marked)):
                if originals is not None and row in fallback:
                    text = originals[j]
                    counts[kind][row] = sum(1 for m in _COMPILED[kind].finditer(text) if det.accepts(text, m.start(), m.end()))
                else:
                    counts[kind][row] = _count_marked(det, text)
    return counts


def _narrow(arr: pa.Array, rows: np.ndarray, patterns: list[str]) -> tuple[np.ndarray, pa.Array]:
    """The rows of ``arr`` matching any of ``patterns``: (their numbers in the original column,
    their values)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    keep = np.flatnonzero(bool_mask(pc.match_substring_regex(arr, "|".join(f"(?:{p})" for p in patterns))))
    return rows[keep], arr.take(pa.array(keep))


def _count_marked(det: Detector, marked: str) -> int:
    """Accepted matches in a string whose candidates RE2 wrapped as ``MARK match MARK``."""
    pieces = marked.split(MARK)
    text = "".join(pieces)
    pos = n = 0
    for i, piece in enumerate(pieces):
        if i % 2 == 1 and det.accepts(text, pos, pos + len(piece)):
            n += 1
        pos += len(piece)
    return n
