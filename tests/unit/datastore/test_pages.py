"""Pages: upload, load result, fragments, timeliness (zh-Hans, without JavaScript)."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from cityos.core.db import utcnow
from cityos.datastore import services
from tests.conftest import login
from tests.unit.datastore.conftest import AQI_CSV, World, csv_bytes


def form_csrf(html: str) -> str:
    match = re.search(r'name="csrf" value="([^"]+)"', html)
    assert match, html[:500]
    return match.group(1)


def post_upload(world: World, rid: str, content: bytes, csrf: str, **data: str) -> object:
    return world.client.post(
        f"/workbench/resources/{rid}/upload",
        files={"file": ("空气.csv", io.BytesIO(content), "text/csv")},
        data={"csrf": csrf, "mode": "append", "on_error": "reject_rows", **data},
        follow_redirects=False,
    )


def test_officer_uploads_and_sees_which_rows_were_rejected(world: World) -> None:
    rid = world.resource()
    login(world.client, "officer_eco")
    page = world.client.get(f"/workbench/resources/{rid}/upload")
    assert page.status_code == 200
    html = page.text
    assert "归集数据" in html and 'type="file"' in html and "整体替换" in html
    assert 'name="on_error"' in html and "全部成功才归集" in html
    assert "空气质量指数" in html  # the items the file may name
    lines = ["监测站,空气质量指数", "甲站,1", "乙站,很多", "丙站,3"]
    response = post_upload(world, rid, csv_bytes(lines, "gbk"), form_csrf(html))
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith("/workbench/loads/")
    result = world.client.get(location)
    assert result.status_code == 200
    text = result.text
    assert "部分成功" in text and "未通过的行" in text
    assert '<th scope="row">3</th>' in text
    assert "空气质量指数：“很多”不是整数。" in text
    # in English on request
    assert "is not an integer" in world.client.get(location + "?lang=en").text
    world.client.get("/?lang=zh-Hans")


def test_upload_errors_are_shown_on_the_form(world: World) -> None:
    rid = world.resource()
    login(world.client, "officer_eco")
    csrf = form_csrf(world.client.get(f"/workbench/resources/{rid}/upload").text)
    response = post_upload(world, rid, csv_bytes(["station,颜色", "甲站,红"]), csrf)
    assert response.status_code == 422
    assert "以下列不是该信息资源的信息项：颜色" in response.text
    assert 'role="alert"' in response.text
    response = post_upload(world, rid, csv_bytes(["station", "甲站"]), "forged")
    assert response.status_code == 403
    assert services.load_history(world.db, rid) == []


def test_another_department_cannot_upload(world: World) -> None:
    rid = world.resource()
    login(world.client, "officer_water")
    assert world.client.get(f"/workbench/resources/{rid}/upload").status_code == 403
    batch = world.upload(rid, csv_bytes(AQI_CSV)).json()
    assert world.client.get(f"/workbench/loads/{batch['id']}").status_code == 404
    api = world.client.get(
        f"/api/v1/datastore/batches/{batch['id']}", headers=world.headers("officer_water")
    )
    assert api.status_code == 404


def test_preview_fragment_and_page(world: World) -> None:
    rid = world.resource(open_type="unconditional")
    world.upload(rid, csv_bytes(AQI_CSV))
    fragment = world.client.get(
        f"/datastore/{rid}/fragments/preview", headers={"HX-Request": "true"}
    )
    assert fragment.status_code == 200
    assert "<html" not in fragment.text
    assert '<th scope="col" title="aqi">空气质量指数</th>' in fragment.text
    assert "海口市监测站" in fragment.text
    assert f"/api/v1/datastore/{rid}/export.csv" in fragment.text
    assert f"/api/v1/datastore/{rid}/export.xlsx" in fragment.text
    page = world.client.get(f"/datastore/{rid}/fragments/preview")
    assert page.status_code == 200 and page.text.lstrip().startswith("<!doctype html>")
    assert "海口市监测站" in page.text
    # metadata visible but no data right: a notice, no records
    conditional = world.resource(open_type="conditional")
    world.upload(conditional, csv_bytes(AQI_CSV))
    notice = world.client.get(f"/datastore/{conditional}/fragments/preview")
    assert notice.status_code == 200
    assert "无权查看其数据" in notice.text and "海口市监测站" not in notice.text
    hidden = world.resource(open_type="none")
    assert world.client.get(f"/datastore/{hidden}/fragments/preview").status_code == 404


def test_load_history_fragment(world: World) -> None:
    rid = world.resource(open_type="unconditional")
    world.upload(rid, csv_bytes(AQI_CSV))
    anonymous = world.client.get(
        f"/datastore/{rid}/fragments/loads", headers={"HX-Request": "true"}
    )
    assert anonymous.status_code == 200 and "仅向提供方的数据专员显示" in anonymous.text
    login(world.client, "officer_eco")
    own = world.client.get(f"/datastore/{rid}/fragments/loads", headers={"HX-Request": "true"})
    assert "data.csv" in own.text and "成功" in own.text and "<html" not in own.text
    assert f"/workbench/resources/{rid}/upload" in own.text


def test_timeliness(world: World) -> None:
    daily = world.resource(update_cycle="daily", name="每日数据")
    monthly = world.resource(update_cycle="monthly", name="每月数据")
    irregular = world.resource(update_cycle="irregular", name="不定期数据")
    others = world.resource(provider=world.water, update_cycle="realtime", name="水位实时数据")
    for rid in (daily, monthly, irregular):
        world.upload(rid, csv_bytes(AQI_CSV))
    world.upload(others, csv_bytes(AQI_CSV), username="officer_water")
    officer = world.principal("officer_eco")
    old = utcnow() - timedelta(days=3)
    services.set_data_updated_at(world.db, daily, old, actor=officer)
    services.set_data_updated_at(world.db, irregular, old - timedelta(days=900), actor=officer)
    assert services.is_overdue(world.db, daily)
    assert not services.is_overdue(world.db, monthly)
    assert not services.is_overdue(world.db, irregular)
    assert services.is_overdue(world.db, others, now=utcnow() + timedelta(hours=2))

    entries = services.timeliness(world.db)
    assert entries[0]["resource_id"] == daily  # overdue first
    by_id = {e["resource_id"]: e for e in entries}
    assert by_id[daily]["overdue"] and by_id[daily]["due_at"] == old + timedelta(days=1)
    assert by_id[irregular]["due_at"] is None and not by_id[irregular]["overdue"]

    api = world.client.get("/api/v1/datastore/timeliness", headers=world.headers("admin"))
    assert api.status_code == 200
    assert api.json()[0]["resource_id"] == daily
    assert len(api.json()) == 4
    mine = world.client.get(
        "/api/v1/datastore/timeliness?mine=1", headers=world.headers("officer_eco")
    )
    assert {e["resource_id"] for e in mine.json()} == {daily, monthly, irregular}
    assert (
        world.client.get(
            "/api/v1/datastore/timeliness", headers=world.headers("citizen")
        ).status_code
        == 403
    )

    login(world.client, "admin")
    page = world.client.get("/console/timeliness")
    assert page.status_code == 200
    html = page.text
    assert 'aria-current="page">更新及时性' in html.replace("\n", "")  # console tabs
    assert html.index("每日数据") < html.index("每月数据")
    assert "已逾期" in html
