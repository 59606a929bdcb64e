"""Masking, HMAC-SM3 pseudonyms, generalisation, suppression and policies."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from cityos.protection import masking
from cityos.protection.geo import district_of
from cityos.protection.masking import (
    MaskingPolicy,
    Pseudonymizer,
    age_band,
    apply,
    apply_many,
    generalize_date,
    generalize_datetime,
    generalize_point,
    mask,
    pseudonymize,
)

from .ids import make_id

ID = make_id("460105", "19900307", "123")


def test_partial_masks() -> None:
    assert mask("id_card", ID) == ID[:4] + "*" * 10 + ID[-4:]
    assert mask("id_card", "460105199003071234") == "4601**********1234"
    assert mask("mobile", "13800138000") == "138****8000"
    assert mask("mobile", "+86 138 0013 8000") == "138****8000"
    assert mask("bank_card", "6222 0202 0011 2233 445") == "*" * 15 + "3445"
    assert mask("name", "张三") == "张*"
    assert mask("name", "王小明") == "王**"
    assert mask("name", "欧阳娜娜") == "欧阳**"
    assert mask("address", "海口市美兰区海甸岛人民大道58号") == "海口市美兰区****"
    assert mask("address", "海南省海口市龙华区金龙路18号3栋") == "海南省海口市龙华区****"
    assert mask("address", "椰岛小区3栋201室") == "****"
    assert mask("address", "海口市龙华区") == "海口市龙华区"
    assert mask("email", "alice@example.com") == "a***@example.com"
    assert mask("plate", "琼A12345") == "琼A***45"
    assert mask("passport", "E12345678") == "E*****678"
    assert mask("permit", "C12345678") == "C*****678"


def test_pseudonyms_are_stable_per_key_and_differ_across_keys() -> None:
    key_a, key_b = b"grant-0001-secret", b"grant-0002-secret"
    first = pseudonymize(ID, key_a)
    assert first == pseudonymize(ID, key_a)
    assert len(first) == 64 and int(first, 16) >= 0
    assert first != pseudonymize(ID, key_b)
    assert first != pseudonymize(make_id("460105", "19900307", "124"), key_a)
    # normalised per type: the same phone number written two ways is one pseudonym
    assert pseudonymize("138 0013 8000", key_a, "mobile") == pseudonymize(
        "+8613800138000", key_a, "mobile"
    )
    assert Pseudonymizer(key_a)(ID) == first
    with pytest.raises(ValueError):
        pseudonymize(ID, b"")


def _hmac_by_hand(key: bytes, data: bytes) -> bytes:
    """RFC 2104 over SM3 (block size 64), written out."""
    if len(key) > 64:
        key = hashlib.new("sm3", key).digest()
    key = key.ljust(64, b"\0")
    inner = hashlib.new("sm3", bytes(b ^ 0x36 for b in key) + data).digest()
    return hashlib.new("sm3", bytes(b ^ 0x5C for b in key) + inner).digest()


@pytest.mark.skipif("sm3" not in hashlib.algorithms_available, reason="OpenSSL without SM3")
def test_pseudonyms_are_hmac_sm3() -> None:
    assert hashlib.new("sm3", b"abc").hexdigest() == (
        "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )
    key = b"k" * 20
    assert pseudonymize("13800138000", key) == _hmac_by_hand(key, b"13800138000").hex()
    assert masking.hmac_sm3(b"x" * 100, b"abc") == _hmac_by_hand(b"x" * 100, b"abc")


def test_generalisation() -> None:
    assert generalize_date("1990-03-07") == "1990"
    assert generalize_date(date(1990, 3, 7)) == "1990"
    assert generalize_date("19900307") == "1990"
    assert generalize_date("not a date") is None
    # a UTC timestamp late in the evening is the next day in Haikou
    late = datetime(2024, 1, 1, 18, 30, tzinfo=UTC)
    assert generalize_datetime(late) == "2024-01-02"
    assert generalize_datetime("2024-01-01T18:30:00Z") == "2024-01-02"
    assert generalize_datetime("2024-12-31T18:30:00+00:00", to="year") == "2025"
    assert generalize_datetime(datetime(2024, 5, 1, 9, 0)) == "2024-05-01"
    plus8 = timezone(timedelta(hours=8))
    assert generalize_datetime(datetime(2024, 5, 1, 0, 10, tzinfo=plus8)) == "2024-05-01"
    assert age_band(37) == "30-39"
    assert age_band("0") == "0-9"
    assert age_band(95) == "90+"
    assert age_band("abc") is None


def test_points_generalise_to_haikou_districts() -> None:
    # each district's own centroid from the GeoJSON properties
    assert district_of(110.229218, 19.907335) == "460105"  # 秀英区
    assert district_of(110.335887, 19.868373) == "460106"  # 龙华区
    assert district_of(110.497764, 19.733299) == "460107"  # 琼山区
    assert district_of(110.517382, 19.958531) == "460108"  # 美兰区
    assert generalize_point((110.517382, 19.958531)) == "460108"
    assert generalize_point("110.335887, 19.868373") == "460106"
    assert generalize_point({"lon": 110.229218, "lat": 19.907335}) == "460105"
    assert generalize_point({"type": "Point", "coordinates": [110.497764, 19.733299]}) == "460107"
    assert generalize_point((116.397, 39.909)) is None  # Beijing
    assert generalize_point("nowhere") is None


RECORD = {
    "姓名": "欧阳娜娜",
    "身份证号": ID,
    "手机": "13800138000",
    "住址": "海口市美兰区人民大道58号",
    "单位代码": "91460100MA5T0QXB0Y",
    "出生日期": "1990-03-07",
    "年龄": 34,
    "位置": (110.517382, 19.958531),
    "备注": "无",
}
TYPES = {
    "姓名": "name",
    "身份证号": "id_card",
    "手机": "mobile",
    "住址": "address",
    "单位代码": "uscc",
    "出生日期": "date",
    "年龄": "age",
    "位置": "point",
}


def test_default_policy_masks_personal_items_and_keeps_the_rest() -> None:
    out = apply(MaskingPolicy(), RECORD, TYPES)
    assert out["姓名"] == "欧阳**"
    assert out["身份证号"] == ID[:4] + "*" * 10 + ID[-4:]
    assert out["手机"] == "138****8000"
    assert out["住址"] == "海口市美兰区****"
    assert out["单位代码"] == RECORD["单位代码"]  # public organisation data (一般-1)
    assert out["出生日期"] == "1990-03-07"  # no type grade → default keep
    assert out["备注"] == "无"
    assert RECORD["姓名"] == "欧阳娜娜"  # the input is not changed


def test_policy_by_type_category_and_grade() -> None:
    key = b"grant-42"
    policy = MaskingPolicy(
        by_type={"mobile": "pseudonymize", "date": "generalize", "age": "generalize",
                 "point": "generalize", "address": "generalize"},
        by_category={"sensitive_personal": "suppress"},
        key=key,
    )  # fmt: skip
    out = apply(policy, RECORD, TYPES)
    assert out["手机"] == pseudonymize("13800138000", key, "mobile")
    assert out["身份证号"] is None
    assert out["出生日期"] == "1990"
    assert out["年龄"] == "30-39"
    assert out["位置"] == "460108"
    assert out["住址"] == "海口市美兰区"
    assert out["姓名"] == "欧阳**"  # personal (一般-3) → by_grade default: mask
    by_grade = MaskingPolicy(by_grade={"重要": "suppress", "一般-3": "keep"})
    out = apply(by_grade, RECORD, TYPES)
    assert out["身份证号"] is None and out["姓名"] == "欧阳娜娜"


def test_empty_values_stay_empty() -> None:
    out = apply(MaskingPolicy(), {"姓名": None, "手机": ""}, TYPES)
    assert out == {"姓名": None, "手机": ""}


def test_bad_policies_are_refused() -> None:
    with pytest.raises(ValueError):
        MaskingPolicy(by_type={"mobile": "pseudonymize"})  # no key
    with pytest.raises(ValueError):
        MaskingPolicy(by_type={"mobile": "scramble"})


def test_ten_thousand_records() -> None:
    records = [
        {"id": i, "姓名": "王小明", "手机": f"139{i:08d}", "身份证号": ID} for i in range(10_000)
    ]
    policy = MaskingPolicy(by_type={"手机": "keep", "mobile": "pseudonymize"}, key=b"k")
    out = apply_many(policy, records, {"姓名": "name", "手机": "mobile", "身份证号": "id_card"})
    assert len(out) == 10_000
    assert out[5]["id"] == 5 and out[5]["姓名"] == "王**"
    assert len({r["手机"] for r in out}) == 10_000
    assert out[9_999]["手机"] == pseudonymize("13900009999", b"k", "mobile")
