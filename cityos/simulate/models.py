"""Per kind of station, a function (station, moment, scenario state, rng) → measures.

Units (see ``stations.UNIT_CODES``): concentrations µg/m³ (CO mg/m³); temperature °C;
``precipitation`` mm fallen in the hour ending at the moment (China's 小时雨量); wind m/s and
degrees the wind blows from; pressure hPa; water ``height`` metres above the 1985 national height
datum; ``flow`` m³/s; traffic ``intensity`` vehicles/hour, speed km/h, ``occupancy`` 0–1;
noise dB(A); O₂ and NH₄ mg/L; turbidity NTU; conductivity µS/cm.

Smooth variations come from :mod:`cityos.simulate.noise` keyed by the world seed and the
station, so each reading is computed on its own; ``rng`` only adds small white noise.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from cityos.demo.aqi import aqi
from cityos.simulate.noise import block_uniform, smooth
from cityos.simulate.scenario import GUST_FACTOR, ScenarioState, distance_km
from cityos.simulate.stations import Kind, Station

Measures = dict[str, float | int | bool]
Model = Callable[[Station, datetime, ScenarioState, random.Random], Measures]

CHINA = timezone(timedelta(hours=8))

# physical ranges every simulated value stays within (inclusive)
RANGES: dict[str, tuple[float, float]] = {
    "pm25": (1, 500),
    "pm10": (2, 600),
    "no2": (1, 400),
    "o3": (2, 400),
    "so2": (1, 150),
    "co": (0.1, 10),
    "airQualityIndex": (0, 500),
    "temperature": (10, 38),
    "precipitation": (0, 150),
    "relativeHumidity": (30, 100),
    "windSpeed": (0, 75),
    "gustSpeed": (0, 100),
    "windDirection": (0, 360),
    "atmosphericPressure": (930, 1030),
    "height": (-1.5, 15),
    "flow": (0, 12000),
    "intensity": (0, 15000),
    "averageVehicleSpeed": (3, 90),
    "occupancy": (0, 1),
    "LAeq": (30, 100),
    "LAmax": (35, 120),
    "pH": (6, 9),
    "O2": (2, 12),
    "turbidity": (0, 500),
    "conductivity": (50, 55000),
    "NH4": (0.01, 3),
}


def clamp(measure: str, value: float, digits: int = 1) -> float:
    low, high = RANGES[measure]
    return round(min(high, max(low, value)), digits)


def local_hour(moment: datetime) -> float:
    local = moment.astimezone(CHINA)
    return local.hour + local.minute / 60 + local.second / 3600


def hours(moment: datetime) -> float:
    return moment.timestamp() / 3600


def _bump(hour: float, centre: float, width: float) -> float:
    distance = min(abs(hour - centre), 24 - abs(hour - centre))
    return math.exp(-((distance / width) ** 2))


def traffic_profile(hour: float) -> float:
    """Share of road capacity used at a local hour: peaks 7–9 and 17–19, quiet at night."""
    daytime = 1 / (1 + math.exp(-(hour - 6.5) * 2)) - 1 / (1 + math.exp(-(hour - 22.0) * 1.5))
    return 0.06 + 0.42 * daytime + 0.4 * _bump(hour, 8.0, 1.1) + 0.42 * _bump(hour, 18.0, 1.2)


def _key(state: ScenarioState, station: Station, what: str) -> str:
    return f"{state.seed}:{station.slug}:{what}"


def _washout(state: ScenarioState, station: Station) -> float:
    wind, _ = state.wind_at(station.lon, station.lat)
    rain = state.rain_rate_at(station.lon, station.lat)
    return max(0.25, 1.0 - wind / 45.0 - rain / 120.0)


def air_quality(
    station: Station, moment: datetime, state: ScenarioState, rng: random.Random
) -> Measures:
    hour, t = local_hour(moment), hours(moment)
    traffic = traffic_profile(hour)
    washout = _washout(state, station)
    pm25 = (16 + 8 * smooth(_key(state, station, "pm"), t, 30) + 6 * traffic) * washout
    concentrations = {
        "pm25": clamp("pm25", pm25 + rng.gauss(0, 1.0)),
        "pm10": clamp("pm10", pm25 * 1.8 + rng.gauss(0, 2.0)),
        "no2": clamp("no2", (8 + 48 * traffic) * washout + rng.gauss(0, 1.5)),
        "o3": clamp("o3", (35 + 85 * _bump(hour, 14.5, 2.8)) * washout + rng.gauss(0, 3)),
        "so2": clamp("so2", 5 + 2 * smooth(_key(state, station, "so2"), t, 24) + rng.gauss(0, 0.3)),
        "co": clamp("co", 0.4 + 0.5 * traffic + rng.gauss(0, 0.03), 2),
    }
    value, _ = aqi(concentrations)
    return {
        **concentrations,
        "airQualityIndex": value,
        "temperature": _air_temperature(station, moment, state, rng),
    }


def _air_temperature(
    station: Station, moment: datetime, state: ScenarioState, rng: random.Random
) -> float:
    hour = local_hour(moment)
    diurnal = 3.5 * math.cos(2 * math.pi * (hour - 14.5) / 24)
    cooling = min(4.0, state.rain_rate_at(station.lon, station.lat) / 10)
    return clamp("temperature", 26.5 + diurnal - cooling + rng.gauss(0, 0.2))


def shower_rate(state: ScenarioState, station: Station, t: float) -> float:
    """Intermittent showers (mm/h): a three-hour block rains with a chance, more in the afternoon."""
    u, position = block_uniform(f"{state.seed}:{station.district}:shower", t, 3.0)
    afternoon = _bump(local_hour(datetime.fromtimestamp(t * 3600, CHINA)), 15.5, 3.0)
    if u > 0.10 + 0.12 * afternoon:
        return 0.0
    strength, _ = block_uniform(_key(state, station, "strength"), t, 3.0)
    return (2 + 28 * strength**2) * math.sin(math.pi * position) ** 2


def rain_gauge(
    station: Station, moment: datetime, state: ScenarioState, rng: random.Random
) -> Measures:
    t = hours(moment)
    samples = 12
    total = 0.0
    for k in range(samples):  # the hourly total: the rate averaged over the past hour
        ago = (k + 0.5) / samples
        storm = state.rain_rate_at(station.lon, station.lat, ago)
        storm *= 1 + 0.15 * smooth(_key(state, station, "band"), t - ago, 2.0)
        total += (storm + shower_rate(state, station, t - ago)) / samples
    hour = local_hour(moment)
    humidity = 78 - 12 * math.cos(2 * math.pi * (hour - 2) / 24) + min(20.0, total * 2)
    return {
        "precipitation": clamp("precipitation", total),
        "temperature": _air_temperature(station, moment, state, rng),
        "relativeHumidity": clamp("relativeHumidity", humidity + rng.gauss(0, 1.0), 0),
    }


def _pressure(station: Station, state: ScenarioState) -> float:
    if state.eye is None or state.typhoon is None:
        return 1009.0
    r = max(distance_km((station.lon, station.lat), state.eye), 1.0)
    return 1009.0 - 62.0 * (1 - math.exp(-state.typhoon.radius_max_wind_km / r))


def wind_gauge(
    station: Station, moment: datetime, state: ScenarioState, rng: random.Random
) -> Measures:
    hour, t = local_hour(moment), hours(moment)
    breeze = 2.8 + 1.8 * _bump(hour, 15.0, 3.5) + 1.0 * smooth(_key(state, station, "wind"), t, 8)
    storm, storm_from = state.wind_at(station.lon, station.lat)
    mean = math.hypot(breeze, storm) * (1 + rng.gauss(0, 0.04))
    gust = mean * (GUST_FACTOR + abs(rng.gauss(0, 0.08))) + 0.5
    breeze_from = 60 + 40 * smooth(_key(state, station, "direction"), t, 12)
    direction = storm_from if storm > breeze else breeze_from
    return {
        "windSpeed": clamp("windSpeed", mean),
        "gustSpeed": clamp("gustSpeed", gust),
        "windDirection": round((direction + rng.gauss(0, 8)) % 360, 0),
        "atmosphericPressure": clamp(
            "atmosphericPressure", _pressure(station, state) + rng.gauss(0, 0.3)
        ),
    }


def astronomical_tide(t: float) -> float:
    """Haikou's mostly diurnal tide (K1 + O1 beating, a little M2), metres around mean sea level."""
    return (
        0.55 * math.cos(2 * math.pi * t / 23.93)
        + 0.45 * math.cos(2 * math.pi * t / 25.82)
        + 0.2 * math.cos(2 * math.pi * t / 12.42)
    )


def river_gauge(
    station: Station, moment: datetime, state: ScenarioState, rng: random.Random
) -> Measures:
    base = station.base_level or 0.0
    guarantee = station.guarantee_level or base + 3.0
    t = hours(moment)
    seasonal = 0.15 * smooth(_key(state, station, "level"), t, 72)
    estuary = 0.3 * astronomical_tide(t) if base < 2.5 else 0.0
    height = base + seasonal + estuary + 0.92 * (guarantee - base) * state.river_index
    flow = 180 + 40 * seasonal + 7000 * state.river_index**1.5
    return {
        "height": clamp("height", height + rng.gauss(0, 0.01), 2),
        "flow": clamp("flow", flow * (1 + rng.gauss(0, 0.02)), 0),
    }


def tide_gauge(
    station: Station, moment: datetime, state: ScenarioState, rng: random.Random
) -> Measures:
    height = 0.2 + astronomical_tide(hours(moment)) + state.surge
    return {"height": clamp("height", height + rng.gauss(0, 0.02), 2)}


def traffic_point(
    station: Station, moment: datetime, state: ScenarioState, rng: random.Random
) -> Measures:
    hour, t = local_hour(moment), hours(moment)
    load = (
        traffic_profile(hour)
        * state.traffic_factor
        * (1 + 0.06 * smooth(_key(state, station, "load"), t, 2))
    )
    capacity = 1800 * max(station.lanes, 1)
    rain = state.rain_rate_at(station.lon, station.lat)
    speed = 62 * (1 - 0.75 * min(load, 1.0) ** 2) * max(0.5, 1 - rain / 100)
    speed = clamp("averageVehicleSpeed", speed + rng.gauss(0, 1.5))
    return {
        "intensity": int(clamp("intensity", capacity * load * (1 + rng.gauss(0, 0.03)), 0)),
        "averageVehicleSpeed": speed,
        "occupancy": clamp("occupancy", 0.03 + 0.5 * min(load, 1.0) ** 1.5, 3),
        "congested": speed < 25,
    }


def _add_db(a: float, b: float) -> float:
    return 10 * math.log10(10 ** (a / 10) + 10 ** (b / 10))


def noise_monitor(
    station: Station, moment: datetime, state: ScenarioState, rng: random.Random
) -> Measures:
    hour = local_hour(moment)
    traffic = traffic_profile(hour) * state.traffic_factor
    laeq = 44 + 22 * traffic + (6 * _bump(hour, 14, 6) if "airport" in station.slug else 0)
    wind, _ = state.wind_at(station.lon, station.lat)
    laeq = _add_db(laeq, 28 + 1.1 * wind) + rng.gauss(0, 0.8)
    return {
        "LAeq": clamp("LAeq", laeq),
        "LAmax": clamp("LAmax", laeq + 9 + abs(rng.gauss(0, 3))),
    }


def water_quality(
    station: Station, moment: datetime, state: ScenarioState, rng: random.Random
) -> Measures:
    hour, t = local_hour(moment), hours(moment)
    coastal = "dongzhaigang" in station.slug

    def drift(what: str, period: float = 48) -> float:
        return smooth(_key(state, station, what), t, period)

    daylight = math.cos(2 * math.pi * (hour - 15) / 24)
    flood = state.river_index
    return {
        "temperature": clamp("temperature", 26.5 + 1.2 * drift("temp", 96) + 0.6 * daylight),
        "pH": clamp("pH", (7.9 if coastal else 7.3) + 0.2 * drift("ph") + 0.05 * daylight, 2),
        "O2": clamp(
            "O2", 6.4 + 0.8 * drift("o2") + 0.6 * daylight - 1.5 * flood + rng.gauss(0, 0.05), 2
        ),
        "turbidity": clamp(
            "turbidity", 9 + 5 * drift("turbidity") + 160 * flood + abs(rng.gauss(0, 0.5))
        ),
        "conductivity": clamp(
            "conductivity",
            (28000 if coastal else 260) * (1 + 0.1 * drift("conductivity")) * (1 - 0.4 * flood),
            0,
        ),
        "NH4": clamp("NH4", 0.3 + 0.15 * drift("nh4") + 0.4 * flood, 3),
    }


MODELS: dict[Kind, Model] = {
    Kind.AIR: air_quality,
    Kind.RAIN: rain_gauge,
    Kind.WIND: wind_gauge,
    Kind.RIVER: river_gauge,
    Kind.TIDE: tide_gauge,
    Kind.TRAFFIC: traffic_point,
    Kind.NOISE: noise_monitor,
    Kind.WATER_QUALITY: water_quality,
}


def measure(
    station: Station, moment: datetime, state: ScenarioState, rng: random.Random
) -> Measures:
    return MODELS[station.kind](station, moment, state, rng)
