"""Sharing pages in zh-Hans, for the right people; refused (or hidden) for the others."""

from __future__ import annotations

import re

from tests.conftest import csrf_of, login
from tests.unit.sharing.conftest import World


def _request(world: World) -> dict[str, str]:
    resource = world.resource()
    request = world.ask(resource).json()
    return {"id": request["id"], "number": request["number"], "code": resource["code"]}


def test_catalogue_page_offers_subscribe_request_or_the_legal_basis(world: World) -> None:
    free = world.resource("unconditional", name="公共场所卫生许可")
    conditional = world.resource("conditional", name="流动人口居住登记")
    closed = world.resource("none", name="在逃人员信息", items=[])
    login(world.client, "officer_civil")
    page = world.client.get(f"/catalog/{free['code']}").text
    assert "订阅" in page and 'action="/sharing/subscriptions"' in page
    assert 'href="/sharing"' in page and "共享交换" in page  # the nav link
    page = world.client.get(f"/catalog/{conditional['code']}").text
    assert "申请共享" in page and f"/sharing/requests/new?resource={conditional['code']}" in page
    assert 'action="/sharing/subscriptions"' not in page
    page = world.client.get(f"/catalog/{closed['code']}").text
    assert "不予共享" in page and "《中华人民共和国居民身份证法》第十九条" in page
    assert "/sharing/requests/new" not in page
    # the provider's own page has no such offer; a member who is not an officer gets a hint
    login(world.client, "officer_police")
    assert "申请共享" not in world.client.get(f"/catalog/{conditional['code']}").text
    login(world.client, "staff_civil")
    page = world.client.get(f"/catalog/{conditional['code']}").text
    assert "/sharing/requests/new" not in page and "数据专员" in page


def test_subscribe_from_the_catalogue_page(world: World) -> None:
    free = world.resource("unconditional", name="公共场所卫生许可")
    login(world.client, "officer_civil")
    csrf = csrf_of(world.client, f"/catalog/{free['code']}")
    response = world.client.post(
        "/sharing/subscriptions",
        data={"resource": free["code"], "csrf": csrf},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    page = world.client.get(response.headers["location"])
    assert page.status_code == 200 and "已订阅" in page.text and "订阅（无条件共享）" in page.text
    assert 'id="grant-codes"' in page.text  # the grant's authorization codes, counted
    assert "签发或管理接口授权码" in page.text and "共 0 个接口授权码" in page.text
    assert re.search(r'href="/exchange/grants/[0-9a-f]{32}/codes"', page.text)
    # without the form token, nothing happens
    refused = world.client.post("/sharing/subscriptions", data={"resource": free["code"]})
    assert refused.status_code == 403


def test_request_form_and_sending(world: World) -> None:
    conditional = world.resource()
    login(world.client, "officer_civil")
    form = world.client.get(f"/sharing/requests/new?resource={conditional['code']}")
    assert form.status_code == 200
    html = form.text
    assert 'lang="zh-Hans"' in html and "申请共享" in html
    for field in ("name", "id_number", "district", "address"):
        assert f'id="item-{field}"' in html and f'for="item-{field}"' in html
    assert 'id="district-460106"' in html and 'for="req-purpose"' in html
    csrf = csrf_of(world.client, f"/sharing/requests/new?resource={conditional['code']}")
    data = {
        "resource": conditional["code"],
        "items": ["name", "district"],
        "districts": ["460106"],
        "period_start": "",
        "period_end": "",
        "purpose": "",
        "legal_basis": "《社会救助暂行办法》",
        "csrf": csrf,
    }
    missing = world.client.post("/sharing/requests/new", data=data)
    assert missing.status_code == 422 and "请说明数据用途" in missing.text
    assert 'value="name" checked' in missing.text  # what was typed is kept
    data["purpose"] = "低保核验"
    sent = world.client.post("/sharing/requests/new", data=data, follow_redirects=False)
    assert sent.status_code == 303
    detail = world.client.get(sent.headers["location"]).text
    assert "申请已提交" in detail and "剩余 10 个工作日" in detail and "龙华区" in detail
    assert "撤回申请" in detail and "不予同意的理由" not in detail
    outbox = world.client.get("/sharing?tab=outbox").text
    assert "我的申请" in outbox and "常住人口基本信息" in outbox and "待答复" in outbox


def test_provider_decides_on_the_page(world: World) -> None:
    ids = _request(world)
    login(world.client, "officer_police")
    inbox = world.client.get("/sharing").text
    assert ids["number"] in inbox and "剩余 10 个工作日" in inbox and "市民政局" in inbox
    page = world.client.get(f"/sharing/requests/{ids['number']}").text
    assert "同意" in page and "不予同意的理由（必填）" in page
    assert 'id="grant-item-id_number"' in page and 'id="grant-d-460105"' in page
    csrf = csrf_of(world.client, f"/sharing/requests/{ids['number']}")
    empty = world.client.post(
        f"/sharing/requests/{ids['id']}/refuse", data={"reason": "", "csrf": csrf}
    )
    assert empty.status_code == 422 and "不予同意时须说明理由" in empty.text
    part = world.client.post(
        f"/sharing/requests/{ids['id']}/approve",
        data={"items": ["name", "district"], "districts": ["460106"], "csrf": csrf},
    )
    assert part.status_code == 422 and "部分同意时须说明" in part.text
    done = world.client.post(
        f"/sharing/requests/{ids['id']}/approve",
        data={
            "items": ["name", "district"],
            "districts": ["460106"],
            "allow_export": "",
            "reason": "身份证号不予提供",
            "csrf": csrf,
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    page = world.client.get(done.headers["location"]).text
    assert "部分同意" in page and "身份证号不予提供" in page and "查看授权" in page
    grants = world.client.get("/sharing/grants?as=provider").text
    assert "本部门数据的授权" in grants and "市民政局" in grants and "调用次数" in grants
    assert "尚未使用" in grants
    assert 'name="next" value="list"' in grants and "撤销理由（必填）" in grants
    number = re.search(r'href="/sharing/grants/(SQ-[0-9-]+)"', grants)
    assert number is not None
    grant_page = world.client.get(f"/sharing/grants/{number.group(1)}").text
    assert "管理授权" in grant_page and "暂停理由（必填）" in grant_page and "龙华区" in grant_page
    csrf = csrf_of(world.client, f"/sharing/grants/{number.group(1)}")
    suspended = world.client.post(
        f"/sharing/grants/{number.group(1)}/suspend",
        data={"reason": "核查", "csrf": csrf, "next": "list"},
        follow_redirects=False,
    )
    assert suspended.status_code == 303 and suspended.headers["location"].startswith(
        "/sharing/grants?as=provider"
    )
    assert "已暂停" in world.client.get("/sharing/grants?as=provider").text
    twice = world.client.post(
        f"/sharing/grants/{number.group(1)}/suspend", data={"reason": "x", "csrf": csrf}
    )
    assert twice.status_code == 409 and "不能进行此项变更" in twice.text


def test_pages_are_refused_to_others(world: World) -> None:
    ids = _request(world)
    anonymous = world.client.get("/sharing", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    for user in ("citizen", "volunteer"):
        login(world.client, user)
        assert world.client.get("/sharing").status_code == 403
        assert 'href="/sharing"' not in world.client.get("/catalog").text
        assert world.client.get("/console/sharing").status_code == 403
    login(world.client, "officer_health")
    assert world.client.get(f"/sharing/requests/{ids['number']}").status_code == 404
    assert world.client.get("/sharing").status_code == 200
    assert world.client.get("/console/calendar").status_code == 403
    csrf = csrf_of(world.client, "/sharing")
    forged = world.client.post(
        f"/sharing/requests/{ids['id']}/refuse", data={"reason": "x", "csrf": csrf}
    )
    assert forged.status_code == 404
    login(world.client, "officer_civil")  # the requester sees it but has no decision form
    page = world.client.get(f"/sharing/requests/{ids['number']}").text
    assert "不予同意的理由" not in page
    csrf = csrf_of(world.client, "/sharing")
    decide = world.client.post(
        f"/sharing/requests/{ids['id']}/approve", data={"items": ["name"], "csrf": csrf}
    )
    assert decide.status_code == 403


def test_bureau_pages(world: World) -> None:
    _request(world)
    login(world.client, "reviewer")
    console = world.client.get("/console/sharing")
    assert (
        console.status_code == 200
        and "共享申请" in console.text
        and "共有 1 个申请待答复" in console.text
    )
    calendar = world.client.get("/console/calendar?year=2026")
    assert calendar.status_code == 200
    assert "春节调休上班" in calendar.text and "星期六" in calendar.text
    assert 'action="/console/calendar"' not in calendar.text  # reviewers read, admins edit
    login(world.client, "admin")
    page = world.client.get("/console/calendar?year=2027")
    assert "系统未内置 2027 年的节假日" in page.text and 'for="cal-day"' in page.text
    csrf = csrf_of(world.client, "/console/calendar?year=2027")
    saved = world.client.post(
        "/console/calendar",
        data={"day": "2027-02-06", "kind": "holiday", "name": "春节", "csrf": csrf},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    assert "2027-02-06" in world.client.get("/console/calendar?year=2027").text
    bad = world.client.post(
        "/console/calendar", data={"day": "2027-02-07", "kind": "holiday", "name": "", "csrf": csrf}
    )
    assert bad.status_code == 422 and "请填写名称" in bad.text
    cleared = world.client.post(
        "/console/calendar/2027-02-06/delete", data={"csrf": csrf}, follow_redirects=False
    )
    assert cleared.status_code == 303
    assert "2027-02-06" not in world.client.get("/console/calendar?year=2027").text


def test_english_pages(world: World) -> None:
    _request(world)
    login(world.client, "officer_police")
    page = world.client.get("/sharing?lang=en").text
    assert 'lang="en"' in page and "Requests to decide" in page and "10 working days left" in page
