"""Synthetic time series that end at ``now`` (rounded to the hour), so that the demo looks live.

Each value is a deterministic function of the station and the absolute time (seeded per hour or
day), so two loads at different times agree where their windows overlap, and a load with the
same ``now`` is identical.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from cityos.core.i18n import DISPLAY_TZ
from cityos.demo import aqi as aqi_rules
from cityos.demo import geo
from cityos.demo.records_people import rng_for

Record = dict[str, Any]


def hour_now(now: datetime | None = None) -> datetime:
    """The current (or given) time rounded down to the hour, in UTC."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    return moment.replace(minute=0, second=0, microsecond=0)


def local_iso(moment: datetime) -> str:
    return moment.astimezone(DISPLAY_TZ).isoformat()


def local_day(moment: datetime) -> date:
    return moment.astimezone(DISPLAY_TZ).date()


def _seeded(*parts: object) -> random.Random:
    return random.Random("cityos-demo:" + ":".join(str(p) for p in parts))


# ---- air quality ------------------------------------------------------------------------------

AIR_STATIONS: tuple[tuple[str, str, str, float], ...] = (
    # code, name, district, local pollution factor
    ("HK-AQ-01", "海南大学", "460108", 0.95),
    ("HK-AQ-02", "龙华路", "460106", 1.15),
    ("HK-AQ-03", "秀英海秀西路", "460105", 1.00),
    ("HK-AQ-04", "东寨港（对照点）", "460108", 0.70),
    ("HK-AQ-05", "琼山府城", "460107", 1.10),
    ("HK-AQ-06", "美兰机场", "460108", 1.05),
    ("HK-AQ-07", "五源河", "460105", 0.85),
    ("HK-AQ-08", "江东新区", "460108", 0.90),
    ("HK-AQ-09", "国贸", "460106", 1.20),
    ("HK-AQ-10", "云龙镇", "460107", 0.80),
)


def _station_points(
    name: str, stations: tuple[tuple[str, str, str, Any], ...]
) -> dict[str, tuple[float, float]]:
    rng = rng_for(name)
    return {code: geo.urban_point(rng, district, 0.03) for code, _, district, _ in stations}


@lru_cache(maxsize=512)
def _episode(day: date) -> float:
    """City-wide pollution level of a day: mostly clean, sometimes a northerly transport episode."""
    rng = _seeded("air-episode", day)
    return 2.2 if rng.random() < 0.12 else rng.uniform(0.75, 1.25)


def air_sample(code: str, factor: float, moment: datetime) -> dict[str, float]:
    """Concentrations at one station for the hour starting at ``moment`` (UTC)."""
    local = moment.astimezone(DISPLAY_TZ)
    hour = local.hour + local.minute / 60
    rng = _seeded("air", code, moment.isoformat())
    # blend the day's episode level with its neighbour's, so that it changes smoothly
    day = local.date()
    if hour < 12:
        weight = (hour + 12) / 24
        episode = weight * _episode(day) + (1 - weight) * _episode(day - timedelta(days=1))
    else:
        weight = (hour - 12) / 24
        episode = (1 - weight) * _episode(day) + weight * _episode(day + timedelta(days=1))
    # rush hours for traffic pollutants, afternoon photochemistry for ozone
    rush = math.exp(-((hour - 8.5) ** 2) / 4) + 0.8 * math.exp(-((hour - 19) ** 2) / 5)
    sun = max(0.0, math.sin(math.pi * (hour - 7) / 12)) ** 1.5
    pm25 = max(3.0, (11 + 7 * rush) * factor * episode * rng.uniform(0.85, 1.15))
    return {
        "pm25": round(pm25, 1),
        "pm10": round(pm25 * rng.uniform(1.4, 1.8), 1),
        "o3": round(
            max(8.0, (35 + 95 * sun) * rng.uniform(0.85, 1.15) * (1 + 0.15 * max(episode - 1, 0))),
            1,
        ),
        "no2": round(max(3.0, (8 + 22 * rush) * factor * rng.uniform(0.8, 1.2)), 1),
        "so2": round(rng.uniform(3.5, 8.0), 1),
        "co": round(max(0.2, (0.45 + 0.25 * rush) * rng.uniform(0.85, 1.15)), 2),
    }


def air_quality(now: datetime | None = None, days: int = 7) -> list[Record]:
    end = hour_now(now)
    points = _station_points("air-stations", AIR_STATIONS)
    rows: list[Record] = []
    for hours_ago in range(days * 24 - 1, -1, -1):
        moment = end - timedelta(hours=hours_ago)
        for code, name, district, factor in AIR_STATIONS:
            values = air_sample(code, factor, moment)
            index, primary = aqi_rules.aqi(values)
            rows.append(
                {
                    "station_code": code,
                    "station_name": name,
                    "district": district,
                    "observed_at": local_iso(moment),
                    **values,
                    "aqi": index,
                    "level": aqi_rules.level(index),
                    "primary_pollutant": primary,
                    "longitude": points[code][0],
                    "latitude": points[code][1],
                }
            )
    return rows


def air_daily(now: datetime | None = None, days: int = 30) -> list[Record]:
    """City daily means (of every station's hourly values) up to yesterday."""
    today = local_day(hour_now(now))
    rows: list[Record] = []
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        start = datetime(day.year, day.month, day.day, tzinfo=DISPLAY_TZ).astimezone(UTC)
        sums: dict[str, float] = {}
        o3_max = 0.0
        for hour in range(24):
            for code, _, _, factor in AIR_STATIONS:
                values = air_sample(code, factor, start + timedelta(hours=hour))
                for key, value in values.items():
                    sums[key] = sums.get(key, 0.0) + value
                o3_max = max(o3_max, values["o3"])
        n = 24 * len(AIR_STATIONS)
        means = {k: round(v / n, 1 if k != "co" else 2) for k, v in sums.items()}
        means["o3"] = round(o3_max * 0.8, 1)  # daily maximum 8-hour mean, approximated
        index, primary = aqi_rules.aqi(means)
        rows.append(
            {
                "day": day.isoformat(),
                "aqi": index,
                "level": aqi_rules.level(index),
                "primary_pollutant": primary,
                "pm25": means["pm25"],
            }
        )
    return rows


# ---- 南渡江 water levels ------------------------------------------------------------------------

# code, name, district, (base level m, warning level m, tidal amplitude m, rating a, h0, lag hours)
GAUGES: tuple[tuple[str, str, str, tuple[float, float, float, float, float, int]], ...] = (
    ("NDJ-LT", "龙塘水文站", "460107", (6.20, 9.50, 0.00, 95.0, 4.6, 0)),
    ("NDJ-TK", "潭口水位站", "460107", (4.10, 7.00, 0.05, 140.0, 2.5, 3)),
    ("NDJ-DQ", "南渡江大桥水位站", "460108", (2.00, 3.80, 0.35, 210.0, 0.6, 6)),
    ("NDJ-HK", "新埠岛河口潮位站", "460108", (0.40, 2.60, 0.80, 0.0, 0.0, 8)),
)
FLOOD_DAYS_AGO = 13  # a heavy rain day; the river crests the day after


def _flood(hours_since_rain: float) -> float:
    """Flood wave shape: rises over ~18 h, recedes over ~3 days."""
    if hours_since_rain <= 0:
        return 0.0
    return (hours_since_rain / 18) * math.exp(1 - hours_since_rain / 18)


def water_levels(now: datetime | None = None, days: int = 30) -> list[Record]:
    end = hour_now(now)
    rain_start = end.replace(hour=4) - timedelta(days=FLOOD_DAYS_AGO)  # 12:00 local
    recent_rain = end - timedelta(hours=10)
    points = _station_points("gauges", GAUGES)
    rows: list[Record] = []
    previous: dict[str, float] = {}
    for hours_ago in range(days * 24, -1, -1):
        moment = end - timedelta(hours=hours_ago)
        for code, name, _, (base, warning, tide, rating, h0, lag) in GAUGES:
            rng = _seeded("gauge", code, moment.isoformat())
            t = moment.timestamp() / 3600
            level = base
            level += tide * math.sin(2 * math.pi * t / 24.84)  # Haikou's mostly diurnal tide
            level += (
                2.6
                * (1 - 0.6 * lag / 8)
                * _flood((moment - rain_start).total_seconds() / 3600 - lag)
            )
            level += 0.5 * _flood((moment - recent_rain).total_seconds() / 3600 - lag)
            level += rng.uniform(-0.015, 0.015)
            level = round(level, 2)
            discharge = round(rating * max(level - h0, 0.05) ** 1.6, 1) if rating else None
            before = previous.get(code)
            previous[code] = level
            if hours_ago == days * 24:
                continue
            change = level - (before if before is not None else level)
            rows.append(
                {
                    "station_code": code,
                    "station_name": name,
                    "observed_at": local_iso(moment),
                    "water_level": level,
                    "warning_level": warning,
                    "discharge": discharge,
                    "trend": "涨" if change > 0.02 else "落" if change < -0.02 else "平",
                    "longitude": points[code][0],
                    "latitude": points[code][1],
                }
            )
    return rows


# ---- rainfall ---------------------------------------------------------------------------------

RAIN_STATIONS: tuple[tuple[str, str, str, float], ...] = (
    ("59758", "海口国家基本气象站", "460106", 1.00),
    ("HK-R-01", "秀英长流", "460105", 0.95),
    ("HK-R-02", "秀英石山", "460105", 1.05),
    ("HK-R-03", "龙华新坡", "460106", 1.10),
    ("HK-R-04", "琼山府城", "460107", 1.00),
    ("HK-R-05", "琼山三门坡", "460107", 1.15),
    ("HK-R-06", "美兰海甸", "460108", 0.95),
    ("HK-R-07", "美兰演丰", "460108", 1.05),
)
# by month: chance of a rainy day, mean amount on a rainy day (mm); Haikou's wet season is May–Oct
RAIN_CLIMATE = {
    1: (0.25, 4.0),
    2: (0.25, 5.0),
    3: (0.25, 6.0),
    4: (0.3, 9.0),
    5: (0.45, 14.0),
    6: (0.55, 16.0),
    7: (0.5, 16.0),
    8: (0.6, 18.0),
    9: (0.6, 20.0),
    10: (0.45, 18.0),
    11: (0.3, 9.0),
    12: (0.25, 5.0),
}


def rainfall(now: datetime | None = None, days: int = 120) -> list[Record]:
    """Daily totals up to yesterday; a storm FLOOD_DAYS_AGO days back feeds the river's flood."""
    today = local_day(hour_now(now))
    rows: list[Record] = []
    for back in range(days, 0, -1):
        day = today - timedelta(days=back)
        city = _seeded("rain-day", day)
        chance, mean = RAIN_CLIMATE[day.month]
        storm = back == FLOOD_DAYS_AGO
        wet = storm or city.random() < chance
        city_amount = 120.0 if storm else city.expovariate(1 / mean) if wet else 0.0
        for code, name, district, factor in RAIN_STATIONS:
            rng = _seeded("rain", code, day)
            amount = 0.0
            if wet and (storm or rng.random() < 0.8):
                amount = city_amount * factor * rng.uniform(0.5, 1.5)
            rows.append(
                {
                    "station_code": code,
                    "station_name": name,
                    "district": district,
                    "day": day.isoformat(),
                    "rainfall_mm": round(amount, 1),
                }
            )
    return rows


# ---- tap water quality (deliberately overdue) ------------------------------------------------

WATER_PLANTS = ("永庄水厂", "米铺水厂", "龙塘水厂", "江东水厂")
TAP_WATER_LAG_DAYS = 6  # the provider stopped uploading: the timeliness console flags it


def tap_water(now: datetime | None = None, days: int = 60) -> list[Record]:
    """Daily tests per plant, ending TAP_WATER_LAG_DAYS before today."""
    last = local_day(hour_now(now)) - timedelta(days=TAP_WATER_LAG_DAYS)
    rows: list[Record] = []
    for back in range(days - 1, -1, -1):
        day = last - timedelta(days=back)
        for plant in WATER_PLANTS:
            rng = _seeded("tap", plant, day)
            turbidity = round(rng.uniform(0.08, 0.45), 2)
            chlorine = round(rng.uniform(0.35, 0.85), 2)
            bacteria = rng.randrange(0, 12)
            rows.append(
                {
                    "plant": plant,
                    "day": day.isoformat(),
                    "turbidity": turbidity,
                    "chlorine": chlorine,
                    "ph": round(rng.uniform(6.9, 7.8), 2),
                    "bacteria": bacteria,
                    "qualified": turbidity <= 1 and 0.3 <= chlorine <= 2 and bacteria <= 100,
                }
            )
    return rows


# ---- planned power outages ---------------------------------------------------------------------

OUTAGE_REASONS = (
    "线路检修",
    "配电设备预防性试验",
    "市政道路施工迁改",
    "新用户接入工程",
    "台风前隐患排查",
)


def outages(now: datetime | None = None) -> list[Record]:
    """Planned outages from two weeks ago to two weeks ahead, on whole days (seeded per day)."""
    from cityos.demo.people import STREETS

    today = local_day(hour_now(now))
    rows: list[Record] = []
    for offset in range(-14, 15):
        day = today + timedelta(days=offset)
        rng = _seeded("outage", day)
        if rng.random() < 0.55:
            continue
        district = rng.choice(geo.DISTRICT_CODES)
        start_hour = rng.choice((7, 8, 9, 13, 14))
        start = datetime(day.year, day.month, day.day, start_hour, tzinfo=DISPLAY_TZ)
        streets = "、".join(rng.sample(STREETS[district], 2))
        rows.append(
            {
                "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(hours=rng.choice((3, 4, 6, 8)))).isoformat(),
                "district": district,
                "area": f"{streets}沿线部分用户",
                "reason": rng.choice(OUTAGE_REASONS),
            }
        )
    return rows
