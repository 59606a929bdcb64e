"""A deterministic CSV of Haikou business records: 10 columns of mixed Chinese data.

1,000,000 rows make about 110 MB. The same seed and row count give the same bytes, so the
file is generated once into bench/.work and reused.
"""

from __future__ import annotations

import csv
import random
from datetime import date, datetime, timedelta
from pathlib import Path

from bench.common import WORK, log

SEED = 20240601
# (field, 信息项名称, data type): the shape of the resource and of the baseline tables
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("id", "编号", "integer"),
    ("name", "姓名", "string"),
    ("district", "所属区", "string"),
    ("category", "行业类别", "string"),
    ("amount", "金额", "number"),
    ("count", "次数", "integer"),
    ("flag", "是否核验", "boolean"),
    ("day", "登记日期", "date"),
    ("ts", "更新时间", "datetime"),
    ("note", "备注", "text"),
)
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘符蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦云吉"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉萍红娥玲芬燕彬鹏辉健俊帆琳晨海南琼椰"
DISTRICTS = ("秀英区", "龙华区", "琼山区", "美兰区")
CATEGORIES = (
    "餐饮服务",
    "批发零售",
    "交通运输",
    "住宿",
    "医疗卫生",
    "教育培训",
    "文化旅游",
    "建筑施工",
    "信息技术",
    "金融服务",
    "房地产",
    "农林渔业",
)
STREETS = (
    "海秀中路",
    "国兴大道",
    "龙昆南路",
    "滨海大道",
    "南海大道",
    "海府路",
    "白龙南路",
    "椰海大道",
    "和平大道",
    "人民大道",
    "美兰机场路",
    "府城大道",
)
NOTES = (
    "已核实，无异常",
    "待复核",
    "材料齐全",
    "电话回访：满意",
    "现场检查合格",
    "整改中，限期一周",
    "企业已注销",
    "信息变更（法人代表）",
    "",
    "",
)
START_DAY = date(2023, 1, 1)
START_TS = datetime(2023, 1, 1, 0, 0, 0)


def csv_path(rows: int) -> Path:
    return WORK / f"records-{rows}.csv"


def _note(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.15:  # an address with an ASCII comma and quotes: exercises CSV quoting
        return f'地址: 海口市{rng.choice(DISTRICTS)}{rng.choice(STREETS)}{rng.randint(1, 399)}号, "{rng.choice(CATEGORIES)}"'
    return rng.choice(NOTES)


def generate(rows: int) -> Path:
    """Write (once) and return the CSV with ``rows`` data rows and a header of field names."""
    path = csv_path(rows)
    if path.exists():
        return path
    WORK.mkdir(parents=True, exist_ok=True)
    log(f"generating {rows:,} rows into {path.name}")
    rng = random.Random(SEED)
    tmp = path.with_suffix(".tmp")
    with tmp.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow([c[0] for c in COLUMNS])
        for i in range(1, rows + 1):
            given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
            day = START_DAY + timedelta(days=rng.randrange(730))
            ts = START_TS + timedelta(seconds=rng.randrange(730 * 86400))
            out.writerow(
                (
                    i,
                    rng.choice(SURNAMES) + given,
                    rng.choice(DISTRICTS),
                    rng.choice(CATEGORIES),
                    f"{rng.uniform(0, 100_000):.2f}",
                    rng.randrange(1000),
                    "true" if rng.random() < 0.5 else "false",
                    day.isoformat(),
                    ts.isoformat(sep=" "),
                    _note(rng),
                )
            )
    tmp.rename(path)
    log(f"{path.name}: {path.stat().st_size / 1e6:.0f} MB")
    return path
