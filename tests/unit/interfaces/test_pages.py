"""The registry, a service's page, the registration form and the bureau's queue."""

from __future__ import annotations

from tests.conftest import csrf_of, login
from tests.unit.interfaces.conftest import World


def test_registry_and_service_page_for_a_consumer(world: World) -> None:
    confirmed = world.confirmed(world.verify_body())
    pending = world.register("officer_market", **world.lookup_body()).json()
    login(world.client, "staff_civil")
    page = world.client.get("/services")
    assert page.status_code == 200
    assert '<a href="/services"' in page.text and "接口服务" in page.text  # nav link
    assert confirmed["code"] in page.text and "居民身份核验" in page.text
    assert "查询服务" in page.text and "核验" in page.text
    assert pending["code"] not in page.text
    assert f"/api/v1/interfaces/{confirmed['code']}/openapi.json" in page.text
    assert confirmed["code"] in world.client.get("/services?q=公安").text  # provider's name
    assert confirmed["code"] not in world.client.get("/services?q=市场监督").text

    detail = world.client.get(f"/services/{confirmed['code']}")
    assert detail.status_code == 200
    assert "curl -X POST" in detail.text and "httpx.post(" in detail.text
    assert f"/api/v1/interfaces/{confirmed['code']}/call" in detail.text
    assert (
        f"/sharing/requests/new?resource=9/000001&amp;service={confirmed['code']}"
        in detail.text.replace("%2F", "/")
    )
    assert world.client.get(f"/services/{pending['code']}").status_code == 404


def test_providers_see_no_apply_link_and_citizens_no_services(world: World) -> None:
    confirmed = world.confirmed(world.verify_body())
    login(world.client, "officer_police")
    detail = world.client.get(f"/services/{confirmed['code']}")
    assert "/sharing/requests/new" not in detail.text and "暂停服务" in detail.text
    world.client.cookies.clear()
    login(world.client, "citizen")
    page = world.client.get("/services")
    assert page.status_code == 200 and confirmed["code"] not in page.text
    assert '<a href="/services"' not in page.text


def test_register_through_the_form(world: World) -> None:
    login(world.client, "officer_police")
    blank = world.client.get("/services/new")
    assert blank.status_code == 200 and "海口市人口基础信息" in blank.text
    form = world.client.get(f"/services/new?resource={world.residents}")
    assert 'name="input" value="id_number"' in form.text
    assert 'value="id_number:id_card" selected' in form.text  # hinted from the item name
    csrf = csrf_of(world.client, "/services/new")
    data = {
        "csrf": csrf,
        "resource": world.residents,
        "name": "居民身份核验",
        "kind": "query",
        "operation": "verify",
        "input": ["id_number", "name"],
        "detector": ["id_number:id_card", "name:"],
    }
    response = world.client.post("/services/new", data=data, follow_redirects=False)
    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith("/services/FW-000001")
    service = world.client.get(
        "/api/v1/interfaces/FW-000001", headers=world.headers("officer_police")
    ).json()
    assert service["status"] == "submitted"
    assert [i["detector"] for i in service["inputs"]] == ["id_card", None]

    bad = dict(data, operation="lookup")  # a lookup without outputs
    again = world.client.post("/services/new", data=bad)
    assert again.status_code == 422 and "请至少声明一个输出字段" in again.text
    assert 'value="居民身份核验"' in again.text  # the input is kept
    missing_csrf = world.client.post("/services/new", data=dict(data, csrf="x"))
    assert missing_csrf.status_code == 403


def test_bureau_queue_confirms_and_rejects(world: World) -> None:
    first = world.register(**world.verify_body()).json()
    second = world.register("officer_market", **world.lookup_body()).json()
    login(world.client, "officer_police")
    assert world.client.get("/console/services").status_code == 403
    world.client.cookies.clear()
    login(world.client, "admin")
    queue = world.client.get("/console/services")
    assert queue.status_code == 200
    assert first["code"] in queue.text and second["code"] in queue.text
    csrf = csrf_of(world.client, "/console/services")
    confirmed = world.client.post(
        f"/console/services/{first['code']}",
        data={"csrf": csrf, "action": "confirm", "comment": ""},
        follow_redirects=False,
    )
    assert confirmed.status_code == 303
    no_reason = world.client.post(
        f"/console/services/{second['code']}", data={"csrf": csrf, "action": "reject"}
    )
    assert no_reason.status_code == 422
    rejected = world.client.post(
        f"/console/services/{second['code']}",
        data={"csrf": csrf, "action": "reject", "comment": "输出字段过多"},
        follow_redirects=False,
    )
    assert rejected.status_code == 303
    statuses = {
        s["code"]: s["status"]
        for s in world.client.get("/api/v1/interfaces", headers=world.headers("admin")).json()[
            "services"
        ]
    }
    assert statuses == {first["code"]: "confirmed", second["code"]: "rejected"}
    assert first["code"] not in world.client.get("/console/services").text


def test_suspend_from_the_service_page(world: World) -> None:
    code = world.confirmed(world.verify_body())["code"]
    login(world.client, "officer_police")
    csrf = csrf_of(world.client, f"/services/{code}")
    response = world.client.post(
        f"/services/{code}/transition",
        data={"csrf": csrf, "action": "suspend", "comment": "升级维护"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    page = world.client.get(response.headers["location"])
    assert "该服务已暂停" in page.text and "已暂停" in page.text
