"""The auditor's page: filters, exports, and a record page whose proof verifies."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from cityos.audit import merkle
from cityos.audit.log import sign_tree_head
from cityos.audit.models import AuditRecord
from cityos.audit.services import record
from cityos.auth.principal import Principal
from cityos.crypto import sm2_verify
from tests.conftest import Actors, login

MORNING = datetime(2025, 11, 20, 2, 0, tzinfo=UTC)  # 10:00 in Haikou
EVENING = datetime(2025, 11, 20, 12, 0, tzinfo=UTC)  # 20:00 in Haikou


@pytest.fixture
def setup(app: FastAPI, actors: Actors) -> dict[str, str]:
    org = actors.org("市民政局")
    other = actors.org("市卫健委")
    actors.user("root", "admin")
    actors.user("auditor", "reviewer")
    actors.user("officer", "data_officer", org)
    clerk = Principal(
        user_id="c" * 32, username="clerk", org_roles={org: frozenset({"data_officer"})}
    )

    def call(at: datetime, result: str, code: str, rows: int) -> None:
        with app.state.db.session() as session:
            action = "exchange.records" if result == "ok" else "exchange.denied"
            entry = record(
                session,
                None,
                action,
                "grant" if result == "ok" else "code",
                "g1" if result == "ok" else code,
                code=code,
                consumer_org_id=other if result == "ok" else None,
                provider_org_id=org if result == "ok" else None,
                rows=rows,
                row_ids=list(range(1, rows + 1)),
                result=result,
                ip="10.9.8.7",
            )
            entry.at = at

    call(MORNING, "ok", "KMORNING", 5)
    call(EVENING, "code_revoked", "KREVOKED", 0)
    with app.state.db.session() as session:
        note = record(session, clerk, "catalog.resource.update", "resource", "r42", 名称="低保名册")
        note.at = MORNING
    return {"org": org, "other": other}


def _leaves(page: str) -> set[int]:
    return {int(n) for n in re.findall(r'aria-label="[^"]*">(\d+)</a></th>', page)}


def _id_of(app: FastAPI, action: str) -> AuditRecord:
    with app.state.db.session() as session:
        return session.scalars(select(AuditRecord).where(AuditRecord.action == action)).one()


def test_only_auditors(client: TestClient, setup: dict[str, str]) -> None:
    anonymous = client.get("/audit", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    login(client, "officer")
    assert client.get("/audit").status_code == 403
    assert client.get("/audit/export.csv").status_code == 403
    login(client, "auditor")
    page = client.get("/audit")
    assert (
        page.status_code == 200 and "审计日志" in page.text and "cityos audit verify" in page.text
    )


def test_filters(client: TestClient, app: FastAPI, setup: dict[str, str]) -> None:
    login(client, "root")
    morning = _id_of(app, "exchange.records").leaf_index
    evening = _id_of(app, "exchange.denied").leaf_index
    catalog = _id_of(app, "catalog.resource.update").leaf_index

    def leaves(**params: str) -> set[int]:
        got = client.get("/audit", params=params)
        assert got.status_code == 200, got.text
        return _leaves(got.text)

    assert {morning, evening, catalog} <= leaves()
    assert leaves(action="exchange.") == {morning, evening}
    assert leaves(action="exchange.denied") == {evening}
    assert leaves(result="code_revoked") == {evening}
    assert leaves(result="ok", action="exchange.") == {morning}
    assert leaves(org=setup["other"]) == {morning}  # the consumer of a code call
    assert catalog in leaves(org=setup["org"]) and evening not in leaves(org=setup["org"])
    assert leaves(actor="clerk") == {catalog}
    assert leaves(target_type="code", target_id="KREVOKED") == {evening}
    assert leaves(q="低保") == {catalog}
    # the time range is typed in Beijing time: 09:30–10:30 holds the 10:00 records only
    assert leaves(since="2025-11-20T09:30", until="2025-11-20T10:30") == {morning, catalog}
    assert evening in leaves(since="2025-11-20")  # a date alone: from its start
    assert evening in leaves(until="2025-11-20") and evening not in leaves(until="2025-11-19")
    bad = client.get("/audit", params={"since": "yesterday"})
    assert bad.status_code == 422 and "不是有效的日期时间" in bad.text


def test_exports(client: TestClient, app: FastAPI, setup: dict[str, str]) -> None:
    login(client, "auditor")
    csv = client.get("/audit/export.csv", params={"action": "exchange."})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "attachment" in csv.headers["content-disposition"]
    assert csv.content.startswith(b"\xef\xbb\xbf")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("leaf_index,id,at,actor_id")
    assert len(lines) == 3 and "KMORNING" in lines[1] and "code_revoked" in lines[2]
    assert "+08:00" in lines[1]
    jsonl = client.get("/audit/export.jsonl", params={"result": "code_revoked"})
    records = [json.loads(line) for line in jsonl.text.splitlines()]
    assert [r["detail"]["code"] for r in records] == ["KREVOKED"]
    assert len(records[0]["leaf_hash"]) == 64
    with app.state.db.session() as session:
        exports = list(
            session.scalars(select(AuditRecord).where(AuditRecord.action == "audit.export"))
        )
    assert [e.detail["format"] for e in exports] == ["csv", "jsonl"]
    assert exports[0].detail["query"] == "action=exchange."


def test_record_page_proof_verifies(
    client: TestClient, app: FastAPI, setup: dict[str, str]
) -> None:
    login(client, "auditor")
    target = _id_of(app, "exchange.denied")
    unsigned = client.get(f"/audit/records/{target.id}")
    assert unsigned.status_code == 200 and "尚未签署树头" in unsigned.text
    head = sign_tree_head(app.state.db)
    assert head is not None
    page = client.get(f"/audit/records/{target.id}")
    assert page.status_code == 200
    assert "KREVOKED" in page.text and "已验证" in page.text and "与记录一致" in page.text
    shown = re.search(r'<pre tabindex="0" id="proof-json"[^>]*>(.*?)</pre>', page.text, re.S)
    assert shown is not None
    proof = json.loads(html.unescape(shown.group(1)))
    assert proof["tree_size"] == head.tree_size and proof["root_hash"] == head.root_hash.hex()
    assert proof["leaf_hash"] == target.leaf_hash.hex()
    path = [bytes.fromhex(p) for p in proof["audit_path"]]
    assert merkle.verify_inclusion(
        bytes.fromhex(proof["leaf_hash"]),
        proof["leaf_index"],
        proof["tree_size"],
        path,
        head.root_hash,
    )
    # the downloadable proof carries what an outsider needs: signed head and public key
    download = client.get(f"/audit/records/{target.id}/proof.json").json()
    signed = merkle.TreeHead(download["tree_size"], head.root_hash, download["timestamp_ms"])
    assert sm2_verify(
        download["public_key"].encode(), signed.signed_data(), bytes.fromhex(download["signature"])
    )
    assert not merkle.verify_inclusion(
        bytes(32), proof["leaf_index"], proof["tree_size"], path, head.root_hash
    )
    # a record written after the head is not covered yet
    with app.state.db.session() as session:
        record(session, None, "test.later", "thing", "1")
    later = _id_of(app, "test.later")
    newer = client.get(f"/audit/records/{later.id}")
    assert "晚于最新已签署树头" in newer.text
    assert client.get(f"/audit/records/{later.id}/proof.json").status_code == 409
    assert client.get("/audit/records/999999").status_code == 404
    assert "/audit/records/" in client.get("/audit").text
