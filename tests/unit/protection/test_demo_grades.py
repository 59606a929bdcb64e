"""The Haikou demo ends with the population resource graded and encrypted, others pending."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select, text

from cityos.auth.views import DEMO_PASSWORD
from cityos.catalog.models import Resource
from cityos.datastore import services as datastore
from tests.conftest import login


def test_population_resource_is_confirmed_and_its_id_numbers_encrypted(
    demo_client: TestClient,
) -> None:
    app = demo_client.app
    db = app.state.db  # type: ignore[attr-defined]
    with db.session() as session:
        resource = session.scalar(select(Resource).where(Resource.name == "海口市人口基础信息"))
        assert resource is not None
        assert (resource.grade, resource.grade_status) == ("重要", "confirmed")
        raw = session.execute(text(f"SELECT id_number, id_number__ct FROM ds_{resource.id}")).all()
    assert raw and {r[0] for r in raw} == {None} and all(r[1] for r in raw)
    assert datastore.encrypted_fields_of(db, resource.id) == ["id_number"]
    one = datastore.query(db, resource.id, limit=1, fields=["id_number", "name"]).records[0]
    found = datastore.query(db, resource.id, filters={"id_number": one["id_number"]})
    assert [r["name"] for r in found.records] == [one["name"]]
    login(demo_client, "reviewer", DEMO_PASSWORD)
    pending = demo_client.get("/api/v1/protection/proposals").json()
    assert len(pending) >= 3 and resource.id not in [p["id"] for p in pending]
    page = demo_client.get("/console/classification")
    assert page.status_code == 200 and "确认分级" in page.text
