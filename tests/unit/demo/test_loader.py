"""The full demo, loaded through the services into the test database (both backends)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from cityos.auth.principal import Principal
from cityos.auth.views import DEMO_ACCOUNTS, DEMO_PASSWORD
from cityos.catalog import services as catalog
from cityos.catalog.models import OPEN_TYPES, SHARE_TYPES, UPDATE_CYCLES
from cityos.config import Settings
from cityos.datastore import services as datastore
from cityos.demo.catalogue import RESOURCES
from cityos.demo.loader import load_demo, load_demo_if_empty
from cityos.demo.orgs import ORGS, all_accounts
from cityos.directory import services as directory
from tests.conftest import login

ADMIN = Principal(user_id="test", username="test", roles=frozenset({"admin", "public"}))
DOCS = Path(__file__).resolve().parents[3] / "docs" / "demo.md"


def _counts(app: FastAPI) -> tuple[int, int, int]:
    with app.state.db.session() as session:
        orgs = directory.list_organisations(session)
        resources = catalog.provider_resources(session, [o.id for o in orgs])
        users = directory.list_users(session)
    return len(orgs), len(resources), len(users)


def test_the_demo_loads_once_and_completely(app: FastAPI, settings: Settings, client: TestClient) -> None:
    assert load_demo_if_empty(settings) is True
    assert load_demo_if_empty(settings) is False  # organisations exist now
    first = _counts(app)
    summary = load_demo(settings)  # idempotent: nothing is added twice
    assert _counts(app) == first
    assert summary.records == 0

    orgs, resources, users = first
    assert orgs >= 20 and resources >= 60 and users == len(all_accounts())
    db = app.state.db
    with db.session() as session:
        every_org = directory.list_organisations(session)
        bureau = directory.bureau(session)
        assert bureau is not None and bureau.name == "海口市大数据管理局"
        assert {o.kind for o in every_org} == {"government", "enterprise", "social"}
        found = catalog.provider_resources(session, [o.id for o in every_org])
        published = [r for r in found if r.status == "published"]
        assert {r.share_type for r in published} == set(SHARE_TYPES)
        assert {r.open_type for r in published} == set(OPEN_TYPES)
        assert {r.update_cycle for r in published} == set(UPDATE_CYCLES)
        assert all(r.published_on is not None for r in published)
        statuses = Counter(r.status for r in found)
        assert statuses["submitted"] >= 2 and statuses["draft"] >= 2 and statuses["rejected"] == 1
        assert len(catalog.review_queue(session)) == statuses["submitted"]
        (rejected,) = [r for r in found if r.status == "rejected"]
        assert rejected.review_comment
        by_name = {r.name: r for r in found}
        people = by_name["海口市人口基础信息"]
        assert (people.share_type, people.open_type) == ("conditional", "none")
        items = {i.field: i.sensitivity for i in catalog.get_items(session, people.id)}
        assert items["id_number"] == "sensitive_personal"
        assert all(r.share_basis for r in found if r.share_type == "none")
        assert any(r.related_codes for r in found)

    expected = {s.name: s for s in RESOURCES if s.records and s.status == "published"}
    for name, spec in expected.items():
        table = datastore.table_info(db, by_name[name].id)
        assert table is not None and table.row_count > 0, spec.key
    residents = datastore.table_info(db, people.id)
    assert residents is not None and residents.row_count >= 2000
    air = datastore.query(db, by_name["海口市空气质量监测数据"].id, limit=1, sort="observed_at desc")
    assert air.total == 10 * 7 * 24
    timeliness = {e["name"]: e for e in datastore.timeliness(db)}
    assert timeliness["供水水质检测数据"]["overdue"]  # its provider "stopped uploading"
    assert not timeliness["企业登记信息"]["overdue"]

    for username, _label in DEMO_ACCOUNTS:
        client.cookies.clear()
        login(client, username, DEMO_PASSWORD)
        assert client.get("/account").status_code == 200


def test_the_docs_list_every_organisation_and_officer() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for org in ORGS:
        assert f"`{org.uscc}`" in text and f"`{org.officer}`" in text, org.key
    for account in all_accounts():
        assert f"`{account.username}`" in text


def test_demo_app_serves_the_demo_read_only(demo_client: TestClient) -> None:
    organisations = demo_client.get("/api/v1/organisations")
    assert organisations.status_code == 200
    assert len(organisations.json()) >= 20
    login(demo_client, "officer_water", DEMO_PASSWORD)
    assert demo_client.get("/account").status_code == 200
    assert "cityos-demo" in demo_client.get("/login").text  # demo mode lists the accounts
