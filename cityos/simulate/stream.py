"""Readings of the whole network in time order, and their wire formats.

``readings(start, end, step, scenario, seed)`` is deterministic: the same arguments give the
same readings. ``as_iot_json`` gives the IoT-agent JSON convention (the publisher sends the
payload to ``/json/<apikey>/<topic_suffix>``, i.e. ``/json/<apikey>/<deviceId>/attrs``) with short
measure names; ``as_ngsi_ld_patch`` gives normalized NGSI-LD attributes for a PATCH of the
entity's attributes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cityos.simulate.models import Measures, measure
from cityos.simulate.scenario import CALM, Typhoon
from cityos.simulate.stations import STATIONS, UNIT_CODES, Station

# IoT-agent short names (object ids) of the measures
SHORT_NAMES: dict[str, str] = {
    "pm25": "pm25",
    "pm10": "pm10",
    "no2": "no2",
    "o3": "o3",
    "so2": "so2",
    "co": "co",
    "airQualityIndex": "aqi",
    "temperature": "t",
    "precipitation": "p",
    "relativeHumidity": "h",
    "windSpeed": "ws",
    "gustSpeed": "wg",
    "windDirection": "wd",
    "atmosphericPressure": "ap",
    "height": "lvl",
    "flow": "q",
    "intensity": "i",
    "averageVehicleSpeed": "s",
    "occupancy": "o",
    "congested": "c",
    "LAeq": "laeq",
    "LAmax": "lamax",
    "pH": "ph",
    "O2": "o2",
    "turbidity": "tu",
    "conductivity": "ec",
    "NH4": "nh4",
}


@dataclass(frozen=True)
class Reading:
    device_id: str
    station_id: str
    entity_type: str
    observed_at: datetime  # aware, UTC
    measures: Measures


def _rng(seed: int, station: Station, moment: datetime) -> random.Random:
    return random.Random(f"{seed}:{station.slug}:{moment.isoformat()}")


def readings(
    start: datetime,
    end: datetime,
    step: timedelta,
    scenario: Typhoon | None = None,
    seed: int = 0,
    stations: tuple[Station, ...] = STATIONS,
) -> Iterator[Reading]:
    """Every station's reading at start, start + step, … up to ``end`` (excluded).

    With a scenario, the typhoon starts at ``start``.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be aware datetimes")
    if step <= timedelta(0):
        raise ValueError("step must be positive")
    moment = start.astimezone(UTC)
    while moment < end:
        state = scenario.state_at(moment - start) if scenario else CALM
        state = state.with_seed(seed)
        for station in stations:
            values = measure(station, moment, state, _rng(seed, station, moment))
            yield Reading(station.device_id, station.id, station.entity_type, moment, values)
        moment += step


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def as_iot_json(reading: Reading) -> tuple[str, dict[str, Any]]:
    """(topic suffix ``<deviceId>/attrs``, payload {short name: value}) for the IoT agent."""
    payload: dict[str, Any] = {SHORT_NAMES[name]: value for name, value in reading.measures.items()}
    payload["ts"] = _iso(reading.observed_at)
    return f"{reading.device_id}/attrs", payload


def as_ngsi_ld_patch(reading: Reading) -> dict[str, Any]:
    """Normalized NGSI-LD attributes (Property with value, observedAt and unitCode)."""
    observed = _iso(reading.observed_at)
    patch: dict[str, Any] = {"dateObserved": {"type": "Property", "value": observed}}
    for name, value in reading.measures.items():
        attribute: dict[str, Any] = {"type": "Property", "value": value, "observedAt": observed}
        if name in UNIT_CODES:
            attribute["unitCode"] = UNIT_CODES[name]
        patch[name] = attribute
    return patch
