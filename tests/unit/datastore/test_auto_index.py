"""Query-driven indexes on large tables (threshold lowered for the test)."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from cityos.datastore import indexer
from cityos.datastore.tables import table_name
from tests.unit.datastore.conftest import World, csv_bytes
from tests.unit.datastore.test_query import ROWS


def _indexed_columns(world: World, resource_id: str) -> set[str]:
    with world.db.engine.connect() as conn:
        found = inspect(conn).get_indexes(table_name(resource_id))
    return {column for index in found for column in index["column_names"] if column}


def test_filtered_and_sorted_columns_get_an_index(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(indexer, "AUTO_INDEX_MIN_ROWS", 3)
    rid = world.resource(open_type="unconditional", key_fields=["station"])
    assert world.upload(rid, csv_bytes(ROWS)).status_code == 201
    assert "district" not in _indexed_columns(world, rid)

    first = world.records(rid, district="美兰区", aqi__gte="50", sort="-pm25").json()
    indexer.indexer_for(world.db).wait()
    assert {"district", "aqi", "pm25"} <= _indexed_columns(world, rid)
    # same answer with the index; unqueried columns stay unindexed
    again = world.records(rid, district="美兰区", aqi__gte="50", sort="-pm25").json()
    assert again["records"] == first["records"] and again["total"] == 1
    assert "note" not in _indexed_columns(world, rid)


def test_small_tables_are_left_alone(world: World) -> None:
    rid = world.resource(open_type="unconditional", key_fields=["station"])
    assert world.upload(rid, csv_bytes(ROWS)).status_code == 201
    world.records(rid, district="美兰区")
    indexer.indexer_for(world.db).wait()
    assert "district" not in _indexed_columns(world, rid)


def test_fields_used_reads_filters_and_the_first_sort_key() -> None:
    assert indexer.fields_used({"a__gte": 1, "b": 2}, "c desc, d") == ["a", "b", "c"]
    assert indexer.fields_used(None, "-x") == ["x"]
    assert indexer.index_name("ds_" + "f" * 32, "some_field").startswith("ds_")
    assert len(indexer.index_name("ds_" + "f" * 32, "x" * 60)) <= 63
