"""GeoJSON downloads: points from coordinates, district polygons, 400 without geometry."""

from __future__ import annotations

import json
from typing import Any

from tests.unit.opendata import open_world
from tests.unit.opendata.open_world import OpenWorld

ow = open_world.ow


def _geojson(ow: OpenWorld, rid: str) -> Any:
    code = ow.code(rid)
    return ow.client.get(f"/api/v1/open/datasets/{code}/download.geojson")


def test_points_from_longitude_latitude(ow: OpenWorld) -> None:
    answer = _geojson(ow, ow.stations_id)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/geo+json")
    data = json.loads(answer.content)
    assert data["type"] == "FeatureCollection"
    by_station = {f["properties"]["station"]: f["geometry"] for f in data["features"]}
    assert by_station["美兰站"] == {"type": "Point", "coordinates": [110.36, 20.03]}
    assert by_station["秀英站"] is None  # empty coordinates


def test_district_polygons_when_no_coordinates(ow: OpenWorld) -> None:
    data = json.loads(_geojson(ow, ow.open_id).content)
    shapes = {f["properties"]["district"]: f["geometry"]["type"] for f in data["features"]}
    assert shapes["美兰区"] in ("Polygon", "MultiPolygon")
    assert len(data["features"]) == 4


def test_no_geometry_is_400(ow: OpenWorld) -> None:
    rid = ow.w.resource(
        open_type="unconditional",
        items=[("name", "名称", "string", True, 20)],
        name="无位置数据",
    )
    answer = _geojson(ow, rid)
    assert answer.status_code == 400
    assert answer.json()["code"] == "no_geometry"
