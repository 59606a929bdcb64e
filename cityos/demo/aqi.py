"""Air quality index (AQI) per HJ 633-2012.

Hourly publications use the 1-hour breakpoints of SO₂, NO₂, CO and O₃ and, as China's real-time
releases do, the 24-hour breakpoints of PM2.5 and PM10 applied to the hourly concentration.
"""

from __future__ import annotations

import math

IAQI_STEPS = (0, 50, 100, 150, 200, 300, 400, 500)
# pollutant → concentration breakpoints matching IAQI_STEPS (μg/m³; CO in mg/m³)
BREAKPOINTS: dict[str, tuple[float, ...]] = {
    "so2": (0, 150, 500, 650, 800),  # 1 h; above 800 the 24 h value applies
    "no2": (0, 100, 200, 700, 1200, 2340, 3090, 3840),
    "pm10": (0, 50, 150, 250, 350, 420, 500, 600),
    "co": (0, 5, 10, 35, 60, 90, 120, 150),
    "o3": (0, 160, 200, 300, 400, 800, 1000, 1200),
    "pm25": (0, 35, 75, 115, 150, 250, 350, 500),
}
LABELS = {"pm25": "PM2.5", "pm10": "PM10", "o3": "O3", "no2": "NO2", "so2": "SO2", "co": "CO"}
LEVELS = ((50, "优"), (100, "良"), (150, "轻度污染"), (200, "中度污染"), (300, "重度污染"))


def iaqi(pollutant: str, concentration: float) -> int:
    points = BREAKPOINTS[pollutant]
    for i in range(1, len(points)):
        if concentration <= points[i]:
            low, high = points[i - 1], points[i]
            value = (IAQI_STEPS[i] - IAQI_STEPS[i - 1]) / (high - low) * (concentration - low)
            return math.ceil(value + IAQI_STEPS[i - 1])
    return 500


def aqi(concentrations: dict[str, float]) -> tuple[int, str | None]:
    """(AQI, primary pollutant); no primary pollutant when the AQI is 50 or less."""
    scores = {p: iaqi(p, c) for p, c in concentrations.items()}
    value = max(scores.values())
    if value <= 50:
        return value, None
    primary = max(scores, key=lambda p: (scores[p], p == "pm25"))
    return value, LABELS[primary]


def level(value: int) -> str:
    return next((name for top, name in LEVELS if value <= top), "严重污染")
