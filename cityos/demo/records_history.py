"""Typhoons that struck Hainan and affected Haikou. Names, years and landfall places follow the
public record; the figures are rounded illustrations for the demo, not an official dataset."""

from __future__ import annotations

from typing import Any

Record = dict[str, Any]

# number, 中文名, English name, landfall (local time), place, grade, wind m/s, hPa,
# Haikou's max gust m/s, Haikou's storm rainfall mm, impact
TYPHOONS: tuple[tuple[str, str, str, str, str, str, float, float, float, float, str], ...] = (
    ("0518", "达维", "Damrey", "2005-09-26T04:00:00+08:00", "海南省文昌市翁田镇", "强台风",
     45.0, 950.0, 36.0, 180.0, "全市大范围停电停水，农业和林业损失严重。"),
    ("1117", "纳沙", "Nesat", "2011-09-29T14:30:00+08:00", "海南省文昌市翁田镇", "强台风",
     42.0, 960.0, 33.0, 210.0, "城区树木大量倒伏，部分路段积水，琼州海峡停航。"),
    ("1409", "威马逊", "Rammasun", "2014-07-18T15:30:00+08:00", "海南省文昌市翁田镇", "超强台风",
     60.0, 910.0, 48.0, 230.0, "有气象记录以来登陆华南最强台风之一，全市电网、通信和供水设施严重受损。"),
    ("1415", "海鸥", "Kalmaegi", "2014-09-16T09:40:00+08:00", "海南省文昌市翁田镇", "台风",
     40.0, 960.0, 35.0, 260.0, "叠加天文大潮，海甸岛、新埠岛等沿海低洼地带出现海水倒灌。"),
    ("1621", "莎莉嘉", "Sarika", "2016-10-18T09:50:00+08:00", "海南省万宁市和乐镇", "强台风",
     48.0, 955.0, 27.0, 120.0, "海口出现大风和强降雨，学校停课，航班和轮渡停运。"),
    ("1907", "韦帕", "Wipha", "2019-08-01T00:00:00+08:00", "海南省文昌市翁田镇", "热带风暴",
     23.0, 985.0, 22.0, 150.0, "带来持续强降雨，城区多处内涝。"),
    ("2117", "狮子山", "Lionrock", "2021-10-08T21:50:00+08:00", "海南省琼海市", "热带风暴",
     23.0, 985.0, 20.0, 170.0, "与冷空气共同影响，海口出现暴雨到大暴雨。"),
    ("2203", "暹芭", "Chaba", "2022-07-02T15:00:00+08:00", "广东省茂名市电白区", "台风",
     35.0, 965.0, 25.0, 90.0, "未在海南登陆，琼州海峡大风，轮渡停航两天。"),
    ("2411", "摩羯", "Yagi", "2024-09-06T16:20:00+08:00", "海南省文昌市翁田镇", "超强台风",
     62.0, 915.0, 50.0, 250.0, "1949 年以来登陆我国最强的秋台风之一，海口全市停工停课，"
     "城区大量树木倒伏、电力中断，灾后开展大规模恢复重建。"),
)


def typhoons() -> list[Record]:
    keys = (
        "number", "name_zh", "name_en", "landfall_at", "landfall_place", "grade",
        "max_wind", "min_pressure", "haikou_gust", "haikou_rain", "impact",
    )
    return [dict(zip(keys, row, strict=True)) for row in TYPHOONS]
