"""What a dataset page can draw: the chart (numeric columns over time or by label) and the map.

The page renders nothing heavy on the server: these helpers only decide, from the 信息项, which
fields the browser-side chart (ECharts) and map (MapLibre) use, and pass that as JSON.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from cityos.directory.codes import DISTRICTS
from cityos.opendata import geojson

NUMERIC_TYPES = frozenset({"integer", "number"})
TIME_TYPES = ("datetime", "date")
# the same fields as the GeoJSON download's geometry
LONGITUDE_FIELDS = geojson.LON_FIELDS
LATITUDE_FIELDS = geojson.LAT_FIELDS
DISTRICT_FIELDS = geojson.DISTRICT_FIELDS
LABEL_HINTS = ("name", "station", "section", "site", "district", "month", "year")
HAIKOU_DISTRICTS = tuple(
    code for code in DISTRICTS if code.startswith("4601") and code[-2:] != "00"
)


@dataclass(frozen=True)
class Column:
    field: str
    name: str
    unit: str = ""


@dataclass(frozen=True)
class ChartSpec:
    """``kind`` is "line" (over ``x`` a date/datetime field) or "bar" (by ``x`` a label field)."""

    kind: str
    x: Column
    series: list[Column] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class MapSpec:
    """``kind`` is "points" (longitude/latitude fields) or "districts" (a choropleth)."""

    kind: str
    longitude: str = ""
    latitude: str = ""
    district_field: str = ""
    label_field: str = ""
    districts: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _column(item: Any) -> Column:
    return Column(item.field, item.name or item.field, item.unit or "")


def _first(items: list[Any], names: tuple[str, ...]) -> Any | None:
    by_field = {i.field: i for i in items}
    return next((by_field[n] for n in names if n in by_field), None)


def numeric_columns(items: list[Any]) -> list[Column]:
    """Numeric fields worth charting (coordinates are positions, not measures)."""
    skip = set(LONGITUDE_FIELDS + LATITUDE_FIELDS)
    return [_column(i) for i in items if i.data_type in NUMERIC_TYPES and i.field not in skip]


def time_column(items: list[Any]) -> Column | None:
    for data_type in TIME_TYPES:
        found = next((i for i in items if i.data_type == data_type), None)
        if found is not None:
            return _column(found)
    return None


def label_column(items: list[Any]) -> Column | None:
    strings = [i for i in items if i.data_type == "string"]
    for hint in LABEL_HINTS:
        found = next((i for i in strings if hint in i.field), None)
        if found is not None:
            return _column(found)
    return _column(strings[0]) if strings else None


def chart_spec(items: list[Any]) -> ChartSpec | None:
    """A line chart over time when there is a date field, else a bar chart by a label field."""
    series = numeric_columns(items)
    if not series:
        return None
    over_time = time_column(items)
    if over_time is not None:
        return ChartSpec("line", over_time, series)
    by_label = label_column(items)
    return ChartSpec("bar", by_label, series) if by_label is not None else None


def has_geometry(items: list[Any]) -> bool:
    """Whether the GeoJSON download can place the records (coordinates or a district field)."""
    coordinates = _first(items, LONGITUDE_FIELDS) and _first(items, LATITUDE_FIELDS)
    return bool(coordinates or _first(items, DISTRICT_FIELDS))


def map_spec(items: list[Any], districts: list[str] | None) -> MapSpec | None:
    """Points when the records carry coordinates, else districts when any are known."""
    lon, lat = _first(items, LONGITUDE_FIELDS), _first(items, LATITUDE_FIELDS)
    label = label_column(items)
    if lon is not None and lat is not None:
        return MapSpec(
            "points",
            longitude=lon.field,
            latitude=lat.field,
            label_field=label.field if label else "",
        )
    district_item = _first(items, DISTRICT_FIELDS)
    covered = [code for code in districts or [] if code in HAIKOU_DISTRICTS]
    if district_item is not None or covered:
        return MapSpec(
            "districts",
            district_field=district_item.field if district_item is not None else "",
            districts=covered or list(HAIKOU_DISTRICTS),
        )
    return None
