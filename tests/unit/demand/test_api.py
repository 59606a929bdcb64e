"""Demand API: proposing, validation, votes, answers (every transition), fulfilment, access."""

from __future__ import annotations

from tests.unit.demand.conftest import World, tomorrow, yesterday


def test_propose_list_and_read_publicly(world: World) -> None:
    demand = world.propose()
    assert demand["status"] == "open" and demand["department"] == "市水务局"
    listing = world.client.get("/api/v1/demands").json()
    assert listing["total"] == 1 and listing["items"][0]["id"] == demand["id"]
    detail = world.client.get(f"/api/v1/demands/{demand['id']}").json()
    assert detail["title"] == "南渡江实时水位开放" and detail["voted"] is False
    assert "contact" not in detail  # the requester's contact is not public


def test_anonymous_cannot_propose_vote_or_comment(world: World) -> None:
    demand = world.propose()
    body = {
        "title": "公共厕所位置数据",
        "description": "希望开放全市公共厕所的位置和开放时间数据。",
    }
    assert world.client.post("/api/v1/demands", json=body).status_code == 401
    assert world.client.post(f"/api/v1/demands/{demand['id']}/vote").status_code == 401
    comment = world.client.post(f"/api/v1/demands/{demand['id']}/comments", json={"text": "需要"})
    assert comment.status_code == 401


def test_validation_messages_are_chinese(world: World) -> None:
    headers = world.headers("citizen")
    short = world.client.post(
        "/api/v1/demands", json={"title": "数据", "description": "x" * 30}, headers=headers
    )
    assert short.status_code == 422 and short.json()["code"] == "title_too_short"
    assert "标题至少需要 5 个字" in short.json()["detail"]
    brief = world.client.post(
        "/api/v1/demands", json={"title": "公共厕所位置", "description": "要厕所"}, headers=headers
    )
    assert brief.status_code == 422 and brief.json()["code"] == "description_too_short"
    honeypot = world.client.post(
        "/api/v1/demands",
        json={"title": "公共厕所位置", "description": "x" * 30, "website": "http://spam"},
        headers=headers,
    )
    assert honeypot.status_code == 422 and honeypot.json()["code"] == "spam_suspected"
    unknown = world.client.post(
        "/api/v1/demands",
        json={"title": "公共厕所位置", "description": "x" * 30, "org_id": "nope"},
        headers=headers,
    )
    assert unknown.status_code == 422 and unknown.json()["code"] == "unknown_department"


def test_rate_limit_per_ip_gives_429(world: World) -> None:
    world.app.state.settings.demand_per_hour = 2
    world.propose(title="公交实时到站数据")
    world.propose(title="停车场实时泊位数据")
    body = {"title": "学校学区划分数据", "description": "希望开放各学校的学区划分范围数据。"}
    third = world.client.post("/api/v1/demands", json=body, headers=world.headers("voter"))
    assert third.status_code == 429 and third.json()["code"] == "rate_limited"
    assert int(third.headers["Retry-After"]) > 0
    assert world.client.get("/api/v1/demands").json()["total"] == 2


def test_vote_once_per_user_and_unvote(world: World) -> None:
    demand = world.propose()
    first = world.vote(demand["id"], "voter")
    assert first.status_code == 200 and first.json() == {"votes": 1, "voted": True}
    again = world.vote(demand["id"], "voter")
    assert again.status_code == 409 and again.json()["code"] == "already_voted"
    assert world.vote(demand["id"], "developer").json()["votes"] == 2
    detail = world.client.get(f"/api/v1/demands/{demand['id']}", headers=world.headers("voter"))
    assert detail.json()["voted"] is True
    unvote = world.client.post(
        f"/api/v1/demands/{demand['id']}/unvote", headers=world.headers("voter")
    )
    assert unvote.json() == {"votes": 1, "voted": False}
    twice = world.client.post(
        f"/api/v1/demands/{demand['id']}/unvote", headers=world.headers("voter")
    )
    assert twice.status_code == 409 and twice.json()["code"] == "not_voted"


def test_list_filters_sort_and_bad_filters(world: World) -> None:
    low = world.propose(title="公共厕所位置数据")
    high = world.propose(title="充电桩分布数据", org_id=world.eco)
    world.vote(high["id"], "voter")
    by_votes = world.client.get("/api/v1/demands?sort=votes").json()["items"]
    assert [d["id"] for d in by_votes] == [high["id"], low["id"]]
    by_dept = world.client.get(f"/api/v1/demands?department={world.eco}").json()
    assert [d["id"] for d in by_dept["items"]] == [high["id"]]
    by_text = world.client.get("/api/v1/demands?q=厕所").json()
    assert [d["id"] for d in by_text["items"]] == [low["id"]]
    bad = world.client.get("/api/v1/demands?status=done")
    assert bad.status_code == 400 and "done" in bad.json()["detail"]
    assert world.client.get("/api/v1/demands?sort=random").status_code == 400


def test_comments_official_when_by_the_department(world: World) -> None:
    demand = world.propose()
    world.client.post(
        f"/api/v1/demands/{demand['id']}/comments",
        json={"text": "我也需要这个数据"},
        headers=world.headers("voter"),
    )
    official = world.client.post(
        f"/api/v1/demands/{demand['id']}/comments",
        json={"text": "我们正在整理水位数据"},
        headers=world.headers("officer_water"),
    )
    assert official.status_code == 201 and official.json()["official"] is True
    detail = world.client.get(f"/api/v1/demands/{demand['id']}").json()
    assert detail["comments"] == 2
    assert [c["official"] for c in detail["comment_list"]] == [False, True]
    notes = world.notifications("citizen")["items"]
    assert [n["kind"] for n in notes] == ["demand.replied"]


def test_accept_needs_a_planned_date_today_or_later(world: World) -> None:
    demand = world.propose()
    missing = world.answer(demand["id"], kind="accepted")
    assert missing.status_code == 422 and missing.json()["code"] == "planned_date_required"
    past = world.answer(demand["id"], kind="accepted", planned_on=yesterday())
    assert past.status_code == 422 and past.json()["code"] == "planned_date_past"
    assert "不能早于今天" in past.json()["detail"]
    ok = world.answer(demand["id"], kind="accepted", planned_on=tomorrow(), text="年内开放")
    assert ok.status_code == 200, ok.text
    assert ok.json()["status"] == "accepted" and ok.json()["planned_on"] == tomorrow()
    assert ok.json()["response_days"] == 0


def test_answer_twice_is_a_conflict(world: World) -> None:
    demand = world.propose()
    assert world.answer(demand["id"], kind="refused", text="涉及安全，暂不开放").status_code == 200
    again = world.answer(demand["id"], kind="accepted", planned_on=tomorrow())
    assert again.status_code == 409 and again.json()["code"] == "already_answered"
    assign = world.client.post(
        f"/api/v1/demands/{demand['id']}/assign",
        json={"org_id": world.eco},
        headers=world.headers("admin"),
    )
    assert assign.status_code == 409


def test_refused_needs_a_reason(world: World) -> None:
    demand = world.propose()
    bare = world.answer(demand["id"], kind="refused", text="")
    assert bare.status_code == 422 and bare.json()["code"] == "reason_required"
    refused = world.answer(demand["id"], kind="refused", text="该数据涉及个人信息，不予开放。")
    assert refused.json()["status"] == "refused"
    assert refused.json()["answer"] == "该数据涉及个人信息，不予开放。"


def test_available_needs_an_open_dataset(world: World) -> None:
    demand = world.propose()
    missing = world.answer(demand["id"], kind="available")
    assert missing.status_code == 422 and missing.json()["code"] == "dataset_required"
    closed = world.resource(open_type="none")
    not_open = world.answer(demand["id"], kind="available", resource=closed["code"])
    assert not_open.status_code == 422 and not_open.json()["code"] == "not_open_dataset"
    draft = world.resource(publish=False)
    unpublished = world.answer(demand["id"], kind="available", resource=draft["code"])
    assert unpublished.status_code == 422
    dataset = world.resource()
    ok = world.answer(demand["id"], kind="available", resource=dataset["code"])
    assert ok.status_code == 200 and ok.json()["resource_code"] == dataset["code"]
    assert ok.json()["status"] == "available"


def test_officer_of_another_department_cannot_answer(world: World) -> None:
    demand = world.propose()
    other = world.answer(demand["id"], "officer_eco", kind="refused", text="不是我们的数据")
    assert other.status_code == 403
    citizen = world.answer(demand["id"], "citizen", kind="refused", text="不是我们的数据")
    assert citizen.status_code == 403
    by_admin = world.answer(demand["id"], "admin", kind="refused", text="不属于开放范围")
    assert by_admin.status_code == 200


def test_bureau_assigns_unassigned_demands(world: World) -> None:
    demand = world.propose(org_id=None)
    assert demand["org_id"] is None
    early = world.answer(demand["id"], kind="refused", text="还未指派给我们")
    assert early.status_code == 403
    by_officer = world.client.post(
        f"/api/v1/demands/{demand['id']}/assign",
        json={"org_id": world.water},
        headers=world.headers("officer_water"),
    )
    assert by_officer.status_code == 403
    assigned = world.client.post(
        f"/api/v1/demands/{demand['id']}/assign",
        json={"org_id": world.water},
        headers=world.headers("admin"),
    )
    assert assigned.status_code == 200 and assigned.json()["department"] == "市水务局"
    assert world.answer(demand["id"], kind="accepted", planned_on=tomorrow()).status_code == 200


def test_answer_notifies_requester_and_voters(world: World) -> None:
    demand = world.propose()
    world.vote(demand["id"], "voter")
    world.answer(demand["id"], kind="accepted", planned_on=tomorrow())
    for username in ("citizen", "voter"):
        notes = world.notifications(username)
        assert notes["unread"] == 1
        assert notes["items"][0]["kind"] == "demand.accepted"
        assert "已采纳需求“南渡江实时水位开放”" in notes["items"][0]["text"]
        assert notes["items"][0]["link"] == f"/demands/{demand['id']}"
    assert world.notifications("developer")["unread"] == 0
    assert world.notifications("officer_water")["unread"] == 0


def test_publishing_the_linked_dataset_fulfils_and_notifies(world: World) -> None:
    demand = world.propose()
    world.vote(demand["id"], "voter")
    dataset = world.resource(publish=False)
    accepted = world.answer(
        demand["id"], kind="accepted", planned_on=tomorrow(), resource=dataset["code"]
    )
    assert accepted.json()["status"] == "accepted"
    world.publish(dataset["id"])
    after = world.client.get(f"/api/v1/demands/{demand['id']}").json()
    assert after["status"] == "fulfilled" and after["fulfilled_at"]
    for username in ("citizen", "voter"):
        kinds = [n["kind"] for n in world.notifications(username)["items"]]
        assert kinds == ["demand.fulfilled", "demand.accepted"]
    english = world.client.get(
        "/api/v1/notifications", headers={**world.headers("voter"), "Accept-Language": "en"}
    ).json()
    assert english["items"][0]["text"].startswith("The data you asked for is open")


def test_publishing_a_dataset_that_is_not_open_fulfils_nothing(world: World) -> None:
    demand = world.propose()
    dataset = world.resource(open_type="none", publish=False)
    world.answer(demand["id"], kind="accepted", planned_on=tomorrow(), resource=dataset["code"])
    world.publish(dataset["id"])
    assert world.client.get(f"/api/v1/demands/{demand['id']}").json()["status"] == "accepted"


def test_link_dataset_later_and_only_when_accepted(world: World) -> None:
    demand = world.propose()
    dataset = world.resource()
    too_early = world.client.post(
        f"/api/v1/demands/{demand['id']}/link",
        json={"resource": dataset["code"]},
        headers=world.headers("officer_water"),
    )
    assert too_early.status_code == 409
    world.answer(demand["id"], kind="accepted", planned_on=tomorrow())
    linked = world.client.post(
        f"/api/v1/demands/{demand['id']}/link",
        json={"resource": dataset["code"]},
        headers=world.headers("officer_water"),
    )
    assert linked.status_code == 200 and linked.json()["status"] == "fulfilled"


def test_writes_are_audited_without_personal_data(world: World) -> None:
    demand = world.propose(contact="13800000000")
    world.vote(demand["id"], "voter")
    world.answer(demand["id"], kind="refused", text="不予开放的理由")
    records = world.client.get(
        "/api/v1/audit/records?target_type=demand", headers=world.headers("admin")
    )
    assert records.status_code == 200, records.text
    body = records.text
    actions = {r["action"] for r in records.json()["items"]}
    assert {"demand.create", "demand.vote", "demand.answer"} <= actions
    assert "13800000000" not in body


def test_similar_titles_hint(world: World) -> None:
    world.propose(title="公交实时到站数据")
    found = world.client.get("/api/v1/demands/similar", params={"title": "公交车实时到站"}).json()
    assert [d["title"] for d in found] == ["公交实时到站数据"]
    none = world.client.get("/api/v1/demands/similar", params={"title": "海口湾水质"}).json()
    assert none == []
