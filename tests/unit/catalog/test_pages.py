"""The catalogue's pages: in Chinese, accessible markup, forms with CSRF, the bureau's queue."""

from __future__ import annotations

import re

from tests.conftest import csrf_of, login
from tests.unit.catalog.conftest import World


def _form(world: World, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "海口市公交车实时位置",
        "class_code": "203001",
        "provider_id": world.water,
        "summary": "全市公交车的实时位置。",
        "format": "stream",
        "share_type": "unconditional",
        "share_method": "interface",
        "open_type": "conditional",
        "open_condition": "签署数据使用协议",
        "update_cycle": "realtime",
        "published_on": "",
        "keywords": "公交，实时、位置",
        "related_codes": "",
        "key_fields": "bus_no",
        "items": "bus_no|车辆编号|string|20|public|车牌号\nlng|经度|number||public|WGS84\nlat|纬度|number",
        "districts": ["460105", "460106"],
    }
    data.update(overrides)
    return data


def test_catalogue_page_in_chinese_with_facets(world: World) -> None:
    river = world.create()
    world.publish(river["id"])
    page = world.client.get("/catalog")
    assert page.status_code == 200
    html = page.text
    assert 'lang="zh-Hans"' in html
    assert "政务信息资源目录" in html and "南渡江水位" in html
    assert "共找到 1 条信息资源" in html
    assert "无条件共享" in html and "实时" in html
    assert 'for="catalog-q"' in html and 'for="catalog-sort"' in html
    assert f'href="/catalog?provider={world.water}"' in html
    selected = world.client.get(f"/catalog?provider={world.water}&q=水位").text
    assert 'aria-current="true"' in selected
    assert "已选条件" in selected
    # a bad filter in a hand-made URL is explained, not a crash
    bad = world.client.get("/catalog?share_type=bogus")
    assert bad.status_code == 200 and "bogus" in bad.text


def test_resource_page_shows_core_metadata(world: World) -> None:
    created = world.create(
        share_type="none", share_basis="《中华人民共和国数据安全法》第二十一条", open_type="none"
    )
    world.publish(created["id"])
    page = world.client.get(f"/catalog/{created['code']}", headers=world.headers("staff_eco"))
    assert page.status_code == 200, page.text
    html = page.text
    for label in (
        "信息资源分类",
        "信息资源名称",
        "信息资源代码",
        "信息资源提供方",
        "提供方代码",
        "信息资源摘要",
        "信息资源格式",
        "共享属性",
        "开放属性",
        "更新周期",
        "发布日期",
        "关联资源代码",
        "信息项",
        "版本历史",
        "不予共享依据",
        "数据安全法",
    ):
        assert label in html, label
    assert "水务" in html and "水文水资源" in html  # the class path
    assert re.search(r"<code>[0-9A-Z]{18}</code>", html)  # the provider's USCC
    assert '<th scope="col">' in html and '<th scope="row">' in html
    rid = created["id"]
    assert f'hx-get="/datastore/{rid}/fragments/preview" hx-trigger="load"' in html
    assert f'<a href="/datastore/{rid}/fragments/loads">' in html
    assert f"/api/v1/datastore/{rid}/records" in html
    assert "发布" in html and "确认" in html  # the history's actions
    # anonymous: 不予开放, so not visible
    assert world.client.get(f"/catalog/{created['code']}").status_code == 404


def test_resource_without_items_embeds_no_data_fragments(world: World) -> None:
    created = world.create(items=[], key_fields=[])
    world.publish(created["id"])
    html = world.client.get(f"/catalog/{created['code']}").text
    assert "fragments/preview" not in html
    assert "尚无信息项" in html


def test_workbench_lists_my_resources(world: World) -> None:
    mine = world.create()
    world.create("officer_eco", name="空气质量", class_code="201001", provider_id=world.eco)
    login(world.client, "officer_water")
    page = world.client.get("/workbench")
    assert page.status_code == 200
    assert "工作台" in page.text and "南渡江水位" in page.text
    assert "空气质量" not in page.text
    assert "提交确认" in page.text
    assert f"/workbench/resources/{mine['id']}/upload" in page.text
    # the citizen has no workbench
    world.client.cookies.clear()
    login(world.client, "citizen")
    assert world.client.get("/workbench").status_code == 403


def test_officer_creates_a_resource_through_the_form(world: World) -> None:
    login(world.client, "officer_water")
    form_page = world.client.get("/workbench/resources/new")
    assert form_page.status_code == 200
    assert 'for="f-items"' in form_page.text and "字段名|名称|类型" in form_page.text
    csrf = csrf_of(world.client, "/workbench/resources/new")
    # no CSRF token: refused
    refused = world.client.post("/workbench/resources/new", data=_form(world))
    assert refused.status_code == 403
    response = world.client.post(
        "/workbench/resources/new", data={**_form(world), "csrf": csrf}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/workbench?saved=203001-000001"
    created = world.client.get(
        "/api/v1/catalog/resources/203001-000001", headers=world.headers("officer_water")
    ).json()
    assert created["name"] == "海口市公交车实时位置"
    assert created["keywords"] == ["公交", "实时", "位置"]
    assert created["districts"] == ["460105", "460106"]
    assert [i["field"] for i in created["items"]] == ["bus_no", "lng", "lat"]
    assert created["items"][0]["length"] == 20 and created["items"][1]["data_type"] == "number"
    assert created["key_fields"] == ["bus_no"]
    # submit it from the workbench
    submitted = world.client.post(
        f"/workbench/resources/{created['id']}/transition",
        data={"action": "submit", "csrf": csrf},
        follow_redirects=False,
    )
    assert submitted.status_code == 303
    status = world.client.get(
        f"/api/v1/catalog/resources/{created['id']}", headers=world.headers("officer_water")
    ).json()["status"]
    assert status == "submitted"


def test_form_errors_keep_the_input(world: World) -> None:
    login(world.client, "officer_water")
    csrf = csrf_of(world.client, "/workbench/resources/new")
    bad_items = "bus_no|车辆编号\nBad Field|名称\nlat|纬度|float"
    response = world.client.post(
        "/workbench/resources/new", data={**_form(world, items=bad_items), "csrf": csrf}
    )
    assert response.status_code == 422
    assert "第 2 行" in response.text and "第 3 行" in response.text
    assert "Bad Field|名称" in response.text  # the user's input is kept
    assert 'value="海口市公交车实时位置"' in response.text
    no_basis = world.client.post(
        "/workbench/resources/new",
        data={**_form(world, share_type="none"), "csrf": csrf},
    )
    assert no_basis.status_code == 422
    assert "不予共享的信息资源必须注明" in no_basis.text
    assert 'aria-invalid="true"' in no_basis.text


def test_officer_edits_through_the_form(world: World) -> None:
    created = world.create()
    login(world.client, "officer_water")
    page = world.client.get(f"/workbench/resources/{created['id']}/edit")
    assert page.status_code == 200 and "station|站点名称|string|50" in page.text
    csrf = csrf_of(world.client, f"/workbench/resources/{created['id']}/edit")
    items = "station|站点名称|string|50\nlevel_m|水位|number||public||m"
    data = _form(world, name="南渡江水位（小时）", class_code="202001", items=items)
    data.update(key_fields="station", districts=["460106"], keywords="水位, Hydrology")
    data.update(summary=created["summary"], format="database", open_type="unconditional")
    data.update(open_condition="")
    response = world.client.post(
        f"/workbench/resources/{created['id']}/edit",
        data={**data, "csrf": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    versions = world.client.get(
        f"/api/v1/catalog/resources/{created['id']}/versions", headers=world.headers("admin")
    ).json()
    assert set(versions[0]["changes"]) == {"name"}
    # another department's officer cannot open the form
    world.client.cookies.clear()
    login(world.client, "officer_eco")
    assert world.client.get(f"/workbench/resources/{created['id']}/edit").status_code == 404


def test_bureau_queue_confirms_and_rejects(world: World) -> None:
    first = world.create()
    second = world.create(name="南渡江流量")
    for rid in (first["id"], second["id"]):
        world.act(rid, "submit", "officer_water")
    login(world.client, "admin")
    page = world.client.get("/console/queue")
    assert page.status_code == 200
    assert "待确认目录" in page.text and "南渡江流量" in page.text
    assert 'aria-current="page"' in page.text  # the console tab
    assert page.text.index("南渡江水位") < page.text.index("南渡江流量")  # oldest first
    csrf = csrf_of(world.client, "/console/queue")
    no_reason = world.client.post(
        f"/console/queue/{second['id']}", data={"action": "reject", "comment": "", "csrf": csrf}
    )
    assert no_reason.status_code == 422 and "驳回理由" in no_reason.text
    rejected = world.client.post(
        f"/console/queue/{second['id']}",
        data={"action": "reject", "comment": "信息项不完整", "csrf": csrf},
        follow_redirects=False,
    )
    assert rejected.status_code == 303
    confirmed = world.client.post(
        f"/console/queue/{first['id']}",
        data={"action": "confirm", "comment": "", "csrf": csrf},
        follow_redirects=False,
    )
    assert confirmed.status_code == 303
    after = world.client.get(confirmed.headers["location"])
    assert "暂无待确认的信息资源" in after.text
    status = {
        rid: world.client.get(
            f"/api/v1/catalog/resources/{rid}", headers=world.headers("admin")
        ).json()["status"]
        for rid in (first["id"], second["id"])
    }
    assert status == {first["id"]: "confirmed", second["id"]: "rejected"}
    # a reviewer sees the queue but cannot act
    world.client.cookies.clear()
    login(world.client, "reviewer")
    assert world.client.get("/console/queue").status_code == 200
    csrf = csrf_of(world.client, "/console/queue")
    refused = world.client.post(
        f"/console/queue/{second['id']}", data={"action": "confirm", "csrf": csrf}
    )
    assert refused.status_code == 403


def test_home_counts_by_department_and_class(world: World) -> None:
    river = world.create()
    world.publish(river["id"])
    world.create(name="草稿资源")
    html = world.client.get("/").text
    assert "南渡江水位" in html and "草稿资源" not in html
    assert f'href="/catalog?provider={world.water}"' in html
    assert 'href="/catalog?class=2"' in html and "主题信息资源" in html
    assert "最新发布" in html
