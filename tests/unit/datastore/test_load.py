"""Loading files and records: formats, encodings, validation, modes, transactions."""

from __future__ import annotations

import io
import json
from datetime import date, datetime

import pytest
from openpyxl import Workbook
from sqlalchemy import text

from cityos.core.bus import Event
from cityos.datastore import services
from tests.unit.datastore.conftest import AQI_CSV, World, csv_bytes


def stored(world: World, resource_id: str, order: str = "_id") -> list[dict]:
    with world.db.session() as session:
        rows = session.execute(text(f'SELECT * FROM "ds_{resource_id}" ORDER BY {order}'))
        return [dict(r._mapping) for r in rows]


def test_csv_utf8_loads_with_types_and_chinese_headers(world: World) -> None:
    rid = world.resource()
    header = "监测站,所属区,空气质量指数,PM2.5浓度,是否优良,日期,监测时间,备注"
    response = world.upload(rid, csv_bytes([header, *AQI_CSV[1:]]))
    assert response.status_code == 201, response.text
    batch = response.json()
    assert batch["status"] == "succeeded"
    assert (batch["rows_total"], batch["rows_accepted"], batch["rows_rejected"]) == (4, 4, 0)
    assert batch["encoding"] == "utf-8" and batch["format"] == "csv"
    body = world.records(rid, "officer_eco", sort="aqi").json()
    assert body["total"] == 4
    first = body["records"][0]
    assert first["station"] == "海口市监测站" and first["aqi"] == 45 and first["pm25"] == 20.5
    assert first["good"] is True and first["day"] == "2024-05-01"
    # naive times are Beijing time; the API answers with the +08:00 offset
    assert first["measured_at"] == "2024-05-01T08:00:00+08:00"
    by_station = {r["station"]: r for r in body["records"]}
    assert by_station["秀英站"]["day"] == "2024-05-03"
    assert by_station["秀英站"]["measured_at"] == "2024-05-03T08:00:00+08:00"
    assert by_station["秀英站"]["note"] is None
    assert by_station["琼山站"]["good"] is False


def test_csv_with_bom_and_gbk_both_load(world: World) -> None:
    rid = world.resource()
    with_bom = b"\xef\xbb\xbf" + csv_bytes(AQI_CSV[:2])
    response = world.upload(rid, with_bom)
    assert response.status_code == 201, response.text
    assert response.json()["encoding"] == "utf-8-sig"
    gbk = csv_bytes(["监测站,所属区,空气质量指数", "美兰站,美兰区,88"], encoding="gbk")
    response = world.upload(rid, gbk, "gbk.csv")
    assert response.status_code == 201, response.text
    assert response.json()["encoding"] == "gb18030"
    names = [r["station"] for r in stored(world, rid)]
    assert names == ["海口市监测站", "美兰站"]
    assert stored(world, rid)[1]["district"] == "美兰区"


def test_wrong_encoding_is_refused_with_the_offset(world: World) -> None:
    rid = world.resource()
    response = world.upload(rid, "station,aqi\n美兰站,1\n".encode("utf-16"))
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "bad_encoding"
    assert "0" in problem["detail"]
    assert stored(world, rid) == [] if services.table_info(world.db, rid) else True


def test_xlsx_json_and_ndjson_load(world: World) -> None:
    rid = world.resource()
    wb = Workbook()
    ws = wb.active
    ws.append(["station", "空气质量指数", "day", "measured_at", "good"])
    ws.append(["表格站", 77, datetime(2024, 6, 1), datetime(2024, 6, 1, 9, 0), True])
    ws.append([None, None, None, None, None])  # an empty row is skipped
    ws.append(["表格站2", 78.0, date(2024, 6, 2), "2024-06-02 10:00:00", "否"])
    buf = io.BytesIO()
    wb.save(buf)
    response = world.upload(rid, buf.getvalue(), "aqi.xlsx")
    assert response.status_code == 201, response.text
    assert response.json()["rows_accepted"] == 2

    doc = {"records": [{"station": "JSON站", "aqi": 5, "good": False, "pm25": 1.5}]}
    response = world.upload(rid, json.dumps(doc, ensure_ascii=False).encode(), "a.json")
    assert response.status_code == 201, response.text
    plain = [{"station": "数组站", "所属区": "龙华区"}]
    response = world.upload(rid, json.dumps(plain, ensure_ascii=False).encode(), "b.json")
    assert response.status_code == 201, response.text

    lines = ['{"station": "行站1", "aqi": 1}', "", '{"station": "行站2", "day": "2024-01-02"}']
    response = world.upload(rid, "\n".join(lines).encode(), "c.ndjson")
    assert response.status_code == 201, response.text
    rows = {r["station"]: r for r in stored(world, rid)}
    assert set(rows) == {"表格站", "表格站2", "JSON站", "数组站", "行站1", "行站2"}
    assert rows["表格站"]["aqi"] == 77 and rows["表格站2"]["aqi"] == 78
    assert rows["数组站"]["district"] == "龙华区"
    body = world.records(rid, "officer_eco", station="表格站").json()
    assert body["records"][0]["day"] == "2024-06-01"
    assert body["records"][0]["measured_at"] == "2024-06-01T09:00:00+08:00"


def test_bad_rows_are_rejected_with_line_numbers_and_reasons(world: World) -> None:
    rid = world.resource()
    lines = [
        "station,aqi,pm25,good,day,measured_at",
        "甲站,10,1.5,是,2024-01-01,2024-01-01 00:00:00",  # line 2: fine
        "乙站,十,1.5,是,2024-01-01,",  # line 3: aqi
        "",  # line 4: blank, skipped
        ",11,1,1,2024-01-01,",  # line 5: station missing
        '"丙站\n第二行",12,x,1,2024-01-01,',  # lines 6-7: pm25
        "丁站,13,1,maybe,2024-01-01,",  # line 8: boolean
        "戊站,14,1,1,2024-13-01,",  # line 9: date
        "己站,15,1,1,2024-01-01,yesterday",  # line 10: datetime
        "庚站,16,1,1",  # line 11: too few values
        "一个名字超过二十个字符的很长很长很长的监测站名称,17,1,1,2024-01-01,",  # line 12: length
        "辛站, 18 ,1,1,2024-01-01,",  # line 13: fine (spaces)
    ]
    response = world.upload(rid, csv_bytes(lines))
    assert response.status_code == 200, response.text
    batch = response.json()
    assert batch["status"] == "partial"
    assert (batch["rows_total"], batch["rows_accepted"], batch["rows_rejected"]) == (10, 2, 8)
    rejected = {r["row_number"]: r for r in batch["rejected"]}
    assert list(rejected) == [3, 5, 6, 8, 9, 10, 11, 12]
    assert rejected[3]["reason_id"] == "{column}: '{value}' is not an integer."
    assert rejected[3]["params"] == {"column": "aqi", "value": "十"}
    assert rejected[3]["reason"] == "aqi：“十”不是整数。"
    assert rejected[3]["raw"]["station"] == "乙站"
    assert rejected[5]["params"]["column"] == "station"
    assert "不是数值" in rejected[6]["reason"]
    assert rejected[8]["params"]["value"] == "maybe"
    assert rejected[9]["params"]["column"] == "day"
    assert rejected[10]["params"]["column"] == "measured_at"
    assert rejected[11]["params"] == {"count": 4, "expected": 6}
    assert rejected[12]["params"]["length"] == 20
    assert [r["station"] for r in stored(world, rid)] == ["甲站", "辛站"]
    # the batch endpoint lists the same rows, paged
    page = world.client.get(
        f"/api/v1/datastore/batches/{batch['id']}?limit=2&offset=1",
        headers=world.headers("officer_eco"),
    ).json()
    assert [r["row_number"] for r in page["rejected"]] == [5, 6]
    en = world.client.get(
        f"/api/v1/datastore/batches/{batch['id']}",
        headers={**world.headers("officer_eco"), "Accept-Language": "en"},
    ).json()
    assert en["rejected"][0]["reason"] == "aqi: '十' is not an integer."


def test_all_or_nothing_writes_nothing_and_lists_every_bad_row(world: World) -> None:
    rid = world.resource()
    world.upload(rid, csv_bytes(["station,aqi", "旧站,1"]))
    lines = ["station,aqi", "甲站,1", "乙站,x", "丙站,2", "丁站,y"]
    response = world.upload(rid, csv_bytes(lines), on_error="all_or_nothing")
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "load_failed"
    batch = problem["batch"]
    assert batch["status"] == "failed" and batch["rows_accepted"] == 0
    assert [r["row_number"] for r in batch["rejected"]] == [3, 5]
    assert [r["station"] for r in stored(world, rid)] == ["旧站"]
    # the failed batch is kept, with its rejected rows
    assert services.get_batch(world.db, batch["id"]) is not None


def test_upsert_by_key_last_row_wins(world: World) -> None:
    rid = world.resource(key_fields=["station"])
    world.upload(rid, csv_bytes(["station,aqi,note", "甲站,1,旧", "乙站,2,旧"]))
    lines = ["station,aqi", "甲站,10", "丙站,30", "甲站,11"]
    response = world.upload(rid, csv_bytes(lines), mode="upsert")
    assert response.status_code == 201, response.text
    rows = {r["station"]: r for r in stored(world, rid)}
    assert rows["甲站"]["aqi"] == 11
    assert rows["甲站"]["note"] == "旧"  # a column that is not in the file keeps its value
    assert rows["乙站"]["aqi"] == 2 and rows["丙站"]["aqi"] == 30
    assert len(rows) == 3
    info = services.table_info(world.db, rid)
    assert info is not None and info.row_count == 3


def test_append_refuses_a_duplicate_key(world: World) -> None:
    rid = world.resource(key_fields=["station"])
    world.upload(rid, csv_bytes(["station,aqi", "甲站,1"]))
    response = world.upload(rid, csv_bytes(["station,aqi", "乙站,2", "甲站,3", "乙站,4"]))
    assert response.status_code == 200, response.text
    batch = response.json()
    assert batch["rows_accepted"] == 1
    assert [(r["row_number"], r["reason_id"]) for r in batch["rejected"]] == [
        (3, "A record with the same key already exists ({key})."),
        (4, "A record with the same key already exists ({key})."),
    ]
    assert {r["station"]: r["aqi"] for r in stored(world, rid)} == {"甲站": 1, "乙站": 2}


def test_upsert_without_key_fields_is_refused(world: World) -> None:
    rid = world.resource()
    response = world.upload(rid, csv_bytes(["station", "甲站"]), mode="upsert")
    assert response.status_code == 422
    assert response.json()["code"] == "no_key_fields"


def test_replace_swaps_all_data_and_a_failed_replace_keeps_the_old(world: World) -> None:
    rid = world.resource()
    world.upload(rid, csv_bytes(["station,aqi", "旧一,1", "旧二,2"]))
    response = world.upload(rid, csv_bytes(["station,aqi", "新站,3"]), mode="replace")
    assert response.status_code == 201
    assert [r["station"] for r in stored(world, rid)] == ["新站"]
    # every row bad: nothing accepted, so the replace fails and the data stays
    response = world.upload(rid, csv_bytes(["station,aqi", "坏站,x"]), mode="replace")
    assert response.status_code == 422 and response.json()["batch"]["status"] == "failed"
    response = world.upload(
        rid,
        csv_bytes(["station,aqi", "好站,1", "坏站,x"]),
        mode="replace",
        on_error="all_or_nothing",
    )
    assert response.status_code == 422
    assert [r["station"] for r in stored(world, rid)] == ["新站"]
    info = services.table_info(world.db, rid)
    assert info is not None and info.row_count == 1


def test_oversize_upload_is_413(world: World) -> None:
    world.app.state.settings.max_upload_mb = 1
    rid = world.resource()
    big = csv_bytes(["station,note"] + [f"站{i},{'x' * 100}" for i in range(12_000)])
    assert len(big) > 1 << 20
    response = world.upload(rid, big)
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"
    # the service enforces the limit on streams that do not announce their size
    with pytest.raises(Exception) as info:
        services.load_file(
            world.db,
            rid,
            io.BytesIO(big),
            filename="big.csv",
            actor=world.principal("officer_eco"),
            max_bytes=1 << 20,
        )
    assert getattr(info.value, "code", None) == "payload_too_large"


def test_unknown_and_missing_columns_are_422_before_loading(world: World) -> None:
    rid = world.resource()
    response = world.upload(rid, csv_bytes(["station,aqi,color,重量", "甲站,1,red,2"]))
    assert response.status_code == 422
    problem = response.json()
    assert problem["code"] == "unknown_columns"
    assert "color" in problem["detail"] and "重量" in problem["detail"]
    assert services.table_info(world.db, rid) is None  # nothing was created or loaded
    response = world.upload(rid, csv_bytes(["aqi", "1"]))
    assert response.status_code == 422
    assert response.json()["code"] == "missing_columns"
    assert "station" in response.json()["detail"]


def test_records_api_loads_and_needs_an_officer_of_the_provider(world: World) -> None:
    rid = world.resource()
    body = {"records": [{"station": "接口站", "aqi": 9}, {"station": "坏", "aqi": "x"}]}
    url = f"/api/v1/datastore/{rid}/records"
    response = world.client.post(url, json=body, headers=world.headers("officer_eco"))
    assert response.status_code == 200, response.text
    batch = response.json()
    assert batch["source"] == "api" and batch["rows_accepted"] == 1
    assert batch["rejected"][0]["row_number"] == 2
    assert (
        world.client.post(url, json=body, headers=world.headers("officer_water")).status_code == 403
    )
    assert world.client.post(url, json=body, headers=world.headers("citizen")).status_code == 403
    assert world.client.post(url, json=body).status_code == 401
    ok = {"records": [{"station": "接口站2"}], "mode": "append"}
    assert world.client.post(url, json=ok, headers=world.headers("admin")).status_code == 201


def test_a_load_publishes_an_event_audits_and_updates_the_table(world: World) -> None:
    events: list[Event] = []
    world.app.state.bus.subscribe("datastore.loaded", events.append)
    rid = world.resource()
    batch = world.upload(rid, csv_bytes(AQI_CSV)).json()
    assert [e.payload for e in events] == [
        {"resource_id": rid, "batch_id": batch["id"], "rows_accepted": 4}
    ]
    info = services.table_info(world.db, rid)
    assert info is not None and info.row_count == 4 and info.data_updated_at is not None
    from cityos.audit.services import recent

    with world.db.session() as session:
        total, entries = recent(session, action="datastore.load", target_id=rid)
    assert total == 1 and entries[0].detail["batch_id"] == batch["id"]


def test_new_items_add_columns_on_the_next_load(world: World) -> None:
    rid = world.resource(items=[("station", "监测站", "string", True, None)])
    world.upload(rid, csv_bytes(["station", "甲站"]))
    world.add_item(rid, "level", "水位", "number")
    response = world.upload(rid, csv_bytes(["station,水位", "乙站,3.5"]))
    assert response.status_code == 201, response.text
    rows = stored(world, rid)
    assert [(r["station"], r["level"]) for r in rows] == [("甲站", None), ("乙站", 3.5)]


def test_a_crash_mid_load_leaves_no_rows(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    from cityos.datastore import load

    rid = world.resource()
    world.upload(rid, csv_bytes(["station", "旧站"]))
    monkeypatch.setattr(load, "CHUNK_ROWS", 2)
    calls = {"n": 0}
    original = load._finish

    def crash(*args: object, **kwargs: object) -> None:
        calls["n"] += 1
        raise RuntimeError("power cut")

    monkeypatch.setattr(load, "_finish", crash)
    with pytest.raises(RuntimeError):
        services.load_file(
            world.db,
            rid,
            io.BytesIO(csv_bytes(["station", "一", "二", "三", "四", "五"])),
            filename="x.csv",
            actor=world.principal("officer_eco"),
        )
    monkeypatch.setattr(load, "_finish", original)
    assert [r["station"] for r in stored(world, rid)] == ["旧站"]
    assert len(services.load_history(world.db, rid)) == 1


def test_gbk_after_the_first_mebibyte_restarts_as_gb18030(world: World) -> None:
    rid = world.resource()
    ascii_rows = [f"station{i},{i}" for i in range(80_000)]  # > 1 MiB of plain ASCII
    content = csv_bytes(["station,aqi", *ascii_rows, "美兰站,5"], encoding="gbk")
    assert len(content) > 1 << 20
    response = world.upload(rid, content)
    assert response.status_code == 201, response.text
    assert response.json()["encoding"] == "gb18030"
    assert response.json()["rows_accepted"] == 80_001
    assert world.records(rid, "officer_eco", station="美兰站").json()["total"] == 1
    info = services.table_info(world.db, rid)
    assert info is not None and info.row_count == 80_001


def test_broken_documents_and_lines(world: World) -> None:
    rid = world.resource()
    response = world.upload(rid, b'[{"station": "a"}, {"station": ', "broken.json")
    assert response.status_code == 422 and response.json()["code"] == "bad_json"
    response = world.upload(rid, b"PK\x03\x04 not really a workbook", "fake.xlsx")
    assert response.status_code == 422 and response.json()["code"] == "bad_xlsx"
    response = world.upload(rid, b"station\n", "empty.csv")
    assert response.status_code == 422 and response.json()["code"] == "no_rows"
    response = world.upload(rid, b"%PDF-1.4", "report.pdf")
    assert response.status_code == 415 and response.json()["code"] == "unsupported_format"
    lines = ['{"station": "好"}', "{not json}", '["a list"]', '{"station": "也好", "aqi": [1]}']
    response = world.upload(rid, "\n".join(lines).encode(), "rows.ndjson")
    assert response.status_code == 200, response.text
    rejected = {r["row_number"]: r for r in response.json()["rejected"]}
    assert set(rejected) == {2, 3, 4}
    assert rejected[2]["reason_id"] == "Invalid JSON: {error}"
    assert rejected[3]["reason_id"] == "The record is not a JSON object."
    assert rejected[4]["params"]["column"] == "aqi"
    assert [r["station"] for r in stored(world, rid)] == ["好"]


def test_upsert_on_a_large_file_and_duplicates_across_chunks(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cityos.datastore import load

    monkeypatch.setattr(load, "CHUNK_ROWS", 3)
    rid = world.resource(key_fields=["station"])
    lines = ["station,aqi"] + [f"站{i % 4},{i}" for i in range(10)]
    response = world.upload(rid, csv_bytes(lines), mode="upsert")
    assert response.status_code == 201, response.text
    assert {r["station"]: r["aqi"] for r in stored(world, rid)} == {
        "站0": 8,
        "站1": 9,
        "站2": 6,
        "站3": 7,
    }
    # append: a key seen in an earlier chunk (or already stored) is refused, with its values
    response = world.upload(rid, csv_bytes(["station,aqi", "新1,1", "新2,2", "新3,3", "新1,4"]))
    batch = response.json()
    assert batch["rows_accepted"] == 3
    assert [(r["row_number"], r["raw"]) for r in batch["rejected"]] == [
        (5, {"station": "新1", "aqi": 4})
    ]
