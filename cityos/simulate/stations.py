"""Haikou's simulated sensor network: fixed stations at plausible real places.

Every station lies inside its district polygon (``cityos/data/geo/haikou-districts.geojson``;
GB/T 2260 codes as in :mod:`cityos.demo.geo`). Entity types and measure names follow the
FIWARE Smart Data Models (AirQualityObserved, WeatherObserved, WaterObserved,
TrafficFlowObserved, NoiseLevelObserved, WaterQualityObserved).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    AIR = "air"
    RAIN = "rain"
    WIND = "wind"
    RIVER = "river"
    TIDE = "tide"
    TRAFFIC = "traffic"
    NOISE = "noise"
    WATER_QUALITY = "water_quality"


ENTITY_TYPES: dict[Kind, str] = {
    Kind.AIR: "AirQualityObserved",
    Kind.RAIN: "WeatherObserved",
    Kind.WIND: "WeatherObserved",
    Kind.RIVER: "WaterObserved",
    Kind.TIDE: "WaterObserved",
    Kind.TRAFFIC: "TrafficFlowObserved",
    Kind.NOISE: "NoiseLevelObserved",
    Kind.WATER_QUALITY: "WaterQualityObserved",
}

# measure names (Smart Data Models attributes) each kind reports
MEASURES: dict[Kind, tuple[str, ...]] = {
    Kind.AIR: ("pm25", "pm10", "no2", "o3", "so2", "co", "airQualityIndex", "temperature"),
    Kind.RAIN: ("precipitation", "temperature", "relativeHumidity"),
    Kind.WIND: ("windSpeed", "gustSpeed", "windDirection", "atmosphericPressure"),
    Kind.RIVER: ("height", "flow"),
    Kind.TIDE: ("height",),
    Kind.TRAFFIC: ("intensity", "averageVehicleSpeed", "occupancy", "congested"),
    Kind.NOISE: ("LAeq", "LAmax"),
    Kind.WATER_QUALITY: ("temperature", "pH", "O2", "turbidity", "conductivity", "NH4"),
}

# Smart Data Models / UN/CEFACT unit codes of every measure
UNIT_CODES: dict[str, str] = {
    "pm25": "GQ",  # µg/m³
    "pm10": "GQ",
    "no2": "GQ",
    "o3": "GQ",
    "so2": "GQ",
    "co": "GP",  # mg/m³
    "airQualityIndex": "C62",  # dimensionless
    "temperature": "CEL",
    "precipitation": "MMT",  # mm during the step
    "relativeHumidity": "P1",  # percent
    "windSpeed": "MTS",  # m/s
    "gustSpeed": "MTS",
    "windDirection": "DD",  # degrees, from north, clockwise
    "atmosphericPressure": "A97",  # hPa
    "height": "MTR",  # metres above the 1985 national height datum
    "flow": "MQS",  # m³/s
    "intensity": "E50",  # vehicles per hour
    "averageVehicleSpeed": "KMH",
    "occupancy": "C62",  # fraction 0–1
    "LAeq": "2N",  # dB(A)
    "LAmax": "2N",
    "pH": "C62",
    "O2": "M1",  # mg/L
    "turbidity": "NTU",  # nephelometric turbidity unit (not UN/CEFACT; usual in the field)
    "conductivity": "H61",  # µS/cm
    "NH4": "M1",
}


@dataclass(frozen=True)
class Station:
    slug: str
    kind: Kind
    name: str  # zh-Hans
    district: str  # GB/T 2260 code
    lon: float
    lat: float
    warning_level: float | None = None  # metres, river gauges
    guarantee_level: float | None = None  # metres, river gauges
    base_level: float | None = None  # metres, normal water level
    lanes: int = 0  # traffic points

    @property
    def entity_type(self) -> str:
        return ENTITY_TYPES[self.kind]

    @property
    def id(self) -> str:
        return f"urn:ngsi-ld:{self.entity_type}:haikou-{self.slug}"

    @property
    def device_id(self) -> str:
        return f"hk-{self.kind.value.replace('_', '')}-{self.slug}"

    @property
    def measures(self) -> tuple[str, ...]:
        return MEASURES[self.kind]


XIUYING, LONGHUA, QIONGSHAN, MEILAN = "460105", "460106", "460107", "460108"
# river levels (base, warning) match the demo's 南渡江 gauges (cityos/demo/records_series.py)

_AIR = (
    Station("aq-hainan-univ", Kind.AIR, "海南大学空气站", MEILAN, 110.325, 20.058),
    Station("aq-guomao", Kind.AIR, "国贸空气站", LONGHUA, 110.318, 20.025),
    Station("aq-xiuying", Kind.AIR, "秀英区政府空气站", XIUYING, 110.285, 20.003),
    Station("aq-fucheng", Kind.AIR, "府城空气站", QIONGSHAN, 110.355, 19.990),
    Station("aq-dongzhaigang", Kind.AIR, "东寨港空气站", MEILAN, 110.580, 19.960),
    Station("aq-airport", Kind.AIR, "美兰机场空气站", MEILAN, 110.460, 19.940),
    Station("aq-west-coast", Kind.AIR, "西海岸空气站", XIUYING, 110.215, 20.020),
    Station("aq-longquan", Kind.AIR, "龙泉空气站", LONGHUA, 110.320, 19.850),
)

_RAIN = (
    Station("rain-shishan", Kind.RAIN, "石山雨量站", XIUYING, 110.200, 19.930),
    Station("rain-yongxing", Kind.RAIN, "永兴雨量站", XIUYING, 110.250, 19.850),
    Station("rain-changliu", Kind.RAIN, "长流雨量站", XIUYING, 110.180, 19.980),
    Station("rain-longquan", Kind.RAIN, "龙泉雨量站", LONGHUA, 110.325, 19.855),
    Station("rain-zuntan", Kind.RAIN, "遵谭雨量站", LONGHUA, 110.330, 19.790),
    Station("rain-chengxi", Kind.RAIN, "城西雨量站", LONGHUA, 110.310, 19.980),
    Station("rain-fucheng", Kind.RAIN, "府城雨量站", QIONGSHAN, 110.360, 19.985),
    Station("rain-hongqi", Kind.RAIN, "红旗雨量站", QIONGSHAN, 110.500, 19.830),
    Station("rain-sanmenpo", Kind.RAIN, "三门坡雨量站", QIONGSHAN, 110.580, 19.700),
    Station("rain-yanfeng", Kind.RAIN, "演丰雨量站", MEILAN, 110.550, 19.990),
    Station("rain-lingshan", Kind.RAIN, "灵山雨量站", MEILAN, 110.460, 19.970),
    Station("rain-haidian", Kind.RAIN, "海甸岛雨量站", MEILAN, 110.340, 20.050),
)

_WIND = (
    Station("wind-xiuying-port", Kind.WIND, "秀英港风速站", XIUYING, 110.285, 20.020),
    Station("wind-west-coast", Kind.WIND, "西海岸风速站", XIUYING, 110.230, 20.030),
    Station("wind-meteo", Kind.WIND, "海口国家气象观测站", XIUYING, 110.250, 20.000),
    Station("wind-airport", Kind.WIND, "美兰机场风速站", MEILAN, 110.460, 19.945),
    Station("wind-dongzhaigang", Kind.WIND, "东寨港风速站", MEILAN, 110.570, 19.980),
    Station("wind-xinbu", Kind.WIND, "新埠岛风速站", MEILAN, 110.385, 20.060),
)

_WATER = (
    Station(
        "river-longtang", Kind.RIVER, "南渡江龙塘水文站", QIONGSHAN, 110.410, 19.900,
        warning_level=9.5, guarantee_level=11.0, base_level=6.2,
    ),
    Station(
        "river-qiongzhou-bridge", Kind.RIVER, "南渡江琼州大桥水位站", MEILAN, 110.390, 20.020,
        warning_level=3.8, guarantee_level=4.6, base_level=2.0,
    ),
    Station(
        "river-xinbu", Kind.RIVER, "南渡江新埠桥水位站", MEILAN, 110.385, 20.058,
        warning_level=2.6, guarantee_level=3.2, base_level=0.4,
    ),
    Station("tide-xiuying-port", Kind.TIDE, "秀英港潮位站", XIUYING, 110.283, 20.022),
    Station("tide-haikou-bay", Kind.TIDE, "海口湾潮位站", LONGHUA, 110.320, 20.035),
    Station("tide-dongzhaigang", Kind.TIDE, "东寨港潮位站", MEILAN, 110.575, 19.965),
)  # fmt: skip

_TRAFFIC = (
    Station("traffic-haixiu-west", Kind.TRAFFIC, "海秀快速路(秀英段)", XIUYING, 110.280, 20.000, lanes=6),
    Station("traffic-haixiu-east", Kind.TRAFFIC, "海秀快速路(龙华段)", LONGHUA, 110.320, 20.005, lanes=6),
    Station("traffic-binhai-east", Kind.TRAFFIC, "滨海大道(万绿园)", LONGHUA, 110.310, 20.035, lanes=8),
    Station("traffic-binhai-west", Kind.TRAFFIC, "滨海大道(假日海滩)", XIUYING, 110.250, 20.040, lanes=6),
    Station("traffic-guoxing", Kind.TRAFFIC, "国兴大道", MEILAN, 110.370, 20.020, lanes=8),
    Station("traffic-longkun", Kind.TRAFFIC, "龙昆路", LONGHUA, 110.330, 20.020, lanes=6),
    Station("traffic-nanhai", Kind.TRAFFIC, "南海大道", LONGHUA, 110.300, 20.020, lanes=6),
    Station("traffic-haifu", Kind.TRAFFIC, "海府路", MEILAN, 110.355, 20.030, lanes=4),
    Station("traffic-renmin", Kind.TRAFFIC, "人民大道(海甸岛)", MEILAN, 110.330, 20.055, lanes=4),
    Station("traffic-yehai", Kind.TRAFFIC, "椰海大道", LONGHUA, 110.300, 19.970, lanes=6),
)  # fmt: skip

_NOISE = (
    Station("noise-guomao", Kind.NOISE, "国贸噪声站", LONGHUA, 110.316, 20.023),
    Station("noise-qilou", Kind.NOISE, "骑楼老街噪声站", LONGHUA, 110.335, 20.040),
    Station("noise-fucheng", Kind.NOISE, "府城噪声站", QIONGSHAN, 110.352, 19.992),
    Station("noise-haidian", Kind.NOISE, "海甸岛噪声站", MEILAN, 110.335, 20.052),
    Station("noise-xiuying", Kind.NOISE, "秀英噪声站", XIUYING, 110.288, 20.006),
    Station("noise-airport", Kind.NOISE, "美兰机场噪声站", MEILAN, 110.455, 19.942),
)

_WATER_QUALITY = (
    Station("wq-longtang", Kind.WATER_QUALITY, "南渡江龙塘水质站", QIONGSHAN, 110.412, 19.902),
    Station("wq-meishe", Kind.WATER_QUALITY, "美舍河水质站", MEILAN, 110.355, 20.020),
    Station("wq-wuyuan", Kind.WATER_QUALITY, "五源河水质站", XIUYING, 110.240, 20.020),
    Station("wq-dongzhaigang", Kind.WATER_QUALITY, "东寨港水质站", MEILAN, 110.578, 19.962),
)

STATIONS: tuple[Station, ...] = _AIR + _RAIN + _WIND + _WATER + _TRAFFIC + _NOISE + _WATER_QUALITY


def by_kind(kind: Kind) -> tuple[Station, ...]:
    return tuple(s for s in STATIONS if s.kind is kind)


def by_id(station_id: str) -> Station:
    return next(s for s in STATIONS if s.id == station_id)
