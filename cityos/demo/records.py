"""Record generators by name (``ResourceSpec.records``): pure, seeded functions of ``now``."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from cityos.demo import records_history, records_people, records_places, records_series

Record = dict[str, Any]
Generator = Callable[[datetime], list[Record]]

GENERATORS: dict[str, Generator] = {
    "residents": lambda now: records_people.residents(),
    "population_stats": lambda now: records_people.population_stats(),
    "enterprises": lambda now: records_people.enterprises(),
    "schools": lambda now: records_places.schools(),
    "hospitals": lambda now: records_places.hospitals(),
    "shelters": lambda now: records_places.shelters(),
    "bus_stops": lambda now: records_places.bus_stops(),
    "parking": lambda now: records_places.parking(),
    "job_agencies": lambda now: records_places.job_agencies(),
    "waterlogging": lambda now: records_places.waterlogging(),
    "typhoons": lambda now: records_history.typhoons(),
    "air_quality": records_series.air_quality,
    "air_daily": records_series.air_daily,
    "water_levels": records_series.water_levels,
    "rainfall": records_series.rainfall,
    "tap_water": records_series.tap_water,
    "outages": records_series.outages,
}


def generate(name: str, now: datetime) -> list[Record]:
    return GENERATORS[name](now)
