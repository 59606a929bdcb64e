"""POST /api/v1/interfaces/{code}/call over HTTP with real authorization codes."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from cityos.audit.models import AuditRecord
from cityos.core.db import utcnow
from tests.unit.interfaces.conftest import ALICE_ID, ENTERPRISE_A, World
from tests.unit.protection.ids import wrong_id


def _code(world: World, grant_id: str) -> str:
    from cityos.exchange.services import issue_code
    from cityos.sharing.grants import get_grant

    officer = world.principal("officer_civil")
    with world.db.session() as session:
        grant = get_grant(session, grant_id)
        _row, plaintext = issue_code(
            session, grant, officer, expires_at=utcnow() + timedelta(days=7), label="test"
        )
    return plaintext


def _post(world: World, service: dict[str, Any], body: Any, code: str | None) -> Any:
    headers = {"Authorization": f"Bearer {code}"} if code else {}
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return world.client.post(
        f"/api/v1/interfaces/{service['code']}/call",
        content=content,
        headers={**headers, "Content-Type": "application/json"},
    )


def _details(world: World, action: str) -> list[dict[str, Any]]:
    with world.db.session() as session:
        rows = session.scalars(
            select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.id)
        )
        return [{"raw": r.detail_json, **json.loads(r.detail_json)} for r in rows]


def test_call_with_an_authorization_code(world: World) -> None:
    service = world.confirmed(world.verify_body())
    code = _code(world, world.grant(service))
    ok = _post(world, service, {"id_number": ALICE_ID, "name": "王小丽"}, code)
    assert ok.status_code == 200, ok.text
    assert ok.json() == {"match": True}
    assert ok.headers["cache-control"] == "no-store"
    no = _post(world, service, {"id_number": ALICE_ID, "name": "王大丽"}, code)
    assert no.json() == {"match": False}
    # the X-Authorization-Code header works too
    header = world.client.post(
        f"/api/v1/interfaces/{service['code']}/call",
        json={"id_number": ALICE_ID, "name": "王小丽"},
        headers={"X-Authorization-Code": code},
    )
    assert header.json() == {"match": True}
    records = _details(world, "exchange.service")
    assert [(r["result"], r["rows"]) for r in records] == [("ok", 1), ("ok", 0), ("ok", 1)]
    assert all(ALICE_ID not in r["raw"] and "王小丽" not in r["raw"] for r in records)
    assert records[0]["ip"] == "testclient"


def test_call_errors_over_http(world: World) -> None:
    service = world.confirmed(world.verify_body())
    code = _code(world, world.grant(service))
    bad = _post(world, service, {"id_number": wrong_id(ALICE_ID), "name": "王小丽"}, code)
    assert bad.status_code == 422
    assert bad.headers["content-type"].startswith("application/problem+json")
    assert bad.json()["code"] == "input_invalid"
    assert bad.json()["errors"][0]["field"] == "id_number"
    assert wrong_id(ALICE_ID) not in bad.text
    not_json = _post(world, service, b"id_number=1", code)
    assert not_json.status_code == 422 and not_json.json()["code"] == "input_invalid"

    missing = _post(world, service, {"id_number": ALICE_ID, "name": "王小丽"}, None)
    assert missing.status_code == 401
    forged = _post(world, service, {"id_number": ALICE_ID, "name": "王小丽"}, "cos_nonsense")
    assert forged.status_code == 401


def test_a_code_for_another_service_is_refused(world: World) -> None:
    verify = world.confirmed(world.verify_body())
    lookup = world.confirmed(world.lookup_body(), "officer_market")
    lookup_code = _code(world, world.grant(lookup))
    refused = _post(world, verify, {"id_number": ALICE_ID, "name": "王小丽"}, lookup_code)
    assert refused.status_code == 403 and refused.json()["code"] == "service_not_granted"
    answer = _post(world, lookup, {"uscc": ENTERPRISE_A}, lookup_code)
    assert answer.status_code == 200
    assert answer.json() == {"found": True, "name": "海口椰风贸易有限公司", "status": "存续"}
    denied = [d for d in _details(world, "exchange.denied") if d["result"] == "service_not_granted"]
    assert len(denied) == 1 and denied[0]["service_id"] == verify["id"]


def test_a_suspended_grant_stops_its_code(world: World) -> None:
    from cityos.sharing.grants import change_status, get_grant

    service = world.confirmed(world.lookup_body(), "officer_market")
    grant_id = world.grant(service)
    code = _code(world, grant_id)
    assert _post(world, service, {"uscc": ENTERPRISE_A}, code).status_code == 200
    with world.db.session() as session:
        change_status(session, get_grant(session, grant_id), "suspend", None, "核查")
    stopped = _post(world, service, {"uscc": ENTERPRISE_A}, code)
    assert stopped.status_code == 403 and stopped.json()["code"] == "grant_inactive"
