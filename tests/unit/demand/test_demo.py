"""The demo's demands: every status present, the fulfilled one notified to the citizen."""

from __future__ import annotations

from fastapi.testclient import TestClient

from cityos.auth.views import DEMO_PASSWORD
from tests.conftest import login


def test_demo_demands_cover_every_status(demo_client: TestClient) -> None:
    stats = demo_client.get("/api/v1/demands/stats").json()
    assert stats["total"] == 8
    for status in ("open", "accepted", "available", "refused", "fulfilled"):
        assert stats[status] >= 1, status
    fulfilled = demo_client.get("/api/v1/demands?status=fulfilled").json()["items"]
    assert [d["title"] for d in fulfilled] == ["学校学区划分"]
    page = demo_client.get("/demands/stats")
    assert page.status_code == 200 and "海口市教育局" in page.text


def test_demo_citizen_has_the_fulfilment_notification(demo_client: TestClient) -> None:
    login(demo_client, "citizen", DEMO_PASSWORD)
    page = demo_client.get("/notifications")
    assert "您关注的数据已开放：需求“学校学区划分”" in page.text
