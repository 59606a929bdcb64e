"""The issue's "done when", walked on a fresh Haikou demo, over the API as the departments would.

市卫生健康委 requests 市公安局's population data; the provider approves part of it; the requester
issues a code and queries: masked ID numbers, only the granted items and district; the provider
revokes; the next call is refused. ``cityos audit verify`` passes, then fails at the right record
after a row is edited in the database. A bulk pull raises an incident whose notice and report
carry what PIPL Art. 57 requires.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text

from cityos.app import create_app
from cityos.auth import services as auth
from cityos.cli import main as cli
from cityos.config import Settings
from cityos.core.db import utcnow
from cityos.core.migrate import upgrade
from tests.conftest import BACKENDS, _need_pg, _pg_database, _worker

ID_MASKED = re.compile(r"^\d{4}\*{10}[\dX]{4}$")
SCOPE = "460106"  # 龙华区


@pytest.fixture(params=BACKENDS)
def fresh_demo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FastAPI]:
    from cityos.demo.loader import load_demo

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    if request.param == "sqlite":
        url = f"sqlite:///{data_dir / 'cityos.db'}"
    else:
        _need_pg()
        url = _pg_database(f"cityos_walk_{_worker()}")
    upgrade(url)
    settings = Settings(
        data_dir=data_dir,
        database_url=url,
        secret_key="test-secret-key-not-for-production",  # type: ignore[arg-type]
        sqlite_synchronous="NORMAL",
        demo=True,
        audit_sth_interval=0,
    )
    load_demo(settings)
    application = create_app(settings, migrate=False)
    yield application
    application.state.db.dispose()


def _headers(app: FastAPI, username: str) -> dict[str, str]:
    with app.state.db.session() as session:
        user = auth.get_user_by_name(session, username)
        assert user is not None, username
        return {
            "Authorization": f"Bearer {auth.create_token(session, user, name='walk').plaintext}"
        }


def _verify(app: FastAPI) -> tuple[int, str]:
    settings: Settings = app.state.settings
    env = {"CITYOS_DATABASE_URL": settings.resolved_database_url}
    result = CliRunner().invoke(
        cli, ["audit", "verify", "--data-dir", str(settings.data_dir)], env=env
    )
    return result.exit_code, result.output


def _edit_audit_row(app: FastAPI, leaf_index: int) -> None:
    """What an insider with database access would do: bypass the append-only triggers."""
    engine = create_engine(app.state.settings.resolved_database_url)
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                conn.execute(text("SET session_replication_role = replica"))
                conn.execute(
                    text(
                        "UPDATE audit_records SET action = 'exchange.nothing' WHERE leaf_index = :i"
                    ),
                    {"i": leaf_index},
                )
            else:
                triggers = conn.execute(
                    text(
                        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                        "AND tbl_name = 'audit_records'"
                    )
                ).all()
                for name, _sql in triggers:
                    conn.execute(text(f'DROP TRIGGER "{name}"'))
                conn.execute(
                    text(
                        "UPDATE audit_records SET action = 'exchange.nothing' WHERE leaf_index = :i"
                    ),
                    {"i": leaf_index},
                )
                for _name, sql in triggers:
                    conn.execute(text(sql))
    finally:
        engine.dispose()


def test_health_requests_police_population_data(fresh_demo: FastAPI) -> None:
    app = fresh_demo
    client = TestClient(app)
    health = _headers(app, "officer_health")
    police = _headers(app, "officer_police")
    admin = _headers(app, "admin")

    # 1. 市卫生健康委 asks for 海口市人口基础信息 (有条件共享)
    resource = client.get("/api/v1/catalog/resources/101001-000001", headers=health)
    if resource.status_code != 200:  # the code is generated: find it by search instead
        found = client.get(
            "/api/v1/catalog/resources", params={"q": "人口基础信息"}, headers=health
        )
        code = next(r["code"] for r in found.json()["results"] if r["name"] == "海口市人口基础信息")
    else:
        code = resource.json()["code"]
    asked = client.post(
        "/api/v1/sharing/requests",
        headers=health,
        json={
            "resource": code,
            "items": ["id_number", "name", "gender", "birth_date", "district", "phone"],
            "purpose": "孕产妇健康管理建档核验",
            "legal_basis": "《母婴保健法》第十四条",
            "scenario": "妇幼保健系统建档时核验身份",
            "wants_export": True,
        },
    )
    assert asked.status_code == 201, asked.text
    request_id = asked.json()["id"]
    assert asked.json()["status"] == "pending"
    inbox = client.get("/api/v1/sharing/requests", params={"box": "inbox"}, headers=police)
    assert request_id in {r["id"] for r in inbox.json()["results"]}

    # 2. 市公安局 approves part: three items, one district, export allowed
    decided = client.post(
        f"/api/v1/sharing/requests/{request_id}/approve",
        headers=police,
        json={
            "items": ["id_number", "name", "district"],
            "row_scope": {"district": [SCOPE]},
            "allow_export": True,
            "reason": "最小必要：仅提供核验所需字段和辖区数据",
        },
    )
    assert decided.status_code == 200, decided.text
    assert decided.json()["status"] == "partially_approved"
    grant_id = decided.json()["grant_id"]

    # 3. the requester issues a code (shown once) and queries with it
    expires = (utcnow() + timedelta(days=30)).isoformat()
    issued = client.post(
        f"/api/v1/exchange/grants/{grant_id}/codes",
        headers=health,
        json={"expires_at": expires, "label": "妇幼保健系统"},
    )
    assert issued.status_code == 201, issued.text
    plaintext = issued.json()["code"]
    assert plaintext.startswith("cos_")
    listed = client.get(f"/api/v1/exchange/grants/{grant_id}/codes", headers=health).json()
    assert plaintext not in str(listed)
    code_headers = {"Authorization": f"Bearer {plaintext}"}
    page = client.get("/api/v1/exchange/records", params={"limit": 50}, headers=code_headers)
    assert page.status_code == 200, page.text
    body = page.json()
    assert {f["id"] for f in body["fields"]} - {"_id"} == {"id_number", "name", "district"}
    assert body["records"], "the scoped district has residents"
    for row in body["records"]:
        assert ID_MASKED.match(row["id_number"]), row["id_number"]
        assert row["district"] == SCOPE
    refused_item = client.get(
        "/api/v1/exchange/records", params={"fields": "phone"}, headers=code_headers
    )
    assert refused_item.status_code == 403

    # 4. a bulk pull (the whole grant, exported) raises an incident with notice and report
    pulled = client.get("/api/v1/exchange/export", params={"format": "csv"}, headers=code_headers)
    assert pulled.status_code == 200, pulled.text
    from cityos.incidents.detection import detect
    from cityos.incidents.rules import Config

    detect(app.state.db, config=Config(spike_min_rows=100, spike_min_calls=1000))
    incidents = client.get("/api/v1/incidents", headers=admin).json()["items"]
    spike = next(i for i in incidents if i["grant_id"] == grant_id)
    notice = client.get(f"/api/v1/incidents/{spike['id']}/notice", headers=admin)
    report = client.get(f"/api/v1/incidents/{spike['id']}/report", headers=admin)
    assert notice.status_code == 200 and report.status_code == 200
    notice_text, report_text = str(notice.json()), str(report.json())
    for element in ("身份证", "原因", "危害", "措施", "联系"):
        assert element in notice_text, element
    for element in ("身份证", "原因", "危害", "措施", "联系", "市卫生健康委"):
        assert element in report_text, element
    subjects = client.get(f"/api/v1/incidents/{spike['id']}/subjects", headers=admin).json()
    assert subjects["count"] >= len(body["records"])

    # 5. the provider revokes; the next call is refused
    revoked = client.post(
        f"/api/v1/sharing/grants/{grant_id}/revoke",
        headers=police,
        json={"reason": "发现超范围批量导出"},
    )
    assert revoked.status_code == 200, revoked.text
    after = client.get("/api/v1/exchange/records", headers=code_headers)
    assert after.status_code in (401, 403)
    assert after.json()["code"] == "grant_inactive"

    # 6. the audit log verifies; an edited row is named
    status, output = _verify(app)
    assert status == 0, output
    target = client.get(
        "/api/v1/audit/records",
        params={"action": "sharing.grant.revoke", "limit": 1},
        headers=admin,
    ).json()
    leaf = target["items"][0]["leaf_index"]
    _edit_audit_row(app, leaf)
    status, output = _verify(app)
    assert status != 0
    assert str(leaf) in output
