"""The answer cache: ETag/304, invalidation by a load, and no leak of 有条件开放 answers."""

from __future__ import annotations

from cityos.opendata.cache import open_cache
from tests.unit.datastore.conftest import csv_bytes
from tests.unit.opendata import open_world
from tests.unit.opendata.open_world import OpenWorld

ow = open_world.ow


def test_anonymous_answers_are_cacheable_with_etag(ow: OpenWorld) -> None:
    first = ow.records(ow.open_id, limit=2)
    assert first.headers["Cache-Control"] == "public, max-age=30"
    etag = first.headers["ETag"]
    code = ow.code(ow.open_id)
    again = ow.client.get(
        f"/api/v1/open/datasets/{code}/records",
        params={"limit": 2},
        headers={"If-None-Match": etag},
    )
    assert again.status_code == 304
    assert len(open_cache(ow.w.app).answers) >= 1


def test_a_load_of_new_records_invalidates(ow: OpenWorld) -> None:
    assert ow.records(ow.open_id).json()["total"] == 4
    added = csv_bytes(
        ["station,district,aqi", "新站,美兰区,33"],
    )
    assert ow.w.upload(ow.open_id, added).status_code == 201
    after = ow.records(ow.open_id).json()
    assert after["total"] == 5
    assert "新站" in {r["station"] for r in after["records"]}


def test_parameter_order_shares_one_entry(ow: OpenWorld) -> None:
    a = ow.records(ow.open_id, aqi__gte=50, sort="aqi")
    b = ow.records(ow.open_id, sort="aqi", aqi__gte=50)
    assert a.headers["ETag"] == b.headers["ETag"]


def test_conditional_cached_answer_never_leaks(ow: OpenWorld) -> None:
    scoped = ow.key("developer", scope=ow.cond_id)
    assert ow.records(ow.cond_id, key=scoped).status_code == 200  # now cached
    anonymous = ow.records(ow.cond_id)
    assert anonymous.status_code == 401
    assert "records" not in anonymous.json()
    other = ow.records(ow.cond_id, key=ow.key("citizen"))
    assert other.status_code == 403


def test_publishing_change_drops_a_dataset(ow: OpenWorld) -> None:
    assert ow.records(ow.open_id).status_code == 200
    from cityos.catalog.models import Resource

    with ow.w.db.session() as session:
        resource = session.get(Resource, ow.open_id)
        assert resource is not None
        resource.open_type = "none"
    ow.w.app.state.bus.publish(
        "catalog.resource.changed", {"resource_id": ow.open_id, "action": "update"}
    )
    assert ow.records(ow.open_id).status_code == 404
