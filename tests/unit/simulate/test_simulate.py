"""The Haikou sensor simulator: stations in place, plausible values, the typhoon timeline."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from cityos.demo.geo import DISTRICT_CODES, districts
from cityos.simulate.models import RANGES
from cityos.simulate.scenario import Typhoon, state_at
from cityos.simulate.stations import STATIONS, Kind, by_kind
from cityos.simulate.stream import Reading, as_iot_json, as_ngsi_ld_patch, readings

START = datetime(2026, 7, 6, tzinfo=UTC)  # a Monday, 08:00 in Haikou
HOUR = timedelta(hours=1)


def _typhoon_readings() -> list[Reading]:
    return list(readings(START, START + timedelta(hours=60), HOUR, scenario=Typhoon(), seed=7))


def _series(rows: list[Reading], station_id: str, name: str) -> list[float]:
    return [float(r.measures[name]) for r in rows if r.station_id == station_id]


def test_every_station_lies_inside_its_district() -> None:
    areas = districts()
    for station in STATIONS:
        assert station.district in DISTRICT_CODES
        assert areas[station.district].contains(station.lon, station.lat), station.slug
        others = [c for c in DISTRICT_CODES if c != station.district]
        assert not any(areas[c].contains(station.lon, station.lat) for c in others), station.slug


def test_network_shape_and_identifiers() -> None:
    counts = Counter(s.kind for s in STATIONS)
    assert counts[Kind.AIR] >= 8 and counts[Kind.RAIN] >= 12 and counts[Kind.WIND] >= 6
    assert (
        counts[Kind.TRAFFIC] >= 10 and counts[Kind.NOISE] >= 6 and counts[Kind.WATER_QUALITY] >= 4
    )
    assert counts[Kind.RIVER] >= 2 and counts[Kind.TIDE] >= 1
    assert len({s.id for s in STATIONS}) == len(STATIONS)
    assert len({s.device_id for s in STATIONS}) == len(STATIONS)
    assert all(s.id.startswith(f"urn:ngsi-ld:{s.entity_type}:haikou-") for s in STATIONS)
    for river in by_kind(Kind.RIVER):
        assert river.base_level is not None and river.warning_level is not None
        assert river.guarantee_level is not None
        assert river.base_level < river.warning_level < river.guarantee_level


def test_values_stay_in_physical_ranges_over_a_week() -> None:
    rows = list(readings(START, START + timedelta(days=7), timedelta(minutes=30), seed=3))
    assert len(rows) == 7 * 48 * len(STATIONS)
    for row in rows:
        station_measures = next(s.measures for s in STATIONS if s.id == row.station_id)
        assert set(row.measures) == set(station_measures)
        for name, value in row.measures.items():
            if name == "congested":
                assert isinstance(value, bool)
                continue
            low, high = RANGES[name]
            assert low <= value <= high, (row.station_id, name, value)
    rain = [
        r.measures["precipitation"]
        for r in rows
        if r.entity_type == "WeatherObserved" and "precipitation" in r.measures
    ]
    assert 0 < sum(1 for v in rain if v > 0) < len(rain) / 2  # intermittent showers


def test_values_stay_in_ranges_during_the_typhoon() -> None:
    for row in _typhoon_readings():
        for name, value in row.measures.items():
            if name != "congested":
                low, high = RANGES[name]
                assert low <= value <= high, (row.station_id, name, value)


def test_diurnal_cycles() -> None:
    day = list(readings(START - timedelta(hours=8), START + timedelta(hours=16), HOUR, seed=1))

    def at(local_hour: int, station_id: str, name: str) -> float:
        moment = START - timedelta(hours=8) + timedelta(hours=local_hour)
        return next(
            float(r.measures[name])
            for r in day
            if r.observed_at == moment and r.station_id == station_id
        )

    road, air, noise = (
        by_kind(Kind.TRAFFIC)[0].id,
        by_kind(Kind.AIR)[1].id,
        by_kind(Kind.NOISE)[0].id,
    )
    assert at(8, road, "intensity") > 2 * at(3, road, "intensity")
    assert at(18, road, "intensity") > 2 * at(3, road, "intensity")
    assert at(8, air, "no2") > at(3, air, "no2")
    assert at(15, air, "o3") > at(6, air, "o3")
    assert at(14, noise, "LAeq") > at(3, noise, "LAeq") + 5


def test_aqi_follows_the_pollutants() -> None:
    from cityos.demo.aqi import aqi

    for row in readings(START, START + timedelta(hours=6), HOUR, seed=2):
        if row.entity_type == "AirQualityObserved":
            m = row.measures
            pollutants = {p: float(m[p]) for p in ("pm25", "pm10", "no2", "o3", "so2", "co")}
            assert m["airQualityIndex"] == aqi(pollutants)[0]


def test_typhoon_winds_reach_force_12_near_the_eye_and_gusts_exceed_means() -> None:
    rows = _typhoon_readings()
    winds = [r for r in rows if "gustSpeed" in r.measures]
    assert max(float(r.measures["gustSpeed"]) for r in winds) >= 32.7
    assert all(r.measures["gustSpeed"] > r.measures["windSpeed"] for r in winds)
    calm = [r for r in winds if r.observed_at >= START + timedelta(hours=55)]
    assert max(float(r.measures["windSpeed"]) for r in calm) < 12
    closest = state_at(timedelta(hours=18))
    assert closest.eye_distance_km < 15
    assert closest.city_wind < max(
        state_at(timedelta(hours=h)).city_wind for h in range(12, 24)
    )  # calm eye
    assert max(state_at(timedelta(hours=h)).city_gust for h in range(12, 24)) >= 32.7
    assert state_at(timedelta(hours=2)).eye_distance_km > 250


def test_typhoon_rain_river_crest_after_rain_and_traffic_drop() -> None:
    rows = _typhoon_readings()
    gauges = [s.id for s in by_kind(Kind.RAIN)]
    best_3h = 0.0
    rain_peak_at = {}
    for gauge in gauges:
        hourly = _series(rows, gauge, "precipitation")
        best_3h = max(best_3h, max(sum(hourly[i : i + 3]) for i in range(len(hourly) - 2)))
        rain_peak_at[gauge] = hourly.index(max(hourly))
    assert best_3h >= 100
    river = next(s for s in by_kind(Kind.RIVER) if s.slug == "river-longtang")
    assert river.warning_level is not None
    levels = _series(rows, river.id, "height")
    assert levels[0] < river.warning_level
    crossing = next(i for i, v in enumerate(levels) if v > river.warning_level)
    assert crossing > max(rain_peak_at.values())  # the river answers with a lag
    crest = levels.index(max(levels))
    assert levels[-1] < max(levels) - 0.5  # and falls later
    assert crest > crossing
    assert river.guarantee_level is not None and max(levels) < river.guarantee_level
    for gauge in by_kind(Kind.RIVER):  # every gauge on the 南渡江 passes its warning level
        assert gauge.warning_level is not None
        assert max(_series(rows, gauge.id, "height")) > gauge.warning_level
    road = by_kind(Kind.TRAFFIC)[0]
    calm = list(readings(START, START + timedelta(hours=60), HOUR, seed=7, stations=(road,)))
    storm_traffic, normal_traffic = (
        _series(rows, road.id, "intensity"),
        _series(calm, road.id, "intensity"),
    )
    assert storm_traffic[0] > 0.8 * normal_traffic[0]
    assert all(storm_traffic[h] < 0.3 * normal_traffic[h] for h in range(14, 23))


def test_coastal_surge_raises_the_tide() -> None:
    rows = _typhoon_readings()
    tide = next(s for s in by_kind(Kind.TIDE) if "haikou-bay" in s.slug)
    calm = list(readings(START, START + timedelta(hours=60), HOUR, seed=7, stations=(tide,)))
    storm, normal = _series(rows, tide.id, "height"), _series(calm, tide.id, "height")
    assert storm[18] - normal[18] > 1.5
    assert abs(storm[0] - normal[0]) < 0.2


def test_same_seed_same_readings_and_time_order() -> None:
    end = START + timedelta(hours=12)
    first = list(readings(START, end, timedelta(minutes=15), scenario=Typhoon(), seed=11))
    again = list(readings(START, end, timedelta(minutes=15), scenario=Typhoon(), seed=11))
    other = list(readings(START, end, timedelta(minutes=15), scenario=Typhoon(), seed=12))
    assert first == again
    assert first != other
    moments = [r.observed_at for r in first]
    assert moments == sorted(moments)
    assert moments[0] == START and moments[-1] < end


def test_stream_rejects_naive_datetimes_and_bad_steps() -> None:
    with pytest.raises(ValueError):
        next(readings(datetime(2026, 7, 1), datetime(2026, 7, 2), HOUR))
    with pytest.raises(ValueError):
        next(readings(START, START + HOUR, timedelta(0)))


def test_wire_formats() -> None:
    reading = next(
        r for r in readings(START, START + HOUR, HOUR) if r.entity_type == "AirQualityObserved"
    )
    suffix, payload = as_iot_json(reading)
    assert suffix == f"{reading.device_id}/attrs"
    assert (
        payload["pm25"] == reading.measures["pm25"]
        and payload["aqi"] == reading.measures["airQualityIndex"]
    )
    assert payload["ts"] == "2026-07-06T00:00:00Z"
    patch = as_ngsi_ld_patch(reading)
    assert patch["pm25"] == {
        "type": "Property",
        "value": reading.measures["pm25"],
        "observedAt": "2026-07-06T00:00:00Z",
        "unitCode": "GQ",
    }
    assert patch["dateObserved"]["value"] == "2026-07-06T00:00:00Z"
