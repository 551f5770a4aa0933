"""corpusgit.detect.pii: each detector's positives and negatives, validators, and the contract
the redact-pii operator relies on: the vectorised count equals the Python reference."""

from __future__ import annotations

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpusgit.detect.pii import DETECTORS, KINDS, MARK, card_valid, cn_id_valid, count_pii, find_pii, luhn_valid, resolve_kinds
from corpusgit.errors import BadInput


def kinds_found(text: str) -> list[tuple[str, str]]:
    return [(m.kind, m.text) for m in find_pii(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("write to zhang.san@example.cn today", [("email", "zhang.san@example.cn")]),
        ("电话13812345678，请联系", [("phone_cn", "13812345678")]),
        ("call +86 138 1234 5678 now", [("phone_cn", "+86 138 1234 5678")]),
        ("office (555) 123-4567 or 555.123.4567", [("phone", "(555) 123-4567"), ("phone", "555.123.4567")]),
        ("E.164 +442079460958 works", [("phone", "+442079460958")]),
        ("server 192.168.1.20. Then", [("ipv4", "192.168.1.20")]),
        ("v6 2001:db8:85a3::8a2e:370:7334 here", [("ipv6", "2001:db8:85a3::8a2e:370:7334")]),
        ("card 4111 1111 1111 1111 ok", [("credit_card", "4111 1111 1111 1111")]),
        ("身份证11010519491231002X号", [("cn_id", "11010519491231002X")]),
    ],
)
def test_each_detector_finds_its_kind(text: str, expected: list[tuple[str, str]]) -> None:
    assert kinds_found(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "release 1.2.3.4.5 and version 3.11.7",  # dotted numbers that are not addresses
        "std::string and a[::2] and 12:30:45",  # colons in code and times are not IPv6
        "order 5138123456789 shipped",  # a mobile-looking run inside a longer number
        "card 4111 1111 1111 1112",  # Luhn fails
        "id 110105194912310021",  # checksum fails
        "no at-sign here, just text",
    ],
)
def test_lookalikes_are_not_pii(text: str) -> None:
    assert find_pii(text) == []


def test_validators() -> None:
    assert luhn_valid("79927398713") and not luhn_valid("79927398710")
    assert card_valid("4111-1111-1111-1111") and not card_valid("9111111111111111")  # no issuer starts with 9
    assert cn_id_valid("11010519491231002X") and cn_id_valid("11010519491231002x") and not cn_id_valid("110105194912310021")
    assert not cn_id_valid("1101051949123")


def test_kinds_are_selectable_and_unknown_kinds_refused() -> None:
    text = "a@b.co and 13812345678"
    assert [m.kind for m in find_pii(text, ["email"])] == ["email"]
    assert resolve_kinds(None) == KINDS
    with pytest.raises(BadInput, match="unknown PII kind 'mail'"):
        find_pii(text, ["mail"])


def test_count_handles_nulls_chunked_large_and_dictionary_arrays() -> None:
    texts = ["a@b.co x@y.org", None, "13812345678", ""]
    for arr in (pa.array(texts), pa.chunked_array([texts[:2], texts[2:]]), pa.array(texts, pa.large_string()), pa.array(texts).dictionary_encode()):
        counts = count_pii(arr)
        assert counts["email"].tolist() == [2, 0, 0, 0]
        assert counts["phone_cn"].tolist() == [0, 0, 1, 0]


def test_a_row_containing_the_internal_marker_is_still_counted_exactly() -> None:
    text = f"odd {MARK} char then 13812345678 and 13912345678"
    assert count_pii(pa.array([text]))["phone_cn"].tolist() == [2]


_ALPHABET = st.sampled_from(list("0123456789 .-:@+()abcxX") + ["13812345678", "4111111111111111", "192.168.0.1", "a.b@c.de", "2001:db8::1:2", "::", "1:2:3:4:5:6:7:8", "11010519491231002X", "中"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(_ALPHABET, max_size=12).map("".join), min_size=1, max_size=8))
def test_vectorised_counts_equal_the_python_reference(texts: list[str]) -> None:
    counts = count_pii(pa.array(texts))
    for i, text in enumerate(texts):
        found = find_pii(text)
        for kind in KINDS:
            assert counts[kind][i] == sum(1 for m in found if m.kind == kind), (kind, text)


@settings(max_examples=400, deadline=None)
@given(st.lists(_ALPHABET, max_size=14).map("".join))
def test_every_prefilter_flags_the_rows_its_detector_accepts(text: str) -> None:
    import re

    for m in find_pii(text):
        assert re.search(DETECTORS[m.kind].prefilter, text), (m.kind, text)
