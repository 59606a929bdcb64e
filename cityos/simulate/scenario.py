"""A typhoon passing over Haikou, as a deterministic timeline.

The eye moves west-north-west in a straight line at ``speed_kmh`` and passes closest to the
city centre ``closest_km`` away, ``closest_at_h`` hours after the scenario starts. Winds follow
a modified Rankine vortex (``max_wind`` m/s at ``radius_max_wind_km``, decaying outside with
exponent 0.6); rain is heaviest in the eye wall; the coast sees a surge while the eye is near;
the 南渡江 answers the rain over its catchment with a lag (a gamma-shaped unit hydrograph);
traffic drops as the wind rises.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import cached_property

CITY_CENTRE = (110.33, 20.02)  # lon, lat
CATCHMENT_CENTRE = (110.30, 19.60)  # middle and lower 南渡江 basin, upstream of 龙塘
KM_PER_DEGREE_LAT = 111.2
GUST_FACTOR = 1.4


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Equirectangular distance, plenty for a few hundred kilometres."""
    mean_lat = math.radians((a[1] + b[1]) / 2)
    dx = (a[0] - b[0]) * math.cos(mean_lat) * KM_PER_DEGREE_LAT
    dy = (a[1] - b[1]) * KM_PER_DEGREE_LAT
    return math.hypot(dx, dy)


@dataclass(frozen=True)
class Typhoon:
    duration_h: float = 48.0
    closest_at_h: float = 18.0
    closest_km: float = 8.0
    speed_kmh: float = 20.0
    heading_deg: float = 290.0  # moving towards WNW (compass bearing)
    max_wind: float = 52.0  # m/s, 10-min mean (force 16 near the eye wall)
    radius_max_wind_km: float = 30.0
    rain_peak: float = 70.0  # mm/h in the eye wall
    surge_peak: float = 2.2  # metres on the coast
    river_lag_h: float = 10.0  # time to peak of the unit hydrograph

    def eye(self, elapsed_h: float) -> tuple[float, float]:
        """(lon, lat) of the eye; passing ``closest_km`` to the left of the city centre."""
        heading = math.radians(self.heading_deg)
        along = self.speed_kmh * (elapsed_h - self.closest_at_h)
        ux, uy = math.sin(heading), math.cos(heading)  # east, north components
        # offset perpendicular (to the right of the track) so the city is closest_km away
        ox, oy = -uy * self.closest_km, ux * self.closest_km
        x, y = ux * along - ox, uy * along - oy
        lat = CITY_CENTRE[1] + y / KM_PER_DEGREE_LAT
        lon = CITY_CENTRE[0] + x / (KM_PER_DEGREE_LAT * math.cos(math.radians(CITY_CENTRE[1])))
        return lon, lat

    def active(self, elapsed_h: float) -> bool:
        return 0.0 <= elapsed_h <= self.duration_h

    def wind_at(self, elapsed_h: float, lon: float, lat: float) -> tuple[float, float]:
        """(mean wind m/s, direction the wind blows from, degrees) at a point."""
        if not self.active(elapsed_h):
            return 0.0, 0.0
        eye = self.eye(elapsed_h)
        r = max(distance_km((lon, lat), eye), 0.1)
        rm = self.radius_max_wind_km
        speed = self.max_wind * (r / rm if r < rm else (rm / r) ** 0.6)
        # counter-clockwise circulation: wind blows from 90° to the right of the eye bearing
        bearing_to_eye = math.degrees(math.atan2(eye[0] - lon, eye[1] - lat)) % 360
        return speed, (bearing_to_eye + 90.0 + 20.0) % 360  # 20° inflow angle

    def rain_rate(self, elapsed_h: float, lon: float, lat: float) -> float:
        """mm/h from the storm at a point (eye wall heaviest, calmer inside the eye)."""
        if not self.active(elapsed_h):
            return 0.0
        r = distance_km((lon, lat), self.eye(elapsed_h))
        rm = self.radius_max_wind_km
        band = math.exp(-(((r - rm) / 70.0) ** 2))
        eye_calm = 0.4 + 0.6 * min(1.0, r / rm)
        return self.rain_peak * band * eye_calm

    def surge(self, elapsed_h: float) -> float:
        if not self.active(elapsed_h):
            return 0.0
        r = distance_km(CITY_CENTRE, self.eye(elapsed_h))
        return self.surge_peak * math.exp(-((r / 60.0) ** 2))

    def _catchment_runoff(self, elapsed_h: float) -> float:
        """Un-normalised river response: catchment rain convolved with the unit hydrograph."""
        lag = self.river_lag_h
        total = 0.0
        for k in range(0, 120):  # hourly steps back, gamma(shape 3) kernel peaking at `lag`
            tau = k + 0.5
            kernel = (tau / lag) ** 2 * math.exp(2 * (1 - tau / lag))
            total += kernel * self.rain_rate(elapsed_h - tau, *CATCHMENT_CENTRE)
        return total

    @cached_property
    def _runoff_peak(self) -> float:
        return max(self._catchment_runoff(h) for h in range(0, int(self.duration_h) + 72))

    def river_index(self, elapsed_h: float) -> float:
        """0 at normal flow, 1 at the flood crest of this typhoon."""
        peak = self._runoff_peak
        return self._catchment_runoff(elapsed_h) / peak if peak > 0 else 0.0

    def state_at(self, elapsed: timedelta) -> ScenarioState:
        h = elapsed.total_seconds() / 3600
        centre_wind, _ = self.wind_at(h, *CITY_CENTRE)
        active = self.active(h)
        return ScenarioState(
            elapsed_h=h,
            typhoon=self,
            eye=self.eye(h) if active else None,
            eye_distance_km=distance_km(CITY_CENTRE, self.eye(h)) if active else math.inf,
            city_wind=centre_wind,
            city_gust=centre_wind * GUST_FACTOR,
            city_rain_rate=self.rain_rate(h, *CITY_CENTRE),
            surge=self.surge(h),
            river_index=self.river_index(h),
            traffic_factor=traffic_factor(
                distance_km(CITY_CENTRE, self.eye(h)) if active else math.inf
            ),
        )


def traffic_factor(eye_distance_km: float) -> float:
    """Share of normal traffic left: people stay home (schools, offices and ferries closed)
    while the eye is within about 250 km, down to 5 % when it is within 60 km."""
    return 0.05 + 0.95 * max(0.0, min(1.0, (eye_distance_km - 60.0) / 190.0))


@dataclass(frozen=True)
class ScenarioState:
    elapsed_h: float = 0.0
    typhoon: Typhoon | None = None
    eye: tuple[float, float] | None = None
    eye_distance_km: float = math.inf
    city_wind: float = 0.0  # m/s at the city centre
    city_gust: float = 0.0
    city_rain_rate: float = 0.0  # mm/h
    surge: float = 0.0  # metres on the coast
    river_index: float = 0.0  # 0 normal flow … 1 flood crest
    traffic_factor: float = 1.0
    seed: int = field(default=0)  # world seed for coherent noise (showers, slow drifts)

    def wind_at(self, lon: float, lat: float) -> tuple[float, float]:
        if self.typhoon is None:
            return 0.0, 0.0
        return self.typhoon.wind_at(self.elapsed_h, lon, lat)

    def rain_rate_at(self, lon: float, lat: float, hours_ago: float = 0.0) -> float:
        if self.typhoon is None:
            return 0.0
        return self.typhoon.rain_rate(self.elapsed_h - hours_ago, lon, lat)

    def with_seed(self, seed: int) -> ScenarioState:
        return replace(self, seed=seed)


CALM = ScenarioState()
DEFAULT_TYPHOON = Typhoon()


def state_at(elapsed: timedelta, typhoon: Typhoon = DEFAULT_TYPHOON) -> ScenarioState:
    """The state of the default typhoon scenario ``elapsed`` after it starts."""
    return typhoon.state_at(elapsed)
