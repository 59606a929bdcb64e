"""Column scan: shares of matching values, thresholds, header hints and suggested grades."""

from __future__ import annotations

import random

from cityos.protection.grades import GRADES, TYPE_GRADES, grade_for_types, resource_grade
from cityos.protection.scan import header_hint, resource_suggestion, scan_columns

from .ids import make_id, make_uscc, wrong_id

SURNAMES = "王李张刘陈杨黄吴林符邢云"
GIVEN = "伟芳娜敏静丽强磊军洋勇杰娟涛明超秀霞平刚"


def people(n: int, seed: int = 7) -> list[list[str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        name = rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=rng.randint(1, 2)))
        ident = make_id("460106", f"{rng.randint(1950, 2005)}0{rng.randint(1, 9)}15", f"{i:03d}")
        mobile = f"139{rng.randint(0, 99_999_999):08d}"
        address = f"海口市龙华区金龙路{rng.randint(1, 300)}号"
        amount = f"{rng.randint(1, 999_999) / 100:.2f}"
        stamp = f"202401{rng.randint(10, 28)}{rng.randint(100000, 235959)}"
        title = ("高级", "中级", "初级")[i % 3]
        rows.append([name, ident, mobile, address, amount, stamp, title])
    return rows


HEADER = ["姓名", "身份证号", "手机号", "住址", "金额", "时间", "职称"]


def by_name(reports: list) -> dict:
    return {r.name: r for r in reports}


def test_a_register_is_classified_column_by_column() -> None:
    reports = by_name(scan_columns(HEADER, people(200)))
    assert reports["姓名"].detected == [("name", 1.0)]
    assert reports["身份证号"].detected == [("id_card", 1.0)]
    assert reports["手机号"].detected == [("mobile", 1.0)]
    assert reports["住址"].detected == [("address", 1.0)]
    for plain in ("金额", "时间", "职称"):
        assert reports[plain].detected == [], plain
        assert reports[plain].suggested_grade == "一般-1"
        assert reports[plain].personal_category is None
    assert reports["身份证号"].suggested_grade == "重要"
    assert reports["身份证号"].personal_category == "sensitive_personal"
    assert reports["手机号"].suggested_grade == "一般-4"
    assert reports["姓名"].suggested_grade == "一般-3"
    assert reports["姓名"].personal_category == "personal"
    assert resource_suggestion(reports.values()) == "重要"


def test_ratio_is_the_share_of_non_empty_values_rounded() -> None:
    valid = [make_id("460107", "19800101", f"{i:03d}") for i in range(6)]
    rows = [[v] for v in valid] + [[wrong_id(valid[0])]] * 1 + [[""]] * 5 + [[None]]
    (report,) = scan_columns(["证件号码"], rows)
    assert report.non_empty == 7
    assert report.detected == [("id_card", round(6 / 7, 4))]
    assert report.hint == "id_card"


def test_types_below_the_threshold_are_not_reported_and_the_threshold_is_configurable() -> None:
    rows = [[f"13{i % 10}0000{i:04d}"] if i % 20 == 0 else [f"{i * 3.5:.2f}"] for i in range(200)]
    (report,) = scan_columns(["备注"], rows)
    assert report.detected == []
    (report,) = scan_columns(["备注"], rows, min_ratio=0.01)
    assert report.detected == [("mobile", 0.05)]


def test_detected_types_are_sorted_by_ratio() -> None:
    ident = make_id("460108", "19700101", "001")
    rows = [[ident]] * 3 + [["13800138000"]] * 5 + [["无"]] * 2
    (report,) = scan_columns(["联系方式"], rows)
    assert report.detected == [("mobile", 0.5), ("id_card", 0.3)]
    assert report.suggested_grade == "重要"  # the highest of the detected types


def test_a_header_never_overrides_the_values() -> None:
    rows = [[wrong_id(make_id("460105", "19900101", f"{i:03d}"))] for i in range(50)]
    (report,) = scan_columns(["身份证号"], rows)
    assert report.detected == []
    assert report.suggested_grade == "一般-1"


def test_header_hints_relax_names_addresses_and_legacy_ids() -> None:
    names = [["买买提·艾力"], ["阿依古丽"], ["热依拉"], ["古丽娜"]]
    assert scan_columns(["姓名"], names)[0].detected == [("name", 1.0)]
    assert scan_columns(["备注"], names)[0].detected == []
    legacy = [["460105900307123"], ["460106851120456"]]
    assert scan_columns(["身份证号码"], legacy)[0].detected == [("id_card", 1.0)]
    assert scan_columns(["编号"], legacy)[0].detected == []


def test_names_without_a_header_need_most_of_the_column() -> None:
    rows = people(100)
    mostly = [[r[0]] for r in rows]
    assert scan_columns(["col3"], mostly)[0].detected == [("name", 1.0)]
    few = [[r[0]] if i % 4 == 0 else ["已办结"] for i, r in enumerate(rows)]
    assert scan_columns(["col3"], few)[0].detected == []
    assert scan_columns(["联系人"], few)[0].detected == [("name", 0.25)]


def test_a_few_repeated_name_like_words_are_a_category_not_people() -> None:
    rows = [[("王强", "李明", "张伟")[i % 3]] for i in range(90)]
    assert scan_columns(["等级"], rows)[0].detected == []


def test_a_large_name_column_is_still_names() -> None:
    rng = random.Random(3)
    given = "伟芳娜敏静丽强磊军洋勇杰娟涛明超秀霞平刚桂英华玉兰海燕志鹏晓婷雪梅宇轩浩然"
    rows = [[rng.choice(SURNAMES) + "".join(rng.choices(given, k=2))] for _ in range(10_000)]
    assert scan_columns(["col"], rows)[0].detected == [("name", 1.0)]


def test_sample_limits_the_rows_read_and_ragged_rows_are_fine() -> None:
    rows = [["13800138000", "x", "extra"], ["13800138001"], [], ["13800138002", None]] * 10
    reports = scan_columns(["手机", "说明"], iter(rows), sample=8)
    assert reports[0].non_empty == 6
    assert reports[0].detected == [("mobile", 1.0)]
    assert reports[1].detected == []


def test_json_shape_of_a_column_report() -> None:
    (report,) = scan_columns(["手机"], [["13800138000"]])
    assert report.to_json() == {
        "name": "手机",
        "detected": [{"type": "mobile", "ratio": 1.0}],
        "suggested_grade": "一般-4",
    }


def test_header_hints() -> None:
    assert header_hint("身份证号") == "id_card"
    assert header_hint("联系人电话") == "mobile"
    assert header_hint("联系人") == "name"
    assert header_hint("电子邮件地址") == "email"
    assert header_hint("hotel_name") is None
    assert header_hint("contact_phone") == "mobile"
    assert header_hint("金额") is None


def test_grade_table_is_complete_and_ordered() -> None:
    assert set(TYPE_GRADES) == {
        "id_card", "uscc", "bank_card", "mobile", "email", "plate", "passport", "permit",
        "name", "address",
    }  # fmt: skip
    for entry in TYPE_GRADES.values():
        assert entry.grade in GRADES
    for sensitive in ("id_card", "bank_card", "passport", "permit"):
        assert TYPE_GRADES[sensitive].grade == "重要"
        assert TYPE_GRADES[sensitive].personal_category == "sensitive_personal"
    assert grade_for_types(["uscc"]) == ("一般-1", None)
    assert grade_for_types(["name", "id_card"]) == ("重要", "sensitive_personal")
    assert grade_for_types([]) == ("一般-1", None)


def test_resource_grade_raises_a_name_next_to_a_phone_number() -> None:
    assert resource_grade(["一般-3"], ["name"]) == "一般-3"
    assert resource_grade(["一般-3", "一般-3"], ["name", "email"]) == "一般-4"
    assert resource_grade(["一般-3", "重要"], ["name", "id_card"]) == "重要"
    assert resource_grade([], []) == "一般-1"


def test_organisation_codes_are_public_data() -> None:
    rows = [[make_uscc(f"9146010{i:02d}MA5T0QX0")] for i in range(20)]
    (report,) = scan_columns(["统一社会信用代码"], rows)
    assert report.detected == [("uscc", 1.0)]
    assert report.suggested_grade == "一般-1"
    assert report.personal_category is None
