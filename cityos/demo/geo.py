"""Haikou's district polygons and points sampled strictly inside them.

The boundaries are package data (``cityos/data/geo/haikou-districts.geojson``, GeoJSON
MultiPolygons in lon/lat). Points are drawn by rejection inside a district's bounding box and
kept only when they lie inside the polygon (holes excluded) and at least ``margin`` degrees
away from every edge, so that no demo school or bus stop sits on a boundary or in the sea.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from functools import cache, cached_property
from pathlib import Path

Ring = tuple[tuple[float, float], ...]
Polygon = tuple[Ring, ...]  # outer ring first, then holes

DISTRICT_CODES = ("460105", "460106", "460107", "460108")
DEFAULT_MARGIN = 0.002  # degrees, about 200 m
GEOJSON = Path(__file__).resolve().parent.parent / "data" / "geo" / "haikou-districts.geojson"


@dataclass(frozen=True)
class District:
    code: str
    name: str
    polygons: tuple[Polygon, ...]
    bbox: tuple[float, float, float, float]  # min lon, min lat, max lon, max lat

    def contains(self, lon: float, lat: float) -> bool:
        return multipolygon_contains(self.polygons, lon, lat)

    @cached_property
    def segments(self) -> tuple[tuple[tuple[float, float], tuple[float, float]], ...]:
        return tuple((ring[i - 1], ring[i]) for p in self.polygons for ring in p for i in range(len(ring)))


def _ring_contains(ring: Ring, x: float, y: float) -> bool:
    """Even-odd ray casting; the ring may or may not repeat its first point."""
    inside = False
    n = len(ring)
    j = n - 1
    for i in range(n):
        xi, yi = ring[i]
        xj, yj = ring[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside


def polygon_contains(polygon: Polygon, x: float, y: float) -> bool:
    outer, *holes = polygon
    return _ring_contains(outer, x, y) and not any(_ring_contains(h, x, y) for h in holes)


def multipolygon_contains(polygons: tuple[Polygon, ...], x: float, y: float) -> bool:
    return any(polygon_contains(p, x, y) for p in polygons)


def _segment_distance(x: float, y: float, a: tuple[float, float], b: tuple[float, float]) -> float:
    (ax, ay), (bx, by) = a, b
    dx, dy = bx - ax, by - ay
    length2 = dx * dx + dy * dy
    t = 0.0 if length2 == 0 else max(0.0, min(1.0, ((x - ax) * dx + (y - ay) * dy) / length2))
    return math.hypot(x - (ax + t * dx), y - (ay + t * dy))


def edge_distance(polygons: tuple[Polygon, ...], x: float, y: float) -> float:
    """Distance (degrees) from the point to the nearest edge of any ring."""
    best = math.inf
    for polygon in polygons:
        for ring in polygon:
            for i in range(len(ring)):
                best = min(best, _segment_distance(x, y, ring[i - 1], ring[i]))
    return best


def near_edge(district: District, x: float, y: float, margin: float) -> bool:
    """Whether an edge of the district is closer than ``margin`` (segments outside the point's
    margin box are skipped: the common case costs four comparisons per segment)."""
    for a, b in district.segments:
        if (a[0] < x - margin and b[0] < x - margin) or (a[0] > x + margin and b[0] > x + margin):
            continue
        if (a[1] < y - margin and b[1] < y - margin) or (a[1] > y + margin and b[1] > y + margin):
            continue
        if _segment_distance(x, y, a, b) < margin:
            return True
    return False


@cache
def districts() -> dict[str, District]:
    """The four districts of Haikou, by GB/T 2260 code."""
    data = json.loads(GEOJSON.read_text(encoding="utf-8"))
    result: dict[str, District] = {}
    for feature in data["features"]:
        code = str(feature["properties"]["adcode"])
        geometry = feature["geometry"]
        raw = (
            geometry["coordinates"]
            if geometry["type"] == "MultiPolygon"
            else [geometry["coordinates"]]
        )
        polygons = tuple(
            tuple(tuple((float(c[0]), float(c[1])) for c in ring) for ring in polygon)
            for polygon in raw
        )
        xs = [c[0] for p in polygons for c in p[0]]
        ys = [c[1] for p in polygons for c in p[0]]
        result[code] = District(
            code, feature["properties"]["name"], polygons, (min(xs), min(ys), max(xs), max(ys))
        )
    return result


def random_point(
    rng: random.Random,
    district_code: str,
    *,
    margin: float = DEFAULT_MARGIN,
    near: tuple[float, float] | None = None,
    spread: float = 0.03,
) -> tuple[float, float]:
    """A (lon, lat) strictly inside the district, rounded to 6 decimals (about 0.1 m).

    With ``near``, the point is drawn from a normal distribution around it (urban clustering),
    falling back to the whole bounding box when the neighbourhood keeps missing the district.
    """
    district = districts()[district_code]
    min_x, min_y, max_x, max_y = district.bbox
    for attempt in range(10_000):
        if near is not None and attempt < 200:
            x = rng.gauss(near[0], spread)
            y = rng.gauss(near[1], spread)
        else:
            x = rng.uniform(min_x, max_x)
            y = rng.uniform(min_y, max_y)
        x, y = round(x, 6), round(y, 6)
        if district.contains(x, y) and not near_edge(district, x, y, margin):
            return x, y
    raise RuntimeError(f"no point found inside {district_code}")  # pragma: no cover


# urban centres, so that points cluster where people live (all inside their districts)
URBAN_CENTRES: dict[str, tuple[float, float]] = {
    "460105": (110.270, 20.000),  # 秀英: 海秀西路 / 西海岸
    "460106": (110.320, 20.010),  # 龙华: 国贸 / 金龙路
    "460107": (110.370, 19.980),  # 琼山: 府城
    "460108": (110.370, 20.040),  # 美兰: 海甸岛 / 海府路
}


def urban_point(
    rng: random.Random, district_code: str, spread: float = 0.02
) -> tuple[float, float]:
    return random_point(rng, district_code, near=URBAN_CENTRES[district_code], spread=spread)
