"""Subscriptions and share requests through the API: the rules of 国发〔2016〕51号 and Art. 13."""

from __future__ import annotations

from typing import Any

from cityos.core.bus import Event
from tests.unit.sharing.conftest import World


def _events(world: World) -> list[Event]:
    seen: list[Event] = []
    world.app.state.bus.subscribe("sharing.*", seen.append)
    return seen


def test_subscribe_to_unconditional_grants_everything_at_once(world: World) -> None:
    events = _events(world)
    resource = world.resource("unconditional")
    response = world.client.post(
        "/api/v1/sharing/subscriptions",
        json={"resource": resource["code"], "purpose": "窗口核验"},
        headers=world.headers("officer_civil"),
    )
    assert response.status_code == 201, response.text
    grant = response.json()
    assert grant["kind"] == "subscribe" and grant["status"] == "active" and grant["usable"]
    assert grant["items"] == ["name", "id_number", "district", "address"]
    assert grant["consumer_org_id"] == world.civil and grant["provider_org_id"] == world.police
    assert grant["number"].startswith("SQ-")
    from datetime import date

    start, until = date.fromisoformat(grant["valid_from"]), date.fromisoformat(grant["valid_until"])
    assert (until - start).days in (364, 365)
    assert [e.topic for e in events] == ["sharing.grant.created"]
    again = world.client.post(
        "/api/v1/sharing/subscriptions",
        json={"resource": resource["code"]},
        headers=world.headers("officer_civil"),
    )
    assert again.status_code == 409 and again.json()["code"] == "already_subscribed"


def test_subscription_needs_an_officer_of_another_participant(world: World) -> None:
    resource = world.resource("unconditional")
    body = {"resource": resource["code"]}
    for user, status in (
        ("staff_civil", 403),  # a member, not a data officer
        ("officer_police", 403),  # the provider itself
        ("volunteer", 404),  # a social organisation does not even see the resource
        ("citizen", 404),
    ):
        response = world.client.post(
            "/api/v1/sharing/subscriptions", json=body, headers=world.headers(user)
        )
        assert response.status_code == status, (user, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    conditional = world.resource("conditional", name="流动人口居住登记")
    response = world.client.post(
        "/api/v1/sharing/subscriptions",
        json={"resource": conditional["code"]},
        headers=world.headers("officer_civil"),
    )
    assert response.status_code == 409 and response.json()["code"] == "request_required"


def test_not_shared_resource_is_refused_with_its_legal_basis(world: World) -> None:
    resource = world.resource("none", items=[])
    response = world.ask(resource, items=["name"], row_scope={})
    assert response.status_code == 409
    problem = response.json()
    assert problem["code"] == "not_shareable"
    assert "《中华人民共和国居民身份证法》第十九条" in problem["detail"]
    assert "不予共享" in problem["detail"]
    english = world.client.post(
        "/api/v1/sharing/subscriptions",
        json={"resource": resource["code"]},
        headers={**world.headers("officer_civil"), "Accept-Language": "en"},
    )
    assert english.status_code == 409 and english.json()["detail"].startswith("This resource")


def test_request_is_validated_against_the_catalogue(world: World) -> None:
    resource = world.resource()
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"items": ["name", "salary"]}, 422, "unknown_item"),
        ({"items": []}, 422, "validation_error"),
        ({"purpose": ""}, 422, "purpose_required"),
        ({"legal_basis": "  "}, 422, "legal_basis_required"),
        ({"row_scope": {"district": ["110101"]}}, 422, "invalid_district"),
        ({"row_scope": {"colour": ["red"]}}, 422, "unknown_scope_field"),
        ({"period_start": "2020-01-01"}, 422, "period_in_past"),
        ({"period_start": "2030-02-01", "period_end": "2030-01-01"}, 422, "bad_period"),
        ({"colour": "blue"}, 422, "validation_error"),
    ]
    for fields, status, code in cases:
        response = world.ask(resource, **fields)
        assert response.status_code == status, (fields, response.text)
        assert response.json()["code"] == code, fields
    unknown = world.ask({"code": "nope"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"


def test_request_approve_part_grants_narrowed_items_rows_and_period(world: World) -> None:
    events = _events(world)
    resource = world.resource()
    created = world.ask(resource)
    assert created.status_code == 201, created.text
    request = created.json()
    assert request["status"] == "pending" and request["number"].startswith("GX-")
    assert request["due_at"].endswith("+08:00") and request["due_at"][11:19] == "23:59:59"
    assert request["clock"]["remaining_working_days"] == 10 and not request["clock"]["overdue"]
    assert request["requester_name"] == "市民政局" and request["resource_code"] == resource["code"]
    duplicate = world.ask(resource)
    assert duplicate.status_code == 409 and duplicate.json()["code"] == "duplicate_request"
    assert request["number"] in duplicate.json()["detail"]

    url = f"/api/v1/sharing/requests/{request['id']}"
    narrower = {
        "items": ["name", "district"],
        "row_scope": {"district": ["460106"]},
        "valid_until": request["period_start"],
        "allow_export": False,
    }
    no_reason = world.client.post(
        f"{url}/approve", json=narrower, headers=world.headers("officer_police")
    )
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "reason_required"
    wider = world.client.post(
        f"{url}/approve",
        json={"row_scope": {"district": ["460107"]}, "reason": "x"},
        headers=world.headers("officer_police"),
    )
    assert wider.status_code == 422 and wider.json()["code"] == "scope_wider"
    extra = world.client.post(
        f"{url}/approve",
        json={"items": ["address"], "reason": "x"},
        headers=world.headers("officer_police"),
    )
    assert extra.status_code == 422 and extra.json()["code"] == "items_not_requested"

    approved = world.client.post(
        f"{url}/approve",
        json={**narrower, "reason": "身份证号不予提供；仅龙华区试点。"},
        headers=world.headers("officer_police"),
    )
    assert approved.status_code == 200, approved.text
    decided = approved.json()
    assert decided["status"] == "partially_approved" and decided["clock"] is None
    assert decided["decision_reason"].startswith("身份证号")
    grant = world.client.get(
        f"/api/v1/sharing/grants/{decided['grant_id']}", headers=world.headers("officer_civil")
    ).json()
    assert grant["kind"] == "request" and grant["request_id"] == request["id"]
    assert grant["items"] == ["name", "district"]
    assert grant["row_scope"] == {"district": ["460106"]}
    assert grant["valid_from"] == grant["valid_until"] == request["period_start"]
    assert grant["allow_export"] is False and grant["purpose"] == "最低生活保障资格核验"
    assert grant["usage"]["calls"] == 0
    again = world.client.post(f"{url}/approve", headers=world.headers("officer_police"))
    assert again.status_code == 409 and again.json()["code"] == "request_decided"
    topics = [e.topic for e in events]
    assert topics == ["sharing.request.created", "sharing.request.decided", "sharing.grant.created"]
    # a new request is possible once the first is decided
    assert world.ask(resource).status_code == 201


def test_approve_all_without_body(world: World) -> None:
    request = world.ask(world.resource()).json()
    response = world.client.post(
        f"/api/v1/sharing/requests/{request['id']}/approve", headers=world.headers("admin")
    )
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "approved"
    grants = world.client.get(
        "/api/v1/sharing/grants?as=consumer", headers=world.headers("staff_civil")
    ).json()
    assert grants["count"] == 1
    (grant,) = grants["results"]
    assert grant["items"] == request["items"] and grant["allow_export"] is True
    assert grant["row_scope"] == {"district": ["460105", "460106"]}


def test_refuse_requires_a_reason(world: World) -> None:
    request = world.ask(world.resource()).json()
    url = f"/api/v1/sharing/requests/{request['id']}/refuse"
    for body in (None, {}, {"reason": "   "}):
        response = world.client.post(url, json=body, headers=world.headers("officer_police"))
        assert response.status_code == 422 and response.json()["code"] == "reason_required"
        assert "理由" in response.json()["detail"]
    response = world.client.post(
        url, json={"reason": "申请依据不足"}, headers=world.headers("officer_police")
    )
    assert response.status_code == 200
    refused = response.json()
    assert refused["status"] == "refused" and refused["decision_reason"] == "申请依据不足"
    assert refused["grant_id"] is None


def test_other_departments_neither_see_nor_decide(world: World) -> None:
    request = world.ask(world.resource()).json()
    url = f"/api/v1/sharing/requests/{request['id']}"
    for user in ("officer_health", "volunteer", "citizen"):
        assert world.client.get(url, headers=world.headers(user)).status_code == 404
        response = world.client.post(f"{url}/approve", headers=world.headers(user))
        assert response.status_code == 404, user
        listed = world.client.get("/api/v1/sharing/requests", headers=world.headers(user)).json()
        assert listed["count"] == 0
    # the requester and the bureau's reviewer see it, but do not decide
    for user in ("officer_civil", "reviewer", "staff_police"):
        assert world.client.get(url, headers=world.headers(user)).status_code == 200
        response = world.client.post(f"{url}/approve", headers=world.headers(user))
        assert response.status_code == 403, user
    assert world.client.get(url).status_code == 401
    inbox = world.client.get(
        "/api/v1/sharing/requests?box=inbox", headers=world.headers("officer_police")
    ).json()
    outbox = world.client.get(
        "/api/v1/sharing/requests?box=outbox", headers=world.headers("officer_police")
    ).json()
    assert inbox["count"] == 1 and outbox["count"] == 0
    everything = world.client.get(
        "/api/v1/sharing/requests?box=all", headers=world.headers("reviewer")
    ).json()
    assert everything["count"] == 1
    bad = world.client.get("/api/v1/sharing/requests?box=spam", headers=world.headers("reviewer"))
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_box"


def test_withdraw_by_the_requester_only(world: World) -> None:
    request = world.ask(world.resource()).json()
    url = f"/api/v1/sharing/requests/{request['id']}/withdraw"
    assert world.client.post(url, headers=world.headers("officer_police")).status_code == 403
    assert world.client.post(url, headers=world.headers("officer_health")).status_code == 404
    response = world.client.post(url, headers=world.headers("officer_civil"))
    assert response.status_code == 200 and response.json()["status"] == "withdrawn"
    again = world.client.post(url, headers=world.headers("officer_civil"))
    assert again.status_code == 409 and again.json()["code"] == "request_decided"
    decide = world.client.post(
        f"/api/v1/sharing/requests/{request['id']}/refuse",
        json={"reason": "x"},
        headers=world.headers("officer_police"),
    )
    assert decide.status_code == 409


def test_writes_are_audited(world: World) -> None:
    request = world.ask(world.resource()).json()
    world.client.post(
        f"/api/v1/sharing/requests/{request['id']}/refuse",
        json={"reason": "不符合共享条件"},
        headers=world.headers("officer_police"),
    )
    trail = world.client.get(
        f"/api/v1/audit/records?target_id={request['id']}", headers=world.headers("admin")
    )
    assert trail.status_code == 200, trail.text
    actions = [r["action"] for r in trail.json()["items"]]
    assert actions == ["sharing.request.refuse", "sharing.request.create"]
