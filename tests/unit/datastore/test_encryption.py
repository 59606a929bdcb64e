"""Column encryption at rest: no plaintext in the ds_ table, equality through the blind index,
refusals for what ciphertext cannot do, rotation, tampering, and conversion in place."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text

from cityos.catalog.models import ResourceItem
from cityos.core.errors import ProblemError
from cityos.crypto import envelope
from cityos.crypto.envelope import blob_key_id, decrypt_value
from cityos.datastore import services as datastore
from cityos.datastore.crypt import purpose
from cityos.datastore.models import DatastoreTable
from tests.unit.datastore.conftest import World, csv_bytes
from tests.unit.protection.ids import make_id

PEOPLE_ITEMS: list[tuple[Any, ...]] = [
    ("seq", "编号", "integer", True, None),
    ("full_name", "姓名", "string", False, None),
    ("id_number", "公民身份号码", "string", False, 18),
    ("birth", "出生日期", "date", False, None),
    ("district", "所属区", "string", False, None),
]
IDS = [make_id("460105", f"1990010{d}", f"12{d}") for d in range(1, 8)]


def people_csv(n: int = 5) -> bytes:
    lines = ["seq,full_name,id_number,birth,district"]
    names = ["张三", "李四", "王五", "赵六", "陈七", "林八", "符九"]
    for i in range(n):
        lines.append(f"{i + 1},{names[i]},{IDS[i]},1990-01-0{i + 1},美兰区")
    return csv_bytes(lines)


def make_people(world: World, *, sensitive: bool = True, key: list[str] | None = None) -> str:
    rid = world.resource(items=PEOPLE_ITEMS, key_fields=key or [], name="常住人口信息")
    if sensitive:
        with world.db.session() as session:
            item = session.query(ResourceItem).filter_by(resource_id=rid, field="id_number").one()
            item.sensitivity = "sensitive_personal"
    return rid


def raw(world: World, rid: str, sql: str) -> list[Any]:
    with world.db.session() as session:
        return list(session.execute(text(sql.format(t=f"ds_{rid}"))).all())


def test_raw_table_holds_no_plaintext_and_decrypts(world: World) -> None:
    rid = make_people(world)
    assert world.upload(rid, people_csv()).status_code in (200, 201)
    rows = raw(
        world, rid, 'SELECT "_id", id_number, id_number__ct, id_number__bi FROM {t} ORDER BY "_id"'
    )
    assert len(rows) == 5
    with world.db.session() as session:
        for (_row_id, plain, blob, index), expected in zip(rows, IDS, strict=False):
            assert plain is None  # the typed column stays empty
            blob = bytes(blob)
            assert expected.encode() not in blob and expected not in blob.hex()
            aad = f"cityos/ds/v1\x00{rid}\x00id_number".encode()
            assert decrypt_value(session, blob, aad=aad).decode() == expected
            assert len(index) == 32 and expected not in index
        record = session.get(DatastoreTable, rid)
        assert record is not None and record.encrypted["fields"] == ["id_number"]
    # other fields stay as they were
    assert raw(world, rid, 'SELECT full_name FROM {t} ORDER BY "_id"')[0][0] == "张三"
    # reads decrypt transparently
    body = world.records(rid, "officer_eco", sort="seq").json()
    assert [r["id_number"] for r in body["records"]] == IDS[:5]


def test_equality_filter_works_and_ranges_are_refused(world: World) -> None:
    rid = make_people(world)
    world.upload(rid, people_csv())
    hit = world.records(rid, "officer_eco", id_number=IDS[2]).json()
    assert [r["full_name"] for r in hit["records"]] == ["王五"] and hit["total"] == 1
    several = world.records(rid, "officer_eco", id_number__in=f"{IDS[0]},{IDS[4]}").json()
    assert sorted(r["seq"] for r in several["records"]) == [1, 5]
    other = world.records(rid, "officer_eco", id_number__ne=IDS[0]).json()
    assert other["total"] == 4
    assert world.records(rid, "officer_eco", id_number="460105199001011239").json()["total"] == 0
    for params in (
        {"id_number__gt": IDS[0]},
        {"id_number__contains": "4601"},
        {"sort": "id_number"},
        {"sort": "-id_number"},
    ):
        refused = world.records(rid, "officer_eco", **params)
        assert refused.status_code == 422, params
        assert refused.json()["code"] == "field_encrypted"
    en = world.client.get(
        f"/api/v1/datastore/{rid}/records",
        params={"id_number__lt": "5"},
        headers={**world.headers("officer_eco"), "Accept-Language": "en"},
    )
    assert "stored encrypted" in en.json()["detail"]
    # full-text search does not see ciphertext, and does not fail
    assert world.records(rid, "officer_eco", q="张三").json()["total"] == 1


def test_exports_decrypt(world: World) -> None:
    rid = make_people(world)
    world.upload(rid, people_csv())
    csv = world.client.get(
        f"/api/v1/datastore/{rid}/export.csv", headers=world.headers("officer_eco")
    )
    assert csv.status_code == 200 and IDS[0] in csv.text
    _media, _name, chunks = datastore.export(world.db, rid, "ndjson", filters={"id_number": IDS[1]})
    body = b"".join(chunks).decode()
    assert IDS[1] in body and IDS[0] not in body


def test_upsert_by_an_encrypted_key(world: World) -> None:
    rid = make_people(world, key=["id_number"])
    world.upload(rid, people_csv(3))
    again = csv_bytes(["seq,full_name,id_number", f"9,改名,{IDS[0]}", f"4,新人,{IDS[5]}"])
    assert world.upload(rid, again, mode="upsert").status_code in (200, 201)
    body = world.records(rid, "officer_eco", sort="seq").json()
    assert [(r["seq"], r["full_name"]) for r in body["records"]] == [
        (2, "李四"),
        (3, "王五"),
        (4, "新人"),
        (9, "改名"),
    ]
    # append refuses a key already stored, found through the blind index
    dup = world.upload(rid, csv_bytes(["seq,id_number", f"10,{IDS[1]}", f"11,{IDS[6]}"]))
    assert dup.json().get("rows_rejected") == 1, dup.json()


def test_rotation_keeps_reads_working_and_moves_old_rows(world: World) -> None:
    rid = make_people(world)
    world.upload(rid, people_csv(3))
    first = raw(world, rid, 'SELECT id_number__ct FROM {t} ORDER BY "_id"')
    old_key = blob_key_id(bytes(first[0][0]))
    with world.db.session() as session:
        new_key = envelope.rotate_data_key(session, purpose(rid))
    assert new_key != old_key
    world.upload(rid, csv_bytes(["seq,id_number", f"4,{IDS[3]}"]))
    keys = [
        blob_key_id(bytes(r[0]))
        for r in raw(world, rid, 'SELECT id_number__ct FROM {t} ORDER BY "_id"')
    ]
    assert keys == [old_key, old_key, old_key, new_key]
    assert [
        r["id_number"] for r in world.records(rid, "officer_eco", sort="seq").json()["records"]
    ] == IDS[:4]
    envelope.clear_cache()  # a fresh process: keys come unwrapped from the database
    assert datastore.reencrypt_all(world.db) == {rid: 3}
    keys = {blob_key_id(bytes(r[0])) for r in raw(world, rid, "SELECT id_number__ct FROM {t}")}
    assert keys == {new_key}
    assert world.records(rid, "officer_eco", id_number=IDS[1]).json()["total"] == 1


def test_tampered_or_moved_ciphertext_is_an_error_not_garbage(world: World) -> None:
    rid = make_people(world)
    world.upload(rid, people_csv(2))
    rows = raw(world, rid, 'SELECT "_id", id_number__ct FROM {t} ORDER BY "_id"')
    blob = bytearray(bytes(rows[0][1]))
    blob[-1] ^= 0x01
    with world.db.session() as session:
        session.execute(
            text(f'UPDATE ds_{rid} SET id_number__ct = :b WHERE "_id" = :i'),
            {"b": bytes(blob), "i": rows[0][0]},
        )
    with pytest.raises(ProblemError) as exc:
        datastore.query(world.db, rid)
    assert exc.value.code == "decryption_failed"
    # a valid ciphertext of another column/table does not decrypt here either
    with world.db.session() as session:
        other = envelope.encrypt_value(session, purpose(rid), IDS[0].encode(), aad=b"elsewhere")
        session.execute(
            text(f'UPDATE ds_{rid} SET id_number__ct = :b WHERE "_id" = :i'),
            {"b": other, "i": rows[0][0]},
        )
    with pytest.raises(ProblemError):
        datastore.query(world.db, rid, fields=["id_number"])


def test_grade_change_encrypts_and_decrypts_in_place(world: World) -> None:
    rid = make_people(world, sensitive=False, key=["id_number"])
    world.upload(rid, people_csv())
    assert raw(world, rid, 'SELECT id_number FROM {t} ORDER BY "_id"')[0][0] == IDS[0]

    def set_grade(grade: str) -> Any:
        def change(session: Any) -> None:
            item = session.query(ResourceItem).filter_by(resource_id=rid, field="id_number").one()
            item.grade = grade

        return datastore.change_with_encryption(world.db, rid, change)

    _none, changed = set_grade("重要")
    assert changed == {"encrypted": ["id_number"], "decrypted": []}
    assert {r[0] for r in raw(world, rid, "SELECT id_number FROM {t}")} == {None}
    assert world.records(rid, "officer_eco", id_number=IDS[3]).json()["total"] == 1
    dup = world.upload(rid, csv_bytes(["seq,id_number", f"10,{IDS[1]}", f"11,{IDS[6]}"]))
    assert dup.json().get("rows_rejected") == 1, (
        dup.json()
    )  # the unique key moved to the blind index
    _none, changed = set_grade("一般-3")
    assert changed == {"encrypted": [], "decrypted": ["id_number"]}
    plain = raw(
        world, rid, 'SELECT id_number, id_number__ct, id_number__bi FROM {t} ORDER BY "_id"'
    )
    assert [r[0] for r in plain] == [*IDS[:5], IDS[6]] and {r[1] for r in plain} == {None}
    assert world.records(rid, "officer_eco", sort="-id_number").status_code == 200


def test_a_removed_item_stays_encrypted(world: World) -> None:
    rid = make_people(world)
    world.upload(rid, people_csv(2))
    with world.db.session() as session:
        session.query(ResourceItem).filter_by(resource_id=rid, field="id_number").delete()
    world.upload(rid, csv_bytes(["seq,full_name", "3,新人"]))
    rows = raw(world, rid, 'SELECT id_number, id_number__ct FROM {t} ORDER BY "_id"')
    assert [r[0] for r in rows] == [None, None, None]
    assert all(r[1] for r in rows[:2])
    assert datastore.encrypted_fields_of(world.db, rid) == ["id_number"]


def test_declaring_an_item_sensitive_encrypts_the_stored_column_at_once(world: World) -> None:
    rid = make_people(world, sensitive=False)
    world.upload(rid, people_csv(3))
    h = world.headers("officer_eco")
    current = world.client.get(f"/api/v1/catalog/resources/{rid}", headers=h).json()
    keep = (
        "field",
        "name",
        "data_type",
        "length",
        "description",
        "sensitivity",
        "unit",
        "required",
    )
    items = [{k: i[k] for k in keep} for i in current["items"]]
    for item in items:
        if item["field"] == "id_number":
            item["sensitivity"] = "sensitive_personal"
    patched = world.client.patch(
        f"/api/v1/catalog/resources/{rid}", json={"items": items}, headers=h
    )
    assert patched.status_code == 200, patched.text
    rows = raw(world, rid, 'SELECT id_number, id_number__ct FROM {t} ORDER BY "_id"')
    assert [r[0] for r in rows] == [None, None, None] and all(r[1] for r in rows)
    assert world.records(rid, "officer_eco", id_number=IDS[1]).json()["total"] == 1
