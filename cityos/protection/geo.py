"""Point → Haikou district (GB/T 2260 code), for generalising coordinates.

The polygons are cityos/data/geo/haikou-districts.geojson (MultiPolygons, lon/lat). A point is
inside a polygon when it is inside its outer ring and in none of its holes (even–odd ray cast);
bounding boxes are checked first.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

DISTRICTS_GEOJSON = (
    Path(__file__).resolve().parent.parent / "data" / "geo" / "haikou-districts.geojson"
)

Ring = list[tuple[float, float]]


@dataclass(frozen=True, slots=True)
class _Polygon:
    bbox: tuple[float, float, float, float]  # min lon, min lat, max lon, max lat
    rings: tuple[Ring, ...]  # outer ring first, then holes


@dataclass(frozen=True, slots=True)
class _District:
    code: str
    name: str
    bbox: tuple[float, float, float, float]
    polygons: tuple[_Polygon, ...]


def _bbox(points: Ring) -> tuple[float, float, float, float]:
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    return min(xs), min(ys), max(xs), max(ys)


def _in_bbox(bbox: tuple[float, float, float, float], x: float, y: float) -> bool:
    return bbox[0] <= x <= bbox[2] and bbox[1] <= y <= bbox[3]


def _in_ring(ring: Ring, x: float, y: float) -> bool:
    inside = False
    x1, y1 = ring[-1]
    for x2, y2 in ring:
        if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
            inside = not inside
        x1, y1 = x2, y2
    return inside


@cache
def _districts() -> tuple[_District, ...]:
    data = json.loads(DISTRICTS_GEOJSON.read_text(encoding="utf-8"))
    out = []
    for feature in data["features"]:
        geometry = feature["geometry"]
        coords = geometry["coordinates"]
        if geometry["type"] == "Polygon":
            coords = [coords]
        polygons = []
        for polygon in coords:
            rings = tuple([(float(p[0]), float(p[1])) for p in ring] for ring in polygon)
            polygons.append(_Polygon(_bbox(rings[0]), rings))
        props = feature["properties"]
        everything = [p for poly in polygons for p in poly.rings[0]]
        out.append(
            _District(str(props["adcode"]), props["name"], _bbox(everything), tuple(polygons))
        )
    return tuple(out)


def district_of(lon: float, lat: float) -> str | None:
    """The GB/T 2260 code of the Haikou district containing (lon, lat), or None outside."""
    for district in _districts():
        if not _in_bbox(district.bbox, lon, lat):
            continue
        for polygon in district.polygons:
            if not _in_bbox(polygon.bbox, lon, lat) or not _in_ring(polygon.rings[0], lon, lat):
                continue
            if not any(_in_ring(hole, lon, lat) for hole in polygon.rings[1:]):
                return district.code
    return None


def district_names() -> dict[str, str]:
    return {d.code: d.name for d in _districts()}
