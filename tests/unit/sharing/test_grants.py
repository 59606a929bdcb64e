"""Grants: revoke / suspend / resume / renew as a state machine, who may do it, usage."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from cityos.audit.services import record
from tests.unit.sharing.conftest import World


def _grant(world: World) -> dict[str, Any]:
    request = world.ask(world.resource()).json()
    decided = world.client.post(
        f"/api/v1/sharing/requests/{request['id']}/approve", headers=world.headers("officer_police")
    ).json()
    return dict(
        world.client.get(
            f"/api/v1/sharing/grants/{decided['grant_id']}", headers=world.headers("officer_police")
        ).json()
    )


def _post(world: World, grant: dict[str, Any], action: str, user: str, **body: Any) -> Any:
    return world.client.post(
        f"/api/v1/sharing/grants/{grant['id']}/{action}", json=body, headers=world.headers(user)
    )


def test_state_machine(world: World) -> None:
    grant = _grant(world)
    assert _post(world, grant, "resume", "officer_police").status_code == 409
    no_reason = _post(world, grant, "suspend", "officer_police")
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "reason_required"
    suspended = _post(world, grant, "suspend", "officer_police", reason="核查使用情况")
    assert suspended.status_code == 200
    assert suspended.json()["status"] == "suspended" and not suspended.json()["usable"]
    again = _post(world, grant, "suspend", "officer_police", reason="x")
    assert again.status_code == 409 and again.json()["code"] == "grant_state"
    assert "已暂停" in again.json()["detail"]
    resumed = _post(world, grant, "resume", "officer_police")
    assert resumed.json()["status"] == "active" and resumed.json()["usable"]
    revoked = _post(world, grant, "revoke", "admin", reason="超范围使用")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert revoked.json()["status_reason"] == "超范围使用"
    for action, body in (("resume", {}), ("suspend", {"reason": "x"}), ("revoke", {"reason": "x"})):
        response = _post(world, grant, action, "officer_police", **body)
        assert response.status_code == 409, action
    renew = _post(world, grant, "renew", "officer_police", valid_until="2099-01-01")
    assert renew.status_code == 409 and renew.json()["code"] == "grant_state"


def test_renew_extends_only(world: World) -> None:
    grant = _grant(world)
    until = date.fromisoformat(grant["valid_until"])
    earlier = _post(world, grant, "renew", "officer_police", valid_until=str(until))
    assert earlier.status_code == 422 and earlier.json()["code"] == "not_later"
    later = until + timedelta(days=90)
    renewed = _post(world, grant, "renew", "officer_police", valid_until=str(later), reason="续签")
    assert renewed.status_code == 200, renewed.text
    body = renewed.json()
    assert body["valid_until"] == str(later) and body["renewed_at"] and body["version"] == 2
    too_long = _post(world, grant, "renew", "officer_police", valid_until="2099-12-31")
    assert too_long.status_code == 422 and too_long.json()["code"] == "period_too_long"
    missing = _post(world, grant, "renew", "officer_police")
    assert missing.status_code == 422 and missing.json()["code"] == "validation_error"


def test_only_the_provider_or_the_bureau_manages(world: World) -> None:
    grant = _grant(world)
    # the consumer and the reviewer see it but cannot change it
    for user in ("officer_civil", "staff_civil", "reviewer", "staff_police"):
        assert (
            world.client.get(
                f"/api/v1/sharing/grants/{grant['id']}", headers=world.headers(user)
            ).status_code
            == 200
        )
        response = _post(world, grant, "revoke", user, reason="x")
        assert response.status_code == 403, user
    # other departments do not even see it
    for user in ("officer_health", "volunteer", "citizen"):
        assert (
            world.client.get(
                f"/api/v1/sharing/grants/{grant['id']}", headers=world.headers(user)
            ).status_code
            == 404
        )
        assert _post(world, grant, "suspend", user, reason="x").status_code == 404
    listing = world.client.get("/api/v1/sharing/grants", headers=world.headers("officer_health"))
    assert listing.json()["count"] == 0
    consumer = world.client.get(
        "/api/v1/sharing/grants?as=consumer", headers=world.headers("officer_civil")
    ).json()
    provider = world.client.get(
        "/api/v1/sharing/grants?as=provider", headers=world.headers("officer_civil")
    ).json()
    assert consumer["count"] == 1 and provider["count"] == 0


def test_provider_sees_usage_from_the_exchange_audit(world: World) -> None:
    grant = _grant(world)
    other = _grant_for_health(world)
    with world.app.state.db.session() as session:
        for rows, result, action in (
            (20, "ok", "exchange.records"),
            (5, "ok", "exchange.records"),
            (100, "ok", "exchange.export"),
            (0, "rate_limited", "exchange.records"),
        ):
            record(
                session,
                None,
                action,
                "grant",
                grant["id"],
                code="k1",
                consumer_org_id=world.civil,
                provider_org_id=world.police,
                resource_id=grant["resource_id"],
                items=["name"],
                rows=rows,
                row_ids=list(range(rows)),
                purpose="低保核验",
                result=result,
                ip="10.0.0.1",
            )
        record(session, None, "exchange.records", "grant", other["id"], rows=7, result="ok")
        record(session, None, "sharing.grant.suspend", "grant", grant["id"], reason="x")
    listing = world.client.get(
        "/api/v1/sharing/grants?as=provider", headers=world.headers("officer_police")
    ).json()
    usage = {g["id"]: g["usage"] for g in listing["results"]}
    mine = usage[grant["id"]]
    assert mine["calls"] == 4 and mine["failed_calls"] == 1
    assert mine["rows"] == 125 and mine["rows_complete"] and mine["exports"] == 1
    assert mine["purposes"] == ["低保核验"] and mine["last_used_at"].endswith("+08:00")
    assert usage[other["id"]]["rows"] == 7 and usage[other["id"]]["calls"] == 1
    from cityos.sharing.usage import usage_for

    with world.app.state.db.session() as session:
        partial = usage_for(session, [grant["id"]], recent=2)[grant["id"]]
    assert partial.calls == 4 and not partial.rows_complete


def _grant_for_health(world: World) -> dict[str, Any]:
    resource = world.resource("unconditional", name="公共场所卫生许可")
    response = world.client.post(
        "/api/v1/sharing/subscriptions",
        json={"resource": resource["code"]},
        headers=world.headers("officer_health"),
    )
    assert response.status_code == 201, response.text
    return dict(response.json())
