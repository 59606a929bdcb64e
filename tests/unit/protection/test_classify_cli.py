"""`cityos classify FILE`: CSV in UTF-8 or GBK, XLSX; exact JSON shape; clean errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from cityos.cli import main
from cityos.protection.detectors import TYPES

from .ids import make_card, make_id

HEADER = ["姓名", "身份证号", "手机号", "银行卡号", "住址", "邮箱", "车牌", "金额", "时间"]
EXPECTED = {
    "姓名": [("name", 1.0)],
    "身份证号": [("id_card", 1.0)],
    "手机号": [("mobile", 1.0)],
    "银行卡号": [("bank_card", 1.0)],
    "住址": [("address", 1.0)],
    "邮箱": [("email", 1.0)],
    "车牌": [("plate", 1.0)],
    "金额": [],
    "时间": [],
}
GRADES = {
    "姓名": "一般-3",
    "身份证号": "重要",
    "手机号": "一般-4",
    "银行卡号": "重要",
    "住址": "一般-4",
    "邮箱": "一般-3",
    "车牌": "一般-3",
    "金额": "一般-1",
    "时间": "一般-1",
}
NAMES = ("张伟", "王芳", "李娜", "陈静", "欧阳娜娜", "符海燕", "邢志强", "林晓明", "云天")


def rows(n: int = 40) -> list[list[str]]:
    out = []
    for i in range(n):
        out.append(
            [
                NAMES[i % len(NAMES)] if i < 9 else NAMES[i % 9][:1] + "子" + "明亮华文"[i % 4],
                make_id("460108", f"19{60 + i}0{1 + i % 9}1{i % 9}", f"{i:03d}"),
                f"1{3 + i % 7}{i:09d}",
                make_card(f"6217{i:014d}"),
                f"海口市美兰区人民大道{i + 1}号{i % 5 + 1}栋",
                f"user{i}@example.cn",
                f"琼A{10000 + i * 37}",
                f"{i * 123.45:.2f}",
                f"2024010112{i:04d}",
            ]
        )
    return out


def write_csv(path: Path, encoding: str) -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(HEADER)
        writer.writerows(rows())
    return path


def write_xlsx(path: Path) -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in rows():
        sheet.append([float(row[7]) if i == 7 else v for i, v in enumerate(row)])
    book.save(path)
    return path


def check_json(stdout: str) -> None:
    data = json.loads(stdout)  # nothing but JSON on stdout
    assert set(data) == {"columns"}
    assert [c["name"] for c in data["columns"]] == HEADER
    for column in data["columns"]:
        assert set(column) == {"name", "detected", "suggested_grade"}
        for item in column["detected"]:
            assert set(item) == {"type", "ratio"}
            assert item["type"] in TYPES
            assert isinstance(item["ratio"], float) and 0 <= item["ratio"] <= 1
        found = [(d["type"], d["ratio"]) for d in column["detected"]]
        assert found == EXPECTED[column["name"]], column["name"]
        assert column["suggested_grade"] == GRADES[column["name"]], column["name"]


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030"])
def test_csv_json_output_in_any_usual_encoding(tmp_path: Path, encoding: str) -> None:
    path = write_csv(tmp_path / "people.csv", encoding)
    result = CliRunner().invoke(main, ["classify", str(path), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    check_json(result.stdout)


def test_xlsx_json_output(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "people.xlsx")
    result = CliRunner().invoke(main, ["classify", str(path), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    check_json(result.stdout)


def test_text_output_is_a_chinese_table(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "people.csv", "gbk")
    result = CliRunner().invoke(main, ["classify", str(path), "--sample", "10"])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for label in ("列名", "建议级别", "居民身份证号 100.0%", "手机号码", "敏感个人信息", "重要"):
        assert label in out
    assert "资源建议级别：重要" in out
    assert "已扫描 10 行" in out


def test_semicolon_csv_is_sniffed(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text("编号;手机\n1;13800138000\n2;13900139000\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["classify", str(path), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    columns = json.loads(result.stdout)["columns"]
    assert columns[1] == {
        "name": "手机",
        "detected": [{"type": "mobile", "ratio": 1.0}],
        "suggested_grade": "一般-4",
    }


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "没有表头行"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 64, ".xls"),
        (b"PK\x03\x04 not really a zip", "XLSX"),
        (b"a,b\n\x00\x01\x02,x\n", "CSV"),
        (b"\xff\xff\xff,\x81\x30\n", "UTF-8"),
    ],
)
def test_bad_files_exit_2_with_a_message_on_stderr(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    result = CliRunner().invoke(main, ["classify", str(path), "--format", "json"])
    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["classify", str(tmp_path / "nope.csv")])
    assert result.exit_code == 2
    assert result.stdout == ""
