"""Managing codes over the JSON API: issue (shown once), list, rotate, suspend, resume, revoke."""

from __future__ import annotations

from datetime import timedelta

from cityos.core.db import utcnow
from tests.unit.exchange.conftest import World


def _issue(world: World, grant_id: str, username: str = "officer_civil") -> dict:
    expires = (utcnow() + timedelta(days=10)).isoformat()
    response = world.client.post(
        f"/api/v1/exchange/grants/{grant_id}/codes",
        headers=world.headers(username),
        json={"expires_at": expires, "label": "低保系统"},
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_issue_list_rotate_revoke(world: World) -> None:
    grant_id = world.grant(world.people())
    issued = _issue(world, grant_id)
    assert issued["code"].startswith("cos_") and issued["status"] == "active"
    listed = world.client.get(
        f"/api/v1/exchange/grants/{grant_id}/codes", headers=world.headers("officer_police")
    )
    assert listed.status_code == 200
    assert [c["key_id"] for c in listed.json()] == [issued["key_id"]]
    assert issued["code"] not in listed.text and "secret" not in listed.text
    assert world.call(issued["code"], limit=1).status_code == 200

    rotated = world.client.post(
        f"/api/v1/exchange/codes/{issued['key_id']}/rotate",
        headers=world.headers("officer_civil"),
        json={"overlap_hours": 0},
    )
    assert rotated.status_code == 201, rotated.text
    new = rotated.json()["code"]
    assert world.call(new, limit=1).status_code == 200
    assert world.call(issued["code"], limit=1).json()["code"] == "code_expired"

    no_reason = world.client.post(
        f"/api/v1/exchange/codes/{rotated.json()['key_id']}/revoke",
        headers=world.headers("officer_police"),
        json={},
    )
    assert no_reason.status_code == 422
    revoked = world.client.post(
        f"/api/v1/exchange/codes/{rotated.json()['key_id']}/revoke",
        headers=world.headers("officer_police"),
        json={"reason": "系统下线"},
    )
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert world.call(new, limit=1).json()["code"] == "code_revoked"
    again = world.client.post(
        f"/api/v1/exchange/codes/{rotated.json()['key_id']}/resume",
        headers=world.headers("officer_police"),
    )
    assert again.status_code == 409 and again.json()["code"]


def test_who_may_manage_codes(world: World) -> None:
    grant_id = world.grant(world.people())
    # another department does not see the grant at all
    other = world.client.get(
        f"/api/v1/exchange/grants/{grant_id}/codes", headers=world.headers("officer_health")
    )
    assert other.status_code == 404
    # the provider sees codes but only the consumer's officers issue them
    expires = (utcnow() + timedelta(days=10)).isoformat()
    by_provider = world.client.post(
        f"/api/v1/exchange/grants/{grant_id}/codes",
        headers=world.headers("officer_police"),
        json={"expires_at": expires},
    )
    assert by_provider.status_code == 403
    naive = world.client.post(
        f"/api/v1/exchange/grants/{grant_id}/codes",
        headers=world.headers("officer_civil"),
        json={"expires_at": "2030-01-01T00:00:00"},
    )
    assert naive.status_code == 422 and naive.json()["code"] == "naive_datetime"
    issued = _issue(world, grant_id)
    suspended = world.client.post(
        f"/api/v1/exchange/codes/{issued['key_id']}/suspend",
        headers=world.headers("officer_health"),
        json={"reason": "x"},
    )
    assert suspended.status_code == 404
