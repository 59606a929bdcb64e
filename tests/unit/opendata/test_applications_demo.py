"""The demo's 有条件开放 dataset, pending application and usage history."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from cityos.auth.principal import Principal
from cityos.auth.views import DEMO_PASSWORD
from cityos.config import Settings
from cityos.datastore import services as datastore
from cityos.demo.loader import load_demo
from cityos.opendata import applications, usage
from tests.conftest import login


def _state(app: FastAPI) -> tuple[list[tuple[str, int]], int, int]:
    with app.state.db.session() as session:
        ranked = [(r.code, r.total) for r in usage.per_dataset(session, days=None)]
        pending = len(applications.for_review(session, _admin(), pending=True))
    return ranked, pending, len(ranked)


def _admin() -> Principal:
    return Principal(user_id="x", roles=frozenset({"admin"}))


def test_the_demo_holds_a_conditional_dataset_an_application_and_usage(
    demo_app: FastAPI, demo_client: TestClient
) -> None:
    with demo_app.state.db.session() as session:
        queue = applications.for_review(session, _admin(), pending=True)
        assert len(queue) == 1
        ranked = usage.per_dataset(session, days=30)
        air = [r for r in ranked if r.name == "海口市空气质量监测数据"]
        assert ranked[0].name == "海口市空气质量监测数据" and air[0].view > 0
        assert len(usage.daily_series(session, days=30)) == 30
    rid = queue[0].resource_id
    table = datastore.table_info(demo_app.state.db, rid)
    assert table is not None and table.row_count == 48
    login(demo_client, "officer_police", DEMO_PASSWORD)
    page = demo_client.get("/workbench/open-applications")
    assert "海南椰城数据科技有限公司" in page.text
    assert demo_client.get("/workbench/open-usage").status_code == 200


def test_loading_the_demo_again_adds_nothing(app: FastAPI, settings: Settings) -> None:
    load_demo(settings)
    first = _state(app)
    assert first[1] == 1 and first[2] >= 10
    load_demo(settings)
    assert _state(app) == first
