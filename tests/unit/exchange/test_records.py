"""The record exchange: granted items and rows only, masked, exported only when granted, audited."""

from __future__ import annotations

import csv
import io
import json

from tests.unit.exchange.conftest import PEOPLE, World, exchange_records

CONTRACT = {
    "code",
    "consumer_org_id",
    "provider_org_id",
    "resource_id",
    "service_id",
    "items",
    "rows",
    "row_ids",
    "purpose",
    "result",
    "ip",
    "filters",
}


def test_only_granted_items_and_masked(world: World) -> None:
    gid = world.grant(world.people())
    _key_id, code = world.code(gid)
    r = world.call(code, sort="age", limit=5)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [f["id"] for f in body["fields"]] == ["_id", "id_card", "name", "district", "age"]
    first = body["records"][0]
    assert set(first) == {"_id", "id_card", "name", "district", "age"}
    assert first["id_card"] == "4601**********0000"  # 46010019900101 0000
    assert first["name"] == "王*"
    assert first["age"] == 20 and first["district"] == "秀英区"
    assert {f["id"]: f.get("masking") for f in body["fields"]}["id_card"] == "mask"
    assert body["total"] == len(PEOPLE)
    for name in ("mobile", "note"):
        r = world.call(code, fields=f"name,{name}")
        assert (r.status_code, r.json()["code"]) == (403, "item_not_granted")
        r = world.call(code, **{name: "x"})
        assert (r.status_code, r.json()["code"]) == (403, "item_not_granted")
        r = world.call(code, sort=name)
        assert r.status_code == 403


def test_masked_items_match_exactly_only(world: World) -> None:
    gid = world.grant(world.people())
    _key_id, code = world.code(gid)
    r = world.call(code, id_card="460100199001010005")
    assert r.status_code == 200 and r.json()["total"] == 1
    assert r.json()["records"][0]["id_card"] == "4601**********0005"
    r = world.call(code, name="王伟")
    assert r.json()["total"] == 2
    for params in ({"name__contains": "王"}, {"sort": "name"}, {"id_card__gte": "4"}):
        r = world.call(code, **params)
        assert r.status_code in (403, 422), params
    # q searches the unmasked granted text items only: names are masked
    assert world.call(code, q="王伟").json()["total"] == 0
    assert world.call(code, q="美兰").json()["total"] == 3


def test_row_scope_is_applied(world: World) -> None:
    gid = world.grant(world.people(), row_scope={"district": ["美兰区", "龙华区"]})
    _key_id, code = world.code(gid)
    body = world.call(code, limit=100).json()
    assert body["total"] == 6
    assert {r["district"] for r in body["records"]} == {"美兰区", "龙华区"}
    # the caller's filter is ANDed with the scope: another district gives nothing
    assert world.call(code, district="秀英区").json()["total"] == 0
    assert world.call(code, district="美兰区").json()["total"] == 3


def test_scope_on_a_missing_field_is_refused(world: World) -> None:
    gid = world.grant(world.people(), row_scope={"street": ["海甸街道"]})
    _key_id, code = world.code(gid)
    r = world.call(code)
    assert (r.status_code, r.json()["code"]) == (403, "scope_unenforceable")


def test_pseudonyms_are_stable_within_a_grant_and_differ_across(world: World) -> None:
    rid = world.people()
    masking = {"by_type": {"id_card": "pseudonymize"}}
    g1 = world.grant(rid, masking=masking)
    g2 = world.grant(rid, consumer=world.health, masking=masking)
    _k1, c1 = world.code(g1)
    _k2, c2 = world.code(g2, username="officer_health")

    def ids(code: str) -> list[str]:
        body = world.call(code, sort="age", limit=3, fields="id_card").json()
        return [r["id_card"] for r in body["records"]]

    first, again, other = ids(c1), ids(c1), ids(c2)
    assert first == again
    assert all(len(p) == 64 for p in first)
    assert not set(first) & set(other)


def test_export_only_when_granted(world: World) -> None:
    rid = world.people()
    no = world.code(world.grant(rid))[1]
    r = world.call(no, "/export", format="csv")
    assert (r.status_code, r.json()["code"]) == (403, "export_not_granted")
    yes = world.code(
        world.grant(rid, consumer=world.health, allow_export=True), username="officer_health"
    )[1]
    r = world.call(yes, "/export", format="csv", district="美兰区")
    assert r.status_code == 200
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert len(rows) == 3 and set(rows[0]) == {"id_card", "name", "district", "age"}
    assert all("**********" in row["id_card"] for row in rows)
    r = world.call(yes, "/export", format="ndjson")
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert len(lines) == len(PEOPLE) and "mobile" not in lines[0]
    exported = exchange_records(world.app, "exchange.export")
    assert [e.detail["result"] for e in exported] == ["export_not_granted", "ok", "ok"]
    assert exported[1].detail["rows"] == 3 and len(exported[1].detail["row_ids"]) == 3
    assert exported[1].detail["format"] == "csv"


def test_every_call_writes_exactly_one_audit_record(world: World) -> None:
    gid = world.grant(world.people())
    key_id, code = world.code(gid)
    before = len(exchange_records(world.app))
    ok = world.call(code, district="美兰区", limit=2)
    bad_item = world.call(code, fields="mobile")
    unknown = world.call("cos_" + "0" * 65)
    assert (ok.status_code, bad_item.status_code, unknown.status_code) == (200, 403, 401)
    assert world.call(code, "/grant").status_code == 200
    made = exchange_records(world.app)[before:]
    assert [m.action for m in made] == [
        "exchange.records",
        "exchange.records",
        "exchange.denied",
        "exchange.grant",
    ]
    first = made[0]
    assert first.actor_id is None and first.target_type == "grant" and first.target_id == gid
    assert set(first.detail) >= CONTRACT
    assert first.detail["code"] == key_id and first.detail["result"] == "ok"
    assert first.detail["rows"] == 2 and first.detail["row_ids"] == [
        r["_id"] for r in ok.json()["records"]
    ]
    assert first.detail["items"] == ["_id", "id_card", "name", "district", "age"]
    assert first.detail["purpose"] == "最低生活保障资格核验"
    assert first.detail["filters"]["district"] == "美兰区"
    assert first.detail["consumer_org_id"] == world.civil
    assert first.detail["provider_org_id"] == world.police
    assert made[1].detail["result"] == "item_not_granted" and made[1].detail["rows"] == 0
    assert made[2].target_type == "code" and made[2].detail["result"] == "code_invalid"
    assert set(made[2].detail) >= CONTRACT


def test_grant_endpoint_describes_what_the_code_may_use(world: World) -> None:
    gid = world.grant(world.people(), row_scope={"district": ["美兰区"]})
    key_id, code = world.code(gid)
    body = world.call(code, "/grant").json()
    assert body["grant_id"] == gid and body["code"] == key_id
    assert [i["field"] for i in body["items"]] == ["id_card", "name", "district", "age"]
    assert {i["field"]: i["masking"] for i in body["items"]}["id_card"] == "mask"
    assert body["row_scope"] == {"district": ["美兰区"]}
    assert body["allow_export"] is False


def test_a_departments_own_token_does_not_open_another_departments_data(world: World) -> None:
    rid = world.people()  # 有条件共享 by 市公安局
    world.grant(rid)  # granted to 市民政局: through codes only
    headers = world.headers("officer_civil")
    r = world.client.get(f"/api/v1/datastore/{rid}/records", headers=headers)
    assert (r.status_code, r.json()["code"]) == (403, "no_data_access")
    r = world.client.get("/api/v1/exchange/records", headers=headers)  # an API token, no code
    assert r.status_code == 401 and r.json()["code"] in ("code_invalid", "code_missing")
    r = world.client.get("/api/v1/exchange/records")
    assert (r.status_code, r.json()["code"]) == (401, "code_missing")
    # the provider reads its own data in clear through the datastore
    own = world.client.get(
        f"/api/v1/datastore/{rid}/records",
        params={"limit": 1, "sort": "_id"},
        headers=world.headers("officer_police"),
    )
    assert own.json()["records"][0]["id_card"] == PEOPLE[0]["id_card"]


def test_audit_keeps_looked_up_values_masked(world: World) -> None:
    gid = world.grant(world.people())
    _key_id, code = world.code(gid)
    assert world.call(code, id_card="460100199001010005", district="美兰区").status_code == 200
    assert world.call(code, mobile="13800130001").status_code == 403
    made = exchange_records(world.app, "exchange.records")
    assert made[-2].detail["filters"]["id_card"] == "4601**********0005"
    assert made[-2].detail["filters"]["district"] == "美兰区"
    assert made[-1].detail["filters"] == {"mobile": "***"}
    assert "460100199001010005" not in made[-2].detail_json
    assert "13800130001" not in made[-1].detail_json
