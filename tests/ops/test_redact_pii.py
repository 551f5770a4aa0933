"""redact-pii: every kind in English and Chinese text, counts per kind, untouched rows keep their
identity, and property tests of the checksums (Luhn cards, GB 11643 resident ids)."""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from opshelp import Runner, with_row_ids
from hypothesis import given, settings, strategies as st
from realtext import PII_EN, PII_ZH

from corpusgit.detect.pii import luhn_valid
from corpusgit.errors import BadInput
from corpusgit.ops.config import build_config
from corpusgit.ops.redact_pii import PiiConfig, RedactPii

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def _luhn_digit(body: str) -> str:
    """The check digit that makes ``body + digit`` pass Luhn (computed independently here)."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2
            d = d - 9 if d > 9 else d
        total += d
    return str((10 - total % 10) % 10)


def _id_check(body: str) -> str:
    return "10X98765432"[sum(int(c) * w for c, w in zip(body, _ID_WEIGHTS)) % 11]


def test_redacts_every_kind_in_english_and_chinese(corpus: pa.Table, run_op: Runner) -> None:
    op = RedactPii(PiiConfig())
    out, execution = run_op(op, corpus)
    rows = {r["id"]: r["text"] for r in out.to_pylist()}
    assert "[EMAIL]" in rows[PII_EN] and "[PHONE]" in rows[PII_EN] and "[CREDIT_CARD]" in rows[PII_EN]
    assert "maria.lopez@example.org" not in rows[PII_EN] and "4111 1111 1111 1111" not in rows[PII_EN]
    assert "请在工作时间拨打手机[PHONE_CN]，或者发邮件到[EMAIL]联系王老师" in rows[PII_ZH]
    assert "例如[CN_ID]，" in rows[PII_ZH]
    assert dict(op.counts) == {"email": 2, "phone": 1, "credit_card": 1, "phone_cn": 1, "cn_id": 1}
    assert execution.effects is not None and len(execution.effects.modified) == 2  # the other rows are untouched


def test_kinds_and_replacement_are_configurable(run_op: Runner) -> None:
    table = with_row_ids(pa.table({"text": ["mail a.b@example.com or call 13912345678 from 10.0.0.1"]}))
    op = RedactPii(build_config("redact-pii", PiiConfig, {"kinds": "email, ipv4", "replacement": "<{kind}>"}))
    out, _ = run_op(op, table)
    assert out.column("text").to_pylist() == ["mail <email> or call 13912345678 from <ipv4>"]
    with pytest.raises(BadInput, match="unknown PII kind 'passport'"):
        build_config("redact-pii", PiiConfig, {"kinds": ["passport"]})


def test_ipv6_and_overlaps(run_op: Runner) -> None:
    text = "服务器地址是 2001:db8:85a3::8a2e:370:7334 ，备用 192.168.10.20 。 std::vector is not an address."
    out, _ = run_op(RedactPii(PiiConfig()), with_row_ids(pa.table({"text": [text]})))
    assert out.column("text").to_pylist() == ["服务器地址是 [IPV6] ，备用 [IPV4] 。 std::vector is not an address."]


@settings(max_examples=60, deadline=None)
@given(
    prefix=st.sampled_from(["4", "51", "55", "37", "6011", "62"]),
    body=st.text(alphabet="0123456789", min_size=12, max_size=12),
    chinese=st.booleans(),
)
def test_luhn_valid_cards_are_redacted_and_a_wrong_check_digit_is_not(prefix: str, body: str, chinese: bool) -> None:
    number = (prefix + body)[:15]
    card = number + _luhn_digit(number)
    assert luhn_valid(card)
    wrong = number + str((int(card[-1]) + 1) % 10)
    assert not luhn_valid(wrong)
    template = "请用尾号为这张卡付款：{}，谢谢。" if chinese else "Please pay with card {} before Friday."
    op = RedactPii(PiiConfig(kinds=("credit_card",)))
    assert op.redact(template.format(card)) == template.format("[CREDIT_CARD]")
    grouped = " ".join(card[i:i + 4] for i in range(0, 16, 4))
    assert op.redact(template.format(grouped)) == template.format("[CREDIT_CARD]")
    assert op.redact(template.format(wrong)) == template.format(wrong)


@settings(max_examples=60, deadline=None)
@given(
    region=st.integers(110000, 659999),
    birth=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2024, 12, 31)),
    serial=st.integers(0, 999),
    chinese=st.booleans(),
)
def test_resident_ids_with_a_valid_checksum_are_redacted(region: int, birth: dt.date, serial: int, chinese: bool) -> None:
    body = f"{region}{birth:%Y%m%d}{serial:03d}"
    good = body + _id_check(body)
    bad = body + next(c for c in "0123456789X" if c != _id_check(body))
    template = "他的身份证号码是{}，请核对。" if chinese else "Her ID number is {} according to the form."
    op = RedactPii(PiiConfig(kinds=("cn_id",)))
    assert op.redact(template.format(good)) == template.format("[CN_ID]")
    assert op.redact(template.format(good.lower())) == template.format("[CN_ID]")
    assert op.redact(template.format(bad)) == template.format(bad)


@settings(max_examples=40, deadline=None)
@given(second=st.sampled_from("3456789"), rest=st.text(alphabet="0123456789", min_size=9, max_size=9), plus86=st.booleans())
def test_mainland_mobiles_in_chinese_text(second: str, rest: str, plus86: bool) -> None:
    number = ("+86 " if plus86 else "") + "1" + second + rest
    op = RedactPii(PiiConfig(kinds=("phone_cn",)))
    assert op.redact(f"有事请打{number}找我。") == "有事请打[PHONE_CN]找我。"
    assert op.redact(f"订单号 9{number[-11:]}7 不是电话") == f"订单号 9{number[-11:]}7 不是电话"
