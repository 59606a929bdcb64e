"""The demo's two confirmed interface services, on the shared (read-only) demo."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from cityos.auth.views import DEMO_PASSWORD
from cityos.datastore import services as datastore
from cityos.interfaces import engine
from cityos.interfaces import services as registry
from cityos.interfaces.models import InterfaceService
from tests.conftest import login


def _service(app: FastAPI, name: str) -> InterfaceService:
    from sqlalchemy import select

    with app.state.db.session() as session:
        service = session.scalar(select(InterfaceService).where(InterfaceService.name == name))
        assert service is not None
        return service


def test_demo_services_are_registered_and_confirmed(demo_app: FastAPI) -> None:
    verify = _service(demo_app, "居民身份核验")
    lookup = _service(demo_app, "企业登记状态查询")
    assert (verify.status, lookup.status) == ("confirmed", "confirmed")
    assert verify.spec == {"operation": "verify"}
    assert [i["name"] for i in verify.inputs] == ["id_number", "name"]
    assert verify.inputs[0]["detector"] == "id_card"
    assert [o["name"] for o in lookup.outputs] == ["name", "status", "established_on"]
    with demo_app.state.db.session() as session:
        assert {s.name for s in registry.review_queue(session)}.isdisjoint(
            {"居民身份核验", "企业登记状态查询"}
        )


def test_demo_services_answer_on_the_demo_data(demo_app: FastAPI) -> None:
    db = demo_app.state.db
    verify = _service(demo_app, "居民身份核验")
    person = datastore.query(db, verify.resource_id, limit=1, fields=["id_number", "name"])
    row = person.records[0]
    values = engine.check_inputs(verify, {"id_number": row["id_number"], "name": row["name"]})
    assert engine.run_query(db, verify, values).body == {"match": True}
    wrong = engine.check_inputs(verify, {"id_number": row["id_number"], "name": "查无此人"})
    assert engine.run_query(db, verify, wrong).body == {"match": False}

    lookup = _service(demo_app, "企业登记状态查询")
    firm = datastore.query(db, lookup.resource_id, limit=1, fields=["uscc", "name"]).records[0]
    answer = engine.run_query(db, lookup, engine.check_inputs(lookup, {"uscc": firm["uscc"]}))
    assert answer.body["found"] is True and answer.body["name"] == firm["name"]
    assert set(answer.body) == {"found", "name", "status", "established_on"}


def test_demo_registry_page(demo_client: TestClient) -> None:
    login(demo_client, "officer_water", DEMO_PASSWORD)
    page = demo_client.get("/services")
    assert page.status_code == 200
    assert "居民身份核验" in page.text and "企业登记状态查询" in page.text
