"""Synthetic places: schools, medical institutions, shelters, bus stops, car parks, job agencies,
flood-prone spots. Each lies strictly inside the polygon of the district it names."""

from __future__ import annotations

import random
from typing import Any

from cityos.demo import geo
from cityos.demo.people import STREETS, address, office_phone, weighted
from cityos.demo.records_people import DISTRICT_WEIGHTS, FIRM_NAMES, rng_for
from cityos.directory.codes import district_name

Record = dict[str, Any]

# neighbourhoods (街道) and towns (镇) of each district
PLACES: dict[str, tuple[str, ...]] = {
    "460105": ("秀英", "海秀", "长流", "西秀", "永庄", "向荣", "书场", "长德", "丘海", "海港"),
    "460106": ("金盘", "滨海", "大同", "玉沙", "城西", "中山", "金宇", "海垦", "龙昆", "坡博"),
    "460107": ("府城", "凤翔", "国兴", "滨江", "红城湖", "文庄", "高登", "龙昆南", "红旗", "大园"),
    "460108": ("海甸", "白龙", "和平", "博爱", "人民路", "蓝天", "新埠", "白沙", "美舍", "灵山"),
}
TOWNS: dict[str, tuple[str, ...]] = {
    "460105": ("石山", "永兴", "东山", "长流"),
    "460106": ("新坡", "遵谭", "龙泉", "龙桥"),
    "460107": ("三门坡", "云龙", "红旗", "大坡", "甲子", "旧州", "龙塘"),
    "460108": ("演丰", "三江", "大致坡", "灵山"),
}
LANDMARKS: dict[str, tuple[str, ...]] = {
    "460105": ("秀英港", "新海港", "海口火车站", "假日海滩", "五源河体育场", "西海岸", "省肿瘤医院"),
    "460106": ("国贸", "万绿园", "明珠广场", "金牛岭公园", "市政府", "海口湾", "大同里"),
    "460107": ("府城", "红城湖", "五公祠", "琼台福地", "椰博", "琼山中学", "凤翔湿地公园"),
    "460108": ("海南大学", "白沙门公园", "人民公园", "骑楼老街", "东门市场", "美兰机场", "江东新区"),
}


def _district(rng: random.Random) -> str:
    return weighted(rng, DISTRICT_WEIGHTS)


def _point(rng: random.Random, district: str, rural: bool = False) -> tuple[float, float]:
    return geo.random_point(rng, district) if rural else geo.urban_point(rng, district, 0.025)


def _place_fields(rng: random.Random, district: str, rural: bool = False) -> Record:
    lon, lat = _point(rng, district, rural)
    return {
        "district": district,
        "address": address(rng, district, home=False),
        "longitude": lon,
        "latitude": lat,
    }


def _unique(rng: random.Random, make: Any, seen: set[str]) -> str:
    for _ in range(1000):
        name = str(make())
        if name not in seen:
            seen.add(name)
            return name
    raise RuntimeError("name space exhausted")  # pragma: no cover


SCHOOL_TYPES: tuple[tuple[str, int], ...] = (
    ("幼儿园", 32), ("小学", 36), ("初级中学", 10), ("完全中学", 6), ("九年一贯制学校", 5),
    ("中等职业学校", 3),
)
CHINESE_NUMERALS = "一二三四五六七八九十"


def _ordinal(n: int) -> str:
    if n <= 10:
        return CHINESE_NUMERALS[n - 1]
    return ("十" if n < 20 else CHINESE_NUMERALS[n // 10 - 1] + "十") + (
        CHINESE_NUMERALS[n % 10 - 1] if n % 10 else ""
    )


def schools(count: int = 92) -> list[Record]:
    rng = rng_for("schools")
    seen: set[str] = set()
    rows: list[Record] = []
    middle_numbers = iter(rng.sample(range(1, 31), 30))
    for n in range(count):
        district = _district(rng)
        kind = weighted(rng, SCHOOL_TYPES)
        private = rng.random() < (0.45 if kind == "幼儿园" else 0.12)
        area = district_name(district)

        def make(
            kind: str = kind, district: str = district, private: bool = private, area: str = area
        ) -> str:
            place = rng.choice(PLACES[district])
            if kind == "完全中学":
                return f"海口市第{_ordinal(next(middle_numbers))}中学"
            if kind == "中等职业学校":
                return f"海口{rng.choice(('旅游', '经济', '科技', '商业', '艺术'))}职业学校"
            if private:
                return f"海口{rng.choice(FIRM_NAMES)}{'幼儿园' if kind == '幼儿园' else '实验学校'}"
            return f"海口市{area}{place}{kind if kind != '初级中学' else '中学'}"

        name = _unique(rng, make, seen)
        students = {
            "幼儿园": (90, 450), "小学": (600, 2800), "初级中学": (800, 2200),
            "完全中学": (1500, 4200), "九年一贯制学校": (900, 2600), "中等职业学校": (1200, 3500),
        }[kind]
        pupils = rng.randrange(*students)
        rows.append(
            {
                "code": f"2146{n + 1:06d}",
                "name": name,
                "school_type": kind,
                "ownership": "民办" if private else "公办",
                "students": pupils,
                "teachers": max(8, int(pupils / rng.uniform(12, 17))),
                "phone": office_phone(rng),
                **_place_fields(rng, district, rural=rng.random() < 0.15),
            }
        )
    return rows


def hospitals() -> list[Record]:
    rng = rng_for("hospitals")
    rows: list[Record] = []
    specs: list[tuple[str, str, str, str, tuple[int, int], bool]] = [
        # name, type, grade, district, beds range, rural
        ("海口市人民医院", "综合医院", "三级甲等", "460108", (1800, 2600), False),
        ("海口市第三人民医院", "综合医院", "二级甲等", "460108", (400, 700), False),
        ("海口市第四人民医院", "综合医院", "二级甲等", "460107", (300, 600), False),
        ("海口市中医医院", "中医医院", "三级甲等", "460106", (600, 1000), False),
        ("海口市妇幼保健院", "妇幼保健院", "三级", "460106", (300, 500), False),
        ("海口市骨科与糖尿病医院", "专科医院", "三级", "460105", (400, 700), False),
        ("海口市疾病预防控制中心门诊部", "门诊部", "未定级", "460106", (0, 1), False),
    ]
    for district in geo.DISTRICT_CODES:
        area = district_name(district)
        specs.append((f"海口市{area}人民医院", "综合医院", "二级甲等", district, (200, 500), False))
        for place in rng.sample(PLACES[district], 4):
            specs.append(
                (f"海口市{area}{place}社区卫生服务中心", "社区卫生服务中心", "一级", district, (0, 40), False)
            )
        for town in TOWNS[district]:
            specs.append((f"海口市{area}{town}镇卫生院", "乡镇卫生院", "一级", district, (10, 60), True))
    for firm in rng.sample(FIRM_NAMES, 8):
        kind = rng.choice(("综合医院", "专科医院", "专科医院", "门诊部"))
        suffix = {"综合医院": "医院", "门诊部": "门诊部"}.get(
            kind, rng.choice(("眼科医院", "口腔医院", "妇产医院", "康复医院"))
        )
        beds = (0, 1) if kind == "门诊部" else (30, 200)
        grade = "未定级" if kind == "门诊部" else rng.choice(("一级", "二级"))
        specs.append((f"海口{firm}{suffix}", kind, grade, _district(rng), beds, False))
    for n, (name, kind, grade, district, beds, rural) in enumerate(specs, start=1):
        rows.append(
            {
                "code": f"HKYL{n:04d}",
                "name": name,
                "institution_type": kind,
                "grade": grade,
                "beds": rng.randrange(*beds),
                "emergency": kind in ("综合医院", "中医医院") or (kind == "乡镇卫生院" and rng.random() < 0.3),
                "phone": office_phone(rng),
                **_place_fields(rng, district, rural),
            }
        )
    return rows


SHELTER_TYPES = (("Ⅰ类（长期）", 3), ("Ⅱ类（中期）", 8), ("Ⅲ类（紧急）", 14), ("室内避难场所", 15))


def shelters(count: int = 44) -> list[Record]:
    rng = rng_for("shelters")
    seen: set[str] = set()
    rows: list[Record] = []
    for n in range(1, count + 1):
        district = _district(rng)
        kind = weighted(rng, SHELTER_TYPES)
        indoor = kind == "室内避难场所"

        def make(district: str = district, indoor: bool = indoor) -> str:
            place = rng.choice(PLACES[district] + TOWNS[district])
            if indoor:
                venue = rng.choice(("中学", "小学", "文体中心", "体育馆", "党群服务中心"))
                return f"{place}{venue}室内避难场所"
            return f"{place}{rng.choice(('公园', '文体广场', '体育场', '绿地'))}应急避难场所"

        name = _unique(rng, make, seen)
        capacity = {
            "Ⅰ类（长期）": (8000, 30000), "Ⅱ类（中期）": (2000, 8000),
            "Ⅲ类（紧急）": (500, 2000), "室内避难场所": (150, 1200),
        }[kind]
        people = rng.randrange(*capacity) // 10 * 10
        facilities = ["应急供水", "应急照明", "应急厕所"]
        if not indoor:
            facilities += ["应急帐篷区"]
        if people > 2000:
            facilities += ["医疗救护点", "物资储备点"]
        if indoor:
            facilities += ["床位", "应急广播"]
        rows.append(
            {
                "code": f"HKBN{n:03d}",
                "name": name,
                "shelter_type": kind,
                "capacity": people,
                "area_m2": round(people * (2.0 if indoor else rng.uniform(1.5, 3.0)), 1),
                "facilities": "、".join(facilities),
                "manager": f"海口市{district_name(district)}人民政府",
                **_place_fields(rng, district, rural=rng.random() < 0.3),
            }
        )
    return rows


def bus_stops(count: int = 320) -> list[Record]:
    rng = rng_for("bus_stops")
    seen: set[str] = set()
    rows: list[Record] = []
    lines = [f"{n}路" for n in range(1, 81)] + ["旅游观光1线", "K1路", "K2路", "夜班1路"]
    for n in range(1, count + 1):
        district = _district(rng)
        streets = [s for s in STREETS[district] if not s.endswith(("镇", "片区"))]

        def make(district: str = district, streets: list[str] = streets) -> str:
            roll = rng.random()
            if roll < 0.3:
                return rng.choice(LANDMARKS[district]) + rng.choice(("", "站", "东站", "西站", "北"))
            if roll < 0.7:
                a, b = rng.sample(streets, 2)
                return f"{a}{b.removesuffix('路').removesuffix('大道').removesuffix('街')}路口"
            return rng.choice(streets) + rng.choice(PLACES[district]) + rng.choice(("站", "市场", "小区"))

        name = _unique(rng, make, seen)
        lon, lat = geo.urban_point(rng, district, 0.03)
        rows.append(
            {
                "stop_id": f"HKB{n:04d}",
                "name": name,
                "lines": ",".join(sorted(rng.sample(lines, rng.randrange(1, 7)), key=_line_order)),
                "has_shelter": rng.random() < 0.8,
                "district": district,
                "longitude": lon,
                "latitude": lat,
            }
        )
    return rows


def _line_order(line: str) -> tuple[int, str]:
    digits = "".join(c for c in line if c.isdigit())
    return (int(digits) if digits else 999, line)


FEES = (
    "首小时 5 元，之后每小时 2 元，每日最高 30 元",
    "首小时 3 元，之后每小时 1 元",
    "小型车 2 元/半小时，夜间（22:00—7:00）1 元/小时",
    "免费（限时 2 小时）",
    "按次收费 10 元",
)


def parking(count: int = 126) -> list[Record]:
    rng = rng_for("parking")
    seen: set[str] = set()
    rows: list[Record] = []
    for n in range(1, count + 1):
        district = _district(rng)
        lot_type = weighted(rng, (("公共", 45), ("配建", 40), ("路内", 15)))

        def make(district: str = district, lot_type: str = lot_type) -> str:
            if lot_type == "路内":
                return f"{rng.choice(STREETS[district])}路内停车泊位（{rng.randrange(1, 9)}段）"
            base = rng.choice(LANDMARKS[district] + PLACES[district])
            return base + rng.choice(("公共停车场", "地下停车场", "立体停车楼", "停车场"))

        name = _unique(rng, make, seen)
        spaces = rng.randrange(20, 120) if lot_type == "路内" else rng.randrange(60, 1600)
        place = _place_fields(rng, district)
        if lot_type == "路内":
            place["address"] = f"海口市{district_name(district)}{name.split('路内')[0]}"
        rows.append(
            {
                "code": f"HKP{n:04d}",
                "name": name,
                "lot_type": lot_type,
                "spaces": spaces,
                "charging_spaces": 0 if lot_type == "路内" else int(spaces * rng.uniform(0.0, 0.2)),
                "fee": rng.choice(FEES),
                **place,
            }
        )
    return rows


def job_agencies() -> list[Record]:
    rng = rng_for("job_agencies")
    specs: list[tuple[str, str, str, str]] = [
        ("海口市公共就业服务中心", "公共就业服务机构", "460106", "职业介绍、职业指导、就业登记、失业登记、创业担保贷款"),
    ]
    for district in geo.DISTRICT_CODES:
        area = district_name(district)
        specs.append(
            (f"海口市{area}公共就业服务中心", "公共就业服务机构", district, "就业登记、失业登记、招聘会、技能培训")
        )
        for place in rng.sample(PLACES[district], 3):
            specs.append(
                (f"{area}{place}街道劳动保障服务站", "基层公共就业服务平台", district, "岗位推介、就业援助、社保业务代办")
            )
    for firm in rng.sample(FIRM_NAMES, 12):
        specs.append(
            (
                f"海南{firm}人力资源服务有限公司",
                "经营性人力资源服务机构",
                _district(rng),
                rng.choice(("人才推荐、劳务派遣", "招聘外包、灵活用工", "猎头服务、人才测评", "职业介绍、培训")),
            )
        )
    return [
        {
            "code": f"HKJY{n:03d}",
            "name": name,
            "agency_type": kind,
            "services": services,
            "phone": office_phone(rng),
            **_place_fields(rng, district),
        }
        for n, (name, kind, district, services) in enumerate(specs, start=1)
    ]


def waterlogging(count: int = 26) -> list[Record]:
    rng = rng_for("waterlogging")
    seen: set[str] = set()
    rows: list[Record] = []
    measures = (
        "设置移动泵车，暴雨预警时提前值守",
        "已完成雨水管网改造，汛期加强巡查",
        "设置积水警示牌和水尺，积水超 30 cm 时交通管制",
        "新建调蓄池（在建），临时抽排",
    )
    for _ in range(count):
        district = rng.choice(("460106", "460106", "460108", "460108", "460107", "460105"))
        streets = [s for s in STREETS[district] if not s.endswith(("镇", "片区"))]

        def make(streets: list[str] = streets, district: str = district) -> str:
            if rng.random() < 0.2:
                return f"{rng.choice(LANDMARKS[district])}下穿通道"
            a, b = rng.sample(streets, 2)
            return f"{a}与{b}交叉口"

        name = _unique(rng, make, seen)
        rows.append(
            {
                "name": name,
                "max_depth_cm": rng.randrange(15, 90),
                "measure": rng.choice(measures),
                **_place_fields(rng, district),
            }
        )
        rows[-1]["address"] = f"海口市{district_name(district)}{name}"
    return rows
