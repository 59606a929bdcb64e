"""The demo starts with sharing to look at: a request in 市公安局's inbox, a subscription."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import csrf_of, login

DEMO_PASSWORD = "cityos-demo"


def test_police_inbox_has_the_water_request(demo_client: TestClient) -> None:
    login(demo_client, "officer_police", DEMO_PASSWORD)
    headers = {"X-CSRF-Token": csrf_of(demo_client)}
    inbox = demo_client.get("/api/v1/sharing/requests", params={"box": "inbox"}, headers=headers)
    assert inbox.status_code == 200, inbox.text
    pending = [r for r in inbox.json()["results"] if r["status"] == "pending"]
    assert pending and "水费减免" in pending[0]["purpose"]
    page = demo_client.get("/sharing")
    assert page.status_code == 200 and "海口市人口基础信息" in page.text and "水务局" in page.text


def test_health_subscription_is_in_force(demo_client: TestClient) -> None:
    login(demo_client, "officer_health", DEMO_PASSWORD)
    grants = demo_client.get("/api/v1/sharing/grants", params={"as": "consumer"})
    assert grants.status_code == 200, grants.text
    kinds = {(g["kind"], g["status"]) for g in grants.json()["results"]}
    assert ("subscribe", "active") in kinds
