"""Grading on upload, reviewer confirmation (API and page), encryption following the grades."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from sqlalchemy import text

from cityos.audit.models import AuditRecord
from cityos.catalog.models import ResourceItem
from cityos.protection.report import classify_file
from tests.conftest import csrf_of, login
from tests.unit.datastore.conftest import World, csv_bytes
from tests.unit.protection.ids import make_id

ITEMS: list[tuple[Any, ...]] = [
    ("seq", "编号", "integer", True, None),
    ("full_name", "姓名", "string", False, None),
    ("id_number", "公民身份号码", "string", False, 18),
    ("phone", "联系电话", "string", False, None),
    ("district", "所属区", "string", False, None),
]
NAMES = ["张伟", "王芳", "李娜", "刘洋", "陈静", "杨磊", "黄敏", "赵强", "周杰", "吴秀英"]


def people(n: int = 30) -> bytes:
    lines = ["seq,full_name,id_number,phone,district"]
    for i in range(n):
        pid = make_id("460105", f"19{70 + i % 30:02d}0{1 + i % 9}1{i % 9}", f"{i % 1000:03d}")
        lines.append(f"{i + 1},{NAMES[i % 10]},{pid},139{i:08d},美兰区")
    return csv_bytes(lines)


def setup(world: World, **kw: Any) -> str:
    rid = world.resource(items=ITEMS, name="常住人口信息", **kw)
    assert world.upload(rid, people()).status_code in (200, 201)
    return rid


def items(world: World, rid: str) -> dict[str, ResourceItem]:
    with world.db.session() as session:
        rows = session.query(ResourceItem).filter_by(resource_id=rid).all()
        return {i.field: i for i in rows}


def test_upload_proposes_grades_per_item(world: World) -> None:
    rid = setup(world)
    found = items(world, rid)
    assert found["id_number"].proposed_grade == "重要"
    assert found["id_number"].pi_type == "id_card"
    assert found["id_number"].detected[0]["type"] == "id_card"
    assert found["id_number"].detected[0]["ratio"] == 1.0
    assert found["phone"].pi_type == "mobile" and found["phone"].proposed_grade == "一般-4"
    assert found["district"].detected == [] and found["district"].proposed_grade == "一般-1"
    assert all(i.grade == "一般-1" for i in found.values())  # nothing confirmed yet
    listed = world.client.get("/api/v1/protection/proposals", headers=world.headers("reviewer"))
    assert listed.status_code == 200
    entry = next(e for e in listed.json() if e["id"] == rid)
    assert entry["proposed_grade"] == "重要" and entry["grade_status"] == "proposed"
    # the data officer is not a reviewer
    refused = world.client.get("/api/v1/protection/proposals", headers=world.headers("officer_eco"))
    assert refused.status_code == 403
    with world.db.session() as session:
        scans = session.query(AuditRecord).filter_by(action="protection.scan").all()
        assert [s.target_id for s in scans] == [rid]


def test_declared_sensitivity_raises_the_proposal(world: World) -> None:
    rid = world.resource(items=ITEMS, name="常住人口信息")
    with world.db.session() as session:
        item = session.query(ResourceItem).filter_by(resource_id=rid, field="district").one()
        item.sensitivity = "personal"
    world.upload(rid, people())
    assert items(world, rid)["district"].proposed_grade == "一般-3"


def test_confirmation_is_audited_encrypts_and_empties_the_queue(world: World) -> None:
    rid = setup(world)
    h = world.headers("reviewer")
    url = f"/api/v1/protection/resources/{rid}/grades"
    low = world.client.put(
        url, json={"grade": "一般-4", "items": [{"field": "id_number", "grade": "重要"}]}, headers=h
    )
    assert low.status_code == 422 and low.json()["code"] == "grade_below_items"
    body = {
        "grade": "重要",
        "items": [
            {
                "field": "id_number",
                "grade": "重要",
                "pi_type": "id_card",
                "sensitivity": "sensitive_personal",
            },
            {"field": "phone", "grade": "一般-4", "pi_type": "mobile", "sensitivity": "personal"},
            {"field": "full_name", "grade": "一般-3", "pi_type": "name"},
        ],
        "comment": "人口信息",
    }
    done = world.client.put(url, json=body, headers=h)
    assert done.status_code == 200, done.text
    out = done.json()
    assert out["grade"] == "重要" and out["grade_status"] == "confirmed"
    assert out["encryption"] == {"encrypted": ["id_number"], "decrypted": []}
    assert {i["field"]: i["encrypted"] for i in out["items"]}["id_number"] is True
    with world.db.session() as session:
        raw = session.execute(text(f"SELECT id_number, id_number__ct FROM ds_{rid}")).all()
        assert {r[0] for r in raw} == {None} and all(r[1] for r in raw)
        entry = session.query(AuditRecord).filter_by(action="protection.grade.confirm").one()
        assert entry.detail["grade"] == ["一般-1", "重要"]
        assert entry.detail["items"]["id_number"]["old"]["grade"] == "一般-1"
        assert entry.detail["items"]["id_number"]["new"]["grade"] == "重要"
        assert (
            session.query(AuditRecord).filter_by(action="datastore.encryption.change").count() == 1
        )
    listed = world.client.get("/api/v1/protection/proposals", headers=h).json()
    assert rid not in [e["id"] for e in listed]
    # the catalogue API shows the grades
    api = world.client.get(
        f"/api/v1/catalog/resources/{rid}", headers=world.headers("officer_eco")
    ).json()
    assert api["grade"] == "重要" and api["grade_status"] == "confirmed"
    by_field = {i["field"]: i for i in api["items"]}
    assert (
        by_field["id_number"]["grade"] == "重要" and by_field["id_number"]["pi_type"] == "id_card"
    )
    # a reload with the same kind of data proposes nothing new
    world.upload(rid, people(12))
    assert rid not in [
        e["id"] for e in world.client.get("/api/v1/protection/proposals", headers=h).json()
    ]
    # and the encrypted column still answers equality filters
    first = world.records(rid, "officer_eco", limit=1).json()["records"][0]
    again = world.records(rid, "officer_eco", id_number=first["id_number"]).json()
    assert again["total"] >= 1


def test_scan_api_answers_as_the_cli(world: World, tmp_path: Path) -> None:
    data = people(40)
    path = tmp_path / "people.csv"
    path.write_bytes(data)
    out = io.StringIO()
    assert classify_file(path, "json", out=out) == 0
    response = world.client.post(
        "/api/v1/protection/scan",
        files={"file": ("people.csv", io.BytesIO(data))},
        headers=world.headers("citizen"),
    )
    assert response.status_code == 200
    assert response.json() == json.loads(out.getvalue())
    anonymous = world.client.post(
        "/api/v1/protection/scan", files={"file": ("people.csv", io.BytesIO(data))}
    )
    assert anonymous.status_code == 401
    bad = world.client.post(
        "/api/v1/protection/scan",
        files={"file": ("x.xls", io.BytesIO(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"0" * 50))},
        headers=world.headers("citizen"),
    )
    assert bad.status_code == 422


def test_review_page_confirms_and_upload_page_shows_the_notice(world: World) -> None:
    rid = setup(world)
    login(world.client, "officer_eco")
    batch = world.client.get(f"/workbench/loads/{_last_batch(world, rid)}")
    assert batch.status_code == 200 and "待分级确认" in batch.text and "重要" in batch.text
    assert world.client.get("/console/classification").status_code == 403
    world.client.cookies.clear()
    login(world.client, "reviewer")
    page = world.client.get("/console/classification")
    assert page.status_code == 200 and "常住人口信息" in page.text and "公民身份号码" in page.text
    csrf = csrf_of(world.client, "/console/classification")
    form = {
        "csrf": csrf,
        "g:id_number": "重要",
        "t:id_number": "id_card",
        "s:id_number": "sensitive_personal",
        "grade": "一般-4",
    }
    low = world.client.post(f"/console/classification/resources/{rid}", data=form)
    assert low.status_code == 422 and "低于" in low.text
    form["grade"] = "重要"
    done = world.client.post(
        f"/console/classification/resources/{rid}", data=form, follow_redirects=False
    )
    assert done.status_code == 303
    shown = world.client.get(done.headers["location"])
    assert "id_number" in shown.text and "已确认" in shown.text
    resource_page = world.client.get(f"/catalog/{rid}")
    assert "重要" in resource_page.text and "加密存储" in resource_page.text


def test_policies_tab_and_api(world: World) -> None:
    h = world.headers("reviewer")
    got = world.client.get("/api/v1/protection/policies", headers=h).json()
    assert got["by_grade"]["重要"] == "mask"
    put = world.client.put(
        "/api/v1/protection/policies", json={"by_grade": {"重要": "pseudonymize"}}, headers=h
    )
    assert put.status_code == 200 and put.json()["by_grade"]["重要"] == "pseudonymize"
    bad = world.client.put(
        "/api/v1/protection/policies", json={"by_grade": {"重要": "shred"}}, headers=h
    )
    assert bad.status_code == 422
    assert (
        world.client.get(
            "/api/v1/protection/policies", headers=world.headers("officer_eco")
        ).status_code
        == 403
    )
    login(world.client, "admin")
    page = world.client.get("/console/classification/policies")
    assert page.status_code == 200 and "假名化" in page.text
    csrf = csrf_of(world.client, "/console/classification/policies")
    saved = world.client.post(
        "/console/classification/policies",
        data={"csrf": csrf, "m:核心": "suppress", "m:一般-2": "mask"},
        follow_redirects=False,
    )
    assert saved.status_code == 303
    got = world.client.get("/api/v1/protection/policies", headers=h).json()
    assert got["by_grade"]["一般-2"] == "mask" and got["by_grade"]["重要"] == "pseudonymize"


def _last_batch(world: World, rid: str) -> str:
    from cityos.datastore import services as datastore

    return datastore.load_history(world.db, rid, limit=1)[0].id
