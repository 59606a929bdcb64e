"""Querying and exporting records; who may read them."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook

from cityos.datastore import services
from tests.unit.datastore.conftest import AQI_CSV, World, csv_bytes

ROWS = [
    "station,district,aqi,pm25,good,day,measured_at,note",
    "海口站,龙华区,45,20.5,是,2024-05-01,2024-05-01 08:00:00,江东新区",
    "美兰站,美兰区,120,80.1,否,2024-05-02,2024-05-02 09:30:00,有霾",
    "秀英站,秀英区,60,30,是,2024-05-03,2024-05-03 10:00:00,",
    "琼山站,琼山区,101,55.5,否,2024-05-04,2024-05-04 10:00:00,江边 50%_x",
    "演丰站,美兰区,,12,是,2024-05-05,2024-05-05 10:00:00,红树林",
]


@pytest.fixture
def aqi(world: World) -> str:
    rid = world.resource(open_type="unconditional", key_fields=["station"])
    response = world.upload(rid, csv_bytes(ROWS))
    assert response.status_code == 201, response.text
    return rid


def stations(body: dict) -> list[str]:
    return [r["station"] for r in body["records"]]


def test_filters_ranges_lists_contains(world: World, aqi: str) -> None:
    assert stations(world.records(aqi, district="美兰区").json()) == ["美兰站", "演丰站"]
    body = world.records(aqi, aqi__gte="100").json()
    assert stations(body) == ["美兰站", "琼山站"] and body["total"] == 2
    assert stations(world.records(aqi, aqi__lt="60").json()) == ["海口站"]
    assert stations(world.records(aqi, aqi__lte="60", aqi__gt="45").json()) == ["秀英站"]
    assert stations(world.records(aqi, district__in="秀英区,琼山区").json()) == ["秀英站", "琼山站"]
    both = world.client.get(
        f"/api/v1/datastore/{aqi}/records?district=秀英区&district=龙华区"
    ).json()
    assert stations(both) == ["海口站", "秀英站"]
    assert stations(world.records(aqi, note__contains="江").json()) == ["海口站", "琼山站"]
    # LIKE wildcards in the value are literal
    assert stations(world.records(aqi, note__contains="%_").json()) == ["琼山站"]
    assert stations(world.records(aqi, note__contains="50%").json()) == ["琼山站"]
    ne = world.records(aqi, district__ne="美兰区").json()
    assert stations(ne) == ["海口站", "秀英站", "琼山站"]
    assert stations(world.records(aqi, good="否").json()) == ["美兰站", "琼山站"]
    assert stations(world.records(aqi, good="true", pm25__gt="25").json()) == ["秀英站"]
    assert stations(world.records(aqi, day__gte="2024/05/04").json()) == ["琼山站", "演丰站"]
    # datetimes: naive = Beijing time; with an offset, as given
    assert stations(world.records(aqi, measured_at__lt="2024-05-01T09:00:00").json()) == ["海口站"]
    later = world.records(aqi, measured_at__gte="2024-05-05T02:00:00Z").json()
    assert stations(later) == ["演丰站"]
    assert stations(world.records(aqi, aqi="").json()) == ["演丰站"]  # empty: no value


def test_q_sort_paging_and_fields(world: World, aqi: str) -> None:
    assert stations(world.records(aqi, q="江").json()) == ["海口站", "琼山站"]
    assert stations(world.records(aqi, q="美兰 红树").json()) == ["演丰站"]
    # no value sorts as the largest, on both backends (PostgreSQL's order)
    assert stations(world.records(aqi, sort="aqi desc").json()) == [
        "演丰站",
        "美兰站",
        "琼山站",
        "秀英站",
        "海口站",
    ]
    assert stations(world.records(aqi, sort="aqi").json())[-1] == "演丰站"
    assert stations(world.records(aqi, sort="-pm25").json())[0] == "美兰站"
    body = world.records(aqi, sort="district, aqi desc", limit=2, offset=1).json()
    assert stations(body) == ["秀英站", "演丰站"]  # 琼山区 秀英区 [美兰区: NULL, 120] 龙华区
    assert body["total"] == 5 and body["limit"] == 2 and body["offset"] == 1
    assert stations(world.records(aqi, sort="aqi", limit=2, offset=2).json()) == [
        "琼山站",
        "美兰站",
    ]
    body = world.records(aqi, fields="station,aqi", sort="station", limit=1).json()
    assert body["records"] == [{"station": "海口站", "aqi": 45}]
    assert body["fields"] == [
        {"id": "station", "type": "string", "name": "监测站"},
        {"id": "aqi", "type": "integer", "name": "空气质量指数"},
    ]
    full = world.records(aqi, limit=1).json()
    assert [f["id"] for f in full["fields"]][:3] == ["_id", "station", "district"]
    assert "total" in full and full["total"] == 5
    assert world.records(aqi, include_total="false").json()["total"] is None
    assert len(world.records(aqi, limit=5000).json()["records"]) == 5  # capped at 1000


def test_query_errors_are_400(world: World, aqi: str) -> None:
    for params, name in (
        ({"colour": "red"}, "colour"),
        ({"sort": "colour desc"}, "colour"),
        ({"fields": "station,colour"}, "colour"),
        ({"aqi__between": "1"}, "aqi__between"),
        ({"colour__gte": "1"}, "colour"),
    ):
        response = world.records(aqi, **params)
        assert response.status_code == 400, params
        assert response.json()["code"] == "unknown_field"
        assert name in response.json()["detail"]
    for params in ({"aqi": "high"}, {"aqi__gte": "1.5"}, {"day": "tomorrow"}, {"good": "maybe"}):
        response = world.records(aqi, **params)
        assert response.status_code == 400, params
        assert response.json()["code"] == "bad_filter_value"
    # a value is a bound parameter, never SQL
    assert world.records(aqi, station="x' OR '1'='1").json()["records"] == []


def test_query_service(world: World, aqi: str) -> None:
    result = services.query(
        world.db, aqi, filters={"district": ["美兰区", "秀英区"], "aqi__gte": 60}, sort="-aqi"
    )
    assert [r["station"] for r in result.records] == ["美兰站", "秀英站"]
    assert result.total == 2
    preview = services.preview(world.db, aqi, limit=2)
    assert len(preview.records) == 2 and preview.total == 5


def test_exports(world: World, aqi: str) -> None:
    response = world.client.get(f"/api/v1/datastore/{aqi}/export.csv?sort=aqi&aqi__gte=60")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["station", "district", "aqi", "pm25", "good", "day", "measured_at", "note"]
    assert rows[1][:3] == ["秀英站", "秀英区", "60"] and rows[1][4] == "true"
    assert rows[1][6] == "2024-05-03T10:00:00+08:00" and rows[1][7] == ""
    assert [r[0] for r in rows[1:]] == ["秀英站", "琼山站", "美兰站"]

    data = world.client.get(f"/api/v1/datastore/{aqi}/export.json?fields=station,aqi&sort=station")
    assert data.status_code == 200
    records = json.loads(data.content)
    assert records[0] == {"station": "海口站", "aqi": 45} and len(records) == 5

    nd = world.client.get(f"/api/v1/datastore/{aqi}/export.ndjson?district=美兰区")
    lines = [json.loads(line) for line in nd.text.splitlines()]
    assert [r["station"] for r in lines] == ["美兰站", "演丰站"]

    xl = world.client.get(f"/api/v1/datastore/{aqi}/export.xlsx?sort=aqi")
    assert xl.status_code == 200
    ws = load_workbook(io.BytesIO(xl.content), read_only=True).worksheets[0]
    values = list(ws.iter_rows(values_only=True))
    assert values[0][:3] == ("station", "district", "aqi")
    assert values[1][:3] == ("海口站", "龙华区", 45)
    assert len(values) == 6

    assert world.client.get(f"/api/v1/datastore/{aqi}/export.pdf").status_code == 404
    bad = world.client.get(f"/api/v1/datastore/{aqi}/export.csv?colour=red")
    assert bad.status_code == 400


def test_export_round_trips(world: World, aqi: str) -> None:
    exported = world.client.get(f"/api/v1/datastore/{aqi}/export.csv").content
    copy = world.resource(key_fields=["station"])
    response = world.upload(copy, exported, "copy.csv")
    assert response.status_code == 201, response.text
    original = world.records(aqi, sort="station", fields="station,aqi,measured_at,good,day")
    again = world.records(
        copy, "officer_eco", sort="station", fields="station,aqi,measured_at,good,day"
    )
    assert original.json()["records"] == again.json()["records"]


def test_a_resource_without_data_answers_empty(world: World) -> None:
    rid = world.resource(open_type="unconditional")
    body = world.records(rid).json()
    assert body["records"] == [] and body["total"] == 0 and len(body["fields"]) == 9
    assert world.client.get(f"/api/v1/datastore/{rid}/export.csv").content == (
        b"\xef\xbb\xbfstation,district,aqi,pm25,good,day,measured_at,note\r\n"
    )


# --------------------------------------------------------------------------- who may read


def test_departments_read_unconditional_sharing_only(world: World) -> None:
    shared = world.resource(share_type="unconditional", open_type="none")
    conditional = world.resource(share_type="conditional", open_type="none")
    unshared = world.resource(share_type="none", open_type="none")
    for rid in (shared, conditional, unshared):
        assert world.upload(rid, csv_bytes(AQI_CSV)).status_code == 201
    # another department (市水务局) reads 无条件共享 data
    assert world.records(shared, "officer_water").status_code == 200
    assert world.records(shared, "staff_water").json()["total"] == 4
    # ... but not 有条件共享 (no grant) or 不予共享 data
    for rid in (conditional, unshared):
        response = world.records(rid, "officer_water")
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "no_data_access"
        export = world.client.get(
            f"/api/v1/datastore/{rid}/export.csv", headers=world.headers("staff_water")
        )
        assert export.status_code == 403
    # a social organisation and the public do not even see the (not open) metadata
    for rid in (shared, conditional, unshared):
        assert world.records(rid, "volunteer").status_code == 404
        assert world.records(rid).status_code == 404
    # the provider and the bureau read everything
    for rid in (conditional, unshared):
        assert world.records(rid, "officer_eco").status_code == 200
        assert world.records(rid, "admin").status_code == 200


def test_open_data_for_anonymous(world: World) -> None:
    open_ = world.resource(open_type="unconditional", share_type="none")
    on_conditions = world.resource(open_type="conditional")
    draft = world.resource(open_type="unconditional", status="draft")
    for rid in (open_, on_conditions, draft):
        world.upload(rid, csv_bytes(AQI_CSV))
    assert world.records(open_).json()["total"] == 4
    assert world.client.get(f"/api/v1/datastore/{open_}/export.json").status_code == 200
    assert world.records(on_conditions).status_code == 403  # metadata open, data on conditions
    assert world.records(draft).status_code == 404
    assert world.records(draft, "officer_eco").status_code == 200
