"""Incidents API: who sees what, remedies, subjects, notice and report."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from cityos.audit.models import AuditRecord
from cityos.incidents.detection import detect
from tests.conftest import Actors
from tests.unit.incidents.conftest import NOW
from tests.unit.incidents.world import PEOPLE, World, make_world


@pytest.fixture
def world(app: FastAPI, client: TestClient, actors: Actors) -> World:
    return make_world(app, client, actors)


def _incident(world: World) -> dict:
    world.calls(2)
    report = detect(world.db)
    assert len(report.opened) == 1
    listed = world.client.get("/api/v1/incidents", headers=world.headers("admin")).json()
    [incident] = listed["items"]
    return incident


def test_who_sees_an_incident(world: World) -> None:
    incident = _incident(world)
    assert incident["rule"] == "offhours_export" and incident["code_key_id"] == world.code
    assert incident["grant_id"] == world.grant_id and incident["provider_org_id"] == world.provider
    path = f"/api/v1/incidents/{incident['id']}"
    for user in ("admin", "reviewer", "officer_provider"):
        got = world.client.get(path, headers=world.headers(user))
        assert got.status_code == 200, (user, got.text)
        assert got.json()["number"] == incident["number"]
    by_number = world.client.get(
        f"/api/v1/incidents/{incident['number']}", headers=world.headers("officer_provider")
    )
    assert by_number.status_code == 200
    for user in ("officer_consumer", "officer_other", "citizen"):
        assert world.client.get(path, headers=world.headers(user)).status_code == 404, user
        assert world.client.get(path + "/subjects", headers=world.headers(user)).status_code == 404
        listed = world.client.get("/api/v1/incidents", headers=world.headers(user)).json()
        assert listed["total"] == 0, user
    assert world.client.get(path).status_code == 401
    body = world.client.get(path, headers=world.headers("reviewer")).json()
    assert [e["kind"] for e in body["timeline"]] == ["detected"]
    assert len(body["evidence"]) == 2 and body["evidence"][0]["action"] == "exchange.export"
    assert body["code_status"] == "active" and body["grant_status"] == "active"


def test_remedies_suspend_the_grant_and_the_code(world: World) -> None:
    incident = _incident(world)
    path = f"/api/v1/incidents/{incident['id']}/remedies"
    headers = world.headers("officer_provider")
    missing = world.client.post(
        path, json={"action": "suspend_grant", "reason": ""}, headers=headers
    )
    assert missing.status_code == 422
    denied = world.client.post(
        path,
        json={"action": "suspend_grant", "reason": "x"},
        headers=world.headers("officer_other"),
    )
    assert denied.status_code == 404
    reviewer = world.client.post(
        path, json={"action": "suspend_grant", "reason": "x"}, headers=world.headers("reviewer")
    )
    assert reviewer.status_code == 403

    done = world.client.post(
        path, json={"action": "suspend_grant", "reason": "夜间批量导出，先行暂停"}, headers=headers
    )
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["grant_status"] == "suspended" and body["status"] == "contained"
    assert [e["kind"] for e in body["timeline"]] == ["detected", "remedy", "status"]
    again = world.client.post(
        path, json={"action": "suspend_grant", "reason": "x"}, headers=headers
    )
    assert again.status_code == 409

    code = world.client.post(
        path,
        json={"action": "suspend_code", "reason": "授权码疑似泄露"},
        headers=world.headers("admin"),
    )
    assert code.status_code == 200, code.text
    assert code.json()["code_status"] == "suspended"
    from cityos.exchange.services import get_code
    from cityos.sharing.grants import get_grant

    with world.db.session() as session:
        assert get_grant(session, world.grant_id).status == "suspended"
        assert get_code(session, world.code).status == "suspended"
        actions = list(
            session.scalars(
                select(AuditRecord.action).where(AuditRecord.target_id == incident["id"])
            )
        )
    assert actions.count("incident.remedy") == 2 and "incident.status" in actions


def test_status_and_notes(world: World) -> None:
    incident = _incident(world)
    base = f"/api/v1/incidents/{incident['id']}"
    officer = world.headers("officer_provider")
    reviewer = world.headers("reviewer")
    note = world.client.post(base + "/notes", json={"text": "已电话联系使用部门"}, headers=officer)
    assert note.status_code == 201 and note.json()["actor_name"] == "officer_provider"
    forbidden = world.client.post(
        base + "/status", json={"status": "closed", "reason": "x"}, headers=officer
    )
    assert forbidden.status_code == 403
    closed = world.client.post(
        base + "/status",
        json={"status": "closed", "reason": "核实为合规批量导出"},
        headers=reviewer,
    )
    assert closed.status_code == 200 and closed.json()["closed_at"]
    reopen = world.client.post(
        base + "/status", json={"status": "open", "reason": "x"}, headers=reviewer
    )
    assert reopen.status_code == 409
    listed = world.client.get(
        "/api/v1/incidents", params={"status": "closed"}, headers=reviewer
    ).json()
    assert listed["total"] == 1
    bad = world.client.get("/api/v1/incidents", params={"status": "nope"}, headers=reviewer)
    assert bad.status_code == 422


def test_affected_subjects_from_row_ids(world: World) -> None:
    incident = _incident(world)
    base = f"/api/v1/incidents/{incident['id']}"
    body = world.client.get(base + "/subjects", headers=world.headers("officer_provider")).json()
    assert body["count"] == 3 and body["records"] == 6 and body["rows_unknown"] == 0
    names = [s["name"] for s in body["items"]]
    assert names == ["张三", "李四", "王五"]
    first = body["items"][0]
    assert first["id_number"] == "4601**********1230" and first["phone"] == "138****8000"
    assert (
        world.client.get(base + "/subjects.csv", headers=world.headers("reviewer")).status_code
        == 403
    )
    csv = world.client.get(base + "/subjects.csv", headers=world.headers("admin"))
    assert csv.status_code == 200 and csv.content.startswith(b"\xef\xbb\xbf")
    text = csv.content.decode("utf-8-sig")
    assert "张三" in text and "4601**********1230" in text and "460100199001011230" not in text
    assert text.splitlines()[0].split(",")[0] == "姓名"


def test_notice_and_report(world: World, app: FastAPI) -> None:
    app.state.settings = app.state.settings.model_copy(
        update={"incident_contact": "海口市民政局数据安全联系人 0898-12345678"}
    )
    incident = _incident(world)
    base = f"/api/v1/incidents/{incident['id']}"
    reviewer = world.headers("reviewer")
    world.client.post(
        base + "/remedies",
        json={"action": "suspend_code", "reason": "暂停可疑授权码"},
        headers=world.headers("admin"),
    )
    notice = world.client.get(base + "/notice", headers=reviewer).json()
    assert notice["state"] == "draft"
    text = notice["text"]
    for element in (
        "个人信息保护法》第五十七条",
        "涉及的个人信息种类",
        "公民身份号码（居民身份证号码）",
        "联系电话（手机号码）",
        "事件原因",
        "非工作时间",
        "可能造成的危害",
        "证件号码可能被冒用",
        "补救措施",
        f"暂停授权码 {world.code}",
        "您可以采取的措施",
        "联系方式",
        "海口市民政局数据安全联系人 0898-12345678",
    ):
        assert element in text, element
    report = world.client.get(base + "/report", headers=reviewer).json()["text"]
    for element in (
        "数据安全事件报告",
        incident["number"],
        "涉及个人信息主体：3 人",
        "涉及数据记录：6 条",
        world.grant_number,
        world.code,
        "市卫生健康委员会",
        "市民政局",
        "低保对象名册",
        "非工作时间导出",
        "处置时间线",
        "叶子序号",
        "可能造成的危害",
        "已采取的补救措施",
    ):
        assert element in report, element
    md = world.client.get(base + "/report?format=md", headers=reviewer)
    assert md.status_code == 200 and md.headers["content-type"].startswith("text/markdown")
    assert md.text == report
    detail = world.client.get(base, headers=reviewer).json()
    kinds = [e["kind"] for e in detail["timeline"]]
    assert kinds.count("notice") == 1 and kinds.count("report") == 1
    with world.db.session() as session:
        actions = set(
            session.scalars(
                select(AuditRecord.action).where(AuditRecord.target_id == incident["id"])
            )
        )
    assert {"incident.notice.generate", "incident.report.generate"} <= actions
    # edit, then finalise; a final text no longer changes
    officer = world.client.post(
        base + "/notice",
        json={"text": "x", "final": True},
        headers=world.headers("officer_provider"),
    )
    assert officer.status_code == 403
    edited = world.client.post(
        base + "/notice", json={"text": text + "\n附：补充说明"}, headers=reviewer
    )
    assert edited.json()["state"] == "draft" and edited.json()["text"].endswith("附：补充说明")
    final = world.client.post(base + "/notice", json={"final": True}, headers=reviewer)
    assert final.json()["state"] == "final" and final.json()["text"].endswith("附：补充说明")
    late = world.client.post(base + "/notice", json={"regenerate": True}, headers=reviewer)
    assert late.status_code == 409
    assert detail["notice_state"] == "draft"


def test_detect_endpoint(world: World) -> None:
    world.calls(1, at=NOW - timedelta(hours=1))
    assert (
        world.client.post(
            "/api/v1/incidents/detect", headers=world.headers("officer_provider")
        ).status_code
        == 403
    )
    ran = world.client.post("/api/v1/incidents/detect", headers=world.headers("reviewer"))
    assert ran.status_code == 200 and ran.json()["scanned"] > 0


def test_real_exchange_calls(world: World) -> None:
    """Records written by the exchange itself: a pull is a spike for a tiny floor, and a call
    with the revoked code is caught; the subjects come from the exchange's own row ids."""
    from cityos.exchange.services import revoke_code
    from cityos.incidents.rules import Config

    code = {"Authorization": f"Bearer {world.plaintext}"}
    pulled = world.client.get("/api/v1/exchange/records", headers=code)
    assert pulled.status_code == 200, pulled.text
    with world.db.session() as session:
        revoke_code(session, world.code, None, "测试吊销")
    refused = world.client.get("/api/v1/exchange/records", headers=code)
    assert refused.status_code == 401 and refused.json()["code"] == "code_revoked"
    report = detect(world.db, config=Config(spike_min_rows=3, spike_min_calls=1000))
    assert len(report.opened) == 2
    listed = world.client.get("/api/v1/incidents", headers=world.headers("admin")).json()
    by_rule = {i["rule"]: i for i in listed["items"]}
    revoked = by_rule["revoked_code_use"]
    assert revoked["code_key_id"] == world.code and revoked["grant_id"] == world.grant_id
    assert revoked["provider_org_id"] == world.provider  # the provider's officers see it
    spike = by_rule["volume_spike"]
    subjects = world.client.get(
        f"/api/v1/incidents/{spike['id']}/subjects", headers=world.headers("officer_provider")
    ).json()
    assert subjects["count"] == len(PEOPLE) and subjects["rows_unknown"] == 0
    assert {s["name"] for s in subjects["items"]} == {p["name"] for p in PEOPLE}
