"""The open data API: datasets, records with filters, access of 有条件开放 data, downloads."""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import unquote

from tests.unit.opendata import open_world
from tests.unit.opendata.open_world import OpenWorld

ow = open_world.ow


def test_search_lists_open_datasets_only(ow: OpenWorld) -> None:
    found = ow.client.get("/api/v1/open/datasets", params={"limit": 50}).json()
    ids = {r["id"] for r in found["results"]}
    assert {ow.open_id, ow.cond_id, ow.stations_id} <= ids
    assert ow.closed_id not in ids
    assert "open_type" in found["facets"]


def test_dataset_metadata_fields_and_urls(ow: OpenWorld) -> None:
    code = ow.code(ow.open_id)
    body = ow.client.get(f"/api/v1/open/datasets/{code}").json()
    assert body["name"] == "海口空气质量"
    assert [f["field"] for f in body["fields"]][:3] == ["station", "district", "aqi"]
    assert body["urls"]["csv"].endswith(f"/open/datasets/{code}/download.csv")
    assert set(body["usage"]) >= {"view", "download", "api"}


def test_unknown_and_closed_datasets_are_404(ow: OpenWorld) -> None:
    assert ow.client.get("/api/v1/open/datasets/9/999999").status_code == 404
    closed = ow.records(ow.closed_id)
    assert closed.status_code == 404
    assert closed.json()["code"] == "not_found"


def test_records_filter_like_the_datastore(ow: OpenWorld) -> None:
    answer = ow.records(ow.open_id, aqi__gte="100", sort="-aqi")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [r["station"] for r in body["records"]] == ["美兰站", "琼山站"]
    assert body["total"] == 2
    same = ow.w.records(ow.open_id, aqi__gte="100", sort="-aqi").json()
    assert same["records"] == body["records"]


def test_invalid_filter_is_400_naming_the_field(ow: OpenWorld) -> None:
    unknown = ow.records(ow.open_id, colour="red")
    assert unknown.status_code == 400
    assert unknown.json()["code"] == "unknown_field"
    assert "colour" in unknown.text
    bad = ow.records(ow.open_id, aqi__gte="many")
    assert bad.status_code == 400
    assert bad.json()["code"] == "bad_filter_value"


def test_conditional_needs_a_scoped_key(ow: OpenWorld) -> None:
    anonymous = ow.records(ow.cond_id)
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "key_required"
    general = ow.key("developer")
    other = ow.records(ow.cond_id, key=general)
    assert other.status_code == 403
    assert other.json()["code"] == "key_not_scoped"
    scoped = ow.key("developer", scope=ow.cond_id)
    ok = ow.records(ow.cond_id, key=scoped)
    assert ok.status_code == 200
    assert ok.json()["total"] == 4
    assert ok.headers["Cache-Control"] == "private, no-store"


def test_keyed_answers_carry_rate_limit_headers(ow: OpenWorld) -> None:
    key = ow.key("developer", daily_quota=5)
    answer = ow.records(ow.open_id, key=key)
    assert answer.headers["X-RateLimit-Limit"] == "5"
    assert answer.headers["X-RateLimit-Remaining"] == "4"
    headers = {"X-API-Key": key}
    code = ow.code(ow.open_id)
    again = ow.client.get(f"/api/v1/open/datasets/{code}/records", headers=headers)
    assert again.headers["X-RateLimit-Remaining"] == "3"


def test_csv_download_with_chinese_name(ow: OpenWorld) -> None:
    code = ow.code(ow.open_id)
    answer = ow.client.get(f"/api/v1/open/datasets/{code}/download.csv", params={"aqi__lt": 100})
    assert answer.status_code == 200
    disposition = answer.headers["Content-Disposition"]
    assert "海口空气质量.csv" in unquote(disposition.split("filename*=UTF-8''", 1)[1])
    rows = list(csv.DictReader(io.StringIO(answer.content.decode("utf-8-sig"))))
    assert sorted(r["station"] for r in rows) == ["海口市监测站", "秀英站"]


def test_json_and_xlsx_downloads(ow: OpenWorld) -> None:
    code = ow.code(ow.open_id)
    data = ow.client.get(f"/api/v1/open/datasets/{code}/download.json").json()
    assert len(data) == 4
    xlsx = ow.client.get(f"/api/v1/open/datasets/{code}/download.xlsx")
    assert xlsx.status_code == 200
    assert xlsx.content[:2] == b"PK"
    assert ow.client.get(f"/api/v1/open/datasets/{code}/download.pdf").status_code == 404


def test_conditional_download_needs_the_key_too(ow: OpenWorld) -> None:
    code = ow.code(ow.cond_id)
    assert ow.client.get(f"/api/v1/open/datasets/{code}/download.csv").status_code == 401
    scoped = ow.key("developer", scope=ow.cond_id)
    answer = ow.client.get(
        f"/api/v1/open/datasets/{code}/download.json", headers={"X-API-Key": scoped}
    )
    assert answer.status_code == 200
    assert len(json.loads(answer.content)) == 4
