"""Reminders before the limit, escalation after it, with a fixed clock; calendar edits move it."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from cityos.auth import services as auth
from cityos.core.bus import Event
from cityos.sharing import services
from cityos.sharing.deadlines import run_deadlines
from cityos.sharing.models import ShareRequest
from cityos.sharing.schemas import RequestIn
from tests.unit.sharing.conftest import World

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SH)


def _submit(world: World, when: datetime) -> str:
    resource = world.resource()
    with world.app.state.db.session() as session:
        user = auth.get_user_by_name(session, "officer_civil")
        assert user is not None
        principal = auth.principal_for(session, user)
        data = RequestIn(
            resource=resource["code"],
            items=["name"],
            purpose="核验",
            legal_basis="《社会救助暂行办法》",
            period_start=when.date(),
        )
        request = services.create_request(session, principal, data, now=when)
        return request.id


def _get(world: World, request_id: str) -> ShareRequest:
    with world.app.state.db.session() as session:
        found = session.get(ShareRequest, request_id)
        assert found is not None
        return found


def test_reminder_then_escalation_once_each(world: World) -> None:
    events: list[Event] = []
    world.app.state.bus.subscribe("sharing.request.*", events.append)
    request_id = _submit(world, at("2025-09-26T21:30:00"))  # due 2025-10-16 23:59:59
    assert _get(world, request_id).due_at == at("2025-10-16T23:59:59")
    db, bus = world.app.state.db, world.app.state.bus

    early = run_deadlines(db, at("2025-10-13T09:00:00"), reminder_days=2, bus=bus)  # 4 left
    assert early.reminded == [] and early.escalated == []
    reminded = run_deadlines(db, at("2025-10-15T09:00:00"), reminder_days=2, bus=bus)  # 2 left
    assert len(reminded.reminded) == 1 and reminded.escalated == []
    assert _get(world, request_id).reminded_at == at("2025-10-15T09:00:00")
    again = run_deadlines(db, at("2025-10-16T09:00:00"), reminder_days=2, bus=bus)
    assert again.reminded == [] and again.escalated == []
    last_second = run_deadlines(db, at("2025-10-16T23:59:59"), reminder_days=2, bus=bus)
    assert last_second.escalated == []
    late = run_deadlines(db, at("2025-10-17T00:00:00"), reminder_days=2, bus=bus)
    assert len(late.escalated) == 1
    assert _get(world, request_id).escalated_at == at("2025-10-17T00:00:00")
    assert run_deadlines(db, at("2025-10-20T09:00:00"), reminder_days=2, bus=bus).escalated == []
    assert [e.topic for e in events] == [
        "sharing.request.reminder",
        "sharing.request.escalated",
    ]
    trail = world.client.get(
        f"/api/v1/audit/records?target_id={request_id}", headers=world.headers("admin")
    ).json()["items"]
    assert [r["action"] for r in trail] == [
        "sharing.request.escalate",
        "sharing.request.remind",
        "sharing.request.create",
    ]


def test_decided_requests_are_left_alone_and_reminders_can_be_off(world: World) -> None:
    request_id = _submit(world, at("2026-02-13T10:00:00"))  # due 2026-03-05
    other_id = _submit_second(world)
    db = world.app.state.db
    quiet = run_deadlines(db, at("2026-03-04T09:00:00"), reminder_days=0)
    assert quiet.reminded == [] and quiet.escalated == []
    refused = world.client.post(
        f"/api/v1/sharing/requests/{request_id}/refuse",
        json={"reason": "不符合条件"},
        headers=world.headers("officer_police"),
    )
    assert refused.status_code == 200
    report = run_deadlines(db, at("2026-04-01T09:00:00"), reminder_days=2)
    assert _get(world, request_id).escalated_at is None
    assert len(report.escalated) == 1 and _get(world, other_id).escalated_at is not None


def _submit_second(world: World) -> str:
    resource = world.resource(name="流动人口居住登记")
    with world.app.state.db.session() as session:
        user = auth.get_user_by_name(session, "officer_health")
        assert user is not None
        data = RequestIn(
            resource=resource["code"],
            items=["district"],
            purpose="疫情防控",
            legal_basis="《传染病防治法》",
            period_start=at("2026-02-13T10:00:00").date(),
        )
        principal = auth.principal_for(session, user)
        return services.create_request(session, principal, data, now=at("2026-02-13T10:00:00")).id


def test_calendar_edit_moves_pending_due_times(world: World) -> None:
    request_id = _submit(world, at("2026-03-09T09:00:00"))  # Monday; due Monday 3/23
    assert _get(world, request_id).due_at == at("2026-03-23T23:59:59")
    admin = world.headers("admin")
    response = world.client.put(
        "/api/v1/sharing/calendar/days/2026-03-12",
        json={"kind": "holiday", "name": "台风停工"},
        headers=admin,
    )
    assert response.status_code == 200, response.text
    assert _get(world, request_id).due_at == at("2026-03-24T23:59:59")
    response = world.client.put(
        "/api/v1/sharing/calendar/days/2026-03-14",
        json={"kind": "workday", "name": "台风补班"},
        headers=admin,
    )
    assert response.status_code == 200
    assert _get(world, request_id).due_at == at("2026-03-23T23:59:59")
    assert (
        world.client.delete("/api/v1/sharing/calendar/days/2026-03-12", headers=admin).status_code
        == 204
    )
    assert _get(world, request_id).due_at == at("2026-03-20T23:59:59")


def test_a_concurrent_duplicate_is_a_conflict_not_a_crash(world: World) -> None:
    """Two requests racing past the duplicate check: the unique pending key refuses the second."""
    import pytest

    from cityos.core.errors import ProblemError

    request_id = _submit(world, at("2026-03-09T09:00:00"))
    with world.app.state.db.session() as session:
        first = session.get(ShareRequest, request_id)
        assert first is not None and first.pending_key
        twin = ShareRequest(
            kind="request",
            resource_id=first.resource_id,
            provider_org_id=first.provider_org_id,
            requester_org_id=first.requester_org_id,
            items=["name"],
            period_start=first.period_start,
            period_end=first.period_end,
            submitted_at=first.submitted_at,
            due_at=first.due_at,
            pending_key=first.pending_key,
        )
        with pytest.raises(ProblemError) as caught:
            services._insert(session, twin)
        assert caught.value.status == 409 and caught.value.code == "duplicate_request"
