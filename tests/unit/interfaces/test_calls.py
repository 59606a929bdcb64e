"""Calling query services (verify, lookup) as the holder of a grant's authorization code, and
the audit record of every call. The code itself is checked by the exchange's ``code_context``
(tested there); here the call gets its context directly."""

from __future__ import annotations

import json
from typing import Any

import pytest

from cityos.audit.models import AuditRecord
from cityos.core.errors import ProblemError
from tests.unit.interfaces.conftest import (
    ALICE_ID,
    BOB_ID,
    ENTERPRISE_A,
    ENTERPRISE_B,
    World,
)
from tests.unit.protection.ids import make_id, make_uscc, wrong_id


def _audits(world: World, action: str) -> list[dict[str, Any]]:
    from sqlalchemy import select

    with world.db.session() as session:
        rows = session.scalars(
            select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.id)
        )
        return [
            {
                "actor_id": r.actor_id,
                "target_type": r.target_type,
                "target_id": r.target_id,
                "raw": r.detail_json,
                **json.loads(r.detail_json),
            }
            for r in rows
        ]


def test_verify_answers_match_true_or_false_only(world: World) -> None:
    service = world.confirmed(world.verify_body())
    caller = world.caller(service, world.grant(service))
    code = service["code"]
    assert world.call(code, {"id_number": ALICE_ID, "name": "王小丽"}, caller) == {"match": True}
    assert world.call(code, {"id_number": ALICE_ID, "name": "李建国"}, caller) == {"match": False}
    # lower-case check letter and spaces are normalised; another valid number: no match
    assert world.call(code, {"id_number": f" {BOB_ID.lower()} ", "name": "李建国"}, caller) == {
        "match": True
    }
    stranger = make_id("460107", "20000101", "001")
    assert world.call(code, {"id_number": stranger, "name": "王小丽"}, caller) == {"match": False}


def test_invalid_inputs_are_422_without_their_values(world: World) -> None:
    service = world.confirmed(world.verify_body())
    caller = world.caller(service, world.grant(service))
    bad = wrong_id(ALICE_ID)
    with pytest.raises(ProblemError) as raised:
        world.call(service["code"], {"id_number": bad, "name": "王小丽"}, caller)
    problem = raised.value
    assert (problem.status, problem.code) == (422, "input_invalid")
    assert problem.errors[0]["field"] == "id_number" and problem.errors[0]["code"] == "detector"
    assert bad not in json.dumps(problem.to_dict(), ensure_ascii=False)
    for inputs, kind in (
        ({"id_number": ALICE_ID}, "missing"),
        ({"id_number": ALICE_ID, "name": "王小丽", "phone": "1"}, "unknown"),
        ({"id_number": 460105, "name": "王小丽"}, "type"),
    ):
        with pytest.raises(ProblemError) as raised:
            world.call(service["code"], inputs, caller)
        assert raised.value.code == "input_invalid"
        assert kind in {e["code"] for e in raised.value.errors}
    with pytest.raises(ProblemError) as raised:
        world.call(service["code"], ["not", "an", "object"], caller)
    assert raised.value.code == "input_invalid"


def test_lookup_returns_only_declared_outputs_of_one_row(world: World) -> None:
    service = world.confirmed(world.lookup_body(), "officer_market")
    caller = world.caller(service, world.grant(service))
    answer = world.call(service["code"], {"uscc": ENTERPRISE_A.lower()}, caller)
    assert answer == {"found": True, "name": "海口椰风贸易有限公司", "status": "存续"}
    unknown = make_uscc("91460100MA5T00009")
    assert world.call(service["code"], {"uscc": unknown}, caller) == {"found": False}
    # two stored rows match: never both, never bulk
    with pytest.raises(ProblemError) as raised:
        world.call(service["code"], {"uscc": ENTERPRISE_B}, caller)
    assert (raised.value.status, raised.value.code) == (409, "ambiguous_lookup")
    assert "海口蓝海" not in json.dumps(raised.value.to_dict(), ensure_ascii=False)


def test_grant_row_scope_limits_the_rows(world: World) -> None:
    service = world.confirmed(world.verify_body())
    grant = world.grant(service)
    caller = world.caller(service, grant, row_scope={"district": ["460106"]})
    assert world.call(service["code"], {"id_number": ALICE_ID, "name": "王小丽"}, caller) == {
        "match": False
    }  # 王小丽 lives in 460105: outside the grant's rows
    assert world.call(service["code"], {"id_number": BOB_ID, "name": "李建国"}, caller) == {
        "match": True
    }


def test_only_a_grant_for_this_service_calls_it(world: World) -> None:
    verify = world.confirmed(world.verify_body())
    lookup = world.confirmed(world.lookup_body(), "officer_market")
    lookup_caller = world.caller(lookup, world.grant(lookup))
    with pytest.raises(ProblemError) as raised:
        world.call(verify["code"], {"id_number": ALICE_ID, "name": "王小丽"}, lookup_caller)
    assert (raised.value.status, raised.value.code) == (403, "service_not_granted")
    plain = world.caller(verify, world.grant(verify), service_id=None)  # a records grant
    with pytest.raises(ProblemError) as raised:
        world.call(verify["code"], {"id_number": ALICE_ID, "name": "王小丽"}, plain)
    assert raised.value.status == 403
    with pytest.raises(ProblemError) as raised:
        world.call("FW-999999", {}, plain)
    assert raised.value.status == 404
    denied = _audits(world, "exchange.denied")
    assert [d["result"] for d in denied] == [
        "service_not_granted",
        "service_not_granted",
        "service_unknown",
    ]
    assert all(d["target_type"] == "code" and d["actor_id"] is None for d in denied)
    assert ALICE_ID not in "".join(d["raw"] for d in denied)


def test_unconfirmed_or_suspended_services_are_not_callable(world: World) -> None:
    pending = world.register(**world.verify_body()).json()
    caller = world.caller(pending, world.grant(pending))
    with pytest.raises(ProblemError) as raised:
        world.call(pending["code"], {"id_number": ALICE_ID, "name": "王小丽"}, caller)
    assert (raised.value.status, raised.value.code) == (403, "service_not_callable")

    service = world.confirmed(world.lookup_body(), "officer_market")
    caller = world.caller(service, world.grant(service))
    assert world.call(service["code"], {"uscc": ENTERPRISE_A}, caller)["found"] is True
    world.client.post(
        f"/api/v1/interfaces/{service['code']}/suspend",
        json={"comment": "维护"},
        headers=world.headers("officer_market"),
    )
    with pytest.raises(ProblemError) as raised:
        world.call(service["code"], {"uscc": ENTERPRISE_A}, caller)
    assert raised.value.code == "service_not_callable"


def test_every_call_is_audited_without_personal_values(world: World) -> None:
    service = world.confirmed(world.verify_body())
    grant = world.grant(service)
    caller = world.caller(service, grant)
    world.call(service["code"], {"id_number": ALICE_ID, "name": "王小丽"}, caller)
    world.call(service["code"], {"id_number": BOB_ID, "name": "王小丽"}, caller)
    with pytest.raises(ProblemError):
        world.call(service["code"], {"id_number": wrong_id(BOB_ID), "name": "李建国"}, caller)
    records = _audits(world, "exchange.service")
    assert len(records) == 3
    for record in records:
        assert record["target_type"] == "grant" and record["target_id"] == grant
        assert record["actor_id"] is None  # the code is the credential
        assert record["service_id"] == service["id"] and record["code"] == caller.code_key_id
        assert record["consumer_org_id"] == world.civil
        assert record["provider_org_id"] == world.police
        assert record["resource_id"] == world.residents
        assert record["purpose"] == "低保审核身份核验" and record["ip"] == "10.0.0.9"
        assert record["inputs"] == ["id_number", "name"]
        for secret in (ALICE_ID, BOB_ID, wrong_id(BOB_ID), "王小丽", "李建国"):
            assert secret not in record["raw"]
    assert [(r["result"], r["rows"]) for r in records] == [
        ("ok", 1),
        ("ok", 0),
        ("input_invalid", 0),
    ]
    assert len(records[0]["row_ids"]) == 1 and records[1]["row_ids"] == []


def test_lookup_audit_names_the_fields_and_row(world: World) -> None:
    service = world.confirmed(world.lookup_body(), "officer_market")
    caller = world.caller(service, world.grant(service))
    world.call(service["code"], {"uscc": ENTERPRISE_A}, caller)
    world.call(service["code"], {"uscc": make_uscc("91460100MA5T00009")}, caller)
    first, second = _audits(world, "exchange.service")
    assert first["items"] == ["name", "status"] and first["rows"] == 1
    assert len(first["row_ids"]) == 1
    assert second["items"] == [] and second["rows"] == 0
