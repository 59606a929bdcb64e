"""Demand pages: list, form (sign-in prompt, errors, similar titles, 429), detail, vote, comment,
answer from the workbench, stats."""

from __future__ import annotations

from tests.conftest import csrf_of, login
from tests.unit.demand.conftest import World, tomorrow

FORM = {
    "title": "海口湾水质监测数据",
    "description": "希望开放海口湾近岸海域各监测点的水质数据，便于游泳和赶海前查看。",
    "org_id": "",
    "website": "",
}


def test_list_detail_and_stats_render_for_anyone(world: World) -> None:
    demand = world.propose()
    listing = world.client.get("/demands")
    assert listing.status_code == 200 and demand["title"] in listing.text
    assert "公开征集中" in listing.text
    detail = world.client.get(f"/demands/{demand['id']}")
    assert detail.status_code == 200 and "登录后附议该需求" in detail.text
    stats = world.client.get("/demands/stats")
    assert stats.status_code == 200 and "市水务局" in stats.text and "<caption" in stats.text
    assert world.client.get("/demands/nope").status_code == 404


def test_anonymous_form_prompts_to_sign_in(world: World) -> None:
    page = world.client.get("/demands/new")
    assert (
        page.status_code == 200 and 'href="/register' in page.text and "<textarea" not in page.text
    )


def test_propose_through_the_form(world: World) -> None:
    login(world.client, "citizen")
    token = csrf_of(world.client, "/demands/new")
    assert world.client.post("/demands/new", data={**FORM, "csrf": "bad"}).status_code == 403
    short = world.client.post("/demands/new", data={**FORM, "title": "水质", "csrf": token})
    assert short.status_code == 422 and "标题至少需要 5 个字" in short.text
    assert "近岸海域" in short.text  # what was typed is kept
    done = world.client.post("/demands/new", data={**FORM, "csrf": token}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].startswith("/demands/")
    again = world.client.post("/demands/new", data={**FORM, "csrf": token})
    assert again.status_code == 200 and "已有相似的数据需求" in again.text
    confirmed = world.client.post(
        "/demands/new", data={**FORM, "csrf": token, "confirm_new": "1"}, follow_redirects=False
    )
    assert confirmed.status_code == 303
    assert world.client.get("/api/v1/demands").json()["total"] == 2


def test_form_rate_limit_page_is_429(world: World) -> None:
    world.app.state.settings.demand_per_hour = 1
    login(world.client, "citizen")
    token = csrf_of(world.client, "/demands/new")
    first = world.client.post("/demands/new", data={**FORM, "csrf": token}, follow_redirects=False)
    assert first.status_code == 303
    second = world.client.post(
        "/demands/new", data={**FORM, "title": "菜市场价格数据", "csrf": token}
    )
    assert second.status_code == 429 and "每小时最多 1 条" in second.text
    assert second.headers["Retry-After"]


def test_honeypot_is_refused(world: World) -> None:
    login(world.client, "citizen")
    token = csrf_of(world.client, "/demands/new")
    caught = world.client.post("/demands/new", data={**FORM, "csrf": token, "website": "x"})
    assert caught.status_code == 422
    assert world.client.get("/api/v1/demands").json()["total"] == 0


def test_vote_and_comment_on_the_page(world: World) -> None:
    demand = world.propose()
    login(world.client, "voter")
    token = csrf_of(world.client, f"/demands/{demand['id']}")
    world.client.post(f"/demands/{demand['id']}/vote", data={"csrf": token, "action": "vote"})
    page = world.client.get(f"/demands/{demand['id']}")
    assert "已附议 · 撤回" in page.text and 'aria-pressed="true"' in page.text
    world.client.post(f"/demands/{demand['id']}/comment", data={"csrf": token, "text": "同求"})
    assert "同求" in world.client.get(f"/demands/{demand['id']}").text
    world.client.post(f"/demands/{demand['id']}/vote", data={"csrf": token, "action": "unvote"})
    assert world.client.get(f"/api/v1/demands/{demand['id']}").json()["votes"] == 0


def test_workbench_answer_forms(world: World) -> None:
    demand = world.propose()
    login(world.client, "citizen")
    assert world.client.get("/workbench/demands").status_code == 403
    world.client.post("/logout", data={"csrf": csrf_of(world.client)})
    login(world.client, "officer_eco")
    assert demand["title"] not in world.client.get("/workbench/demands").text
    world.client.post("/logout", data={"csrf": csrf_of(world.client)})
    login(world.client, "officer_water")
    queue = world.client.get("/workbench/demands")
    assert queue.status_code == 200 and demand["title"] in queue.text
    token = csrf_of(world.client, "/workbench/demands")
    past = world.client.post(
        f"/demands/{demand['id']}/answer",
        data={"csrf": token, "kind": "accepted", "planned_on": "2000-01-01", "back": "workbench"},
    )
    assert past.status_code == 422 and "计划开放日期不能早于今天" in past.text
    ok = world.client.post(
        f"/demands/{demand['id']}/answer",
        data={"csrf": token, "kind": "accepted", "planned_on": tomorrow(), "back": "workbench"},
        follow_redirects=False,
    )
    assert ok.status_code == 303 and ok.headers["location"].startswith("/workbench/demands")
    detail = world.client.get(f"/demands/{demand['id']}")
    assert "已采纳" in detail.text and tomorrow() in detail.text


def test_stats_figures(world: World) -> None:
    a = world.propose(title="公交实时到站数据")
    b = world.propose(title="停车场实时泊位数据")
    world.propose(title="学校学区划分数据", org_id=world.eco)
    world.answer(a["id"], kind="accepted", planned_on=tomorrow())
    world.answer(b["id"], kind="refused", text="暂不具备开放条件")
    stats = world.client.get("/api/v1/demands/stats").json()
    assert stats["total"] == 3 and stats["open"] == 1
    assert stats["accepted"] == 1 and stats["refused"] == 1
    assert stats["answered_share"] == round(2 / 3, 4)
    assert stats["answered_within_limit"] == 2 and stats["median_response_days"] == 0.0
    water = next(d for d in stats["by_department"] if d["org_id"] == world.water)
    assert (water["total"], water["answered"], water["open"]) == (2, 2, 0)
    assert sum(m["submitted"] for m in stats["by_month"]) == 3
