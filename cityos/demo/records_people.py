"""Synthetic records about people and enterprises (seeded: the same on every run)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from cityos.demo import geo
from cityos.demo.people import (
    BIRTHPLACES,
    ETHNICITIES,
    address,
    birth_date,
    id_number,
    mobile,
    person_name,
    uscc,
    weighted,
)
from cityos.directory.codes import district_name

Record = dict[str, Any]

# the date the static records are "as of" (fixed, so that every load is identical)
AS_OF = date(2025, 6, 30)
# share of people and businesses by district (龙华 and 美兰 are the densest)
DISTRICT_WEIGHTS: tuple[tuple[str, int], ...] = (
    ("460105", 18), ("460106", 36), ("460107", 20), ("460108", 26),
)
OLD_HAIKOU_CODES = {"460102", "460103", "460104"}  # before the 2002 redistricting


def rng_for(name: str) -> random.Random:
    return random.Random(f"cityos-demo:{name}")


def residents(count: int = 2400) -> list[Record]:
    """居民: valid ID numbers (unique), name matching the gender digit, address in a district."""
    rng = rng_for("residents")
    seen: set[str] = set()
    rows: list[Record] = []
    while len(rows) < count:
        male = rng.random() < 0.51
        born = birth_date(rng, AS_OF)
        region = weighted(rng, BIRTHPLACES)
        if born.year >= 2003 and region in OLD_HAIKOU_CODES:
            region = rng.choice(geo.DISTRICT_CODES)
        sequence = rng.randrange(500)
        number = id_number(region, born, sequence, male)
        while number in seen:
            sequence += 1
            number = id_number(region, born, sequence, male)
        seen.add(number)
        district = weighted(rng, DISTRICT_WEIGHTS)
        registered_from = max(born, date(2000, 1, 1))
        registered = registered_from + timedelta(
            days=rng.randrange(max((AS_OF - registered_from).days, 1))
        )
        age = (AS_OF - born).days // 365
        rows.append(
            {
                "id_number": number,
                "name": person_name(rng, male),
                "gender": "男" if male else "女",
                "birth_date": born.isoformat(),
                "ethnicity": weighted(rng, ETHNICITIES),
                "birthplace_code": region,
                "district": district,
                "address": address(rng, district),
                "phone": mobile(rng) if age >= 14 else None,
                "registered_on": registered.isoformat(),
            }
        )
    return rows


POPULATION_2019 = {"460105": 341_000, "460106": 563_000, "460107": 502_000, "460108": 557_000}


def population_stats() -> list[Record]:
    rng = rng_for("population_stats")
    rows: list[Record] = []
    for code, base in POPULATION_2019.items():
        population = base
        for year in range(2019, 2025):
            male = int(population * rng.uniform(0.505, 0.515))
            rows.append(
                {
                    "year": year,
                    "district": code,
                    "district_name": district_name(code),
                    "households": int(population / rng.uniform(2.7, 2.9)),
                    "population": population,
                    "male": male,
                    "female": population - male,
                }
            )
            population = int(population * rng.uniform(1.012, 1.035))
    return rows


# 国民经济行业门类 (GB/T 4754-2017) → words used in enterprise names
INDUSTRIES: tuple[tuple[str, int, tuple[str, ...]], ...] = (
    ("批发和零售业", 26, ("贸易", "商贸", "进出口贸易", "供应链管理", "百货")),
    ("租赁和商务服务业", 14, ("商务服务", "企业管理咨询", "会展服务", "广告")),
    ("信息传输、软件和信息技术服务业", 12, ("网络科技", "信息技术", "数字科技", "软件开发")),
    ("住宿和餐饮业", 10, ("餐饮管理", "酒店管理", "美食")),
    ("建筑业", 8, ("建筑工程", "装饰工程", "市政工程")),
    ("房地产业", 6, ("房地产开发", "物业服务", "置业")),
    ("科学研究和技术服务业", 6, ("生物科技", "检测技术", "工程设计")),
    ("交通运输、仓储和邮政业", 5, ("物流", "运输", "冷链物流")),
    ("文化、体育和娱乐业", 5, ("文化传媒", "文化旅游", "体育发展")),
    ("农、林、牧、渔业", 4, ("农业开发", "热带农业", "水产养殖")),
    ("制造业", 2, ("食品", "医药", "椰子制品")),
    ("居民服务、修理和其他服务业", 2, ("家政服务", "汽车服务")),
)
FIRM_NAMES = (
    "椰风", "南洋", "鼎盛", "华信", "恒泰", "盛达", "金海", "万绿", "蓝湾", "新港", "博雅", "天涯",
    "琼华", "椰林", "海韵", "南国", "琼州", "椰乡", "星海", "汇通", "嘉禾", "宏远", "瑞丰", "佳和",
    "中汇", "启航", "海纳", "云帆", "鹏程", "锦华", "长青", "美林", "福瑞", "优品", "信达", "诚远",
    "海岸", "蓝海", "绿源", "永安", "同创", "和顺", "乐活", "尚品", "巨丰", "远景", "正和", "融创",
)
ENTERPRISE_TYPES: tuple[tuple[str, int], ...] = (
    ("有限责任公司（自然人投资或控股）", 62),
    ("有限责任公司（自然人独资）", 16),
    ("有限责任公司（非自然人投资或控股的法人独资）", 6),
    ("其他有限责任公司", 4),
    ("股份有限公司（非上市、自然人投资或控股）", 3),
    ("有限合伙企业", 3),
    ("个人独资企业", 4),
    ("有限责任公司（外国法人独资）", 2),
)
STATUSES: tuple[tuple[str, int], ...] = (("存续", 85), ("在业", 8), ("注销", 5), ("吊销", 2))
CAPITALS = (3, 10, 50, 100, 200, 300, 500, 1000, 2000, 5000, 10000)


def _enterprise_name(rng: random.Random, words: tuple[str, ...], etype: str) -> str:
    firm = rng.choice(FIRM_NAMES) + (rng.choice(FIRM_NAMES)[0] if rng.random() < 0.35 else "")
    place = rng.choice(("海南", "海口", "海口", "海口市"))
    word = rng.choice(words)
    if etype == "有限合伙企业":
        return f"{place}{firm}{word}合伙企业（有限合伙）"
    if etype == "个人独资企业":
        return f"海口{firm}{word}商行"
    if etype.startswith("股份"):
        return f"{place}{firm}{word}股份有限公司"
    return f"{place}{firm}{word}有限公司"


def enterprises(count: int = 520) -> list[Record]:
    """企业: valid USCC (91 + 4601xx + organisation code + check), unique names, a place."""
    rng = rng_for("enterprises")
    names: set[str] = set()
    codes: set[str] = set()
    industry_table = tuple((name, weight) for name, weight, _ in INDUSTRIES)
    words_of = {name: words for name, _, words in INDUSTRIES}
    rows: list[Record] = []
    while len(rows) < count:
        industry = weighted(rng, industry_table)
        etype = weighted(rng, ENTERPRISE_TYPES)
        name = _enterprise_name(rng, words_of[industry], etype)
        if name in names:
            continue
        district = weighted(rng, DISTRICT_WEIGHTS)
        # registrations since 2018 (the free trade port) dominate
        year = int(rng.triangular(1995, 2025.99, 2022))
        established = date(year, 1, 1) + timedelta(days=rng.randrange(365))
        established = min(established, AS_OF - timedelta(days=rng.randrange(1, 30)))
        by_district = rng.random() < 0.6
        region = district if by_district else "460100"
        # since 2016 organisation codes are assigned as MA + …; before, 8 digits
        prefix = "MA5T" if year >= 2016 else "".join(rng.choice("0123456789") for _ in range(8))
        code = uscc(rng, "91", region, prefix)
        if code in codes:
            continue
        names.add(name)
        codes.add(code)
        lon, lat = geo.urban_point(rng, district, spread=0.03)
        authority = (
            f"海口市{district_name(district)}市场监督管理局" if by_district else "海口市市场监督管理局"
        )
        rows.append(
            {
                "uscc": code,
                "name": name,
                "enterprise_type": etype,
                "legal_representative": person_name(rng, rng.random() < 0.62),
                "registered_capital": float(rng.choice(CAPITALS)),
                "established_on": established.isoformat(),
                "industry": industry,
                "status": weighted(rng, STATUSES),
                "registration_authority": authority,
                "district": district,
                "address": address(rng, district, home=False),
                "longitude": lon,
                "latitude": lat,
            }
        )
    return rows
