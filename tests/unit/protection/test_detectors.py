"""Detectors over free Chinese text and whole cells: check digits decide, no \\b, no false hits."""

from __future__ import annotations

import pytest

from cityos.protection.detectors import TYPES, detect_value, find_all, matches_value

from .ids import make_card, make_id, make_uscc, wrong_id

VALID_ID = make_id("460105", "19900307", "123")
X_ID = next(
    i for i in (make_id("460108", "19851120", f"{n:03d}") for n in range(1000)) if i[-1] == "X"
)
VALID_USCC = make_uscc("91460100MA5T0QXB0")  # a made-up company in Haikou
GOV_USCC = make_uscc("11460100008152347")  # a made-up government body (all digits)
CARD16 = make_card("622202020011223")
CARD19 = make_card("621700123456789012")


def found(text: str) -> list[tuple[str, str]]:
    return [(m.type, m.value) for m in find_all(text)]


# --- 身份证号 ----------------------------------------------------------------------------------


def test_ids_and_mobiles_inside_a_chinese_sentence() -> None:
    text = f"张三的身份证号是{X_ID}，电话13800138000。"
    assert found(text) == [("id_card", X_ID), ("mobile", "13800138000")]
    match = find_all(text)[0]
    assert text[match.start : match.end] == X_ID


def test_id_glued_to_chinese_on_both_sides_is_found() -> None:
    text = f"身份证号{VALID_ID}联系"
    assert found(text) == [("id_card", VALID_ID)]


def test_lowercase_x_and_residence_permits() -> None:
    lower = X_ID[:-1] + "x"
    assert matches_value("id_card", lower)
    for region in ("810000", "820000", "830000"):
        permit = make_id(region, "19950601", "004")
        assert matches_value("id_card", permit)
        assert found(f"居住证号码：{permit}") == [("id_card", permit)]


def test_wrong_check_digit_is_not_an_id() -> None:
    bad = wrong_id(VALID_ID)
    assert not matches_value("id_card", bad)
    assert found(f"身份证号{bad}联系") == []
    # an ID-shaped number with a wrong check digit is not taken for a bank card either
    assert detect_value(bad) == ()


def test_impossible_or_future_birth_date_is_not_an_id() -> None:
    feb30 = make_id("460105", "19990230", "123")  # check digit right, date impossible
    future = make_id("460105", "20990101", "123")
    ancient = make_id("460105", "18000101", "123")
    for number in (feb30, future, ancient):
        assert not matches_value("id_card", number)
        assert found(f"证件号{number}。") == []
    assert matches_value("id_card", make_id("460105", "20000229", "123"))  # a real leap day


def test_ids_inside_longer_digit_or_letter_runs_are_not_ids() -> None:
    assert found(f"9{VALID_ID}") == []
    assert found(f"{VALID_ID}7") == []
    assert found(f"AB{VALID_ID}") == []
    assert found(f"{VALID_ID}CD") == []


def test_legacy_15_digit_ids_only_under_an_id_header() -> None:
    legacy = "460105900307123"
    assert not matches_value("id_card", legacy)
    assert matches_value("id_card", legacy, relaxed=True)
    assert detect_value(legacy) == ()
    assert detect_value(legacy, "id_card") == ("id_card",)


# --- 统一社会信用代码 ----------------------------------------------------------------------------


def test_uscc_valid_and_wrong_check_character() -> None:
    assert matches_value("uscc", VALID_USCC)
    assert matches_value("uscc", VALID_USCC.lower())  # a cell typed in lower case
    assert found(f"统一社会信用代码：{VALID_USCC}，") == [("uscc", VALID_USCC)]
    wrong = VALID_USCC[:17] + ("0" if VALID_USCC[17] != "0" else "1")
    assert not matches_value("uscc", wrong)
    assert found(f"代码{wrong}") == []
    assert detect_value(GOV_USCC) == ("uscc",)


def test_uscc_letters_outside_the_alphabet_are_refused() -> None:
    body = "91460100MA5T0QXI0"  # I is not used
    assert not matches_value("uscc", body + "0")


# --- bank cards --------------------------------------------------------------------------------


def test_luhn_valid_cards_in_text_and_cells() -> None:
    assert found(f"银行卡号{CARD19}，") == [("bank_card", CARD19)]
    assert found(f"卡号：{CARD16}") == [("bank_card", CARD16)]
    grouped = " ".join(CARD16[i : i + 4] for i in range(0, 16, 4))
    assert matches_value("bank_card", grouped)
    assert found(f"卡号 {grouped} 。") == [("bank_card", grouped)]
    assert detect_value(CARD19) == ("bank_card",)


def test_cards_failing_luhn_or_issuer_are_not_cards() -> None:
    bad = CARD16[:-1] + str((int(CARD16[-1]) + 1) % 10)
    assert not matches_value("bank_card", bad)
    unknown_issuer = make_card("123456789012345")  # Luhn-valid but no card network starts 1
    assert not matches_value("bank_card", unknown_issuer)
    assert not matches_value("bank_card", make_card("622202020011"))  # 13 digits
    assert not matches_value("bank_card", "0000000000000000")


def test_a_valid_id_is_an_id_even_when_it_passes_luhn() -> None:
    from .ids import luhn_digit

    both = next(
        i
        for i in (make_id("460106", "19880808", f"{n:03d}") for n in range(1000))
        if luhn_digit(i[:-1]) == i[-1]
    )
    assert detect_value(both) == ("id_card",)
    assert not matches_value("bank_card", both)
    assert found(f"号码{both}") == [("id_card", both)]


# --- mobiles -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "13800138000",
        "19912345678",
        "+8613800138000",
        "+86 138 0013 8000",
        "0086-138-0013-8000",
        "138 0013 8000",
        "138-0013-8000",
    ],
)
def test_mobile_variants(value: str) -> None:
    assert matches_value("mobile", value)
    assert detect_value(value) == ("mobile",)
    assert found(f"手机{value}联系") == [("mobile", value)]


@pytest.mark.parametrize(
    "value", ["12800138000", "138001380001", "1380013800", "138-0013 8000", "23800138000"]
)
def test_not_mobiles(value: str) -> None:
    assert not matches_value("mobile", value)
    assert "mobile" not in detect_value(value)


def test_mobile_inside_a_decimal_or_an_email_is_not_a_mobile() -> None:
    assert found("金额13800138000.50元") == []
    assert found("邮箱13800138000@163.com。") == [("email", "13800138000@163.com")]


# --- e-mail, plates, passports, permits ------------------------------------------------------------


def test_email_in_chinese_text() -> None:
    assert found("请发邮件至zhang.san@hainan.gov.cn，谢谢") == [
        ("email", "zhang.san@hainan.gov.cn")
    ]
    assert matches_value("email", "a@x.com")
    assert not matches_value("email", "a@x")
    assert not matches_value("email", "@x.com")


@pytest.mark.parametrize("plate", ["琼A12345", "琼AD12345", "琼A12345D", "粤B·3N2K8", "琼A1234挂"])
def test_plates(plate: str) -> None:
    assert matches_value("plate", plate)
    assert detect_value(plate) == ("plate",)
    assert found(f"车牌{plate}违停") == [("plate", plate)]


@pytest.mark.parametrize("value", ["琼I12345", "琼ABCDEF", "琼A1234", "A12345", "琼AB12C3D"])
def test_not_plates(value: str) -> None:
    assert not matches_value("plate", value)


@pytest.mark.parametrize("value", ["E12345678", "EA1234567", "G12345678"])
def test_passports(value: str) -> None:
    assert matches_value("passport", value)
    assert detect_value(value) == ("passport",)
    assert found(f"护照号{value}，") == [("passport", value)]


@pytest.mark.parametrize("value", ["E1234567", "EI1234567", "E123456789", "X12345678"])
def test_not_passports(value: str) -> None:
    assert not matches_value("passport", value)
    assert found(f"号码{value}") == []


@pytest.mark.parametrize(
    "value", ["C12345678", "CA1234567", "T12345678", "H12345678", "H1234567801", "M87654321"]
)
def test_travel_permits(value: str) -> None:
    assert matches_value("permit", value)
    assert detect_value(value) == ("permit",)
    assert found(f"通行证{value}。") == [("permit", value)]


# --- names and addresses ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["张伟", "王小明", "欧阳娜娜", "符海燕", "司马光", "林晓"])
def test_names(value: str) -> None:
    assert matches_value("name", value)


@pytest.mark.parametrize(
    "value", ["高级", "周一", "海口", "王先生", "单位", "张三丰丰丰", "美兰区", "金额", "Zhang"]
)
def test_not_names(value: str) -> None:
    assert not matches_value("name", value)


def test_names_in_text_only_after_a_cue() -> None:
    assert found("联系人张三电话13800138000") == [("name", "张三"), ("mobile", "13800138000")]
    assert found("姓名：欧阳娜娜，性别女") == [("name", "欧阳娜娜")]
    assert found("王府井大街人很多") == []


def test_relaxed_names_under_a_name_header() -> None:
    assert not matches_value("name", "买买提·艾力")
    assert matches_value("name", "买买提·艾力", relaxed=True)


@pytest.mark.parametrize(
    "value",
    [
        "海口市美兰区海甸岛人民大道58号",
        "海南省海口市龙华区金龙路18号3栋201室",
        "人民大道58号",
        "椰岛小区3栋2单元501室",
        "琼山区云龙镇云蛟村",
    ],
)
def test_addresses(value: str) -> None:
    assert matches_value("address", value)
    assert "address" in detect_value(value)


@pytest.mark.parametrize("value", ["海口市美兰区", "海府路", "海口市人民政府", "今天天气很好"])
def test_not_addresses(value: str) -> None:
    assert not matches_value("address", value)


def test_address_in_a_sentence_starts_at_the_place() -> None:
    assert found("我家住在海口市龙华区金龙路18号，欢迎") == [("address", "海口市龙华区金龙路18号")]


# --- no false positives --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "20240101123000",  # timestamp
        "1704067200000",  # epoch milliseconds
        "1704067200",
        "2024-01-01 12:30:00",
        "12345.67",
        "13800138000.00",
        "-4500.00",
        "202401011230001234",  # 18-digit order number
        "100000",
        "3.1415926535897932",
        "0",
        "是",
        "今天海口天气晴，气温28度，东南风3级",
        "N/A",
    ],
)
def test_plain_values_are_nothing(value: str) -> None:
    assert detect_value(value) == ()
    assert find_all(value) == []


def test_matches_value_knows_every_type_and_only_those() -> None:
    for kind in TYPES:
        assert matches_value(kind, "") is False
    with pytest.raises(ValueError):
        matches_value("religion", "x")


def test_a_remark_cell_reports_everything_it_contains() -> None:
    remark = f"联系人：王小明，身份证{VALID_ID}，住址海口市美兰区人民大道58号，手机13912345678"
    assert detect_value(remark) == ("id_card", "mobile", "name", "address")
