"""The issue's "done when", as a newcomer would walk it on the Haikou demo."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cityos.auth.views import DEMO_PASSWORD
from cityos.config import Settings
from cityos.demo.loader import load_demo
from tests.conftest import csrf_of, login


@pytest.fixture
def haikou(settings: Settings, app: FastAPI) -> Iterator[TestClient]:
    """A writable demo (the shared ``demo_app`` is read-only)."""
    load_demo(settings.model_copy(update={"demo": True}))
    with TestClient(app) as client:
        yield client


def test_browse_upload_see_rejected_rows_and_overdue(haikou: TestClient) -> None:
    client = haikou
    # anonymous, Chinese by default: search finds the air-quality data
    page = client.get("/catalog", params={"q": "空气"})
    assert page.status_code == 200 and 'lang="zh-Hans"' in page.text
    assert "海口市空气质量监测数据" in page.text
    found = client.get("/api/v1/catalog/resources", params={"q": "水位"}).json()
    river = next(r for r in found["results"] if r["name"] == "南渡江水位监测数据")

    # the water bureau's officer uploads a CSV with one bad row and sees why it was refused
    login(client, "officer_water", DEMO_PASSWORD)
    csv_text = (
        "station_code,station_name,observed_at,water_level,warning_level\n"
        "NDJ-T1,测试站,2026-11-24T08:00:00+08:00,5.21,7.5\n"
        "NDJ-T1,测试站,不是时间,5.30,7.5\n"
    )
    response = client.post(
        f"/workbench/resources/{river['id']}/upload",
        data={"csrf": csrf_of(client), "mode": "append", "on_error": "reject_rows"},
        files={"file": ("levels.csv", csv_text.encode("gbk"), "text/csv")},
        follow_redirects=True,
    )
    assert response.status_code == 200, response.text
    assert "/workbench/loads/" in str(response.url)
    batch = client.get(f"/api/v1/datastore/batches/{str(response.url).rsplit('/', 1)[1]}").json()
    assert batch["encoding"].lower() in {"gb18030", "gbk"}
    assert batch["rows_accepted"] == 1 and batch["rows_rejected"] == 1
    (rejected,) = batch["rejected"]
    assert rejected["row_number"] == 3
    assert rejected["reason"] in response.text  # the page shows the reason, in Chinese
    assert any("\u4e00" <= ch <= "\u9fff" for ch in rejected["reason"])

    # the provider's workbench and the bureau's console flag the overdue daily resource
    client.post("/logout", data={"csrf": csrf_of(client)})
    login(client, "officer_shuiwujt", DEMO_PASSWORD)
    workbench = client.get("/workbench")
    assert "供水水质检测数据" in workbench.text and "已逾期" in workbench.text
    client.post("/logout", data={"csrf": csrf_of(client)})
    login(client, "admin", DEMO_PASSWORD)
    console = client.get("/console/timeliness")
    assert console.status_code == 200 and "供水水质检测数据" in console.text
    queue = client.get("/console/queue")
    assert queue.status_code == 200
