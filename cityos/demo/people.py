"""Synthetic people and codes: names, 居民身份证号 (GB 11643), organisation codes, addresses.

Everything here is made up from common surnames and given-name characters drawn by a seeded
random generator; any resemblance to a real person is a coincidence of common names.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from cityos.directory.codes import USCC_ALPHABET, make_uscc

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"

# common surnames, weighted; 符, 邢, 云, 吉 are typical of Hainan
SURNAMES: tuple[tuple[str, int], ...] = (
    ("王", 60), ("李", 58), ("陈", 70), ("林", 45), ("吴", 45), ("符", 40), ("黄", 40),
    ("张", 50), ("刘", 40), ("杨", 25), ("周", 22), ("郑", 18), ("冯", 16), ("邢", 15),
    ("蔡", 15), ("许", 12), ("何", 12), ("梁", 12), ("谢", 10), ("韩", 10), ("曾", 10),
    ("徐", 10), ("孙", 10), ("马", 8), ("朱", 8), ("胡", 8), ("郭", 8), ("罗", 8),
    ("云", 8), ("莫", 8), ("钟", 7), ("叶", 7), ("潘", 7), ("卢", 6), ("庞", 6),
    ("邓", 6), ("唐", 6), ("冼", 5), ("吉", 5), ("苏", 5), ("陆", 4), ("欧阳", 2),
)
MALE_CHARS = "伟强军磊勇斌杰涛明超刚辉鹏华健俊峰亮志海波宏文博浩宇轩晨昊然泽睿航凯诚德福"
FEMALE_CHARS = "芳娜敏静丽艳娟霞秀英玲燕萍红梅琳雪婷颖慧佳欣怡萱彤琪琳悦妍晴菲蕾倩茜露"
NEUTRAL_CHARS = "思子家嘉梓雨春秋晓海琼椰南阳明安平远鑫婧"

ETHNICITIES: tuple[tuple[str, int], ...] = (
    ("汉族", 900), ("黎族", 60), ("苗族", 12), ("壮族", 10), ("回族", 6), ("土家族", 5),
    ("侗族", 3), ("瑶族", 2), ("满族", 2),
)

# 户籍地 (first six digits): Haikou districts mostly, then the old Haikou codes, the rest of
# Hainan and a few provinces people move from
BIRTHPLACES: tuple[tuple[str, int], ...] = (
    ("460105", 120), ("460106", 180), ("460107", 150), ("460108", 160),
    ("460102", 25), ("460103", 25), ("460104", 15),  # 振东区 / 新华区 / 秀英区 before 2002
    ("460200", 8), ("469005", 20), ("469002", 12), ("469006", 10), ("469021", 10),
    ("469022", 8), ("469023", 12), ("469024", 6), ("469001", 6), ("469007", 6),
    ("440803", 8), ("440882", 8), ("441702", 4), ("440106", 5), ("430103", 5),
    ("420106", 4), ("360102", 3), ("510107", 4), ("230103", 4), ("410105", 3),
    ("350102", 3), ("450103", 3), ("220102", 2), ("110105", 2), ("310115", 2),
)

STREETS: dict[str, tuple[str, ...]] = {
    "460105": ("海秀西路", "长滨路", "滨海大道", "南海大道", "西海岸南片区", "长流镇", "港澳大道",
               "向荣路", "金盘路", "椰海大道", "丘海大道"),
    "460106": ("国贸大道", "金龙路", "龙昆南路", "龙昆北路", "海秀中路", "玉沙路", "大同路",
               "明珠路", "滨海大道", "金盘路", "龙华路", "城西路", "南沙路", "丘海大道"),
    "460107": ("文庄路", "凤翔路", "中山街", "红城湖路", "琼州大道", "高登街", "府城大道",
               "龙昆南路", "椰海大道", "振发路", "云龙镇", "三门坡镇"),
    "460108": ("海府路", "白龙南路", "和平大道", "人民大道", "海甸五西路", "海甸二东路",
               "灵山镇", "演丰镇", "美舍路", "蓝天路", "碧海大道", "江东大道"),
}
ESTATES = ("椰岛", "滨江", "金海", "海景", "碧海", "南洋", "阳光", "华庭", "丽苑", "花园",
           "新城", "名苑", "雅居", "湾畔", "椰林", "锦绣", "盛世", "天悦")


def weighted(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    values, weights = zip(*table, strict=True)
    return rng.choices(values, weights=weights)[0]


def person_name(rng: random.Random, male: bool) -> str:
    pool = MALE_CHARS if male else FEMALE_CHARS
    surname = weighted(rng, SURNAMES)
    if rng.random() < 0.3:
        return surname + rng.choice(pool)
    first = rng.choice(pool + NEUTRAL_CHARS)
    return surname + first + rng.choice(pool)


def id_check_digit(first17: str) -> str:
    return ID_CHECK[sum(int(c) * w for c, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def id_number(region: str, birth: date, sequence: int, male: bool) -> str:
    """居民身份证号: region (6) + birth date (8) + sequence (3, odd for men) + check."""
    seq = sequence % 500 * 2 + (1 if male else 0)
    seq = seq if seq != 0 else 2  # 000 is never issued
    first17 = f"{region}{birth:%Y%m%d}{seq:03d}"
    return first17 + id_check_digit(first17)


def birth_date(rng: random.Random, today: date) -> date:
    """An age pyramid of a young city: most residents between 20 and 60."""
    age = min(max(int(rng.triangular(0, 95, 33)), 0), 100)
    start = date(today.year - age - 1, today.month, 1) + timedelta(days=1)
    return start + timedelta(days=rng.randrange(360))


def mobile(rng: random.Random) -> str:
    return rng.choice(("139", "138", "136", "189", "199", "186", "150", "177")) + "".join(
        str(rng.randrange(10)) for _ in range(8)
    )


def office_phone(rng: random.Random) -> str:
    return f"0898-6{rng.randrange(5000000, 9999999)}"


def address(rng: random.Random, district: str, *, home: bool = True) -> str:
    from cityos.directory.codes import district_name

    street = rng.choice(STREETS[district])
    place = f"海口市{district_name(district)}{street}"
    if street.endswith("镇"):
        return place + f"{rng.choice('东南西北新中')}{rng.choice('山坡园村岭')}村{rng.randrange(1, 200)}号"
    place += f"{rng.randrange(1, 300)}号"
    if home:
        estate = rng.choice(ESTATES) + rng.choice(("小区", "花园", "公寓", "家园"))
        building = rng.randrange(1, 30)
        room = rng.randrange(1, 33) * 100 + rng.randrange(1, 9)
        place += f"{estate}{building}栋{room}房"
    return place


# 组织机构代码 (GB 11714): 8 body characters + check over weights 3 7 9 10 5 8 4 2
ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
ORG_BODY_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"


def org_code(body8: str) -> str:
    def value(c: str) -> int:
        return int(c) if c.isdigit() else ord(c) - ord("A") + 10

    check = 11 - sum(value(c) * w for c, w in zip(body8, ORG_WEIGHTS, strict=True)) % 11
    return body8 + ("X" if check == 10 else "0" if check == 11 else str(check))


def random_org_body(rng: random.Random, prefix: str = "") -> str:
    rest = "".join(rng.choice(ORG_BODY_ALPHABET) for _ in range(8 - len(prefix)))
    return org_code(prefix + rest)


def uscc(rng: random.Random, head: str, region: str, prefix: str = "") -> str:
    """统一社会信用代码: registration authority + type (``head``, e.g. 11 or 91), region (6),
    organisation code (9), check character."""
    body = head + region + random_org_body(rng, prefix)
    assert all(c in USCC_ALPHABET for c in body)
    return make_uscc(body)
