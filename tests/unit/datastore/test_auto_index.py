"""Query-driven composite indexes on large tables (threshold lowered for the test)."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from cityos.datastore import indexer
from cityos.datastore.tables import table_name
from tests.unit.datastore.conftest import World, csv_bytes
from tests.unit.datastore.test_query import ROWS


def _index_shapes(world: World, resource_id: str) -> list[list[str]]:
    with world.db.engine.connect() as conn:
        found = inspect(conn).get_indexes(table_name(resource_id))
    return [index["column_names"] for index in found]


def test_a_query_shape_gets_one_composite_index(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(indexer, "AUTO_INDEX_MIN_ROWS", 3)
    rid = world.resource(open_type="unconditional", key_fields=["station"])
    assert world.upload(rid, csv_bytes(ROWS)).status_code == 201
    before = _index_shapes(world, rid)

    first = world.records(rid, district="美兰区", aqi__gte="50", sort="-pm25").json()
    world.records(rid, sort="-day")
    world.records(rid, station="美兰站")  # the key: indexed already
    indexer.indexer_for(world.db).wait()
    added = [s for s in _index_shapes(world, rid) if s not in before]
    assert sorted(added) == [["day"], ["district", "aqi"]]
    # the same answer with the index
    again = world.records(rid, district="美兰区", aqi__gte="50", sort="-pm25").json()
    assert again["records"] == first["records"] and again["total"] == 1


def test_small_tables_are_left_alone(world: World) -> None:
    rid = world.resource(open_type="unconditional", key_fields=["station"])
    assert world.upload(rid, csv_bytes(ROWS)).status_code == 201
    before = _index_shapes(world, rid)
    world.records(rid, district="美兰区")
    indexer.indexer_for(world.db).wait()
    assert _index_shapes(world, rid) == before


def test_query_shape_equalities_first_then_a_range_or_the_sort() -> None:
    shape = indexer.query_shape
    assert shape({"district": "x", "amount__gte": 1, "amount__lte": 2}, "-amount") == (
        "district",
        "amount",
    )
    assert shape({"category": "x", "day__gte": 1}, "-ts") == ("category", "day")
    assert shape({"b": 1, "a__in": "x,y"}, "c desc, d") == ("a", "b", "c")
    assert shape(None, "-x") == ("x",)
    assert shape(None, None) == ()
    assert len(indexer.index_name("ds_" + "f" * 32, ("x" * 60, "y"))) <= 63
