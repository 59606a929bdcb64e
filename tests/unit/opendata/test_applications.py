"""有条件开放 applications: who may apply for what, the agreement, the period, the provider's
decision (and nobody else's), the scoped key and its revocation."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from cityos.audit.models import AuditRecord
from cityos.opendata import applications
from tests.unit.opendata.test_applications_world import World, h5_world  # noqa: F401


def body(resource: str, **changes: Any) -> dict[str, Any]:
    start = applications.today()
    data: dict[str, Any] = {
        "resource": resource,
        "organisation": "海口市城市安全研究所",
        "contact": "王工 13800000000",
        "purpose": "分析各区治安案件的季度变化趋势，为社区警务资源配置研究提供依据。",
        "scenario": "研究报告",
        "valid_from": start.isoformat(),
        "valid_until": (start + timedelta(days=180)).isoformat(),
        "agree": True,
        "agreement_version": applications.AGREEMENT_VERSION,
    }
    data.update(changes)
    return data


def apply(world: World, rid: str, username: str = "developer", **changes: Any) -> Any:
    return world.client.post(
        "/api/v1/open/applications", json=body(rid, **changes), headers=world.headers(username)
    )


def test_only_published_conditional_datasets_take_applications(world: World) -> None:
    free = world.dataset("unconditional")
    response = apply(world, free)
    assert response.status_code == 409
    assert response.json()["code"] == "not_conditional_open"
    assert "无条件开放" in response.json()["detail"] or "unconditional" in response.json()["detail"]
    closed = world.dataset("none")
    # not open: the public does not even see it; a government department sees it and gets 409
    assert apply(world, closed).status_code == 404
    refused = apply(world, closed, "officer_eco")
    assert refused.status_code == 409 and refused.json()["code"] == "not_conditional_open"
    draft = world.dataset("conditional", status="draft")
    assert apply(world, draft).status_code == 404
    assert apply(world, draft, "officer_police").status_code == 409
    assert apply(world, "9-999999").status_code == 404


def test_the_agreement_must_be_accepted(world: World) -> None:
    rid = world.dataset()
    response = apply(world, rid, agree=False)
    assert response.status_code == 422 and response.json()["code"] == "agreement_required"
    old = apply(world, rid, agreement_version="2000-1")
    assert old.status_code == 422 and old.json()["code"] == "agreement_outdated"
    short = apply(world, rid, purpose="研究")
    assert short.status_code == 422 and short.json()["code"] == "purpose_too_short"


def test_the_period_is_checked(world: World) -> None:
    rid = world.dataset()
    start = applications.today()
    cases = {
        "period_start_past": (start - timedelta(days=1), start + timedelta(days=10)),
        "period_reversed": (start + timedelta(days=5), start + timedelta(days=1)),
        "period_too_long": (start, applications.one_year_from(start) + timedelta(days=1)),
        "period_start_far": (start + timedelta(days=120), start + timedelta(days=130)),
    }
    for code, (first, last) in cases.items():
        response = apply(world, rid, valid_from=first.isoformat(), valid_until=last.isoformat())
        assert response.status_code == 422, code
        assert response.json()["code"] == code
    longest = apply(world, rid, valid_until=applications.one_year_from(start).isoformat())
    assert longest.status_code == 201, longest.text


def test_a_second_live_application_is_refused(world: World) -> None:
    rid = world.dataset()
    first = apply(world, rid)
    assert first.status_code == 201
    again = apply(world, rid)
    assert again.status_code == 409 and again.json()["code"] == "application_exists"
    assert apply(world, rid, "other_dev").status_code == 201  # someone else may
    reject = world.client.post(
        f"/api/v1/open/applications/{first.json()['id']}/reject",
        json={"reason": "用途与数据不符"},
        headers=world.headers("officer_police"),
    )
    assert reject.status_code == 200
    assert apply(world, rid).status_code == 201  # after a rejection, a new try


def test_anonymous_callers_are_asked_to_sign_in(world: World) -> None:
    rid = world.dataset()
    response = world.client.post("/api/v1/open/applications", json=body(rid))
    assert response.status_code == 401


def test_only_the_provider_decides(world: World) -> None:
    rid = world.dataset()
    app_id = apply(world, rid).json()["id"]
    url = f"/api/v1/open/applications/{app_id}"
    # another department's officer: not theirs to decide (and they cannot see it)
    other = world.client.post(f"{url}/approve", json={}, headers=world.headers("officer_eco"))
    assert other.status_code == 403
    # a member of the provider who is not a data officer sees it but may not decide
    staff = world.client.post(f"{url}/approve", json={}, headers=world.headers("staff_police"))
    assert staff.status_code == 403
    # the applicant cannot approve themselves
    own = world.client.post(f"{url}/approve", json={}, headers=world.headers("developer"))
    assert own.status_code == 403
    assert world.client.get(url, headers=world.headers("other_dev")).status_code == 404
    no_reason = world.client.post(
        f"{url}/reject", json={"reason": " "}, headers=world.headers("officer_police")
    )
    assert no_reason.status_code == 422 and no_reason.json()["code"] == "reason_required"
    start = applications.today()
    wider = world.client.post(
        f"{url}/approve",
        json={"valid_until": (start + timedelta(days=300)).isoformat()},
        headers=world.headers("officer_police"),
    )
    assert wider.status_code == 422 and wider.json()["code"] == "period_widened"
    narrowed = world.client.post(
        f"{url}/approve",
        json={"valid_until": (start + timedelta(days=90)).isoformat(), "comment": "先试用三个月"},
        headers=world.headers("officer_police"),
    )
    assert narrowed.status_code == 200, narrowed.text
    assert narrowed.json()["status"] == "approved"
    assert narrowed.json()["valid_until"] == (start + timedelta(days=90)).isoformat()
    twice = world.client.post(f"{url}/approve", json={}, headers=world.headers("admin"))
    assert twice.status_code == 409 and twice.json()["code"] == "application_state"


def test_approval_notifies_and_the_key_is_scoped_and_shown_once(world: World) -> None:
    from cityos.exchange import open_keys
    from cityos.notify.services import list_for

    rid = world.dataset()
    app_id = apply(world, rid).json()["id"]
    url = f"/api/v1/open/applications/{app_id}"
    with world.db.session() as session:
        told = list_for(session, world.user_id("officer_police"))
        assert [n.kind for n in told] == ["opendata.application.submitted"]
    early = world.client.post(f"{url}/key", headers=world.headers("developer"))
    assert early.status_code == 409  # not approved yet
    world.client.post(f"{url}/approve", json={}, headers=world.headers("officer_police"))
    with world.db.session() as session:
        kinds = [n.kind for n in list_for(session, world.user_id("developer"))]
        assert kinds == ["opendata.application.approved"]
    assert world.client.post(f"{url}/key", headers=world.headers("other_dev")).status_code == 404
    assert (
        world.client.post(f"{url}/key", headers=world.headers("officer_police")).status_code == 403
    )
    issued = world.client.post(f"{url}/key", headers=world.headers("developer"))
    assert issued.status_code == 201, issued.text
    key = issued.json()
    assert key["key"].startswith("cos_") and key["scope_resource_id"] == rid
    again = world.client.post(f"{url}/key", headers=world.headers("developer"))
    assert again.status_code == 409 and again.json()["code"] == "key_exists"
    shown = world.client.get(url, headers=world.headers("developer")).json()
    assert shown["key_id"] == key["key_id"] and key["key"] not in str(shown)
    with world.db.session() as session:
        row = open_keys.get_open_key(session, key["key_id"])
        assert row.scope_resource_id == rid
        assert row.owner_user_id == world.user_id("developer")
        end = applications.end_of_day(applications.today() + timedelta(days=180))
        assert row.expires_at == end


def test_revoking_the_approval_revokes_the_key(world: World) -> None:
    from cityos.exchange import open_keys

    rid = world.dataset()
    app_id = apply(world, rid).json()["id"]
    url = f"/api/v1/open/applications/{app_id}"
    world.client.post(f"{url}/approve", json={}, headers=world.headers("officer_police"))
    key = world.client.post(f"{url}/key", headers=world.headers("developer")).json()
    other = world.client.post(
        f"{url}/revoke", json={"reason": "x"}, headers=world.headers("officer_eco")
    )
    assert other.status_code == 403
    blank = world.client.post(
        f"{url}/revoke", json={"reason": ""}, headers=world.headers("officer_police")
    )
    assert blank.status_code == 422
    revoked = world.client.post(
        f"{url}/revoke", json={"reason": "违反用途限定"}, headers=world.headers("officer_police")
    )
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    with world.db.session() as session:
        assert open_keys.get_open_key(session, key["key_id"]).status == "revoked"
        actions = set(session.scalars(select(AuditRecord.action)))
    assert {
        "opendata.application.submit",
        "opendata.application.approve",
        "opendata.application.key",
        "opendata.application.revoke",
        "opendata.key.issue",
        "opendata.key.revoke",
    } <= actions
    after = world.client.post(f"{url}/key", headers=world.headers("developer"))
    assert after.status_code == 409


def test_lists_for_the_applicant_and_the_provider(world: World) -> None:
    rid = world.dataset()
    mine = apply(world, rid).json()["id"]
    apply(world, rid, "other_dev")
    listed = world.client.get("/api/v1/open/applications", headers=world.headers("developer"))
    assert [a["id"] for a in listed.json()["results"]] == [mine]
    with world.db.session() as session:
        assert [a.id for a in applications.list_for_user(session, world.user_id("developer"))] == [
            mine
        ]
        latest = applications.latest_for(session, world.user_id("developer"), rid)
        assert latest is not None and latest.id == mine
        assert applications.latest_for(session, None, rid) is None
    review = world.client.get(
        "/api/v1/open/applications?box=review", headers=world.headers("officer_police")
    )
    assert review.json()["count"] == 2
    elsewhere = world.client.get(
        "/api/v1/open/applications?box=review", headers=world.headers("officer_eco")
    )
    assert elsewhere.json()["count"] == 0
    bureau = world.client.get(
        "/api/v1/open/applications?box=review", headers=world.headers("admin")
    )
    assert bureau.json()["count"] == 2
