"""GeoJSON downloads: a FeatureCollection streamed from the datastore's NDJSON export.

Geometry of each record: a Point from its longitude/latitude fields (``longitude``/``lng``/``lon``
and ``latitude``/``lat``); else, when the dataset has a district field (``district`` or
``district_name``: a GB/T 2260 code or a name), that Haikou district's polygon from
cityos/data/geo/haikou-districts.geojson; else 400 ``no_geometry``. A record whose coordinates
are empty or not numbers gets ``"geometry": null`` (valid GeoJSON).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from cityos.core.db import Database
from cityos.core.errors import ProblemError
from cityos.datastore import services as datastore

MEDIA_TYPE = "application/geo+json"
DISTRICTS = Path(__file__).resolve().parent.parent / "data" / "geo" / "haikou-districts.geojson"
LON_FIELDS = ("longitude", "lng", "lon")
LAT_FIELDS = ("latitude", "lat")
DISTRICT_FIELDS = ("district", "district_name")
FLUSH_BYTES = 1 << 16

Geometry = Callable[[dict[str, Any]], dict[str, Any] | None]


@cache
def district_shapes() -> dict[str, dict[str, Any]]:
    """District polygon by adcode and by name."""
    data = json.loads(DISTRICTS.read_text(encoding="utf-8"))
    shapes: dict[str, dict[str, Any]] = {}
    for feature in data["features"]:
        props = feature["properties"]
        shapes[str(props["adcode"])] = feature["geometry"]
        shapes[str(props["name"])] = feature["geometry"]
    return shapes


def _number(value: Any) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def _point(lon_field: str, lat_field: str) -> Geometry:
    def geometry(record: dict[str, Any]) -> dict[str, Any] | None:
        lon, lat = _number(record.get(lon_field)), _number(record.get(lat_field))
        if lon is None or lat is None:
            return None
        return {"type": "Point", "coordinates": [lon, lat]}

    return geometry


def _district(names: list[str]) -> Geometry:
    shapes = district_shapes()

    def geometry(record: dict[str, Any]) -> dict[str, Any] | None:
        for name in names:
            shape = shapes.get(str(record.get(name) or "").strip())
            if shape is not None:
                return shape
        return None

    return geometry


def geometry_for(fields: Iterable[str]) -> Geometry:
    """How records of a dataset with these fields get their geometry; 400 ``no_geometry``."""
    names = list(fields)
    lon = next((f for f in LON_FIELDS if f in names), None)
    lat = next((f for f in LAT_FIELDS if f in names), None)
    if lon and lat:
        return _point(lon, lat)
    districts = [f for f in DISTRICT_FIELDS if f in names]
    if districts:
        return _district(districts)
    raise ProblemError(
        400,
        "no_geometry",
        "This dataset has no coordinates (longitude/latitude) and no district field.",
    )


def _lines(chunks: Iterator[bytes]) -> Iterator[bytes]:
    rest = b""
    for chunk in chunks:
        rest += chunk
        *lines, rest = rest.split(b"\n")
        yield from (line for line in lines if line)
    if rest.strip():
        yield rest


def _features(lines: Iterator[bytes], geometry: Geometry) -> Iterator[bytes]:
    buffer: list[str] = ['{"type":"FeatureCollection","features":[']
    size = 0
    first = True
    for line in lines:
        record = json.loads(line)
        feature = {"type": "Feature", "geometry": geometry(record), "properties": record}
        text = ("" if first else ",") + json.dumps(feature, ensure_ascii=False)
        first = False
        buffer.append(text)
        size += len(text)
        if size >= FLUSH_BYTES:
            yield "".join(buffer).encode()
            buffer, size = [], 0
    buffer.append("]}")
    yield "".join(buffer).encode()


def stream(
    db: Database,
    resource_id: str,
    fields: Iterable[str],
    *,
    filters: dict[str, Any] | None = None,
    q: str | None = None,
    sort: str | None = None,
) -> tuple[str, str, Iterator[bytes]]:
    """(media type, file name, byte chunks); errors are raised before the first chunk."""
    geometry = geometry_for(fields)
    _media, filename, chunks = datastore.export(
        db, resource_id, "ndjson", filters=filters, q=q, sort=sort
    )
    name = filename.rsplit(".", 1)[0] + ".geojson"
    return MEDIA_TYPE, name, _features(_lines(chunks), geometry)
